"""The agents: firms that add service modes, and a government per policy that awards them."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import mesa
import numpy as np
import pandas as pd

from liangye.model.allocation import allocate
from liangye.model.candidates import parse_held
from liangye.model.errors import InputError
from liangye.model.greedy import greedy_plan
from liangye.model.options import AllocationProblem, build_problem
from liangye.model.policy import Policy
from liangye.model.settings import AllocationSettings, Budget

from . import behaviour
from .params import SERVICE_MODES
from .population import MANUFACTURER
from .rounds import (
    NO_LEVEL,
    expected_award,
    level_rank,
    may_apply,
    paced_policy,
    payable,
    programme_terms,
    revocation_reasons,
    round_settings,
    simulated_policy,
    without_minimums,
)

log = logging.getLogger(__name__)
AWARD_COLUMNS = [
    "year",
    "policy",
    "firm_id",
    "district",
    "sector",
    "programme",
    "level",
    "nomination",
    "conferred",
    "amount",
    "cost",
    "score",
]
PAYMENT_COLUMNS = ["year", "policy", "firm_id", "district", "programme", "level", "paid"]
REVOCATION_COLUMNS = ["year", "policy", "firm_id", "programme", "level", "reason"]


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
        self.unfunded_cost = 0.0
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

    @property
    def target_share(self) -> float:
        """The share the firm heads for with the modes it runs."""
        return min(self.cap, self.base_share + self.model.params.share_per_mode * self.mode_count)

    def decide(self, hazard: float) -> None:
        """Add a mode if this quarter's uniform falls below ``hazard``; the second uniform
        picks which of the modes not yet run (in SERVICE_MODES order). The one-off cost is
        paid from award money first."""
        self.adopted, self.unfunded_cost = None, 0.0
        u_adopt, u_mode = self.uniforms[self.model.t]
        if not self.manufacturer or self.mode_count == len(SERVICE_MODES) or u_adopt >= hazard:
            return
        remaining = np.flatnonzero(~self.modes)
        mode = int(remaining[min(int(u_mode * len(remaining)), len(remaining) - 1)])
        self.modes[mode] = True
        self.mode_count += 1
        self.adopted = mode
        cost = self.model.params.adoption_cost * self.revenue
        covered = min(cost, self.cash)
        self.cash -= covered
        self.unfunded_cost = cost - covered

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


class GovernmentAgent(mesa.Agent):
    """Runs a policy's yearly rounds: applications, noisy scores, the allocation (liangye.model),
    nominations upward, payouts (later ones too), and revocation of holders below the bar."""

    def __init__(self, model: mesa.Model, setup: GovernmentSetup, rng: np.random.Generator):
        super().__init__(model)
        params = model.params
        columns = set(model.state_table().columns)
        self.policy, sitting_out = simulated_policy(setup.policy, setup.settings, params, columns)
        for reason in sitting_out:
            log.info("%s: not simulated: %s", setup.policy.id, reason)
        if not self.policy.programmes:
            log.warning("%s: no programme pays firms; its rounds award nothing", setup.policy.id)
        self.budget = setup.budget
        self.settings = round_settings(setup.settings, self.policy, params)
        self.terms = programme_terms(self.policy, self.settings, params)
        self.matter_of = {t.id: t.matter for t in self.terms}
        self.draws = rng
        self.beliefs_ready = False
        self.awards: list[dict] = []
        self.payments: list[dict] = []
        self.revocations: list[dict] = []
        self.pending: list[
            tuple[int, int, str, str, float]
        ] = []  # year, firm, programme, level, 万元
        for firm in model.firm_agents:
            for held in firm.initial_held:
                term = next((t for t in self.terms if t.id == held.programme), None)
                if term is not None and held.level in term.levels:
                    amount = term.amounts[term.levels.index(held.level)] or 0.0
                    firm.held[(self.policy.id, held.programme)] = Holding(
                        held.level, amount, model.start_year - 1
                    )

    # --- what firms expect ---

    def holdings(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per matter: each firm's best level rank held (NO_LEVEL if none) and its tier amount."""
        n = len(self.model.firm_agents)
        result = {m: (np.full(n, NO_LEVEL), np.zeros(n)) for m in set(self.matter_of.values())}
        for firm in self.model.firm_agents:
            for (policy, programme), holding in firm.held.items():
                if policy == self.policy.id and programme in self.matter_of:
                    rank, paid = result[self.matter_of[programme]]
                    rank[firm.index] = min(rank[firm.index], level_rank(holding.level))
                    paid[firm.index] = max(paid[firm.index], holding.amount)
        return result

    def payables(self, table: pd.DataFrame) -> dict[str, np.ndarray]:
        """Per programme, (firms × levels) what the city would pay each firm at each level."""
        holdings = self.holdings()
        return {
            t.id: payable(t, t.level_amounts(table), *holdings[t.matter], self.policy)
            for t in self.terms
        }

    def incentives(self, now: pd.DataFrame, after: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """(E[award] in 万元, one-mode-short) per firm: what applying is worth to a firm that is
        or, with one more mode, would be eligible; and whether that mode is what it lacks."""
        if not self.terms:  # nothing this policy pays for can reach these firms
            return np.zeros(len(now)), np.zeros(len(now), dtype=bool)
        if not self.beliefs_ready:
            self.prior_beliefs(now)
        reach, short = {}, np.zeros(len(now), dtype=bool)
        for term in self.terms:
            ok_now, ok_after = (
                may_apply(term, now, self.model.params),
                may_apply(term, after, self.model.params),
            )
            reach[term.id] = ok_now | ok_after
            short |= ok_after & ~ok_now
        value = expected_award(self.terms, reach, self.payables(after), self.policy)
        return value, short & (value > 0)

    def prior_beliefs(self, now: pd.DataFrame) -> None:
        """Before the first round firms guess their chances from the bureau's rule of thumb
        (rank by score until the money runs out) applied to everyone eligible, without noise."""
        self.beliefs_ready = True
        if self.model.year not in self.policy.year_range or not self.terms:
            return
        eligible = {t.id: may_apply(t, now, self.model.params) for t in self.terms}
        scores = behaviour.panel_scores(self.quality(now), 1.0, np.zeros(len(now)))
        try:
            problem = self.problem(now, eligible, scores, self.model.year)
        except InputError as error:
            log.warning("%s: no prior beliefs: %s", self.policy.id, error)
            return
        if problem is not None:
            chosen = problem.options.iloc[greedy_plan(problem)]
            self.update_beliefs(chosen.assign(conferred=chosen["probability"]), eligible)

    def update_beliefs(self, decided: pd.DataFrame, applied: dict[str, np.ndarray]) -> None:
        """Chance of designation per level := conferred designations / applicants, last round."""
        for term in self.terms:
            count = int(applied[term.id].sum())
            if count:
                mine = decided[decided["programme"] == term.id]
                term.rates = [
                    float(mine.loc[mine["level"] == lv, "conferred"].astype(float).sum()) / count
                    for lv in term.levels
                ]

    # --- the yearly round ---

    def quality(self, table: pd.DataFrame) -> np.ndarray:
        """Each firm's true merit as the panels would see it without noise."""
        return behaviour.true_merit(
            table["revenue"].to_numpy(dtype=float),
            table["service_revenue_share"].to_numpy(dtype=float),
            self.model.params.size_weight,
        )

    def problem(
        self, table: pd.DataFrame, eligible: dict[str, np.ndarray], scores: np.ndarray, year: int
    ) -> AllocationProblem | None:
        """The round's allocation problem: one application per applicant, programme and
        level it is eligible for (None if nobody applies)."""
        rows = np.flatnonzero(np.any(np.vstack(list(eligible.values())), axis=0))
        if len(rows) == 0:
            return None
        firms = self.model.firm_agents
        candidates = (
            table.iloc[rows]
            .reset_index(drop=True)
            .assign(
                held=[self.held_text(firms[i]) for i in rows],
                score=scores[rows],
                row=[f"firm {firms[i].firm_id}" for i in rows],
            )
        )
        applications = pd.DataFrame(
            [
                {
                    "candidate_id": firms[i].firm_id,
                    "programme": t.id,
                    "level": lv,
                    "score": scores[i],
                    "row": "-",
                }
                for i in rows
                for t in self.terms
                if eligible[t.id][i]
                for lv in t.levels
            ]
        )
        budget = (
            Budget(per_year={year: self.budget.per_year[year]})
            if year in self.budget.per_year
            else Budget()
        )
        policy = paced_policy(self.policy, year, pd.DataFrame(self.awards, columns=AWARD_COLUMNS))
        return build_problem(policy, candidates, budget, self.settings, [year], applications)

    def held_text(self, firm: FirmAgent) -> str | None:
        entries = [f"{p}:{h.level}" for (pol, p), h in firm.held.items() if pol == self.policy.id]
        return ";".join(entries) or None

    def step(self) -> None:
        """At the round quarter: hold the year's round, then pay what falls due."""
        if self.model.quarter != self.model.params.round_quarter:
            return
        year = self.model.year
        if year in self.policy.year_range and self.terms:
            self.run_round(year)
        self.pay_due(year)

    def run_round(self, year: int) -> None:
        """Revoke, take applications, score, allocate, nominate upward, designate."""
        params = self.model.params
        table = self.model.state_table()
        self.revoke(table, year)
        applies = self.draws.random(len(table)) < params.application_rate
        payables = self.payables(table)
        eligible = {
            t.id: may_apply(t, table, params) & (payables[t.id].max(axis=1) > 0) & applies
            for t in self.terms
        }
        scores = behaviour.panel_scores(
            self.quality(table), params.panel_agreement, self.draws.standard_normal(len(table))
        )
        try:
            problem = self.problem(table, eligible, scores, year)
        except InputError as error:
            log.warning("%s %d: round not held: %s", self.policy.id, year, error)
            return
        if problem is None:
            log.info("%s %d: no applicants", self.policy.id, year)
            return
        result = allocate(problem, explain=False)
        if result.status == "infeasible":
            log.warning(
                "%s %d: quotas cannot be met (%s); deciding without minimums",
                self.policy.id,
                year,
                "; ".join(result.diagnosis) or "infeasible",
            )
            problem = replace(problem, policy=without_minimums(problem.policy))
            result = allocate(problem, explain=False)
        if result.status not in ("optimal", "time_limit"):
            log.warning(
                "%s %d: allocation %s: no awards this year", self.policy.id, year, result.status
            )
            return
        self.designate(problem, result.chosen, result.selected, year)
        self.update_beliefs(
            pd.DataFrame(self.awards, columns=AWARD_COLUMNS).query("year == @year"), eligible
        )
        log.info(
            "%s %d: %d applicants, %d decided (%s)",
            self.policy.id,
            year,
            len(problem.candidates),
            len(result.chosen),
            result.status,
        )

    def designate(
        self, problem: AllocationProblem, chosen: np.ndarray, selected: pd.DataFrame, year: int
    ) -> None:
        """Confer (nominations with their level's chance), record, and schedule payments:
        the designation year's (split by ``payout_schedule``) and the policy's later ones."""
        later = getattr(problem, "later_payments", None)
        by_id = {f.firm_id: f for f in self.model.firm_agents}
        draws = self.draws.random(len(selected))
        for option, row, u in zip(chosen, selected.itertuples(), draws, strict=True):
            conferred = (not row.nomination) or u < row.probability
            firm = by_id[row.candidate_id]
            self.awards.append(
                {
                    "year": year,
                    "policy": self.policy.id,
                    "firm_id": firm.firm_id,
                    "district": firm.district,
                    "sector": firm.sector,
                    "programme": row.programme,
                    "level": row.level,
                    "nomination": bool(row.nomination),
                    "conferred": bool(conferred),
                    "amount": float(row.amount),
                    "cost": float(row.cost),
                    "score": float(row.score),
                }
            )
            if not conferred:
                continue
            firm.held[(self.policy.id, row.programme)] = Holding(row.level, float(row.amount), year)
            schedule = self.model.params.payout_schedule.get(row.programme, [1.0])
            dues = [(year + k, fraction * float(row.cost)) for k, fraction in enumerate(schedule)]
            if later is not None and len(later):
                mine = later[later["option"].to_numpy(dtype=int) == int(option)]
                dues += [
                    (int(y), float(c)) for y, c in zip(mine["year"], mine["cost"], strict=True)
                ]
            self.pending += [
                (due, firm.index, row.programme, row.level, amount) for due, amount in dues
            ]

    def revoke(self, table: pd.DataFrame, year: int) -> None:
        """Dynamic management: holders lose a designation whose term has ended, that the
        policy's revocation rule withdraws, or (revoke_below_bar) whose bar they no longer meet."""
        for term in self.terms:
            key = (self.policy.id, term.id)
            holders = [f for f in self.model.firm_agents if key in f.held]
            if not holders:
                continue
            rows = table.iloc[[f.index for f in holders]]
            since = [f.held[key].since for f in holders]
            reasons = revocation_reasons(term, rows, since, year, self.model.params)
            for firm, reason in zip(holders, reasons, strict=True):
                if reason:
                    level = firm.held.pop(key).level
                    self.revocations.append(
                        {
                            "year": year,
                            "policy": self.policy.id,
                            "firm_id": firm.firm_id,
                            "programme": term.id,
                            "level": level,
                            "reason": reason,
                        }
                    )

    def pay_due(self, year: int) -> None:
        """Pay every instalment due this year (multi-year awards pay in later rounds)."""
        due = [p for p in self.pending if p[0] == year]
        self.pending = [p for p in self.pending if p[0] != year]
        for _, index, programme, level, amount in due:
            firm = self.model.firm_agents[index]
            firm.receive(amount)
            self.payments.append(
                {
                    "year": year,
                    "policy": self.policy.id,
                    "firm_id": firm.firm_id,
                    "district": firm.district,
                    "programme": programme,
                    "level": level,
                    "paid": amount,
                }
            )

    def committed_unpaid(self) -> float:
        """万元 owed for designations already made, falling due after the simulated years."""
        return float(sum(p[4] for p in self.pending))
