"""validate → build → solve → extract: one allocation, with its greedy twin and explanations."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from . import thresholds
from .budget_risk import PlanRisk, plan_risk
from .checks import expected_spend, plan_violations
from .diagnosis import diagnose_infeasible, obligations_beyond_budget
from .explain import REASON_COLUMNS, candidate_reasons
from .greedy import greedy_plan
from .highs_model import HighsModel
from .options import AllocationProblem
from .plan_tables import budget_table, designation_count, spend_by_tier
from .programme import build_model, objective_coefficients
from .solve import PLAN_STATUSES, SolveOutcome, solve_model
from .status import STATUS_ZH, Status
from .threshold_prices import relaxation_prices
from .threshold_settle import settle
from .threshold_words import threshold_sentences
from .thresholds import THRESHOLD_COLUMNS, estimate

log = logging.getLogger(__name__)

PLAN_COLUMNS = [
    "candidate_id",
    "name",
    "district",
    "sector",
    "programme",
    "programme_name",  # from the policy file, for people (programme is the id, for tools)
    "level",
    "year",
    "amount",
    "cost",
    "probability",
    "expected_cost",
    # with the later instalments (a tax rebate paid over three years): what the row costs
    # the city in all, if paid and as expected; cost and expected_cost are its own year's
    "total_cost",
    "expected_total_cost",
    "nomination",
    "decision",
    "upgrade_of",
    "score",
]


@dataclass
class PlanSummary:
    """A plan's headline numbers, comparable between the optimum and the greedy rule."""

    objective: float
    count: int
    spend: dict[int, Decimal]
    violations: list[str] = field(default_factory=list)
    chosen: np.ndarray = field(default_factory=lambda: np.array([], dtype=int), repr=False)

    def to_dict(self) -> dict:
        return {
            "objective": _tidy(self.objective),
            "count": self.count,
            "spend": {str(t): float(v) for t, v in self.spend.items()},
            "total_spend": float(sum(self.spend.values())),
            "violations": self.violations,
        }


