"""Explanations in the user's terms: why each candidate got what it got, why a plan is impossible."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from decimal import Decimal

import numpy as np
import pandas as pd

from .budget_risk import HORIZON_TOTAL, RISK_MARGIN, budget_rows, payment_table, plan_risk, to_wan
from .checks import expected_spend
from .options import AllocationProblem
from .programme import HORIZON, build_model, payment_tags, quota_scopes
from .solve import solve_model

OUTCOMES = ("selected", "ineligible", "out_of_budget", "outranked", "not_needed")
VERB = {"discretionary": "designated", "nomination": "nominated for", "entitlement": "entitled to"}


def _fmt(amount: Decimal | float) -> str:
    value = Decimal(str(amount)).quantize(Decimal("0.01")).normalize()
    return f"{value:f}万元"


def candidate_reasons(problem: AllocationProblem, chosen: np.ndarray) -> pd.DataFrame:
    """One row per candidate: outcome (selected / ineligible / out_of_budget / outranked /
    not_needed) and a sentence saying why, naming the rule, quota or budget involved."""
    options = problem.options
    candidates = problem.candidates
    policy = problem.policy
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
    total_left = None if budget.total is None else budget.total - sum(spend.values())

    quota_full: dict[int, list[str]] = defaultdict(list)
    for q, t, scope in quota_scopes(problem):
        quota = policy.quotas[q]
        if quota.max is not None and sum(1 for o in scope if o in selected) >= quota.max:
            for o in scope:
                quota_full[int(o)].append(
                    f"{quota.label(q)}{'' if t == HORIZON else f' in {t}'} is full"
                )
    lowest_selected = {}
    if len(chosen):
        rows = options.iloc[chosen]
        lowest_selected = rows.groupby(["programme", "year"])["merit"].min().to_dict()

    risk_check = _overrun_check(problem, chosen)
    by_candidate = options.groupby("candidate").indices
    # What was set aside for each candidate, as sentences made in one pass over the
    # exclusions (not a frame per candidate): the first reason per programme for those
    # with no option at all, and the tiers 就高不重复 set aside for those selected.
    ineligible_detail: dict[int, str] = {}
    stacked_aside: dict[int, list[str]] = {}
    exclusions = problem.exclusions
    if len(exclusions):
        firsts = exclusions.drop_duplicates(subset=["candidate", "programme"])
        for c, programme, reason in zip(
            firsts["candidate"], firsts["programme"], firsts["reason"], strict=True
        ):
            part = f"{programme}: {reason}"
            ineligible_detail[c] = (
                f"{ineligible_detail[c]}; {part}" if c in ineligible_detail else part
            )
        stacked = exclusions[exclusions["reason"].astype(str).str.startswith("就高不重复")]
        for c, programme, level in zip(
            stacked["candidate"], stacked["programme"], stacked["level"], strict=True
        ):
            stacked_aside.setdefault(c, []).append(f"{programme} {level}")
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
    merit_of = options["merit"].to_numpy(dtype=float)
    rank_of = options["level_rank"].to_numpy()
    score_of = options["score"].to_numpy(dtype=float)
    expected_of = options["expected_cost"].to_numpy(dtype=float)
    tier_of = np.char.add(np.char.add(programme_of.astype(str), " "), level_of.astype(str))
    ids, names = candidates["id"].to_numpy(), candidates["name"].to_numpy()
    records = []
    for position, c in enumerate(candidates.index):
        own = by_candidate.get(c, np.array([], dtype=int))
        won = [o for o in own if o in selected]
        record = {"candidate_id": ids[position], "name": names[position]}
        if won:
            parts = []
            for o in won:
                kind = VERB[decision_of[o]]
                if origin_of[o] >= 0:
                    a = int(origin_of[o])
                    kind = f"upgraded from {programme_of[a]} {level_of[a]} ({year_of[a]}), {kind}"
                chance = "" if chance_of[o] >= 1 else f", paid with chance {chance_of[o]:g}"
                parts.append(
                    f"{kind} {programme_of[o]} at {level_of[o]} in {year_of[o]} "
                    f"({_fmt(cost_of[o])}{chance})"
                )
            matters = set(matter_of[won])
            won_tiers = set(tier_of[won])
            aside = sorted(
                {
                    tier_of[o]
                    for o in own
                    if o not in selected
                    and matter_of[o] in matters
                    and origin_of[o] < 0
                    and tier_of[o] not in won_tiers
                }
            )
            aside += stacked_aside.get(c, [])
            if aside:
                parts.append(
                    "set aside (就高不重复, one award per matter): " + ", ".join(sorted(set(aside)))
                )
            records.append({**record, "outcome": "selected", "detail": "; ".join(parts)})
            continue
        if len(own) == 0:
            detail = ineligible_detail.get(c, "no programme it may apply for")
            records.append({**record, "outcome": "ineligible", "detail": detail})
            continue
        best = max(own, key=lambda o: (merit_of[o], -rank_of[o]))
        row = {"programme": programme_of[best], "level": level_of[best], "score": score_of[best]}
        cost = Decimal(str(expected_of[best]))
        year = int(year_of[best])
        cheapest = min(own, key=lambda o: expected_of[o])
        cheapest_cost = Decimal(str(expected_of[cheapest]))
        cheapest_year = int(year_of[cheapest])
        year_left = left.get(cheapest_year)
        if (year_left is not None and cheapest_cost > year_left + Decimal("0.0001")) or (
            total_left is not None and cheapest_cost > total_left + Decimal("0.0001")
        ):
            room = year_left if year_left is not None else total_left
            detail = (
                f"its cheapest award ({programme_of[cheapest]}"
                f" {level_of[cheapest]}, {cheapest_year}) costs {_fmt(cheapest_cost)}; "
                f"only {_fmt(max(room, Decimal(0)))} is left"
            )
            floor = lowest_selected.get((row["programme"], year))
            if floor is not None:
                detail += f"; its score {row['score']:g} vs lowest selected {floor:g}"
            records.append({**record, "outcome": "out_of_budget", "detail": detail})
            continue
        risky = risk_check(int(cheapest)) if risk_check is not None else None
        if risky:
            floor = lowest_selected.get((row["programme"], year))
            detail = (
                f"its cheapest award ({programme_of[cheapest]} "
                f"{level_of[cheapest]}, {cheapest_year}) fits the money expected, but " + risky
            )
            if floor is not None:
                detail += f"; its score {row['score']:g} vs lowest selected {floor:g}"
            records.append({**record, "outcome": "out_of_budget", "detail": detail})
            continue
        full = quota_full.get(int(best)) or quota_full.get(int(cheapest))
        if full:
            floor = lowest_selected.get((row["programme"], year))
            detail = f"{full[0]}"
            if floor is not None:
                detail += f"; its score {row['score']:g} vs lowest selected {floor:g}"
            records.append({**record, "outcome": "outranked", "detail": detail})
            continue
        if problem.settings.objective == "min_cost":
            records.append(
                {
                    **record,
                    "outcome": "not_needed",
                    "detail": "the cheapest plan meeting every quota does without it",
                }
            )
            continue
        records.append(
            {
                **record,
                "outcome": "outranked",
                "detail": f"a balance, cap or stacking rule binds (best option {row['programme']} "
                f"{row['level']} {year}, cost {_fmt(cost)})",
            }
        )
    return pd.DataFrame.from_records(records, columns=["candidate_id", "name", "outcome", "detail"])


def _overrun_check(problem: AllocationProblem, chosen: np.ndarray):
    """With an overrun bound: a function saying, for an option left out, whether adding it
    to the plan would take a budget row's overrun chance above the bound (a sentence, or
    None). Options that pay alike with the same chance share the answer (computed once)."""
    alpha = problem.settings.overrun_risk
    if alpha is None or problem.budget.unlimited:
        return None
    table = payment_table(problem)
    base = plan_risk(problem, chosen, table).overrun
    tags = payment_tags(problem)
    cache: dict[float, str | None] = {}
    chosen = np.asarray(chosen, dtype=int)
    origin = problem.options["from_option"].to_numpy()

    def check(option: int) -> str | None:
        tag = float(tags[option])
        if tag not in cache:
            plan = np.union1d(chosen, [option])
            if origin[option] >= 0:  # a chain replaces its first designation
                plan = np.setdiff1d(plan, [origin[option]])
            after = plan_risk(problem, plan, table).overrun
            over = [
                (label, after[label])
                for label in after
                if label != "any_year" and after[label] > alpha + 1e-12
            ]
            cache[tag] = (
                None
                if not over
                else "adding it would take "
                + ", ".join(
                    f"{_row_name(label)}'s overrun chance from {base[label]:.1%} to {p:.1%}"
                    for label, p in over
                )
                + f", above the bound {alpha:g}"
            )
        return cache[tag]

    return check


def obligations_beyond_budget(problem: AllocationProblem) -> list[str]:
    """Why the obligations alone (entitlements, paid whatever the plan) break the budget:
    per budget row, their expected cost against the money, naming the largest; or, with an
    overrun bound, their chance of overrunning against it. Empty when they fit."""
    options = problem.options
    forced = np.flatnonzero(options["forced"].to_numpy(dtype=bool))
    if len(forced) == 0 or problem.budget.unlimited:
        return []
    table = payment_table(problem)
    rows = budget_rows(problem)
    sure, hanging = table.within(rows)
    findings: list[str] = []
    for r, row in enumerate(rows):
        expected = sure[forced, r] + hanging[forced, r] * table.probability[forced]
        need = Decimal(str(round(float(expected.sum()) / 1e4, 4)))
        money = to_wan(row.budget)
        if need > money:
            largest = forced[np.argsort(-expected, kind="stable")[:3]]
            named = ", ".join(
                f"{options.at[o, 'candidate_id']} {options.at[o, 'programme']} "
                f"{options.at[o, 'level']} ({_fmt(options.at[o, 'cost'])}"
                + (
                    ""
                    if options.at[o, "probability"] >= 1
                    else f" × chance {options.at[o, 'probability']:g}"
                )
                + ")"
                for o in largest
            )
            findings.append(
                f"{_row_name(row.label)}: obligations alone (entitlements the city must pay) "
                f"are expected to cost {_fmt(need)} against a budget of {_fmt(money)} "
                f"(over by {_fmt(need - money)}); the largest: {named}"
            )
    alpha = problem.settings.overrun_risk
    if findings or alpha is None:
        return findings
    risk = plan_risk(problem, forced, table)
    for row in rows:
        chance = risk.overrun.get(row.label, 0.0)
        if chance > alpha - RISK_MARGIN:
            findings.append(
                f"{_row_name(row.label)}: obligations alone overrun the budget of "
                f"{_fmt(to_wan(row.budget))} with chance {chance:.4%}, above the bound "
                f"{alpha:g} (--overrun-risk): no plan can meet it"
            )
    return findings


def _row_name(label: str) -> str:
    return "the horizon total" if label == HORIZON_TOTAL else label


def _overrun_bound_findings(problem: AllocationProblem, settings) -> list[str]:
    """When plans meet every rule at expected cost but none meets the overrun bound: the
    cheapest such plan's chance of overrunning, year by year, against the bound."""
    alpha = settings.overrun_risk
    expected_only = replace(problem, settings=settings.model_copy(update={"overrun_risk": None}))
    cheapest = solve_model(build_model(expected_only), expected_only.settings)
    if not cheapest.has_solution:
        return []  # the expected budgets already fail: the steps below say why
    risk = plan_risk(problem, cheapest.chosen)
    rows = {label: chance for label, chance in risk.overrun.items() if label != "any_year"}
    over = [
        f"{_row_name(label)} {chance:.2%}"
        for label, chance in rows.items()
        if chance > alpha - RISK_MARGIN
    ] or [f"{_row_name(label)} {chance:.2%}" for label, chance in rows.items() if chance > 0]
    minimums = "; ".join(q.label(i) for i, q in enumerate(problem.policy.quotas) if q.min)
    return [
        f"plans meeting every rule fit the budgets at expected cost, but none was found whose "
        f"conferred awards overrun a year's budget with chance at most {alpha:g} "
        f"(--overrun-risk): the cheapest such plan overruns with chance "
        f"{', '.join(over) or 'none'}"
        + (f", with the minimum quotas ({minimums}) to meet" if minimums else "")
        + "; raise the budget or the bound, or lower the quotas"
    ]


