"""What a yearly award round needs besides the allocation itself: which programmes firms can
take part in, who may apply, what an award is worth to a firm, quotas paced over the years.

Policy fields added after the first policy format (applicants, bands, payouts, sector lists,
revocation rules, terms) are read with ``getattr`` so that either format works.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import numpy as np
import pandas as pd

from liangye.model.expressions import Rule, parse_rule
from liangye.model.policy import Policy, Programme, Quota
from liangye.model.settings import AllocationSettings
from liangye.model.units import Level

from .params import SimulationParameters
from .population import MANUFACTURER

log = logging.getLogger(__name__)
NO_LEVEL = 99  # rank of "holds nothing in this matter": below every level
TERM_ENDED = "term ended"  # a designation that lapses rather than being withdrawn


def _scale(amount: Decimal | None, scale: float) -> Decimal | None:
    if amount is None:
        return None
    return (Decimal(amount) * Decimal(str(scale))).quantize(Decimal("0.01"))


def _programme_columns(policy: Policy, programme: Programme) -> set[str]:
    """Every firm column the programme's rules read (applicants, eligibility, bands, payouts)."""
    texts = [*programme.eligibility]
    for award in programme.levels:
        texts += [*award.eligibility, *(band.when for band in getattr(award, "bands", []))]
    columns = {c for text in texts for c in parse_rule(text).columns}
    columns |= {p.of for a in programme.levels for p in getattr(a, "payouts", []) if p.of}
    if getattr(programme, "sector_list", None):
        columns.add("sector")
    return columns


def simulated_policy(
    policy: Policy, settings: AllocationSettings, params: SimulationParameters, columns: set[str]
) -> tuple[Policy, list[str]]:
    """The policy as the simulation runs it, and why the other programmes sit out.

    A programme takes part if firms (enterprises) may hold it, the firm table has every
    column its applicants and eligibility rules read, and some tier carries money (an
    amount, bands, or the scenario's ``allocation.amounts``). Every amount — tiers, bands,
    caps, fixed later payouts and the scenario's overrides — is multiplied by award_scale.
    Quotas and balance rules keep only the programmes that take part.
    """
    overrides = {(p, lv.value) for p, by_level in settings.amounts.items() for lv in by_level}
    kept: list[Programme] = []
    reasons: list[str] = []
    for programme in policy.programmes:
        applicants = getattr(programme, "applicants", None)
        needed = _programme_columns(policy, programme)
        if applicants:
            needed |= parse_rule(applicants).columns
        money = any(
            a.amount is not None
            or getattr(a, "bands", None)
            or (programme.id, a.level.value) in overrides
            for a in programme.levels
        )
        if "enterprise" not in programme.kinds:
            reasons.append(f"{programme.id}: parks only")
        elif needed - columns:
            reasons.append(f"{programme.id}: firms have no {', '.join(sorted(needed - columns))}")
        elif not money:
            reasons.append(f"{programme.id}: no amount (set allocation.amounts to simulate it)")
        else:
            kept.append(_scaled_programme(programme, params.award_scale))
    ids = {p.id for p in kept}
    for setting, keys, wildcard in (
        ("application_rules", params.application_rules, {"*"}),
        ("payout_schedule", params.payout_schedule, set()),
    ):
        unknown = sorted(set(keys) - wildcard - set(policy.programme_ids))
        if unknown:
            raise ValueError(
                f"simulation.{setting} names {', '.join(unknown)}, not programmes of "
                f"policy {policy.id} (known: {', '.join(policy.programme_ids)})"
            )

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
    return policy.model_copy(update=update), reasons


def _scaled_programme(programme: Programme, scale: float) -> Programme:
    if scale == 1:
        return programme
    levels = []
    for award in programme.levels:
        update: dict[str, object] = {"amount": _scale(award.amount, scale)}
        if getattr(award, "bands", None):
            update["bands"] = [
                b.model_copy(update={"amount": _scale(b.amount, scale)}) for b in award.bands
            ]
        if getattr(award, "cap", None) is not None:
            update["cap"] = _scale(award.cap, scale)
        if getattr(award, "payouts", None):
            update["payouts"] = [
                p.model_copy(update={"amount": _scale(p.amount, scale)}) for p in award.payouts
            ]
        levels.append(award.model_copy(update=update))
    return programme.model_copy(update={"levels": levels})


