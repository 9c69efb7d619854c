"""The ``liangye sweep`` and ``liangye query`` commands (heavy imports inside the commands)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from .cli_shared import console, errors

# What `dask scheduler` prints (tcp://HOST:PORT, or tls:// and the like), or HOST:PORT.
SCHEDULER_ADDRESS = re.compile(r"(?:[a-z]+://)?[^\s:/]+:\d{1,5}")


def sweep(
    file: Annotated[
        str,
        typer.Argument(
            help="批量情景文件，或内置批量情景的名称; a sweep file, or a bundled sweep's name"
        ),
    ],
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="工作进程数：大于 1 时启动本机 Dask 集群; worker processes: more than 1 starts a Dask LocalCluster",
        ),
    ] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Dask 调度器地址，如 tcp://10.0.0.5:8786; a Dask scheduler address, e.g. tcp://10.0.0.5:8786"
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="续跑已开始的批量情景，跳过已存盘的运行; complete a started sweep, skipping stored runs"
        ),
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            min=1, help="只运行设计中的前 N 次（试跑用）; run only the first N runs of the design"
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="批量情景文件夹（默认 results/sweeps/<编号>）; the sweep folder (default results/sweeps/<sweep-id>)"
        ),
    ] = None,
    pool: Annotated[
        bool,
        typer.Option(
            help="与 --workers N 同用：改用本机进程池而非 Dask; with --workers N: a local process pool instead of Dask"
        ),
    ] = False,
    retry_failed: Annotated[
        bool,
        typer.Option(
            help="与 --resume 同用：重跑已记录为失败的运行; with --resume: run again the runs stored as failed"
        ),
    ] = False,
    verbose: Annotated[
        bool, typer.Option(help="显示每次运行的警告; show each run's warnings")
    ] = False,
) -> None:
    """批量情景：政策变量 × 不确定因素 × 重复，每批完成即存盘。
    Run a sweep: levers × uncertainties × replications, each finished batch stored at once.

    An interrupted sweep loses no finished run: --resume completes it, skipping stored runs.
    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from liangye.model.errors import InputError, Problem
    from liangye.results.sweep_store import StoreError

    from .sweep_executors import make_executor
    from .sweep_progress import rate_column, remaining_column, say_interrupted
    from .sweep_run import open_sweep_store, prepare, run_sweep

    if retry_failed and not resume:
        raise InputError(
            [
                Problem(
                    "--retry-failed",
                    "",
                    "runs failed runs of a started sweep again: add --resume",
                    "--retry-failed 重新运行已开始的批量情景中失败的运行：请加上 --resume",
                )
            ]
        )
    if pool and (workers < 2 or scheduler is not None):
        # A pool of one worker is the in-process executor: --pool alone ran in-process
        # without a word.
        raise InputError(
            [
                Problem(
                    "--pool",
                    "",
                    "a local process pool needs --workers N (N of 2 or more) and no --scheduler",
                    "本机进程池需要 --workers N（N 至少为 2），且不能与 --scheduler 同用",
                )
            ]
        )
    if scheduler is not None and not SCHEDULER_ADDRESS.fullmatch(scheduler.strip()):
        raise InputError(
            [
                Problem(
                    "--scheduler",
                    scheduler,
                    "expected a Dask scheduler address, e.g. tcp://10.0.0.5:8786 "
                    "(what `dask scheduler` prints)",
                    "应为 Dask 调度器的地址，如 tcp://10.0.0.5:8786（即 `dask scheduler` 显示的地址）",
                )
            ]
        )
    prepared = prepare(Path(file), quiet=not verbose)
    for warning in prepared.warnings:  # said once here, not by every run it concerns
        console.print(f"[yellow]注意[/yellow] {warning}", highlight=False)
    executor = None
    first_error: list[object] = []  # the first failed run's error, to show
    try:
        # Before the cluster and the bar: a store that cannot be opened is said alone.
        store = open_sweep_store(prepared, out, resume, retry_failed)
        with store.locked():  # a folder another sweep is writing is refused before the bar
            pass
        try:
            executor = make_executor(workers, scheduler, pool)
        except (OSError, TimeoutError) as error:
            # No cluster to run on: say so as the address's problem (it read as a file
            # error), and leave no empty store behind that the same command would then
            # refuse as "already started" (one that holds runs is kept).
            _remove_empty_store(store.folder)
            raise InputError(
                [
                    Problem(
                        "--scheduler" if scheduler else "--workers",
                        scheduler or str(workers),
                        f"could not start or reach the Dask cluster: {error}",
                        f"无法启动或连接 Dask 集群：{error}",
                    )
                ]
            ) from None
        columns = (
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[red]失败 {task.fields[failed]}"),
            rate_column(),
            TimeElapsedColumn(),
            TextColumn("剩余"),
            remaining_column(),
        )
        with Progress(*columns, console=errors) as bar:
            task = bar.add_task(prepared.sweep.id, total=None, failed=0)

            def started(todo: int, stored: int) -> None:
                bar.update(task, total=todo)
                if stored:
                    kind = "finished" if retry_failed else "stored"
                    kind_zh = "已完成" if retry_failed else "已存"
                    errors.print(
                        f"{stored} 次运行{kind_zh}，跳过 ({stored} runs already {kind}: skipped)",
                        highlight=False,
                    )

            def stored(rows: list[dict[str, object]]) -> None:
                failed = sum(1 for r in rows if r.get("status") == "failed")
                if not first_error:
                    first_error.extend(r["error"] for r in rows if r.get("status") == "failed")
                fields = bar.tasks[task].fields
                bar.update(task, advance=len(rows), failed=fields["failed"] + failed)

            try:
                report = run_sweep(
                    prepared,
                    executor,
                    out,
                    resume,
                    limit,
                    workers,
                    started,
                    stored,
                    retry_failed,
                    store=store,
                )
            except KeyboardInterrupt:
                bar.stop()
                say_interrupted(store, len(prepared.design.runs))
                raise
    except StoreError as error:
        raise InputError([Problem(prepared.path.name, "--out", str(error), error.zh)]) from None
    finally:
        if executor is not None:
            executor.close()
    console.print(
        f"完成 {report.ran} 次运行，用时 {report.seconds:.1f} 秒，失败 {report.failed} 次；"
        f"已存 {report.stored_now}/{report.design} 次于 {report.folder}\n"
        f"{report.ran} runs in {report.seconds:.1f}s on {report.executor} "
        f"({report.rate:.2f} runs/s), {report.failed} failed; "
        f"{report.stored_now} of {report.design} stored in {report.folder}",
        highlight=False,
    )
    if report.failed:
        errors.print(
            f"[yellow]{report.failed} 次运行失败 runs failed:[/] their errors are in the store "
            f"(liangye query {report.folder} \"select run_id, error from runs where status = 'failed'\")",
            highlight=False,
        )
        if first_error:
            errors.print(f"第一个错误 the first error: {first_error[0]}", highlight=False)
    if report.ran and report.failed == report.ran:
        # Stored and resumable, but nothing came of it: a script must not read this as done.
        said = (
            "这次重试的运行全部再次失败 every run retried failed again"
            if retry_failed
            else "每次运行都失败了 every run failed"
        )
        errors.print(f"[red]{said}[/]", highlight=False)
        raise typer.Exit(1)


