"""The ``liangye report`` and ``liangye compare`` commands (heavy imports inside the commands)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from liangye.model.errors import InputError, Problem

from .cli_shared import console, errors

if TYPE_CHECKING:
    from liangye.results.report import ReportNames

log = logging.getLogger(__name__)


def report_names(scenario: dict[str, Any] | None, base: Path | None = None) -> ReportNames:
    """Chinese names for a run's report: programme names and title of the scenario's policy
    (a bundled id, or a path read against ``base`` or the working folder), and every tier
    design's title. A policy that cannot be read is said as a warning, and the report shows
    programme ids instead of names."""
    from liangye.results.report import ReportNames

    from .loader import load_policy_reference
    from .tiers import load_tier_library

    names = ReportNames()
    try:
        names.designs = {k: d.title for k, d in load_tier_library().designs.items()}
    except InputError as error:
        log.warning("奖励档次文件无法读取（%s）：报告中显示档次编号", error)
    reference = (scenario or {}).get("policy")
    if reference:
        try:
            policy = load_policy_reference(str(reference), base)
        except (InputError, OSError) as error:
            log.warning("政策 %s 无法读取（%s）：报告中显示项目编号", reference, error)
        else:
            names.programmes = {p.id: p.name for p in policy.programmes}
            names.policy_title = policy.title
    return names


def write_report(folder: Path, out: Path | None = None, base: Path | None = None) -> Path:
    """Write the report of a run or sweep folder (``out``, default ``folder/report.html``);
    InputError when the folder is neither."""
    from liangye.results.report import is_run_folder, read_run, write_run_report
    from liangye.results.report_sweep import is_sweep_folder, write_sweep_report
    from liangye.results.sweep_store import read_manifest

    if not folder.is_dir():
        raise InputError(
            [
                Problem(
                    str(folder),
                    "",
                    "is not a folder: give a run's or a sweep's folder",
                    "不是文件夹：请给出运行或批量情景的文件夹",
                )
            ]
        )
    if out is not None and out.is_dir():
        out = out / "report.html"  # a folder given for the file: the report goes inside
    elif out is not None and out.suffix.lower() not in (".html", ".htm"):
        raise InputError(
            [
                Problem(
                    "--out",
                    str(out),
                    "expected an .html file (the report is a web page) or a folder",
                    "应为 .html 文件（报告是网页）或文件夹",
                )
            ]
        )
    if is_sweep_folder(folder):
        sweep = read_manifest(folder)
        scenario = {"policy": _sweep_policy(sweep)}
        return write_sweep_report(folder, report_names(scenario, base), out)
    if is_run_folder(folder):
        return write_run_report(folder, report_names(read_run(folder).scenario, base), out)
    raise InputError(
        [
            Problem(
                str(folder),
                "manifest.json",
                "is neither a liangye run's folder nor a sweep's (no manifest.json liangye wrote)",
                "既不是 liangye 的运行文件夹，也不是批量情景文件夹（没有可识别的 manifest.json）",
            )
        ]
    )


def _sweep_policy(manifest: dict[str, Any]) -> str | None:
    """The policy of a sweep's base scenario, read from the scenario file it names."""
    from .loader import load_scenario

    scenario = manifest.get("scenario")
    if not scenario:
        return None
    try:
        loaded, _ = load_scenario(Path(scenario), [])
    except (InputError, OSError) as error:
        log.warning("批量情景的基础情景 %s 无法读取（%s）", scenario, error)
        return None
    return loaded.policy


