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

from .candidates import Held, parse_held
from .errors import InputError, Problem
from .expressions import parse_rule
from .policy import Balance, Policy
from .settings import AllocationSettings, Budget
from .units import Level

log = logging.getLogger(__name__)

LATER_PAYMENT_COLUMNS = ["option", "year", "cost", "expected_cost"]
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


def _rule_failures(
    rules: list[str], table: pd.DataFrame, where: str, source: str, problems: list[Problem]
) -> pd.Series:
    """For each candidate, the first rule in ``rules`` that fails (None where all hold)."""
    failure = pd.Series([None] * len(table), index=table.index, dtype=object)
    for text in rules:
        rule = parse_rule(text)
        missing = sorted(rule.columns - set(table.columns))
        if missing:
            problems.append(
                Problem(
                    source,
                    where,
                    f"rule '{text}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = rule.holds(table)
        failure = failure.where(failure.notna() | holds, f"rule '{text}' fails")
    return failure


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
    rows: list[pd.DataFrame] = []
    exclusions: list[pd.DataFrame] = []
    notes: list[str] = []
    participating: list[str] = []
    for i, programme in enumerate(policy.programmes):
        running = _applicants(programme, candidates)
        if isinstance(running, str):
            # The table says nothing about who is in the running: the programme sits this
            # allocation out (a note, not a reason per candidate: it is not about them).
            notes.append(f"{programme.id} ({programme.name}) takes no part: {running}")
            continue
        participating.append(programme.id)
        kind_ok = candidates["kind"].isin(programme.kinds)
        base_fail = _rule_failures(
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
                level_fail = _rule_failures(
                    award.eligibility,
                    candidates,
                    f"programmes[{i}].levels[{k}].eligibility",
                    policy.id,
                    problems,
                )
                fail = fail.where(fail.notna(), level_fail)
            band_amount = None
            if award.bands:
                band_amount = _band_amounts(
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
            ok = fail.isna()
            exclusions.append(
                pd.DataFrame(
                    {
                        "candidate": candidates.index[~ok],
                        "programme": programme.id,
                        "level": award.level.value,
                        "reason": fail[~ok].to_numpy(),
                    }
                )
            )
            amount = amounts[(programme.id, award.level.value)]
            if amount is None and band_amount is not None:
                amount = band_amount[ok].to_numpy()  # per candidate, from its band
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
            rows.append(
                pd.DataFrame(
                    {
                        "candidate": candidates.index[ok],
                        "programme": programme.id,
                        "matter": programme.stacking_matter,
                        "level": award.level.value,
                        "level_rank": award.level.rank,
                        "amount": amount,
                        "probability": prob_of_level[conferrer] if nomination else 1.0,
                        "nomination": nomination,
                    }
                )
            )
    policy_in_force = _rules_in_force(policy, candidates, participating, years, notes, problems)
    if problems:
        raise InputError(problems)
    for note in notes:
        log.info("%s: %s", policy.id, note)
    candidates = _with_no_repeat_keys(policy, candidates)
    pairs = pd.concat(rows, ignore_index=True) if rows else _no_pairs()

    # Scores and years: from applications, or every year with the candidate's own score.
    if applications is not None:
        pairs, app_problems, app_exclusions = _join_applications(
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

    pairs, history_exclusions = _apply_history(pairs, candidates, policy, amounts)
    exclusions.append(history_exclusions)
    pairs = pairs[pairs["score"].notna()]
    pairs["candidate_id"] = candidates["id"].to_numpy()[pairs["candidate"].to_numpy()]
    weights = pairs["level"].map(lambda lv: settings.weight(Level(lv))).astype(float)
    pairs["merit"] = weights * pairs["score"].astype(float)
    pairs["expected_cost"] = [
        float(c) * p for c, p in zip(pairs["cost"], pairs["probability"], strict=True)
    ]
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


def _applicants(programme, candidates: pd.DataFrame) -> pd.Series | str | None:
    """Who is in the running for ``programme``: None (everyone), a boolean Series, or, when
    the table lacks a column the applicants rule reads, the reason the programme sits out."""
    if programme.applicants is None:
        return None
    rule = parse_rule(programme.applicants)
    missing = sorted(rule.columns - set(candidates.columns))
    if missing:
        return (
            f"the candidate table has no column {', '.join(missing)} "
            f"(who is in the running: {programme.applicants})"
        )
    return rule.holds(candidates)


def _band_amounts(
    award, candidates: pd.DataFrame, where: str, source: str, problems: list[Problem]
) -> pd.Series:
    """Each candidate's amount from the first band whose rule holds (None: no band applies)."""
    amount = pd.Series([None] * len(candidates), index=candidates.index, dtype=object)
    for j, band in enumerate(award.bands):
        rule = parse_rule(band.when)
        missing = sorted(rule.columns - set(candidates.columns))
        if missing:
            problems.append(
                Problem(
                    source,
                    f"{where}[{j}].when",
                    f"rule '{band.when}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = rule.holds(candidates)
        amount = amount.where(amount.notna() | ~holds, band.amount)
    return amount


def _count_held(candidates: pd.DataFrame, programmes: list[str] | None, levels) -> int:
    """Candidates already holding a designation in ``programmes`` at ``levels`` (None: any)."""
    if "held" not in candidates.columns:
        return 0
    level_values = None if levels is None else {lv.value for lv in levels}
    count = 0
    for value in candidates["held"]:
        if any(
            (programmes is None or h.programme in programmes)
            and (level_values is None or h.level in level_values)
            for h in parse_held(value)
        ):
            count += 1
    return count


def _no_repeat_column(column: str) -> str:
    return f"_no_repeat_{column}"


def _with_no_repeat_keys(policy: Policy, candidates: pd.DataFrame) -> pd.DataFrame:
    """Add, per ``no_repeat_by`` column, a key where a missing value is the candidate itself."""
    columns = {p.no_repeat_by for p in policy.programmes if p.no_repeat_by}
    columns = [c for c in sorted(columns) if c in candidates.columns]
    if not columns:
        return candidates
    candidates = candidates.copy()
    for column in columns:
        own = "candidate:" + candidates["id"].astype(str)
        values = candidates[column].astype(object)
        candidates[_no_repeat_column(column)] = values.where(values.notna(), own).astype(str)
    return candidates


def _rules_in_force(
    policy: Policy,
    candidates: pd.DataFrame,
    participating: list[str],
    years: list[int],
    notes: list[str],
    problems: list[Problem],
) -> Policy:
    """The policy's quotas and balance rules as this allocation applies them.

    Dropped, with a note: quotas and balance rules over programmes that take no part, quotas
    whose years all fall outside the allocation's, and balance rules without a number. Adjusted: stock targets (``counts_held``) less the
    designations already held. Added: a count of one per value of each programme's
    ``no_repeat_by`` column over the horizon (同一产品不重复奖励), as a balance rule.
    """
    taking_part = set(participating)
    quotas = []
    for q, quota in enumerate(policy.quotas):
        if quota.programmes is not None and not taking_part & set(quota.programmes):
            notes.append(f"{quota.label(q)} is not applied: none of its programmes takes part")
            continue
        if quota.years is not None and not set(quota.years) & set(years):
            notes.append(
                f"{quota.label(q)} is not applied: its years {quota.years} are not allocated"
            )
            continue
        if quota.counts_held and quota.min:
            held = _count_held(candidates, quota.programmes, quota.levels)
            if held:
                notes.append(
                    f"{quota.label(q)}: {held} already held count toward the minimum {quota.min}"
                )
                quota = quota.model_copy(update={"min": max(0, quota.min - held)})
        quotas.append(quota)
    balance = []
    for b, rule in enumerate(policy.balance):
        if rule.programmes is not None and not taking_part & set(rule.programmes):
            notes.append(
                f"balance[{b}] by {rule.by} is not applied: none of its programmes takes part"
            )
            continue
        if not rule.quantified:
            notes.append(
                f"balance[{b}] by {rule.by} is recorded, not enforced: the document gives no "
                "number (set max_share or max_count in a copy of the policy to enforce it)"
            )
            continue
        if rule.by not in candidates.columns:
            problems.append(
                Problem(
                    policy.id,
                    f"balance[{b}].by",
                    f"column '{rule.by}' is not in the candidate table",
                )
            )
            continue
        balance.append(rule)
    for programme in policy.programmes:
        column = programme.no_repeat_by
        if column is None or programme.id not in taking_part:
            continue
        if column not in candidates.columns:
            notes.append(
                f"{programme.id}: the candidate table has no column '{column}', so each "
                f"candidate counts as its own {column}"
            )
            continue
        balance.append(
            Balance(
                by=_no_repeat_column(column),
                max_count=1,
                programmes=[programme.id],
                per="horizon",
                reference=programme.reference,
                note=f"no_repeat_by = {column}: the same {column} is rewarded at most once",
            )
        )
    return policy.model_copy(update={"quotas": quotas, "balance": balance})


def _money_value(value: object) -> Decimal:
    """A candidate's money cell as an exact Decimal; missing or negative counts as nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Decimal(0)
    amount = Decimal(str(round(float(value), 4)))
    return max(amount, Decimal(0))


def later_payments(policy: Policy, candidates: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """Payments after the designation year: one row per (option, year), columns
    LATER_PAYMENT_COLUMNS; cost exact (Decimal), expected_cost = cost × chance of conferral.

    A payout is a fixed amount, or share × a candidate column (万元 a year); a missing or
    negative column value pays nothing (no increase over the base, no rebate).
    """
    frames: list[pd.DataFrame] = []
    for programme in policy.programmes:
        for award in programme.levels:
            if not award.payouts:
                continue
            at = np.flatnonzero(
                (options["programme"] == programme.id).to_numpy()
                & (options["level"] == award.level.value).to_numpy()
            )
            if len(at) == 0:
                continue
            chosen = options.iloc[at]
            for payout in award.payouts:
                if payout.amount is not None:
                    costs = [payout.amount] * len(chosen)
                else:
                    share = Decimal(str(payout.share))
                    values = candidates[payout.of].to_numpy()[chosen["candidate"].to_numpy()]
                    costs = [share * _money_value(v) for v in values]
                expected = [float(c) * p for c, p in zip(costs, chosen["probability"], strict=True)]
                for k in payout.years_after:
                    frames.append(
                        pd.DataFrame(
                            {
                                "option": at,
                                "year": chosen["year"].to_numpy() + k,
                                "cost": costs,
                                "expected_cost": expected,
                            }
                        )
                    )
    if not frames:
        return pd.DataFrame(columns=LATER_PAYMENT_COLUMNS)
    payments = pd.concat(frames, ignore_index=True)
    payments = payments.groupby(["option", "year"], as_index=False, sort=True).agg(
        cost=("cost", "sum"), expected_cost=("expected_cost", "sum")
    )
    return payments[LATER_PAYMENT_COLUMNS]


def _join_applications(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    applications: pd.DataFrame,
    policy: Policy,
    years: list[int],
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    source = applications.attrs.get("source", "applications")
    problems: list[Problem] = []
    position_of = pd.Series(candidates.index, index=candidates["id"])
    known_levels = {(p.id, lv.level.value) for p in policy.programmes for lv in p.levels}
    for app in applications.itertuples():
        if app.candidate_id not in position_of.index:
            problems.append(
                Problem(
                    source,
                    app.row,
                    f"candidate_id '{app.candidate_id}' is not in the candidate table",
                )
            )
        if app.programme not in policy.programme_ids:
            problems.append(
                Problem(
                    source, app.row, f"programme '{app.programme}' is not in policy {policy.id}"
                )
            )
        elif (app.programme, app.level) not in known_levels:
            problems.append(
                Problem(source, app.row, f"programme '{app.programme}' has no level '{app.level}'")
            )
        year = getattr(app, "year", None)
        if year is not None and not pd.isna(year) and int(year) not in years:
            problems.append(
                Problem(source, app.row, f"year {int(year)} is outside the years {years}")
            )
    if problems:
        return pairs, problems, pd.DataFrame()
    apps = applications.assign(candidate=position_of.loc[applications["candidate_id"]].to_numpy())
    if "year" not in apps.columns:
        apps["year"] = np.nan
    dated = apps[apps["year"].notna()].astype({"year": int})
    undated = (
        apps[apps["year"].isna()]
        .drop(columns="year")
        .merge(pd.DataFrame({"year": years}), how="cross")
    )
    apps = pd.concat([dated, undated], ignore_index=True)[
        ["candidate", "programme", "level", "year", "score"]
    ]
    joined = pairs.merge(apps, on=["candidate", "programme", "level"], how="inner")
    # Applications for which the candidate is not eligible are explained, not silently dropped.
    eligible = pairs[["candidate", "programme", "level"]].drop_duplicates()
    flagged = apps.merge(
        eligible, on=["candidate", "programme", "level"], how="left", indicator=True
    )
    rejected = flagged[flagged["_merge"] == "left_only"]
    rejected_frame = pd.DataFrame(
        {
            "candidate": rejected["candidate"],
            "programme": rejected["programme"],
            "level": rejected["level"],
            "reason": "applied but not eligible",
        }
    )
    return joined, [], rejected_frame


def _apply_history(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    policy: Policy,
    amounts: dict[tuple[str, str], Decimal | None],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply designations already held: no repeats, and the upgrade rule's price.

    With stacking "highest" (就高不重复) a candidate holding level L in a matter may only be
    designated above L in that matter: paying the difference (top_up), the full amount
    (full), or not at all (none). With stacking "all" it may not receive a level it holds.
    """
    pairs = pairs.copy()
    pairs["cost"] = pairs["amount"]
    if "held" not in candidates.columns or pairs.empty:
        return pairs, pd.DataFrame(columns=["candidate", "programme", "level", "reason"])
    matter_of = {p.id: p.stacking_matter for p in policy.programmes}
    held_by: dict[int, list[Held]] = {
        i: parse_held(v) for i, v in zip(candidates.index, candidates["held"], strict=True)
    }
    keep = np.ones(len(pairs), dtype=bool)
    costs = pairs["cost"].tolist()
    reasons: list[str | None] = [None] * len(pairs)
    for n, (candidate, programme, level, rank) in enumerate(
        zip(
            pairs["candidate"], pairs["programme"], pairs["level"], pairs["level_rank"], strict=True
        )
    ):
        held = held_by.get(candidate) or []
        if not held:
            continue
        matter = matter_of[programme]
        if policy.stacking == "all":
            if any(h.programme == programme and h.level == level for h in held):
                keep[n], reasons[n] = False, f"already holds {programme} at {level}"
            continue
        in_matter = [h for h in held if matter_of.get(h.programme, h.programme) == matter]
        if not in_matter:
            continue
        best_rank = min(Level(h.level).rank for h in in_matter)
        paid = max((amounts.get((h.programme, h.level)) or Decimal(0)) for h in in_matter)
        if policy.upgrade == "none":
            keep[n], reasons[n] = False, f"already designated in matter '{matter}' (no upgrades)"
        elif rank >= best_rank:
            keep[n], reasons[n] = (
                False,
                f"already holds an equal or higher level in matter '{matter}'",
            )
        elif policy.upgrade == "top_up":
            costs[n] = max(Decimal(0), costs[n] - paid)
    pairs["cost"] = costs
    dropped = (
        pairs.loc[~keep, ["candidate", "programme", "level"]]
        .assign(reason=[r for r, k in zip(reasons, keep, strict=True) if not k])
        .drop_duplicates(subset=["candidate", "programme", "level"])
    )
    return pairs[keep], dropped
