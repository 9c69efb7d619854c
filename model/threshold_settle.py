"""Which thresholds are settled by re-solving, and how, under a deterministic budget of work.

By default, candidate after candidate, closest to the line first (the left out by the raise
they need, the selected by their margin, alternately), each figure is found on the exact
programme (``threshold_solves``: Newton's method on the score; for money, whether any money
helps at all, then a search near the estimate on the allocation's own programme,
``MoneyProbes``) and then checked by solving the allocation itself again at the figure and
one step short of it (0.1 point, 1万元), and moved where it disagrees: at a tie of the
primary objective the tie-break decides, and within the allocation's gap (1e-4) it may decide
either way. A candidate whose every figure passed is marked ``threshold_confirmed``; the
figures of the others stay the relaxation's estimates, marked 估算.

**The budget** (``AUTO_WORK`` option-solves, ``threshold_solves.Work``; never seconds, so
the same problem gets the same figures anywhere) is what lets this be the default: a small
instance is settled whole; on a larger one the closest candidates are, and the rest keep
their estimates. Nothing is settled by default past ``AUTO_LIMIT`` options (the 50-candidate
Jiaxing table, 1,504 options: the exact programme's first solve alone takes 0.3 s, a solve
of the allocation again 0.3 s, against 0.36 s for the whole allocation and a 1.5 s limit on
the whole command) nor with an overrun bound (a solve is a loop of MIPs). ``cases=N`` (the
command line's ``--confirm N``) settles the N left out closest to selection and the N
selected closest to losing their place as well, whatever it costs, searching from the
estimate where there is no exact figure.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyomo.core as pyo

from .highs_model import HighsModel
from .options import AllocationProblem
from .programme import set_objective
from .threshold_resolves import MoneyProbes, Resolves
from .threshold_solves import (
    ExactProgramme,
    OutOfWork,
    Unsettled,
    Work,
    budget_rows_of,
    smallest,
)
from .thresholds import (
    MONEY_STEP,
    SCORE_CAP,
    SCORE_STEP,
    best_score,
    money_cap,
    score_slopes,
    scores_at,
)

log = logging.getLogger(__name__)

# The automatic budget, in option-solves. Measured (benchmarks/thresholds.py, the tests'
# instances of 12-40 firms, 24-200 options; the machine otherwise idle): settling every
# candidate took 21,000-66,000 of them (0.75-2.5 s) on 12-20 firms and 92,000-115,000
# (1.7-3.0 s) on 24 and 40; with this budget the former are settled whole or but for one to
# three candidates and the latter for their closest 13-18 (score figures first since
# 2026-12-06: a row's extra budget may stay an estimate), in 0.75-1.85 s, against 0.01-0.03 s
# for the plan alone. 20-35 μs an option-solve; with the second core busy, about twice.
AUTO_WORK = 50_000
# Past this many options nothing is settled automatically: one solve costs as much as the
# allocation (module docstring), and a budget in option-solves would still allow hundreds.
AUTO_LIMIT = 600
# The most of the automatic budget one figure of one candidate may take: the rest is kept for
# the others, closest first.
FIGURE_SHARE = 0.25
# The most solves one search may take: by whole allocations, and on the exact programme.
MAX_SOLVES = 16
MAX_EXACT_SOLVES = 24
# A crossing this close to a grid point (in steps) is a tie there.
TIE = 1e-6


@dataclass
class _Case:
    """One candidate's figures being settled: which are still owed, which are settled."""

    c: int
    winner: bool
    owed: set[str] = field(default_factory=set)  # "raise", "money", "fall"
    exact: set[str] = field(default_factory=set)  # settled on the exact programme
    checked: set[str] = field(default_factory=set)  # settled by the allocation itself
    # The exact programme said money can help (all of it chooses c): the allocation's
    # search need not first ask with all the money.
    money_helps: bool = False

    @property
    def settled(self) -> bool:
        """Every figure owed was settled by the allocation itself (or, where no plan could
        designate the candidate at all, by the exact programme's word)."""
        return bool(self.owed) and self.owed <= self.checked


