"""What a yearly award round needs besides the allocation itself: which programmes firms can
take part in, who applies, what an award is worth to a firm, quotas paced over the years.

The meaning of the policy is not read here: eligibility, bands, decision kinds and chances
come from ``liangye.model.eligibility.read_tiers``, upgrade pricing from
``liangye.model.decisions``, quota scopes from ``liangye.model.option_groups.scope_mask``, as
the allocation reads them. What is here is behaviour and bookkeeping: which firms apply,
what they believe their chances are, how horizon quotas are paced over the rounds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from decimal import Decimal

import numpy as np
import pandas as pd

from liangye.model.decisions import ENTITLEMENT, upgrade_prices
from liangye.model.eligibility import Tier, columns_read, read_tiers
from liangye.model.errors import InputError, Problem
from liangye.model.expressions import Rule, parse_rule
from liangye.model.option_groups import scope_mask
from liangye.model.policy import Policy, Programme, Quota
from liangye.model.settings import AllocationSettings

from .params import SimulationParameters
from .population import MANUFACTURER

log = logging.getLogger(__name__)
TERM_ENDED = "term ended"  # a designation that lapses rather than being withdrawn


# How a year's round ends: a plan under every rule; a plan without the minimum quotas (no
# plan met them); the obligations alone (no plan within the budget or its overrun bound);
# no round (the problem could not be built); nobody applied.
ROUND_OUTCOMES = ("planned", "without_minimums", "obligations_only", "not_held", "no_applicants")


def _scale(amount: Decimal | None, scale: float) -> Decimal | None:
    if amount is None:
        return None
    return (Decimal(amount) * Decimal(str(scale))).quantize(Decimal("0.01"))


def simulated_policy(
    policy: Policy, settings: AllocationSettings, params: SimulationParameters, columns: set[str]
) -> tuple[Policy, list[tuple[str, str]], list[tuple[str, str]]]:
    """The policy as the simulation runs it, why the other programmes sit out (English and
    Chinese, a pair per programme), and the quotas that go with them (a pair per quota,
    ``quota_said``): a quota over programmes none of which takes part is not applied.

    A programme takes part if firms (enterprises) may hold it, the firm table has every
    column its rules read (``model.eligibility.columns_read``), and some tier carries money
    (an amount, bands, or the scenario's ``allocation.amounts``) or is counted by a quota.
    Every amount — tiers, bands, caps, fixed later payouts and the scenario's overrides — is
    multiplied by award_scale. Quotas and balance rules keep only the programmes that take part.
    """
    overrides = {(p, lv.value) for p, by_level in settings.amounts.items() for lv in by_level}
    kept: list[Programme] = []
    reasons: list[tuple[str, str]] = []
    for programme in policy.programmes:
        needed = columns_read(policy, programme)
        money = any(
            a.amount is not None or a.bands or (programme.id, a.level.value) in overrides
            for a in programme.levels
        )
        name = programme.name or programme.id
        if "enterprise" not in programme.kinds:
            reasons.append((f"{programme.id}: parks only", f"{name}：仅面向园区"))
        elif needed - columns:
            lacking = ", ".join(sorted(needed - columns))
            reasons.append(
                (
                    f"{programme.id}: firms have no {lacking}",
                    f"{name}：其条件读取的列（{lacking}）模拟企业没有",
                )
            )
        elif not money:
            reasons.append(
                (
                    f"{programme.id}: no amount (set allocation.amounts to simulate it)",
                    f"{name}：未定金额（可在 allocation.amounts 中设定后模拟）",
                )
            )
        else:
            kept.append(_scaled_programme(programme, params.award_scale))
    ids = {p.id for p in kept}
    for setting, keys, wildcard in (
        ("application_rules", params.application_rules, {"*"}),
        ("payout_schedule", params.payout_schedule, set()),
    ):
        unknown = sorted(set(keys) - wildcard - set(policy.programme_ids))
        if unknown:
            raise InputError(
                [
                    Problem(
                        "scenario",
                        f"simulation.{setting}",
                        f"names {', '.join(unknown)}, not programmes of policy {policy.id} "
                        f"(known: {', '.join(policy.programme_ids)})",
                        f"“{'、'.join(unknown)}”不是政策 {policy.id} 的项目"
                        f"（可用：{'、'.join(policy.programme_ids)}）",
                    )
                ]
            )
    # Rules the scenario adds are read from the firm table: a column it lacks is bad input,
    # said now rather than as the first quarter runs.
    lacking = [
        Problem(
            "scenario",
            f"simulation.application_rules.{key}",
            f"rule '{rule}' reads {', '.join(sorted(rule.columns - columns))}, which the firm "
            "population lacks",
            f"条件“{rule}”读取的列“{'、'.join(sorted(rule.columns - columns))}”"
            "在模拟的企业表中不存在",
        )
        for key, texts in params.application_rules.items()
        for rule in map(parse_rule, texts)
        if rule.columns - columns
    ]
    if lacking:
        raise InputError(lacking)

    def restricted(entries: list) -> list:
        out = []
        for entry in entries:
            if entry.programmes is None:
                out.append(entry)
            elif ids & set(entry.programmes):
                out.append(
                    entry.model_copy(
                        update={"programmes": [p for p in entry.programmes if p in ids]}
                    )
                )
        return out

    update = {
        "programmes": kept,
        "quotas": restricted(policy.quotas),
        "balance": restricted(policy.balance),
    }
    dropped = [
        quota_said(q, policy)
        for q in policy.quotas
        if q.programmes is not None and not ids & set(q.programmes)
    ]
    return policy.model_copy(update=update), reasons, dropped


def quota_said(quota: Quota, policy: Policy) -> tuple[str, str]:
    """A quota as a reader knows it, in English and Chinese: its name, else its programmes,
    its bounds per year or over the horizon, and its clause."""
    names = {p.id: p.name or p.id for p in policy.programmes}
    programmes = quota.programmes or []
    bounds = [f"at least {quota.min}" if quota.min is not None else ""]
    bounds.append(f"at most {quota.max}" if quota.max is not None else "")
    bounds_zh = [f"不少于{quota.min}" if quota.min is not None else ""]
    bounds_zh.append(f"不多于{quota.max}" if quota.max is not None else "")
    per, per_zh = ("a year", "每年") if quota.per == "year" else ("over the horizon", "期内")
    clause = f" ({quota.reference})" if quota.reference else ""
    clause_zh = f"（{quota.reference}）" if quota.reference else ""
    english = (
        f"{quota.name or ', '.join(programmes)}: {' and '.join(b for b in bounds if b)} "
        f"{per}{clause}"
    )
    chinese = (
        f"{quota.name or '、'.join(names.get(p, p) for p in programmes)}："
        f"{per_zh}{'、'.join(b for b in bounds_zh if b)}{clause_zh}"
    )
    return english, chinese


def _scaled_programme(programme: Programme, scale: float) -> Programme:
    if scale == 1:
        return programme
    levels = []
    for award in programme.levels:
        update: dict[str, object] = {"amount": _scale(award.amount, scale)}
        if award.bands:
            update["bands"] = [
                b.model_copy(update={"amount": _scale(b.amount, scale)}) for b in award.bands
            ]
        if award.cap is not None:
            update["cap"] = _scale(award.cap, scale)
        if award.payouts:
            update["payouts"] = [
                p.model_copy(update={"amount": _scale(p.amount, scale)}) for p in award.payouts
            ]
        levels.append(award.model_copy(update=update))
    return programme.model_copy(update={"levels": levels})


def round_years(policy: Policy, params: SimulationParameters, start_year: int) -> list[int]:
    """The years of ``policy`` in which a simulation of ``params`` from ``start_year`` holds
    a round: those whose round quarter falls within the simulated quarters."""
    return [
        year
        for year in policy.year_range
        if 0 <= (year - start_year) * 4 + params.round_quarter - 1 < params.quarters
    ]


def round_settings(
    settings: AllocationSettings, policy: Policy, params: SimulationParameters
) -> AllocationSettings:
    """The scenario's allocation settings for a yearly round of ``policy`` (already the
    simulated one): its amount overrides × award_scale for programmes that take part, the
    simulation's time limit and gap; the overrun bound and chances as the scenario sets them."""
    amounts = {
        programme: {level: _scale(amount, params.award_scale) for level, amount in by_level.items()}
        for programme, by_level in settings.amounts.items()
        if programme in policy.programme_ids
    }
    return settings.model_copy(
        update={"amounts": amounts, "time_limit": params.time_limit, "mip_gap": params.mip_gap}
    )


