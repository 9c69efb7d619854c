"""Exact thresholds by re-solving the compiled programme: one candidate's options forced in
or out, its score moved or a budget raised, under a deterministic budget of work.

**Score needed** (merit). Raising candidate c's score by δ adds δ·k_o to the merit of each
of its options o (``thresholds.score_slopes``) and changes no plan without c. With V* the
optimum (c left out) and F(δ) = max over plans containing c of V(x) + δ·k(x), c is chosen
exactly when F(δ) ≥ V*. F is the upper envelope of one line per plan, convex and
non-decreasing, so its crossing with V* is found by Newton's method: solve for F at δ
(c's row Σ x_o ≥ 1 switched on), follow the line of the plan found to where it meets V*,
and stop when the plan found at δ meets V* at δ itself. Other options of c gain too: a plan
using several of them is one line among the others (steeper), so the envelope covers them.
From below the first step lands at or past the crossing, from above each step moves down
onto a steeper line; one to three solves in practice.

**Margin** (merit, a selected candidate). V_-c is the optimum with c's options held at 0;
G(δ) = max over plans containing c of V(x) − δ·k(x) is convex and non-increasing and c keeps
its place while G(δ) ≥ V_-c: the largest such δ by the same iteration. No plan without c
(a minimum quota needs it): any fall keeps it. Scores stop at 0, so the lines hold only up to
the candidate's score: a crossing past it means even a score of 0 keeps it.

**Extra budget.** Money is not linear, nor is the choice monotone in it (scores tie, and the
plan flips as the money passes each award's amount): whether c is chosen with M万元 more is
asked at a few M (``smallest``: from the estimate outwards, to an M that chooses c where
M − 1 does not). Here only the first question is asked, whether all the money there is
chooses c at all (when it does not, a rule, not money, keeps c out); the search runs on the
allocation's own programme (``threshold_resolves.MoneyProbes``), whose plans follow the
allocation's tie-break as this programme's do not.

**What is solved.** The counted instance (``highs_model.CountedModel``: designations counted
by payment class, with its rounding cuts, which follow a budget row when it moves) as a MIP
with the *primary* objective only (merit, or the count), to a relative gap of 1e-9: the
allocation's tie-break bonus only orders plans of equal primary value, and left in it makes
HiGHS prove differences of 1e-5 (one random 33-firm instance took 6 s instead of 0.09 s).
So at a tie, and within the allocation's own gap (1e-4 by default) of one, the allocation may
decide either way: ``threshold_settle.py`` solves the allocation itself at the tie's point
and one step off, and moves the figure if it disagrees. On the random instances of the tests
(633 figures) every raise and margin found here was the allocation's or one step from it:
61% of the raises one step more (a tie decided against the candidate) and 48% of the
margins one step more (a tie decided for it); 176 of 177 extra budgets were the
allocation's.

**Work.** Every solve is charged its options × its work in solves (``passes``: nodes and
simplex iterations) to a ``Work`` budget and gets no more nodes than the budget has left
(HiGHS's node limit is deterministic on one thread): no clock decides a figure, and a figure
not settled within the budget keeps its estimate.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.core as pyo
import scipy.sparse as sp

from .highs_model import HighsModel
from .highs_quiet import quiet_highs
from .options import AllocationProblem
from .programme import objective_coefficients
from .rounding_cuts import move_row_bounds

log = logging.getLogger(__name__)

# Newton steps on one candidate before it is given up (each is one solve; seen: 1-3).
MAX_NEWTON = 12
# The relative gap the exact solves are proven to: primary values differ by at least a
# score step times a weight (0.01 or more), so this separates them on any objective below
# 10 million.
EXACT_GAP = 1e-9


class Unsettled(Exception):
    """A figure could not be settled (a search or an iteration ran past its limit)."""


class OutOfWork(Unsettled):
    """The work budget ran out: no further figure can be settled either."""


def passes(highs: highspy.Highs) -> float:
    """The work of ``highs``'s last run, in solves: one per branch-and-bound node (at least
    one), plus its simplex iterations over its rows (a cold solve of the allocation's
    relaxations takes about as many iterations as it has rows). On the random instances of
    the tests an exact solve took 4 ms plus 0.12-0.19 ms an iteration, whatever its nodes."""
    info = highs.getInfo()
    rows = max(highs.getNumRow(), 1)
    nodes = max(int(info.mip_node_count), 1)
    return float(nodes) + max(int(info.simplex_iteration_count), 0) / rows


class Work:
    """A deterministic budget of re-solving work, in option-solves: a solve of a problem of n
    options costs n × its ``passes``; an allocation solved again whole, its build and its
    solves. A problem of fewer than ``SMALLEST`` options counts as that many: the Python
    around a solve costs 3-5 ms whatever its size. Never seconds: the same problem gets the
    same figures on any machine."""

    SMALLEST = 100

    def __init__(self, units: float):
        self.left = float(units)
        self.spent = 0.0

    def nodes(self, options: int, reserved: float = 0.0) -> int:
        """The branch-and-bound nodes one solve of ``options`` options may still take, after
        ``reserved`` solves' worth (0 or less: none)."""
        if math.isinf(self.left):
            return 1 << 30
        return math.floor(self.left / max(options, self.SMALLEST) - reserved)

    def affords(self, options: int, solves: float = 1.0) -> bool:
        """Is there work left for ``solves`` solves of ``options`` options?"""
        return self.left >= max(options, self.SMALLEST) * solves

    def charge(self, options: int, solves: float) -> None:
        """Spend ``solves`` solves of ``options`` options."""
        units = max(options, self.SMALLEST) * solves
        self.left -= units
        self.spent += units


