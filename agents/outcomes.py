"""Outcomes of a replication: the award world against its no-award twin on the same draws.

Additionality and deadweight are measured, not assumed (DESIGN.md, "The simulation"): a
manufacturer *crosses* a threshold τ if it starts below τ and ends the horizon at or above it.
Crossing only in the award world is additional; awards to firms that cross in both worlds
are deadweight (Dimos & Pugh 2016 find additionality of firm subsidies limited).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .model import WorldResult, threshold_label
from .params import SimulationParameters
from .population import MANUFACTURER


def trajectories(award: WorldResult, twin: WorldResult) -> pd.DataFrame:
    """Both worlds' quarterly rows, stacked, with a ``world`` column ("award" / "twin")."""
    return pd.concat(
        [award.trajectory.assign(world="award"), twin.trajectory.assign(world="twin")],
        ignore_index=True,
    )


def firm_outcomes(award: WorldResult, twin: WorldResult) -> pd.DataFrame:
    """One row per firm: its start, and its end in each world, with what it was awarded."""
    a, b = award.firms, twin.firms
    return a[["firm_id", "role", "district", "sector", "start_share", "start_modes"]].assign(
        end_share_award=a["end_share"],
        end_share_twin=b["end_share"].to_numpy(),
        end_modes_award=a["end_modes"],
        end_modes_twin=b["end_modes"].to_numpy(),
        received=a["received"],
        held=a["held"],
    )


def additionality(
    firms: pd.DataFrame, awarded: set[str], threshold: float, spend: float
) -> dict[str, float | int | None]:
    """Crossings of ``threshold`` by manufacturers in each world and what they cost.

    additional: crossed only with awards; reversed: crossed only without (path dependence);
    deadweight: awarded firms that crossed in both worlds; already_above: awarded firms that
    started at or above τ; cost_per_additional: spend / (additional − reversed), None if ≤ 0.
    """
    manufacturers = firms[firms["role"] == MANUFACTURER]
    below = manufacturers["start_share"] < threshold
    in_award = below & (manufacturers["end_share_award"] >= threshold)
    in_twin = below & (manufacturers["end_share_twin"] >= threshold)
    got = manufacturers["firm_id"].isin(awarded)
    net = int((in_award & ~in_twin).sum()) - int((in_twin & ~in_award).sum())
    return {
        "threshold": threshold,
        "crossed_award": int(in_award.sum()),
        "crossed_twin": int(in_twin.sum()),
        "additional": int((in_award & ~in_twin).sum()),
        "reversed": int((in_twin & ~in_award).sum()),
        "net_additional": net,
        "additional_awarded": int((in_award & ~in_twin & got).sum()),
        "deadweight": int((in_award & in_twin & got).sum()),
        "already_above": int((~below & got).sum()),
        "awarded_firms": int(got.sum()),
        "cost_per_additional": spend / net if net > 0 else None,
    }


def awards_table(award: WorldResult) -> pd.DataFrame:
    """Designations and spend by programme, level and year: nominated (decided by the city),
    conferred (designated), committed (the designation-year amounts owed for them) and
    paid within the horizon (including later payments of earlier designations)."""
    decided = award.awards
    if decided.empty:
        return pd.DataFrame(
            columns=[
                "programme",
                "level",
                "year",
                "decided",
                "nominations",
                "conferred",
                "committed",
                "paid",
            ]
        )
    table = (
        decided.assign(committed=decided["cost"] * decided["conferred"])
        .groupby(["programme", "level", "year"], as_index=False)
        .agg(
            decided=("firm_id", "size"),
            nominations=("nomination", "sum"),
            conferred=("conferred", "sum"),
            committed=("committed", "sum"),
        )
    )
    paid = award.payments.groupby(["programme", "level", "year"], as_index=False)["paid"].sum()
    return table.merge(paid, on=["programme", "level", "year"], how="left").fillna({"paid": 0.0})


