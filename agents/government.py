"""The government agent: a policy's yearly award rounds, what firms expect of them, payouts."""

from __future__ import annotations

import logging
from dataclasses import replace

import mesa
import numpy as np
import pandas as pd

from liangye.model.allocation import allocate
from liangye.model.errors import InputError, Problem
from liangye.model.greedy import greedy_plan
from liangye.model.options import AllocationProblem, build_problem

from . import behaviour
from .agents import AWARD_COLUMNS, FirmAgent, GovernmentSetup, Holding
from .ledger import (
    Instalment,
    Ledger,
    budget_horizon,
    option_dues,
    round_budget,
    with_payout_schedule,
)
from .rounds import (
    NO_LEVEL,
    TERM_ENDED,
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


class GovernmentAgent(mesa.Agent):
    """Runs a policy's yearly rounds: applications, noisy scores, the allocation (liangye.model)
    under what is left of the budget, nominations upward, payouts (later ones too), and
    revocation of holders below the bar (their unpaid instalments cancelled)."""

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
        self.horizon = budget_horizon(self.budget, self.policy.year_range)
        self.settings = round_settings(setup.settings, self.policy, params)
        self.terms = programme_terms(self.policy, self.settings, params)
        self.matter_of = {t.id: t.matter for t in self.terms}
        self.draws = rng
        self.beliefs_ready = False
        self.awards: list[dict] = []
        self.payments: list[dict] = []
        self.revocations: list[dict] = []
        self.ledger = Ledger()
        self.check_budget_years()
        for firm in model.firm_agents:
            for held in firm.initial_held:
                term = next((t for t in self.terms if t.id == held.programme), None)
                if term is not None and held.level in term.levels:
                    amount = term.amounts[term.levels.index(held.level)] or 0.0
                    firm.held[(self.policy.id, held.programme)] = Holding(
                        held.level, amount, model.start_year - 1
                    )

    def round_years(self) -> list[int]:
        """The years in which this government holds a round within the simulated quarters."""
        model, params = self.model, self.model.params
        return [
            year
            for year in self.policy.year_range
            if 0 <= (year - model.start_year) * 4 + params.round_quarter - 1 < params.quarters
        ]

    def check_budget_years(self) -> None:
        """A budget given by year must cover every year with a round (as ``liangye.model``
        asks of an allocation: every year or none); otherwise an InputError names them."""
        missing = [y for y in self.round_years() if self.budget.per_year and y not in self.horizon]
        if missing and self.terms:
            raise InputError(
                [
                    Problem(
                        "scenario",
                        "budget.per_year",
                        f"no budget for {missing}, in which the simulation holds {self.policy.id}"
                        " rounds: give every year or none",
                    )
                ]
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
        scores = self.scores(now, 1.0, np.zeros(len(now)))
        try:
            built = self.problem(now, eligible, scores, self.model.year)
        except InputError as error:
            log.warning("%s: no prior beliefs: %s", self.policy.id, error)
            return
        if built is not None:
            problem, _ = built
            self.update_beliefs(problem.options.iloc[greedy_plan(problem)], eligible)

    def update_beliefs(self, decided: pd.DataFrame, applied: dict[str, np.ndarray]) -> None:
        """Belief per level := the round's decisions at that level (designations the city
        makes and nominations it sends up) / the programme's applicants.

        Whether a nomination is then conferred is not in this rate: ``expected_award``
        multiplies by the level's chance of conferral, once."""
        for term in self.terms:
            count = int(applied[term.id].sum())
            if count:
                mine = decided[decided["programme"] == term.id]
                term.rates = [float((mine["level"] == lv).sum()) / count for lv in term.levels]

    # --- the yearly round ---

    def quality(self, table: pd.DataFrame) -> np.ndarray:
        """Each firm's true merit as the panels would see it without noise."""
        return behaviour.true_merit(
            table["revenue"].to_numpy(dtype=float),
            table["service_revenue_share"].to_numpy(dtype=float),
            self.model.params.size_weight,
        )

    def scores(self, table: pd.DataFrame, agreement: float, noise: np.ndarray) -> np.ndarray:
        """Panel scores of every firm on the simulation's score scale."""
        params = self.model.params
        return behaviour.panel_scores(
            self.quality(table), agreement, noise, params.score_mean, params.score_sd
        )

    def problem(
        self, table: pd.DataFrame, eligible: dict[str, np.ndarray], scores: np.ndarray, year: int
    ) -> tuple[AllocationProblem, np.ndarray] | None:
        """The round's allocation problem and its options' full costs (None if nobody applies).

        One application per applicant, programme and level it is eligible for, dated ``year``;
        the problem spans the budget's years from ``year`` on, with what is left of each
        (``ledger.round_budget``), so later payouts are charged to the years they fall in."""
        rows = np.flatnonzero(np.any(np.vstack(list(eligible.values())), axis=0))
        years = [t for t in self.horizon if t >= year]
        if len(rows) == 0 or year not in years:
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
                    "year": year,
                    "score": scores[i],
                    "row": "-",
                }
                for i in rows
                for t in self.terms
                if eligible[t.id][i]
                for lv in t.levels
            ]
        )
        ledger = self.ledger
        budget = round_budget(self.budget, self.horizon, year, ledger.paid, ledger.owed_by_year())
        held_before = pd.DataFrame(
            [(h.programme, h.level) for f in self.model.firm_agents for h in f.initial_held],
            columns=["programme", "level"],
        )
        made = pd.DataFrame(self.awards, columns=AWARD_COLUMNS)
        policy = paced_policy(self.policy, year, made, held_before)
        problem = build_problem(policy, candidates, budget, self.settings, years, applications)
        return with_payout_schedule(problem, self.model.params.payout_schedule)

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
        scores = self.scores(table, params.panel_agreement, self.draws.standard_normal(len(table)))
        try:
            built = self.problem(table, eligible, scores, year)
        except InputError as error:
            log.warning("%s %d: round not held: %s", self.policy.id, year, error)
            return
        if built is None:
            log.info("%s %d: no applicants", self.policy.id, year)
            return
        problem, full_cost = built
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
        self.designate(problem, full_cost, result.chosen, result.selected, year)
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
        self,
        problem: AllocationProblem,
        full_cost: np.ndarray,
        chosen: np.ndarray,
        selected: pd.DataFrame,
        year: int,
    ) -> None:
        """Confer (nominations with their level's chance), record, and owe every payment of a
        conferred designation: its instalments (``payout_schedule``) and the policy's later
        payouts, in the years the round's solve charged them to."""
        by_id = {f.firm_id: f for f in self.model.firm_agents}
        draws = self.draws.random(len(selected))
        for option, row, u in zip(chosen, selected.itertuples(), draws, strict=True):
            conferred = (not row.nomination) or u < row.probability
            firm = by_id[row.candidate_id]
            dues = [(t, a) for t, a in option_dues(problem, int(option)) if a > 0]
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
                    "cost": float(full_cost[int(option)]),
                    "committed": float(sum(a for _, a in dues)) if conferred else 0.0,
                    "score": float(row.score),
                }
            )
            if not conferred:
                continue
            firm.held[(self.policy.id, row.programme)] = Holding(row.level, float(row.amount), year)
            self.ledger.owe(
                Instalment(due, firm.index, row.programme, row.level, amount)
                for due, amount in dues
            )

    def revoke(self, table: pd.DataFrame, year: int) -> None:
        """Dynamic management: holders lose a designation whose term has ended, that the
        policy's revocation rule withdraws, or (revoke_below_bar) whose bar they no longer meet.

        A withdrawn designation is paid no more: what it still owes is cancelled and returns
        to the budgets of the years it fell in. A designation whose term has simply ended
        keeps what it was owed."""
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
                    cancelled = (
                        0.0 if reason == TERM_ENDED else self.ledger.cancel(firm.index, term.id)
                    )
                    self.revocations.append(
                        {
                            "year": year,
                            "policy": self.policy.id,
                            "firm_id": firm.firm_id,
                            "programme": term.id,
                            "level": level,
                            "reason": reason,
                            "cancelled": cancelled,
                        }
                    )

    def pay_due(self, year: int) -> None:
        """Pay every instalment due this year (multi-year awards pay in later rounds)."""
        for due in self.ledger.fall_due(year):
            firm = self.model.firm_agents[due.firm]
            firm.receive(due.amount)
            self.payments.append(
                {
                    "year": year,
                    "policy": self.policy.id,
                    "firm_id": firm.firm_id,
                    "district": firm.district,
                    "programme": due.programme,
                    "level": due.level,
                    "paid": due.amount,
                }
            )

    def committed_unpaid(self) -> float:
        """万元 owed for designations already made, falling due after the simulated years."""
        return self.ledger.owed()
