"""From policy and candidates to the allocation's options: who may get what, when, at what cost.

An *option* is one (candidate, programme, level, year) the programme may choose; the integer
programme has one binary per option and nothing else. Everything that rules an option out
(kind, applicants, sector lists, eligibility rules, bands, history, upgrade rule) is settled
here, and recorded as a reason. Later payments of an award (a tax rebate paid over three
years) are a second table, ``later_payments``, that the yearly budget rows add in.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from .candidates import parse_held
from .errors import InputError, Problem
from .option_rules import (
    LATER_PAYMENT_COLUMNS,
    apply_history,
    band_amounts,
    join_applications,
    later_payments,
    rule_failures,
    rules_in_force,
    running_for,
    with_no_repeat_keys,
)
from .policy import Policy
from .settings import AllocationSettings, Budget
from .units import Level

log = logging.getLogger(__name__)

_PAIR_COLUMNS = [
    "candidate",
    "programme",
    "matter",
    "level",
    "level_rank",
    "amount",
    "probability",
    "nomination",
]

OPTION_COLUMNS = [
    "candidate",
    "candidate_id",
    "programme",
    "matter",
    "level",
    "level_rank",
    "year",
    "amount",
    "cost",
    "probability",
    "expected_cost",
    "score",
    "merit",
    "nomination",
]


@dataclass
class AllocationProblem:
    """Everything one solve needs, validated: the options table and the rules over it."""

    policy: Policy
    candidates: pd.DataFrame
    years: list[int]
    budget: Budget
    settings: AllocationSettings
    options: pd.DataFrame  # one row per option, columns OPTION_COLUMNS, index 0..n-1
    exclusions: pd.DataFrame  # candidate, programme, level, reason: why no option exists
    amounts: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    # Payments after the designation year (option, year, cost, expected_cost), one row per
    # option and year; years may lie beyond the horizon (commitments the plan leaves behind).
    later_payments: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=LATER_PAYMENT_COLUMNS)
    )
    # What the policy says that this allocation does not apply, and why (in words).
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.options)

    def payments(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every payment a designation brings, as arrays (option, year, expected cost): the
        designation year's and the later ones, nominations at expected cost."""
        later = self.later_payments
        option = np.concatenate([np.arange(len(self.options)), later["option"].to_numpy(dtype=int)])
        year = np.concatenate(
            [self.options["year"].to_numpy(dtype=int), later["year"].to_numpy(dtype=int)]
        )
        cost = np.concatenate(
            [
                self.options["expected_cost"].to_numpy(dtype=float),
                later["expected_cost"].to_numpy(dtype=float),
            ]
        )
        return option, year, cost

    def cost_within(self, years: list[int] | set[int]) -> tuple[np.ndarray, np.ndarray]:
        """(options, expected cost of each) paying anything in ``years``: the coefficients of
        a budget row over those years."""
        option, year, cost = self.payments()
        inside = np.isin(year, list(years))
        present = np.bincount(option[inside], minlength=self.size) > 0
        total = np.bincount(option[inside], weights=cost[inside], minlength=self.size)
        chosen = np.flatnonzero(present)
        return chosen, total[chosen]


def award_amounts(
    policy: Policy, settings: AllocationSettings
) -> dict[tuple[str, str], Decimal | None]:
    """The amount of each (programme, level): the policy's, unless the settings override it."""
    amounts: dict[tuple[str, str], Decimal | None] = {}
    for programme in policy.programmes:
        for award in programme.levels:
            amounts[(programme.id, award.level.value)] = award.amount
    for programme_id, by_level in settings.amounts.items():
        for level, amount in by_level.items():
            amounts[(programme_id, level.value)] = amount
    return amounts


def _check_settings(policy: Policy, settings: AllocationSettings, source: str) -> list[Problem]:
    problems: list[Problem] = []
    for programme_id, by_level in settings.amounts.items():
        if programme_id not in policy.programme_ids:
            problems.append(
                Problem(source, f"amounts.{programme_id}", "is not a programme of the policy")
            )
            continue
        programme = policy.programme(programme_id)
        levels = {lv.level for lv in programme.levels}
        for level, amount in by_level.items():
            if level not in levels:
                problems.append(
                    Problem(
                        source,
                        f"amounts.{programme_id}.{level.value}",
                        "the programme has no such level",
                    )
                )
                continue
            cap = programme.award(level).cap
            if cap is not None and amount > cap:
                problems.append(
                    Problem(
                        source,
                        f"amounts.{programme_id}.{level.value}",
                        f"{amount} is above the document's cap of {cap}万元",
                    )
                )
    return problems


