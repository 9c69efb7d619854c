"""Tier designs side by side: each design's outcomes per replication and their spread."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

# The outcome keys of one replication (a summary.json ``runs`` entry, flattened) behind each
# design metric; ``{t}`` is the threshold in percent.
METRIC_KEYS: dict[str, str] = {
    "spend": "spend.paid",
    "additional": "additionality.{t}.net_additional",
    "cost_per_additional": "additionality.{t}.cost_per_additional",
    "deadweight_share": "additionality.{t}.deadweight_paid_share",
    "overrun_risk": "overrun.occurred.any_year",
}


def replication_metrics(runs: Sequence[Mapping[str, object]], threshold: int) -> pd.DataFrame:
    """One row per replication of a simulation (``summary.json``'s ``runs``): replication,
    spend, additional, cost_per_additional, deadweight_share, overrun_risk (0 or 1), the
    additionality read at ``threshold`` percent (None where a replication has none)."""
    rows = []
    for run in runs:
        spend = dict(run.get("spend") or {})  # type: ignore[arg-type]
        occurred = dict(dict(run.get("overrun") or {}).get("occurred") or {})  # type: ignore[arg-type]
        found = [
            a
            for a in run.get("additionality") or []  # type: ignore[union-attr]
            if round(float(a["threshold"]) * 100) == threshold
        ]
        extra = found[0] if found else {}
        rows.append(
            {
                "replication": int(run.get("replication", len(rows))),  # type: ignore[arg-type]
                "spend": _float(spend.get("paid")),
                "additional": _float(extra.get("net_additional")),
                "cost_per_additional": _float(extra.get("cost_per_additional")),
                "deadweight_share": _float(extra.get("deadweight_paid_share")),
                "overrun_risk": _float(occurred.get("any_year")),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "replication",
            "spend",
            "additional",
            "cost_per_additional",
            "deadweight_share",
            "overrun_risk",
        ],
    )


def _float(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return number if math.isfinite(number) else math.nan


def metric_rows(design: str, per_replication: pd.DataFrame) -> list[dict[str, object]]:
    """The design's row for each metric: mean, low and high (the uncertainty bar).

    Money, firms and shares: the mean over replications, the bar their range (min–max).
    The cost per additional firm is pooled (Σ paid / Σ net additional, none when that sum
    is not positive), as ``liangye simulate`` reports it, with the range of the replications
    that have one, open above (inf) when a replication added none. The overrun risk is the share of replications that overran in some year,
    the bar its 95% Wilson interval (a chance estimated from few replications is uncertain
    even when every replication agrees)."""
    rows: list[dict[str, object]] = []
    frame = per_replication
    for metric in ("spend", "additional", "deadweight_share"):
        values = frame[metric].dropna()
        rows.append(_row(design, metric, values.mean(), values.min(), values.max(), len(values)))
    net = frame["additional"].dropna().sum()
    pooled = float(frame["spend"].sum() / net) if net > 0 else math.nan
    costs = frame["cost_per_additional"].dropna()
    # A replication that added no servitized firm has no finite cost per additional firm: the
    # range then has no upper end (the pooled figure can lie above every finite one).
    unbounded = frame["additional"].dropna().le(0).any()
    rows.append(
        _row(
            design,
            "cost_per_additional",
            pooled,
            costs.min() if len(costs) else math.nan,
            math.inf if unbounded else (costs.max() if len(costs) else math.nan),
            len(frame),
        )
    )
    overruns = frame["overrun_risk"].dropna()
    if len(overruns):
        hits = round(float(overruns.sum()))
        low, high = wilson_interval(hits, len(overruns))
        rows.append(_row(design, "overrun_risk", hits / len(overruns), low, high, len(overruns)))
    return rows


def wilson_interval(hits: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """The Wilson score interval of a chance seen ``hits`` times in ``trials`` (trials > 0):
    what ``scipy.stats.binomtest(hits, trials).proportion_ci(method="wilson")`` gives (a test
    holds them equal), without importing scipy.stats, which cost 0.3 s of every report."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    share = hits / trials
    shrink = 1 + z * z / trials
    centre = (share + z * z / (2 * trials)) / shrink
    half = z / shrink * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    return max(0.0, centre - half), min(1.0, centre + half)


def _row(design: str, metric: str, mean: float, low: float, high: float, n: int) -> dict:
    return {
        "design": design,
        "metric": metric,
        "mean": float(mean) if n else math.nan,
        "low": float(low) if n else math.nan,
        "high": float(high) if n else math.nan,
        "replications": n,
    }


def paired_difference(
    base: pd.DataFrame, other: pd.DataFrame, metric: str
) -> tuple[float, float, float, int]:
    """The difference other − base of a metric, replication by replication (the designs
    ran on the same seeds, so replication k of each faced the same world): mean, min, max
    and how many replications both define."""
    joined = base[["replication", metric]].merge(
        other[["replication", metric]], on="replication", suffixes=("_base", "_other")
    )
    diff = (joined[f"{metric}_other"] - joined[f"{metric}_base"]).dropna()
    if not len(diff):
        return math.nan, math.nan, math.nan, 0
    return float(diff.mean()), float(diff.min()), float(diff.max()), len(diff)


def exceeds_spread(
    base: pd.DataFrame, other: pd.DataFrame, metric: str
) -> tuple[float, float, bool | None]:
    """Whether two designs differ by more than the spread over replications.

    The difference is of the means; the spread is the larger of the two designs' ranges
    over replications (max − min). Returns (difference, spread, verdict); the verdict is
    None when there is no telling (fewer than two replications, or a metric undefined)."""
    a, b = base[metric].dropna(), other[metric].dropna()
    if len(a) < 2 or len(b) < 2:
        diff = float(b.mean() - a.mean()) if len(a) and len(b) else math.nan
        return diff, math.nan, None
    diff = float(b.mean() - a.mean())
    spread = float(max(np.ptp(a.to_numpy()), np.ptp(b.to_numpy())))
    return diff, spread, abs(diff) > spread
