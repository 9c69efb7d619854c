"""The integer programme in Pyomo: one binary per option, one small function per rule family.

Sets and names follow DESIGN.md: ``m.OPTIONS`` indexes (candidate, programme, level, year)
choices, ``m.designate[o]`` is 1 when option o is chosen. Each ``add_*`` function states
its constraint in words and in maths. The builder is a pure function of the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
import pyomo.environ as pyo
from pyomo.core.expr.numeric_expr import LinearExpression

from .options import AllocationProblem

HORIZON = "horizon"


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


def _groups(options: pd.DataFrame, keys: list[str]) -> dict[tuple, np.ndarray]:
    """Option indices grouped by ``keys``, as arrays, in key order."""
    if options.empty:
        return {}
    grouped = options.groupby(keys, sort=True).indices
    return {k if isinstance(k, tuple) else (k,): v for k, v in grouped.items()}


def add_designation_variables(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """designate[o] ∈ {0, 1} for every option o: binaries exist only where eligible."""
    m.OPTIONS = pyo.RangeSet(0, problem.size - 1) if problem.size else pyo.Set(initialize=[])
    m.designate = pyo.Var(m.OPTIONS, domain=pyo.Binary)
    # The variables as an array, for building expressions by index arrays (not a component).
    m.designate_array = np.empty(problem.size, dtype=object)
    m.designate_array[:] = list(m.designate.values())


def add_one_designation_per_matter(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """No stacking (就高不重复): at most one designation per candidate per matter.

    stacking = "highest":  Σ_{p ∈ m, l, t} designate[c,p,l,t] ≤ 1   for every candidate c, matter m
    stacking = "all":      Σ_t designate[c,p,l,t] ≤ 1              for every c, p, l
    (a level is never conferred twice on the same holder).
    """
    keys = (
        ["candidate", "matter"]
        if problem.policy.stacking == "highest"
        else ["candidate", "programme", "level"]
    )
    groups = {k: v for k, v in _groups(problem.options, keys).items() if len(v) > 1}
    m.MATTER_GROUPS = pyo.Set(initialize=list(groups), dimen=len(keys))
    m.one_per_matter = pyo.Constraint(
        m.MATTER_GROUPS, rule=lambda m, *key: _linear(m, groups[key]) <= 1
    )


def add_candidate_year_cap(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """A cap per candidate per year: Σ_{p,l} designate[c,p,l,t] ≤ cap for every c, t."""
    cap = problem.settings.cap_per_candidate_per_year or problem.policy.cap_per_candidate_per_year
    groups = {}
    if cap is not None:
        groups = {
            k: v for k, v in _groups(problem.options, ["candidate", "year"]).items() if len(v) > cap
        }
    m.CANDIDATE_YEARS = pyo.Set(initialize=list(groups), dimen=2)
    m.candidate_year_cap = pyo.Constraint(
        m.CANDIDATE_YEARS, rule=lambda m, c, t: _linear(m, groups[(c, t)]) <= cap
    )


def add_budget_limits(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """Yearly budgets, nominations at expected cost (amount × chance of conferral).

    pay_{o,t} is what option o costs in year t: its amount in its own year, and its later
    payouts (e.g. a three-year tax rebate) in the years after.

    without carry-over:  Σ_o pay_{o,t} · designate[o] ≤ B_t                 for every year t
    with carry-over:     Σ_o Σ_{s ≤ t} pay_{o,s} · designate[o] ≤ Σ_{s ≤ t} B_s
    horizon total:       Σ_o Σ_{t in horizon} pay_{o,t} · designate[o] ≤ B_total
    (payouts falling after the horizon are commitments outside these rows.)
    """
    budget = problem.budget
    years = [t for t in problem.years if t in budget.per_year]
    m.BUDGET_YEARS = pyo.Set(initialize=years)

    def limit(m, t):
        if budget.carry_over:
            chosen, cost = problem.cost_within([s for s in problem.years if s <= t])
            cap = sum(budget.per_year[s] for s in years if s <= t)
        else:
            chosen, cost = problem.cost_within([t])
            cap = budget.per_year[t]
        if len(chosen) == 0 or cost.sum() <= float(cap):
            return pyo.Constraint.Skip  # cannot bind: leave it out of the model
        return _linear(m, chosen, cost) <= float(cap)

    m.budget_limit = pyo.Constraint(m.BUDGET_YEARS, rule=limit)
    m.budget_total = pyo.ConstraintList()
    if budget.total is not None:
        chosen, cost = problem.cost_within(problem.years)
        if cost.sum() > float(budget.total):
            m.budget_total.add(_linear(m, chosen, cost) <= float(budget.total))


def quota_scopes(problem: AllocationProblem) -> list[tuple[int, object, np.ndarray]]:
    """(quota index, year or HORIZON, option indices it counts) for every quota row."""
    options = problem.options
    programme = options["programme"].to_numpy(dtype=object)
    level = options["level"].to_numpy(dtype=object)
    year = options["year"].to_numpy()
    scopes: list[tuple[int, object, np.ndarray]] = []
    for q, quota in enumerate(problem.policy.quotas):
        mask = np.ones(len(options), dtype=bool)
        if quota.programmes is not None:
            mask &= np.isin(programme, quota.programmes)
        if quota.levels is not None:
            mask &= np.isin(level, [lv.value for lv in quota.levels])
        years = [t for t in (quota.years or problem.years) if t in problem.years]
        if quota.per == "year":
            for t in years:
                scopes.append((q, t, np.flatnonzero(mask & (year == t))))
        else:
            scopes.append((q, HORIZON, np.flatnonzero(mask & np.isin(year, years))))
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


def add_balance(m: pyo.ConcreteModel, problem: AllocationProblem) -> None:
    """Spread over districts or sectors, for each balance rule b, group g, period t:

    Σ_{o ∈ g} designate[o] ≤ share_b · Σ_{o ∈ scope(b)} designate[o]    (max_share)
    Σ_{o ∈ g} designate[o] ≤ count_b                                   (max_count)
    """
    options = problem.options
    rows: dict[tuple, tuple[np.ndarray, np.ndarray, float | None, int | None]] = {}
    for b, rule in enumerate(problem.policy.balance):
        mask = np.ones(len(options), dtype=bool)
        if rule.programmes is not None:
            mask &= options["programme"].isin(rule.programmes).to_numpy()
        if rule.levels is not None:
            mask &= options["level"].isin([lv.value for lv in rule.levels]).to_numpy()
        group_of = problem.candidates[rule.by].to_numpy()[options["candidate"].to_numpy()]
        periods = problem.years if rule.per == "year" else [HORIZON]
        for t in periods:
            in_period = mask if t == HORIZON else mask & (options["year"].to_numpy() == t)
            scope = np.flatnonzero(in_period)
            for group in sorted({str(g) for g in group_of[scope]}):
                members = scope[group_of[scope].astype(str) == group]
                rows[(b, t, group)] = (members, scope, rule.max_share, rule.max_count)
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

    merit:    maximise Σ weight_l · score;   ties → lower spend, then earlier candidates
    count:    maximise Σ 1;                  ties → higher merit, then lower spend
    min_cost: minimise Σ cost (maximise −cost); ties → higher merit, then earlier candidates
    """
    options = problem.options
    n = len(options)
    cost = options["expected_cost"].to_numpy(dtype=float)
    merit = options["merit"].to_numpy(dtype=float)
    # Options are sorted by candidate (file order), programme, level and year, so a lower
    # index is "earlier in the candidate table", with a fixed order within a candidate.
    order = np.arange(n, dtype=float)
    cheap = 1.0 - cost / cost.max() if n and cost.max() > 0 else np.ones(n)
    good = merit / merit.max() if n and merit.max() > 0 else np.zeros(n)
    early = 1.0 - order / (n + 1)
    if objective == "merit":
        return merit, 0.9 * cheap + 0.1 * early
    if objective == "count":
        return np.ones(n), 0.9 * good + 0.1 * cheap
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
    most_designations = max(1, problem.options.groupby(["candidate", "matter"]).ngroups)
    return _resolution(primary) / (2.0 * (most_designations + 1))