def extra_rules(params: SimulationParameters, programme: str) -> list[Rule]:
    """The simulation's own application rules for a programme (none by default: firms apply
    where the policy admits them)."""
    texts = [*params.application_rules.get("*", []), *params.application_rules.get(programme, [])]
    return [parse_rule(text) for text in texts]


def rules_hold(rules: Sequence[Rule], table: pd.DataFrame) -> np.ndarray:
    """True for each row of ``table`` where every rule holds (a missing column: an error)."""
    mask = np.ones(len(table), dtype=bool)
    for rule in rules:
        missing = rule.columns - set(table.columns)
        if missing:
            raise ValueError(
                f"rule '{rule}' reads {', '.join(sorted(missing))}, which the firm population lacks"
            )
        mask &= rule.holds(table).to_numpy(dtype=bool)
    return mask


def open_tiers(
    policy: Policy, settings: AllocationSettings, table: pd.DataFrame, params: SimulationParameters
) -> list[Tier]:
    """The policy's tiers over the firms, with ``eligible`` narrowed to the firms that may
    apply: the policy's own rules (as the allocation reads them), manufacturers only unless
    service firms may apply, and any application rules the scenario adds."""
    problems: list = []
    # Firms are never shown why they are not eligible: the masks alone.
    tiers, _ = read_tiers(policy, settings, table, problems, [], reasons=False)
    if problems:  # simulated_policy keeps only programmes whose columns firms have
        raise ValueError("; ".join(str(p) for p in problems))
    role = (table["role"] == MANUFACTURER).to_numpy() | params.service_firms_apply
    extra = {p.id: rules_hold(extra_rules(params, p.id), table) for p in policy.programmes}
    for tier in tiers:
        tier.eligible = tier.eligible & role & extra[tier.programme.id]
    return tiers