@dataclass(frozen=True)
class Line:
    """A plan as a line in δ: its primary value, its slope (Σ k_o over the candidate's
    options in it) and its options."""

    value: float
    slope: float
    chosen: np.ndarray


class ExactProgramme:
    """The compiled allocation as a MIP on its primary objective, with one row per candidate
    counting its options of the city's choice (free until asked), re-solved under changes
    that are undone after each question."""

    def __init__(
        self, problem: AllocationProblem, model: HighsModel, slopes: np.ndarray, work: Work
    ):
        self.problem = problem
        self.model = model
        self.work = work
        self.n = model.n_options
        self.slopes = slopes
        options = problem.options
        self.candidate = options["candidate"].to_numpy()
        self.free = ~options["forced"].to_numpy(dtype=bool)
        self.primary, _ = objective_coefficients(problem, problem.settings.objective)
        counted = model.counted
        lp = counted.highs.getLp()
        cost = np.zeros(lp.num_col_)
        cost[: self.n] = self.primary
        lp.col_cost_ = cost
        lp.offset_ = 0.0
        self.cuts = counted.cuts
        self.row_upper = np.asarray(lp.row_upper_, dtype=float).copy()
        self.row_lower = np.asarray(lp.row_lower_, dtype=float).copy()
        self.col_upper = np.asarray(lp.col_upper_, dtype=float).copy()
        highs = quiet_highs()
        highs.passModel(lp)
        integer = np.flatnonzero(counted.integer[: lp.num_col_]).astype(np.int32)
        highs.changeColsIntegrality(
            len(integer), integer, np.full(len(integer), highspy.HighsVarType.kInteger)
        )
        highs.setOptionValue("random_seed", problem.settings.seed)
        highs.setOptionValue("mip_rel_gap", EXACT_GAP)
        highs.setOptionValue("mip_abs_gap", 1e-7)
        # One row per candidate with options of the city's choice: Σ x_o over them, free
        # (no bounds, so presolve drops it) until a question switches it on.
        own = np.flatnonzero(self.free)
        owners, row_of = np.unique(self.candidate[own], return_inverse=True)
        rows = sp.csr_matrix((np.ones(len(own)), (row_of, own)), shape=(len(owners), lp.num_col_))
        first = highs.getNumRow()
        highs.addRows(
            len(owners),
            np.full(len(owners), -highspy.kHighsInf),
            np.full(len(owners), highspy.kHighsInf),
            rows.nnz,
            rows.indptr[:-1].astype(np.int32),
            rows.indices.astype(np.int32),
            rows.data,
        )
        self.own_row = {int(c): first + i for i, c in enumerate(owners)}
        self.n_columns = lp.num_col_
        self.highs = highs
        self._optimum: Line | None = None

    # --- one solve ------------------------------------------------------------------------

    def solve(self) -> np.ndarray | None:
        """The options of the best plan under the current changes; None when no plan meets
        the rules (infeasible). Raises OutOfWork when the work budget cannot pay for the
        solve or it stops at its node limit."""
        values = self._run()
        return None if values is None else np.flatnonzero(values[: self.n] > 0.5)

    def _run(self) -> np.ndarray | None:
        """Solve as things stand: every column's value, None if infeasible."""
        nodes = self.work.nodes(self.n, 1)
        if nodes < 1:
            raise OutOfWork
        self.highs.setOptionValue("mip_max_nodes", int(min(nodes, 1 << 30)))
        self.highs.run()
        self.work.charge(self.n, passes(self.highs))
        status = self.highs.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            # Stopped at its node limit, which is what the budget had left.
            raise OutOfWork
        return np.asarray(self.highs.getSolution().col_value)

    def line(self, chosen: np.ndarray, c: int) -> Line:
        """Plan ``chosen`` as a line in candidate c's score."""
        mine = chosen[(self.candidate[chosen] == c) & self.free[chosen]]
        return Line(
            value=float(self.primary[chosen].sum()),
            slope=float(self.slopes[mine].sum()),
            chosen=chosen,
        )

    def has(self, chosen: np.ndarray, c: int) -> bool:
        """Does plan ``chosen`` designate candidate c at the city's choice?"""
        return bool(np.any((self.candidate[chosen] == c) & self.free[chosen]))

    @property
    def optimum(self) -> Line:
        """The optimum of the problem as it stands (solved once)."""
        if self._optimum is None:
            chosen = self.solve()
            if chosen is None:  # the allocation found a plan: only tolerances could do this
                raise Unsettled
            self._optimum = Line(float(self.primary[chosen].sum()), 0.0, chosen)
        return self._optimum

    # --- changes, undone on leaving ----------------------------------------------------

    def _columns(self, c: int) -> np.ndarray:
        return np.flatnonzero((self.candidate == c) & self.free).astype(np.int32)

    @contextlib.contextmanager
    def with_candidate(self, c: int) -> Iterator[None]:
        """Only plans that designate c at the city's choice."""
        row = self.own_row[c]
        self.highs.changeRowBounds(row, 1.0, highspy.kHighsInf)
        try:
            yield
        finally:
            self.highs.changeRowBounds(row, -highspy.kHighsInf, highspy.kHighsInf)

    @contextlib.contextmanager
    def without_candidate(self, c: int) -> Iterator[None]:
        """Only plans that leave c's options of the city's choice out."""
        columns = self._columns(c)
        lower = np.zeros(len(columns))
        self.highs.changeColsBounds(len(columns), columns, lower, lower)
        try:
            yield
        finally:
            self.highs.changeColsBounds(len(columns), columns, lower, self.col_upper[columns])

    @contextlib.contextmanager
    def score_moved(self, c: int, delta: float) -> Iterator[None]:
        """c's options worth δ·k_o more (less, for δ < 0)."""
        columns = self._columns(c)
        self.highs.changeColsCost(
            len(columns), columns, self.primary[columns] + delta * self.slopes[columns]
        )
        try:
            yield
        finally:
            self.highs.changeColsCost(len(columns), columns, self.primary[columns])

    @contextlib.contextmanager
    def more_money(self, rows: list[int], amount: float) -> Iterator[None]:
        """The budget rows ``rows`` raised by ``amount`` 万元 (their rounding cuts follow)."""
        for row in rows:
            upper = self.row_upper[row] + amount
            move_row_bounds(self.highs, self.cuts, row, self.row_lower[row], upper)
        try:
            yield
        finally:
            for row in rows:
                move_row_bounds(
                    self.highs, self.cuts, row, self.row_lower[row], self.row_upper[row]
                )

    # --- the questions -------------------------------------------------------------------

    def score_raise(self, c: int, start: float, cap: float) -> tuple[float, Line] | None:
        """The smallest raise δ ≥ 0 of c's score at which a plan with c is worth the optimum
        (module docstring), with the plan; None when no plan with c exists, or none reaches
        it by a raise of ``cap``. Raises Unsettled."""
        target = self.optimum.value
        tolerance = 1e-9 * max(1.0, abs(target))
        delta = min(max(start, 0.0), cap)
        with self.with_candidate(c):
            for _ in range(MAX_NEWTON):
                with self.score_moved(c, delta):
                    chosen = self.solve()
                if chosen is None:
                    return None  # no plan designates c: a rule keeps it out
                line = self.line(chosen, c)
                reached = line.value + delta * line.slope
                if reached < target - tolerance:  # short of it: the crossing lies further
                    if delta >= cap:
                        return None
                    step = (target - line.value) / line.slope if line.slope > 0 else cap
                    delta = min(max(step, delta), cap)
                    continue
                if line.slope <= 0 or line.value >= target - tolerance:
                    return 0.0, line  # as good as the optimum at its own score
                crossing = (target - line.value) / line.slope
                if reached <= target + tolerance:
                    return crossing, line
                delta = crossing
        raise Unsettled

    def score_fall(self, c: int, start: float) -> float | None:
        """The largest fall δ ≥ 0 of c's score at which a plan with c is still worth the best
        without it (module docstring); None when any fall keeps it (no plan without c, or its
        best plan's options carry no score). Raises Unsettled."""
        with self.without_candidate(c):
            without = self.solve()
        if without is None:
            return None
        floor = float(self.primary[without].sum())
        tolerance = 1e-9 * max(1.0, abs(floor))
        delta = max(start, 0.0)
        with self.with_candidate(c):
            for _ in range(MAX_NEWTON):
                with self.score_moved(c, -delta):
                    chosen = self.solve()
                if chosen is None:  # cannot be: the allocation's plan designates c
                    raise Unsettled
                line = self.line(chosen, c)
                if line.slope <= 0:
                    if line.value >= floor - tolerance:
                        return None
                    if delta > 0:  # flat past δ and short of it: the lines say no more
                        raise Unsettled
                    return 0.0
                crossing = (line.value - floor) / line.slope
                reached = line.value - delta * line.slope
                if reached < floor - tolerance:  # past it: the crossing lies before δ
                    delta = max(crossing, 0.0)
                    continue
                if reached <= floor + tolerance:
                    return max(crossing, 0.0)
                delta = crossing
        raise Unsettled

    def with_money(self, rows: list[int], amount: float) -> np.ndarray | None:
        """The best plan when ``rows`` have ``amount`` 万元 more. Raises OutOfWork."""
        with self.more_money(rows, amount):
            return self.solve()

    def chosen_with_money(self, c: int, rows: list[int], amount: float) -> bool:
        """Is c designated when ``rows`` have ``amount`` 万元 more? Raises OutOfWork."""
        chosen = self.with_money(rows, amount)
        return chosen is not None and self.has(chosen, c)