@dataclass
class AllocationResult:
    """The answer to one allocation: status, plan, bound and gap, greedy plan, reasons,
    and the plan's money as a law (``risk``: overrun chances, percentiles, commitments)."""

    problem: AllocationProblem
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    seconds: float
    build_seconds: float  # Pyomo model and its compilation for HiGHS
    solve_seconds: float
    method: str  # how the solve concluded (solve.py: lp, lp+rounding, lp+counts, counts, mip)
    chosen: np.ndarray
    greedy: PlanSummary
    reasons: pd.DataFrame
    diagnosis: list[str]
    risk: PlanRisk | None = None
    # The diagnosis in Chinese, sentence by sentence (``diagnosis`` is in English).
    diagnosis_zh: list[str] = field(default_factory=list)
    # The best plan at expected cost, ignoring the overrun bound: its objective bounds
    # the bounded plan's from above, so their difference is the price of safety.
    expected_objective: float | None = None
    # Of ``seconds``: every candidate's reason and what it would have taken (the thresholds'
    # re-solves), which on a small table may take longer than the solve itself.
    explain_seconds: float = 0.0

    @property
    def spend(self) -> dict[int, Decimal]:
        return expected_spend(self.problem, self.chosen)

    @property
    def overrun(self) -> dict[str, float] | None:
        """Exact chance that each budget row (and any) is overrun; None without a budget."""
        if self.risk is None or not self.risk.overrun:
            return None
        return self.risk.overrun

    @property
    def selected(self) -> pd.DataFrame:
        """The plan, one row per designation or nomination, in candidate order: an upgrade
        chain gives two rows, its first designation and then the upgrade (``upgrade_of``
        naming the first as programme:level:year, ``cost`` what the upgrade pays)."""
        return self._designation_rows()[PLAN_COLUMNS]

    @property
    def decided(self) -> pd.DataFrame:
        """The rows of ``selected``, in its order, with only the options table's own columns
        (candidate_id, programme, level, amount, probability, decision, score, ...): what a
        simulated round reads, without the names, expected costs and upgrade labels a reader
        needs (those were a third of a round's Python after the solve)."""
        return self._designation_rows(named=False)

    @property
    def greedy_selected(self) -> pd.DataFrame:
        """The bureau's rank-by-score plan (``greedy.py``) in the form of ``selected``
        (empty when it was not made: ``allocate(explain=False)``)."""
        return self._designation_rows(self.greedy.chosen)[PLAN_COLUMNS]

    def _designation_rows(
        self, chosen: np.ndarray | None = None, named: bool = True
    ) -> pd.DataFrame:
        options = self.problem.options
        chosen = np.asarray(self.chosen if chosen is None else chosen, dtype=int)
        origin = options["from_option"].to_numpy()[chosen]
        firsts = origin[origin >= 0]
        index = np.concatenate([firsts, chosen])
        part = np.concatenate([np.zeros(len(firsts), int), np.ones(len(chosen), int)])
        owner = np.concatenate([chosen[origin >= 0], chosen])
        order = np.lexsort((part, owner))
        index, part, owner = index[order], part[order], owner[order]
        rows = options.iloc[index].reset_index(drop=True)
        if not named:
            return rows
        info = self.problem.candidates.loc[rows["candidate"], ["name", "district", "sector"]]
        plan = rows.join(info.reset_index(drop=True))
        plan["expected_cost"] = [
            c * Decimal(str(p)) for c, p in zip(plan["cost"], plan["probability"], strict=True)
        ]
        plan["option"] = owner
        plan["part"] = part
        plan["payments"] = self._payments_by_row(plan)  # by year, if paid (not a PLAN_COLUMN)
        totals = [Decimal(str(round(sum(paid.values()), 4))) for paid in plan["payments"]]
        plan["total_cost"] = totals
        plan["expected_total_cost"] = [
            t * Decimal(str(p)) for t, p in zip(totals, plan["probability"], strict=True)
        ]
        upgraded = options["from_option"].to_numpy()[owner]
        plan["upgrade_of"] = pd.Series(
            [
                None
                if u < 0 or k == 0
                else f"{options.at[int(u), 'programme']}:{options.at[int(u), 'level']}:"
                f"{options.at[int(u), 'year']}"
                for u, k in zip(upgraded, part, strict=True)
            ],
            dtype=object,
        )
        names = {p.id: p.name for p in self.problem.policy.programmes}
        plan["programme_name"] = [names.get(p, p) for p in plan["programme"]]
        return plan

    def workbook_tables(self) -> dict[str, pd.DataFrame]:
        """What the run's workbook shows beside the plan and the reasons
        (``results.export.write_plan_xlsx``): ``spend`` and ``greedy_spend`` (each plan's
        money by year, programme and level, ``plan_tables.spend_by_tier``; years after the
        horizon are its commitments), ``budget`` (``plan_tables.budget_table``) and
        ``greedy_plan`` (the rank-by-score plan, as ``selected``)."""
        return {
            "spend": spend_by_tier(self.problem, self.chosen),
            "greedy_spend": spend_by_tier(self.problem, self.greedy.chosen),
            "greedy_plan": self.greedy_selected,
            "budget": budget_table(self.problem),
        }

    def _payments_by_row(self, plan: pd.DataFrame) -> list[dict[str, float]]:
        """Each row of ``plan`` (``_designation_rows``, with its option and part): its
        payments by year (万元, if paid), its own year's and the later instalments'."""
        later = self.problem.later_payments
        mine: dict[tuple[int, int], dict[str, float]] = {}
        if len(later):
            rows = later[later["option"].isin(plan["option"])]
            for option, year, cost, part in zip(
                rows["option"], rows["year"], rows["cost"], rows["part"], strict=True
            ):
                key = (int(option), int(part))
                mine.setdefault(key, {})[str(int(year))] = float(cost)
        out = []
        for r in plan.itertuples():
            own = {str(int(r.year)): float(r.cost)}
            if r.part == 0:  # a chain's first designation: its payments sit on the chain
                out.append(dict(sorted(mine.get((int(r.option), 0), own).items())))
            else:
                out.append(dict(sorted({**own, **mine.get((int(r.option), 1), {})}.items())))
        return out

    def to_dict(self) -> dict:
        """A JSON-ready summary: the ``--json`` output of ``liangye allocate``."""
        selected = [
            {
                "candidate_id": r.candidate_id,
                "programme": r.programme,
                "level": r.level,
                "year": int(r.year),
                "amount": float(r.cost),
                "expected_amount": float(r.expected_cost),
                "total_amount": float(r.total_cost),
                "expected_total_amount": float(r.expected_total_cost),
                "nomination": bool(r.nomination),
                "decision": r.decision,
                "probability": float(r.probability),
                "payments": r.payments,
                "upgrade_of": r.upgrade_of,
                "score": float(r.score),
            }
            for r in self._designation_rows().itertuples()  # with its payments, made once
        ]
        risk = self.risk
        alpha = self.problem.settings.overrun_risk
        price = (
            None
            if self.expected_objective is None or self.objective is None
            else self.expected_objective - self.objective
        )
        if self.problem.settings.objective == "min_cost" and price is not None:
            price = -price  # the bounded plan costs more: the price is what it adds
        return {
            "policy": self.problem.policy.id,
            "objective_kind": self.problem.settings.objective,
            "status": self.status,
            "objective": _tidy(self.objective),
            "bound": _tidy(self.bound),
            "gap": self.gap,
            "seconds": round(self.seconds, 4),
            "build_seconds": round(self.build_seconds, 4),
            "solve_seconds": round(self.solve_seconds, 4),
            "explain_seconds": round(self.explain_seconds, 4),
            "method": self.method,
            "candidates": len(self.problem.candidates),
            "options": self.problem.size,
            "spend": {str(t): float(v) for t, v in self.spend.items()},
            "budget": {str(t): float(v) for t, v in self.problem.budget.per_year.items()},
            "budget_total": None
            if self.problem.budget.total is None
            else float(self.problem.budget.total),
            "overrun_risk": alpha,
            "overrun_probability": None if risk is None else dict(risk.overrun),
            "overrun_probability_exact": None if risk is None else risk.any_exact,
            # "any_year" is then the upper bound; this, the lower (None when exact)
            "overrun_probability_any_year_lower": None if risk is None else risk.any_lower,
            # and a fixed-seed sampling estimate between the two, with its standard error
            "overrun_probability_any_year_estimate": None
            if risk is None or risk.any_estimate is None
            else {"estimate": risk.any_estimate[0], "standard_error": risk.any_estimate[1]},
            "spend_p95": None if risk is None else {str(t): float(v) for t, v in risk.p95.items()},
            "commitments": None
            if risk is None
            else {str(t): float(v) for t, v in risk.commitments.items()},
            "commitments_if_conferred": None
            if risk is None
            else {str(t): float(v) for t, v in risk.commitments_if_conferred.items()},
            "expected_cost_objective": _tidy(self.expected_objective),
            "price_of_safety": _tidy(price),
            "greedy": self.greedy.to_dict(),
            "selected": selected,
            "diagnosis": self.diagnosis,
            "diagnosis_zh": self.diagnosis_zh,
            "notes": [note.en for note in self.problem.notes],
            "notes_zh": [note.zh for note in self.problem.notes],
            "outcomes": self.reasons["outcome"].value_counts().to_dict(),
            "thresholds_confirmed": int(self.reasons["threshold_confirmed"].sum())
            if "threshold_confirmed" in self.reasons
            else 0,
        }