def _check_held(policy: Policy, candidates: pd.DataFrame) -> list[Problem]:
    """Designations already held must name a programme and level of this policy."""
    if "held" not in candidates.columns:
        return []
    source = candidates.attrs.get("source", "candidates")
    known = {(p.id, lv.level.value) for p in policy.programmes for lv in p.levels}
    problems: list[Problem] = []
    for row, value in zip(candidates["row"], candidates["held"], strict=True):
        for held in parse_held(value):
            if (held.programme, held.level) not in known:
                problems.append(
                    Problem(
                        source,
                        row,
                        f"held '{held.programme}:{held.level}' is not a programme "
                        f"and level of policy {policy.id}",
                    )
                )
    return problems


def build_problem(
    policy: Policy,
    candidates: pd.DataFrame,
    budget: Budget,
    settings: AllocationSettings,
    years: list[int] | None = None,
    applications: pd.DataFrame | None = None,
) -> AllocationProblem:
    """Validate the inputs against each other and enumerate every option.

    Raises InputError listing every inconsistency: applications naming unknown candidates,
    programmes or levels; rules naming missing columns; options with no amount; budgets for
    years outside the horizon.
    """
    problems = _check_settings(policy, settings, "settings")
    problems += _check_held(policy, candidates)
    years = sorted(years or policy.year_range)
    outside = [y for y in years if y not in policy.year_range]
    if outside:
        problems.append(
            Problem(
                "settings",
                "years",
                f"{outside} outside the policy's years {policy.years[0]}-{policy.years[1]}",
            )
        )
    for year in budget.per_year:
        if year not in years:
            problems.append(Problem("budget", str(year), f"is not one of the years {years}"))
    if budget.per_year and set(budget.per_year) != set(years):
        missing = sorted(set(years) - set(budget.per_year))
        problems.append(
            Problem("budget", "", f"no budget for year(s) {missing}: give every year or none")
        )
    amounts = award_amounts(policy, settings)
    prob_of_level = {lv: settings.probability(lv) for lv in Level}

    # Every (candidate, programme, level) pair that passes kind, applicants and rules.
    # Columns are gathered as arrays and framed once: a DataFrame per (programme, level)
    # cost more than the rules themselves on small pools.
    positions = np.asarray(candidates.index)
    pair_columns = _Columns(_PAIR_COLUMNS)
    excluded = _Columns(["candidate", "programme", "level", "reason"])
    exclusions: list[pd.DataFrame] = []
    notes: list[str] = []
    participating: list[str] = []
    for i, programme in enumerate(policy.programmes):
        running = running_for(programme, candidates)
        if isinstance(running, str):
            # The table says nothing about who is in the running: the programme sits this
            # allocation out (a note, not a reason per candidate: it is not about them).
            notes.append(f"{programme.id} ({programme.name}) takes no part: {running}")
            continue
        participating.append(programme.id)
        kind_ok = candidates["kind"].isin(programme.kinds)
        base_fail = rule_failures(
            programme.eligibility, candidates, f"programmes[{i}].eligibility", policy.id, problems
        )
        if programme.sector_list is not None:
            sectors = policy.named_list(programme.sector_list)
            if not sectors.open:  # an open list (等, "+X") records priorities, not limits
                in_list = candidates["sector"].isin(sectors.names)
                base_fail = base_fail.where(in_list, f"sector not in {sectors.name}")
        if running is not None:
            base_fail = base_fail.where(running, f"not in the running ({programme.applicants})")
        base_fail = base_fail.where(kind_ok, f"kind {'/'.join(programme.kinds)} only")
        for k, award in enumerate(programme.levels):
            fail = base_fail.copy()
            if award.eligibility:
                level_fail = rule_failures(
                    award.eligibility,
                    candidates,
                    f"programmes[{i}].levels[{k}].eligibility",
                    policy.id,
                    problems,
                )
                fail = fail.where(fail.notna(), level_fail)
            band_amount = None
            if award.bands:
                band_amount = band_amounts(
                    award, candidates, f"programmes[{i}].levels[{k}].bands", policy.id, problems
                )
                fail = fail.where(
                    fail.notna() | band_amount.notna(), "no band of the award applies"
                )
            for j, payout in enumerate(award.payouts):
                if payout.of is not None and payout.of not in candidates.columns:
                    problems.append(
                        Problem(
                            policy.id,
                            f"programmes[{i}].levels[{k}].payouts[{j}].of",
                            f"column '{payout.of}' is not in the candidate table",
                        )
                    )
            ok = fail.isna().to_numpy()
            excluded.add(
                candidate=positions[~ok],
                programme=programme.id,
                level=award.level.value,
                reason=fail.to_numpy()[~ok],
            )
            amount = amounts[(programme.id, award.level.value)]
            if amount is None and band_amount is not None:
                amount = band_amount.to_numpy()[ok]  # per candidate, from its band
            elif amount is None and ok.any():
                problems.append(
                    Problem(
                        policy.id,
                        f"programmes[{i}].levels[{k}].amount",
                        f"{programme.id} at {award.level.value} has no amount in the policy document; "
                        f"set amounts.{programme.id}.{award.level.value} in the scenario",
                    )
                )
            conferrer = award.conferrer
            nomination = conferrer != policy.deciding_level
            pair_columns.add(
                candidate=positions[ok],
                programme=programme.id,
                matter=programme.stacking_matter,
                level=award.level.value,
                level_rank=award.level.rank,
                amount=amount,
                probability=prob_of_level[conferrer] if nomination else 1.0,
                nomination=nomination,
            )
    policy_in_force = rules_in_force(policy, candidates, participating, years, notes, problems)
    if problems:
        raise InputError(problems)
    for note in notes:
        log.info("%s: %s", policy.id, note)
    candidates = with_no_repeat_keys(policy, candidates)
    pairs = pair_columns.frame() if pair_columns.rows else _no_pairs()
    exclusions.insert(0, excluded.frame())

    # Scores and years: from applications, or every year with the candidate's own score.
    if applications is not None:
        pairs, app_problems, app_exclusions = join_applications(
            pairs, candidates, applications, policy, years
        )
        problems += app_problems
        exclusions.append(app_exclusions)
    else:
        pairs = pairs.merge(pd.DataFrame({"year": years}), how="cross")
        pairs["score"] = (
            candidates["score"].to_numpy()[pairs["candidate"].to_numpy()] if len(pairs) else []
        )
    if problems:
        raise InputError(problems)

    pairs, history_exclusions = apply_history(pairs, candidates, policy, amounts)
    exclusions.append(history_exclusions)
    pairs = pairs[pairs["score"].notna()]
    pairs["candidate_id"] = candidates["id"].to_numpy()[pairs["candidate"].to_numpy()]
    weights = pairs["level"].map({lv.value: settings.weight(lv) for lv in Level}).astype(float)
    pairs["merit"] = weights * pairs["score"].astype(float)
    pairs["expected_cost"] = pairs["cost"].to_numpy(dtype=float) * pairs["probability"].to_numpy(
        dtype=float
    )
    # A stable order makes the model, and so the answer, independent of how rows arrived.
    options = pairs.sort_values(["candidate", "programme", "level_rank", "year"], kind="stable")
    options = options[OPTION_COLUMNS].reset_index(drop=True)
    exclusions_frame = pd.concat(exclusions, ignore_index=True)
    return AllocationProblem(
        policy=policy_in_force,
        candidates=candidates,
        years=years,
        budget=budget,
        settings=settings,
        options=options,
        exclusions=exclusions_frame,
        amounts={k: v for k, v in amounts.items() if v is not None},
        later_payments=later_payments(policy, candidates, options),
        notes=notes,
    )