def set_objective(m: pyo.ConcreteModel, problem: AllocationProblem, objective: str) -> None:
    """maximise Σ_o (primary_o + ε · bonus_o) · designate[o]  (see objective_coefficients)."""
    primary, bonus = objective_coefficients(problem, objective)
    epsilon = tie_break_weight(problem, primary)
    m.tie_break_epsilon = epsilon
    coefficients = primary + epsilon * bonus
    m.value = pyo.Objective(expr=_linear(m, range(problem.size), coefficients), sense=pyo.maximize)


def set_shortfall_objective(m: pyo.ConcreteModel) -> None:
    """minimise Σ shortfall[q, t]: how far the quotas are from being met."""
    m.value = pyo.Objective(expr=sum(m.quota_shortfall.values()), sense=pyo.minimize)


def build_model(
    problem: AllocationProblem,
    objective: str | None = None,
    with_budget: bool = True,
    elastic_quotas: bool = False,
) -> pyo.ConcreteModel:
    """Build the allocation programme for ``problem``.

    ``with_budget=False`` drops the budget limits (to measure the budget the rules need);
    ``elastic_quotas=True`` measures quota shortfalls instead of maximising the objective.
    """
    m = pyo.ConcreteModel(name=f"allocation {problem.policy.id}")
    add_designation_variables(m, problem)
    add_one_designation_per_matter(m, problem)
    add_candidate_year_cap(m, problem)
    if with_budget:
        add_budget_limits(m, problem)
    add_quotas(m, problem, elastic=elastic_quotas)
    add_balance(m, problem)
    if elastic_quotas:
        set_shortfall_objective(m)
    else:
        set_objective(m, problem, objective or problem.settings.objective)
    return m