def _tidy(value: float | None) -> float | None:
    """A sum of scores or money for the JSON without float noise (68801.29999999999 is
    68801.3): 6 decimals, far below any score's (0.1) or money's (1元) step."""
    return None if value is None else round(float(value), 6) + 0.0


def _no_plan(status: str) -> tuple[str, str] | None:
    """Why nothing was decided, in English and Chinese, when ``status`` has no plan."""
    if status in PLAN_STATUSES:
        return None
    if status == Status.INFEASIBLE:
        return (
            "no plan meets every rule (see the diagnosis): nothing was decided",
            "没有满足全部规则的方案（见诊断），未作决定",
        )
    return (
        f"no plan was found ({status}): nothing was decided; allow more time or work",
        f"未找到方案（{STATUS_ZH.get(status, status)}），未作决定；可放宽求解时间限制后重试",
    )


def plan_objective(problem: AllocationProblem, chosen: np.ndarray, objective: str) -> float:
    """The primary objective of a plan (total cost, positive, for min_cost)."""
    primary, _ = objective_coefficients(problem, objective)
    value = float(primary[chosen].sum()) if len(chosen) else 0.0
    # + 0.0: a plan spending nothing costs 0, not the -0.0 that negating 0.0 gives.
    return (-value if objective == "min_cost" else value) + 0.0