class _Columns:
    """Columns of a table gathered block by block: scalars repeat over their block."""

    def __init__(self, names: list[str]):
        self.names = names
        self.blocks: dict[str, list[np.ndarray]] = {name: [] for name in names}
        self.rows = 0

    def add(self, **values: object) -> None:
        size = len(values[self.names[0]])  # the first column is always an array
        for name in self.names:
            value = values[name]
            if isinstance(value, np.ndarray):
                self.blocks[name].append(value)
            else:
                block = np.empty(size, dtype=object)
                block[:] = [value] * size
                self.blocks[name].append(block)
        self.rows += size

    def frame(self) -> pd.DataFrame:
        """One DataFrame; numeric columns get numeric dtypes."""
        data = {}
        for name in self.names:
            column = np.concatenate(self.blocks[name]) if self.blocks[name] else np.empty(0)
            data[name] = pd.Series(column).infer_objects()
        return pd.DataFrame(data)


def later_spend(problem: AllocationProblem, chosen: np.ndarray) -> dict[int, Decimal]:
    """The chosen options' later payments by year (any year, also after the horizon), exact,
    nominations at expected cost."""
    later = problem.later_payments
    spend: dict[int, Decimal] = {}
    if later.empty or len(chosen) == 0:
        return spend
    rows = later[later["option"].isin(np.asarray(chosen, dtype=int))]
    probability = problem.options["probability"].to_numpy()
    for option, year, cost in zip(rows["option"], rows["year"], rows["cost"], strict=True):
        paid = cost * Decimal(str(probability[int(option)]))
        spend[int(year)] = spend.get(int(year), Decimal(0)) + paid
    return dict(sorted(spend.items()))


def _no_pairs() -> pd.DataFrame:
    """The pair table when no programme takes part (typed, so later steps run unchanged)."""
    types = {"candidate": int, "level_rank": int, "probability": float, "nomination": bool}
    return pd.DataFrame(columns=_PAIR_COLUMNS).astype(types)