def budget_rows_of(
    problem: AllocationProblem, m: pyo.ConcreteModel, model: HighsModel, year: int | None
) -> list[int]:
    """The compiled budget rows that ``thresholds.with_more_money(problem, year, M)`` raises
    by M: the year's own row (with carry-over, every later year's too, whose money includes
    it) and the horizon total's. Rows the builder left out (they cannot bind) are not there."""
    constraints = []
    limits = getattr(m, "budget_limit", None)
    if limits is not None and year is not None:
        for t in limits:
            if t == year or (problem.budget.carry_over and t > year):
                constraints.append(limits[t])
    constraints += list(getattr(m, "budget_total", {}).values())
    return [model.row_of[con] for con in constraints if con in model.row_of]


# A question of a search: whether it holds at k, and, when it does, a smaller k at which it
# surely holds too (None: no such knowledge).
Probe = Callable[[int], tuple[bool, int | None]]


def smallest(
    holds: Probe, start: int, cap: int, max_calls: int, cap_first: bool = True
) -> tuple[int | None, bool]:
    """A k in 1..cap at which ``holds(k)`` and not ``holds(k - 1)`` (it does not hold at 0),
    near ``start`` (an estimate); where ``holds`` is monotone, the smallest such k.

    ``start`` is asked first. When it holds, the search moves down: to the smaller k the
    answer names when it names one (a plan that fits in less money), else one step below,
    then galloping (1, 2, 4, ... steps below ``start``) until it fails, then bisecting. When ``start``
    does not hold, ``cap`` is asked next (``cap_first``: a case no k helps costs two calls),
    then the search gallops up from ``start`` and bisects. Returns (k, True), (None, True)
    when it holds nowhere up to ``cap``, or (None, False) when ``max_calls`` were used up
    first (or ``holds`` raised Unsettled); OutOfWork from ``holds`` goes through."""
    calls = 0

    def ask(k: int) -> tuple[bool, int | None]:
        nonlocal calls
        if calls >= max_calls:
            raise Unsettled
        calls += 1
        return holds(k)

    try:
        start = min(max(start, 1), cap)
        low, high = 0, None  # holds(low) is false, holds(high) true
        found, hint = ask(start)
        if found:
            high = start
        else:
            low = start
            if cap <= start or (cap_first and not ask(cap)[0]):
                return None, True
            step = 1
            while high is None or low + step < high:  # gallop up
                k = min(low + step, cap)
                found, hint = ask(k)
                if found:
                    high = k
                    break
                if k >= cap:
                    return None, True
                low = k
                step *= 2
        # Nothing below is known to fail: gallop down, 1, 2, 4, ... below where it first held
        # (an exact start is most often right or one step off, at a tie).
        descending, step, anchor = low == 0, 1, high
        while high - low > 1:
            if hint is not None and low < hint < high:
                k = hint
            elif descending:
                k = max(low + 1, min(high - 1, anchor - step))
                step *= 2
            else:
                k = (low + high) // 2
            found, named = ask(k)
            if found:
                high, hint = k, named
                if named is not None and named >= k:
                    step = 1  # what it holds with needs all of k: one below is the question
            else:
                low, hint, descending = k, None, False
        return high, True
    except OutOfWork:
        raise  # no other search can go on either: the caller stops
    except Unsettled:
        log.info("threshold search stopped after %d solves", calls)
        return None, False