def bound_and_gap(
    outcome: SolveOutcome, objective: float, kind: str
) -> tuple[float | None, float | None]:
    """The proven bound on the objective (in the objective's own terms: ``kind`` min_cost
    is solved as a maximisation of its negative) and the relative gap of a plan of value
    ``objective``; (None, None) without a bound.

    The gap is measured as the solver measures it: the bound against the plan's objective
    with its tie-break bonus (worth less than half a step of the objective,
    programme.tie_break_weight), so "optimal" is always within the requested gap; measured
    against the bare objective the bonus could push a small objective's gap over it."""
    raw_bound = (
        outcome.solver_bound if outcome.solver_bound is not None else outcome.solver_objective
    )
    if raw_bound is None:
        return None, None
    bound = -raw_bound if kind == "min_cost" else raw_bound
    reached = outcome.solver_objective
    if reached is None:
        reached = -objective if kind == "min_cost" else objective
    gap = abs(raw_bound - reached) / max(abs(reached), 1e-9) if reached or raw_bound else 0.0
    return bound, gap


def allocate(
    problem: AllocationProblem,
    explain: bool = True,
    prove: bool = True,
    confirm_cases: int = 0,
    diagnose: bool = True,
    on_confirm: Callable[[int, int, str], None] | None = None,
) -> AllocationResult:
    """Solve the allocation and explain it. Never raises for an infeasible problem: the
    result says ``infeasible`` and ``diagnosis`` says why (obligations beyond the budget or
    too risky, quotas that cannot be met, money that is short).

    ``explain=False`` leaves out what only a reader needs (the reasons per candidate, what
    it would have taken, and the bureau's greedy plan beside); ``prove=False`` accepts a
    plan within the overrun bound without trying to prove it optimal (``solve_model``);
    ``diagnose=False`` leaves an infeasible result's ``diagnosis`` empty (saying why takes
    up to three more solves). A simulated round asks for none of them.

    With explanations, every candidate's thresholds (``thresholds.py``: the score needed,
    the extra budget, the margin of a selected one) are estimated from the relaxation, one
    more linear programme (left out past ``thresholds.ESTIMATE_LIMIT`` options), and settled
    by re-solving for as many candidates as a deterministic budget of work allows
    (``threshold_settle.py``: all of them on a small instance; none past
    ``threshold_settle.AUTO_LIMIT`` options, nor with an overrun bound); ``confirm_cases=N``
    settles the N left out closest to selection and the N selected closest to losing their
    place as well (each takes a few whole allocations: for the cases a report shows), and
    ``on_confirm(done, total, figure)`` is told as each of their figures is begun."""
    # The collector paused while the model is built, solved and explained (as Pyomo's
    # compiler pauses it, and as the simulation's rounds already did): a model is tens of
    # thousands of objects held in cycles (a Pyomo block holds itself), which otherwise go
    # through many young collections into the oldest generation, each collection walking
    # the whole heap; paused, they die young in the first collection after. The whole
    # allocate, one gen-0 collection after it included: the benchmark's tight and generous
    # families at 1,000 candidates 0.51-0.63 → 0.41-0.50 s, tight at 10,000 5.9 → 5.0 s
    # (peak memory 520 → 575 MB).
    with PauseGC():
        return _allocate(problem, explain, prove, confirm_cases, diagnose, on_confirm)


