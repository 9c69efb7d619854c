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
    left.set_xlabel("budget over the horizon (10k CNY)")
    left.set_ylabel("objective (weighted merit)")
    left.legend()
    left.grid(alpha=0.3)
    right.plot(budget, frontier["designations"], "o-", label="optimal plan")
    right.plot(budget, frontier["greedy_designations"], "s--", label="rank by score (greedy)")
    right.set_xlabel("budget over the horizon (10k CNY)")
    right.set_ylabel("designations")
    right.grid(alpha=0.3)
    figure.suptitle(title)
    return _save(figure, path)


def plot_servitization(
    trajectories: pd.DataFrame,
    payments: pd.DataFrame,
    path: Path,
    title: str,
    shares: dict[str, str],
    budget: dict[int, float] | None = None,
) -> Path:
    """Servitization over time in the award world against its no-award twin, and payouts.

    Left: for each trajectory column in ``shares`` (column -> legend label, e.g.
    ``share_above_20`` -> "≥ 20%"), the share of manufacturers at or above that service
    revenue share each quarter, the mean over replications as a line and the range over
    replications as a band, award world beside twin. Right: money paid by programme and year
    (mean over replications), each year's budget as a line across its bar (``budget``: year
    -> 万元) and the range of the year's total over replications as a whisker, so a year that
    overran in some replications shows. Columns as written by ``liangye simulate``.
    """
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.4), constrained_layout=True)
    styles = {"award": "-", "twin": "--"}
    colours = {column: f"C{i}" for i, column in enumerate(shares)}
    labels = shares
    quarters = list(dict.fromkeys(trajectories.sort_values("t")["quarter"]))
    for world, frame in trajectories.groupby("world", sort=True):
        for column, colour in colours.items():
            by_t = frame.groupby("t")[column]
            mean, low, high = by_t.mean(), by_t.min(), by_t.max()
            left.plot(
                mean.index,
                mean.to_numpy(),
                styles.get(str(world), ":"),
                color=colour,
                label=f"{labels[column]}, {'awards' if world == 'award' else 'no awards (twin)'}",
            )
            left.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=colour, alpha=0.12)
    ticks = list(range(0, len(quarters), 4))
    left.set_xticks(ticks, [quarters[i] for i in ticks])
    left.set_ylabel("share of manufacturers")
    left.set_xlabel("quarter")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    replications = max(1, trajectories["replication"].nunique())
    if len(payments):
        paid = payments.groupby(["year", "programme"])["paid"].sum().unstack(fill_value=0)
        (paid / replications).plot.bar(ax=right, stacked=True, rot=0)
        totals = payments.groupby(["year", "replication"])["paid"].sum().unstack(fill_value=0)
        totals = (
            totals.reindex(columns=range(replications), fill_value=0) if replications else totals
        )
        for i, year in enumerate(paid.index):
            each = totals.loc[year].to_numpy(dtype=float)
            mean = float(paid.loc[year].sum()) / replications
            right.errorbar(
                i,
                mean,
                yerr=[[mean - each.min()], [each.max() - mean]],
                fmt="none",
                ecolor="dimgrey",
                capsize=5,
                label="range over replications" if i == 0 else None,
            )
            if budget and int(year) in budget:
                right.hlines(
                    budget[int(year)],
                    i - 0.45,
                    i + 0.45,
                    colors="black",
                    linewidth=2,
                    label="budget" if i == 0 else None,
                )
        # Beside the panel, not over the bars it explains.
        right.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    right.set_xlabel("year")
    right.set_ylabel("paid (10k CNY), mean over replications")
    right.grid(alpha=0.3, axis="y")
    figure.suptitle(title)
    return _save(figure, path)


def _save(figure: plt.Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG atomically (a crash never leaves half a file) and close it."""

    def save(p: Path) -> None:
        figure.savefig(p, dpi=120, format="png")

    write_atomic(path, save)
    plt.close(figure)
    return path
