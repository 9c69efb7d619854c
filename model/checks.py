"""An independent check of a plan against every rule, used on every answer before it is shown."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .budget_risk import PlanRisk, plan_risk, row_zh
from .option_groups import scope_mask
from .options import AllocationProblem, later_spend
from .programme import HORIZON, period_zh, quota_scopes
from .wording import Words, column_zh, money, percent


class Violation(str):
    """A broken rule: the string itself in English (logs, errors, the JSON), its sentence
    for a Chinese reader in ``zh`` (the command line shows that)."""

    zh: str

    def __new__(cls, en: str, zh: str) -> Violation:
        made = super().__new__(cls, en)
        made.zh = zh
        return made

    def __reduce__(self):  # pickled with its Chinese (the sweep's workers send plans back)
        return (Violation, (str(self), self.zh))


def expected_spend(problem: AllocationProblem, chosen: np.ndarray) -> dict[int, Decimal]:
    """Money committed per year of the horizon by the chosen options, nominations at expected
    cost, exact: each designation's amount in its year plus its later payouts (e.g. a tax
    rebate) in the years they fall (payouts after the horizon: ``options.later_spend``)."""
    spend = {t: Decimal(0) for t in problem.years}
    rows = problem.options.iloc[chosen]
    for year, cost, probability in zip(
        rows["year"], rows["cost"], rows["probability"], strict=True
    ):
        spend[int(year)] += cost * Decimal(str(probability))
    for year, paid in later_spend(problem, chosen).items():
        if year in spend:
            spend[year] += paid
    return spend


def plan_violations(
    problem: AllocationProblem, chosen: np.ndarray, risk: PlanRisk | None = None
) -> list[str]:
    """Every rule the plan breaks, in words (``Violation``: English, and Chinese in ``zh``);
    empty when the plan is feasible.

    Written directly from the rules (not from the Pyomo model), so it also checks the model.
    ``risk``: the plan's ``plan_risk`` if the caller has it already (it is not made twice).
    """
    options = problem.options
    rows = options.iloc[chosen]
    policy = problem.policy
    words = Words.of(policy)
    problems: list[str] = []
    keys = (
        ["candidate", "matter"]
        if policy.stacking == "highest"
        else ["candidate", "programme", "level"]
    )
    repeated = _held_twice(rows, keys)
    for key in repeated[repeated > 1].index:
        who = problem.candidates.at[key[0], "id"]
        problems.append(
            Violation(
                f"candidate {who} designated twice in {key[1:]}",
                f"候选 {who} 在同一事项 {'、'.join(map(str, key[1:]))} 中两次入选（就高不重复）",
            )
        )
    picked = np.zeros(problem.size, dtype=bool)
    picked[np.asarray(chosen, dtype=int)] = True
    origin = options["from_option"].to_numpy()
    paid = picked.copy()  # an entitlement is paid by itself or by a chain that upgrades it
    paid[origin[picked & (origin >= 0)]] = True
    for o in np.flatnonzero(options["forced"].to_numpy(dtype=bool) & ~paid):
        who, programme = options.at[int(o), "candidate_id"], options.at[int(o), "programme"]
        level = options.at[int(o), "level"]
        problems.append(
            Violation(
                f"entitlement of {who} ({programme} {level}) left out",
                f"{who} 应享的{words.tier_zh(programme, level)}奖励未兑现",
            )
        )
    parts = problem.designations()
    parts = parts[picked[parts["option"].to_numpy()]]
    cap = problem.settings.cap_per_candidate_per_year or policy.cap_per_candidate_per_year
    if cap is not None:
        per_year = parts.groupby(["candidate", "year"]).size()
        for c, t in per_year[per_year > cap].index:
            who = problem.candidates.at[c, "id"]
            problems.append(
                Violation(
                    f"candidate {who} gets more than {cap} in {t}",
                    f"候选 {who} 在 {t} 年入选超过 {cap} 项",
                )
            )
    spend = expected_spend(problem, chosen)
    budget = problem.budget
    tolerance = Decimal("0.0001")
    # With carry-over a year's row is cumulative from the first budgeted year: said so (a
    # year's own spend against "the budget" less an earlier overspend read "spends 0 over
    # the budget -20").
    first: int | None = None
    so_far, spent = Decimal(0), Decimal(0)
    for t in problem.years:
        if t not in budget.per_year:
            continue
        first = t if first is None else first
        if budget.carry_over:
            so_far, spent = so_far + budget.per_year[t], spent + spend[t]
            if spent > so_far + tolerance:
                problems.append(
                    Violation(
                        f"{first}-{t}: spends {spent} in all over the budget of those years "
                        f"{so_far} (carried over)",
                        f"{first}–{t}年累计预计支出 {money(spent)}，超过累计预算 "
                        f"{money(so_far)}（结余可结转）",
                    )
                )
        elif spend[t] > budget.per_year[t] + tolerance:
            problems.append(
                Violation(
                    f"{t}: spends {spend[t]} over the budget {budget.per_year[t]}",
                    f"{t}年预计支出 {money(spend[t])}，超过预算 {money(budget.per_year[t])}",
                )
            )
    if budget.total is not None and sum(spend.values()) > budget.total + tolerance:
        total = sum(spend.values())
        problems.append(
            Violation(
                f"spends {total} over the horizon budget {budget.total}",
                f"期内预计支出 {money(total)}，超过期间总预算 {money(budget.total)}",
            )
        )
    alpha = problem.settings.overrun_risk
    if alpha is not None and not budget.unlimited:
        risk = risk if risk is not None else plan_risk(problem, chosen)
        for label, chance in risk.overrun.items():
            if label != "any_year" and chance > alpha + 1e-12:
                problems.append(
                    Violation(
                        f"{label}: overrun chance {chance:.4%} above the bound {alpha:g}",
                        f"{row_zh(label)}超支概率 {chance:.2%}，高于上限 {percent(alpha)}",
                    )
                )
    selected = np.zeros(problem.size, dtype=bool)
    selected[chosen] = True
    for q, t, scope in quota_scopes(problem):
        quota = policy.quotas[q]
        count = int(selected[scope].sum())
        if quota.min is not None and count < quota.min:
            problems.append(
                Violation(
                    f"{quota.label(q)} {t}: {count} designations, below the minimum {quota.min}",
                    f"{words.quota_zh(quota, q)}，{period_zh(t)}：入选 {count} 项，少于最低 {quota.min} 项",
                )
            )
        if quota.max is not None and count > quota.max:
            problems.append(
                Violation(
                    f"{quota.label(q)} {t}: {count} designations, above the maximum {quota.max}",
                    f"{words.quota_zh(quota, q)}，{period_zh(t)}：入选 {count} 项，多于最多 {quota.max} 项",
                )
            )
    for rule in policy.balance:
        scope = parts[scope_mask(parts, rule.programmes, rule.levels)]
        groups = problem.candidates[rule.by].to_numpy()[scope["candidate"].to_numpy()].astype(str)
        periods = problem.years if rule.per == "year" else [HORIZON]
        for t in periods:
            in_period = (
                np.ones(len(scope), dtype=bool) if t == HORIZON else (scope["year"].to_numpy() == t)
            )
            # an option counts once in a period, whichever of its designations fall in it
            counted = pd.DataFrame(
                {"option": scope["option"].to_numpy()[in_period], "group": groups[in_period]}
            ).drop_duplicates()
            counts = counted["group"].value_counts()
            total = len(counted)
            for group, count in counts.items():
                if rule.max_share is not None and count > rule.max_share * total + 1e-9:
                    problems.append(
                        Violation(
                            f"{rule.by} {group} {t}: {count} of {total}, "
                            f"above share {rule.max_share}",
                            f"{column_zh(rule.by)} {group}，{period_zh(t)}：{total} 项中占 {count} 项，"
                            f"超过比例上限 {rule.max_share:.0%}",
                        )
                    )
                if rule.max_count is not None and count > rule.max_count:
                    problems.append(
                        Violation(
                            f"{rule.by} {group} {t}: {count}, above {rule.max_count}",
                            f"{column_zh(rule.by)} {group}，{period_zh(t)}：入选 {count} 项，"
                            f"超过上限 {rule.max_count} 项",
                        )
                    )
    return problems


def _held_twice(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    """How many of ``rows`` share each value of ``keys``: only the keys held more than once
    when any is (a plan's check mostly finds none, and saying so by integer codes costs a
    fraction of grouping thousands of text keys)."""
    codes = np.zeros(len(rows), dtype=np.int64)
    for key in keys:
        code, uniques = pd.factorize(rows[key].to_numpy(), use_na_sentinel=False)
        codes = codes * max(1, len(uniques)) + code
    if len(np.unique(codes)) == len(codes):
        return pd.Series(dtype=np.int64)
    return rows.groupby(keys).size()
