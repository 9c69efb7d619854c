"""The agents: firms (views of the model's array state), what a government is set up with,
and the columns of its award, payment and revocation tables (the government is in
government.py, the firms' arrays in state.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mesa
import numpy as np

from liangye.model.candidates import Held
from liangye.model.policy import Policy
from liangye.model.settings import AllocationSettings, Budget

from .records import AWARD_COLUMNS, PAYMENT_COLUMNS, REVOCATION_COLUMNS
from .state import NO_MODE, FirmState, Holding

__all__ = [
    "AWARD_COLUMNS",
    "PAYMENT_COLUMNS",
    "REVOCATION_COLUMNS",
    "FirmAgent",
    "GovernmentSetup",
    "Holding",
]


def _column(name: str, kind: Callable[[Any], Any]) -> property:
    """An attribute of a firm read from (and written to) its entry of a FirmState array."""

    def read(self: FirmAgent) -> Any:
        return kind(getattr(self.state, name)[self.index])

    def write(self: FirmAgent, value: Any) -> None:
        getattr(self.state, name)[self.index] = value

    return property(read, write, doc=f"the firm's entry of FirmState.{name}")


class FirmAgent(mesa.Agent):
    """A manufacturer or producer-service firm, as Mesa sees it: a view of row ``index`` of
    the model's ``FirmState``.

    Why views and not agents holding their own numbers: every quarter each rule runs over
    all firms at once with numpy (``FirmState``, ``behaviour``), so per-firm Python would be
    the cost of a replication. The firms stay Mesa agents (``model.agents``, a dashboard or
    a test can still look at one firm) at about 2 µs each to create, and nothing per step:
    reading or setting an attribute here reads or sets the arrays.
    """

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def state(self) -> FirmState:
        return self.model.firms

    firm_id = _column("firm_id", str)
    role = _column("role", str)
    district = _column("district", str)
    sector = _column("sector", str)
    revenue = _column("revenue", float)
    share = _column("share", float)
    base_share = _column("base_share", float)
    input_gap = _column("input_gap", float)
    cap = _column("cap", float)
    margin_base = _column("margin_base", float)
    cash = _column("cash", float)
    received = _column("received", float)
    start_share = _column("start_share", float)
    start_modes = _column("start_modes", int)
    n_modes = _column("mode_count", int)

    @property
    def manufacturer(self) -> bool:
        return bool(self.state.manufacturer[self.index])

    @property
    def modes(self) -> np.ndarray:
        """The firm's row of the mode matrix (a view: setting it sets the model's)."""
        return self.state.modes[self.index]

    @property
    def adopted(self) -> int | None:
        """The mode (index in SERVICE_MODES) the firm added this quarter, or None."""
        mode = int(self.state.adopted[self.index])
        return None if mode == NO_MODE else mode

    @property
    def held(self) -> dict[tuple[str, str], Holding]:
        """{(policy, programme): Holding}: the designations the firm holds (to change them,
        ``FirmState.hold`` and ``release``: what governments read from holdings follows those)."""
        return self.state.holdings_of(self.index)

    @property
    def initial_held(self) -> list[Held]:
        """The designations the firm held before the simulated years (its ``held`` column)."""
        return self.state.initial_held.get(self.index, [])


@dataclass
class GovernmentSetup:
    """A deciding government: its policy, yearly budgets and allocation settings."""

    policy: Policy
    budget: Budget
    settings: AllocationSettings