def report(
    folder: Annotated[
        Path, typer.Argument(help="运行文件夹或批量情景文件夹; a run folder or a sweep folder")
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="HTML 文件（默认 FOLDER/report.html）; the HTML file (default: FOLDER/report.html)",
        ),
    ] = None,
) -> None:
    """生成可转发的中文 HTML 报告（运行或批量情景）。
    Write one self-contained HTML report (Chinese, figures embedded, printable) of a run
    or a sweep, and print its path."""
    from liangye.results.report import INCOMPLETE_ZH, is_run_folder
    from liangye.results.store import run_finished

    path = write_report(folder, out)
    console.print(f"报告：{path}", highlight=False)
    if is_run_folder(folder) and not run_finished(folder):
        errors.print(
            f"[yellow]注意：运行{INCOMPLETE_ZH}[/] (the run did not finish: the report holds "
            "only what it wrote)",
            highlight=False,
        )


def compare(
    folders: Annotated[
        list[Path],
        typer.Argument(help="要比较的各设计的运行文件夹; run folders of the designs to compare"),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="输出 compare.csv 与 compare.html 的文件夹（默认 results/compare/<编号>）; "
            "folder for compare.csv and compare.html (default: results/compare/<id>)",
        ),
    ] = None,
) -> None:
    """比较同一候选与随机种子下的各档次设计。
    Compare designs run on the same candidates and seeds: one table (printed, and written
    as CSV) and one HTML report, with each difference against the first folder and whether
    it exceeds the spread over replications."""
    from rich.table import Table

    from liangye.results.report_compare import (
        COLUMNS,
        differences_zh,
        display_rows,
        load_runs,
        write_comparison,
    )
    from liangye.results.store import new_run_dir

    seen: dict[Path, Path] = {}
    for folder in folders:
        if folder.resolve() in seen:
            raise InputError(
                [
                    Problem(
                        str(folder),
                        "",
                        f"is given twice (also as {seen[folder.resolve()]}): name each run "
                        "folder once",
                        f"重复给出（也写作 {seen[folder.resolve()]}）：每个运行文件夹只写一次",
                    )
                ]
            )
        seen[folder.resolve()] = folder
    runs = load_runs(folders, report_names(_first_scenario(folders)))
    target = out or new_run_dir(None, "compare", f"{len(runs)}designs", kind="compare")
    table, csv, html = write_comparison(runs, target)
    # One small table per metric (its designs as rows, five columns): the full table has
    # eleven, and at 80 columns rich cut every figure ("8,66…"). The CSV and the report
    # keep them all.
    console.print(
        "方案比较（与第一个文件夹相比；括号内为重复间的范围与逐次重复之差的范围；"
        "完整表格见 CSV 与报告）",
        highlight=False,
    )
    cells = dict(zip(COLUMNS.values(), range(len(COLUMNS)), strict=True))
    by_metric: dict[str, list[list[str]]] = {}
    for row in display_rows(table):
        by_metric.setdefault(row[cells["指标"]], []).append(row)
    for metric, rows in by_metric.items():
        view = Table(title=metric, title_justify="left")
        view.add_column("方案", justify="left", min_width=12, overflow="fold")
        for header in ("均值（范围）", "与基准之差", "超出波动"):
            view.add_column(header, justify="right", no_wrap=True)
        for row in rows:
            low, high = row[cells["下限"]], row[cells["上限"]]
            paired = (row[cells["逐次重复之差：最小"]], row[cells["逐次重复之差：最大"]])
            difference = row[cells["与基准之差"]]
            if difference and any(paired):
                difference = f"{difference}\n（{paired[0]}～{paired[1]}）"
            mean = row[cells["均值"]]
            view.add_row(
                row[cells["方案"]],
                f"{mean}\n（{low}～{high}）" if low or high else mean,
                difference,
                row[cells["差异是否超出重复间波动"]],
            )
        console.print(view)
    for line in differences_zh(runs):
        console.print(line, highlight=False)
    console.print(f"表格：{csv}\n报告：{html}", highlight=False)


def _first_scenario(folders: list[Path]) -> dict[str, Any] | None:
    from liangye.results.report import read_run

    for folder in folders:
        if (folder / "manifest.json").exists():
            return read_run(folder).scenario
    return None


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``compare`` to the ``liangye`` command line."""
    app.command(name="report")(report)
    app.command(name="compare")(compare)