def diagnose_infeasible(problem: AllocationProblem) -> list[str]:
    """Why no plan satisfies every rule, in sentences naming quotas and money.

    1. a minimum quota with fewer eligible candidates than it asks for;
    2. with an overrun bound, plans that fit at expected cost but overrun too often;
    3. otherwise, the cheapest plan meeting every rule but the budget, compared to the budget;
    4. otherwise, the quotas that conflict with each other, by how much each falls short.
    """
    policy = problem.policy
    options = problem.options
    findings: list[str] = []
    for q, t, scope in quota_scopes(problem):
        quota = policy.quotas[q]
        if not quota.min:
            continue
        possible = options.iloc[scope].groupby(["candidate", "matter"]).ngroups if len(scope) else 0
        if possible < quota.min:
            when = "over the horizon" if t == HORIZON else f"in {t}"
            findings.append(
                f"{quota.label(q)} needs {quota.min} designations {when} but only {possible} "
                f"eligible candidate(s) could fill it"
                + (f" ({quota.reference})" if quota.reference else "")
            )
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
    no_budget = solve_model(build_model(relaxed, with_budget=False), settings)
    if no_budget.has_solution:
        need = expected_spend(problem, no_budget.chosen)
        minimums = "; ".join(q.label(i) for i, q in enumerate(policy.quotas) if q.min) or "none"
        budget = problem.budget
        for t in problem.years:
            if t in budget.per_year and need[t] > budget.per_year[t]:
                findings.append(
                    f"{t}: meeting the minimum quotas ({minimums}) costs at least {_fmt(need[t])} in the cheapest plan "
                    f"found, against a budget of {_fmt(budget.per_year[t])} "
                    f"(short by {_fmt(need[t] - budget.per_year[t])})"
                )
        total_need = sum(need.values())
        if budget.total is not None and total_need > budget.total:
            findings.append(
                f"the horizon needs at least {_fmt(total_need)} against a total budget of "
                f"{_fmt(budget.total)} (short by {_fmt(total_need - budget.total)})"
            )
        if not findings:
            findings.append(
                "the budget in total would suffice, but not in the years the quotas fall; "
                f"the cheapest plan spends {', '.join(f'{t}: {_fmt(v)}' for t, v in need.items())}"
            )
        return findings

    model = build_model(relaxed, with_budget=False, elastic_quotas=True)
    if not solve_model(model, settings).has_solution:
        return ["the rules conflict even without quotas and budget (check balance rules and caps)"]
    for q, t in model.QUOTA_MIN:
        shortfall = model.quota_shortfall[q, t].value or 0.0
        if shortfall > 0.5:
            quota = policy.quotas[q]
            when = "over the horizon" if t == HORIZON else f"in {t}"
            findings.append(
                f"{quota.label(q)} {when}: at most {quota.min - round(shortfall)} of the required "
                f"{quota.min} can be met together with the other quotas, balance rules and caps"
            )
    return findings or ["the quotas, balance rules and caps cannot all hold together"]
