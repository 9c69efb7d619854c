"""Scenario discovery: the uncertainty ranges in which a lever setting fails its targets
(PRIM, from ema_workbench), with coverage and density."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .sweep_data import OK, SweepData, Target
from .sweep_outcomes import factor_label

# PRIM needs enough worlds, and enough of them failing and succeeding, to draw a box.
MIN_PRIM_WORLDS = 30


MIN_PRIM_CASES = 5


PRIM_DENSITY = 0.8  # a box worth reporting fails in at least this share of its worlds


@dataclass
class Discovery:
    """Where a setting fails its targets: PRIM's box over the uncertainties (``box`` a row
    per uncertainty, ``restricted`` or not), its coverage (share of the failures inside) and
    density (share of the worlds inside that fail); ``message`` says why there is no box."""

    setting: str
    worlds: int
    failures: int
    excluded: int  # worlds whose run failed or is missing
    box: pd.DataFrame | None = None
    coverage: float | None = None
    density: float | None = None
    mass: float | None = None
    in_box: int | None = None
    failures_in_box: int | None = None
    message: str = ""


def discover(
    data: SweepData, setting: tuple, targets: Sequence[Target], density: float = PRIM_DENSITY
) -> Discovery:
    """PRIM (ema_workbench) on the worlds of ``setting``: the uncertainties are the inputs,
    failing any target is the case of interest. Chooses, on the peeling trajectory, among the
    boxes with at least ``density``, the one with the largest harmonic mean of coverage and
    density. Says so, instead of
    drawing a box, when there are no targets or uncertainties, fewer than 30 worlds, or
    fewer than 5 failing or 5 succeeding worlds."""
    label = data.label(setting) if not data.joint else "全部运行"
    cells = data.cells if data.joint else data.setting_cells(setting)
    ok = cells[cells["status"] == OK]
    excluded = len(cells) - len(ok)
    by_key = {key: column for column, key in data.keys.items()}
    if not targets:
        return Discovery(
            label,
            len(ok),
            0,
            excluded,
            message="没有目标：用 --target 或 [analysis] targets 给出目标",
        )
    met = np.logical_and.reduce([t.met(ok[by_key[t.outcome]]).to_numpy() for t in targets])
    fails = ~met
    found = Discovery(label, len(ok), int(fails.sum()), excluded)
    inputs = [*data.levers, *data.uncertainties] if data.joint else list(data.uncertainties)
    x = ok[inputs].reset_index(drop=True)
    x = x.loc[:, [c for c in x.columns if x[c].nunique() > 1]]
    if x.shape[1] == 0:
        found.message = "没有取值变化的不确定性：各世界只差随机种子，无法圈出不确定性范围"
    elif len(ok) < MIN_PRIM_WORLDS:
        found.message = f"运行太少：{len(ok)} 个已完成的世界（PRIM 至少需要 {MIN_PRIM_WORLDS} 个）"
    elif found.failures < MIN_PRIM_CASES:
        found.message = (
            f"未达标的世界太少：{found.failures} / {len(ok)}（PRIM 至少需要 {MIN_PRIM_CASES} 个）"
        )
    elif len(ok) - found.failures < MIN_PRIM_CASES:
        found.message = (
            f"几乎所有世界都未达标：{found.failures} / {len(ok)}，没有可以圈出的失败范围"
        )
    if found.message:
        return found
    return _prim_box(found, x, fails, data, density)


def _prim_box(
    found: Discovery, x: pd.DataFrame, fails: np.ndarray, data: SweepData, density: float
) -> Discovery:
    prim = _import_prim()
    for column in x.columns:
        if x[column].dtype == object or isinstance(x[column].dtype, pd.StringDtype):
            x[column] = x[column].astype("category")
    # PRIM's threshold both marks the cases of interest (y ≥ threshold: the failures, 1) and
    # is the density its last box must reach, or it returns the whole space instead. A tiny
    # positive one keeps the peeled box; the box is chosen on its trajectory below.
    with warnings.catch_warnings():
        # ema_workbench 2.5 still calls DataFrame.drop(inplace=True), which pandas 3.1 warns of
        warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
        algorithm = prim.Prim(x, fails.astype(float), threshold=1e-9)
        box = algorithm.find_box()
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    dense = trajectory[trajectory["density"] >= density - 1e-12]
    if len(dense):
        # The best trade-off of coverage and density: their harmonic mean (the F-score of
        # "inside the box" as a prediction of failing), fewer restricted factors on a tie.
        score = 2 * dense["coverage"] * dense["density"] / (dense["coverage"] + dense["density"])
        ranked = dense.assign(score=score.round(12))
        index = int(ranked.sort_values(["score", "res_dim"], ascending=[False, True]).index[0])
    else:
        index = int(trajectory["density"].idxmax())
        found.message = f"PRIM 没有找到未达标密度≥{density:.0%}的范围：以下为密度最高的范围"
    stats = trajectory.iloc[index]
    limits = box.box_lims[index]
    initial = algorithm.box_init
    rows = []
    for column in x.columns:
        low, high = limits[column].iloc[0], limits[column].iloc[1]
        first, last = initial[column].iloc[0], initial[column].iloc[1]
        categorical = isinstance(x[column].dtype, pd.CategoricalDtype)
        restricted = (set(low) != set(first)) if categorical else (low != first or high != last)
        rows.append(
            {
                "factor": data.keys.get(column, column),
                "factor_label": factor_label(data.keys.get(column, column)),
                "restricted": bool(restricted),
                "lower": "、".join(map(str, sorted(low))) if categorical else float(low),
                "upper": "" if categorical else float(high),
                "sample_low": "、".join(map(str, sorted(first))) if categorical else float(first),
                "sample_high": "" if categorical else float(last),
            }
        )
    found.box = pd.DataFrame(rows)
    found.coverage = float(stats["coverage"])
    found.density = float(stats["density"])
    found.mass = float(stats["mass"])
    found.in_box = int(stats["n"])
    found.failures_in_box = int(stats["k"])
    return found


def _import_prim() -> Any:
    """ema_workbench's PRIM, imported only when asked for (about 1.6 s) and without its
    warning that ipyparallel (which liangye never uses) is not installed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim
