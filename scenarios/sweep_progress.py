"""What ``liangye sweep`` shows while it runs: the progress bar's rate and time left, and
what an interrupted sweep kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .cli_shared import errors

if TYPE_CHECKING:
    from rich.progress import ProgressColumn, Task


def average_rate(task: Task) -> float | None:
    """Runs a second since the bar started: the runs done over the time taken. Rich's own
    speed is taken over its last few updates, and batches land in bursts (16 runs at once):
    it read 125/min where 65 were done, and 418,477/min (review 14)."""
    elapsed = task.finished_time if task.finished else task.elapsed
    if not task.completed or not elapsed:
        return None
    return task.completed / elapsed


def rate_column() -> ProgressColumn:
    """A rich progress column: runs per minute, on average since the start."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            rate = average_rate(task)
            return Text("–/min" if not rate else f"{rate * 60:.1f}/min")

    return RateColumn()


def remaining_column() -> ProgressColumn:
    """A rich progress column: the time left at the average rate (``average_rate``)."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class RemainingColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            rate = average_rate(task)
            if task.total is None or not rate:
                return Text("-:--:--")
            left = max(0, round((task.total - task.completed) / rate))
            return Text(f"{left // 3600}:{left // 60 % 60:02d}:{left % 60:02d}")

    return RemainingColumn()


def say_interrupted(store, design_runs: int) -> None:
    """What an interrupted sweep kept, and how to finish it (in both languages)."""
    try:
        kept = len(store.stored_ids())
    except Exception:  # the store is being written as the process stops: say less
        kept = None
    counted = "" if kept is None else f"共 {design_runs} 次运行，已存 {kept} 次；"
    counted_en = "" if kept is None else f"{kept} of {design_runs} runs stored; "
    errors.print(
        f"已中断：{counted}用同一命令加上 --resume 接着完成\n"
        f"interrupted: {counted_en}the same command with --resume completes it",
        highlight=False,
    )
