"""Each tier of a policy read over a candidate table: who is in the running, who is eligible
(and why not), what each candidate would be paid, what kind of decision it is and with
which chance it is paid. The one reading of a policy's rules, used by the allocation
(``options.build_problem``) and by the simulation's government alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from .decisions import level_terms
from .errors import Problem
from .expressions import parse_rule
from .option_rules import band_amounts, rule_failures, running_for
from .policy import LevelAward, Policy, Programme
from .settings import AllocationSettings


@dataclass
class Tier:
    """One (programme, level) over a candidate table."""

    programme: Programme
    award: LevelAward
    order: int  # the programme's position in the policy (a tie-break)
    where: str  # the tier's key in the policy file, e.g. "programmes[2].levels[0]"
    decision: str  # discretionary | nomination | entitlement
    chance: float | None  # paid once decided with this chance (None: not given)
    eligible: np.ndarray  # per candidate
    reasons: np.ndarray  # per candidate: why not eligible (None where eligible)
    amount: Decimal | None  # the tier's amount, or None where bands (or nothing) decide
    band_amount: pd.Series | None  # per candidate from its band (None: no bands)

    @property
    def level(self) -> str:
        return self.award.level.value

    def amounts(self) -> np.ndarray:
        """What each candidate would be paid at this tier (万元, NaN where nothing is known)."""
        if self.band_amount is not None and self.amount is None:
            return self.band_amount.to_numpy(dtype=float, na_value=np.nan)
        value = np.nan if self.amount is None else float(self.amount)
        return np.full(len(self.eligible), value)


def award_amounts(
    policy: Policy, settings: AllocationSettings
) -> dict[tuple[str, str], Decimal | None]:
    """The amount of each (programme, level): the policy's, unless the settings override it."""
    amounts: dict[tuple[str, str], Decimal | None] = {}
    for programme in policy.programmes:
        for award in programme.levels:
            amounts[(programme.id, award.level.value)] = award.amount
    for programme_id, by_level in settings.amounts.items():
        for level, amount in by_level.items():
            amounts[(programme_id, level.value)] = amount
    return amounts


def read_tiers(
    policy: Policy,
    settings: AllocationSettings,
    candidates: pd.DataFrame,
    problems: list[Problem],
    notes: list[str],
) -> tuple[list[Tier], list[str]]:
    """Every tier of the programmes taking part, and the ids of those programmes.

    A programme whose ``applicants`` rule names a column the table lacks takes no part (a
    note says so); rules naming other missing columns, and payouts reading missing columns,
    are problems. Eligibility is kind, applicants, a closed sector list, the programme's and
    the level's rules, and a band that applies (for banded tiers).
    """
    amounts = award_amounts(policy, settings)
    terms = level_terms(policy, settings)
    tiers: list[Tier] = []
    participating: list[str] = []
    for i, programme in enumerate(policy.programmes):
        running = running_for(programme, candidates)
        if isinstance(running, str):
            # The table says nothing about who is in the running: the programme sits this
            # allocation out (a note, not a reason per candidate: it is not about them).
            notes.append(f"{programme.id} ({programme.name}) takes no part: {running}")
            continue
        participating.append(programme.id)
        kind_ok = candidates["kind"].isin(programme.kinds)
        base_fail = rule_failures(
            programme.eligibility,
            candidates,
            f"programmes[{i}].eligibility",
            policy.id,
            problems,
            nobody=notes,
        )
        if programme.sector_list is not None:
            sectors = policy.named_list(programme.sector_list)
            if not sectors.open:  # an open list (等, "+X") records priorities, not limits
                in_list = candidates["sector"].isin(sectors.names)
                base_fail = base_fail.where(in_list, f"sector not in {sectors.name}")
        if running is not None:
            base_fail = base_fail.where(running, f"not in the running ({programme.applicants})")
        base_fail = base_fail.where(kind_ok, f"kind {'/'.join(programme.kinds)} only")
        for k, award in enumerate(programme.levels):
            where = f"programmes[{i}].levels[{k}]"
            fail = base_fail.copy()
            if award.eligibility:
                level_fail = rule_failures(
                    award.eligibility,
                    candidates,
                    f"{where}.eligibility",
                    policy.id,
                    problems,
                    nobody=notes,
                )
                fail = fail.where(fail.notna(), level_fail)
            band_amount = None
            if award.bands:
                band_amount = band_amounts(award, candidates, f"{where}.bands", policy.id, problems)
                fail = fail.where(
                    fail.notna() | band_amount.notna(), "no band of the award applies"
                )
            for j, payout in enumerate(award.payouts):
                if payout.of is not None and payout.of not in candidates.columns:
                    problems.append(
                        Problem(
                            policy.id,
                            f"{where}.payouts[{j}].of",
                            f"column '{payout.of}' is not in the candidate table",
                        )
                    )
            decision, chance = terms[(programme.id, award.level.value)]
            tiers.append(
                Tier(
                    programme=programme,
                    award=award,
                    order=i,
                    where=where,
                    decision=decision,
                    chance=chance,
                    eligible=fail.isna().to_numpy(),
                    reasons=fail.to_numpy(),
                    amount=amounts[(programme.id, award.level.value)],
                    band_amount=band_amount,
                )
            )
    return tiers, participating


def columns_read(policy: Policy, programme: Programme) -> set[str]:
    """Every candidate column the programme's rules read: applicants, eligibility, levels'
    eligibility and bands, payouts, and ``sector`` for a sector list."""
    texts = [*programme.eligibility]
    if programme.applicants:
        texts.append(programme.applicants)
    for award in programme.levels:
        texts += [*award.eligibility, *(band.when for band in award.bands)]
    columns = {c for text in texts for c in parse_rule(text).columns}
    columns |= {p.of for a in programme.levels for p in a.payouts if p.of}
    if programme.sector_list:
        columns.add("sector")
    return columns