def district_spread(award: WorldResult) -> dict[str, object]:
    """How designations and money spread over districts: counts, money, the largest
    district's share and the Herfindahl index of counts (1/k when k districts share equally)."""
    conferred = award.awards[award.awards["conferred"]] if not award.awards.empty else award.awards
    counts = conferred.groupby("district").size() if len(conferred) else pd.Series(dtype=int)
    paid = (
        award.payments.groupby("district")["paid"].sum()
        if len(award.payments)
        else pd.Series(dtype=float)
    )
    total = counts.sum()
    shares = counts / total if total else counts.astype(float)
    return {
        "designations": {str(k): int(v) for k, v in counts.items()},
        "paid": {str(k): float(v) for k, v in paid.items()},
        "districts_reached": int((counts > 0).sum()),
        "largest_share": float(shares.max()) if total else 0.0,
        "herfindahl": float((shares**2).sum()) if total else 0.0,
    }


def compare_worlds(
    award: WorldResult, twin: WorldResult, params: SimulationParameters
) -> dict[str, object]:
    """The named outcomes of one replication (JSON-ready)."""
    firms = firm_outcomes(award, twin)
    end_a, end_t = award.trajectory.iloc[-1], twin.trajectory.iloc[-1]
    conferred = award.awards[award.awards["conferred"]] if not award.awards.empty else award.awards
    awarded = set(conferred["firm_id"]) if len(conferred) else set()
    paid = float(award.payments["paid"].sum()) if len(award.payments) else 0.0
    by_year = (
        award.payments.groupby("year")["paid"].sum()
        if len(award.payments)
        else pd.Series(dtype=float)
    )
    servitization = {
        "mean_service_share_start": float(award.trajectory["mean_service_share"].iloc[0]),
        "mean_service_share_award": float(end_a["mean_service_share"]),
        "mean_service_share_twin": float(end_t["mean_service_share"]),
    }
    for x in params.thresholds:
        label = threshold_label(x)
        servitization[f"{label}_start"] = float(award.trajectory[label].iloc[0])
        servitization[f"{label}_award"] = float(end_a[label])
        servitization[f"{label}_twin"] = float(end_t[label])
    return {
        "servitization": servitization,
        "designations": {
            "decided": len(award.awards),
            "nominations": int(award.awards["nomination"].sum()) if len(award.awards) else 0,
            "conferred": len(conferred),
            "revoked": len(award.revocations),
            "by_programme_level_year": awards_table(award).to_dict(orient="records"),
        },
        "spend": {
            "paid": paid,
            "owed_after_horizon": award.owed,
            "committed": paid + award.owed,
            "paid_by_year": {str(k): float(v) for k, v in by_year.items()},
        },
        "additionality": [additionality(firms, awarded, x, paid) for x in params.thresholds],
        "districts": district_spread(award),
    }


def summarise(outcomes: list[dict[str, object]]) -> dict[str, object]:
    """Mean, min and max over replications of every number in the outcomes (flattened keys)."""
    flat = [_flatten(o) for o in outcomes]
    keys = sorted(
        {
            k
            for f in flat
            for k, v in f.items()
            if isinstance(v, int | float)
            and not isinstance(v, bool)
            and not k.endswith(("threshold", "replication"))
        }
    )
    summary = {}
    for key in keys:
        values = np.array(
            [f[key] for f in flat if isinstance(f.get(key), int | float)], dtype=float
        )
        if len(values):
            summary[key] = {
                "mean": float(values.mean()),
                "min": float(values.min()),
                "max": float(values.max()),
                "n": len(values),
            }
    return summary


def _flatten(data: object, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        out: dict[str, object] = {}
        for key, value in data.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if (
        isinstance(data, list)
        and data
        and all(isinstance(d, dict) and "threshold" in d for d in data)
    ):
        out = {}
        for item in data:
            out.update(_flatten(item, f"{prefix}.{round(item['threshold'] * 100)}"))
        return out
    return {prefix: data} if not isinstance(data, list) else {}
