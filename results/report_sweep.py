"""The report of a sweep folder: its design, the runs stored, the tier designs side by side,
and whatever figures and tables the sweep's analysis wrote beside them."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd

from . import plots
from .report import ReportNames
from .report_designs import metric_rows
from .report_html import (
    Figure,
    Report,
    Section,
    Table,
    frame_table,
    number,
    pairs_table,
    render,
    share,
    unique_anchors,
    write_html,
)
from .report_labels import LEVERS, is_share, outcome_label
from .sweep_data import stored_runs
from .sweep_store import DESIGN, PARTS, finished_parts, read_manifest

log = logging.getLogger(__name__)

REPORT_FILE = "report.html"
# Tables the analysis wrote are shown up to this many rows each (the CSV holds them all).
TABLE_ROWS = 60
# Known figures of the analysis, captioned in Chinese (others keep their file name).
FIGURE_CAPTIONS = {
    "sobol": "Sobol 敏感性指数：各不确定因素对结果方差的贡献",
    "robustness": "稳健性：各方案在不确定因素下的结果分布",
}


def is_sweep_folder(folder: Path) -> bool:
    """Whether ``folder`` is a sweep store (its manifest says so, or it has parts and a design)."""
    manifest = read_manifest(folder) if (folder / "manifest.json").exists() else {}
    return manifest.get("kind") == "sweep" or (
        (folder / PARTS).is_dir() and (folder / DESIGN).exists()
    )


def sweep_runs(folder: Path) -> pd.DataFrame:
    """Every finished run of the sweep, one row each (a retried run by its ok row, as
    ``liangye query`` and the analysis read it), in design order; or an empty table."""
    runs = stored_runs(finished_parts(folder))
    if runs.empty:
        return runs
    return runs.sort_values("position", kind="stable").reset_index(drop=True)


def sweep_report(folder: Path, names: ReportNames | None = None) -> Report:
    """The report of the sweep in ``folder``."""
    names = names or ReportNames()
    manifest = read_manifest(folder)
    sweep = manifest.get("sweep") or {}
    runs = sweep_runs(folder)
    columns = manifest.get("columns") or []
    levers = [c["column"] for c in columns if c.get("kind") == "lever"]
    outcomes = [c["column"] for c in columns if c.get("kind") == "outcome"]
    ok = runs[runs["status"] == "ok"] if "status" in runs else runs
    designed = (manifest.get("design") or {}).get("runs")
    report = Report(
        title=f"{sweep.get('title') or sweep.get('id') or folder.name}：批量情景分析报告",
        subtitle=f"批量情景 {sweep.get('id', '?')}，文件夹 {folder.name}",
        facts=[
            ("设计运行数", number(designed, 0) or "?"),
            ("已完成", f"{len(runs)}（成功 {len(ok)}，失败 {len(runs) - len(ok)}）"),
            ("每组重复次数", str(manifest.get("replications", "?"))),
            ("是否全部完成", "是" if manifest.get("complete") else "否"),
        ],
    )
    report.sections.append(_design_section(manifest, names))
    if len(ok) and levers:
        report.sections.append(_summary_section(ok, levers, outcomes, names))
    if len(ok) and "tier_design" in levers:
        section = _designs_section(ok, levers, names)
        if section is not None:
            report.sections.append(section)
    stale = _stale_analysis(folder, len(ok), len(runs) - len(ok))
    if stale is not None:
        report.sections.append(Section("分析结果已过期", paragraphs=[stale]))
    report.sections += _analysis_sections(folder)
    if len(runs) > len(ok):
        failed = runs[runs["status"] != "ok"]
        report.sections.append(
            Section(
                "失败的运行",
                tables=[
                    frame_table(
                        failed,
                        {
                            "run_id": "运行编号",
                            **{lv: _lever(lv) for lv in levers},
                            "error": "错误",
                        },
                        caption="失败的运行及其错误",
                    )
                ],
            )
        )
    report.sections.append(Section("运行信息", tables=[sweep_summary_rows(manifest)]))
    unique_anchors(report.sections)
    return report


def write_sweep_report(
    folder: Path, names: ReportNames | None = None, out: Path | None = None
) -> Path:
    """Write the sweep report to ``out`` (default ``folder/report.html``)."""
    return write_html(out or folder / REPORT_FILE, render(sweep_report(folder, names)))


def _lever(column: str) -> str:
    return LEVERS.get(column, column)


def _factor_zh(key: str, factor: object, names: ReportNames) -> str:
    """A lever's or uncertainty's values as the sweep file gave them, in words: the listed
    values, a range (uniform or log-uniform, its grid points, whole numbers) or a normal law."""
    values = factor.get("values") if isinstance(factor, dict) else factor
    if isinstance(values, list):
        return "、".join(names.design(v) if key == "tier_design" else str(v) for v in values)
    if not isinstance(factor, dict):
        return str(factor)
    if factor.get("dist") == "normal":
        said = f"正态分布，均值 {factor.get('mean')}，标准差 {factor.get('sd')}"
        if factor.get("low") is not None or factor.get("high") is not None:
            said += f"，截断于 {factor.get('low', '−∞')}–{factor.get('high', '∞')}"
        return said
    law = "对数均匀" if factor.get("dist") == "loguniform" else "均匀"
    said = f"{factor.get('low')}–{factor.get('high')}（{law}"
    if factor.get("points"):
        said += f"，网格 {factor['points']} 个点"
    if factor.get("integer"):
        said += "，取整"
    return said + "）"


def _design_section(manifest: dict[str, Any], names: ReportNames) -> Section:
    sweep = manifest.get("sweep") or {}
    model = sweep.get("model") or "scenario"
    if model == "scenario":
        lines = [f"基础情景：{sweep.get('scenario', '?')}。"]
        if sweep.get("set"):
            # Every run's scenario carries these changes: what the sweep ran, not the file.
            lines.append(f"基础情景的修改（每次运行均适用）：{'、'.join(sweep['set'])}。")
    else:
        lines = [f"模型：{model}（不读取情景）。"]
    for key, lever in (sweep.get("levers") or {}).items():
        lines.append(f"政策杠杆 {_lever(key)}：{_factor_zh(key, lever, names)}。")
    for key, uncertainty in (sweep.get("uncertainties") or {}).items():
        lines.append(f"不确定因素 {outcome_label(key)}：{_factor_zh(key, uncertainty, names)}。")
    sampler = manifest.get("sampler") or {}
    lines.append(
        f"抽样方式：{sampler.get('kind', '?')}；每组 {manifest.get('replications', '?')} 次重复，"
        f"根种子 {manifest.get('root_seed', '?')}，各组使用相同的重复种子。"
    )
    return Section("批量情景设计", paragraphs=lines)


def _summary_section(
    ok: pd.DataFrame, levers: list[str], outcomes: list[str], names: ReportNames
) -> Section:
    """Each lever setting's outcomes: mean over its runs, with the range."""
    shown = [c for c in outcomes if c in ok.columns]
    grouped = ok.groupby(levers, sort=False, dropna=False)
    rows = []
    for key, frame in grouped:
        key = key if isinstance(key, tuple) else (key,)
        cells = [
            names.design(v) if lv == "tier_design" else str(v)
            for lv, v in zip(levers, key, strict=True)
        ]
        cells.append(str(len(frame)))
        for column in shown:
            every = pd.to_numeric(frame[column], errors="coerce")
            values = every.dropna()
            form = (lambda v: share(v, 1)) if is_share(column) else (lambda v: number(v, 1))
            cell = (
                f"{form(values.mean())}（{form(values.min())}–{form(values.max())}）"
                if len(values)
                else "无"
            )
            undefined = int(every.isna().sum())
            if undefined and len(values):
                # A cost per additional firm is undefined where none was added: the mean is
                # over the others, which says nothing of the runs that bought nothing.
                cell += f"，{undefined} 次无定义未计入"
            cells.append(cell)
        rows.append(cells)
    headers = [*(_lever(lv) for lv in levers), "运行数", *(outcome_label(c) for c in shown)]
    table = Table(
        headers,
        rows,
        "各杠杆组合的结果：均值（最小–最大）",
        [False] * len(levers) + [True] * (1 + len(shown)),
    )
    return Section("运行汇总", tables=[table])


