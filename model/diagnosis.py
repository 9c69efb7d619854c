"""Why no plan exists, in the user's terms: obligations beyond the budget or too risky, quotas
that cannot be met, money that is short; every finding in English and in Chinese."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import NamedTuple

import numpy as np
import pyomo.core as pyo

from .budget_risk import (
    RISK_MARGIN,
    budget_rows,
    payment_table,
    plan_risk,
    row_en,
    row_zh,
    to_wan,
)
from .options import AllocationProblem
from .programme import HORIZON, build_model, period_zh, quota_scopes
from .solve import solve_model
from .wording import Words, money, percent


class Finding(NamedTuple):
    """One sentence of a diagnosis, in English and in Chinese."""

    en: str
    zh: str


def _named_obligations(
    problem: AllocationProblem, largest: np.ndarray, paid: np.ndarray, words: Words
) -> Finding:
    """Obligations ``largest`` named with what each pays into the budget row at hand
    (``paid``, 万元, expected: × its chance when it is not certain; in a later year, its
    payouts there, not its award): in English by ids, in Chinese by the programmes' names."""
    options = problem.options
    en, zh = [], []
    for o, amount in zip(largest, paid, strict=True):
        chance = float(options.at[o, "probability"])
        who = options.at[o, "candidate_id"]
        programme, level = options.at[o, "programme"], options.at[o, "level"]
        pays = money(Decimal(str(round(float(amount), 4))))
        en.append(f"{who} {programme} {level} ({pays}{'' if chance >= 1 else ' expected'})")
        zh.append(
            f"{who} {words.tier_zh(programme, level)}（{'' if chance >= 1 else '预计'}{pays}）"
        )
    return Finding(", ".join(en), "、".join(zh))


def obligations_beyond_budget(problem: AllocationProblem) -> list[Finding]:
    """Why the obligations alone (entitlements, paid whatever the plan) break the budget:
    per budget row, their expected cost against the money, naming the largest; or, with an
    overrun bound, their chance of overrunning against it. Empty when they fit."""
    options = problem.options
    forced = np.flatnonzero(options["forced"].to_numpy(dtype=bool))
    if len(forced) == 0 or problem.budget.unlimited:
        return []
    words = Words.of(problem.policy)
    table = payment_table(problem)
    rows = budget_rows(problem)
    sure, hanging = table.within(rows)
    findings: list[Finding] = []
    for r, row in enumerate(rows):
        expected = sure[forced, r] + hanging[forced, r] * table.probability[forced]
        need = Decimal(str(round(float(expected.sum()) / 1e4, 4)))
        budget = to_wan(row.budget)
        if need > budget:
            top = np.argsort(-expected, kind="stable")[:3]
            named = _named_obligations(problem, forced[top], expected[top] / 1e4, words)
            findings.append(
                Finding(
                    f"{row_en(row.label)}: obligations alone (entitlements the city must pay) "
                    f"are expected to cost {money(need)} against a budget of {money(budget)} "
                    f"(over by {money(need - budget)}); the largest: {named.en}",
                    f"{row_zh(row.label)}：仅应享奖励（无论方案如何都须支付）预计即需{money(need)}，"
                    f"预算为{money(budget)}，超出{money(need - budget)}；金额最大的为" + named.zh,
                )
            )
    alpha = problem.settings.overrun_risk
    if findings or alpha is None:
        return findings
    risk = plan_risk(problem, forced, table)
    for row in rows:
        chance = risk.overrun.get(row.label, 0.0)
        if chance > alpha - RISK_MARGIN:
            findings.append(
                Finding(
                    f"{row_en(row.label)}: obligations alone overrun the budget of "
                    f"{money(to_wan(row.budget))} with chance {chance:.4%}, above the bound "
                    f"{alpha:g} (--overrun-risk): no plan can meet it",
                    f"{row_zh(row.label)}：仅应享奖励超出预算{money(to_wan(row.budget))}的概率即为"
                    f"{chance:.4%}，高于上限{percent(alpha)}（--overrun-risk），任何方案都无法满足",
                )
            )
    return findings


def _minimum_quotas(problem: AllocationProblem, words: Words) -> tuple[str, str]:
    """The minimum quotas, named in English and in Chinese ('' where there are none)."""
    quotas = [(i, q) for i, q in enumerate(problem.policy.quotas) if q.min]
    return (
        "; ".join(q.label(i) for i, q in quotas),
        "；".join(words.quota_zh(q, i) for i, q in quotas),
    )


