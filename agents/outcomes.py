"""Outcomes of a replication: the award world against its no-award twin on the same draws.

Additionality and deadweight are measured, not assumed (docs/design.md, "The simulation"): a
manufacturer *crosses* a threshold τ if it starts below τ and ends the horizon at or above it.
Crossing only in the award world is additional; awards to firms that end at or above τ in
the twin — already above at the start, or crossing without the award — are deadweight
(Dimos & Pugh 2016 find additionality of firm subsidies limited).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .model import WorldResult, threshold_label
from .params import SimulationParameters
from .population import MANUFACTURER
from .rounds import ROUND_OUTCOMES


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
    net_additional: additional − reversed; cost_per_additional: spend / net_additional, None
    if net_additional ≤ 0. kept_above: started at or above τ, ends above with awards and
    below without; dropped_below: the reverse; net_above: manufacturers at or above τ at the
    end with awards less without (= net_additional + kept_above − dropped_below). deadweight: awarded firms at or above τ at the end of the twin,
    i.e. servitized without the award (docs/design.md: awards to firms that would have anyway),
    split into deadweight_already_above (started at or above τ) and deadweight_crossed_anyway
    (started below and crossed in the twin). Most titles carry no money (the cultivation
    titles): awarded_firms_paid and deadweight_firms_paid count the firms that received some
    (the deadweight of money, 无效激励); deadweight_paid is what they were paid within
    the horizon (from the firms' ``received``) and deadweight_paid_share its share of
    ``spend`` (None when nothing was paid). Crossings are the manufacturers'; the awarded
    and the deadweight are every firm's, so that they count the same firms as ``spend``:
    a producer-service firm (``service_firms_apply``) is above τ from the start, and what it
    is paid is deadweight (it was left out of the numerator while in the denominator).
    """
    manufacturer = (firms["role"] == MANUFACTURER).to_numpy(dtype=bool)
    start = firms["start_share"].to_numpy(dtype=float)
    below_all = start < threshold
    above_twin_all = firms["end_share_twin"].to_numpy(dtype=float) >= threshold
    below = below_all[manufacturer]
    above_award = firms["end_share_award"].to_numpy(dtype=float)[manufacturer] >= threshold
    above_twin = above_twin_all[manufacturer]
    in_award, in_twin = below & above_award, below & above_twin
    # A set lookup per firm: pandas' isin over a text column took 20 times as long.
    got_all = np.array([firm in awarded for firm in firms["firm_id"].tolist()], dtype=bool)
    got = got_all[manufacturer]
    received = firms["received"].to_numpy(dtype=float)
    deadweight = got_all & above_twin_all
    deadweight_paid = float(received[deadweight].sum())
    # Most titles carry no money (cultivation titles): the firms that were paid, apart.
    paid_firms = got_all & (received > 0)
    additional, reversed_ = int((in_award & ~in_twin).sum()), int((in_twin & ~in_award).sum())
    net = additional - reversed_
    # Manufacturers that start at or above τ: kept there by the awards (above with them,
    # below without), or dropped below by them. Crossings leave them out, so the end counts
    # of the two worlds differ by net_above, not net_additional (review 22: 344 against 343
    # firms above 20% beside a net additional of 0).
    kept = int((~below & above_award & ~above_twin).sum())
    dropped = int((~below & ~above_award & above_twin).sum())
    return {
        "threshold": threshold,
        "crossed_award": int(in_award.sum()),
        "crossed_twin": int(in_twin.sum()),
        "additional": additional,
        "reversed": reversed_,
        "net_additional": net,
        "kept_above": kept,
        "dropped_below": dropped,
        "net_above": int(above_award.sum()) - int(above_twin.sum()),
        "additional_awarded": int((in_award & ~in_twin & got).sum()),
        "awarded_firms": int(got_all.sum()),
        "awarded_firms_paid": int(paid_firms.sum()),
        "deadweight": int(deadweight.sum()),
        "deadweight_firms_paid": int((deadweight & paid_firms).sum()),
        "deadweight_already_above": int((deadweight & ~below_all).sum()),
        "deadweight_crossed_anyway": int((deadweight & below_all).sum()),
        "deadweight_paid": deadweight_paid,
        "deadweight_paid_share": deadweight_paid / spend if spend > 0 else None,
        "cost_per_additional": spend / net if net > 0 else None,
    }