def _designs_section(ok: pd.DataFrame, levers: list[str], names: ReportNames) -> Section | None:
    """The tier designs side by side at each setting of the other levers."""
    threshold = _first_threshold(ok.columns)
    if threshold is None or "spend_paid" not in ok.columns:
        return None
    rows = []
    others = [lv for lv in levers if lv != "tier_design"]
    for key, frame in ok.groupby(levers, sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        setting = dict(zip(levers, key, strict=True))
        label = names.design(setting["tier_design"])
        if others:
            label += "，" + "，".join(f"{_lever(lv)} {setting[lv]}" for lv in others)
        rows += metric_rows(label, _per_run(frame, threshold))
    table = pd.DataFrame(rows)
    # An outcome the sweep did not keep has no replication behind it: no panel for it.
    kept = table.groupby("metric")["replications"].transform("max") > 0
    table = table[kept | (table["metric"] == "cost_per_additional")]
    figure = plots.designs_figure(table, f"奖励档次比较（新增服务化企业按 {threshold}% 门槛）")
    return Section(
        "奖励档次比较",
        paragraphs=[
            "各方案在相同的重复种子下运行；误差线为重复间的范围（超支风险为95%置信区间）。"
        ],
        figures=[Figure("奖励档次比较", plots.figure_png(figure), "奖励档次比较图")],
    )


def _first_threshold(columns: pd.Index) -> int | None:
    found = sorted(
        int(c.split("_")[1])
        for c in columns
        if c.startswith("additionality_") and c.endswith("_net_additional")
    )
    return found[0] if found else None


def _per_run(frame: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The sweep store's runs as the per-replication metrics ``metric_rows`` reads."""

    def column(name: str) -> pd.Series:
        if name in frame.columns:
            return pd.to_numeric(frame[name], errors="coerce")
        return pd.Series(math.nan, index=frame.index)

    return pd.DataFrame(
        {
            "replication": frame["replication"] if "replication" in frame else range(len(frame)),
            "spend": column("spend_paid"),
            "additional": column(f"additionality_{threshold}_net_additional"),
            "cost_per_additional": column(f"additionality_{threshold}_cost_per_additional"),
            "deadweight_share": column(f"additionality_{threshold}_deadweight_paid_share"),
            "overrun_risk": column("overrun_occurred_any_year"),
        }
    )


def _stale_analysis(folder: Path, ok: int, failed: int) -> str | None:
    """What to say when the analysis in the folder was made on other runs than the store
    now holds (a sweep resumed or retried after ``liangye analyse``); None when it is
    current or there is none. Its tables would otherwise read as the finished sweep's."""
    path = folder / "analysis" / "summary.json"
    if not path.exists():
        return None
    try:
        runs = (json.loads(path.read_text(encoding="utf-8")).get("runs")) or {}
    except (ValueError, OSError):
        return None
    then_ok, then_failed = runs.get("ok"), runs.get("failed")
    if then_ok == ok and then_failed == failed:
        return None
    return (
        f"下列分析基于 {then_ok} 次成功、{then_failed} 次失败的运行，而批量情景现已存有 {ok} 次"
        f"成功、{failed} 次失败的运行：请重新运行 liangye analyse {folder.name} 后再生成报告。"
    )


def _analysis_sections(folder: Path) -> list[Section]:
    """Every PNG and CSV the sweep's analysis (or anything else) wrote into the folder,
    the run store's own parts left out."""
    figures, tables = [], []
    for path in sorted(folder.rglob("*")):
        if PARTS in path.relative_to(folder).parts or path.name.startswith("."):
            continue
        if path.suffix.lower() == ".png":
            figures.append(Figure(_caption(path, folder), path.read_bytes(), path.stem))
        elif path.suffix.lower() == ".csv":
            try:
                frame = pd.read_csv(path, encoding="utf-8")
            except (ValueError, OSError, UnicodeDecodeError) as error:
                log.warning("%s: not read into the report (%s)", path, error)
                continue
            headers = {c: _header(c) for c in frame.columns}
            formats = {
                c: (lambda v, c=c: share(v, 1) if is_share(c) else number(v, 3))
                for c in frame.columns
                if pd.api.types.is_float_dtype(frame[c])
            }
            tables.append(
                frame_table(
                    frame, headers, formats, caption=_caption(path, folder), most=TABLE_ROWS
                )
            )
    sections = []
    if figures:
        sections.append(Section("分析图表", figures=figures))
    if tables:
        sections.append(Section("分析表格", tables=tables))
    return sections


def _caption(path: Path, folder: Path) -> str:
    stem = path.stem
    if stem in FIGURE_CAPTIONS:
        words = FIGURE_CAPTIONS[stem]
    elif stem.startswith("outcomes_by_"):
        words = f"各结果随{_lever(stem.removeprefix('outcomes_by_'))}的变化"
    else:
        words = stem
    return f"{words}（{path.relative_to(folder)}）"


def _header(column: str) -> str:
    return LEVERS.get(column) or outcome_label(column)


def sweep_summary_rows(manifest: dict[str, Any]) -> Table:
    """The sweep's manifest as (item, value) rows."""
    return pairs_table(
        [
            ("批量情景", str((manifest.get("sweep") or {}).get("id", ""))),
            # None for a named model: it reads no scenario
            ("情景指纹", str(manifest.get("scenario_hash") or "（不读取情景）")),
            ("更新时间（UTC）", str(manifest.get("updated", ""))),
        ]
    )
