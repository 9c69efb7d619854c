"""The Mesa model: firms (array state) and governments stepped quarterly, recording each quarter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import mesa
import numpy as np
import pandas as pd

from . import behaviour, draws, records
from .agents import FirmAgent, GovernmentSetup
from .draws import (
    ADOPTION,
    BEHAVIOUR_STREAM,
    GOVERNMENT_STREAM,
    MODEL_STREAM,
    SHOCKS,
    as_seed_sequence,
    stream,
)
from .government import GovernmentAgent
from .params import SERVICE_MODES, SimulationParameters
from .population import MANUFACTURER
from .records import threshold_label
from .state import FirmState

__all__ = ["ServitizationModel", "WorldResult", "run_world", "threshold_label"]

DYNAMIC_COLUMNS = ("revenue", "service_revenue_share", "service_input_share", "margin", "modes")


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
    # How each government's round of each year ended (rounds.ROUND_OUTCOMES), listed
    rounds: list[str] = field(default_factory=list)
    # seconds spent per stage (records.Stopwatch): for benchmarks, no outcome reads it
    seconds: dict[str, float] = field(default_factory=dict)
    # What of each policy is not simulated (a programme sitting out, a quota over such
    # programmes only), with why: GovernmentAgent.not_simulated
    not_simulated: list[dict[str, str]] = field(default_factory=list)


class ServitizationModel(mesa.Model):
    """Manufacturers and producer-service firms adding service modes quarter by quarter, and
    a government agent per policy holding yearly award rounds (none when awards are off).

    The firms' numbers live in ``self.firms`` (a ``FirmState`` of arrays) and every rule
    runs over all firms at once; ``firm_agents`` are Mesa agents viewing one row each
    (agents.FirmAgent says why). What is recorded goes to ``self.datacollector``, a Mesa
    DataCollector: a model reporter per trajectory column, tables of awards, payments and
    revocations."""

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
        self.stopwatch = records.Stopwatch()
        self.start_year = start_year
        self.t = 0
        table = firms.reset_index(drop=True)
        # Tables built by hand may leave out who is in a park and who is a manufacturer.
        table = table.assign(
            park=table["park"] if "park" in table.columns else None,
            role=table["role"] if "role" in table.columns else MANUFACTURER,
        )
        n, quarters = len(table), self.params.quarters
        self.firms = FirmState.from_table(table, self.params)
        # Each quarter's behavioural draws, (quarters × firms × 2): uniforms (adopt, which
        # mode) and normals (share, revenue shocks), from streams keyed by quarter and
        # purpose (draws.py): the award world and its twin see the same numbers whatever
        # happens in either, and a firm's numbers do not move with the horizon or the
        # number of firms.
        self.uniforms = np.stack(
            [draws.uniforms(root, (BEHAVIOUR_STREAM, t, ADOPTION), n, 2) for t in range(quarters)]
        )
        self.normals = np.stack(
            [draws.normals(root, (BEHAVIOUR_STREAM, t, SHOCKS), n, 2) for t in range(quarters)]
        )
        self.firm_agents = [FirmAgent(self, i) for i in range(n)]
        self.static = table.drop(columns=[c for c in DYNAMIC_COLUMNS if c in table.columns])
        self.static_arrays = {c: self.static[c].array for c in self.static.columns}
        self._static_twice: dict[str, object] | None = None  # state_tables' population columns
        self.manufacturer = self.firms.manufacturer
        # Peers are firms of the same park or sector: coded once, counted every quarter.
        self.park = behaviour.group_codes(self.static["park"].to_numpy(object))
        self.sector = behaviour.group_codes(self.static["sector"].to_numpy(object))
        self.index_of = {firm_id: i for i, firm_id in enumerate(self.firms.firm_id)}
        self.hazard = np.zeros(n)
        self.reach = np.zeros(n, dtype=bool)
        self.datacollector = records.collector(self.params.thresholds)
        # (table, policy) -> (its rows when framed, the frame): see ``table``
        self._frames: dict[tuple[str, str | None], tuple[int, pd.DataFrame]] = {}
        self.governments = mesa.agent.AgentSet(
            [
                GovernmentAgent(self, setup, draws.Draws(root, (GOVERNMENT_STREAM, k)))
                for k, setup in enumerate(governments)
            ]
            if self.params.awards_enabled
            else [],
            random=self.random,
        )
        self.datacollector.collect(self)

    @property
    def year(self) -> int:
        """The calendar year of the quarter being simulated."""
        return self.start_year + self.t // 4

    @property
    def quarter(self) -> int:
        """1-4: the quarter of the year being simulated."""
        return self.t % 4 + 1

    def state_table(self, after: bool = False) -> pd.DataFrame:
        """The firms as a candidate table that eligibility rules read: the population's
        columns with today's revenue, shares, margin, profit, n_modes and mode_<name>.
        ``after``: as if each manufacturer had one more mode and reached its long-run share."""
        # What static.assign(**columns) gives (the columns the population has replaced in
        # place, the others after them), framed at once from arrays: a fifth of assign's
        # time, two thirds of concatenating the population with a frame of the new columns.
        table = pd.DataFrame(
            {**self.static_arrays, **self.state_columns(after)}, index=self.static.index
        )
        table.attrs = dict(self.static.attrs)
        return table

    def state_tables(self) -> pd.DataFrame:
        """``state_table()`` and ``state_table(after=True)`` stacked, rows 0..n-1 and n..2n-1
        (what ``pd.concat`` of the two gives, ``ignore_index``): the table a quarter's
        eligibility is read over, once for both (``GovernmentAgent.incentives_stacked``)."""
        if self._static_twice is None:  # the population's columns do not change
            twice = np.concatenate([np.arange(len(self.static))] * 2)
            self._static_twice = {c: a.take(twice) for c, a in self.static_arrays.items()}
        now, after = self.state_columns(), self.state_columns(after=True)
        table = pd.DataFrame(
            {**self._static_twice, **{c: np.concatenate([now[c], after[c]]) for c in now}}
        )
        table.attrs = dict(self.static.attrs)
        return table

    def state_columns(self, after: bool = False) -> dict[str, np.ndarray]:
        """The columns of ``state_table`` that are not the population's as it was read
        (design_prize replaced: a prize counts in the year it is won)."""
        f, p = self.firms, self.params
        share, n_modes, margin = f.share, f.n_modes(), f.margin(p)
        if after:
            lifted = np.minimum(f.cap, f.target(p) + p.share_per_mode)
            share = np.where(self.manufacturer, lifted, share)
            n_modes = np.where(
                self.manufacturer, np.minimum(n_modes + 1, len(SERVICE_MODES)), n_modes
            )
        columns = {
            "revenue": f.revenue,
            "service_revenue_share": share,
            "service_input_share": np.minimum(1.0, share + f.input_gap),
            "margin": margin,
            "profit": f.revenue * margin,
            "n_modes": n_modes,
            **{f"mode_{m}": f.modes[:, k] for k, m in enumerate(SERVICE_MODES)},
        }
        if "design_prize_offset" in self.static.columns:
            # A prize counts in the year it is won (a synthetic population dates it); a
            # table without dates holds its prizes from the first year.
            won_now = self.static["design_prize_offset"].to_numpy() == self.year - self.start_year
            columns["design_prize"] = self.static["design_prize"].to_numpy(dtype=bool) & won_now
        return columns

    def hazards(self) -> np.ndarray:
        """Each firm's chance of adding a mode this quarter (zero for producer-service firms):

        1 − exp(−¼ · (p + q·F) · (1 − n/M) · exp(β·v) · (1 + r·E[A]/Π·(1 + pull·short)))
        """
        p, f = self.params, self.firms
        margin = f.margin(p)
        peers = behaviour.peer_adoption_by_group(
            f.share >= p.adopter_share, self.park, self.sector, p.park_weight
        )
        rate = behaviour.bass_rate(
            p.innovation_p, p.imitation_q, peers
        ) * behaviour.remaining_potential(f.n_modes(), len(SERVICE_MODES))
        value = behaviour.next_mode_value(f.revenue, margin, f.target(p), f.cash, p)
        rate = rate * behaviour.payoff_multiplier(value, p.payoff_sensitivity, p.payoff_clip)
        self.reach = np.zeros(len(f), dtype=bool)
        if len(self.governments):
            both = self.state_tables()
            expected = np.zeros(len(f))
            for government in self.governments:
                value_g, short_g = government.incentives_stacked(both, len(f))
                expected += value_g
                self.reach |= short_g
            profit = behaviour.profit_base(f.revenue, margin, p.profit_floor)
            rate = rate * behaviour.award_multiplier(
                expected, profit, self.reach, p.award_response, p.threshold_pull
            )
        return np.where(self.manufacturer, behaviour.quarterly_probability(rate), 0.0)

    def step(self) -> None:
        """One quarter: firms decide on a new mode, shares and revenues move, rounds are held."""
        p = self.params
        self.hazard = self.hazards()
        uniforms, normals = self.uniforms[self.t], self.normals[self.t]
        self.firms.adopt(self.hazard, uniforms[:, 0], uniforms[:, 1], p)
        self.firms.advance(normals[:, 0], normals[:, 1], p)
        self.governments.do("step")
        self.t += 1
        self.datacollector.collect(self)

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

    def table(self, name: str, policy: str | None = None) -> pd.DataFrame:
        """One of the recorded tables (awards, payments, revocations), of one policy if given.

        The tables only grow, so a frame is kept and only rows added since are framed and
        appended (a round reads the awards three times, and framing thousands of rows of
        text was milliseconds each); each call returns its own shallow copy, which
        copy-on-write keeps apart from the kept frame."""
        rows = len(self.datacollector.tables[name][records.TABLES[name][0]])
        cached = self._frames.get((name, policy))
        if cached is None or cached[0] != rows:
            if policy is None:
                if cached is not None and 0 < cached[0] < rows:
                    frame = _appended(cached[1], self.datacollector, name, cached[0])
                else:
                    frame = records.table_frame(self.datacollector, name)
            else:
                # Compared in the recorded list: a pandas comparison over the text column
                # and a filter of every column cost a millisecond, and with one government
                # every row is its own.
                mine = [p == policy for p in self.datacollector.tables[name]["policy"]]
                whole = self.table(name)
                frame = whole if all(mine) else whole[np.array(mine, dtype=bool)]
            cached = self._frames[(name, policy)] = (rows, frame)
        return cached[1].copy(deep=False)

    def results(self) -> WorldResult:
        """The run so far as tables."""
        f = self.firms
        firms = pd.DataFrame(
            {
                "firm_id": f.firm_id,
                "role": f.role,
                "district": f.district,
                "sector": f.sector,
                "start_share": f.start_share,
                "end_share": f.share,
                "start_modes": f.start_modes,
                "end_modes": f.mode_count,
                "end_revenue": f.revenue,
                "received": f.received,
                "held": f.held_text(),
            }
        )
        return WorldResult(
            trajectory=self.datacollector.get_model_vars_dataframe(),
            firms=firms,
            awards=self.table("awards"),
            payments=self.table("payments"),
            revocations=self.table("revocations"),
            owed=sum(g.committed_unpaid() for g in self.governments),
            cancelled=sum(g.ledger.cancelled for g in self.governments),
            overruns=_summed([g.overruns() for g in self.governments]),
            rounds=[o for g in self.governments for _, o in sorted(g.round_outcomes.items())],
            seconds=dict(self.stopwatch.seconds),
            not_simulated=[entry for g in self.governments for entry in g.not_simulated],
        )


def run_world(
    firms: pd.DataFrame,
    params: SimulationParameters,
    governments: Sequence[GovernmentSetup] = (),
    start_year: int = 2024,
    seed: int | np.random.SeedSequence = 0,
    on_step: Callable[[], None] | None = None,
) -> WorldResult:
    """One world simulated to its end (``ServitizationModel(...).run(on_step)``), the model
    then let go.

    Mesa 3.3 numbers agents from a dict on the Agent class keyed by model (mesa#3179), which
    kept every finished world alive: 18,000 objects a replication that the cyclic garbage
    collector then traversed again in every later one (and their arrays in memory)."""
    model = ServitizationModel(firms, params, governments, start_year, seed)
    try:
        return model.run(on_step)
    finally:
        let_go(model)


def let_go(model: mesa.Model) -> None:
    """Drop ``model`` from Mesa 3.3's class-level agent registry (mesa#3179; ``run_world``),
    so that a model no longer used is freed."""
    ids = getattr(mesa.Agent, "_ids", None)
    if isinstance(ids, dict):
        ids.pop(model, None)


def _appended(
    frame: pd.DataFrame, collector: mesa.DataCollector, name: str, start: int
) -> pd.DataFrame:
    """``frame`` (the table's first ``start`` rows) with the rows recorded since appended: the
    frame ``records.table_frame`` gives of the whole table (framed whole again if the new
    rows' column types are not the kept ones')."""
    added = records.table_frame(collector, name, start)
    if not added.dtypes.equals(frame.dtypes):
        return records.table_frame(collector, name)
    return pd.concat([frame, added], ignore_index=True)


def _summed(parts: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for part in parts:
        for key, value in part.items():
            total[key] = total.get(key, 0.0) + value
    return dict(sorted(total.items()))
