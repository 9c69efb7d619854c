"""The relaxation's prices of every option, read on either side of its solution: what a
candidate coming in would take (the shared rows a hair tighter) and what one going out would
free (a hair looser), and, where the plan fills a row already, what an option is worth with
money no limit. The estimates of ``thresholds.py`` are made from them."""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import pyomo.core as pyo

from .highs_model import HighsModel, pass_arrays
from .highs_quiet import quiet_highs
from .options import AllocationProblem
from .solve import LARGE_LP

# How far the shared rows are moved to read the relaxation's prices on either side of its
# solution, in options: a row's mean coefficient times this. A binding quota or budget row
# often has a range of optimal prices (the relaxation is degenerate there: its last option in
# is whole and its first out at 0), and one solve reads one end of it, at random. With every
# candidate left out priced at the bottom of that range, the first one out of a full quota
# of two (77 points, the last in 84) was told 77.1 would do, and so was the second.
SIDE_STEP = 1e-3
# What a unit of a row that cannot move costs on that side, in units of the largest objective
# coefficient per the smallest matrix entry: far above any price a row could have, so that
# nothing is priced to come in on it (or leave it), but finite, so that the side still solves.
PENALTY = 1e3


@dataclass(frozen=True)
class _Rows:
    """What the price solves read of the compiled model's rows, worked out once per call of
    ``relaxation_prices``: which are a candidate's own (``stacking``) or money, each row's
    count and mean size of entries, the smallest entry, and the plan's activity."""

    own: np.ndarray
    money: np.ndarray
    counts: np.ndarray
    mean: np.ndarray
    smallest: float
    activity: np.ndarray

    @classmethod
    def of(cls, m: pyo.ConcreteModel, model: HighsModel, chosen: np.ndarray) -> _Rows:
        n_rows = len(model.row_upper)
        own = np.zeros(n_rows, dtype=bool)
        own[model.rows_in(m, "stacking")] = True
        money = np.zeros(n_rows, dtype=bool)
        money[model.rows_in(m, "budget", "risk_load")] = True
        entries = model.matrix.tocoo()
        counts = np.bincount(entries.row, minlength=n_rows)
        sums = np.bincount(entries.row, weights=np.abs(entries.data), minlength=n_rows)
        plan = np.zeros(model.n_model)
        plan[np.asarray(chosen, dtype=int)] = 1.0
        return cls(
            own=own,
            money=money,
            counts=counts,
            mean=np.divide(sums, counts, out=np.zeros(n_rows), where=counts > 0),
            smallest=float(np.abs(entries.data).min(initial=1.0)) or 1.0,
            activity=model.matrix @ plan,
        )


@dataclass
class Prices:
    """The relaxation's valuation of every option: its net value (objective coefficient less
    the shared rows at their duals) at the prices of *leaving* (what the rows it would free
    are worth: the margins of the selected), its net value at the prices of *entering* (what
    the rows it would take are worth: the raise a candidate left out needs), and that before
    money (budget rows left out, at the entering prices)."""

    net: np.ndarray
    before_money: np.ndarray
    entering: np.ndarray
    # coming in with money no limit (``_without_money``; None: not known)
    rich: np.ndarray | None = None


