"""The agents' records: firms that add service modes, what a government is set up with, and
the columns of its award, payment and revocation tables (the government is in government.py)."""

from __future__ import annotations

from dataclasses import dataclass

import mesa
import numpy as np

from liangye.model.candidates import parse_held
from liangye.model.policy import Policy
from liangye.model.settings import AllocationSettings, Budget

from . import behaviour
from .params import SERVICE_MODES
from .population import MANUFACTURER

# An award row is one decision of a round: ``amount`` the tier amount, ``cost`` what the
# designation itself costs the city (after a top-up), ``committed`` everything it will pay
# if conferred (its instalments and the policy's later payouts; 0 if not conferred).
AWARD_COLUMNS = [
    "year",
    "policy",
    "firm_id",
    "district",
    "sector",
    "programme",
    "level",
    "decision",
    "nomination",
    "conferred",
    "amount",
    "cost",
    "committed",
    "score",
]
PAYMENT_COLUMNS = ["year", "policy", "firm_id", "district", "programme", "level", "paid"]
# ``cancelled``: 万元 still owed for the designation when it was withdrawn, no longer paid.
REVOCATION_COLUMNS = [
    "year",
    "policy",
    "firm_id",
    "programme",
    "level",
    "reason",
    "cancelled",
]


@dataclass
class Holding:
    """A designation a firm holds: its level, the tier amount it was worth, and since when."""

    level: str
    amount: float
    since: int


class FirmAgent(mesa.Agent):
    """A manufacturer or producer-service firm: its modes, service share, money, designations.

    Its behavioural draws (two uniforms and two normals per quarter) come from its own
    seeded stream and are fixed at creation, so the award world and its twin see the same
    numbers whatever happens in either.
    """

    def __init__(
        self, model: mesa.Model, index: int, row: dict, uniforms: np.ndarray, normals: np.ndarray
    ) -> None:
        super().__init__(model)
        params = model.params
        self.index = index
        self.firm_id = str(row["id"])
        self.role = str(row["role"])
        self.district, self.sector = str(row["district"]), str(row["sector"])
        self.revenue = float(row["revenue"])
        self.share = float(row["service_revenue_share"])
        self.input_gap = max(0.0, float(row["service_input_share"]) - self.share)
        names = set(filter(None, str(row.get("modes") or "").split(";")))
        self.modes = np.array([m in names for m in SERVICE_MODES], dtype=bool)
        self.mode_count = int(self.modes.sum())
        # The firm starts at its long-run share: whatever the listed modes do not explain is
        # its base (spare parts, repairs) and stays.
        self.base_share = self.share - params.share_per_mode * self.mode_count
        self.cap = params.max_service_share if self.manufacturer else 1.0
        margin = float(row["margin"])
        self.margin_base = margin - float(behaviour.servitization_payoff(self.share, params))
        self.cash = 0.0  # award money not yet spent: it pays the next mode's cost first
        self.received = 0.0
        self.held: dict[tuple[str, str], Holding] = {}  # (policy, programme) -> holding
        self.initial_held = parse_held(row.get("held"))
        self.uniforms, self.normals = uniforms, normals
        self.start_share, self.start_modes = self.share, self.mode_count
        self.adopted: int | None = None

    @property
    def manufacturer(self) -> bool:
        return self.role == MANUFACTURER

    @property
    def n_modes(self) -> int:
        return self.mode_count

    def decide(self, hazard: float) -> None:
        """Add a mode if this quarter's uniform falls below ``hazard``; the second uniform
        picks which of the modes not yet run (in SERVICE_MODES order). The one-off cost is
        paid from award money first (the rest from the firm's own funds, not tracked)."""
        self.adopted = None
        u_adopt, u_mode = self.uniforms[self.model.t]
        if not self.manufacturer or self.mode_count == len(SERVICE_MODES) or u_adopt >= hazard:
            return
        remaining = np.flatnonzero(~self.modes)
        mode = int(remaining[min(int(u_mode * len(remaining)), len(remaining) - 1)])
        self.modes[mode] = True
        self.mode_count += 1
        self.adopted = mode
        cost = self.model.params.adoption_cost * self.revenue
        self.cash -= min(cost, self.cash)

    def advance(self, share: float, revenue: float) -> None:
        """Take the quarter's new service share and revenue (computed for all firms at once)."""
        self.share, self.revenue = share, revenue

    def receive(self, amount: float) -> None:
        """Award money paid to the firm (万元)."""
        self.cash += amount
        self.received += amount


@dataclass
class GovernmentSetup:
    """A deciding government: its policy, yearly budgets and allocation settings."""

    policy: Policy
    budget: Budget
    settings: AllocationSettings