def _allocate(
    problem: AllocationProblem,
    explain: bool,
    prove: bool,
    confirm_cases: int,
    diagnose: bool,
    on_confirm: Callable[[int, int, str], None] | None = None,
) -> AllocationResult:
    """``allocate`` with the collector paused (see there)."""
    settings = problem.settings
    started = time.perf_counter()
    chosen = np.array([], dtype=int)
    objective = bound = gap = expected_objective = None
    build_seconds = solve_seconds = 0.0
    method = "obligations"
    findings = obligations_beyond_budget(problem)
    status = "infeasible"
    model = None
    risk: PlanRisk | None = None
    if not findings:
        model = build_model(problem)
        build_seconds = time.perf_counter() - started
        outcome = solve_model(model, settings, problem, prove=prove, load=False)
        build_seconds += outcome.compile_seconds
        solve_seconds = outcome.seconds
        method, status = outcome.method, outcome.status
        if outcome.has_solution:
            chosen = outcome.chosen
            risk = plan_risk(problem, chosen)
            violations = plan_violations(problem, chosen, risk)
            if violations:  # the solver's tolerances let something through: never show it
                raise RuntimeError(
                    "solver returned a plan that breaks rules: " + "; ".join(violations)
                )
            objective = plan_objective(problem, chosen, settings.objective)
            bound, gap = bound_and_gap(outcome, objective, settings.objective)
            if outcome.expected_plan is not None:
                expected_objective = plan_objective(
                    problem, outcome.expected_plan, settings.objective
                )
        elif status == "infeasible" and diagnose:
            findings = diagnose_infeasible(problem)
    greedy = greedy_plan(problem) if explain else np.array([], dtype=int)
    greedy_summary = PlanSummary(
        objective=plan_objective(problem, greedy, settings.objective),
        count=designation_count(problem, greedy),
        spend=expected_spend(problem, greedy),
        violations=plan_violations(problem, greedy) if explain else [],
        chosen=greedy,
    )
    explain_started = time.perf_counter()
    if explain:
        reasons = candidate_reasons(problem, chosen, _no_plan(status))
        has_plan = status in PLAN_STATUSES and model is not None
        prices = compiled = None
        if has_plan and problem.size <= thresholds.ESTIMATE_LIMIT:
            # One compilation for the solve, the prices and the exact re-solves: the
            # thresholds' instances load the standard form the solve compiled.
            compiled = HighsModel(model, getattr(outcome.compiled, "standard_form", None))
            stated = getattr(outcome.compiled, "stated_duals", None)
            start = outcome.compiled.last_basis() if outcome.compiled is not None else None
            prices = relaxation_prices(problem, model, compiled, chosen, stated, start)
        elif has_plan:
            log.info(
                "thresholds not estimated: %d options, past the %d whose relaxation is re-solved",
                problem.size,
                thresholds.ESTIMATE_LIMIT,
            )
        table = estimate(problem, chosen, prices)
        if has_plan:
            table = settle(
                problem, model, compiled, chosen, table, prove, confirm_cases, on_confirm
            )
        reasons = threshold_sentences(problem, table, reasons)
    else:
        reasons = pd.DataFrame(columns=REASON_COLUMNS + THRESHOLD_COLUMNS)
    explain_seconds = time.perf_counter() - explain_started
    if risk is None and status in PLAN_STATUSES:
        risk = plan_risk(problem, chosen)
    return AllocationResult(
        problem=problem,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        seconds=time.perf_counter() - started,
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        method=method,
        chosen=chosen,
        greedy=greedy_summary,
        reasons=reasons,
        diagnosis=[finding.en for finding in findings],
        diagnosis_zh=[finding.zh for finding in findings],
        risk=risk,
        expected_objective=expected_objective,
        explain_seconds=explain_seconds,
    )
