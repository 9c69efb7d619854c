"""A quick plan within the overrun bound: budget rows loaded for risk, the loadings tuned
from the exact law of the plans they produce.

The chance constraint of a budget row, c_r + V_r(m) ≤ B_r (``risk_cuts.py``), is near a
straight line around the plans that matter: V_r(m) is the row's expected random spend
μ_r(m) = Σ_j a_j p_j m_j plus a safety margin that grows with the spread,
W_r(m) = Σ_j a_j² p_j (1 − p_j) m_j (the variance of the random part). So a row

    c_r + Σ_j (a_j p_j + κ_r · a_j² p_j (1 − p_j)) · m_j ≤ B_r          (``risk_load[r]``)

with the loading κ_r chosen so that it is tight where the exact constraint is, at the
plan's own counts, admits what the chance constraint admits near there. The loop: solve
with the current loadings (the whole solve strategy of ``solve.py``, relaxation first);
compute each row's exact value at risk at the plan's counts; if the plan overruns a row
more often than α, shrink its counts until it would not and set κ_r so the loaded row is
tight there; otherwise set κ_r so the row is tight at the plan itself; stop when the plan
is within α and the loadings have settled. Every plan is checked exactly; the best within
α is the incumbent the exact loop (``risk_cuts.risk_bounded``) then tries to prove.
"""

from __future__ import annotations

import logging

import numpy as np

from .risk_cuts import RiskCuts

log = logging.getLogger(__name__)

LOAD_ROUNDS = 6  # solves with loaded rows (each a full solve; the loop settles in 2-4)
SETTLED = 0.02  # relative change of every loading below which the loop stops


class Loadings:
    """The risk-load rows of a compiled programme and the loadings κ_r on them."""

    def __init__(self, programme, cuts: RiskCuts):
        self.programme = programme
        self.cuts = cuts
        m_rows = getattr(programme, "risk_rows", {})
        self.rows = m_rows  # budget row label -> compiled row index
        self.kappa: dict[str, float] = dict.fromkeys(m_rows, 0.0)
        self.base: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        matrix = programme.matrix.tocsr()
        for label, row in m_rows.items():
            start, end = matrix.indptr[row], matrix.indptr[row + 1]
            self.base[label] = (matrix.indices[start:end].copy(), matrix.data[start:end].copy())

    def apply(self) -> None:
        """Write the loadings into the rows: each designation of a row class gets its
        class's loading κ_r · a_j² p_j (1 − p_j) on top of its expected pay."""
        for label, row in self.rows.items():
            r = self.cuts.row_index(label)
            columns, base = self.base[label]
            values = base.copy()
            position = {c: i for i, c in enumerate(columns.tolist())}
            for rc in self.cuts.classes[r]:
                load = self.kappa[label] * float(rc.amount) ** 2 * rc.chance * (1 - rc.chance)
                for o in rc.options.tolist():
                    if o in position:
                        values[position[o]] = base[position[o]] + load
            self.programme.set_coefficients(row, columns, values)

    def reset(self) -> None:
        """Back to the budget rows' own coefficients (κ = 0), before the exact loop."""
        self.kappa = dict.fromkeys(self.rows, 0.0)
        self.apply()

    def calibrate(self, chosen: np.ndarray) -> float:
        """Set every κ_r from plan ``chosen`` (module docstring); return the largest
        relative change."""
        change = 0.0
        for label in self.rows:
            r = self.cuts.row_index(label)
            certain, counts = self.cuts.counts(chosen, r)
            slack = float(self.cuts.rows[r].budget - certain) / 1e4
            target = self._within(r, counts, slack)
            kappa = self._tight_at(r, target)
            if kappa is None:
                continue
            old = self.kappa[label]
            change = max(change, abs(kappa - old) / max(abs(old), 1e-12))
            self.kappa[label] = kappa
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

    def _tight_at(self, r: int, counts: list[int]) -> float | None:
        """κ making the loaded row say exactly V_r at ``counts``: (V − μ) / W."""
        classes = self.cuts.classes[r]
        mean = sum(float(c.amount) * c.chance * n for c, n in zip(classes, counts, strict=True))
        spread = sum(
            float(c.amount) ** 2 * c.chance * (1 - c.chance) * n
            for c, n in zip(classes, counts, strict=True)
        )
        if spread <= 0:
            return None
        return max(0.0, (float(self.cuts.need(r, counts)) - mean) / spread)


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
    for _ in range(LOAD_ROUNDS):
        outcome = programme.solve(warm_start=best)
        solves += 1
        if not outcome.has_solution:
            break
        within = not cuts.violated(outcome.chosen)
        if within:
            best = programme.better(best, outcome.values)
        change = loads.calibrate(outcome.chosen)
        log.info(
            "risk loads: %s, %s",
            "within the bound" if within else "over the bound",
            ", ".join(f"{k} κ={v:.4g}" for k, v in loads.kappa.items()),
        )
        if within and change < SETTLED:
            break
        loads.apply()
    loads.reset()
    return best, solves