def _overrun_bound_findings(problem: AllocationProblem, settings) -> list[Finding]:
    """When plans meet every rule at expected cost but none meets the overrun bound: the
    cheapest such plan's chance of overrunning, year by year, against the bound."""
    alpha = settings.overrun_risk
    expected_only = replace(problem, settings=settings.model_copy(update={"overrun_risk": None}))
    cheapest = solve_model(build_model(expected_only), expected_only.settings)
    if not cheapest.has_solution:
        return []  # the expected budgets already fail: the steps below say why
    risk = plan_risk(problem, cheapest.chosen)
    rows = {label: chance for label, chance in risk.overrun.items() if label != "any_year"}
    shown = [(label, chance) for label, chance in rows.items() if chance > alpha - RISK_MARGIN] or [
        (label, chance) for label, chance in rows.items() if chance > 0
    ]
    minimums, minimums_zh = _minimum_quotas(problem, Words.of(problem.policy))
    over = ", ".join(f"{row_en(label)} {chance:.2%}" for label, chance in shown)
    over_zh = "、".join(f"{row_zh(label)}{chance:.2%}" for label, chance in shown)
    return [
        Finding(
            f"plans meeting every rule fit the budgets at expected cost, but none was found whose "
            f"conferred awards overrun a year's budget with chance at most {alpha:g} "
            f"(--overrun-risk): the cheapest such plan overruns with chance "
            f"{over or 'none'}"
            + (f", with the minimum quotas ({minimums}) to meet" if minimums else "")
            + "; raise the budget or the bound, or lower the quotas",
            "满足各项规则的方案按预计支出可以容纳于预算之内，但找不到获批奖励超出当年预算的概率"
            f"不高于{percent(alpha)}（--overrun-risk）的方案：其中最省钱的方案超支概率为"
            f"{over_zh or '零'}"
            + (f"（须满足名额下限：{minimums_zh}）" if minimums_zh else "")
            + "；请增加预算、放宽超支概率上限或降低名额要求",
        )
    ]


def _money_short(problem: AllocationProblem, m: pyo.ConcreteModel, words: Words) -> list[Finding]:
    """The least money beyond the budget that meeting every other rule needs (``m``: the
    model built with ``elastic_budget`` and solved), with one way to place it by year. Not
    the cheapest plan's spend year by year: a quota over the horizon may be met in any of
    its years, so that plan's split would overstate the money and name the wrong year
    (Wuhan's 2022 "short by 1,688万元" needed 63, in 2022 or in 2023)."""
    budget = problem.budget
    added = {t: float(m.budget_extra[t].value or 0.0) for t in m.BUDGET_YEARS}
    added = {t: round(v, 4) for t, v in added.items() if v > 1e-6}
    on_total = round(float(m.budget_total_extra.value or 0.0), 4)
    short = round(sum(added.values()) + on_total, 4)
    if short <= 0:
        return []
    minimums, minimums_zh = _minimum_quotas(problem, words)
    ways_en = [f"{t}: {money(budget.per_year[t])} + {money(v)}" for t, v in added.items()]
    ways_zh = [f"{t}年预算{money(budget.per_year[t])}增加{money(v)}" for t, v in added.items()]
    if on_total > 0:
        ways_en.append(f"total: {money(budget.total)} + {money(on_total)}")
        ways_zh.append(f"总预算{money(budget.total)}增加{money(on_total)}")
    return [
        Finding(
            f"meeting the minimum quotas ({minimums or 'none'}) and the other rules needs at "
            f"least {money(short)} more than the budget (short by {money(short)}); one way: "
            + ", ".join(ways_en),
            f"满足名额下限（{minimums_zh or '无'}）及其他规则，至少还需增加预算{money(short)}"
            f"（缺口{money(short)}）；一种补足方式：" + "、".join(ways_zh),
        )
    ]


