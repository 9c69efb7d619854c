"""The integer programme in Pyomo: one binary per option, one small function per rule family.

Sets and names follow docs/design.md: ``m.OPTIONS`` indexes (candidate, programme, level, year)
choices, ``m.designate[o]`` is 1 when option o is chosen. Each ``add_*`` function states
its constraint in words and in maths. The builder is a pure function of the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyomo.core as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .budget_risk import budget_rows
from .option_groups import Scopes, group_numbers, index_groups, sorted_groups
from .options import AllocationProblem

HORIZON = "horizon"


def period_zh(period: object) -> str:
    """A quota's or balance rule's period in Chinese: 2025年, or 整个期间 for ``HORIZON``."""
    return "整个期间" if period == HORIZON else f"{period}年"


# The row blocks that code outside this module treats by kind, declared here where the rows
# are built (as PyPSA declares its constraints by name): the HiGHS layer, the frontier and
# the explanations find rows through ``row_block``, never by attribute names of their own.
# A new rule whose rows are money (paid out of a budget) belongs in "budget"; one that lets
# a candidate hold one designation per matter, in "stacking".
ROW_BLOCKS: dict[str, tuple[str, ...]] = {
    "budget": ("budget_limit", "budget_total"),  # money against the budget (add_budget_limits)
    "risk_load": ("risk_load",),  # budget rows loaded for the overrun bound (add_risk_loads)
    "stacking": ("one_per_matter", "obligation"),  # 就高不重复 and obligations
    "cap": ("candidate_year_cap",),
    "quota": ("quota_min", "quota_max"),
    "balance": ("balance_share", "balance_count"),
}


def row_block(m: pyo.ConcreteModel, block: str) -> list:
    """The constraints of row block ``block`` (``ROW_BLOCKS``) that model ``m`` holds, in
    declaration order; empty when it holds none (e.g. no budget). An unknown block is a
    programming error and raises KeyError."""
    return [con for name in ROW_BLOCKS[block] for con in getattr(m, name, {}).values()]


def _linear(m: pyo.ConcreteModel, indices: Sequence[int], coefs: Iterable[float] | None = None):
    """Σ coef_o · designate[o] over ``indices`` as one flat linear expression.

    Built from the variables directly (no per-term Python objects) where coefficients are
    1, and from few coefficient groups where they repeat (budgets: 20, 50, 150 万元): term
    objects are what made the first build of a 10,000-candidate model take seconds.
    """
    variables = m.designate_array[np.asarray(indices, dtype=int)]
    if coefs is None:
        return LinearExpression(list(variables))
    coefficients = np.asarray(
        list(coefs) if not isinstance(coefs, np.ndarray) else coefs, dtype=float
    )
    distinct = np.unique(coefficients)
    if len(distinct) <= 16:
        return sum(
            float(c) * LinearExpression(list(variables[coefficients == c]))
            for c in distinct
            if c != 0
        )
    return LinearExpression(
        constant=0.0, linear_coefs=coefficients.tolist(), linear_vars=list(variables)
    )


def add_designation_variables(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """designate[o] ∈ {0, 1} for every option o: binaries exist only where eligible.

    An entitlement is an obligation: designate[o] = 1 (its lower bound), in every plan —
    or, where it may be upgraded inside the horizon, it or one of its upgrade chains
    (``add_obligations``).
    """
    m.OPTIONS = pyo.RangeSet(0, problem.size - 1) if problem.size else pyo.Set(initialize=[])
    m.designate = pyo.Var(m.OPTIONS, domain=pyo.Binary)
    # The variables as an array, for building expressions by index arrays (not a component).
    m.designate_array = np.empty(problem.size, dtype=object)
    m.designate_array[:] = list(m.designate.values())
    options = problem.options
    forced = options["forced"].to_numpy(dtype=bool)
    upgraded = np.zeros(problem.size, dtype=bool)
    upgraded[options["from_option"].to_numpy()[options["from_option"].to_numpy() >= 0]] = True
    m.forced_array = forced & ~upgraded
    m.class_tags = payment_tags(problem)
    for o in np.flatnonzero(m.forced_array):
        m.designate[int(o)].setlb(1)


def payment_tags(problem: AllocationProblem) -> np.ndarray:
    """A number per option naming what it pays if conferred, when, and with which chance:
    options that pay alike in the budget rows may share a payment class
    (``payment_classes.payment_classes``) only if their tags agree, so that a class also agrees
    on which of its payments are certain and which hang on a conferral (risk_cuts.py)."""
    options = problem.options
    if options.empty:
        return np.zeros(0)
    later = problem.later_payments
    keys = pd.DataFrame(
        {
            "option": np.arange(len(options)),
            "chance": options["probability"].to_numpy(dtype=float),
            "own": problem.payments(expected=False)[2][: len(options)],
            "year": options["year"].to_numpy(),
        }
    )
    if len(later):
        spread = (
            later.assign(cost=later["cost"].astype(float))
            .pivot_table(index="option", columns=["year", "chance"], values="cost", aggfunc="sum")
            .fillna(0.0)
        )
        spread.columns = [f"{y}:{c}" for y, c in spread.columns]
        keys = keys.join(spread, on="option").fillna(0.0)
    columns = [c for c in keys.columns if c != "option"]
    numbers = group_numbers([keys[c].to_numpy() for c in columns])
    if numbers is None:
        return keys.groupby(columns, sort=True).ngroup().to_numpy(dtype=float)
    return numbers.astype(float)


def add_one_designation_per_matter(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """No stacking (就高不重复): at most one option per candidate per matter (an upgrade
    chain, ``decisions.upgrade_chains``, is one option making two designations).

    stacking = "highest":  Σ_{p ∈ m, l, t} designate[c,p,l,t] ≤ 1   for every candidate c, matter m
    stacking = "all":      Σ_t designate[c,p,l,t] ≤ 1              for every c, p, l
    (a level is never conferred twice on the same holder).
    """
    keys = (
        ["candidate", "matter"]
        if problem.policy.stacking == "highest"
        else ["candidate", "programme", "level"]
    )
    grouped = sorted_groups(problem.options, keys)
    if grouped is None:
        groups = {k: v for k, v in index_groups(problem.options, keys).items() if len(v) > 1}
        rows = {k: m.designate_array[v].tolist() for k, v in groups.items()}
    else:
        # The designations taken group after group in one step, each row a slice of them
        # (the same sum as _linear's, without indexing the array 2,000 times a round).
        names, order, bounds = grouped
        variables = m.designate_array[order].tolist()
        rows = {
            name: variables[start:end]
            for name, start, end in zip(names, bounds[:-1], bounds[1:], strict=True)
            if end - start > 1
        }
    m.MATTER_GROUPS = pyo.Set(initialize=list(rows), dimen=len(keys))
    m.one_per_matter = pyo.Constraint(
        m.MATTER_GROUPS, rule=lambda m, *key: LinearExpression(rows[key]) <= 1
    )


def add_obligations(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """An entitlement that may be upgraded inside the horizon is paid in every plan, on
    its own or as the first designation of one of its upgrade chains:

    designate[e] + Σ_{chains u from e} designate[u] = 1    for every such entitlement e
    (entitlements without upgrades are held at 1 by their bound).
    """
    options = problem.options
    origin = options["from_option"].to_numpy()
    forced = options["forced"].to_numpy(dtype=bool)
    rows = {
        int(e): np.concatenate([[e], np.flatnonzero(origin == e)])
        for e in np.flatnonzero(forced)
        if np.any(origin == e)
    }
    m.OBLIGATIONS = pyo.Set(initialize=sorted(rows))
    m.obligation = pyo.Constraint(m.OBLIGATIONS, rule=lambda m, e: _linear(m, rows[e]) == 1)


def add_candidate_year_cap(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """A cap per candidate per year: Σ designations of c in year t ≤ cap for every c, t
    (an upgrade chain counts in both its years)."""
    cap = problem.settings.cap_per_candidate_per_year or problem.policy.cap_per_candidate_per_year
    groups = {}
    if cap is not None:
        parts = problem.designations()
        grouped = index_groups(parts, ["candidate", "year"])
        option = parts["option"].to_numpy()
        groups = {k: option[v] for k, v in grouped.items() if len(v) > cap}
    m.CANDIDATE_YEARS = pyo.Set(initialize=list(groups), dimen=2)
    m.candidate_year_cap = pyo.Constraint(
        m.CANDIDATE_YEARS, rule=lambda m, c, t: _linear(m, groups[(c, t)]) <= cap
    )


def add_budget_limits(
    m: pyo.ConcreteModel, problem: AllocationProblem, elastic: bool = False, scaled: bool = False
) -> None:
    """Yearly budgets, nominations at expected cost (amount × chance of conferral).

    pay_{o,t} is what option o costs in year t: its amount in its own year, and its later
    payouts (e.g. a three-year tax rebate) in the years after.

    without carry-over:  Σ_o pay_{o,t} · designate[o] ≤ B_t                 for every year t
    with carry-over:     Σ_o Σ_{s ≤ t} pay_{o,s} · designate[o] ≤ Σ_{s ≤ t} B_s
    horizon total:       Σ_o Σ_{t in horizon} pay_{o,t} · designate[o] ≤ B_total
    (payouts falling after the horizon are commitments outside these rows.)

    With ``elastic`` every year's budget B_t gets extra money budget_extra[t] ≥ 0 (counted
    in every later row with carry-over) and the total budget budget_total_extra ≥ 0, so that
    the least money the other rules need beyond the budget can be measured
    (``set_extra_budget_objective``; the diagnosis of an infeasible problem). With ``scaled``
    every budget is budget_scale ≥ 0 times itself (Σ pay · designate ≤ budget_scale · B), so
    that the least multiple of all the budgets together the other rules need can be measured
    (``set_budget_scale_objective``; the budget frontier's quota line).
    """
    budget = problem.budget
    years = [t for t in problem.years if t in budget.per_year]
    m.BUDGET_YEARS = pyo.Set(initialize=years)
    if elastic:
        m.budget_extra = pyo.Var(m.BUDGET_YEARS, domain=pyo.NonNegativeReals)
        m.budget_total_extra = pyo.Var(domain=pyo.NonNegativeReals)
    if scaled:
        m.budget_scale = pyo.Var(domain=pyo.NonNegativeReals)

    def limit(m, t):
        if budget.carry_over:
            covered = [s for s in problem.years if s <= t]
            added = [s for s in years if s <= t]
        else:
            covered, added = [t], [t]
        cap = sum(budget.per_year[s] for s in added)
        chosen, cost = problem.cost_within(covered)
        _, most = problem.cost_within(covered, expected=False)
        if scaled and len(chosen):
            return _linear(m, chosen, cost) - float(cap) * m.budget_scale <= 0
        if len(chosen) == 0 or most.sum() <= float(cap):
            # Cannot bind, nor be overrun even if every conferral came: leave it out.
            return pyo.Constraint.Skip
        if elastic:
            extra = sum(m.budget_extra[s] for s in added)
            return _linear(m, chosen, cost) - extra <= float(cap)
        return _linear(m, chosen, cost) <= float(cap)

    m.budget_limit = pyo.Constraint(m.BUDGET_YEARS, rule=limit)
    m.budget_total = pyo.ConstraintList()
    if budget.total is not None:
        chosen, cost = problem.cost_within(problem.years)
        _, most = problem.cost_within(problem.years, expected=False)
        if scaled and len(chosen):
            spend = _linear(m, chosen, cost)
            m.budget_total.add(spend - float(budget.total) * m.budget_scale <= 0)
        elif most.sum() > float(budget.total):
            spend = _linear(m, chosen, cost)
            if elastic:
                spend = spend - m.budget_total_extra
            m.budget_total.add(spend <= float(budget.total))


def add_risk_loads(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """With an overrun bound, a second copy of every budget row that could be overrun,

    Σ_o (pay_{o,r} + λ_{o,r}) · designate[o] ≤ B_r      for every budget row r,

    whose loadings λ ≥ 0 the solver sets to find plans within the bound (``risk_loads.py``);
    built with λ = 0, so it first says no more than the budget row itself. Rows are indexed
    by the budget row's label ("2025", or "total").
    """
    rows = {}
    if problem.settings.overrun_risk is not None:
        for row in budget_rows(problem):
            chosen, cost = problem.cost_within(row.years)
            _, most = problem.cost_within(row.years, expected=False)
            if len(chosen) and most.sum() > row.budget / 1e4:
                rows[row.label] = (chosen, cost, row.budget / 1e4)
    m.RISK_ROWS = pyo.Set(initialize=list(rows))
    m.risk_load = pyo.Constraint(
        m.RISK_ROWS, rule=lambda m, r: _linear(m, rows[r][0], rows[r][1]) <= rows[r][2]
    )


def quota_scopes(problem: AllocationProblem) -> list[tuple[int, object, np.ndarray]]:
    """(quota index, year or HORIZON, option indices it counts) for every quota row.

    An option counts once in a row if any designation it makes falls in the row's scope: an
    upgrade chain counts in the year of each of its designations, and over the horizon once
    (a firm designated municipal and later upgraded counts once in a quota over both levels,
    once in a quota over each).
    """
    cached = problem.derived().get("quota_scopes")
    if cached is not None and cached[0] is problem.options and cached[1] is problem.policy:
        return cached[2]
    parts = problem.designations()
    option = parts["option"].to_numpy()
    year = parts["year"].to_numpy()
    scopes: list[tuple[int, object, np.ndarray]] = []
    in_scope = Scopes(parts)
    for q, quota in enumerate(problem.policy.quotas):
        mask = in_scope.mask(quota.programmes, quota.levels)
        years = [t for t in (quota.years or problem.years) if t in problem.years]
        if quota.per == "year":
            for t in years:
                scopes.append((q, t, np.unique(option[mask & (year == t)])))
        else:
            scopes.append((q, HORIZON, np.unique(option[mask & np.isin(year, years)])))
    # The build, the greedy plan, the checks and the explanations all ask: made once per
    # options table and policy (kept beside them: a problem with another table or policy,
    # as dataclasses.replace makes, remakes it).
    problem.derived()["quota_scopes"] = (problem.options, problem.policy, scopes)
    return scopes


def add_quotas(m: pyo.ConcreteModel, problem: AllocationProblem, elastic: bool = False) -> None:
    """Quotas: min_q ≤ Σ_{o ∈ scope(q, t)} designate[o] ≤ max_q for each quota q and year t
    (or once over the horizon).

    With ``elastic`` the minimums get a shortfall variable, Σ + shortfall[q,t] ≥ min_q,
    so that an impossible quota can be measured rather than only declared infeasible.
    """
    quotas = problem.policy.quotas
    scopes = {(q, t): idx for q, t, idx in quota_scopes(problem)}
    m.QUOTA_MIN = pyo.Set(initialize=[k for k in scopes if quotas[k[0]].min], dimen=2)
    m.QUOTA_MAX = pyo.Set(
        initialize=[
            k for k in scopes if quotas[k[0]].max is not None and len(scopes[k]) > quotas[k[0]].max
        ],
        dimen=2,
    )
    m.quota_shortfall = pyo.Var(
        m.QUOTA_MIN, domain=pyo.NonNegativeReals, bounds=(0, 0 if not elastic else None)
    )

    def at_least(m, q, t):
        return _linear(m, scopes[(q, t)]) + m.quota_shortfall[q, t] >= quotas[q].min

    m.quota_min = pyo.Constraint(m.QUOTA_MIN, rule=at_least)
    m.quota_max = pyo.Constraint(
        m.QUOTA_MAX, rule=lambda m, q, t: _linear(m, scopes[(q, t)]) <= quotas[q].max
    )


def balance_rows(
    problem: AllocationProblem,
) -> dict[tuple, tuple[np.ndarray, np.ndarray, float | None, int | None]]:
    """(rule, period, group) -> (options of the group, options of the rule's scope, max
    share, max count): an option is in a scope (or group) if a designation it makes is."""
    parts = problem.designations()
    option = parts["option"].to_numpy()
    year = parts["year"].to_numpy()
    rows: dict[tuple, tuple[np.ndarray, np.ndarray, float | None, int | None]] = {}
    in_scope = Scopes(parts)
    for b, rule in enumerate(problem.policy.balance):
        mask = in_scope.mask(rule.programmes, rule.levels)
        group_of = problem.candidates[rule.by].to_numpy()[parts["candidate"].to_numpy()]
        group_of = np.asarray([str(g) for g in group_of], dtype=object)
        periods = problem.years if rule.per == "year" else [HORIZON]
        for t in periods:
            in_period = mask if t == HORIZON else mask & (year == t)
            scope = np.unique(option[in_period])
            for group in sorted(set(group_of[in_period])):
                members = np.unique(option[in_period & (group_of == group)])
                rows[(b, t, group)] = (members, scope, rule.max_share, rule.max_count)
    return rows


def add_balance(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """Spread over districts or sectors, for each balance rule b, group g, period t:

    Σ_{o ∈ g} designate[o] ≤ share_b · Σ_{o ∈ scope(b)} designate[o]    (max_share)
    Σ_{o ∈ g} designate[o] ≤ count_b                                   (max_count)
    """
    rows = balance_rows(problem)
    m.BALANCE_GROUPS = pyo.Set(initialize=list(rows), dimen=3)

    def share_cap(m, b, t, g):
        members, scope, share, _ = rows[(b, t, g)]
        if share is None or share >= 1:
            return pyo.Constraint.Skip
        # Σ_g x − share · Σ_scope x ≤ 0, written as one expression over the scope.
        coefs = np.full(len(scope), -share)
        coefs[np.isin(scope, members)] += 1.0
        return _linear(m, scope, coefs) <= 0

    def count_cap(m, b, t, g):
        members, _, _, count = rows[(b, t, g)]
        if count is None or len(members) <= count:
            return pyo.Constraint.Skip
        return _linear(m, members) <= count

    m.balance_share = pyo.Constraint(m.BALANCE_GROUPS, rule=share_cap)
    m.balance_count = pyo.Constraint(m.BALANCE_GROUPS, rule=count_cap)


def objective_coefficients(
    problem: AllocationProblem, objective: str
) -> tuple[np.ndarray, np.ndarray]:
    """The primary objective per option (to maximise) and a tie-break bonus in [0, 1].

    merit:    maximise Σ chance · weight_l · score; ties → lower spend, then earlier candidates
    count:    maximise Σ designations;       ties → higher merit, then lower spend
    min_cost: minimise Σ cost (maximise −cost); ties → higher merit, then earlier candidates

    Cost is everything an option is expected to pay (later payouts included); an upgrade
    chain makes two designations and is worth its merit where it ends; an entitlement,
    paid in every plan, adds nothing to merit or count.
    """
    options = problem.options
    n = len(options)
    cost = problem.expected_costs()
    # Obligations are no choice of the city's: they add no merit and no count (their cost,
    # the same in every plan, stays in min_cost).
    forced = options["forced"].to_numpy(dtype=bool)
    chosen_freely = ~forced
    merit = options["merit"].to_numpy(dtype=float) * chosen_freely
    # A chain makes two designations, but the first of one from an entitlement is owed
    # anyway: only its upgrade is the city's choice.
    origin = options["from_option"].to_numpy()
    chain = origin >= 0
    first_chosen = np.zeros(n, dtype=bool)
    first_chosen[chain] = ~forced[origin[chain]]
    designations = (1.0 + first_chosen) * chosen_freely
    # Options are sorted by candidate (file order), programme, level and year, so a lower
    # index is "earlier in the candidate table", with a fixed order within a candidate.
    order = np.arange(n, dtype=float)
    cheap = 1.0 - cost / cost.max() if n and cost.max() > 0 else np.ones(n)
    good = merit / merit.max() if n and merit.max() > 0 else np.zeros(n)
    early = 1.0 - order / (n + 1)
    if objective == "merit":
        return merit, 0.9 * cheap + 0.1 * early
    if objective == "count":
        return designations, 0.9 * good + 0.1 * cheap
    if objective == "min_cost":
        return -cost, 0.9 * good + 0.1 * early
    raise ValueError(f"unknown objective '{objective}'")


def _resolution(values: np.ndarray) -> float:
    """The smallest step two plans' objectives can differ by, if values sit on a decimal grid."""
    values = np.abs(values[values != 0])
    if len(values) == 0:
        return 1.0
    for decimals in range(0, 5):
        step = 10.0**-decimals
        if np.allclose(values / step, np.round(values / step), rtol=0, atol=1e-9):
            return step
    return 1e-6 * float(values.max())


def tie_break_weight(problem: AllocationProblem, primary: np.ndarray) -> float:
    """ε such that the whole tie-break bonus of any plan stays below half a primary step.

    The bonus is ≥ 0, so the solver's bound on (primary + ε·bonus) is still a valid bound on
    the primary objective, and the bonus can only decide between plans of equal primary value.
    """
    grouped = sorted_groups(problem.options, ["candidate", "matter"])
    groups = (
        len(grouped[0])
        if grouped is not None
        else problem.options.groupby(["candidate", "matter"]).ngroups
    )
    most_designations = max(1, groups)
    return _resolution(primary) / (2.0 * (most_designations + 1))


def set_objective(m: pyo.ConcreteModel, problem: AllocationProblem, objective: str) -> None:
    """maximise Σ_o (primary_o + ε · bonus_o) · designate[o]  (see objective_coefficients)."""
    primary, bonus = objective_coefficients(problem, objective)
    epsilon = tie_break_weight(problem, primary)
    m.tie_break_epsilon = epsilon
    coefficients = primary + epsilon * bonus
    m.value = pyo.Objective(expr=_linear(m, range(problem.size), coefficients), sense=pyo.maximize)


def set_extra_budget_objective(m: pyo.ConcreteModel) -> None:
    """minimise Σ budget_extra[t] + budget_total_extra: the least money beyond the budget
    that the other rules need (``add_budget_limits`` with ``elastic``)."""
    m.value = pyo.Objective(
        expr=sum(m.budget_extra.values()) + m.budget_total_extra, sense=pyo.minimize
    )


def set_budget_scale_objective(m: pyo.ConcreteModel) -> None:
    """minimise budget_scale: the least multiple of every budget at once that the other
    rules need (``add_budget_limits`` with ``scaled``)."""
    m.value = pyo.Objective(expr=m.budget_scale, sense=pyo.minimize)


def set_shortfall_objective(m: pyo.ConcreteModel) -> None:
    """minimise Σ shortfall[q, t]: how far the quotas are from being met."""
    m.value = pyo.Objective(expr=sum(m.quota_shortfall.values()), sense=pyo.minimize)


def build_model(
    problem: AllocationProblem,
    objective: str | None = None,
    with_budget: bool = True,
    elastic_quotas: bool = False,
    elastic_budget: bool = False,
    budget_scale: bool = False,
) -> pyo.ConcreteModel:
    """Build the allocation programme for ``problem``.

    ``with_budget=False`` drops the budget limits; ``elastic_budget=True`` measures the
    least money the other rules need beyond the budget, and ``elastic_quotas=True`` quota
    shortfalls, instead of maximising the objective (both: the diagnosis);
    ``budget_scale=True`` the least multiple of all the budgets at once they need.
    """
    m = pyo.ConcreteModel(name=f"allocation {problem.policy.id}")
    add_designation_variables(m, problem)
    add_one_designation_per_matter(m, problem)
    add_obligations(m, problem)
    add_candidate_year_cap(m, problem)
    if with_budget:
        add_budget_limits(m, problem, elastic=elastic_budget, scaled=budget_scale)
        if not elastic_budget and not budget_scale:
            add_risk_loads(m, problem)
    add_quotas(m, problem, elastic=elastic_quotas)
    add_balance(m, problem)
    if elastic_quotas:
        set_shortfall_objective(m)
    elif budget_scale:
        set_budget_scale_objective(m)
    elif elastic_budget:
        set_extra_budget_objective(m)
    else:
        set_objective(m, problem, objective or problem.settings.objective)
    return m