def payable(
    tier: Tier, paid: np.ndarray, holds: np.ndarray, title_held: np.ndarray, policy: Policy
) -> np.ndarray:
    """Money the city would pay each firm at ``tier`` given what it was paid in the tier's
    matter (``paid``; ``holds`` whether it holds anything there) and whether it holds this
    very title (``title_held``): 就高不重复 with the policy's upgrade rule, as
    ``model.decisions.upgrade_prices`` prices it for the allocation. NaN: not open to it."""
    amounts = np.nan_to_num(tier.amounts())
    if policy.stacking == "all":
        return np.where(title_held, np.nan, amounts)
    price = upgrade_prices(policy.upgrade, amounts, paid)
    return np.where(holds, price, amounts)


def expected_award(
    tiers: list[Tier],
    payables: dict[tuple[str, str], np.ndarray],
    reachable: dict[tuple[str, str], np.ndarray],
    rates: dict[tuple[str, str], float],
    policy: Policy,
) -> np.ndarray:
    """E[award] per firm, 万元: Σ over tiers of (the chance the city decides for it × the
    chance it is paid × what the city would pay), for tiers the firm can reach; tiers of
    one matter do not stack, so the best counts (stacking "highest"), else they add up.
    An entitlement is decided for every applicant (its rate is 1)."""
    n = len(next(iter(payables.values()))) if payables else 0
    by_matter: dict[str, np.ndarray] = {}
    for tier in tiers:
        key = (tier.programme.id, tier.level)
        rate = 1.0 if tier.decision == ENTITLEMENT else rates.get(key, 0.0)
        chance = 1.0 if tier.chance is None else tier.chance
        value = np.nan_to_num(payables[key]) * rate * chance * reachable[key]
        matter = tier.programme.stacking_matter if policy.stacking == "highest" else key
        by_matter[matter] = np.maximum(by_matter.get(matter, np.zeros(n)), value)
    return sum(by_matter.values(), np.zeros(n))


