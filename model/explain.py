"""Explanations in the user's terms: why each candidate got what it got (why a plan is
impossible is ``diagnosis.py``).

Every sentence is made twice from the same facts, in English (``detail``, for tools and the
JSON) and in Chinese (``reason_zh``, for the bureau: programme and level names from the
policy file, money in 万元, years as 2025年); the words are in ``wording.py``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pandas as pd

from .applications import APPLIED_NOT_ELIGIBLE
from .budget_risk import (
    RISK_MARGIN,
    payment_table,
    plan_risk,
    row_en,
    row_zh,
)
from .checks import expected_spend
from .options import AllocationProblem
from .programme import HORIZON, payment_tags, quota_scopes
from .shared_keys import GroupTaken
from .unapplied import unapplied_reason
from .wording import DECISION_ZH, VERB_EN, Words, money, percent, percent_beside

OUTCOMES = (
    "selected",
    "ineligible",
    "not_applied",
    "out_of_budget",
    "outranked",
    "not_needed",
    "undecided",
)
REASON_COLUMNS = ["candidate_id", "name", "outcome", "detail", "reason_zh"]
VERB = VERB_EN  # kept for callers of the English verbs

# The Chinese for money that pays nothing (the cultivation designations carry no award).
NO_MONEY_ZH = "仅授予称号，无奖励资金"


def _money_zh(amount: Decimal | float) -> str:
    return NO_MONEY_ZH if Decimal(str(amount)) == 0 else money(amount)


class _Award(NamedTuple):
    """A designation a candidate receives in the plan."""

    decision: str
    programme: str
    level: str
    year: int
    cost: Decimal
    chance: float
    origin: tuple[str, str, int] | None  # an upgrade chain: what it upgrades from
    amount: Decimal | float | None = None  # the tier's award, when it is more than the cost

    @property
    def topped_up(self) -> bool:
        """A tier above one held before the horizon in the same matter (就高不重复): paid the
        difference, not its award (not an upgrade chain, which says so itself)."""
        return (
            self.origin is None
            and self.amount is not None
            and Decimal(str(self.amount)) > Decimal(str(self.cost)) + Decimal("0.0001")
        )

    def en(self) -> str:
        kind = VERB_EN[self.decision]
        if self.origin is not None:
            p, lv, y = self.origin
            kind = f"upgraded from {p} {lv} ({y}), {kind}"
        chance = "" if self.chance >= 1 else f", paid with chance {self.chance:g}"
        pay = money(self.cost)
        if self.topped_up:
            pay = f"a top-up of {pay} on its {money(self.amount)}, a lower award held in the matter"
        return f"{kind} {self.programme} at {self.level} in {self.year} ({pay}{chance})"

    def zh(self, words: Words) -> str:
        tier = words.tier_zh(self.programme, self.level)
        pay = _money_zh(self.cost)
        if self.topped_up:
            # plan.csv's amount is the tier's (50), its cost the top-up (30): said, as the
            # reader compared 30 with the policy's 50 and read a wrong amount (review 20).
            pay = (
                f"补差{money(self.cost)}，本级{money(self.amount)}，同一事项已获较低奖励"
                if self.cost
                else f"本级{money(self.amount)}，同一事项已获同等奖励，不另付"
            )
        if self.origin is not None:
            p, lv, y = self.origin
            pay = f"晋级补差{money(self.cost)}" if self.cost else "晋级不另付"
            head = f"由{y}年的{words.tier_zh(p, lv)}晋级，"
        else:
            head = ""
        if self.decision == "nomination":
            pay = f"获批后{pay}" if self.cost else pay
        chance = "" if self.chance >= 1 else f"，获批概率{percent(self.chance)}"
        if self.decision == "entitlement" and self.chance < 1:
            # Owed only if the higher government confers the title: "应享…（获批概率30%）"
            # read as entitled and uncertain at once.
            return f"{head}如{self.year}年获评{tier}，兑现{pay}（获评概率{percent(self.chance)}）"
        return f"{head}{self.year}年{DECISION_ZH[self.decision]}{tier}（{pay}{chance}）"


def _fits(room: Decimal | None, cost: float) -> bool:
    """Whether an award expected to cost ``cost`` fits in ``room`` left (None: no budget)."""
    return room is None or Decimal(str(cost)) <= room + Decimal("0.0001")


def candidate_reasons(
    problem: AllocationProblem, chosen: np.ndarray, no_plan: tuple[str, str] | None = None
) -> pd.DataFrame:
    """One row per candidate (columns ``REASON_COLUMNS``): outcome (selected / ineligible /
    out_of_budget / outranked / not_needed) and why, in English (``detail``) and Chinese
    (``reason_zh``), naming the rule, quota or budget involved.

    ``no_plan`` (English, Chinese): the allocation found no plan, and this says why; every
    candidate that could apply is then ``undecided`` with that sentence (measured against
    an empty plan it would read as outranked, which nothing showed)."""
    options = problem.options
    candidates = problem.candidates
    policy = problem.policy
    words = Words.of(policy)
    selected = set(chosen.tolist())
    spend = expected_spend(problem, chosen)
    budget = problem.budget
    left = {
        t: (budget.per_year[t] - spend[t]) if t in budget.per_year else None for t in problem.years
    }
    if budget.carry_over and budget.per_year:
        running = Decimal(0)
        for t in problem.years:
            running += budget.per_year[t] - spend[t]
            left[t] = running
        # Money spent in year t is gone from every later cumulative row too: what year t
        # has room for is the least left in it or any later year (a firm kept out only by
        # the 2024-2025 row was told a balance or stacking rule bound it).
        least: Decimal | None = None
        for t in reversed(problem.years):
            if left[t] is not None:
                least = left[t] if least is None else min(least, left[t])
                left[t] = least
    total_left = None if budget.total is None else budget.total - sum(spend.values())

    group_taken = GroupTaken(problem, chosen)  # no_repeat_by: a group's place taken
    # Quotas that are full, per option they scope: (English, Chinese) of the first.
    quota_full: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for q, t, scope in quota_scopes(problem):
        quota = policy.quotas[q]
        if quota.max is not None and sum(1 for o in scope if o in selected) >= quota.max:
            full = (
                f"{quota.label(q)}{'' if t == HORIZON else f' in {t}'} is full",
                f"{words.quota_zh(quota, q)}{'' if t == HORIZON else f'（{t}年）'}名额已满",
            )
            for o in scope:
                quota_full[int(o)].append(full)
    # The lowest score selected at each tier and year (and in each programme and year): what
    # a candidate left out is compared with.
    lowest_at: dict[tuple, float] = {}
    lowest_in: dict[tuple, float] = {}
    if len(chosen):
        rows = options.iloc[chosen]
        rows = rows[~rows["forced"].to_numpy(dtype=bool)]
        lowest_at = rows.groupby(["programme", "level"])["score"].min().to_dict()
        lowest_in = rows.groupby("programme")["score"].min().to_dict()

    risk_check = _overrun_check(problem, chosen)
    by_candidate = options.groupby("candidate").indices
    # What was set aside for each candidate, as sentences made in one pass over the
    # exclusions (not a frame per candidate): the first reason per programme for those
    # with no option at all, and the tiers 就高不重复 set aside for those selected.
    ineligible_en: dict[int, list[str]] = {}
    # Chinese: programmes grouped by their reason (a park is told once that 29 are for firms).
    ineligible_zh: dict[int, dict[str, list[str]]] = {}
    stacked_aside: dict[int, list[tuple[str, str]]] = {}
    exclusions = problem.exclusions
    if len(exclusions):
        # Only a candidate with no option at all is told why, programme by programme.
        without = exclusions[~exclusions["candidate"].isin(by_candidate.keys())]
        if problem.applied is not None:
            # With an applications table, an applicant is told about what it applied for
            # (the rows the join set aside as "applied but not eligible"), not about every
            # programme of the policy: a design-award applicant read seven green titles it
            # neither holds nor asked for, each "不在申报范围内" (review 15).
            # What it applied for: the rows set aside after the join (applied but not
            # eligible, already held: 就高不重复), not the tiers' eligibility over every
            # programme (an applicant refused for a title it holds read first that a
            # programme it never asked for is for parks only: review 20).
            asked = without.loc[
                (without["reason"].astype(str) == APPLIED_NOT_ELIGIBLE)
                | without["applied"].astype(bool),
                ["candidate", "programme"],
            ].drop_duplicates()
            if len(asked):
                keys = pd.MultiIndex.from_frame(without[["candidate", "programme"]])
                applicant = without["candidate"].isin(asked["candidate"]).to_numpy()
                mentioned = keys.isin(pd.MultiIndex.from_frame(asked))
                without = without[~applicant | mentioned]
        firsts = without.drop_duplicates(subset=["candidate", "programme"])
        zh_of: dict[str, str] = {}  # few distinct reasons, many candidates
        for c, programme, reason in zip(
            firsts["candidate"], firsts["programme"], firsts["reason"], strict=True
        ):
            reason = str(reason)
            if reason not in zh_of:
                zh_of[reason] = words.exclusion_zh(reason)
            ineligible_en.setdefault(c, []).append(f"{programme}: {reason}")
            ineligible_zh.setdefault(c, {}).setdefault(zh_of[reason], []).append(
                words.programme(programme)
            )
        stacked = exclusions[exclusions["reason"].astype(str).str.startswith("就高不重复")]
        for c, programme, level in zip(
            stacked["candidate"], stacked["programme"], stacked["level"], strict=True
        ):
            stacked_aside.setdefault(c, []).append((programme, level))
    # Columns as arrays once: row access through pandas costs microseconds a cell, and this
    # loop reads a few cells per option of every candidate.
    programme_of = options["programme"].to_numpy()
    level_of = options["level"].to_numpy()
    year_of = options["year"].to_numpy()
    matter_of = options["matter"].to_numpy()
    origin_of = options["from_option"].to_numpy()
    decision_of = options["decision"].to_numpy()
    chance_of = options["probability"].to_numpy(dtype=float)
    cost_of = options["cost"].to_numpy()
    amount_of = options["amount"].to_numpy()
    merit_of = options["merit"].to_numpy(dtype=float)
    rank_of = options["level_rank"].to_numpy()
    score_of = options["score"].to_numpy(dtype=float)
    expected_of = options["expected_cost"].to_numpy(dtype=float)
    ids, names = candidates["id"].to_numpy(), candidates["name"].to_numpy()
    # The same columns as Python lists where the loop reads one option at a time over every
    # option of the selected (numpy scalars cost more to make than list items to read).
    programme_at, level_at = programme_of.tolist(), level_of.tolist()
    matter_at, origin_at = matter_of.tolist(), origin_of.tolist()
    records = []

    def score_floor(o: int) -> tuple[str, str]:
        """Its score against the lowest selected at its best tier over the horizon (or in
        its programme): firms move between years, so one year's lowest can mislead."""
        floor = lowest_at.get((programme_of[o], level_of[o]))
        if floor is not None:
            where = words.tier_zh(programme_of[o], level_of[o])
            return (
                f"; its score {score_of[o]:g} vs lowest selected {floor:g}",
                f"；其评分{score_of[o]:g}分，{where}入选者最低{floor:g}分",
            )
        floor = lowest_in.get(programme_of[o])
        if floor is None:
            return "", ""
        # Nobody at its own tier: the programme's other levels, said as such (a national
        # applicant read "工业设计中心（企业）入选者最低76.5分" of the municipal winners and
        # took them for its own competitors; review 15).
        tier = words.tier_zh(programme_of[o], level_of[o])
        return (
            f"; its score {score_of[o]:g}; none selected at its tier, lowest selected at the "
            f"programme's other levels {floor:g}",
            f"；其评分{score_of[o]:g}分，{tier}无入选者，{words.programme(programme_of[o])}"
            f"其他级别入选者最低{floor:g}分",
        )

    for position, c in enumerate(candidates.index):
        own = by_candidate.get(c, np.array([], dtype=int))
        own_at = own.tolist()
        won = [o for o in own_at if o in selected]
        record = {"candidate_id": ids[position], "name": names[position]}
        if won:
            awards = [
                _Award(
                    decision_of[o],
                    programme_of[o],
                    level_of[o],
                    int(year_of[o]),
                    cost_of[o],
                    float(chance_of[o]),
                    None
                    if origin_of[o] < 0
                    else (
                        programme_of[origin_of[o]],
                        level_of[origin_of[o]],
                        int(year_of[origin_of[o]]),
                    ),
                    amount_of[o],
                )
                for o in won
            ]
            en = [a.en() for a in awards]
            zh = [a.zh(words) for a in awards]
            matters = {matter_at[o] for o in won}
            # An upgrade chain makes two designations: the tier it starts from is won too,
            # not set aside (a chain from municipal read "…set aside: municipal").
            won_tiers = {(programme_at[o], level_at[o]) for o in won} | {
                (programme_at[origin_at[o]], level_at[origin_at[o]])
                for o in won
                if origin_at[o] >= 0
            }
            # Under stacking "all" nothing is set aside for 就高不重复: tiers stack, and one
            # not given was simply not chosen.
            aside = (
                {
                    (programme_at[o], level_at[o])
                    for o in own_at
                    if o not in selected
                    and matter_at[o] in matters
                    and origin_at[o] < 0
                    and (programme_at[o], level_at[o]) not in won_tiers
                }
                if policy.stacking == "highest"
                else set()
            )
            # Never a tier it won (a nomination through an upgrade chain read "…set aside:
            # national" beside "nominated for national").
            aside |= set(stacked_aside.get(c, [])) - won_tiers
            if aside:
                ordered = sorted(aside, key=lambda t: words.tier_en(*t))
                en.append(
                    "set aside (就高不重复, one award per matter): "
                    + ", ".join(words.tier_en(*t) for t in ordered)
                )
                zh.append(
                    "同一事项只奖励一次（就高不重复），本期未另行安排："
                    + "、".join(words.tier_zh(*t) for t in ordered)
                )
            records.append(
                {
                    **record,
                    "outcome": "selected",
                    "detail": "; ".join(en),
                    "reason_zh": "；".join(zh),
                }
            )
            continue
        if len(own) == 0:
            if problem.applied is not None and not problem.applied[c]:
                # Applied for nothing: said so first, then what was open to it (a firm that
                # met every rule of a programme read "ineligible" with that programme left
                # out, review 23), or why nothing was.
                en_text, zh_text = unapplied_reason(
                    c, problem, words, ineligible_en.get(c), ineligible_zh.get(c)
                )
                records.append(
                    {**record, "outcome": "not_applied", "detail": en_text, "reason_zh": zh_text}
                )
                continue
            if c in ineligible_en:
                en_text = "; ".join(ineligible_en[c])
                zh_text = "不符合申报条件：" + "；".join(
                    f"{'、'.join(programmes)}：{reason}"
                    for reason, programmes in ineligible_zh[c].items()
                )
            else:
                en_text, zh_text = "no programme it may apply for", "没有可以申报的项目"
            records.append(
                {**record, "outcome": "ineligible", "detail": en_text, "reason_zh": zh_text}
            )
            continue
        if no_plan is not None:
            en_text, zh_text = no_plan
            records.append(
                {**record, "outcome": "undecided", "detail": en_text, "reason_zh": zh_text}
            )
            continue
        shared = group_taken.reason(c, own, words)
        if shared is not None:  # its group's place is taken: the rule, not the money
            records.append(
                {**record, "outcome": "outranked", "detail": shared[0], "reason_zh": shared[1]}
            )
            continue
        best = max(own, key=lambda o: (merit_of[o], -rank_of[o]))
        year = int(year_of[best])
        # An upgrade chain's price is its top-up; its first designation is paid besides, so
        # it is never the cheapest way in while a designation on its own is open.
        standalone = [o for o in own if origin_of[o] < 0] or list(own)
        cheapest = min(standalone, key=lambda o: expected_of[o])
        if not _fits(left.get(int(year_of[cheapest])), expected_of[cheapest]):
            # The cheapest award among those its year's budget still has room for, if any:
            # an award open in several years is out of budget only if no year can take it
            # (the cheapest overall may fall in a spent year while a later one has room).
            # Looked for only then: this loop runs for every candidate left out.
            fitting = [o for o in standalone if _fits(left.get(int(year_of[o])), expected_of[o])]
            if fitting:
                cheapest = min(fitting, key=lambda o: expected_of[o])
        cheapest_cost = Decimal(str(expected_of[cheapest]))
        cheapest_year = int(year_of[cheapest])
        cheapest_en = f"{programme_of[cheapest]} {level_of[cheapest]}, {cheapest_year}"
        cheapest_zh = (
            f"{words.tier_zh(programme_of[cheapest], level_of[cheapest])}，{cheapest_year}年"
        )
        # Its score against the lowest selected at the award the sentence names: the money
        # reasons name the cheapest award, so compare there (the best one's tier, national
        # 89, sat beside a municipal award's 76.1 needed and read as a contradiction).
        floor_en, floor_zh = score_floor(cheapest)
        year_left = left.get(cheapest_year)
        # The budgets the award does not fit in (its year's, the horizon total's): the one
        # with the least left is named, so a total that binds is not hidden behind a year
        # that has room.
        short = [
            (room, which_en, which_zh)
            for room, which_en, which_zh in (
                (year_left, f" in {cheapest_year}", f"{cheapest_year}年预算"),
                (total_left, " in the horizon total", "期间总预算"),
            )
            if room is not None and cheapest_cost > room + Decimal("0.0001")
        ]
        if short:
            room, which_en, which_zh = min(short, key=lambda s: s[0])
            room = max(room, Decimal(0))
            records.append(
                {
                    **record,
                    "outcome": "out_of_budget",
                    "detail": f"its cheapest award ({cheapest_en}) costs {money(cheapest_cost)}; "
                    f"only {money(room)} is left{which_en}" + floor_en,
                    "reason_zh": f"其金额最低的可选奖励（{cheapest_zh}）预计需"
                    f"{money(cheapest_cost)}，"
                    + (f"{which_zh}已无余额" if room == 0 else f"{which_zh}仅剩{money(room)}")
                    + floor_zh,
                }
            )
            continue
        risky = risk_check(int(cheapest)) if risk_check is not None else None
        if risky:
            rises, alpha = risky
            records.append(
                {
                    **record,
                    "outcome": "out_of_budget",
                    "detail": f"its cheapest award ({cheapest_en}) fits the money expected, but "
                    "adding it would take "
                    + ", ".join(
                        f"{row_en(label)}'s overrun chance from {percent_beside(before, alpha)} to "
                        f"{percent_beside(after, alpha)}"
                        for label, before, after in rises
                    )
                    + (
                        f", above the bound {alpha:g}"
                        if any(after > alpha for _, _, after in rises)
                        else f", reaching the bound {alpha:g} (a plan must stay below it)"
                    )
                    + floor_en,
                    "reason_zh": f"其金额最低的可选奖励（{cheapest_zh}）按预计支出可以安排，但加入后"
                    + "、".join(
                        f"{row_zh(label)}超支概率将由{percent_beside(before, alpha)}"
                        f"升至{percent_beside(after, alpha)}"
                        for label, before, after in rises
                    )
                    + (
                        f"，超过上限{percent(alpha)}"
                        if any(after > alpha for _, _, after in rises)
                        else f"，达到上限{percent(alpha)}（方案须低于上限）"
                    )
                    + floor_zh,
                }
            )
            continue
        floor_en, floor_zh = score_floor(best)  # the reasons below name its best option
        full = quota_full.get(int(best)) or quota_full.get(int(cheapest))
        if full:
            en_full, zh_full = full[0]
            records.append(
                {
                    **record,
                    "outcome": "outranked",
                    "detail": en_full + floor_en,
                    "reason_zh": zh_full + floor_zh,
                }
            )
            continue
        if problem.settings.objective == "min_cost":
            records.append(
                {
                    **record,
                    "outcome": "not_needed",
                    "detail": "the cheapest plan meeting every quota does without it",
                    "reason_zh": "成本最低的方案满足各项名额要求时无需选择该候选",
                }
            )
            continue
        cost = Decimal(str(expected_of[best]))
        records.append(
            {
                **record,
                "outcome": "outranked",
                "detail": f"a balance, cap or stacking rule binds (best option {programme_of[best]} "
                f"{level_of[best]} {year}, cost {money(cost)})",
                "reason_zh": "受均衡、数量上限或“就高不重复”等规则约束未能入选（最佳选项"
                f"{words.tier_zh(programme_of[best], level_of[best])}，{year}年，预计{money(cost)}）",
            }
        )
    return pd.DataFrame.from_records(records, columns=REASON_COLUMNS)