@dataclass
class _Progress:
    """Tells ``report(done, total, name)`` as each figure of the candidates asked for is
    begun: a figure asked for whatever it costs may take minutes (its searches are whole
    allocations, each as long as the first: a 30-firm Jiaxing table whose allocation takes
    3.6 s), and a person waiting is told how far it got."""

    report: Callable[[int, int, str], None]
    total: int
    names: dict[int, str]
    done: int = 0

    def figure(self, c: int, kind: str) -> None:
        self.report(self.done, self.total, f"{self.names.get(c, c)}（{FIGURE_NAMES[kind]}）")
        self.done += 1


# How each figure is named to a person waiting for it (``_Progress``).
FIGURE_NAMES = {"raise": "所需评分", "fall": "领先幅度", "money": "所需追加预算"}


class _Settling:
    """The state of one settling: the table of figures and the means to settle them."""

    def __init__(
        self,
        problem: AllocationProblem,
        m: pyo.ConcreteModel,
        model: HighsModel | None,
        chosen: np.ndarray,
        table: pd.DataFrame,
        prove: bool,
        work: Work,
    ):
        self.problem = problem
        self.m = m
        self.model = model
        self.table = table
        self.work = work
        self.budget = work.left  # the whole budget, of which a figure takes its share
        merit = problem.settings.objective == "merit"
        self.merit = merit
        risky = problem.settings.overrun_risk is not None
        self.resolves = Resolves(problem, m, prove, work)
        options = problem.options
        candidate = options["candidate"].to_numpy()
        free = ~options["forced"].to_numpy(dtype=bool)
        self.slopes = score_slopes(problem)
        picked = np.zeros(len(options), dtype=bool)
        picked[np.asarray(chosen, dtype=int)] = True
        winners = set(np.unique(candidate[picked & free]).tolist())
        scored = set(np.unique(candidate[free & (self.slopes > 0)]).tolist())
        self.cases: dict[int, _Case] = {}
        for c in np.unique(candidate[free]).tolist():
            case = _Case(c=c, winner=c in winners)
            if case.winner:
                if merit and c in scored:
                    case.owed.add("fall")
            else:
                if merit and c in scored:
                    case.owed.add("raise")
                if pd.notna(table.at[c, "extra_budget_wan"]):
                    case.owed.add("money")
            if case.owed:
                self.cases[c] = case
        self.money_probes: MoneyProbes | None = None
        self.exact: ExactProgramme | None = None
        self.progress: _Progress | None = None  # told of each figure as it is begun
        # An exact programme needs one MIP to stand for the allocation: not with an overrun
        # bound (its plan comes from a loop of solves), and not for min_cost (no figures).
        if (
            model is not None
            and self.cases
            and work.left > 0
            and not risky
            and problem.settings.objective != "min_cost"
        ):
            try:
                self.exact = ExactProgramme(problem, model, self.slopes, work)
                self.exact.optimum  # noqa: B018 (solved once here, where it may fail)
            except Unsettled:
                self.exact = None
        if self.exact is not None and any("money" in case.owed for case in self.cases.values()):
            # Compiled now, from the model as built: re-solves by the allocation change its
            # objective in place (``Resolves``) until ``restore``.
            self.money_probes = MoneyProbes(problem, m, work)

    # --- order ---------------------------------------------------------------------------

    def order(self) -> list[int]:
        """Candidates closest to the line first, alternating left out and selected: the left
        out by the raise (or the money) they need, the selected by their margin."""
        table = self.table
        losers = [c for c, case in self.cases.items() if not case.winner]
        winners = [c for c, case in self.cases.items() if case.winner]
        if self.merit:
            gap = table.loc[losers, "score_needed"] - scores_at(
                self.problem, table.loc[losers, "threshold_at"]
            )
        else:
            gap = table.loc[losers, "extra_budget_wan"]
        losers = list(gap.sort_values(kind="stable", na_position="last").index)
        margin = table.loc[winners, "score_margin"]
        winners = list(margin.sort_values(kind="stable", na_position="last").index)
        merged: list[int] = []
        for i in range(max(len(losers), len(winners))):
            merged += losers[i : i + 1] + winners[i : i + 1]
        return merged

    # --- figures -------------------------------------------------------------------------

    def _raise_start(self, c: int) -> tuple[int, int]:
        """The raise to try first (steps, from the estimate) and the most worth trying."""
        table = self.table
        top = best_score(self.problem, c)
        cap = round(max(SCORE_CAP, 2 * top) / SCORE_STEP)
        needed = table.at[c, "score_needed"]
        own = scores_at(self.problem, pd.Series([table.at[c, "threshold_at"]], index=[c])).iloc[0]
        if pd.isna(needed) or pd.isna(own) or not math.isfinite(needed):
            return 1, cap
        return min(max(1, round((needed - own) / SCORE_STEP)), cap), cap

    def _set_raise(self, c: int, steps: int | None, where: str | None) -> None:
        table = self.table
        if steps is None:
            table.at[c, "score_needed"] = np.inf
            return
        table.at[c, "threshold_at"] = where
        own = scores_at(self.problem, pd.Series([where], index=[c])).iloc[0]
        table.at[c, "score_needed"] = round(float(own) + steps * SCORE_STEP, 1)

    def exact_raise(self, case: _Case) -> None:
        """The score c needs, on the exact programme (``ExactProgramme.score_raise``), into
        the table: infinite, and settled, when no raise up to the cap would choose it."""
        c = case.c
        start, cap = self._raise_start(c)
        found = self.exact.score_raise(c, start * SCORE_STEP, cap * SCORE_STEP)
        if found is None:
            # No plan designates it (a rule keeps it out), or none by a raise up to the cap.
            self._set_raise(c, None, None)
            case.checked.add("raise")
        else:
            delta, line = found
            # On the grid (a tie of the primary objective there) the tie-break decides, which
            # the programme here does not see: the figure is the tie's point, and the check
            # asks the allocation there first and one step above if c does not win it.
            # (Guessing the tie from the two plans found, by their tie-break bonus, was right
            # for 5 of 12 ties on a 14-firm instance: a third question each time it missed.)
            steps = max(1, math.ceil(delta / SCORE_STEP - TIE))
            if steps > cap:
                self._set_raise(c, None, None)
            else:
                self._set_raise(c, steps, self.resolves.where(line.chosen, c))
        case.exact.add("raise")

    def check_raise(self, case: _Case) -> None:
        """The score c needs, by the allocation itself: chosen at the figure and not a step
        below (searched from the figure as it stands when either fails)."""
        c = case.c
        start, cap = self._raise_start(c)
        if math.isinf(self.table.at[c, "score_needed"]):
            start = cap
        said: dict[int, str] = {}

        def holds(k: int) -> tuple[bool, None]:
            where = self.resolves.raised(c, k)
            if where is not None:
                said[k] = where
            return where is not None, None

        # From an exact figure a raise is known to help: no need to ask the largest first.
        steps, settled = smallest(holds, start, cap, MAX_SOLVES, "raise" not in case.exact)
        if settled:
            self._set_raise(c, steps, said.get(steps))
            case.checked.add("raise")

    def _money_start(self, c: int) -> tuple[int, int, int | None]:
        table = self.table
        year = table.at[c, "extra_budget_year"]
        year = None if pd.isna(year) else int(year)
        cap = money_cap(self.problem)
        extra = table.at[c, "extra_budget_wan"]
        start = cap if not math.isfinite(extra) else round(extra / MONEY_STEP)
        return min(max(1, start), cap), cap, year

    def _set_money(self, c: int, steps: int | None) -> None:
        self.table.at[c, "extra_budget_wan"] = np.inf if steps is None else steps * MONEY_STEP

    def exact_money(self, case: _Case) -> None:
        """Whether money can help at all, on the exact programme (it cannot when c is not
        chosen even with all the money there is: one solve, where no budget row binds), then
        a boundary near the estimate, an M with which c is chosen and with M − 1 not, on the
        allocation's own programme solved warm (``MoneyProbes``). Money is not linear, nor
        is the choice monotone in it (ties of score make it flip as the money passes each
        award's amount), so this is a search (``smallest``); its questions cost 10-15 ms
        where the allocation solved from scratch takes 20-40 ms, which is asked only at the
        boundary found (``check_money``)."""
        c = case.c
        start, cap, year = self._money_start(c)
        rows = budget_rows_of(self.problem, self.m, self.model, year)
        if not rows:
            self._set_money(c, None)
            case.exact.add("money")
            case.checked.add("money")
            return

        # Not chosen with money for every award there is? The choice is not monotone in
        # money (a place c wins with 5万元 more can go to a dearer competitor with 25万元
        # more), so a finite estimate is asked before the figure says no money helps:
        # ``smallest`` asks it, then the cap, known to fail, and the figure is then "not
        # even with money for every award" (``threshold_words``), which is what was shown.
        case.money_helps = self.exact.chosen_with_money(c, rows, cap)

        def holds(k: int) -> tuple[bool, int | None]:
            if k == cap and not case.money_helps:
                return False, None  # asked already
            plan = self.money_probes.plan(rows, k * MONEY_STEP)
            if plan is None or not self.exact.has(plan, c):
                return False, None
            return True, self._money_used(plan, rows)

        steps, settled = smallest(
            holds, start, cap, MAX_EXACT_SOLVES, cap_first=not case.money_helps
        )
        if settled:
            self._set_money(c, steps)
            case.exact.add("money")
            if steps is None and not case.money_helps:
                case.checked.add("money")  # shown by the exact programme at the cap

    def _money_used(self, plan: np.ndarray | None, rows: list[int]) -> int | None:
        """The whole 万元 beyond the budget that ``plan`` spends in the raised rows ``rows``
        (compiled rows of ``self.model``; None without them)."""
        if plan is None or not rows or self.model is None:
            return None
        x = np.zeros(self.model.n_model)
        x[np.asarray(plan, dtype=int)] = 1.0
        beyond = self.model.matrix[rows] @ x - self.model.row_upper[rows]
        return max(0, math.ceil(float(beyond.max()) / MONEY_STEP - 1e-6))

    def check_money(self, case: _Case) -> None:
        """The extra budget c needs, by the allocation itself: chosen with it and not with
        1万元 less (searched from the figure as it stands when either fails)."""
        c = case.c
        start, cap, year = self._money_start(c)
        rows = [] if self.model is None else budget_rows_of(self.problem, self.m, self.model, year)

        def holds(k: int) -> tuple[bool, int | None]:
            plan = self.resolves.richer(c, year, k)
            if self.resolves.where(plan, c) is None:
                return False, None
            # The plan found fits in what it spends: with that much more money (the most
            # any raised row needs) it is still there, and still the best.
            return True, self._money_used(plan, rows)

        # With the exact programme's word that all the money chooses c, the search climbs
        # from the estimate without asking the allocation at that much money first.
        steps, settled = smallest(holds, start, cap, MAX_SOLVES, cap_first=not case.money_helps)
        if settled:
            self._set_money(c, steps)
            case.checked.add("money")

    def _fall_start(self, c: int) -> tuple[int, int]:
        """The first fall to try that should lose the place (steps), and the most there is."""
        top = best_score(self.problem, c)
        cap = max(1, math.ceil(top / SCORE_STEP - 1e-9))
        margin = self.table.at[c, "score_margin"]
        start = 1 if pd.isna(margin) else round(margin / SCORE_STEP) + 1
        return min(max(1, start), cap), cap

    def _set_fall(self, c: int, steps: int | None) -> None:
        top = best_score(self.problem, c)
        margin = top if steps is None else min(steps * SCORE_STEP, top)
        self.table.at[c, "score_margin"] = round(margin, 1)

    def exact_fall(self, case: _Case) -> None:
        """How far c's score may fall, on the exact programme (``ExactProgramme.score_fall``),
        into the table: its whole score when no fall would lose it its place."""
        c = case.c
        start, _ = self._fall_start(c)
        delta = self.exact.score_fall(c, (start - 1) * SCORE_STEP)
        options = self.problem.options
        mine = (options["candidate"].to_numpy() == c) & ~options["forced"].to_numpy(bool)
        scores = options["score"].to_numpy(dtype=float)[mine & (self.slopes > 0)]
        if delta is not None and delta >= scores.min() - 1e-9:
            # Past its lowest score an option stops falling: the lines no longer hold,
            # unless every option has that score (then even a score of 0 keeps it).
            if scores.max() - scores.min() > 1e-9:
                raise Unsettled
            delta = None
        steps = None
        if delta is not None:
            # A tie at the grid point is counted lost, so that the check's first question,
            # a step past the margin, is the tie's point (as for the raise).
            steps = max(0, math.ceil(delta / SCORE_STEP - TIE) - 1)
        self._set_fall(c, steps)
        case.exact.add("fall")

    def check_fall(self, case: _Case) -> None:
        """How far c's score may fall, by the allocation itself: kept with the margin and
        lost with a step more (searched from the margin as it stands when either fails)."""
        c = case.c
        start, cap = self._fall_start(c)
        if self.table.at[c, "score_margin"] >= best_score(self.problem, c):
            start = cap

        def loses(k: int) -> tuple[bool, None]:
            return not self.resolves.kept(c, k), None

        steps, settled = smallest(loses, start, cap, MAX_SOLVES, "fall" not in case.exact)
        if settled:
            # The largest fall that keeps it: a step short of the first that loses it, or
            # its whole score when even a score of 0 keeps it (a minimum quota needs it).
            self._set_fall(c, None if steps is None else steps - 1)
            case.checked.add("fall")

    # --- passes --------------------------------------------------------------------------

    def run(self, order: list[int], exact: bool = True) -> None:
        """Settle the candidates in ``order`` while the work lasts: first every score figure
        (the score needed, a selected one's margin), then every extra budget, the dearest
        to search (a 60-firm table's first money search took all the work, and no score
        figure was settled: review 20). Each figure on the exact programme first (``exact``
        and where there is one), then by the allocation itself, at that figure and a step
        short of it, or searched from the estimate where there is no exact figure; within
        its share of the work (``_figure_share``). A figure that cannot be settled keeps its
        estimate; when the work runs out, every figure after it does."""
        for kinds in (("raise", "fall"), ("money",)):
            if not self._pass(order, kinds, exact):
                return

    def _pass(self, order: list[int], kinds: tuple[str, ...], exact: bool) -> bool:
        """The figures of ``kinds`` of the candidates in ``order`` (``run``); False when the
        work ran out."""
        first = {"raise": self.exact_raise, "money": self.exact_money, "fall": self.exact_fall}
        then = {"raise": self.check_raise, "money": self.check_money, "fall": self.check_fall}
        for c in order:
            case = self.cases[c]
            for kind in sorted((case.owed - case.checked) & set(kinds)):
                if self.progress is not None:
                    self.progress.figure(c, kind)
                try:
                    with self._figure_share():
                        if exact and self.exact is not None and kind not in case.exact:
                            try:
                                first[kind](case)
                            except OutOfWork:
                                raise
                            except Unsettled:  # no exact figure: searched from the estimate
                                pass
                        if kind not in case.checked:
                            then[kind](case)
                except OutOfWork:
                    if self.work.left <= 0:
                        return False
                    continue  # past its share: this figure keeps its estimate
                except Unsettled:  # this figure keeps its estimate; others may settle
                    continue
        return True

    @contextmanager
    def _figure_share(self) -> Iterator[None]:
        """Within, the work left is at most ``FIGURE_SHARE`` of the whole budget: one figure
        that will not settle (an extra budget the choice flips over, searched solve after
        solve) spent all of a 60-firm table's budget, and no other candidate was settled
        (review 20). Past its share the figure raises OutOfWork with work still left."""
        work = self.work
        if math.isinf(work.left):
            yield
            return
        before, share = work.left, FIGURE_SHARE * self.budget
        work.left = min(before, share)
        spent = work.spent
        try:
            yield
        finally:
            work.left = before - (work.spent - spent)
            if work.left < 1e-9 * self.budget:  # spent, but for the float sums' dust
                work.left = min(work.left, 0.0)

    def marks(self) -> None:
        """Which rows were settled whole, and which of their figures: a score figure settled
        is said as such even when the row's extra budget is still an estimate (a 60-firm
        table's score figures read 估算 beside a money search that did not settle)."""
        for c, case in self.cases.items():
            self.table.at[c, "threshold_confirmed"] = case.settled
            self.table.at[c, "score_confirmed"] = bool({"raise", "fall"} & case.checked)
            self.table.at[c, "money_confirmed"] = "money" in case.checked

    def restore(self) -> None:
        """The model's own objective back, if re-solves changed it."""
        if self.resolves.changed:
            self.m.del_component("value")
            set_objective(self.m, self.problem, self.problem.settings.objective)


