"""What is robust in a finished sweep: Sobol indices, spread, regret and targets per lever
setting, and the uncertainty ranges where a setting fails (PRIM)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .sweep_data import (
    FAILED,
    MISSING,
    AnalysisInputError,
    SweepData,
    Target,
    load_sweep_data,
    show_value,
)
from .sweep_discovery import Discovery, discover
from .sweep_outcomes import HIGHER, LOWER, factor_label, outcome_info
from .sweep_robustness import Robustness, find_setting, robustness
from .sweep_sobol import SobolResult, sobol_indices


@dataclass
class SweepAnalysis:
    """Everything ``liangye analyse`` reports on one sweep."""

    data: SweepData
    targets: list[Target]
    better: dict[str, str]
    sobol: SobolResult | None
    robust: Robustness
    discovery: Discovery
    setting: tuple  # the setting PRIM looked at
    setting_chosen_by: str  # Chinese: --setting, or how the best setting was found


def analyse_sweep(
    folder: Path,
    targets: Sequence[Target] = (),
    better: Mapping[str, str] | None = None,
    setting: Mapping[str, str] | None = None,
    value_names: Mapping[str, Mapping[str, str]] | None = None,
) -> SweepAnalysis:
    """Read the sweep in ``folder`` and analyse it: Sobol indices (sobol sampler), spread,
    regret and targets per lever setting, and PRIM for ``setting`` (``{lever: value}``) or
    the best setting by mean regret. The same store gives the same numbers (the bootstrap of
    the confidence intervals is seeded by the sweep's root seed). ``value_names``: {key:
    {value: name}} for lever values people know by a name (a tier design by its title)."""
    data = load_sweep_data(folder)
    # Names by key, kept by column: a lever's values as the reader knows them.
    column_of = {key: column for column, key in data.keys.items()}
    data.value_names = {
        column_of[key]: {str(v): name for v, name in names.items()}
        for key, names in (value_names or {}).items()
        if key in column_of
    }
    better = dict(better or {})
    for key, direction in better.items():
        if direction not in (HIGHER, LOWER):
            raise AnalysisInputError(
                f"better.{key}",
                "expected higher or lower",
                "应为 higher（越高越好）或 lower（越低越好）",
            )
    seed = int(data.manifest.get("root_seed", 0))
    sobol = sobol_indices(data, seed=seed)
    robust = robustness(data, targets, better)
    if setting:
        chosen, by = find_setting(data, setting), "--setting 指定"
    else:
        chosen, by = robust.best_setting, robust.best_by
        if not robust.crowned:
            by = f"{by}；取第一个方案"
    found = discover(data, chosen, targets)
    return SweepAnalysis(data, list(targets), better, sobol, robust, found, chosen, by)


ANALYSIS_DIR = "analysis"


TABLES = ("sobol", "sobol_pairs", "robustness", "targets", "discovery")


HEADERS_ZH = {
    "setting": "方案",
    "setting_index": "方案序号",
    "outcome": "结果键",
    "outcome_label": "结果",
    "unit": "单位",
    "better": "较优方向",
    "worlds": "有值的世界数",
    "undefined": "结果无定义的运行",
    "failed": "失败运行",
    "missing": "缺失运行",
    "mean": "均值",
    "event": "是否事件（均值即发生比例）",
    "p10": "10%分位",
    "p90": "90%分位",
    "regret_mean": "平均后悔值",
    "regret_p90": "后悔值90%分位",
    "regret_max": "最大后悔值",
    "best_share": "最优世界占比",
    "regret_worlds": "计算后悔值的世界数",
    "regret_excluded": "因缺值未计后悔值的世界数",
    "factor": "因素键",
    "factor_label": "因素",
    "factor_2": "第二因素键",
    "factor_2_label": "第二因素",
    "S2": "二阶指数S2",
    "S2_conf": "S2的95%置信区间半宽",
    "S1": "一阶指数S1",
    "S1_conf": "S1的95%置信区间半宽",
    "ST": "总效应指数ST",
    "ST_conf": "ST的95%置信区间半宽",
    "valid": "是否有效",
    "precise": "精度是否足够",
    "reason": "说明",
    "samples": "基础样本数N",
    "runs_failed": "失败运行",
    "runs_missing": "缺失运行",
    "target": "目标",
    "met": "达标世界数",
    "judged": "判定世界数",
    "share": "达标比例",
    "restricted": "是否受限",
    "lower": "下限",
    "upper": "上限",
    "sample_low": "样本最小值",
    "sample_high": "样本最大值",
    "coverage": "覆盖率（未达标世界落在范围内的比例）",
    "density": "密度（范围内世界未达标的比例）",
    "mass": "质量（落在范围内的世界比例）",
    "failures_in_box": "范围内未达标世界数",
    "in_box": "范围内世界数",
    "note": "说明",
}


def analysis_tables(analysis: SweepAnalysis) -> dict[str, pd.DataFrame]:
    """The analysis's tables by file stem (English columns, as the Parquet files hold them)."""
    tables = {"robustness": analysis.robust.spread}
    if analysis.sobol is not None:
        tables["sobol"] = analysis.sobol.table
        if analysis.sobol.pairs is not None:
            tables["sobol_pairs"] = analysis.sobol.pairs
    if len(analysis.robust.targets):
        tables["targets"] = analysis.robust.targets
    found = analysis.discovery
    if found.box is not None:
        # The box's own figures on every row: the table is read apart from the screen and
        # summary.json, and a box of density 23% read as "where the setting fails" (review 19).
        tables["discovery"] = found.box.assign(
            setting=found.setting,
            coverage=found.coverage,
            density=found.density,
            mass=found.mass,
            failures_in_box=found.failures_in_box,
            in_box=found.in_box,
            note=found.message or None,
        )
    return tables


