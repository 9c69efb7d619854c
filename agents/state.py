"""The firms' state as arrays, one entry per firm in population order, and the vectorised
steps that change it: adding a mode, moving shares and revenues, receiving award money."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from liangye.model.candidates import Held, parse_held

from . import behaviour
from .params import SERVICE_MODES, SimulationParameters
from .population import MANUFACTURER

NO_MODE = -1  # ``adopted`` of a firm that added no mode this quarter
_MODE_COLUMN = {mode: k for k, mode in enumerate(SERVICE_MODES)}


@dataclass(frozen=True)
class Holding:
    """A designation a firm holds: its level, what its award pays in all (amount, later
    payouts, at most its cap: ``later_payments.award_totals``), and since when."""

    level: str
    amount: float
    since: int


def mode_matrix(modes: pd.Series | None, n: int) -> np.ndarray:
    """(n × len(SERVICE_MODES)) booleans from "a;b" texts: True where a firm runs the mode.
    Names that are not modes (and empty or missing texts) run nothing."""
    matrix = np.zeros((n, len(SERVICE_MODES)), dtype=bool)
    if modes is None or n == 0:
        return matrix
    rows: list[int] = []
    columns: list[int] = []
    # A loop over the texts: a quarter of pandas' split and explode (2.2 ms at 2,000 firms,
    # twice a replication). A missing value reads as text, as str() would: "nan" and "None"
    # are no mode's name.
    for i, value in enumerate(modes.tolist()):
        for name in str(value or "").split(";"):
            k = _MODE_COLUMN.get(name)
            if k is not None:
                rows.append(i)
                columns.append(k)
    matrix[rows, columns] = True
    return matrix


@dataclass
class FirmState:
    """Every firm's state: what it is (ids, role, place), where it stands (revenue, service
    share, modes, award money) and what it holds. Arrays in population order; ``held`` is
    sparse (firm position → {(policy, programme): Holding}) since few firms hold anything,
    and each firm's entries keep the order in which they were designated."""

    firm_id: np.ndarray  # str
    role: np.ndarray  # str
    district: np.ndarray  # str
    sector: np.ndarray  # str
    manufacturer: np.ndarray  # bool
    revenue: np.ndarray  # 万元 a year
    share: np.ndarray  # service revenue share
    input_gap: np.ndarray  # service input share minus service revenue share (≥ 0)
    modes: np.ndarray  # (n × modes) bool
    mode_count: np.ndarray  # int
    base_share: np.ndarray  # the share the listed modes do not explain (it stays)
    cap: np.ndarray  # the highest share the firm can reach
    margin_base: np.ndarray  # the margin without the servitization payoff
    cash: np.ndarray  # award money not yet spent: it pays the next mode's cost first
    received: np.ndarray  # award money received in all
    adopted: np.ndarray  # the mode added this quarter (index in SERVICE_MODES) or NO_MODE
    start_share: np.ndarray
    start_modes: np.ndarray
    initial_held: dict[int, list[Held]] = field(default_factory=dict)  # before the horizon
    held: dict[int, dict[tuple[str, str], Holding]] = field(default_factory=dict)
    # Bumped by every change to ``held`` made through ``hold`` and ``release``: what is
    # read from the holdings (a government's payables, the held texts) is kept until then.
    held_version: int = 0

    @classmethod
    def from_table(cls, table: pd.DataFrame, params: SimulationParameters) -> FirmState:
        """The state of the firms in ``table`` (a population, reset to positions 0..n-1, with
        ``role`` and ``park`` filled in), each at its long-run share: whatever its listed
        modes do not explain is its base (spare parts, repairs) and stays."""
        n = len(table)
        share = table["service_revenue_share"].to_numpy(dtype=float).copy()
        modes = mode_matrix(table["modes"] if "modes" in table.columns else None, n)
        mode_count = modes.sum(axis=1).astype(np.int64)
        role = table["role"].astype(str).to_numpy(dtype=object)
        manufacturer = role == MANUFACTURER
        held_column = table["held"] if "held" in table.columns else pd.Series([None] * n)
        initial = {
            int(i): entries
            for i, value in zip(
                np.flatnonzero(held_column.notna()), held_column.dropna(), strict=True
            )
            if (entries := parse_held(value))
        }
        margin = table["margin"].to_numpy(dtype=float)
        return cls(
            firm_id=table["id"].astype(str).to_numpy(dtype=object),
            role=role,
            district=table["district"].astype(str).to_numpy(dtype=object),
            sector=table["sector"].astype(str).to_numpy(dtype=object),
            manufacturer=manufacturer,
            revenue=table["revenue"].to_numpy(dtype=float).copy(),
            share=share,
            input_gap=np.maximum(0.0, table["service_input_share"].to_numpy(dtype=float) - share),
            modes=modes,
            mode_count=mode_count,
            base_share=share - params.share_per_mode * mode_count,
            cap=np.where(manufacturer, params.max_service_share, 1.0),
            margin_base=margin - behaviour.servitization_payoff(share, params),
            cash=np.zeros(n),
            received=np.zeros(n),
            adopted=np.full(n, NO_MODE, dtype=np.int64),
            start_share=share.copy(),
            start_modes=mode_count.copy(),
            initial_held=initial,
        )

    def __len__(self) -> int:
        return len(self.firm_id)

    def target(self, params: SimulationParameters) -> np.ndarray:
        """The long-run share each firm heads for: base + share_per_mode × modes, capped."""
        return np.minimum(self.cap, self.base_share + params.share_per_mode * self.n_modes())

    def margin(self, params: SimulationParameters) -> np.ndarray:
        """Today's operating margin: the base margin plus the servitization payoff J(share)."""
        return self.margin_base + behaviour.servitization_payoff(self.share, params)

    def n_modes(self) -> np.ndarray:
        """The number of modes each firm runs, as floats (what the behaviour rules read)."""
        return self.mode_count.astype(float)

    def adopt(
        self,
        hazard: np.ndarray,
        u_adopt: np.ndarray,
        u_mode: np.ndarray,
        params: SimulationParameters,
    ) -> None:
        """Every manufacturer with a mode left whose ``u_adopt`` falls below its ``hazard``
        adds a mode: ``u_mode`` picks which of the modes it does not yet run (in
        SERVICE_MODES order). The one-off cost is paid from award money first (the rest from
        the firm's own funds, not tracked). Sets ``adopted``."""
        total = len(SERVICE_MODES)
        self.adopted[:] = NO_MODE
        # "not (u ≥ hazard)" rather than "u < hazard": a hazard that is not a number adopts,
        # as the per-firm rule did.
        adopting = np.flatnonzero(
            self.manufacturer & (self.mode_count != total) & ~(u_adopt >= hazard)
        )
        if len(adopting) == 0:
            return
        left = total - self.mode_count[adopting]
        pick = np.minimum((u_mode[adopting] * left).astype(np.int64), left - 1)
        # The pick-th mode not yet run: the first column where the count of free modes
        # passes pick.
        free = ~self.modes[adopting]
        mode = np.argmax(np.cumsum(free, axis=1) > pick[:, None], axis=1)
        self.modes[adopting, mode] = True
        self.mode_count[adopting] += 1
        self.adopted[adopting] = mode
        cost = params.adoption_cost * self.revenue[adopting]
        self.cash[adopting] -= np.minimum(cost, self.cash[adopting])

    def advance(
        self, share_shock: np.ndarray, revenue_shock: np.ndarray, params: SimulationParameters
    ) -> None:
        """A quarter's move of every service share towards its target and every revenue
        along its log-normal walk (``behaviour.share_step``, ``behaviour.revenue_step``)."""
        self.share = behaviour.share_step(
            self.share,
            self.target(params),
            params.share_adjustment,
            params.share_noise,
            share_shock,
        )
        self.revenue = behaviour.revenue_step(
            self.revenue, params.revenue_growth, params.revenue_volatility, revenue_shock
        )

    def receive(self, firms: np.ndarray, amounts: np.ndarray) -> None:
        """Award money (万元) paid to ``firms`` (positions, repeats allowed), added in order."""
        np.add.at(self.cash, firms, amounts)
        np.add.at(self.received, firms, amounts)

    def holdings_of(self, index: int) -> dict[tuple[str, str], Holding]:
        """Firm ``index``'s designations, {(policy, programme): Holding} (stored on first use).
        Read it; change it through ``hold`` and ``release``, which readers' caches follow."""
        return self.held.setdefault(index, {})

    def hold(self, index: int, key: tuple[str, str], holding: Holding) -> None:
        """Firm ``index`` holds ``holding`` under (policy, programme) ``key`` (replacing any)."""
        self.holdings_of(index)[key] = holding
        self.held_version += 1

    def release(self, index: int, key: tuple[str, str]) -> Holding:
        """Firm ``index`` no longer holds (policy, programme) ``key``; returns what it held."""
        self.held_version += 1
        return self.held[index].pop(key)

    def designations_held(self) -> int:
        """How many designations all firms hold."""
        return sum(len(h) for h in self.held.values())

    def held_text(self, policy: str | None = None) -> list[str | None]:
        """Each firm's designations as "programme:level;..." (those of ``policy`` only if
        given), in the order they were made; None for a firm holding none."""
        out: list[str | None] = [None] * len(self)
        for index, holdings in self.held.items():
            entries = [
                f"{p}:{h.level}" for (pol, p), h in holdings.items() if policy in (None, pol)
            ]
            out[index] = ";".join(entries) or None
        return out
