"""``liangye analyse`` on screen (rich, in Chinese): runs, Sobol indices, robustness, PRIM."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from liangye.results.sweep_analysis import SweepAnalysis
from liangye.results.sweep_outcomes import BETTER_ZH, outcome_info

MAX_OUTCOMES_SHOWN = 3  # the robustness table on screen; every outcome is in the files
MAX_SOBOL_SETTINGS = 3


def _number(value: object) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    number = float(value)  # type: ignore[arg-type]
    return f"{number:,.3g}" if abs(number) < 1000 else f"{number:,.0f}"


def show_analysis(
    console: Console, errors: Console, analysis: SweepAnalysis, files: Sequence[Path]
) -> None:
    """The analysis as a person reads it: what was stored, Sobol indices (or INVALID, loudly),
    the robustness table, the failure ranges of the chosen setting, and where the files are."""
    data = analysis.data
    counts = data.counts()
    runs = data.cells["run_id"].nunique()
    console.print(
        f"[bold]{data.manifest.get('sweep_id', data.folder.name)}[/]：设计 {runs} 次运行，"
        f"完成 {counts['ok']}，失败 {counts['failed']}，尚未运行 {counts['missing']}",
        highlight=False,
    )
    if counts["failed"] or counts["missing"]:
        errors.print(
            f"[yellow]注意：{counts['failed']} 次运行失败、{counts['missing']} 次尚未运行，"
            "以下统计只基于已完成的运行，各表列出了缺少的运行数[/]",
            highlight=False,
        )
    for note in analysis.robust.notes:
        console.print(f"说明：{note}", highlight=False)
    _show_sobol(console, errors, analysis)
    _show_robustness(console, analysis)
    _show_discovery(console, analysis)
    folder = files[0].parent if files else data.folder
    console.print(f"已写入 {len(files)} 个文件：{folder}", highlight=False)


def _show_sobol(console: Console, errors: Console, analysis: SweepAnalysis) -> None:
    sobol = analysis.sobol
    if sobol is None:
        return
    if not sobol.valid:
        steps = []
        if sobol.missing:
            steps.append("用 liangye sweep --resume 补完缺失的运行")
        if sobol.failed:
            steps.append("用 liangye sweep --resume --retry-failed 重跑失败的运行")
        advice = (
            "；".join(steps) + "，然后重新分析。"
            if steps
            else "表 sobol.csv 的“说明”一栏写明每一行的原因。"
        )
        errors.print(
            Panel(
                f"[bold]{sobol.message}[/]\n{advice}",
                title="Sobol 指数无效（INVALID）",
                border_style="bold red",
            ),
            highlight=False,
        )
    if sobol.imprecise:
        errors.print(
            Panel(sobol.imprecise, title="Sobol 指数精度不足", border_style="yellow"),
            highlight=False,
        )
    if not sobol.table["valid"].any():
        return
    table = sobol.table[sobol.table["valid"]]
    settings = list(dict.fromkeys(table["setting"]))
    shown = settings[:MAX_SOBOL_SETTINGS]
    grid = Table(title="Sobol 指数（± 为 95% 置信区间半宽）", title_justify="left")
    for header in ("方案", "结果", "因素", "一阶 S1", "总效应 ST"):
        grid.add_column(header)
    for row in table[table["setting"].isin(shown)].itertuples(index=False):
        grid.add_row(
            str(row.setting),
            str(row.outcome_label),
            str(row.factor_label),
            f"{row.S1:.3f} ± {row.S1_conf:.3f}",
            f"{row.ST:.3f} ± {row.ST_conf:.3f}",
        )
    console.print(grid)
    if len(settings) > len(shown):
        console.print(f"另有 {len(settings) - len(shown)} 个方案的指数见 sobol.csv")


def _show_robustness(console: Console, analysis: SweepAnalysis) -> None:
    """One table per outcome (the first few with a direction): each setting's mean, 10th–90th
    percentiles, mean regret and share of worlds where it is best; then the targets."""
    spread, targets = analysis.robust.spread, analysis.robust.targets
    data = analysis.data
    best = data.label(analysis.robust.best_setting)
    several = len(data.settings) > 1 and not data.joint
    crowned = several and analysis.robust.crowned
    outcomes = list(dict.fromkeys(spread["outcome"]))
    judged = [key for key in outcomes if outcome_info(key, analysis.better).better]
    shown = (judged or outcomes)[:MAX_OUTCOMES_SHOWN]
    regret = "regret_mean" in spread

    def name(setting: str) -> str:
        return f"★ {setting}" if crowned and setting == best else str(setting)

    for key in shown:
        info = outcome_info(key, analysis.better)
        title = f"{info.axis_label}：{BETTER_ZH[info.better]}"
        grid = Table(title=title, title_justify="left")
        headers = ["方案", "均值", "10–90%"]
        with_regret = regret and info.better is not None
        if with_regret:
            headers += ["平均后悔", "最大后悔", "最优占比"]
        headers.append("无定义/失败/缺失")
        for header in headers:
            grid.add_column(header)
        for row in spread[spread["outcome"] == key].itertuples(index=False):
            # An event (1 where it happened): its mean is the share of worlds, shown as one.
            event = bool(getattr(row, "event", False))
            mean = _share(row.mean) if event else _number(row.mean)
            cells = [name(row.setting), mean, f"{_number(row.p10)}–{_number(row.p90)}"]
            if with_regret:
                cells += [_number(row.regret_mean), _number(row.regret_max), _share(row.best_share)]
            cells.append(f"{row.undefined}/{row.failed}/{row.missing}")
            grid.add_row(*cells)
        console.print(grid)
    if len(outcomes) > len(shown):
        console.print(f"另有 {len(outcomes) - len(shown)} 个结果见 robustness.csv")
    if len(targets):
        names = list(dict.fromkeys(targets["target"]))
        grid = Table(title="达标比例（达标世界 / 已完成的世界）", title_justify="left")
        grid.add_column("方案")
        for target in names:
            grid.add_column(str(target))
        for setting, frame in targets.groupby("setting", sort=False):
            rows = frame.set_index("target")
            cells = [name(str(setting))]
            for target in names:
                hit = rows.loc[target]
                judged_worlds = int(hit["judged"])
                cells.append(
                    f"{_share(hit['share'])}（{int(hit['met'])}/{judged_worlds}）"
                    if judged_worlds
                    else "—"
                )
            grid.add_row(*cells)
        console.print(grid)
    if crowned:
        console.print(f"★ 最稳健的方案：{best}（{analysis.robust.best_by}）", highlight=False)
    elif several:
        console.print(f"最稳健的方案：未评出（{analysis.robust.best_by}）", highlight=False)


def _share(value: object) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return f"{float(value):.0%}"  # type: ignore[arg-type]


def _show_discovery(console: Console, analysis: SweepAnalysis) -> None:
    found = analysis.discovery
    heading = f"情景发现（PRIM）：方案 {found.setting}（{analysis.setting_chosen_by}）"
    console.print(f"[bold]{heading}[/]", highlight=False)
    if found.excluded:
        console.print(f"  {found.excluded} 个世界的运行失败或缺失，未计入", highlight=False)
    if found.message:
        # The message is text, not markup: "[analysis] targets" was read as a style tag.
        console.print(Text(f"  {found.message}", style="yellow"), highlight=False)
    if found.box is None:
        return
    console.print(
        f"  未达标世界 {found.failures} / {found.worlds}；范围内 {found.in_box} 个世界，"
        f"其中 {found.failures_in_box} 个未达标：覆盖率 {found.coverage:.0%}，"
        f"密度 {found.density:.0%}",
        highlight=False,
    )
    grid = Table(title="未达标的不确定性范围", title_justify="left")
    for header in ("因素", "范围", "样本范围"):
        grid.add_column(header)
    restricted: pd.DataFrame = found.box[found.box["restricted"]]
    for row in restricted.itertuples(index=False):
        if row.upper == "":
            grid.add_row(str(row.factor_label), str(row.lower), str(row.sample_low))
        else:
            grid.add_row(
                str(row.factor_label),
                f"{_number(row.lower)} – {_number(row.upper)}",
                f"{_number(row.sample_low)} – {_number(row.sample_high)}",
            )
    console.print(grid)