TABLE_KEYS = ["programme", "level", "year"]
TABLE_COLUMNS = [*TABLE_KEYS, "decided", "nominations", "conferred", "committed", "paid"]


def awards_table(award: WorldResult) -> pd.DataFrame:
    """Designations and spend by programme, level and year.

    decided (designations the city made and nominations it sent up), nominations, conferred
    and committed (everything the conferred designations will pay, later instalments and
    payouts included) count in the year of the decision; paid counts in the year the money
    was paid, so a later instalment has its row even in a year with no decision at that
    programme and level, and the paid column adds up to everything paid.
    """
    decided = award.awards
    if len(decided):
        # One sum of the three columns and the group sizes: what the named aggregation
        # gives (the same sums), in a third of its time.
        grouped = decided[[*TABLE_KEYS, "nomination", "conferred", "committed"]].groupby(TABLE_KEYS)
        rows = (
            grouped.sum()
            .rename(columns={"nomination": "nominations"})
            .assign(decided=grouped.size())
            .reset_index()
        )
    else:
        rows = pd.DataFrame(
            columns=[*TABLE_KEYS, "decided", "nominations", "conferred", "committed"]
        )
    paid = (
        award.payments.groupby(TABLE_KEYS, as_index=False)["paid"].sum()
        if len(award.payments)
        else pd.DataFrame(columns=[*TABLE_KEYS, "paid"])
    )
    if rows.empty and paid.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    table = rows.merge(paid, on=TABLE_KEYS, how="outer")
    counts = {c: table[c].fillna(0).astype(int) for c in ("decided", "nominations", "conferred")}
    money = {c: table[c].fillna(0.0).astype(float) for c in ("committed", "paid")}
    table = table.assign(year=table["year"].astype(int), **counts, **money)
    return table.sort_values(TABLE_KEYS, ignore_index=True)[TABLE_COLUMNS]


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
    # Every district of the firms, 0 where nothing was conferred or paid: a district left
    # out of one replication would drop it from that district's mean over replications.
    firms = award.firms["district"].astype(str).tolist() if "district" in award.firms else []
    districts = sorted({*firms, *map(str, counts.index), *map(str, paid.index)})
    counts = counts.rename(index=str).reindex(districts, fill_value=0)
    paid = paid.rename(index=str).reindex(districts, fill_value=0.0)
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
    # tolist: iterating the text column itself goes through pandas a value at a time.
    awarded = set(conferred["firm_id"].tolist()) if len(conferred) else set()
    paid = float(award.payments["paid"].sum()) if len(award.payments) else 0.0
    by_year = (
        award.payments.groupby("year")["paid"].sum()
        if len(award.payments)
        else pd.Series(dtype=float)
    )
    # Every simulated year, 0 where nothing was paid: a year left out of one replication
    # would drop it from that year's mean over replications (two paying 0 and 120 in
    # different years gave yearly means of 90 and 30, summing to twice the total's 60).
    simulated = award.trajectory["quarter"].iloc[1:].str[:4].astype(int).unique().tolist()
    by_year = by_year.reindex(sorted({*simulated, *by_year.index.tolist()}), fill_value=0.0)
    # Everything conferred designations were to pay: paid + cancelled on withdrawal + owed.
    committed = float(award.awards["committed"].sum()) if len(award.awards) else 0.0
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
            "committed": committed,
            "cancelled": award.cancelled,
            "owed_after_horizon": award.owed,
            "paid_by_year": {str(k): float(v) for k, v in by_year.items()},
        },
        "overrun": {
            # 万元 paid above each budget row, and whether it happened (its mean over
            # replications is the chance a plan overruns that row)
            "by_row": dict(award.overruns),
            "occurred": {
                **{k: int(v > 0) for k, v in award.overruns.items()},
                "any_year": int(any(v > 0 for v in award.overruns.values())),
            },
        },
        "additionality": [additionality(firms, awarded, x, paid) for x in params.thresholds],
        "districts": district_spread(award),
        # How many yearly rounds ended each way (a sweep can ask how often a design's rounds
        # could not meet the minimum quotas, or paid only what is owed).
        "rounds": {kind: award.rounds.count(kind) for kind in ROUND_OUTCOMES},
    }


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def summarise(outcomes: list[dict[str, object]]) -> dict[str, object]:
    """Mean, min and max over replications of every number in the outcomes (flattened keys).

    An outcome some replications leave undefined (None, e.g. the cost per additional firm of
    a replication with no net additional firm) gets ``undefined``: how many; its min and max
    are over the others and its mean is None, since the mean of the defined ones alone would
    leave out exactly the replications where awards bought nothing (``pooled_costs`` gives a
    cost per additional firm over all replications instead).
    """
    flat = [_flatten(o) for o in outcomes]
    keys = sorted(
        {
            k
            for f in flat
            for k, v in f.items()
            if (v is None or _number(v)) and not k.endswith(("threshold", "replication"))
        }
    )
    summary: dict[str, object] = {}
    for key in keys:
        values = np.array([f[key] for f in flat if _number(f.get(key))], dtype=float)
        undefined = sum(1 for f in flat if key in f and f[key] is None)
        entry: dict[str, object] = {
            "mean": float(values.mean()) if len(values) and not undefined else None,
            "min": float(values.min()) if len(values) else None,
            "max": float(values.max()) if len(values) else None,
            "n": len(values),
        }
        if undefined:
            entry["undefined"] = undefined
        summary[key] = entry
    return summary


