"""The ``liangye validate`` command: every problem in the input files, reported at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from liangye.model.errors import InputError

from .cli_shared import EXIT_INPUT, console


def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="政策、情景、候选名单或申报表文件; policy, scenario, candidate or application files"
        ),
    ],
) -> None:
    """检查输入文件，一次列出全部问题。
    Check input files and report every problem at once (a scenario is followed to its
    policy and candidate files); readings taken are printed as warnings."""
    from .display import show_problems
    from .validate import check_file, check_together

    failed = 0
    results = [check_file(path) for path in files]
    together = check_together(files, results)
    labels = [str(path) for path in files]
    if together is not None:  # what only shows across the files, as allocate puts them
        results.append(together)
        labels.append("（合起来 together）")
    for path, checked in zip(labels, results, strict=True):
        if checked.problems:
            failed += 1
            show_problems(
                console,
                InputError(checked.problems),
                f"{path}：有问题 {checked.kind} with problems",
            )
        else:
            console.print(
                f"[green]✓[/] {path}：没有问题 {checked.kind}, no problems", highlight=False
            )
        for sentence in checked.warnings:
            console.print(f"  [yellow]注意 warning:[/] {sentence}", highlight=False)
    if failed:
        raise typer.Exit(EXIT_INPUT)


def register(app: typer.Typer) -> None:
    """Add ``validate`` to the ``liangye`` command line."""
    app.command(name="validate")(validate)