def query(
    sweep_dir: Annotated[
        Path,
        typer.Argument(
            help="批量情景文件夹（results/sweeps/<编号>）; a sweep folder (results/sweeps/<sweep-id>)"
        ),
    ],
    sql: Annotated[
        str,
        typer.Argument(
            help="对视图 runs 的 SQL（每次运行一行）; SQL over the view `runs` (one row per run)"
        ),
    ],
    csv: Annotated[
        bool, typer.Option("--csv", help="打印 CSV 而非表格; print CSV instead of a table")
    ] = False,
) -> None:
    """用 SQL（DuckDB）查询批量情景已完成的运行。
    Answer SQL with DuckDB over a sweep's finished runs (the view `runs`)."""
    from rich.table import Table

    from .sweep_query import run_query

    frame = run_query(sweep_dir, sql)
    if csv:
        sys.stdout.write(frame.to_csv(index=False))
        return
    table = Table(title=f"{len(frame)} rows", title_justify="left")
    for column in frame.columns:
        table.add_column(str(column))
    for row in frame.itertuples(index=False):
        table.add_row(*(_cell(v) for v in row))
    console.print(table)


def analyse(
    sweep_dir: Annotated[
        Path,
        typer.Argument(
            help="批量情景文件夹（results/sweeps/<编号>）; a sweep folder (results/sweeps/<sweep-id>)"
        ),
    ],
    target: Annotated[
        list[str] | None,
        typer.Option(
            "--target",
            help="每个情景世界中结果应满足的条件，可重复，与批量情景文件的 \\[analysis] 目标合用; "
            'what an outcome should be in a world, e.g. "overrun.occurred.any_year<=0" '
            'or "additionality.20.net_additional>=10" (repeatable; added to the sweep '
            "file's \\[analysis] targets)",
        ),
    ] = None,
    setting: Annotated[
        str | None,
        typer.Option(
            help="由 PRIM 解释其失败区域的政策组合（默认：平均后悔值最小者）; "
            "the lever setting whose failures PRIM explains, e.g. "
            '"tier_design=wuhan,budget_scale=1" (default: the least mean regret)'
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="以 JSON 打印摘要; print the summary as JSON")
    ] = False,
) -> None:
    """批量情景的稳健性分析：Sobol 指数、后悔值、达标比例、失败区域（PRIM）。
    What is robust in a finished sweep: Sobol indices, each lever setting's spread, regret
    and share of worlds meeting the targets, and where a setting fails (PRIM).

    Tables (CSV, Parquet), figures (PNG) and summary.json go to SWEEP_DIR/analysis/.
    """
    from liangye.results.sweep_analysis import write_analysis

    from .sweep_analyse import analysis_inputs
    from .sweep_display import show_analysis

    analysis = analysis_inputs(sweep_dir, target or [], setting)
    files = write_analysis(analysis)
    if as_json:
        from liangye.results.store import finite_json
        from liangye.results.sweep_analysis import summary

        text = json.dumps(finite_json(summary(analysis, files)), ensure_ascii=False, default=str)
        sys.stdout.write(text + "\n")
        return
    show_analysis(console, errors, analysis, files)


def _cell(value: object) -> str:
    """A value as a table shows it: nothing for null (None, NaN)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)


def _remove_empty_store(folder: Path) -> None:
    """Remove a sweep folder that holds no stored run (one this command just made)."""
    import shutil

    if folder.is_dir() and not any((folder / "parts").glob("*.parquet")):
        shutil.rmtree(folder, ignore_errors=True)


def register(app: typer.Typer) -> None:
    """Add ``sweep``, ``query`` and ``analyse`` to the ``liangye`` command line."""
    app.command(name="sweep")(sweep)
    app.command(name="query")(query)
    app.command(name="analyse")(analyse)