def pooled_costs(outcomes: list[dict[str, Any]]) -> list[dict[str, object]]:
    """Per threshold, the cost per additional firm over all replications: Σ paid / Σ net
    additional (None if Σ net additional ≤ 0), with the number of replications and how
    many of them had no net additional firm (a cost of their own is undefined)."""
    if not outcomes:
        return []
    paid = sum(float(o["spend"]["paid"]) for o in outcomes)
    pooled = []
    for k, first in enumerate(outcomes[0]["additionality"]):
        nets = [int(o["additionality"][k]["net_additional"]) for o in outcomes]
        total = sum(nets)
        pooled.append(
            {
                "threshold": first["threshold"],
                "cost_per_additional": paid / total if total > 0 else None,
                "net_additional": total,
                "paid": paid,
                "replications": len(outcomes),
                "without_net_additional": sum(1 for n in nets if n <= 0),
            }
        )
    return pooled


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


# The names of one replication's outcomes as ``summarise`` flattens ``compare_worlds``: a
# sweep file asks for outcomes by these names, and a name no pattern matches is refused
# before any run (a misspelt one was stored as an empty column). A threshold is its percent
# (20 for 0.2), a year four digits; a district or budget row any name. A test runs a
# replication and checks every key it returns matches one, so the list cannot drift from
# the functions above.
ADDITIONALITY_FIELDS = (
    "crossed_award",
    "crossed_twin",
    "additional",
    "reversed",
    "net_additional",
    "kept_above",
    "dropped_below",
    "net_above",
    "additional_awarded",
    "awarded_firms",
    "awarded_firms_paid",
    "deadweight",
    "deadweight_firms_paid",
    "deadweight_already_above",
    "deadweight_crossed_anyway",
    "deadweight_paid",
    "deadweight_paid_share",
    "cost_per_additional",
)
OUTCOME_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"servitization\.(mean_service_share|share_above_\d+)_(start|award|twin)",
        r"designations\.(decided|nominations|conferred|revoked)",
        r"spend\.(paid|committed|cancelled|owed_after_horizon)",
        r"spend\.paid_by_year\.\d{4}",
        r"overrun\.(by_row|occurred)\.[^.]+",
        rf"additionality\.\d+\.({'|'.join(ADDITIONALITY_FIELDS)})",
        r"districts\.(districts_reached|largest_share|herfindahl)",
        r"rounds\.(planned|without_minimums|obligations_only|not_held|no_applicants)",
        r"districts\.(designations|paid)\.[^.]+",
    )
)
# What a reader is shown when a name is refused: one example of each form.
OUTCOME_EXAMPLES = (
    "servitization.share_above_20_award",
    "designations.conferred",
    "spend.paid",
    "spend.paid_by_year.2025",
    "overrun.occurred.any_year",
    "additionality.20.net_additional",
    "districts.herfindahl",
    "districts.paid.南湖区",
)


def is_outcome_name(key: str) -> bool:
    """Whether ``key`` names an outcome a replication can report (``OUTCOME_PATTERNS``)."""
    return any(pattern.fullmatch(key) for pattern in OUTCOME_PATTERNS)
