"""Later payments: an award's payouts after its year, and an upgrade chain's first designation."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .decisions import map_objects
from .policy import Policy

# One row per payment of an option besides its own year's cost: later payouts, and an
# upgrade chain's first designation; ``chance`` that it is paid (cost × chance = expected);
# ``part`` 1 for the option's own designation, 0 for a chain's first one.
LATER_PAYMENT_COLUMNS = ["option", "year", "cost", "expected_cost", "chance", "part"]
# None (framed once: framing it each round was 0.2 ms; copied, as callers may add to it).
_NO_LATER_PAYMENTS = pd.DataFrame(columns=LATER_PAYMENT_COLUMNS)


def money_value(value: object) -> Decimal:
    """A candidate's money cell as an exact Decimal; missing or negative counts as nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Decimal(0)
    amount = Decimal(str(round(float(value), 4)))
    return max(amount, Decimal(0))


def payout_totals(policy: Policy, candidates: pd.DataFrame) -> dict[tuple[str, str], np.ndarray]:
    """Per tier with later payouts, what they pay each candidate in all (万元, floats, before
    any cap): a fixed amount or share × a candidate column, times its years."""
    totals: dict[tuple[str, str], np.ndarray] = {}
    for programme in policy.programmes:
        for award in programme.levels:
            if not award.payouts:
                continue
            total = np.zeros(len(candidates))
            for payout in award.payouts:
                if payout.amount is not None:
                    each = np.full(len(candidates), float(payout.amount))
                elif payout.of not in candidates.columns:
                    continue  # said as the table's problem (eligibility.columns_read)
                else:
                    values = candidates[payout.of].to_numpy()
                    each = payout.share * np.array([float(money_value(v)) for v in values])
                total += each * len(payout.years_after)
            totals[(programme.id, award.level.value)] = total
    return totals


def award_totals(
    policy: Policy, tier_amounts: dict[tuple[str, str], np.ndarray], candidates: pd.DataFrame
) -> dict[tuple[str, str], np.ndarray]:
    """What each tier pays each candidate in all — its amount, its later payouts, at most its
    cap (最高不超过) — the measure of 就高不重复: a holder is paid in a matter the largest
    such total of the titles it holds there, and a higher award tops it up to its own
    (``decisions.upgrade_price``). Review 23: with the lower title paid 20 + 10 the year
    after, a top-up of 120 − 20 paid 130 in all for an award of 120. The tiers without
    payouts or cap keep their amounts' arrays."""
    payouts = payout_totals(policy, candidates)
    caps = {
        (p.id, a.level.value): float(a.cap)
        for p in policy.programmes
        for a in p.levels
        if a.cap is not None
    }
    totals = {}
    for key, amounts in tier_amounts.items():
        total = amounts + payouts.get(key, 0.0)
        if key in caps:
            total = np.minimum(total, caps[key])
        same = key not in payouts and np.array_equal(total, amounts, equal_nan=True)
        totals[key] = amounts if same else total
    return totals


def option_totals(policy: Policy, candidates: pd.DataFrame, options: pd.DataFrame) -> np.ndarray:
    """What each option's award pays its candidate in all, as floats: ``award_totals`` read
    at the option's tier and candidate (its amount, later payouts, at most its cap)."""
    amounts = np.array([float(a) for a in options["amount"].tolist()], dtype=float)
    at = options["candidate"].to_numpy()
    per_tier = {}
    for key, rows in options.groupby(["programme", "level"], sort=False).indices.items():
        per_tier[key] = np.full(len(candidates), np.nan)
        per_tier[key][at[rows]] = amounts[rows]
    return tier_values_at(options, award_totals(policy, per_tier, candidates), amounts)


def tier_values_at(
    options: pd.DataFrame, by_tier: dict[tuple[str, str], np.ndarray], default: np.ndarray
) -> np.ndarray:
    """``by_tier[(programme, level)][candidate]`` for each option (row) of ``options``;
    ``default``'s value where its tier has none."""
    out = np.array(default, dtype=float)
    if len(options) == 0 or not by_tier:
        return out
    at = options["candidate"].to_numpy()
    for key, rows in options.groupby(["programme", "level"], sort=False).indices.items():
        if key in by_tier:
            out[rows] = by_tier[key][at[rows]]
    return out