def settle(
    problem: AllocationProblem,
    m: pyo.ConcreteModel,
    model: HighsModel | None,
    chosen: np.ndarray,
    table: pd.DataFrame,
    prove: bool = True,
    cases: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
) -> pd.DataFrame:
    """``table`` (``thresholds.estimate``) with the figures settled by re-solving where the
    automatic work budget allows (module docstring), then for the ``cases`` left out closest
    to selection and the ``cases`` selected closest to losing their place whatever it costs;
    ``threshold_confirmed`` marks the candidates whose every figure was settled. ``prove`` is
    the allocation's own (``allocate``), for its solves again. ``progress(done, total,
    figure)`` is told as each figure of the cases asked for is begun, and once at the end."""
    table = table.copy()
    # With an overrun bound a solve is a loop of MIPs (risk_solve.py; 60-90 ms on the tests'
    # eight firms), and the budget settled none of those eight: only what is asked for.
    auto = problem.size <= AUTO_LIMIT and problem.settings.overrun_risk is None
    if not auto and cases <= 0:
        # Nothing to settle: past AUTO_LIMIT options only what is asked for is. (Running the
        # passes on an empty budget still re-solved winners' margins: the benchmark's
        # generous family at 1,000 candidates took 11 s instead of 0.7 s.)
        return table
    work = Work(AUTO_WORK if auto else 0.0)
    settling = _Settling(problem, m, model, chosen, table, prove, work)
    order = settling.order()
    if auto:
        settling.run(order)
    if cases > 0:
        # Asked for: the closest of each side not settled yet, by the allocation itself
        # from the figures as they stand, whatever the work.
        asked = [c for c in order if not settling.cases[c].settled]
        losers = [c for c in asked if not settling.cases[c].winner][:cases]
        winners = [c for c in asked if settling.cases[c].winner][:cases]
        settling.resolves.work = Work(math.inf)
        asked_order = [c for c in order if c in set(losers + winners)]
        if progress is not None:
            cases_asked = [settling.cases[c] for c in asked_order]
            total = sum(len(case.owed - case.checked) for case in cases_asked)
            people = problem.candidates
            names = (
                dict(zip(people.index, people["name"].astype(str), strict=True))
                if "name" in people
                else {}
            )
            settling.progress = _Progress(progress, total, names)
        settling.run(asked_order, exact=False)
        if settling.progress is not None:
            progress(settling.progress.total, settling.progress.total, "")
    settling.marks()
    settling.restore()
    log.info("thresholds: %.0f option-solves of work", work.spent)
    return table