def paced_policy(
    policy: Policy, year: int, made: pd.DataFrame, held_before: pd.DataFrame | None = None
) -> Policy:
    """The policy for one yearly round: each horizon quota spread over the years it has
    left. A minimum of m with d already made and k years to go (this one included) asks
    ⌈(m − d)/k⌉ this year; a maximum of M allows M − d. Nominations count when made.
    Yearly quotas apply to this year only (the round's solve spans the later years for
    their budgets, but decides nothing in them).

    A stock target (``counts_held``) also counts the designations firms held before the
    simulation (``held_before``: programme, level), over the whole population; the paced
    quota then no longer asks the allocation to subtract holdings, which it could only
    count among this round's applicants, and would count twice."""
    quotas: list[Quota] = []
    for quota in policy.quotas:
        if quota.per != "horizon":
            if quota.years is None or year in quota.years:
                quotas.append(quota.model_copy(update={"years": [year]}))
            continue
        years = [t for t in (quota.years or policy.year_range) if t >= year]
        if year not in years:
            continue
        done = _counted(quota, made)
        update: dict[str, object] = {}
        if quota.counts_held:
            if held_before is not None:
                done += _counted(quota, held_before)
            update["counts_held"] = False
        low = math.ceil(max(0, quota.min - done) / len(years)) if quota.min else None
        high = max(0, quota.max - done) if quota.max is not None else None
        if low is not None and high is not None:
            low = min(low, high)
        if low or high is not None:
            quotas.append(quota.model_copy(update={**update, "min": low or None, "max": high}))
    return policy.model_copy(update={"quotas": quotas})


def _counted(quota: Quota, made: pd.DataFrame) -> int:
    if made.empty:
        return 0
    mask = scope_mask(made, quota.programmes, quota.levels)
    if quota.years is not None and "year" in made.columns:  # holdings before: no year
        mask &= made["year"].isin(quota.years).to_numpy()
    return int(mask.sum())


def without_minimums(policy: Policy) -> Policy:
    """The policy with every minimum quota dropped (maximums kept): what a bureau does when
    too few firms qualify to meet its targets this year."""
    kept = [q.model_copy(update={"min": None}) for q in policy.quotas if q.max is not None]
    return policy.model_copy(update={"quotas": kept})


def revocation_reasons(
    programme: Programme, holders: pd.DataFrame, since: list[int], year: int
) -> list[str | None]:
    """Why each holder (a row of ``holders``, designated in ``since``) loses the designation
    this year, or None: the policy's revocation rule holds for it (only where the policy
    file states one: a document that revokes for problems found in supervision gives no
    test over firm data), or its term has ended (the programme's ``term``: a lapse)."""
    reasons: list[str | None] = [None] * len(holders)
    revocation = programme.revocation
    if revocation is not None and revocation.rule:
        rule = parse_rule(revocation.rule)
        if rule.columns <= set(holders.columns):
            hits = rule.holds(holders).to_numpy(bool)
            reasons = [revocation.when if h else r for h, r in zip(hits, reasons, strict=True)]
    period = programme.term
    if period is not None:
        for k, start in enumerate(since):
            if (period.years and year - start >= period.years) or (
                period.ends and year > period.ends
            ):
                reasons[k] = TERM_ENDED
    return reasons