def _overrun_check(problem: AllocationProblem, chosen: np.ndarray):
    """With an overrun bound: a function saying, for an option left out, whether adding it
    to the plan would take a budget row's overrun chance above the bound (the rows it would
    take over, as (label, chance before, chance after), and the bound; or None). Options
    that pay alike with the same chance share the answer (computed once)."""
    alpha = problem.settings.overrun_risk
    if alpha is None or problem.budget.unlimited:
        return None
    table = payment_table(problem)
    base = plan_risk(problem, chosen, table).overrun
    tags = payment_tags(problem)
    cache: dict[float, tuple[list[tuple[str, float, float]], float] | None] = {}
    chosen = np.asarray(chosen, dtype=int)
    origin = problem.options["from_option"].to_numpy()

    def check(option: int) -> tuple[list[tuple[str, float, float]], float] | None:
        tag = float(tags[option])
        if tag not in cache:
            plan = np.union1d(chosen, [option])
            if origin[option] >= 0:  # a chain replaces its first designation
                plan = np.setdiff1d(plan, [origin[option]])
            after = plan_risk(problem, plan, table).overrun
            over = [
                (label, base[label], after[label])
                for label in after
                if label != "any_year" and after[label] > alpha - RISK_MARGIN
            ]
            cache[tag] = (over, alpha) if over else None
        return cache[tag]

    return check