def _for_people(table: pd.DataFrame, data: SweepData) -> pd.DataFrame:
    """A table with Chinese headers and words (lever columns by their Chinese names)."""
    from .export import escape_formulas

    table = table.copy()
    yes_no = {True: "是", False: "否"}
    for column in ("valid", "precise", "restricted", "event"):
        if column in table:
            table[column] = table[column].map(yes_no)
    if "better" in table:
        from .sweep_outcomes import BETTER_ZH

        table["better"] = table["better"].map(lambda b: BETTER_ZH.get(b, "—"))
    for column, named in data.value_names.items():
        if column in table:
            table[column] = [named.get(show_value(v), v) for v in table[column]]
    names = {c: factor_label(data.keys[c]) for c in data.levers} | HEADERS_ZH
    return escape_formulas(table.rename(columns=names))


def summary(analysis: SweepAnalysis, files: Sequence[Path] = ()) -> dict[str, object]:
    """The analysis as JSON for tools (English keys; messages in Chinese)."""
    data, found = analysis.data, analysis.discovery
    counts = data.counts()
    levers = [data.keys[c] for c in data.levers]
    return {
        "sweep_id": data.manifest.get("sweep_id"),
        "folder": str(data.folder),
        "runs": {
            "design_cells": len(data.cells),
            "runs": int(data.cells["run_id"].nunique()),
            **counts,
            "complete": counts[FAILED] == 0 and counts[MISSING] == 0,
        },
        "targets": [str(t) for t in analysis.targets],
        "better": analysis.better,
        "sobol": None
        if analysis.sobol is None
        else {
            "valid": analysis.sobol.valid,
            "message": analysis.sobol.message,
            "imprecise": analysis.sobol.imprecise,
            "failed": analysis.sobol.failed,
            "missing": analysis.sobol.missing,
        },
        "best_setting": {
            "setting": data.label(analysis.robust.best_setting),
            "levers": dict(zip(levers, analysis.robust.best_setting, strict=False)),
            "chosen_by": analysis.robust.best_by,
            "crowned": analysis.robust.crowned,
        },
        "discovery": {
            "setting": found.setting,
            "levers": dict(zip(levers, analysis.setting, strict=False)),
            "chosen_by": analysis.setting_chosen_by,
            "worlds": found.worlds,
            "failures": found.failures,
            "excluded": found.excluded,
            "coverage": found.coverage,
            "density": found.density,
            "mass": found.mass,
            "in_box": found.in_box,
            "failures_in_box": found.failures_in_box,
            "message": found.message,
            "box": [] if found.box is None else found.box.to_dict(orient="records"),
        },
        "notes": analysis.robust.notes,
        "files": [str(f) for f in files],
    }


def write_analysis(analysis: SweepAnalysis, out: Path | None = None) -> list[Path]:
    """Write the tables (Parquet with English columns, CSV with Chinese headers in UTF-8
    with a BOM so that Excel reads it), the figures (PNG) and ``summary.json`` into
    ``out`` (default ``<sweep>/analysis/``), replacing what an earlier analysis wrote there;
    return the files written."""
    from .store import write_atomic, write_json
    from .sweep_plots import plot_outcomes_by_lever, plot_robustness, plot_sobol

    folder = out or analysis.data.folder / ANALYSIS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stem in TABLES:
        for suffix in (".csv", ".parquet"):
            (folder / f"{stem}{suffix}").unlink(missing_ok=True)
    for old in [*folder.glob("outcomes_by_*.png"), folder / "sobol.png", folder / "robustness.png"]:
        old.unlink(missing_ok=True)
    written: list[Path] = []
    for stem, table in analysis_tables(analysis).items():
        written.append(
            write_atomic(
                folder / f"{stem}.parquet", lambda p, t=table: t.to_parquet(p, index=False)
            )
        )
        people = _for_people(table, analysis.data)
        written.append(
            write_atomic(
                folder / f"{stem}.csv",
                # 10 significant digits: a mean of 2.2 read 2.1999999999999993 in Excel
                lambda p, t=people: t.to_csv(
                    p, index=False, encoding="utf-8-sig", float_format="%.10g"
                ),
            )
        )
    data = analysis.data
    infos = [outcome_info(data.keys[c], analysis.better) for c in data.outcomes]
    for lever in data.levers:
        path = folder / f"outcomes_by_{lever}.png"
        written.append(
            plot_outcomes_by_lever(
                data.cells, lever, factor_label(data.keys[lever]), data.outcomes, infos, path
            )
        )
    if analysis.sobol is not None:
        written.append(plot_sobol(analysis.sobol.table, folder / "sobol.png"))
    written.append(
        plot_robustness(analysis.robust.spread, analysis.robust.targets, folder / "robustness.png")
    )
    written.append(folder / "summary.json")
    write_json(folder / "summary.json", summary(analysis, written))
    return written
