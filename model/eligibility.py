"""Each tier of a policy read over a candidate table: who is in the running, who is eligible
(and why not), what each candidate would be paid, what kind of decision it is and with
which chance it is paid. The one reading of a policy's rules, used by the allocation
(``options.build_problem``) and by the simulation's government alike.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype

from .decisions import level_terms
from .errors import Problem
from .expressions import Rule, parse_rule
from .option_rules import band_amounts, running_for
from .policy import Policy
from .policy_programmes import LevelAward, Programme
from .settings import AllocationSettings
from .wording import Note, Words, column_zh
from .yes_no import YES_NO_EXPECTED, parse_yes_no


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
    # per candidate: why not eligible (None where eligible); None when read without reasons
    reasons: np.ndarray | None
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
    notes: list[Note],
    reasons: bool = True,
) -> tuple[list[Tier], list[str]]:
    """Every tier of the programmes taking part, and the ids of those programmes.

    A programme whose ``applicants`` rule names a column the table lacks takes no part (a
    note says so); rules naming other missing columns, and payouts reading missing columns,
    are problems. Eligibility is kind, applicants, a closed sector list, the programme's and
    the level's rules, and a band that applies (for banded tiers). Each candidate ruled out
    gets the first reason in that order of precedence: kind, applicants, sector list, the
    programme's rules in order, the level's rules in order, no band.

    ``reasons=False`` reads the same eligibility, amounts, problems and notes, but leaves
    every tier's ``reasons`` None: for callers that show no reason (the simulation reads
    the tiers every quarter).
    """
    amounts = award_amounts(policy, settings)
    terms = level_terms(policy, settings)
    candidates = read_as_conditions(policy, candidates, problems)
    masks = _Masks(candidates)
    words = Words.of(policy)
    tiers: list[Tier] = []
    participating: list[str] = []
    for i, programme in enumerate(policy.programmes):
        running = running_for(programme, candidates, words)
        if isinstance(running, Note):
            # The table says nothing about who is in the running: the programme sits this
            # allocation out (a note, not a reason per candidate: it is not about them).
            notes.append(running)
            continue
        participating.append(programme.id)
        # Whether any candidate is of a kind and in the running the programme's own rules
        # could apply to (``_failing_rules``: if none, their columns are not asked for).
        open_to = masks.kind_in(programme.kinds)
        if running is not None:
            open_to = open_to & running.to_numpy(dtype=bool)
        reachable = bool(open_to.any()) or len(candidates) == 0
        # (reason, where it fails), strongest first: a candidate gets the first that fails.
        base = _failing_rules(
            programme.eligibility,
            masks,
            f"programmes[{i}].eligibility",
            policy.file_name,
            problems,
            notes,
            words.programme(programme.id),
            reachable,
        )
        if programme.sector_list is not None:
            sectors = policy.named_list(programme.sector_list)
            if not sectors.open:  # an open list (等, "+X") records priorities, not limits
                base.insert(0, (f"sector not in {sectors.name}", ~masks.sector_in(sectors.names)))
        if running is not None:
            fails = ~running.to_numpy(dtype=bool)
            base.insert(0, (f"not in the running ({programme.applicants})", fails))
        base.insert(0, (f"kind {'/'.join(programme.kinds)} only", ~masks.kind_in(programme.kinds)))
        for k, award in enumerate(programme.levels):
            where = f"programmes[{i}].levels[{k}]"
            failing = base + _failing_rules(
                award.eligibility,
                masks,
                f"{where}.eligibility",
                policy.file_name,
                problems,
                notes,
                words.tier_zh(programme.id, award.level.value),
                reachable,
            )
            band_amount = None
            if award.bands and reachable:
                band_amount = band_amounts(
                    award, candidates, f"{where}.bands", policy.file_name, problems
                )
                failing.append(("no band of the award applies", band_amount.isna().to_numpy()))
            for j, payout in enumerate(award.payouts):
                if payout.of is not None and payout.of not in candidates.columns:
                    problems.append(
                        Problem(
                            policy.file_name,
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
                    eligible=_passing(failing, len(candidates)),
                    reasons=_first_reasons(failing, len(candidates)) if reasons else None,
                    amount=amounts[(programme.id, award.level.value)],
                    band_amount=band_amount,
                )
            )
    return tiers, participating


class _Masks:
    """Each rule's, kind list's and sector list's mask over one table, computed once: the
    programmes of a policy share them (every programme reads ``kind``; the bundled policies
    repeat rules between programmes and levels)."""

    def __init__(self, table: pd.DataFrame):
        self.table = table
        self.columns = set(table.columns)
        self._cache: dict[tuple[str, tuple[str, ...] | str], np.ndarray] = {}

    def _cached(self, key: tuple[str, tuple[str, ...] | str], make) -> np.ndarray:
        mask = self._cache.get(key)
        if mask is None:
            mask = self._cache[key] = make()
        return mask

    def holds(self, rule: Rule) -> np.ndarray:
        """Where ``rule`` holds (its columns must be in the table)."""
        return self._cached(
            ("rule", rule.source), lambda: rule.holds(self.table).to_numpy(dtype=bool)
        )

    def kind_in(self, kinds: list[str]) -> np.ndarray:
        """Where the candidate's kind is one of ``kinds``."""
        return self._cached(
            ("kind", tuple(kinds)), lambda: self.table["kind"].isin(kinds).to_numpy(dtype=bool)
        )

    def sector_in(self, names: list[str]) -> np.ndarray:
        """Where the candidate's sector is one of ``names``."""
        return self._cached(
            ("sector", tuple(names)),
            lambda: self.table["sector"].isin(names).to_numpy(dtype=bool),
        )


