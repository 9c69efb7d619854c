"""From policy and candidates to the allocation's options: who may get what, when, at what cost.

An *option* is one (candidate, programme, level, year) the programme may choose; the integer
programme has one binary per option and nothing else. Everything that rules an option out
(kind, eligibility rules, history, upgrade rule) is settled here, and recorded as a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from .candidates import Held, parse_held
from .errors import InputError, Problem
from .expressions import parse_rule
from .policy import Policy
from .settings import AllocationSettings, Budget
from .units import Level

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

    @property
    def size(self) -> int:
        return len(self.options)


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
        levels = {lv.level for lv in policy.programme(programme_id).levels}
        for level in by_level:
            if level not in levels:
                problems.append(
                    Problem(
                        source,
                        f"amounts.{programme_id}.{level.value}",
                        "the programme has no such level",
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

    # Every (candidate, programme, level) pair that passes kind and rules.
    rows: list[pd.DataFrame] = []
    exclusions: list[pd.DataFrame] = []
    for i, programme in enumerate(policy.programmes):
        kind_ok = candidates["kind"].isin(programme.kinds)
        base_fail = _rule_failures(
            programme.eligibility, candidates, f"programmes[{i}].eligibility", policy.id, problems
        )
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
            if amounts[(programme.id, award.level.value)] is None and ok.any():
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
                        "amount": amounts[(programme.id, award.level.value)],
                        "probability": prob_of_level[conferrer] if nomination else 1.0,
                        "nomination": nomination,
                    }
                )
            )
    if problems:
        raise InputError(problems)
    pairs = pd.concat(rows, ignore_index=True)

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
        policy=policy,
        candidates=candidates,
        years=years,
        budget=budget,
        settings=settings,
        options=options,
        exclusions=exclusions_frame,
        amounts={k: v for k, v in amounts.items() if v is not None},
    )


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
