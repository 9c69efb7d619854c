"""What a world records: a Mesa DataCollector with one model reporter per trajectory column
(collected at the start and after every quarter) and the governments' award, payment and
revocation tables, which a later dashboard reads as any Mesa model's."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import partial
from typing import TYPE_CHECKING, Any

import mesa
import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .model import ServitizationModel

# An award row is one decision of a round: ``amount`` the tier amount, ``cost`` what the
# designation itself costs the city (after a top-up), ``committed`` everything it will pay
# if conferred (its instalments and the policy's later payouts; 0 if not conferred).
AWARD_COLUMNS = [
    "year",
    "policy",
    "firm_id",
    "district",
    "sector",
    "programme",
    "level",
    "decision",
    "nomination",
    "conferred",
    "amount",
    "cost",
    "committed",
    "score",
]
PAYMENT_COLUMNS = ["year", "policy", "firm_id", "district", "programme", "level", "paid"]
# ``cancelled``: 万元 still owed for the designation when it was withdrawn, no longer paid.
REVOCATION_COLUMNS = [
    "year",
    "policy",
    "firm_id",
    "programme",
    "level",
    "reason",
    "cancelled",
]
TABLES = {"awards": AWARD_COLUMNS, "payments": PAYMENT_COLUMNS, "revocations": REVOCATION_COLUMNS}


def threshold_label(threshold: float) -> str:
    """``share_above_20`` for 0.2: the trajectory column of a servitization threshold."""
    return f"share_above_{round(threshold * 100)}"


# --- model reporters: each a function of the model, over the manufacturers ---------------


def _manufacturer_shares(model: ServitizationModel) -> np.ndarray:
    return model.firms.share[model.firms.manufacturer]


def _mean_over_manufacturers(values: Callable[[ServitizationModel], np.ndarray]):
    def reporter(model: ServitizationModel) -> float:
        manufacturer = model.firms.manufacturer
        return float(values(model)[manufacturer].mean()) if manufacturer.any() else 0.0

    return reporter


def _share_above(threshold: float, model: ServitizationModel) -> float:
    share = _manufacturer_shares(model)
    return float((share >= threshold).mean()) if len(share) else 0.0


def _table_total(table: str, column: str, model: ServitizationModel) -> Any:
    # Summed in row order, as Python sums (the totals are the same whatever records them).
    return sum(model.datacollector.tables[table][column])


def _paid(model: ServitizationModel) -> float:
    return float(_table_total("payments", "paid", model))


def reporters(thresholds: Sequence[float]) -> dict[str, Callable[[ServitizationModel], Any]]:
    """The trajectory columns, in order: quarter, servitization of manufacturers (mean share,
    share above each threshold, mean modes), uptake (adoptions this quarter, mean hazard,
    firms one mode short of an award), and the awards so far (designations held,
    nominations, conferrals, money paid, withdrawals)."""
    return {
        "t": lambda m: m.t,
        "quarter": lambda m: m.label(m.t),
        "manufacturers": lambda m: int(m.firms.manufacturer.sum()),
        "mean_service_share": _mean_over_manufacturers(lambda m: m.firms.share),
        **{threshold_label(x): partial(_share_above, x) for x in thresholds},
        "mean_modes": _mean_over_manufacturers(lambda m: m.firms.n_modes()),
        "adoptions": lambda m: int((m.firms.adopted >= 0).sum()) if m.t else 0,
        "mean_hazard": _mean_over_manufacturers(lambda m: m.hazard),
        "one_mode_short": lambda m: int(m.reach.sum()),
        "designations_held": lambda m: m.firms.designations_held(),
        "nominated": partial(_table_total, "awards", "nomination"),
        "conferred": partial(_table_total, "awards", "conferred"),
        "paid": _paid,
        "revoked": lambda m: len(m.datacollector.tables["revocations"]["year"]),
    }


def collector(thresholds: Sequence[float]) -> mesa.DataCollector:
    """A DataCollector with the trajectory reporters and the award, payment and revocation
    tables (empty)."""
    return mesa.DataCollector(model_reporters=reporters(thresholds), tables=TABLES)


def append_rows(collector: mesa.DataCollector, table: str, rows: Mapping[str, Sequence]) -> None:
    """Append rows given column by column (equal lengths) to one of the collector's tables:
    ``add_table_row`` a column at a time, so a round's thousands of rows cost no Python loop
    per row."""
    columns = collector.tables[table]
    if set(rows) != set(columns):
        raise KeyError(f"table {table} has columns {list(columns)}, not {sorted(rows)}")
    lengths = {len(values) for values in rows.values()}
    if len(lengths) > 1:
        raise ValueError(f"columns of unequal length for table {table}: {sorted(lengths)}")
    for column, values in rows.items():
        columns[column].extend(values)


def table_frame(collector: mesa.DataCollector, table: str, start: int = 0) -> pd.DataFrame:
    """One of the collector's tables as a DataFrame in its declared column order: its rows
    from ``start`` on (all by default), indexed from 0."""
    columns = TABLES[table]
    data = collector.tables[table]
    if len(data[columns[0]]) <= start:
        return pd.DataFrame(columns=columns)
    if start:
        data = {c: data[c][start:] for c in columns}
    return pd.DataFrame(data, columns=columns)


class Stopwatch:
    """Seconds spent per stage of a run, summed: wall-clock in ``seconds``, this process's
    CPU in ``seconds`` under "<stage>_cpu" (on a shared machine the CPU seconds say what the
    stage itself cost). What a replication's time goes to; the benchmark reports it, no
    result depends on it."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    @contextmanager
    def __call__(self, stage: str) -> Iterator[None]:
        started, used = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started
            self.seconds[f"{stage}_cpu"] += time.process_time() - used
