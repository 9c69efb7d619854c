"""The rules that shape the options: applicants, bands, no-repeat keys, rules in force, history.

Each function settles one kind of rule over the whole candidate table at once and says why
a candidate is ruled out; ``options.build_problem`` puts them together, with the
applications table (``applications.py``) and the payments after an award's year
(``later_payments.py``).
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .candidates import parse_held, parse_held_cells
from .decisions import upgrade_price
from .errors import Problem
from .expressions import parse_rule
from .gathered import column_at
from .policy import Balance, Policy
from .wording import Note, Words, column_zh, header_zh

# No pair ruled out (framed once, as ``later_payments._NO_LATER_PAYMENTS``).
_NO_EXCLUSIONS = pd.DataFrame(columns=["candidate", "programme", "level", "reason"])


def running_for(programme, candidates: pd.DataFrame, words: Words) -> pd.Series | Note | None:
    """Who is in the running for ``programme``: None (everyone), a boolean Series, or, when
    the table lacks a column the applicants rule reads, a note saying the programme sits out."""
    if programme.applicants is None:
        return None
    rule = parse_rule(programme.applicants)
    missing = sorted(rule.columns - set(candidates.columns))
    if missing:
        return Note(
            f"{programme.id} ({programme.name}) takes no part: the candidate table has no "
            f"column {', '.join(missing)} (who is in the running: {programme.applicants})",
            f"{words.programme(programme.id)}不参与本次分配：候选名单没有"
            f"“{'、'.join(header_zh(c) for c in missing)}”一列"
            f"（申报范围：{words.rule_zh(programme.applicants)}）",
            cause_zh="候选名单缺少申报范围所需的列，以下{count}个项目不参与本次分配（按所缺的列）：",
            item_zh=words.programme(programme.id),
            part_zh=f"缺“{'、'.join(header_zh(c) for c in missing)}”",
        )
    return rule.holds(candidates)


def band_amounts(
    award, candidates: pd.DataFrame, where: str, source: str, problems: list[Problem]
) -> pd.Series:
    """Each candidate's amount from the first band whose rule holds (None: no band applies)."""
    amount = pd.Series([None] * len(candidates), index=candidates.index, dtype=object)
    for j, band in enumerate(award.bands):
        rule = parse_rule(band.when)
        missing = sorted(rule.columns - set(candidates.columns))
        if missing:
            problems.append(
                Problem(
                    source,
                    f"{where}[{j}].when",
                    f"rule '{band.when}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = rule.holds(candidates)
        amount = amount.where(amount.notna() | ~holds, band.amount)
    return amount


def count_held(candidates: pd.DataFrame, programmes: list[str] | None, levels) -> int:
    """Candidates already holding a designation in ``programmes`` at ``levels`` (None: any)."""
    if "held" not in candidates.columns:
        return 0
    level_values = None if levels is None else {lv.value for lv in levels}
    count = 0
    for value in candidates["held"]:
        if any(
            (programmes is None or h.programme in programmes)
            and (level_values is None or h.level in level_values)
            for h in parse_held(value)
        ):
            count += 1
    return count


def no_repeat_column(column: str) -> str:
    return f"_no_repeat_{column}"


def with_no_repeat_keys(policy: Policy, candidates: pd.DataFrame) -> pd.DataFrame:
    """Add, per ``no_repeat_by`` column, a key where a missing value is the candidate itself."""
    columns = {p.no_repeat_by for p in policy.programmes if p.no_repeat_by}
    columns = [c for c in sorted(columns) if c in candidates.columns]
    if not columns:
        return candidates
    candidates = candidates.copy()
    for column in columns:
        own = "candidate:" + candidates["id"].astype(str)
        values = candidates[column].astype(object)
        candidates[no_repeat_column(column)] = values.where(values.notna(), own).astype(str)
    return candidates


def rules_in_force(
    policy: Policy,
    candidates: pd.DataFrame,
    participating: list[str],
    years: list[int],
    notes: list[Note],
    problems: list[Problem],
) -> Policy:
    """The policy's quotas and balance rules as this allocation applies them.

    Dropped, with a note: quotas and balance rules over programmes that take no part, quotas
    whose years all fall outside the allocation's, and balance rules without a number. Adjusted: stock targets (``counts_held``) less the
    designations already held. Added: a count of one per value of each programme's
    ``no_repeat_by`` column over the horizon (同一产品不重复奖励), as a balance rule.
    """
    taking_part = set(participating)
    words = Words.of(policy)
    quotas = []
    for q, quota in enumerate(policy.quotas):
        label, label_zh = quota.label(q), words.quota_zh(quota, q)
        if quota.programmes is not None and not taking_part & set(quota.programmes):
            notes.append(
                Note(
                    f"{label} is not applied: none of its programmes takes part",
                    f"{label_zh}不适用：所涉项目均不参与本次分配",
                    cause_zh="以下{count}项指标不适用（所涉项目均不参与本次分配）：",
                    item_zh=label_zh,
                )
            )
            continue
        if quota.years is not None and not set(quota.years) & set(years):
            notes.append(
                Note(
                    f"{label} is not applied: its years {quota.years} are not allocated",
                    f"{label_zh}不适用：其年份（{'、'.join(f'{y}年' for y in quota.years)}）"
                    "不在本次分配之内",
                )
            )
            continue
        if quota.counts_held and quota.min:
            held = count_held(candidates, quota.programmes, quota.levels)
            if held:
                notes.append(
                    Note(
                        f"{label}: {held} already held count toward the minimum {quota.min}",
                        f"{label_zh}：已获认定的{held}个计入最低{quota.min}个",
                    )
                )
                quota = quota.model_copy(update={"min": max(0, quota.min - held)})
        quotas.append(quota)
    balance = []
    for b, rule in enumerate(policy.balance):
        by_zh = column_zh(rule.by)
        if rule.programmes is not None and not taking_part & set(rule.programmes):
            notes.append(
                Note(
                    f"balance[{b}] by {rule.by} is not applied: none of its programmes takes part",
                    f"按{by_zh}的均衡要求（第{b + 1}项）不适用：所涉项目均不参与本次分配",
                )
            )
            continue
        if not rule.quantified:
            notes.append(
                Note(
                    f"balance[{b}] by {rule.by} is recorded, not enforced: the document gives no "
                    "number (set max_share or max_count in a copy of the policy to enforce it)",
                    f"按{by_zh}的均衡要求（第{b + 1}项）只作记录、不作约束：文件没有给出数字"
                    "（如需约束，请在政策文件副本中设定 max_share 或 max_count）",
                )
            )
            continue
        if rule.by not in candidates.columns:
            problems.append(
                Problem(
                    policy.file_name,
                    f"balance[{b}].by",
                    f"column '{rule.by}' is not in the candidate table",
                )
            )
            continue
        balance.append(rule)
    for programme in policy.programmes:
        column = programme.no_repeat_by
        if column is None or programme.id not in taking_part:
            continue
        if column not in candidates.columns:
            notes.append(
                Note(
                    f"{programme.id}: the candidate table has no column '{column}', so each "
                    f"candidate counts as its own {column}",
                    f"{words.programme(programme.id)}：候选名单没有“{header_zh(column)}”一列，"
                    f"每个候选按各自的{column_zh(column)}计",
                )
            )
            continue
        balance.append(
            Balance(
                by=no_repeat_column(column),
                max_count=1,
                programmes=[programme.id],
                per="horizon",
                reference=programme.reference,
                note=f"no_repeat_by = {column}: the same {column} is rewarded at most once",
            )
        )
    return policy.model_copy(update={"quotas": quotas, "balance": balance})


_HISTORY = ["candidate", "programme", "level", "amount"]  # the columns history reads


def apply_history(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    policy: Policy,
    tier_amounts: dict[tuple[str, str], np.ndarray],
    held_at: list | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply designations already held: no repeats, and the upgrade rule's price.

    With stacking "highest" (就高不重复) a candidate already paid P in a matter (the largest
    amount of the titles it holds there) may be designated in that matter again only for an
    award above P, paid as ``decisions.upgrade_price`` says: the difference (top_up), the
    full amount (full), or not at all (none). History blocks by amount, not by government
    level: a holder of a 30万元 provincial title may still move up to a 300万元 one. With
    stacking "all" a candidate may not receive a title (programme and level) it holds.
    ``tier_amounts`` gives what each tier pays each candidate in all (bands per candidate,
    later payouts, at most the cap: ``later_payments.award_totals``);
    ``held_at`` the held column read (``parse_held_cells``), when the caller has it.
    """
    if "held" not in candidates.columns or pairs.empty:
        pairs = pairs.copy()
        pairs["cost"] = pairs["amount"]
        return pairs, _NO_EXCLUSIONS.copy()
    matter_of = {p.id: p.stacking_matter for p in policy.programmes}
    if held_at is None:
        held_at = parse_held_cells(candidates["held"])
    # Only pairs of candidates holding something are touched: few, in a simulated round
    # (the rest keep their amount as cost, whatever the rules).
    holder_at = np.flatnonzero([bool(held) for held in held_at])
    keep = np.ones(len(pairs), dtype=bool)
    costs = pairs["amount"].tolist()
    reasons: dict[int, str] = {}  # by row, of the pairs ruled out
    if len(holder_at):
        # What each holder was paid in each matter: the largest tier amount it holds there.
        # Plain floats and each distinct value's Decimal made once: the per-title numpy
        # scalars, isnan and Decimal were 2.4 of a late simulated round's 3.6 ms here.
        paid_in: dict[tuple[int, str], Decimal] = {}
        decimal_of: dict[float, Decimal] = {}
        zero = Decimal(0)
        for position, candidate in zip(
            holder_at.tolist(), candidates.index[holder_at].tolist(), strict=True
        ):
            for h in held_at[position]:
                known = tier_amounts.get((h.programme, h.level))
                value = 0.0 if known is None else float(known[position])
                if value != value:  # NaN: nothing known
                    value = 0.0
                paid = decimal_of.get(value)
                if paid is None:  # 0.0 and -0.0 share one: neither is above the zero start
                    paid = decimal_of[value] = Decimal(str(round(value, 4)))
                key = (candidate, matter_of.get(h.programme, h.programme))
                paid_in[key] = max(paid_in.get(key, zero), paid)
        position_of = candidates.index.get_indexer(pairs["candidate"].to_numpy())
        holds = np.zeros(len(candidates) + 1, dtype=bool)  # the last: not a candidate (-1)
        holds[holder_at] = True
        rows = np.flatnonzero(holds[position_of])
        stacking_all = policy.stacking == "all"
        # A price per distinct (amount, paid) pair of objects (by identity: Decimal("30")
        # and Decimal("30.0") are equal but price differently); the objects stay alive in
        # the lists and paid_in while the loop runs. Thousands of rows a late round.
        price_of: dict[tuple[int, int], Decimal | None] = {}
        # The touched rows' columns taken one by one: the frame's take was 0.3 ms a round.
        for n, at, candidate, programme, level, amount in zip(
            rows.tolist(),
            position_of[rows].tolist(),
            *(column_at(pairs[c], rows, pd.RangeIndex(len(rows))).tolist() for c in _HISTORY),
            strict=True,
        ):
            if stacking_all:
                if any(h.programme == programme and h.level == level for h in held_at[at]):
                    keep[n], reasons[n] = False, f"already holds {programme} at {level}"
                continue
            matter = matter_of[programme]
            paid = paid_in.get((candidate, matter))
            if paid is None:
                continue
            key = (id(amount), id(paid))
            if key in price_of:
                price = price_of[key]
            else:
                price = price_of[key] = upgrade_price(policy.upgrade, Decimal(amount), paid)
            if price is None:
                keep[n] = False
                reasons[n] = (
                    f"already designated in matter '{matter}' (no upgrades)"
                    if policy.upgrade == "none"
                    else f"already paid {paid:f}万元 in matter '{matter}'; 就高不重复 pays only a "
                    f"higher award (this one is {Decimal(amount):f}万元)"
                )
            else:
                costs[n] = price
    # One assign: no copy of the frame first, and the list typed as a setitem types it.
    pairs = pairs.assign(cost=costs)
    out = np.flatnonzero(~keep)
    if len(out) == 0:  # as when nothing is held (framing no rows was 0.4 ms a round)
        return pairs, _NO_EXCLUSIONS.copy()
    index = pairs.index[out]
    keys = ["candidate", "programme", "level"]
    dropped = pd.DataFrame(
        {key: column_at(pairs[key], out, index) for key in keys}, index=index, copy=False
    ).assign(reason=[reasons[n] for n in out.tolist()])
    # Only a title refused in several years repeats: pandas' drop_duplicates only then.
    if len(set(zip(*(dropped[key].tolist() for key in keys), strict=True))) < len(dropped):
        dropped = dropped.drop_duplicates(subset=keys)
    return (pairs if keep.all() else pairs[keep]), dropped