def _obligations_beyond_cap(problem: AllocationProblem) -> list[Finding]:
    """Candidates whose obligations alone (entitlements, in every plan) make more
    designations in a year than the cap per candidate and year allows; empty when none."""
    cap = problem.settings.cap_per_candidate_per_year or problem.policy.cap_per_candidate_per_year
    if cap is None:
        return []
    parts = problem.designations()
    forced = problem.options["forced"].to_numpy(dtype=bool)[parts["option"].to_numpy()]
    counts = parts[forced].groupby(["candidate", "year"]).size()
    over = counts[counts > cap]
    ids = problem.options.drop_duplicates("candidate").set_index("candidate")["candidate_id"]
    findings = []
    for (candidate, year), count in over.items():
        who = ids.get(candidate, candidate)
        findings.append(
            Finding(
                f"{who} has {count} designations owed by right in {year}, above the cap of "
                f"{cap} per candidate and year (cap_per_candidate_per_year)",
                f"{who} {year}年按规定应得的认定有{count}项，超过每家每年最多{cap}项的上限"
                "（cap_per_candidate_per_year）",
            )
        )
    return findings


def diagnose_infeasible(problem: AllocationProblem) -> list[Finding]:
    """Why no plan satisfies every rule, in sentences naming quotas and money.

    1. a minimum quota with fewer eligible candidates than it asks for; obligations alone
       beyond the cap per candidate and year;
    2. with an overrun bound, plans that fit at expected cost but overrun too often;
    3. otherwise, the least money beyond the budget that every other rule needs, and one way
       to place it by year (``_money_short``);
    4. otherwise, the quotas that conflict with each other, by how much each falls short.
    """
    policy = problem.policy
    options = problem.options
    words = Words.of(policy)
    findings: list[Finding] = []
    for q, t, scope in quota_scopes(problem):
        quota = policy.quotas[q]
        if not quota.min:
            continue
        possible = options.iloc[scope].groupby(["candidate", "matter"]).ngroups if len(scope) else 0
        if possible < quota.min:
            when = "over the horizon" if t == HORIZON else f"in {t}"
            when_zh = period_zh(t)
            # With an applications table only what was applied for is an option: the
            # candidates short are those who applied there (44 of 1,000 eligible firms had
            # applied at that level, and "only 44 eligible" sent the reader to the rules).
            who, who_zh = (
                ("eligible candidate(s) could fill it", "符合条件的候选")
                if problem.applied is None
                else ("eligible candidate(s) applied for it", "符合条件且申报了的候选")
            )
            findings.append(
                Finding(
                    f"{quota.label(q)} needs {quota.min} designations {when} but only {possible} "
                    f"{who}" + (f" ({quota.reference})" if quota.reference else ""),
                    f"{words.quota_zh(quota, q)}：{when_zh}须认定{quota.min}家，但{who_zh}"
                    f"仅{possible}家" + (f"（{quota.reference}）" if quota.reference else ""),
                )
            )
    findings += _obligations_beyond_cap(problem)
    if findings:
        return findings

    settings = problem.settings.model_copy(
        update={"objective": "min_cost", "time_limit": min(60.0, problem.settings.time_limit)}
    )
    if settings.overrun_risk is not None:
        findings = _overrun_bound_findings(problem, settings)
        if findings:
            return findings
    relaxed = replace(problem, settings=settings)
    elastic = build_model(relaxed, elastic_budget=True)
    if solve_model(elastic, settings).has_solution:
        findings = _money_short(problem, elastic, words)
        if findings:
            return findings
    model = build_model(relaxed, with_budget=False, elastic_quotas=True)
    if not solve_model(model, settings).has_solution:
        return [
            Finding(
                "the rules conflict even without quotas and budget (check balance rules and caps)",
                "即使不考虑名额和预算，各项规则之间仍相互冲突（请检查均衡规则和数量上限）",
            )
        ]
    for q, t in model.QUOTA_MIN:
        shortfall = model.quota_shortfall[q, t].value or 0.0
        if shortfall > 0.5:
            quota = policy.quotas[q]
            when = "over the horizon" if t == HORIZON else f"in {t}"
            when_zh = period_zh(t)
            met = quota.min - round(shortfall)
            findings.append(
                Finding(
                    f"{quota.label(q)} {when}: at most {met} of the required "
                    f"{quota.min} can be met together with the other quotas, balance rules and caps",
                    f"{words.quota_zh(quota, q)}（{when_zh}）：在满足其他名额、均衡规则和数量上限的同时，"
                    f"要求的{quota.min}家最多只能达到{met}家",
                )
            )
    return findings or [
        Finding(
            "the quotas, balance rules and caps cannot all hold together",
            "各项名额、均衡规则和数量上限无法同时满足",
        )
    ]
