"""A quick plan within the overrun bound: budget rows loaded for risk, the loadings tuned
from the exact law of the plans they produce.

The chance constraint of a budget row, c_r + V_r(m) ≤ B_r (``risk_cuts.py``), is near a
smooth one around the plans that matter: V_r(m) is the row's expected random spend
μ_r(m) = Σ_j a_j p_j m_j plus a safety margin that grows like the square root of the
spread W_r(m) = Σ_j a_j² p_j (1 − p_j) m_j (the variance of the random part): about
z·√W, a concave function of W. Its tangent at a plan's W₀ lies above it everywhere, so
the row

    c_r + Σ_j (a_j p_j + κ_r · a_j² p_j (1 − p_j)) · m_j ≤ B_r − A_r          (``risk_load[r]``)

with κ_r = (V − μ)/(2 W₀) and A_r = (V − μ)/2 at W₀ (the tangent of (V − μ) = g·√W through
the exact value there) admits no plan the chance constraint would refuse, if the margin
were exactly that smooth, and is tight at the plan itself. The loop: solve with the
current loadings (the whole solve strategy of ``solve.py``, relaxation first); compute each
row's exact value at risk at the plan's counts; if the plan overruns a row more often than
α, shrink its counts until it would not, and take the tangent there; otherwise take it at
the plan itself; stop when the plan is within α and the loadings have settled. Every plan
is checked exactly (the margin is a step function, not that smooth); the best within α is
the incumbent the exact loop (``risk_solve.risk_bounded``) then tries to prove.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from .risk_cuts import RiskCuts

log = logging.getLogger(__name__)

LOAD_ROUNDS = 6  # solves with loaded rows (each a full solve; the loop settles in 2-4)
SETTLED = 0.02  # relative change of every loading below which the loop stops
ENOUGH = 1  # solves after which the first plan within the bound ends the loop
GROWTH = 1.25  # the least a loading grows on a row the last plan overran
LOAD_GAP = 1e-3  # relative gap of the loaded solves
LOAD_NODES = 500  # branch-and-bound nodes each loaded solve's MIP may take
FILL_TRIES = 400  # options tried when filling the room a loaded plan leaves


class Loadings:
    """The risk-load rows of a compiled programme and the loadings κ_r on them."""

    def __init__(self, programme, cuts: RiskCuts):
        self.programme = programme
        self.cuts = cuts
        m_rows = getattr(programme, "risk_rows", {})
        self.rows = m_rows  # budget row label -> compiled row index
        self.kappa: dict[str, float] = dict.fromkeys(m_rows, 0.0)
        self.shift: dict[str, float] = dict.fromkeys(m_rows, 0.0)
        self.upper = {label: float(programme.row_upper[row]) for label, row in m_rows.items()}
        self.base: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        # where each row class's options sit among the row's columns (those in the row)
        self.positions: dict[str, list[np.ndarray]] = {}
        matrix = programme.matrix.tocsr()
        for label, row in m_rows.items():
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            columns = matrix.indices[start:end].copy()
            self.base[label] = (columns, matrix.data[start:end].copy())
            self.positions[label] = [
                _positions(columns, rc.options) for rc in cuts.classes[cuts.row_index(label)]
            ]

    def apply(self) -> None:
        """Write the loadings into the rows: each designation of a row class gets its
        class's loading κ_r · a_j² p_j (1 − p_j) on top of its expected pay."""
        for label, row in self.rows.items():
            r = self.cuts.row_index(label)
            columns, base = self.base[label]
            values = base.copy()
            for rc, at in zip(self.cuts.classes[r], self.positions[label], strict=True):
                load = self.kappa[label] * float(rc.amount) ** 2 * rc.chance * (1 - rc.chance)
                values[at] = base[at] + load
            self.programme.set_coefficients(row, columns, values)
            self.programme.set_upper_at(row, self.upper[label] - self.shift[label])

    def reset(self) -> None:
        """Back to the budget rows' own coefficients and bounds, before the exact loop."""
        self.kappa = dict.fromkeys(self.rows, 0.0)
        self.shift = dict.fromkeys(self.rows, 0.0)
        self.apply()

    def calibrate(self, chosen: np.ndarray, over: set[str] = frozenset()) -> float:
        """Set every κ_r from plan ``chosen`` (module docstring); return the largest
        relative change. A row the plan overran (``over``) never gets a lighter load than
        it had, and at least a quarter more: the margin rises in steps of whole awards, so
        a tangent taken below a step can fall short of the next one."""
        change = 0.0
        for label in self.rows:
            r = self.cuts.row_index(label)
            certain, counts = self.cuts.counts(chosen, r)
            slack = float(self.cuts.rows[r].budget - certain) / 1e4
            target = self._within(r, counts, slack)
            tangent = self._tangent_at(r, target)
            if tangent is None and label in over:
                # Shrinking left no conferral (one 100万元 national nomination at chance 0.3
                # already needs all 100 of its row's slack): the tangent at the plan's own
                # counts, so that the row is loaded at all. Without it the row kept κ = 0
                # and every later solve returned the same plan over the bound (Wuhan's
                # 10,000 candidates: six identical solves, then a plan leaving 85% of the
                # money unspent).
                tangent = self._tangent_at(r, counts)
            if tangent is None:
                continue
            kappa, shift = tangent
            old, old_shift = self.kappa[label], self.shift[label]
            if label in over and old > 0:
                kappa, shift = max(kappa, GROWTH * old), max(shift, GROWTH * old_shift)
            change = max(change, abs(kappa - old) / max(abs(old), 1e-12))
            self.kappa[label], self.shift[label] = kappa, shift
        return change

    def _within(self, r: int, counts: list[int], slack: float) -> list[int]:
        """The plan's counts, or, if the row's random part at them needs more than
        ``slack``, the largest shrinking s·counts (rounded down) that does not."""
        if float(self.cuts.need(r, counts)) <= slack:
            return counts
        low, high = 0.0, 1.0
        for _ in range(20):
            middle = (low + high) / 2
            shrunk = [int(np.floor(middle * n)) for n in counts]
            if float(self.cuts.need(r, shrunk)) <= slack:
                low = middle
            else:
                high = middle
        return [int(np.floor(low * n)) for n in counts]

    def _tangent_at(self, r: int, counts: list[int]) -> tuple[float, float] | None:
        """(κ, A) of the tangent of the margin V − μ ≈ g·√W through its exact value at
        ``counts``: κ = (V − μ)/(2W), A = (V − μ)/2 (module docstring)."""
        classes = self.cuts.classes[r]
        mean = sum(float(c.amount) * c.chance * n for c, n in zip(classes, counts, strict=True))
        spread = sum(
            float(c.amount) ** 2 * c.chance * (1 - c.chance) * n
            for c, n in zip(classes, counts, strict=True)
        )
        if spread <= 0:
            return None
        margin = max(0.0, float(self.cuts.need(r, counts)) - mean)
        return margin / (2 * spread), margin / 2


