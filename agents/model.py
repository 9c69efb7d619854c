"""The Mesa model: firms and governments stepped quarterly, recording each quarter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mesa
import numpy as np
import pandas as pd

from . import behaviour
from .agents import AWARD_COLUMNS, PAYMENT_COLUMNS, REVOCATION_COLUMNS, FirmAgent, GovernmentSetup
from .government import GovernmentAgent
from .params import SERVICE_MODES, SimulationParameters
from .population import MANUFACTURER

# Independent random streams, each a fixed child of the replication's SeedSequence. Firms'
# behaviour draws come from BEHAVIOUR/<firm position>, so the award world and its twin
# (built from the same seed) draw identical numbers whatever the government does.
MODEL_STREAM, BEHAVIOUR_STREAM, GOVERNMENT_STREAM, POPULATION_STREAM = 0, 1, 2, 3
DYNAMIC_COLUMNS = ("revenue", "service_revenue_share", "service_input_share", "margin", "modes")


def as_seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def stream(root: np.random.SeedSequence, *key: int) -> np.random.SeedSequence:
    """The child of ``root`` at ``key``: what ``root.spawn`` would give, but by position,
    so asking twice gives the same stream (spawn counts its calls and would not)."""
    return np.random.SeedSequence(
        entropy=root.entropy, spawn_key=(*root.spawn_key, *key), pool_size=root.pool_size
    )


def threshold_label(threshold: float) -> str:
    """``share_above_20`` for 0.2: the trajectory column of a servitization threshold."""
    return f"share_above_{round(threshold * 100)}"


@dataclass
class WorldResult:
    """One world's run: a row per quarter, a row per firm, and the government's records."""

    trajectory: pd.DataFrame
    firms: pd.DataFrame
    awards: pd.DataFrame
    payments: pd.DataFrame
    revocations: pd.DataFrame
    owed: float = 0.0  # 万元 designated but falling due after the simulated years
    cancelled: float = 0.0  # 万元 owed for designations withdrawn before it was paid
    # 万元 paid above each budget row (year, or "total"), summed over governments
    overruns: dict[str, float] = field(default_factory=dict)


class ServitizationModel(mesa.Model):
    """Manufacturers and producer-service firms adding service modes quarter by quarter, and
    a government agent per policy holding yearly award rounds (none when awards are off)."""

    def __init__(
        self,
        firms: pd.DataFrame,
        params: SimulationParameters | None = None,
        governments: Sequence[GovernmentSetup] = (),
        start_year: int = 2024,
        seed: int | np.random.SeedSequence = 0,
    ) -> None:
        root = as_seed_sequence(seed)
        super().__init__(rng=stream(root, MODEL_STREAM))
        self.params = params or SimulationParameters()
        self.start_year = start_year
        self.t = 0
        table = firms.reset_index(drop=True)
        # Tables built by hand may leave out who is in a park and who is a manufacturer.
        table = table.assign(
            park=table["park"] if "park" in table.columns else None,
            role=table["role"] if "role" in table.columns else MANUFACTURER,
        )
        quarters = self.params.quarters
        self.firm_agents: list[FirmAgent] = []
        for i, row in enumerate(table.to_dict("records")):
            draws = np.random.default_rng(stream(root, BEHAVIOUR_STREAM, i))
            uniforms, normals = draws.random((quarters, 2)), draws.standard_normal((quarters, 2))
            self.firm_agents.append(FirmAgent(self, i, row, uniforms, normals))
        self.static = table.drop(columns=[c for c in DYNAMIC_COLUMNS if c in table.columns])
        self.manufacturer = (table["role"] == MANUFACTURER).to_numpy()
        self.governments = mesa.agent.AgentSet(
            [
                GovernmentAgent(
                    self, setup, np.random.default_rng(stream(root, GOVERNMENT_STREAM, k))
                )
                for k, setup in enumerate(governments)
            ]
            if self.params.awards_enabled
            else [],
            random=self.random,
        )
        self.hazard = np.zeros(len(self.firm_agents))
        self.reach = np.zeros(len(self.firm_agents), dtype=bool)
        self.records: list[dict] = []
        self.record()

    @property
    def year(self) -> int:
        """The calendar year of the quarter being simulated."""
        return self.start_year + self.t // 4

    @property
    def quarter(self) -> int:
        """1-4: the quarter of the year being simulated."""
        return self.t % 4 + 1

    def arrays(self) -> dict[str, np.ndarray]:
        """The firms' current state as arrays, in firm order (long-run share and margin
        computed here at once rather than firm by firm)."""
        firms, n, p = self.firm_agents, len(self.firm_agents), self.params

        def gather(name: str) -> np.ndarray:
            return np.fromiter((getattr(f, name) for f in firms), float, n)

        share, n_modes = gather("share"), gather("mode_count")
        return {
            "share": share,
            "n_modes": n_modes,
            "target": np.minimum(gather("cap"), gather("base_share") + p.share_per_mode * n_modes),
            "revenue": gather("revenue"),
            "margin": gather("margin_base") + behaviour.servitization_payoff(share, p),
            "cash": gather("cash"),
            "gap": gather("input_gap"),
            "cap": gather("cap"),
            "modes": np.array([f.modes for f in firms], dtype=bool).reshape(n, -1),
        }

    def state_table(
        self, after: bool = False, arrays: dict[str, np.ndarray] | None = None
    ) -> pd.DataFrame:
        """The firms as a candidate table that eligibility rules read: the population's
        columns with today's revenue, shares, margin, profit, n_modes and mode_<name>.
        ``after``: as if each manufacturer had one more mode and reached its long-run share."""
        a = arrays or self.arrays()
        share, modes, n_modes = a["share"], a["modes"], a["n_modes"]
        if after:
            lifted = np.minimum(a["cap"], a["target"] + self.params.share_per_mode)
            share = np.where(self.manufacturer, lifted, share)
            n_modes = np.where(
                self.manufacturer, np.minimum(n_modes + 1, len(SERVICE_MODES)), n_modes
            )
        columns = {
            "revenue": a["revenue"],
            "service_revenue_share": share,
            "service_input_share": np.minimum(1.0, share + a["gap"]),
            "margin": a["margin"],
            "profit": a["revenue"] * a["margin"],
            "n_modes": n_modes,
            **{f"mode_{m}": modes[:, k] for k, m in enumerate(SERVICE_MODES)},
        }
        if "design_prize_offset" in self.static.columns:
            # A prize counts in the year it is won (a synthetic population dates it); a
            # table without dates holds its prizes from the first year.
            won_now = self.static["design_prize_offset"].to_numpy() == self.year - self.start_year
            columns["design_prize"] = self.static["design_prize"].to_numpy(dtype=bool) & won_now
        return self.static.assign(**columns)

    def hazards(self) -> np.ndarray:
        """Each firm's chance of adding a mode this quarter (zero for producer-service firms):

        1 − exp(−¼ · (p + q·F) · (1 − n/M) · exp(β·v) · (1 + r·E[A]/Π·(1 + pull·short)))
        """
        p, a = self.params, self.arrays()
        peers = behaviour.peer_adoption(
            a["share"] >= p.adopter_share,
            self.static["park"].to_numpy(object),
            self.static["sector"].to_numpy(object),
            p.park_weight,
        )
        n_modes = a["n_modes"]
        rate = behaviour.bass_rate(
            p.innovation_p, p.imitation_q, peers
        ) * behaviour.remaining_potential(n_modes, len(SERVICE_MODES))
        value = behaviour.next_mode_value(a["revenue"], a["margin"], a["target"], a["cash"], p)
        rate = rate * behaviour.payoff_multiplier(value, p.payoff_sensitivity, p.payoff_clip)
        self.reach = np.zeros(len(self.firm_agents), dtype=bool)
        if len(self.governments):
            now, after = self.state_table(arrays=a), self.state_table(after=True, arrays=a)
            expected = np.zeros(len(self.firm_agents))
            for government in self.governments:
                value_g, short_g = government.incentives(now, after)
                expected += value_g
                self.reach |= short_g
            profit = behaviour.profit_base(a["revenue"], a["margin"], p.profit_floor)
            rate = rate * behaviour.award_multiplier(
                expected, profit, self.reach, p.award_response, p.threshold_pull
            )
        return np.where(self.manufacturer, behaviour.quarterly_probability(rate), 0.0)

    def step(self) -> None:
        """One quarter: firms decide on a new mode, shares and revenues move, rounds are held."""
        p = self.params
        self.hazard = self.hazards()
        for firm in self.firm_agents:
            firm.decide(self.hazard[firm.index])
        a = self.arrays()
        shocks = np.array([f.normals[self.t] for f in self.firm_agents]).reshape(-1, 2)
        shares = behaviour.share_step(
            a["share"], a["target"], p.share_adjustment, p.share_noise, shocks[:, 0]
        )
        revenues = behaviour.revenue_step(
            a["revenue"], p.revenue_growth, p.revenue_volatility, shocks[:, 1]
        )
        for firm, share, revenue in zip(
            self.firm_agents, shares.tolist(), revenues.tolist(), strict=True
        ):
            firm.advance(share, revenue)
        self.governments.do("step")
        self.t += 1
        self.record()

    def run(self, on_step: Callable[[], None] | None = None) -> WorldResult:
        """Simulate every quarter (calling ``on_step`` after each) and return the results."""
        while self.t < self.params.quarters:
            self.step()
            if on_step:
                on_step()
        return self.results()

    def label(self, t: int) -> str:
        """The quarter just ended after t steps: "2023Q4" at the start, "2024Q1" after one."""
        year, quarter = divmod(self.start_year * 4 + t - 1, 4)
        return f"{year}Q{quarter + 1}"

    def record(self) -> None:
        """Append this quarter's servitization, uptake and award figures (manufacturers)."""
        a = self.arrays()
        manu = self.manufacturer
        share = a["share"][manu]
        awards = [r for g in self.governments for r in g.awards]
        row = {
            "t": self.t,
            "quarter": self.label(self.t),
            "manufacturers": int(manu.sum()),
            "mean_service_share": float(share.mean()) if len(share) else 0.0,
            **{
                threshold_label(x): float((share >= x).mean()) if len(share) else 0.0
                for x in self.params.thresholds
            },
            "mean_modes": float(a["n_modes"][manu].mean()) if len(share) else 0.0,
            "adoptions": sum(f.adopted is not None for f in self.firm_agents) if self.t else 0,
            "mean_hazard": float(self.hazard[manu].mean()) if len(share) else 0.0,
            "one_mode_short": int(self.reach.sum()),
            "designations_held": sum(len(f.held) for f in self.firm_agents),
            "nominated": sum(r["nomination"] for r in awards),
            "conferred": sum(r["conferred"] for r in awards),
            "paid": float(sum(p["paid"] for g in self.governments for p in g.payments)),
            "revoked": sum(len(g.revocations) for g in self.governments),
        }
        self.records.append(row)

    def results(self) -> WorldResult:
        """The run so far as tables."""
        firms = pd.DataFrame(
            {
                "firm_id": [f.firm_id for f in self.firm_agents],
                "role": [f.role for f in self.firm_agents],
                "district": [f.district for f in self.firm_agents],
                "sector": [f.sector for f in self.firm_agents],
                "start_share": [f.start_share for f in self.firm_agents],
                "end_share": [f.share for f in self.firm_agents],
                "start_modes": [f.start_modes for f in self.firm_agents],
                "end_modes": [f.n_modes for f in self.firm_agents],
                "end_revenue": [f.revenue for f in self.firm_agents],
                "received": [f.received for f in self.firm_agents],
                "held": [
                    ";".join(f"{p}:{h.level}" for (_, p), h in f.held.items()) or None
                    for f in self.firm_agents
                ],
            }
        )

        def gather(name: str, columns: list[str]) -> pd.DataFrame:
            rows = [r for g in self.governments for r in getattr(g, name)]
            return pd.DataFrame(rows, columns=columns)

        return WorldResult(
            trajectory=pd.DataFrame(self.records),
            firms=firms,
            awards=gather("awards", AWARD_COLUMNS),
            payments=gather("payments", PAYMENT_COLUMNS),
            revocations=gather("revocations", REVOCATION_COLUMNS),
            owed=sum(g.committed_unpaid() for g in self.governments),
            cancelled=sum(g.ledger.cancelled for g in self.governments),
            overruns=_summed([g.overruns() for g in self.governments]),
        )


def _summed(parts: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0.0) + value
    return dict(sorted(total.items()))
