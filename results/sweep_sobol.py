"""Sobol indices of a sweep's outcomes against its uncertainties (SALib), invalid when runs
failed."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .sweep_data import FAILED, MISSING, OK, SweepData
from .sweep_outcomes import factor_label, outcome_info


@dataclass
class SobolResult:
    """Sobol indices of each outcome against the sampled factors, per lever setting: a row
    per (setting, outcome, factor); ``valid`` False with the reason wherever a run of the
    design failed, is missing, or left the outcome undefined."""

    table: pd.DataFrame
    valid: bool
    message: str  # Chinese: what makes the table invalid, or that it is valid
    failed: int
    missing: int
    # Chinese: why valid indices are too imprecise to act on (None: they are not)
    imprecise: str | None = None
    # With ``sampler.second_order``: a row per (setting, outcome, pair of factors), S2 and its
    # confidence half-width (None without it)
    pairs: pd.DataFrame | None = None


# A valid index whose 95% confidence interval is wider than this on either side says little
# (an S1 of 0.3 ± 0.4 could be anything): the table says so and asks for more samples.
INVALID_ZH = "无效（INVALID）："  # how an invalid row's reason begins
# The second-order table's columns, there even when it has no row (a single sampled factor
# has no pair: its CSV had no header, which no reader could open).
PAIR_COLUMNS = [
    "setting",
    "outcome",
    "outcome_label",
    "factor",
    "factor_2",
    "factor_label",
    "factor_2_label",
    "S2",
    "S2_conf",
    "valid",
    "reason",
]
MAX_CONF_HALF_WIDTH = 0.1


def sobol_indices(data: SweepData, seed: int = 0, conf_level: float = 0.95) -> SobolResult | None:
    """SALib's ``sobol.analyze`` (first-order S1 and total ST with bootstrap confidence
    intervals, ``seed`` for the bootstrap) for every outcome, per lever setting (``cross``:
    each setting ran the whole Saltelli design) or over the joint design. The replications
    of a sample point are averaged first (the seeds are no factor). None when the sweep's
    sampler is not sobol.

    Promises never to compute an index from part of the design: a setting where a run
    failed, is missing or left the outcome undefined gets rows marked invalid, naming how
    many runs."""
    sampler = data.manifest.get("sampler", {})
    if sampler.get("kind") != "sobol":
        return None
    from SALib.analyze import sobol

    sampled_keys = data.manifest.get("design", {}).get("sampled", [])
    by_key = {key: column for column, key in data.keys.items()}
    sampled = [by_key[k] for k in sampled_keys]
    second = bool(sampler.get("second_order"))
    n = int(sampler["samples"])
    points = n * (2 * len(sampled) + 2 if second else len(sampled) + 2)
    replications = int(data.manifest.get("replications", 1))
    problem = {"num_vars": len(sampled), "names": sampled, "bounds": [[0.0, 1.0]] * len(sampled)}
    groups = [()] if data.joint else data.settings
    rows: list[dict[str, object]] = []
    pairs: list[dict[str, object]] = []
    failed = missing = 0
    short: list[str] = []  # each setting's design short of cells, said once in the message
    for setting in groups:
        cells = data.cells if data.joint else data.setting_cells(setting)
        counts = data.counts(cells)
        failed += counts[FAILED]
        missing += counts[MISSING]
        complete = len(cells) == points * replications and set(cells["point"]) == set(range(points))
        if not complete:
            short.append(_cells_short(points * replications, len(cells)))
        for outcome in data.outcomes:
            undefined = int(((cells["status"] == OK) & cells[outcome].isna()).sum())
            reason = _sobol_problem(counts, undefined, complete, points * replications, len(cells))
            indices: dict[str, Any] | None = None
            if reason is None:
                y = cells.groupby("point")[outcome].mean().reindex(range(points)).to_numpy()
                if np.ptp(y) == 0:
                    label = outcome_info(data.keys[outcome]).label
                    reason = f"“{label}”在所有样本中相同：方差为零，指数无定义"
                else:
                    indices = sobol.analyze(
                        problem, y, calc_second_order=second, conf_level=conf_level, seed=seed
                    )
            for i, column in enumerate(sampled):
                row: dict[str, object] = {
                    "setting": data.label(setting) if not data.joint else "全部运行",
                    **({} if data.joint else dict(zip(data.levers, setting, strict=True))),
                    "outcome": data.keys[outcome],
                    "outcome_label": outcome_info(data.keys[outcome]).label,
                    "factor": data.keys[column],
                    "factor_label": factor_label(data.keys[column]),
                    "S1": np.nan,
                    "S1_conf": np.nan,
                    "ST": np.nan,
                    "ST_conf": np.nan,
                    "valid": indices is not None,
                    "reason": reason or "有效",
                    "samples": n,
                    "runs_failed": counts[FAILED],
                    "runs_missing": counts[MISSING],
                    "undefined": undefined,
                }
                if indices is not None:
                    for name in ("S1", "S1_conf", "ST", "ST_conf"):
                        row[name] = float(indices[name][i])
                rows.append(row)
            if second:
                # SALib's S2 is the upper triangle of a factor × factor matrix.
                for i, j in itertools.combinations(range(len(sampled)), 2):
                    pairs.append(
                        {
                            "setting": data.label(setting) if not data.joint else "全部运行",
                            "outcome": data.keys[outcome],
                            "outcome_label": outcome_info(data.keys[outcome]).label,
                            "factor": data.keys[sampled[i]],
                            "factor_2": data.keys[sampled[j]],
                            "factor_label": factor_label(data.keys[sampled[i]]),
                            "factor_2_label": factor_label(data.keys[sampled[j]]),
                            "S2": np.nan if indices is None else float(indices["S2"][i, j]),
                            "S2_conf": np.nan
                            if indices is None
                            else float(indices["S2_conf"][i, j]),
                            "valid": indices is not None,
                            "reason": reason or "有效",
                        }
                    )
    table = pd.DataFrame(rows)
    valid = bool(len(table)) and bool(table["valid"].all())
    if valid:
        message = "Sobol 指数有效：设计中的每次运行都已完成"
    else:
        parts = _invalid_parts(table, failed, missing, short)
        message = "Sobol 指数无效（INVALID）：" + "；".join(parts)
    result = SobolResult(table, valid, message, failed, missing, _imprecision(table, n))
    result.pairs = pd.DataFrame(pairs, columns=PAIR_COLUMNS) if second else None
    return result


def _invalid_parts(table: pd.DataFrame, failed: int, missing: int, short: list[str]) -> list[str]:
    """Why some indices are invalid, for the whole sweep: the runs failed and missing in all
    settings (each row's reason counts its own setting's: two settings of 18 failures each
    were said as "18 次运行失败" where 36 had failed), the runs whose outcome is undefined,
    each design short of cells (``short``) and each other reason once (an outcome that never
    varies)."""
    bad = table.loc[~table["valid"]]
    parts = []
    if failed:
        parts.append(f"共 {failed} 次运行失败")
    if missing:
        parts.append(f"共 {missing} 次运行尚未完成")
    undefined = int(bad.drop_duplicates(["setting", "outcome"])["undefined"].sum())
    if undefined:
        parts.append(f"共 {undefined} 个运行结果无定义")
    parts += dict.fromkeys(short)
    parts += dict.fromkeys(str(r) for r in bad["reason"] if not str(r).startswith(INVALID_ZH))
    if failed or missing or undefined or short:
        parts.append("Saltelli 设计缺一不可，未计算这些指数")
    return parts


def _imprecision(table: pd.DataFrame, samples: int) -> str | None:
    """Mark each valid row whose confidence interval is wider than ``MAX_CONF_HALF_WIDTH``
    (or not finite: too few samples to bootstrap) in ``precise``; the Chinese of why, or
    None when every valid index is precise enough."""
    if table.empty:
        return None
    widest = table[["S1_conf", "ST_conf"]].max(axis=1, skipna=False)
    precise = widest.le(MAX_CONF_HALF_WIDTH)  # NaN compares False: not precise
    table["precise"] = precise & table["valid"]
    loose = table["valid"] & ~precise
    if not loose.any():
        return None
    worst = widest[loose].max()
    said = "无法估计" if not np.isfinite(worst) else f"最宽达 ±{worst:.2f}"
    # Each row its own width (the sweep's widest, said on every row, belonged to another
    # setting: review 11).
    table.loc[loose, "reason"] = [
        f"有效，但精度不足：置信区间半宽{'无法估计' if not np.isfinite(w) else f'±{w:.2f}'}"
        for w in widest[loose]
    ]
    return (
        f"{int(loose.sum())} 个指数的 95% 置信区间半宽超过 ±{MAX_CONF_HALF_WIDTH}（{said}）："
        f"基础样本数 N = {samples} 太少，这些指数仅供参考；请增大 sampler.samples（如 "
        f"{max(64, 4 * samples)}）后重新运行"
    )


def _sobol_problem(
    counts: Mapping[str, int], undefined: int, complete: bool, expected: int, found: int
) -> str | None:
    """Why a setting's Sobol indices cannot be computed (Chinese), or None."""
    reasons = []
    if counts[FAILED]:
        reasons.append(f"{counts[FAILED]} 次运行失败")
    if counts[MISSING]:
        reasons.append(f"{counts[MISSING]} 次运行尚未完成")
    if undefined:
        reasons.append(f"{undefined} 次运行该结果无定义")
    if not complete:
        reasons.append(_cells_short(expected, found))
    if not reasons:
        return None
    return INVALID_ZH + "，".join(reasons) + "；Saltelli 设计缺一不可，未计算指数"


def _cells_short(expected: int, found: int) -> str:
    """A design short of (or past) its cells, in Chinese."""
    return f"设计应有 {expected} 个单元，实有 {found} 个"