def _failing_rules(
    rules: list[str],
    masks: _Masks,
    where: str,
    source: str,
    problems: list[Problem],
    nobody: list[Note],
    whose_zh: str,
    reachable: bool = True,
) -> list[tuple[str, np.ndarray]]:
    """(reason, where the rule fails) for each rule of ``rules`` in order. A rule naming a
    column the table lacks is a problem and rules nobody out; a rule that holds for no
    candidate of a non-empty table is appended to ``nobody`` as a note (``whose_zh``: the
    programme or tier the rules belong to, in Chinese) (a rule that can
    match nobody is usually a unit or a column mistaken: a share written 20 for 20%, an
    amount written as text).

    ``reachable=False``: no candidate is of a kind or in the running the rules could apply
    to (parks' rules over a table of firms): a column they need and the table lacks is no
    problem, and a rule holding for nobody no news (Zhongshan's park rule asked firms'
    tables for a column only parks have; review 15)."""
    failing: list[tuple[str, np.ndarray]] = []
    for text in rules:
        rule = parse_rule(text)
        missing = sorted(rule.columns - masks.columns)
        if missing and not reachable:
            continue  # everyone is already out by kind or by the applicants rule
        if missing:
            problems.append(
                Problem(
                    source,
                    where,
                    f"rule '{text}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = masks.holds(rule)
        if reachable and len(holds) and not holds.any():
            nobody.append(
                Note(
                    f"{where}: rule '{text}' holds for none of the {len(holds)} candidates "
                    "(check its unit: shares are fractions or percents, e.g. 0.2 or 20%; "
                    "amounts are numbers, e.g. 5亿, not text in quotes)",
                    f"{whose_zh}的条件“{Words.rule_zh(text)}”对全部{len(holds)}个候选都"
                    f"不成立（政策文件 {where}；请检查单位：占比写作小数或百分数，如 0.2 或 20%；"
                    "金额写作数字，如 5亿，不要加引号写成文字）",
                )
            )
        failing.append((f"rule '{text}' fails", ~holds))
    return failing


def _passing(failing: list[tuple[str, np.ndarray]], size: int) -> np.ndarray:
    """Where no test of ``failing`` fails."""
    eligible = np.ones(size, dtype=bool)
    for _, fails in failing:
        eligible &= ~fails
    return eligible


def _first_reasons(failing: list[tuple[str, np.ndarray]], size: int) -> np.ndarray:
    """Per candidate, the reason of the first test of ``failing`` that fails (None where
    none does): later tests are written first, so earlier ones overwrite them."""
    reasons = np.full(size, None, dtype=object)
    for reason, fails in reversed(failing):
        reasons[fails] = reason
    return reasons


def _rule_texts(programme: Programme) -> list[str]:
    """Every rule of the programme: applicants, eligibility, levels' eligibility and bands."""
    texts = [*programme.eligibility]
    if programme.applicants:
        texts.append(programme.applicants)
    for award in programme.levels:
        texts += [*award.eligibility, *(band.when for band in award.bands)]
    return texts


@functools.lru_cache(maxsize=64)
def _conditions(texts: tuple[str, ...]) -> dict[str, str]:
    """Each column the rules ``texts`` read as a condition on its own -> the first such rule
    (cached: the simulation reads the same policy's tiers every quarter). Not to be changed
    by the caller."""
    wanted: dict[str, str] = {}
    for text in texts:
        for column in sorted(parse_rule(text).conditions):
            wanted.setdefault(column, text)
    return wanted


def read_as_conditions(
    policy: Policy, candidates: pd.DataFrame, problems: list[Problem]
) -> pd.DataFrame:
    """``candidates`` with every column a rule uses as a condition on its own (``design_prize``
    in ``design_prize and revenue > 2000``) read as yes/no, by ``yes_no.parse_yes_no``.

    A cell that is neither yes nor no (``x`` among 是/Y) is a problem naming its row: read
    as "no", it would silently drop an award the candidate is owed. Columns already read
    as yes/no (booleans) are left as they are, and the table is copied only when a column
    changes."""
    texts = tuple(text for programme in policy.programmes for text in _rule_texts(programme))
    wanted = _conditions(texts)
    dtypes = candidates.dtypes  # one Series, not a column each (this runs every quarter)
    columns = [c for c in wanted if c in dtypes.index and not is_bool_dtype(dtypes[c])]
    if not columns:
        return candidates
    source = candidates.attrs.get("source", "candidates")
    rows = (
        candidates["row"].tolist()
        if "row" in candidates.columns
        else [f"row {i + 2}" for i in range(len(candidates))]
    )
    candidates = candidates.copy()
    for column in columns:
        values: list[bool] = []
        for row, cell in zip(rows, candidates[column].tolist(), strict=True):
            try:
                values.append(parse_yes_no(cell))
            except ValueError:
                values.append(False)
                problems.append(
                    Problem(
                        source,
                        row,
                        f"{column} '{cell}' {YES_NO_EXPECTED}: rule '{wanted[column]}' "
                        "reads the column as a yes/no condition",
                        f"“{column_zh(column)}”一栏的“{cell}”不是“是”或“否”（可写 是/否、Y/N、√/×、"
                        f"1/0）：条件“{Words.rule_zh(wanted[column])}”把这一栏当作是否条件",
                    )
                )
        candidates[column] = np.array(values, dtype=bool)
    return candidates


def columns_read(policy: Policy, programme: Programme) -> set[str]:
    """Every candidate column the programme's rules read: applicants, eligibility, levels'
    eligibility and bands, payouts, and ``sector`` for a sector list."""
    columns = {c for text in _rule_texts(programme) for c in parse_rule(text).columns}
    columns |= {p.of for a in programme.levels for p in a.payouts if p.of}
    if programme.sector_list:
        columns.add("sector")
    return columns
