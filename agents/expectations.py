"""What firms expect of a government's rounds: the awards each firm could be paid where it
stands (``payables``), the expected award of applying or of adding one service mode
(``incentives``), and the beliefs behind it — the bureau's rule of thumb before the first
round (``prior_beliefs``), then each round's decisions per applicant (``update_beliefs``).

A mixin of ``government.GovernmentAgent`` (as ``model/solve_mip.py`` is of the solver): the
methods read the agent's ``model``, ``policy``, ``settings``, ``matter_of``, ``rates``,
``beliefs_ready`` and ``_held_masks``, and call its ``tiers``, ``scores`` and ``problem``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

import numpy as np
import pandas as pd

from liangye.model.eligibility import Tier
from liangye.model.errors import InputError
from liangye.model.greedy import greedy_plan

from .rounds import expected_award, payable

log = logging.getLogger(__name__)


def _rows(tier: Tier, rows: slice) -> Tier:
    """``tier`` over the rows ``rows`` of the table it was read over, indexed from 0."""
    band = tier.band_amount
    return replace(
        tier,
        eligible=tier.eligible[rows],
        reasons=None if tier.reasons is None else tier.reasons[rows],
        band_amount=None if band is None else band.iloc[rows].reset_index(drop=True),
    )


class FirmExpectations:
    """What firms expect of a government agent's rounds (module docstring)."""

    def holdings(
        self,
    ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], set[tuple[str, str, int]]]:
        """Per matter, each firm's amount paid (the largest tier it holds there) and whether
        it holds anything there; and the (programme, level, firm) titles held."""
        n = len(self.model.firms)
        result = {m: (np.zeros(n), np.zeros(n, dtype=bool)) for m in set(self.matter_of.values())}
        titles: set[tuple[str, str, int]] = set()
        for index, holdings in self.model.firms.held.items():  # holders only: few
            for (policy, programme), holding in holdings.items():
                if policy == self.policy.id and programme in self.matter_of:
                    paid, holds = result[self.matter_of[programme]]
                    paid[index] = max(paid[index], holding.amount)
                    holds[index] = True
                    titles.add((programme, holding.level, index))
        return result, titles

    def held_masks(
        self,
    ) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[tuple[str, str], np.ndarray]]:
        """``holdings`` per matter, and per (programme, level) whether each firm holds that
        very title: read once for every change of the firms' holdings (``held_version``),
        which happen only at rounds, not in each of the quarters that ask. Read-only arrays."""
        version = self.model.firms.held_version
        if self._held_masks is None or self._held_masks[0] != version:
            by_matter, titles = self.holdings()
            n = len(self.model.firms)
            holders: dict[tuple[str, str], list[int]] = {}
            for programme, level, firm in titles:
                holders.setdefault((programme, level), []).append(firm)
            title: dict[tuple[str, str], np.ndarray] = {}
            for key, firms in holders.items():
                title[key] = np.zeros(n, dtype=bool)
                title[key][firms] = True
            for array in [*(a for pair in by_matter.values() for a in pair), *title.values()]:
                array.flags.writeable = False  # shared by every quarter until the next change
            self._held_masks = (version, (by_matter, title))
        return self._held_masks[1]

    def payables(self, tiers: list[Tier]) -> dict[tuple[str, str], np.ndarray]:
        """Per tier, what the city would pay each firm there (NaN: not open to it)."""
        by_matter, title_held = self.held_masks()
        nobody = np.zeros(len(self.model.firms), dtype=bool)
        out = {}
        for tier in tiers:
            key = (tier.programme.id, tier.level)
            paid, holds = by_matter[tier.programme.stacking_matter]
            out[key] = payable(tier, paid, holds, title_held.get(key, nobody), self.policy)
        return out

    def incentives(self, now: pd.DataFrame, after: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(E[award] in 万元, one-mode-short) per firm: what applying is worth to a firm that is
        or, with one more mode, would be eligible; and whether that mode is what it lacks.
        ``now``: the firms' table today; ``after``: with one more mode (``state_table``)."""
        return self.incentives_stacked(pd.concat([now, after], ignore_index=True), len(now))

    def incentives_stacked(self, both: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``incentives`` from the two tables stacked (``ServitizationModel.state_tables``:
        today's ``n`` rows, then with one more mode): the tiers are read once over both
        (rules are read row by row, and a reading costs per rule more than per firm)."""
        if not self.policy.programmes:  # nothing this policy pays for can reach these firms
            return np.zeros(n), np.zeros(n, dtype=bool)
        tiers = self.tiers(both)
        tiers_now = [_rows(t, slice(0, n)) for t in tiers]
        tiers_after = [_rows(t, slice(n, None)) for t in tiers]
        if not self.beliefs_ready:
            self.prior_beliefs(both.iloc[:n], tiers_now)
        reach, short = {}, np.zeros(n, dtype=bool)
        for tier, later in zip(tiers_now, tiers_after, strict=True):
            key = (tier.programme.id, tier.level)
            reach[key] = tier.eligible | later.eligible
            short |= later.eligible & ~tier.eligible
        value = expected_award(
            tiers_after, self.payables(tiers_after), reach, self.rates, self.policy
        )
        return value, short & (value > 0)

    def prior_beliefs(self, now: pd.DataFrame, tiers: list[Tier] | None = None) -> None:
        """Before the first round firms guess their chances from the bureau's rule of thumb
        (rank by score until the money runs out) applied to everyone eligible, without noise.
        ``tiers``: the policy's tiers over ``now``, if already read."""
        self.beliefs_ready = True
        if self.model.year not in self.policy.year_range or not self.policy.programmes:
            return
        tiers = tiers if tiers is not None else self.tiers(now)
        applying = {(t.programme.id, t.level): t.eligible for t in tiers}
        scores = self.scores(now, 1.0, np.zeros(len(now)))
        try:
            built = self.problem(now, applying, scores, self.model.year)
        except InputError as error:
            log.warning("%s：企业无法形成初始预期（%s）", self.policy.id, error)
            return
        if built is not None:
            problem, _ = built
            with self.model.stopwatch("beliefs"):
                plan = greedy_plan(problem)
            self.update_beliefs(problem.options.iloc[plan], applying)

    def update_beliefs(
        self, decided: pd.DataFrame, applied: dict[tuple[str, str], np.ndarray]
    ) -> None:
        """Belief per tier := the round's decisions there (designations the city makes and
        nominations it sends up) / the programme's applicants.

        Whether a nomination is then conferred is not in this rate: ``expected_award``
        multiplies by the tier's chance, once."""
        applicants: dict[str, np.ndarray] = {}
        for (programme, _), mask in applied.items():
            applicants[programme] = applicants.get(programme, np.zeros(len(mask), bool)) | mask
        # Counted over the columns as lists: a groupby over two text columns cost a millisecond.
        made = Counter(zip(decided["programme"].tolist(), decided["level"].tolist(), strict=True))
        for programme, level in applied:
            count = int(applicants[programme].sum())
            if count:
                self.rates[(programme, level)] = made.get((programme, level), 0) / count