def _positions(columns: np.ndarray, options: np.ndarray) -> np.ndarray:
    """The positions in ``columns`` of those ``options`` it holds, in the order of
    ``options`` (a column named twice: its last position)."""
    if np.all(columns[1:] > columns[:-1]):  # sorted and distinct, as a CSR row is
        at = np.searchsorted(columns, options)
        inside = at < len(columns)
        inside[inside] = columns[at[inside]] == options[inside]
        return at[inside]
    position = {c: i for i, c in enumerate(columns.tolist())}
    return np.array([position[o] for o in options.tolist() if o in position], dtype=int)


def loaded_plans(programme, cuts: RiskCuts, first: np.ndarray) -> tuple[np.ndarray | None, int]:
    """The best plan within α the loading loop finds (model-space values, or None), and
    how many solves it took; the loadings start from plan ``first`` (the expected-cost
    optimum) and the rows are left unloaded again afterwards."""
    loads = Loadings(programme, cuts)
    if not loads.rows:
        return None, 0
    loads.calibrate(first)
    loads.apply()
    best: np.ndarray | None = None
    solves = 0
    # A loaded row is an approximation: its solves need good plans, not proofs, so a looser
    # gap and a node limit (deterministic) keep each to a fraction of a proof's work.
    try:
        with programme.loosened(LOAD_GAP, LOAD_NODES):
            best, solves = _loop(programme, cuts, loads)
    finally:
        loads.reset()
    if best is not None:
        best = filled(programme, cuts, best)
    return best, solves


