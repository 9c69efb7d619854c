"""The government agent: a policy's yearly award rounds and payouts (what firms expect of the
rounds: ``expectations.py``)."""

from __future__ import annotations

import logging
from dataclasses import replace

import mesa
import numpy as np
import pandas as pd
from pyomo.common.gc_manager import PauseGC

from liangye.model.allocation import AllocationResult, allocate
from liangye.model.decisions import ENTITLEMENT
from liangye.model.eligibility import Tier
from liangye.model.errors import InputError, Problem
from liangye.model.later_payments import award_totals, option_totals
from liangye.model.options import AllocationProblem, build_problem
from liangye.model.problem_checks import held_by_id
from liangye.model.solve import PLAN_STATUSES
from liangye.model.status import STATUS_ZH, Status

from . import behaviour
from .agents import GovernmentSetup
from .draws import APPLICATION, CONFERRAL, PANEL, Draws
from .expectations import FirmExpectations
from .ledger import (
    Instalment,
    Ledger,
    budget_horizon,
    obligations_by_year,
    options_dues,
    round_budget,
    with_payout_schedule,
)
from .records import append_rows
from .rounds import (
    TERM_ENDED,
    open_tiers,
    paced_policy,
    revocation_reasons,
    round_settings,
    round_years,
    simulated_policy,
    without_minimums,
)
from .state import Holding

log = logging.getLogger(__name__)


def _said(result: AllocationResult) -> str:
    """Why an allocation has no plan, as one line: its diagnosis in Chinese (the English
    where a sentence has no Chinese)."""
    return "；".join(result.diagnosis_zh or result.diagnosis)