def round_settings(
    settings: AllocationSettings, policy: Policy, params: SimulationParameters
) -> AllocationSettings:
    """The scenario's allocation settings for a yearly round of ``policy`` (already the
    simulated one): its amount overrides × award_scale for programmes that take part, the
    simulation's time limit and gap, and no Monte Carlo of overruns (nominations are drawn)."""
    amounts = {
        programme: {level: _scale(amount, params.award_scale) for level, amount in by_level.items()}
        for programme, by_level in settings.amounts.items()
        if programme in policy.programme_ids
    }
    return settings.model_copy(
        update={
            "amounts": amounts,
            "time_limit": params.time_limit,
            "mip_gap": params.mip_gap,
            "overrun_samples": 0,
        }
    )


@dataclass
class ProgrammeTerms:
    """One programme as firms and the government agent see it in the simulation."""

    programme: Programme
    rules: list[Rule]  # applicants, the policy's rules and the simulation's application rules
    levels: list[str]  # highest first
    ranks: list[int]
    amounts: list[float | None]  # 万元; None where the amount comes from bands
    bands: list[list[tuple[Rule, float]]]
    conferral: list[float]  # chance a level is conferred once the city decides or nominates
    sectors: list[str] | None = None  # a closed sector list, if the programme has one
    # belief: P(the city designates or nominates at the level | the firm applies); a
    # nomination's chance of being conferred is ``conferral``, kept apart
    rates: list[float] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.programme.id

    @property
    def matter(self) -> str:
        return self.programme.stacking_matter

    def level_amounts(self, table: pd.DataFrame) -> np.ndarray:
        """(firms × levels) the amount each firm would get at each level (bands per firm)."""
        columns = []
        for amount, bands in zip(self.amounts, self.bands, strict=True):
            if amount is not None:
                columns.append(np.full(len(table), amount))
                continue
            value = np.full(len(table), np.nan)
            for rule, band in bands:
                value = np.where(np.isnan(value) & rule.holds(table).to_numpy(bool), band, value)
            columns.append(np.nan_to_num(value))
        return np.column_stack(columns) if columns else np.zeros((len(table), 0))


def programme_terms(
    policy: Policy, settings: AllocationSettings, params: SimulationParameters
) -> list[ProgrammeTerms]:
    """Each simulated programme's rules, tiers, amounts and conferral chances."""
    terms = []
    for programme in policy.programmes:
        texts = [
            *([programme.applicants] if getattr(programme, "applicants", None) else []),
            *programme.eligibility,
            *params.application_rules.get("*", []),
            *params.application_rules.get(programme.id, []),
        ]
        levels = sorted(programme.levels, key=lambda award: award.level.rank)
        sectors = None
        if getattr(programme, "sector_list", None):
            named = policy.named_list(programme.sector_list)
            sectors = None if named.open else list(named.names)
        amounts = []
        for award in levels:
            override = settings.amounts.get(programme.id, {}).get(award.level)
            amount = override if override is not None else award.amount
            amounts.append(None if amount is None else float(amount))
        terms.append(
            ProgrammeTerms(
                programme=programme,
                rules=[parse_rule(text) for text in texts],
                levels=[award.level.value for award in levels],
                ranks=[award.level.rank for award in levels],
                amounts=amounts,
                bands=[
                    [(parse_rule(b.when), float(b.amount)) for b in getattr(a, "bands", [])]
                    for a in levels
                ],
                conferral=[
                    settings.probability(a.conferrer)
                    if a.conferrer != policy.deciding_level
                    else 1.0
                    for a in levels
                ],
                sectors=sectors,
                rates=[0.0] * len(levels),
            )
        )
    return terms


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


def may_apply(
    terms: ProgrammeTerms, table: pd.DataFrame, params: SimulationParameters
) -> np.ndarray:
    """Firms that meet a programme's bar and may apply to it (by role and sector list)."""
    allowed = (table["role"] == MANUFACTURER).to_numpy() | params.service_firms_apply
    if terms.sectors is not None:
        allowed = allowed & table["sector"].isin(terms.sectors).to_numpy()
    return allowed & rules_hold(terms.rules, table)