def relaxation_prices(
    problem: AllocationProblem,
    m: pyo.ConcreteModel,
    model: HighsModel,
    chosen: np.ndarray,
    stated_duals: tuple[np.ndarray, np.ndarray] | None = None,
    start: highspy.HighsBasis | None = None,
) -> Prices | None:
    """Solve the relaxation of the built model ``m`` (``model``, compiled; no rounding cuts)
    and price every option on either side of its solution; None when it has no optimal
    solution.

    The value of the relaxation is concave in the shared rows' bounds, and its prices at a
    kink are a range: a candidate coming in takes rows at the left end of it (the prices
    with every shared row a little tighter, by ``SIDE_STEP`` options), one going out frees
    them at the right end (a little looser). Both are read from the solution's basis with the
    dual simplex (a few pivots). With an overrun bound the money rows are held at what the
    plan ``chosen`` spends in them: the bound, not the expected money, is what limits such a
    plan, and the relaxation at the full budget would price money as plentiful. Without one,
    ``stated_duals`` (the duals the solve found for this same linear programme,
    ``HighsProgramme.stated_duals``) stand for it where a side cannot be solved, and for both
    where there is no basis to start from on a model past ``LARGE_LP`` columns (solving it from
    nothing was a fifth of a 1,000-candidate allocate). ``start``: a basis over the model's
    columns and rows to begin from (``HighsModel.last_basis``, the solve's relaxation)."""
    rows = _Rows.of(m, model, chosen)
    money_rows = rows.money
    risky = problem.settings.overrun_risk is not None
    row_upper = model.row_upper.copy()
    if risky:
        spent = rows.activity[money_rows]
        row_upper[money_rows] = np.minimum(row_upper[money_rows], spent + 1e-9)
    stated = stated_duals if not risky else None
    highs = quiet_highs()
    pass_arrays(
        highs,
        model.matrix,
        model.cost,
        model.offset,
        model.col_lower,
        model.col_upper,
        model.row_lower,
        row_upper,
        model.maximise,
    )
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("random_seed", problem.settings.seed)
    highs.setOptionValue("presolve", "off")
    warm = start is not None and highs.setBasis(start) == highspy.HighsStatus.kOk
    if not warm and stated is not None and model.n_model > LARGE_LP:
        return _prices(model, rows, *stated, *stated)
    if stated is not None and warm:
        base = stated  # the solve's basis is optimal for this very programme
    else:
        if not warm and model.n_model > LARGE_LP:
            # as the solver does from nothing: the interior point method, then a vertex
            highs.setOptionValue("solver", "ipm")
            highs.setOptionValue("run_crossover", "on")
        highs.run()
        if warm and highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return relaxation_prices(problem, m, model, chosen, stated_duals)  # from nothing
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        solution = highs.getSolution()
        base = (np.asarray(solution.col_dual), np.asarray(solution.row_dual))
        start = highs.getBasis()
        highs.setOptionValue("solver", "simplex")
    entering = _side(highs, model, rows, row_upper, start, -1.0) or base
    leaving = _side(highs, model, rows, row_upper, start, +1.0) or base
    prices = _prices(model, rows, *leaving, *entering)
    # The rows the plan fills already (a quota at its maximum), read from the plan itself:
    # the relaxation's duals at a degenerate vertex may put the price on the budget alone.
    finite = np.isfinite(row_upper)
    bound = np.where(finite, row_upper, 0.0)
    full = finite & (rows.activity >= bound - 1e-9 * np.maximum(1.0, np.abs(bound)))
    if (full & ~money_rows & ~rows.own).any():
        # (none full: every option is worth its own merit with money no limit, no solve)
        prices.rich = _without_money(highs, model, rows, row_upper, full, start)
    return prices


def _without_money(
    highs: highspy.Highs,
    model: HighsModel,
    rows: _Rows,
    row_upper: np.ndarray,
    binding: np.ndarray,
    start: highspy.HighsBasis,
) -> np.ndarray | None:
    """Every option's net value coming in when money is no limit: the relaxation with its
    money rows open, at the prices of taking those of its other rows the plan fills already
    (``binding``: a quota at its maximum). An option worth nothing there is
    kept out by rows that are full now, and no budget would bring it in: a full quota's price
    rises as money grows, up to its last one in's whole worth (28 firms behind a full quota
    were told 120-740万元 would do: review 12). A row that fills only as money grows is not
    counted: 5万元 more can win a place that more money gives a dearer competitor, and the
    estimate of the money is then the one to search from. None if that cannot be solved."""
    money = np.flatnonzero(rows.money).astype(np.int32)
    if len(money) == 0:
        return None
    open_upper = row_upper.copy()
    open_upper[money] = highspy.kHighsInf
    highs.changeRowsBounds(len(money), money, model.row_lower[money], open_upper[money])
    # The dual simplex from the solve's basis, as the sides: 40-50 ms at 1,000 candidates,
    # the primal simplex (natural for opened rows) 180-230 ms.
    try:
        duals = _side(highs, model, rows, open_upper, start, -1.0)
    finally:
        highs.changeRowsBounds(len(money), money, model.row_lower[money], row_upper[money])
    if duals is None:
        return None
    # Only the shared rows full already are charged; the others are added back.
    return _net(model, *duals, ~(binding & ~rows.own))