class GovernmentAgent(FirmExpectations, mesa.Agent):
    """Runs a policy's yearly rounds: applications, noisy scores, the allocation (liangye.model)
    under what is left of the budget and its overrun bound, nominations upward, entitlements
    paid to every qualifying applicant, conferral draws, payouts (later ones too, paid even
    when they overrun the budget), and revocation where the policy states a rule."""

    def __init__(self, model: mesa.Model, setup: GovernmentSetup, draws: Draws):
        super().__init__(model)
        params = model.params
        columns = set(model.state_table().columns)
        self.policy, sitting_out, quotas_out = simulated_policy(
            setup.policy, setup.settings, params, columns
        )
        for reason, _ in sitting_out:
            log.info("%s: not simulated: %s", setup.policy.id, reason)
        # What of the policy is not simulated, for the summary to say: the rounds of a policy
        # whose quota's programmes all sit out were counted "planned under every rule" while
        # the quota was never applied (review 22).
        self.not_simulated = [
            {"policy": setup.policy.id, "kind": kind, "what": english, "what_zh": chinese}
            for kind, said in (("programme", sitting_out), ("quota", quotas_out))
            for english, chinese in said
        ]
        if not self.policy.programmes:
            # Why, programme by programme: "no programme pays firms" alone read as if the
            # policy had none, where Zhongshan's rules read columns the firms lack.
            log.warning(
                "%s：没有可模拟的企业奖励项目（%s），模拟的年度评审不发放任何奖励",
                setup.policy.id,
                "；".join(zh for _, zh in sitting_out) or "政策未列项目",
            )
        self.budget = setup.budget
        self.horizon = budget_horizon(self.budget, self.policy.year_range)
        self.settings = round_settings(setup.settings, self.policy, params)
        self.matter_of = {p.id: p.stacking_matter for p in self.policy.programmes}
        self.programmes = {p.id: p for p in self.policy.programmes}
        # Belief per tier: P(the city decides for it | the firm applies to the programme).
        self.rates: dict[tuple[str, str], float] = {}
        # Its random numbers, keyed by year and purpose, then firm (draws.py); a conferral
        # draw is the firm's at the programme's position in the policy as written.
        self.draws = draws
        self.programme_position = {p.id: j for j, p in enumerate(setup.policy.programmes)}
        self.beliefs_ready = False
        self.ledger = Ledger()
        # How each year's round ended (rounds.ROUND_OUTCOMES), for the replication's outcomes: a
        # round that dropped its minimum quotas or paid obligations only was only logged.
        self.round_outcomes: dict[int, str] = {}
        # Text arrays taken from by every problem: the applications' firm ids and the
        # candidates' row labels (converting thousands of Python strings each round).
        self.firm_ids = pd.array(model.firms.firm_id, dtype="str")
        self.firm_rows = pd.array("firm " + model.firms.firm_id, dtype="str")
        # (programme, level) of each designation firms held before the simulated years: what
        # a stock target counts besides the designations made (read by every round).
        # Titles written by programme name read as ids, as a candidate table's are (they
        # were ignored: the firm paid in full again, review 22).
        order = sorted(model.firms.initial_held)
        read = held_by_id([model.firms.initial_held[i] for i in order], self.policy) or []
        initial = dict(zip(order, read, strict=True))
        self.held_before = pd.DataFrame(
            [(h.programme, h.level) for i in order for h in initial[i]],
            columns=["programme", "level"],
        )
        # (FirmState.held_version, what held_masks read at it)
        self._held_masks: tuple[int, tuple[dict, dict]] | None = None
        self.check_budget_years()
        if self.policy.programmes and model.firms.initial_held:
            table = model.state_table()
            tiers = self.tiers(table)
            # What each title pays in all (later payouts, cap): what 就高不重复 counts as paid.
            totals = award_totals(
                self.policy, {(t.programme.id, t.level): t.amounts() for t in tiers}, table
            )
            amount_of = {key: np.nan_to_num(total) for key, total in totals.items()}
            firms = model.firms
            for index, entries in initial.items():
                for held in entries:
                    amounts = amount_of.get((held.programme, held.level))
                    key = (self.policy.id, held.programme)
                    # A firm holds one title per programme here: of several levels of one
                    # programme, the one that pays the most (the last listed replaced a
                    # higher one, and the firm was designated and paid again: review 24).
                    before = firms.holdings_of(index).get(key)
                    if amounts is not None and (
                        before is None or float(amounts[index]) > before.amount
                    ):
                        firms.hold(
                            index,
                            key,
                            Holding(held.level, float(amounts[index]), model.start_year - 1),
                        )

    def tiers(self, table: pd.DataFrame) -> list[Tier]:
        """The policy's tiers over ``table``, narrowed to the firms that may apply."""
        with self.model.stopwatch("eligibility"):
            return open_tiers(self.policy, self.settings, table, self.model.params)

    def round_years(self) -> list[int]:
        """The years in which this government holds a round within the simulated quarters."""
        return round_years(self.policy, self.model.params, self.model.start_year)

    def check_budget_years(self) -> None:
        """A budget given by year must cover every year with a round (as ``liangye.model``
        asks of an allocation: every year or none); otherwise an InputError names them."""
        missing = [y for y in self.round_years() if self.budget.per_year and y not in self.horizon]
        if missing and self.policy.programmes:
            raise InputError(
                [
                    Problem(
                        "scenario",
                        "budget.per_year",
                        f"no budget for {missing}, in which the simulation holds {self.policy.id}"
                        " rounds: give every year or none",
                        f"{'、'.join(f'{y}年' for y in missing)}没有预算，而模拟在这些年份举行"
                        f"{self.policy.id} 的评审：请给出每一年的预算，或都不给",
                    )
                ]
            )

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
        self,
        table: pd.DataFrame,
        applying: dict[tuple[str, str], np.ndarray],
        scores: np.ndarray,
        year: int,
    ) -> tuple[AllocationProblem, np.ndarray] | None:
        """The round's allocation problem and its options' full costs (None if nobody applies).

        One application per applicant and tier it applies to (``applying``), dated ``year``;
        the problem spans the budget's years from ``year`` on, with what is left of each
        (``ledger.round_budget``: paced over the rounds to come), so later payouts are charged
        to the years they fall in."""
        if not applying:
            return None
        # (firms × tiers): who applies where; its nonzero cells in row order are the
        # applications firm by firm, each firm's in tier order.
        applies = np.column_stack(list(applying.values()))
        rows = np.flatnonzero(applies.any(axis=1))
        years = [t for t in self.horizon if t >= year]
        if len(rows) == 0 or year not in years:
            return None
        held = self.model.firms.held_text(self.policy.id)
        candidates = (
            table.iloc[rows]
            .reset_index(drop=True)
            .assign(
                held=[held[i] for i in rows],
                score=scores[rows],
                row=self.firm_rows.take(rows),
            )
        )
        firm, tier = np.nonzero(applies)
        keys = list(applying)
        # Text columns taken from text arrays: the same column as framing the Python strings
        # (a "str" column), without converting thousands of them (1.1 -> 0.4 ms a round).
        applications = pd.DataFrame(
            {
                "candidate_id": self.firm_ids.take(firm),
                "programme": pd.array([p for p, _ in keys], dtype="str").take(tier),
                "level": pd.array([lv for _, lv in keys], dtype="str").take(tier),
                "year": np.full(len(firm), year, dtype=np.int64),
                "score": scores[firm],
                "row": "-",
            }
        )
        ledger, owed = self.ledger, self.ledger.owed_by_year()
        budget = round_budget(self.budget, self.horizon, year, ledger.paid, owed)
        policy = paced_policy(
            self.policy, year, self.model.table("awards", self.policy.id), self.held_before
        )
        with self.model.stopwatch("problem"):
            # No reasons are read from a round: what only they need is left out.
            problem = build_problem(
                policy, candidates, budget, self.settings, years, applications, for_reasons=False
            )
        problem, full_cost = with_payout_schedule(problem, self.model.params.payout_schedule)
        # Later years' money paced over the rounds to come, the round's own entitlements
        # paid whatever its share (``ledger.round_budget``).
        paced = round_budget(
            self.budget,
            self.horizon,
            year,
            ledger.paid,
            owed,
            self.round_years(),
            obligations_by_year(problem),
        )
        return (problem if paced == budget else problem.with_budget(paced)), full_cost

    def step(self) -> None:
        """At the round quarter: hold the year's round, then pay what falls due."""
        if self.model.quarter != self.model.params.round_quarter:
            return
        year = self.model.year
        if year in self.policy.year_range and self.policy.programmes:
            self.run_round(year)
        self.pay_due(year)

    def run_round(self, year: int) -> None:
        """Revoke, take applications, score, allocate, nominate upward, designate; pay every
        entitlement, even when the budget cannot carry it."""
        params = self.model.params
        table = self.model.state_table()
        self.revoke(table, year)
        n = len(table)
        applies = self.draws.uniforms((year, APPLICATION), n)[:, 0] < params.application_rate
        tiers = self.tiers(table)
        payables = self.payables(tiers)
        # A firm applies to what is open to it; it always claims what it is entitled to.
        applying = {
            (t.programme.id, t.level): t.eligible
            & ~np.isnan(payables[(t.programme.id, t.level)])
            & (applies | (t.decision == ENTITLEMENT))
            for t in tiers
        }
        noise = self.draws.normals((year, PANEL), n)[:, 0]
        scores = self.scores(table, params.panel_agreement, noise)
        try:
            built = self.problem(table, applying, scores, year)
        except InputError as error:
            log.warning("%s %d 年：评审未举行（%s）", self.policy.id, year, error)
            self.round_outcomes[year] = "not_held"
            return
        if built is None:
            log.info("%s %d: no applicants", self.policy.id, year)
            self.round_outcomes[year] = "no_applicants"
            return
        self.round_outcomes[year] = "planned"
        problem, full_cost = built
        # The collector paused while the round allocates (as Pyomo's compiler pauses it): the
        # round's optimisation model is tens of thousands of objects held in cycles (a Pyomo
        # block holds itself), which otherwise go through a hundred young collections, reach
        # the oldest generation and wait there for a full pass (two a run, 15-30 ms each);
        # paused, they die young in the next collection. Tier-budget runs: 48 → 35 ms of
        # collections a run.
        with self.model.stopwatch("allocate"), PauseGC():
            result = allocate(problem, explain=False, prove=False, diagnose=False)
        # Obligations beyond the budget (method "obligations") do not depend on quotas:
        # deciding without minimums would fail the same way, so it is not tried. The round
        # does not ask why no plan exists (the diagnosis re-solves up to three times, 0.4-1.7 s
        # on the rounds of a steep design at two thirds of the budget, only to be logged).
        if result.status == "infeasible" and result.method != "obligations":
            # Said once for the whole run, counted over its replications (the headline's
            # 年度评审 row, summary.json's rounds.*): a warning a round repeated itself
            # once per replication, naming the policy by its id.
            log.info(
                "%s %d 年：没有方案满足全部规则（%s），本年评审改为不设最低名额",
                self.policy.title or self.policy.id,
                year,
                _said(result) or STATUS_ZH[Status.INFEASIBLE],
            )
            problem = replace(problem, policy=without_minimums(problem.policy))
            self.round_outcomes[year] = "without_minimums"
            with self.model.stopwatch("allocate"), PauseGC():
                result = allocate(problem, explain=False, prove=False, diagnose=False)
        if result.status in PLAN_STATUSES:
            chosen, selected = result.chosen, result.decided
        else:
            # Obligations alone break the budget or its overrun bound: they are paid anyway
            # (the city cannot decline them), and nothing else is decided this year.
            log.info(
                "%s %d 年：分配结果为“%s”（%s），本年只兑现按规定应付的奖励",
                self.policy.title or self.policy.id,
                year,
                STATUS_ZH.get(result.status, result.status),
                _said(result),
            )
            chosen = np.flatnonzero(problem.options["forced"].to_numpy(dtype=bool))
            selected = replace(result, chosen=chosen).decided
            self.round_outcomes[year] = "obligations_only"
        self.designate(problem, full_cost, chosen, selected, year)
        made = self.model.table("awards", self.policy.id)
        self.update_beliefs(made[made["year"] == year], applying)
        log.info(
            "%s %d: %d applicants, %d decided (%s)",
            self.policy.id,
            year,
            len(problem.candidates),
            len(chosen),
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
        """Confer (nominations and entitlements conferred above the city with their tier's
        chance), record, and owe every payment of a conferred designation: its instalments
        (``payout_schedule``) and the policy's later payouts, in the years the round's solve
        charged them to."""
        firms, model = self.model.firms, self.model
        # Columns read as lists throughout: iterating a text column of pandas goes through
        # pandas a value at a time (a round's thousands of decisions).
        ids = selected["candidate_id"].tolist()
        index = np.array([model.index_of[c] for c in ids], dtype=np.int64)
        programmes, levels = selected["programme"].tolist(), selected["level"].tolist()
        by_firm = self.draws.uniforms((year, CONFERRAL), len(firms), len(self.programme_position))
        u = by_firm[index, [self.programme_position[p] for p in programmes]]
        probability = selected["probability"].to_numpy(dtype=float)
        conferred = (probability >= 1) | (u < probability)
        amounts = [float(a) for a in selected["amount"].tolist()]
        # What each award pays in all (later payouts, cap): what its holder counts as paid in
        # the matter when a higher award tops it up (review 23: 20 + 10 later, then 100).
        paid_in_all = option_totals(problem.policy, problem.candidates, selected).tolist()
        dues = [[(t, a) for t, a in due if a > 0] for due in options_dues(problem, chosen)]
        n = len(selected)
        append_rows(
            model.datacollector,
            "awards",
            {
                "year": [year] * n,
                "policy": [self.policy.id] * n,
                "firm_id": firms.firm_id[index].tolist(),
                "district": firms.district[index].tolist(),
                "sector": firms.sector[index].tolist(),
                "programme": programmes,
                "level": levels,
                "decision": selected["decision"].tolist(),
                "nomination": [bool(x) for x in selected["nomination"].tolist()],
                "conferred": conferred.tolist(),
                "amount": amounts,
                "cost": [float(c) for c in full_cost[np.asarray(chosen, dtype=np.int64)].tolist()],
                "committed": [
                    float(sum(a for _, a in d)) if c else 0.0
                    for d, c in zip(dues, conferred.tolist(), strict=True)
                ],
                "score": [float(x) for x in selected["score"].tolist()],
            },
        )
        owed: list[Instalment] = []
        for k in np.flatnonzero(conferred).tolist():
            i, programme, level = int(index[k]), programmes[k], levels[k]
            firms.hold(i, (self.policy.id, programme), Holding(level, paid_in_all[k], year))
            owed += [Instalment(due, i, programme, level, a) for due, a in dues[k]]
        self.ledger.owe(owed)  # in the order the designations were made, as one at a time

    def revoke(self, table: pd.DataFrame, year: int) -> None:
        """Dynamic management where the policy states it: holders lose a designation whose
        term has ended, or that the policy's revocation rule withdraws.

        A withdrawn designation is paid no more: what it still owes is cancelled and returns
        to the budgets of the years it fell in. A designation whose term has simply ended
        keeps what it was owed."""
        for programme in self.policy.programmes:
            if programme.term is None and (
                programme.revocation is None or not programme.revocation.rule
            ):
                continue
            key = (self.policy.id, programme.id)
            held = self.model.firms.held
            holders = sorted(i for i, holdings in held.items() if key in holdings)
            if not holders:
                continue
            rows = table.iloc[holders]
            since = [held[i][key].since for i in holders]
            reasons = revocation_reasons(programme, rows, since, year)
            for i, reason in zip(holders, reasons, strict=True):
                if reason:
                    level = self.model.firms.release(i, key).level
                    cancelled = 0.0 if reason == TERM_ENDED else self.ledger.cancel(i, programme.id)
                    append_rows(
                        self.model.datacollector,
                        "revocations",
                        {
                            "year": [year],
                            "policy": [self.policy.id],
                            "firm_id": [self.model.firms.firm_id[i]],
                            "programme": [programme.id],
                            "level": [level],
                            "reason": [reason],
                            "cancelled": [cancelled],
                        },
                    )

    def pay_due(self, year: int) -> None:
        """Pay every instalment due this year (multi-year awards pay in later rounds), within
        the budget or not: what was conferred is owed."""
        due = self.ledger.fall_due(year)
        if not due:
            return
        firms = self.model.firms
        index = np.array([d.firm for d in due], dtype=np.int64)
        paid = [d.amount for d in due]
        firms.receive(index, np.array(paid, dtype=float))
        append_rows(
            self.model.datacollector,
            "payments",
            {
                "year": [year] * len(due),
                "policy": [self.policy.id] * len(due),
                "firm_id": firms.firm_id[index].tolist(),
                "district": firms.district[index].tolist(),
                "programme": [d.programme for d in due],
                "level": [d.level for d in due],
                "paid": paid,
            },
        )

    def overruns(self) -> dict[str, float]:
        """万元 paid above each budget row in the simulated years (0 where within): a year
        (cumulative through it with carry-over) and, where set, the horizon total. Conferred
        awards and entitlements are paid even when they overrun; this says by how much."""
        paid, budget = self.ledger.paid, self.budget
        years = [t for t in self.round_years() if t in budget.per_year]
        out: dict[str, float] = {}
        for t in years:
            if budget.carry_over:
                spent = sum(paid.get(s, 0.0) for s in years if s <= t)
                money = sum(float(budget.per_year[s]) for s in years if s <= t)
            else:
                spent, money = paid.get(t, 0.0), float(budget.per_year[t])
            out[str(t)] = max(0.0, round(spent - money, 4))
        if budget.total is not None:
            spent = sum(paid.get(t, 0.0) for t in self.round_years())
            out["total"] = max(0.0, round(spent - float(budget.total), 4))
        return out

    def committed_unpaid(self) -> float:
        """万元 owed for designations already made, falling due after the simulated years."""
        return self.ledger.owed()
