"""What the ``liangye`` commands share: consoles, exit codes, logging, JSON, the run folder."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.logging import RichHandler

console = Console()
errors = Console(stderr=True)

EXIT_INPUT = 2  # bad input files or options
# What it would have taken is estimated for every candidate from the relaxation and settled
# by re-solving as far as a fixed budget of work allows (all of a small instance; none past
# a few hundred options, where a solve of the default scenario takes about 3 s): --confirm N
# asks for the N closest each side as well, whatever they cost.
MAX_CONFIRM = 50
CONFIRM_HELP = (
    "对最接近入选与最接近落选的各 N 个候选重新求解，确认其“差多少”; "
    "also settle what it would have taken by re-solving for the N left out closest to "
    "selection and the N selected closest to losing their place, whatever it costs "
    "(default 0: only what the automatic budget of work covers, all of a small instance)"
)
VERBOSE_HELP = "显示求解与模拟的过程记录; log what the solver and the simulation do"
EXIT_INFEASIBLE = 3  # the rules cannot all be met: the diagnosis says why
EXIT_NO_PLAN = 4  # no plan found within the time or work limit: nothing was decided


def _exit_for(status: str, as_json: bool, clock: bool = False) -> None:
    """End a command that allocated with the code its status calls for (0 with a plan);
    without a plan that is not a proof of infeasibility, say why in Chinese first: the clock
    the user set (``clock``: a time limit was given) ran out, the fixed budget of work did,
    or the solver failed."""
    from liangye.model.status import PLAN_STATUSES

    if status == "infeasible":
        raise typer.Exit(EXIT_INFEASIBLE)
    if status not in PLAN_STATUSES:
        if not as_json:
            errors.print(f"[red]{no_plan_zh(status, clock)}[/]", highlight=False)
        raise typer.Exit(EXIT_NO_PLAN)


def no_plan_zh(status: str, clock: bool) -> str:
    """Why an allocation ended without a plan, and what to try, in Chinese."""
    nothing = "本次未作决定（按规定应付的奖励也未列入）。"
    if status == "error":
        return (
            "未找到方案：求解器（HiGHS）报告失败，" + nothing + "请检查输入中是否有极端的"
            "数值（金额、评分、概率），或设 LIANGYE_DEBUG=1 后重试以查看详情。"
        )
    if clock:
        return (
            "未找到方案：在设定的求解时间内没有得到任何方案，"
            + nothing
            + "请放宽 --time-limit（或去掉它）后重试。"
        )
    return (
        "未找到方案：在固定的工作量上限内没有得到任何方案（结果不随机器快慢而变），"
        + nothing
        + "可放宽超支风险上限（--overrun-risk）或最低名额后重试。"
    )


class _Said(logging.Formatter):
    """A log record as a person reads it beside the command's output: 注意：/错误： before a
    warning or an error, no clock, no logger name (--verbose's INFO lines as they are)."""

    def format(self, record: logging.LogRecord) -> str:
        return _LEVEL_WORDS.get(record.levelno, "") + super().format(record)


_LEVEL_WORDS = {logging.WARNING: "注意：", logging.ERROR: "错误：", logging.CRITICAL: "错误："}


def _setup_logging(verbose: bool) -> None:
    handler = RichHandler(
        console=errors,
        show_path=False,
        show_time=False,
        show_level=False,
        markup=False,
        highlighter=None,
    )
    handler.setFormatter(_Said("%(message)s"))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, handlers=[handler])


def print_json(data: object) -> None:
    """``data`` as one line of strict JSON on stdout: a number that is not finite is null
    (never Infinity or NaN, which strict parsers refuse)."""
    from liangye.results.store import finite_json

    text = json.dumps(finite_json(data), ensure_ascii=False, default=str, allow_nan=False)
    sys.stdout.write(text + "\n")


def _start_run(folder: Path, command: str) -> None:
    """Ready the run folder (see results.store: refused if it holds files that are not an
    earlier run's, cleared if it holds only an earlier run's) and mark it incomplete; say on
    stderr what was cleared."""
    from liangye.results.store import start_run

    cleared = start_run(folder, command)
    if cleared:
        errors.print(
            f"已清除 {folder} 中上一次运行的文件（cleared an earlier run）：{', '.join(cleared)}",
            highlight=False,
            markup=False,
        )


def _finish_run(folder: Path) -> None:
    """Mark the run in ``folder`` complete, once every output is written."""
    from liangye.results.store import finish_run

    finish_run(folder)


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: object) -> None:
        return None


def confirm_progress(status: object, label: str) -> Callable[[int, int, str], None] | None:
    """What ``allocate``'s ``on_confirm`` calls to show, on the spinner ``status`` (None: no
    terminal to show it on), which figure of ``--confirm N`` is being settled: each is a
    few whole allocations again, and may take minutes."""
    if status is None:
        return None

    def report(done: int, total: int, figure: str) -> None:
        said = f"：{figure}" if figure else ""
        status.update(f"{label} · 确认阈值 confirming {done}/{total}{said}…")  # type: ignore[attr-defined]

    return report