def _loop(programme, cuts: RiskCuts, loads: Loadings) -> tuple[np.ndarray | None, int]:
    best: np.ndarray | None = None
    solves = 0
    for _ in range(LOAD_ROUNDS):
        outcome = programme.solve(warm_start=best)
        solves += 1
        if not outcome.has_solution:
            break
        over = {cuts.rows[r].label for r in cuts.violated(outcome.chosen)}
        within = not over
        if within:
            best = programme.better(best, outcome.values)
        change = loads.calibrate(outcome.chosen, over)
        log.info(
            "risk loads: %s, %s",
            "within the bound" if within else "over the bound",
            ", ".join(f"{k} κ={v:.4g}" for k, v in loads.kappa.items()),
        )
        if within and (change < SETTLED or solves >= ENOUGH):
            break
        if not within and change == 0:
            break  # the same loads give the same plan again: another solve finds nothing
        loads.apply()
    return best, solves


def filled(programme, cuts: RiskCuts, plan: np.ndarray, limit: int = FILL_TRIES) -> np.ndarray:
    """``plan`` (model space, within α) with options added one at a time while every row of
    the model and every budget row's overrun chance still hold: the best merit per
    expected 万元 first, each candidate's matter taken at most once. A loaded row leaves
    some room below the bound (its margin rises in steps of whole awards); this takes it."""
    problem = cuts.problem
    options = problem.options
    picked = np.flatnonzero(plan[: programme.n_options] > 0.5)
    chosen = set(picked.tolist())
    # (candidate, matter) as one integer per option: sets of tuples built from numpy
    # scalars were most of this function's time.
    matter_code, matters = pd.factorize(options["matter"].to_numpy(), use_na_sentinel=False)
    key_of = (
        options["candidate"].to_numpy(dtype=np.int64) * max(1, len(matters)) + matter_code
    ).tolist()
    taken = {key_of[o] for o in picked.tolist()}
    gain = programme.cost[: programme.n_options] * (1 if programme.maximise else -1)
    expected = problem.expected_costs()
    cost = np.maximum(expected, 1e-9)
    # An option that pays nothing (an award of 0万元, a chance of 0) cannot move a budget row
    # or its overrun chance: it is tried without counting against ``limit``, which is there
    # to bound the tries that the overrun bound refuses. Counted, the default scenario at
    # α = 1e-6 kept 646 of its 1,209 cost-free designations (400 tries, then the end).
    costly = (expected > 0).tolist()
    free = (options["from_option"].to_numpy() < 0).tolist()
    order = np.argsort(-gain / cost, kind="stable")
    gains = gain.tolist()
    x = plan.copy()
    states = cuts.row_states(np.asarray(sorted(chosen), dtype=int))
    tries = 0
    for o in order.tolist():
        if tries >= limit or gains[o] <= 0:
            break
        key = key_of[o]
        if o in chosen or not free[o] or key in taken:
            continue
        tries += costly[o]
        x[o] = 1.0
        # The overrun bound first, row by row and only where o pays (cuts.admits is exactly
        # cuts.violated of the plan with o): it refuses most tries, and cheaply.
        if cuts.admits(states, o) and programme.feasible(x):
            chosen.add(o)
            taken.add(key)
            cuts.admit(states, o)
        else:
            x[o] = 0.0
    return x