def payable(
    terms: ProgrammeTerms,
    amounts: np.ndarray,
    held_rank: np.ndarray,
    paid: np.ndarray,
    policy: Policy,
) -> np.ndarray:
    """(firms × levels) money the city would pay each firm at each level of the programme,
    given its best level held in the programme's matter (``held_rank``, NO_LEVEL if none)
    and the amount already paid for it: 就高不重复 with the policy's upgrade rule."""
    ranks = np.asarray(terms.ranks)[None, :]
    holds = held_rank[:, None] != NO_LEVEL
    higher = ranks < held_rank[:, None]
    if policy.stacking == "all":
        return np.where(ranks == held_rank[:, None], 0.0, amounts)
    if policy.upgrade == "none":
        upgrade = np.zeros_like(amounts)
    elif policy.upgrade == "full":
        upgrade = amounts
    else:
        upgrade = np.maximum(0.0, amounts - paid[:, None])
    return np.where(holds, np.where(higher, upgrade, 0.0), amounts)


def expected_award(
    terms: list[ProgrammeTerms],
    reachable: dict[str, np.ndarray],
    payables: dict[str, np.ndarray],
    policy: Policy,
) -> np.ndarray:
    """E[award] per firm, 万元: Σ over levels of (chance the city designates or nominates ×
    chance of conferral × what the city would pay), for programmes the firm can reach;
    programmes sharing a matter do not stack, so the best of them counts (stacking
    "highest"), else they add up. ``rates`` leave conferral out, so it counts once here."""
    n = len(next(iter(reachable.values()))) if reachable else 0
    by_matter: dict[str, np.ndarray] = {}
    for term in terms:
        chance = np.asarray(term.rates) * np.asarray(term.conferral)
        value = (payables[term.id] @ chance) * reachable[term.id]
        key = term.matter if policy.stacking == "highest" else term.id
        by_matter[key] = np.maximum(by_matter.get(key, np.zeros(n)), value)
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
    mask = np.ones(len(made), dtype=bool)
    if quota.programmes is not None:
        mask &= made["programme"].isin(quota.programmes).to_numpy()
    if quota.levels is not None:
        mask &= made["level"].isin([lv.value for lv in quota.levels]).to_numpy()
    if quota.years is not None and "year" in made.columns:  # holdings before: no year
        mask &= made["year"].isin(quota.years).to_numpy()
    return int(mask.sum())


def without_minimums(policy: Policy) -> Policy:
    """The policy with every minimum quota dropped (maximums kept): what a bureau does when
    too few firms qualify to meet its targets this year."""
    kept = [q.model_copy(update={"min": None}) for q in policy.quotas if q.max is not None]
    return policy.model_copy(update={"quotas": kept})


def revocation_reasons(
    terms: ProgrammeTerms,
    holders: pd.DataFrame,
    since: list[int],
    year: int,
    params: SimulationParameters,
) -> list[str | None]:
    """Why each holder (a row of ``holders``, designated in ``since``) loses the designation
    this year, or None: its term has ended (the programme's ``term``), the policy's
    revocation rule holds for it, or (``revoke_below_bar``) it no longer meets the bar."""
    reasons: list[str | None] = [None] * len(holders)
    if params.revoke_below_bar:
        below = ~rules_hold(terms.rules, holders)
        reasons = ["below the bar" if b else r for b, r in zip(below, reasons, strict=True)]
    revocation = getattr(terms.programme, "revocation", None)
    if revocation is not None and revocation.rule:
        rule = parse_rule(revocation.rule)
        if rule.columns <= set(holders.columns):
            hits = rule.holds(holders).to_numpy(bool)
            reasons = [revocation.when if h else r for h, r in zip(hits, reasons, strict=True)]
    period = getattr(terms.programme, "term", None)
    if period is not None:
        for k, start in enumerate(since):
            if (period.years and year - start >= period.years) or (
                period.ends and year > period.ends
            ):
                reasons[k] = TERM_ENDED
    return reasons


def level_rank(level: str) -> int:
    return Level(level).rank