def later_payments(policy: Policy, candidates: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """Payments besides each option's own-year cost, one row per (option, year, chance),
    columns LATER_PAYMENT_COLUMNS; cost exact (Decimal), expected_cost = cost × chance:

    - the policy's later payouts of the option's tier, paid with the option's chance: a
      fixed amount, or share × a candidate column (万元 a year); a missing or negative
      column value pays nothing (no increase over the base, no rebate);
    - for an upgrade chain (``from_option`` ≥ 0, ``decisions.upgrade_chains``), the first
      designation's own cost and payouts, certain (chance 1), in their years.
    """
    frames: list[pd.DataFrame] = []
    chance = options["probability"].to_numpy(dtype=float)
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
            # With a cap (最高不超过) the payments stop where the award's own amount and
            # the payouts before reach it, in year order (review 23: 40 and 10% of a
            # growth for two years committed 200万元 under a cap of 60).
            left = (
                [award.cap - Decimal(str(a)) for a in chosen["amount"].tolist()]
                if award.cap is not None
                else None
            )
            paid: dict[int, list] = {}
            for payout in award.payouts:
                if payout.amount is not None:
                    costs = [payout.amount] * len(chosen)
                else:
                    share = Decimal(str(payout.share))
                    values = candidates[payout.of].to_numpy()[chosen["candidate"].to_numpy()]
                    costs = [share * money_value(v) for v in values]
                for k in payout.years_after:
                    paid.setdefault(k, []).append(list(costs))
            for k in sorted(paid) if left is not None else ():
                for costs in paid[k]:
                    for j, cost in enumerate(costs):
                        costs[j] = min(cost, max(left[j], Decimal(0)))
                        left[j] -= costs[j]
            for payout in award.payouts:
                for k in payout.years_after:
                    costs = paid[k].pop(0)
                    frames.append(
                        pd.DataFrame(
                            {
                                "option": at,
                                "year": chosen["year"].to_numpy() + k,
                                "cost": costs,
                                "chance": chance[at],
                                "part": 1,
                            }
                        )
                    )
    payouts = pd.concat(frames, ignore_index=True) if frames else None
    origin = options["from_option"].to_numpy()
    chains = np.flatnonzero(origin >= 0)
    if len(chains):
        first = origin[chains]
        frames.append(
            pd.DataFrame(
                {
                    "option": chains,
                    "year": options["year"].to_numpy()[first],
                    "cost": options["cost"].to_numpy()[first],
                    "chance": 1.0,
                    "part": 0,
                }
            )
        )
        if payouts is not None:
            # Each chain inherits its first designation's payouts, certain: one merge.
            owner = pd.DataFrame({"origin": first, "chain": chains})
            inherited = payouts.merge(owner, left_on="option", right_on="origin")
            frames.append(
                inherited.drop(columns=["option", "origin"])
                .rename(columns={"chain": "option"})
                .assign(chance=1.0, part=0)[list(payouts.columns)]
            )
    if not frames:
        return _NO_LATER_PAYMENTS.copy()
    payments = pd.concat(frames, ignore_index=True)
    # float(cost) once per distinct cost object, not per row (26 ms of 105,000 chains).
    cost = map_objects(float, payments["cost"].to_numpy(dtype=object)).astype(float)
    payments["expected_cost"] = cost * payments["chance"].to_numpy(dtype=float)
    single = _single_payments(payments)
    if single is not None:
        return single
    payments = payments.groupby(
        ["option", "year", "chance", "part"], as_index=False, sort=True
    ).agg(cost=("cost", "sum"), expected_cost=("expected_cost", "sum"))
    return payments[LATER_PAYMENT_COLUMNS]


def _single_payments(payments: pd.DataFrame) -> pd.DataFrame | None:
    """What ``later_payments``' groupby-sum gives when every (option, year, chance, part)
    is one row and nothing is missing (upgrade chains without payouts: 20 of 30 ms at
    10,000 candidates): the rows in the order of their keys, each cost the row's own
    object, each expected cost the row's plus 0.0 (as the sum starts from 0.0: -0.0 becomes
    0.0). None otherwise."""
    keys = [payments[k].to_numpy() for k in ("option", "year", "chance", "part")]
    expected = payments["expected_cost"].to_numpy(dtype=float)
    if (
        any(k.dtype.kind not in "iuf" or np.isnan(k.astype(float)).any() for k in keys)
        or np.isnan(expected).any()
        or pd.isna(payments["cost"].to_numpy()).any()
    ):
        return None
    order = np.lexsort(keys[::-1])
    ordered = [k[order] for k in keys]
    repeated = np.ones(max(len(order) - 1, 0), dtype=bool)
    for k in ordered:
        repeated &= k[1:] == k[:-1]
    if repeated.any():
        return None
    single = payments.take(order).reset_index(drop=True)
    single["expected_cost"] = expected[order] + 0.0
    return single[LATER_PAYMENT_COLUMNS]