def _side(
    highs: highspy.Highs,
    model: HighsModel,
    rows: _Rows,
    row_upper: np.ndarray,
    basis: highspy.HighsBasis,
    sign: float,
) -> tuple[np.ndarray, np.ndarray] | None:
    """The duals of the relaxation loaded in ``highs`` with the shared rows' bounds moved by
    ``sign`` × ``SIDE_STEP`` of each row's mean coefficient, solved from ``basis``; None if
    even that has no optimal solution.

    The bound a side tightens (an upper one coming in, −; a lower one going out, +) is
    elastic: a row that cannot move that far (obligations filling a budget; a minimum quota
    only its members can meet) keeps its place at ``PENALTY`` a unit, and is priced that dear
    (nothing can come in on it, or leave it), instead of the whole side failing. A row
    whose bound is 0 (a balance rule's share, Σ_g x − s·Σ x ≤ 0) is left where it is: it
    holds no resource, and moving it can contradict its fellows (two districts at 0.5)."""
    lower = model.row_lower
    tightened = row_upper if sign < 0 else lower
    loosened = lower if sign < 0 else row_upper
    can_tighten = np.isfinite(tightened) & (tightened != 0)
    moves = (
        ~rows.own & (rows.counts > 0) & (can_tighten | (np.isfinite(loosened) & (loosened != 0)))
    )
    moved = np.flatnonzero(moves).astype(np.int32)
    if len(moved) == 0:
        return None
    step = SIDE_STEP * rows.mean[moved]
    elastic = moved[can_tighten[moved]]
    highs.setBasis(basis)
    n_columns = highs.getNumCol()
    if len(elastic):
        scale = float(np.abs(model.cost).max(initial=0.0)) + 1.0
        penalty = PENALTY * scale / rows.smallest
        # a·x − s ≤ u − step coming in; a·x + s ≥ l + step going out; 0 ≤ s ≤ step
        highs.addCols(
            len(elastic),
            np.full(len(elastic), -penalty if model.maximise else penalty),
            np.zeros(len(elastic)),
            SIDE_STEP * rows.mean[elastic],
            len(elastic),
            np.arange(len(elastic), dtype=np.int32),
            elastic,
            np.full(len(elastic), 1.0 if sign > 0 else -1.0),
        )
    highs.changeRowsBounds(
        len(moved), moved, lower[moved] + sign * step, row_upper[moved] + sign * step
    )
    highs.run()
    duals = None
    if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        solution = highs.getSolution()
        duals = (np.asarray(solution.col_dual)[:n_columns], np.asarray(solution.row_dual))
    highs.changeRowsBounds(len(moved), moved, lower[moved], row_upper[moved])
    if len(elastic):
        highs.deleteCols(n_columns, n_columns + len(elastic) - 1)
    return duals


def _prices(
    model: HighsModel,
    rows: _Rows,
    col_dual,
    row_dual,
    entering_col_dual,
    entering_row_dual,
) -> Prices:
    """Every option's prices from the relaxation's duals on either side (``Prices``): only
    the rows shared between candidates are charged, and before money not the money rows."""
    leaving = _net(model, col_dual, row_dual, rows.own)
    entering = _net(model, entering_col_dual, entering_row_dual, rows.own)
    before_money = entering + _net(model, 0.0, entering_row_dual, rows.money, reduced=False)
    return Prices(net=leaving, before_money=before_money, entering=entering)


def _net(model: HighsModel, col_dual, row_dual, added_back: np.ndarray, reduced: bool = True):
    """Each option's net value (its objective's sense, larger better): HiGHS's duals satisfy
    d = c − Aᵀy (either sense), so the rows ``added_back`` (a candidate's own rows, and an
    entitlement's with its upgrades) have their prices added back to the reduced cost d;
    without ``reduced``, only those prices."""
    n = model.n_options
    y = np.where(added_back, np.asarray(row_dual), 0.0)
    back = model.matrix[:, :n].T @ y
    net = (np.asarray(col_dual)[:n] + back) if reduced else back
    return net if model.maximise else -net
