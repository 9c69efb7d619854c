"""Plots people would rather look at than read (matplotlib, written as PNG files)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no screen is assumed

import matplotlib.pyplot as plt
import pandas as pd

from .store import write_atomic


def plot_frontier(frontier: pd.DataFrame, path: Path, title: str) -> Path:
    """Budget frontier: objective and designations against total budget, optimum beside greedy.

    ``frontier`` has the columns of ``liangye.model.frontier.budget_frontier``. Labels are in
    English because CJK fonts cannot be assumed on every machine.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2), constrained_layout=True)
    budget = frontier["budget"]
    left.plot(budget, frontier["objective"], "o-", label="optimal plan")
    left.plot(budget, frontier["greedy_objective"], "s--", label="rank by score (greedy)")
    left.set_xlabel("budget over the horizon (10k CNY, 万元)")
    left.set_ylabel("objective (weighted merit)")
    left.legend()
    left.grid(alpha=0.3)
    right.plot(budget, frontier["designations"], "o-", label="optimal plan")
    right.plot(budget, frontier["greedy_designations"], "s--", label="rank by score (greedy)")
    right.set_xlabel("budget over the horizon (10k CNY, 万元)")
    right.set_ylabel("designations")
    right.grid(alpha=0.3)
    figure.suptitle(title)

    def save(p: Path) -> None:
        figure.savefig(p, dpi=120, format="png")

    write_atomic(path, save)
    plt.close(figure)
    return path
