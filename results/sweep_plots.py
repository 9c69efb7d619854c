"""Figures of a sweep's analysis (PNG, Chinese labels): outcomes by lever, Sobol indices, robustness."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no screen is assumed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from .fonts import use_chinese_font
from .store import write_atomic
from .sweep_data import show_value
from .sweep_outcomes import BETTER_ZH, OutcomeInfo

MAX_PANELS = 24  # more panels than this make a figure nobody can read: the first ones are drawn


def _save(figure: plt.Figure, path: Path) -> Path:
    try:
        return write_atomic(path, lambda p: figure.savefig(p, dpi=130, format="png"))
    finally:
        plt.close(figure)


def _grid(panels: int, columns: int = 3) -> tuple[int, int]:
    columns = max(1, min(columns, panels))
    return math.ceil(panels / columns), columns


def plot_outcomes_by_lever(
    cells: pd.DataFrame,
    lever: str,
    lever_label: str,
    outcomes: Sequence[str],
    infos: Sequence[OutcomeInfo],
    path: Path,
) -> Path:
    """One panel per outcome: a box plot of its values over every finished run at each value
    of ``lever`` (pooled over the other levers, the uncertainties and the seeds), each run a
    dot beside it (jittered with a fixed seed, so the same sweep draws the same figure)."""
    use_chinese_font()
    ok = cells[cells["status"] == "ok"]
    values = list(dict.fromkeys(cells[lever]))
    shown = list(zip(outcomes, infos, strict=True))[:MAX_PANELS]
    rows, columns = _grid(len(shown))
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False, constrained_layout=True
    )
    jitter = np.random.default_rng(0)
    for ax, (column, info) in zip(axes.flat, shown, strict=False):
        groups = [ok.loc[ok[lever] == v, column].dropna().to_numpy(dtype=float) for v in values]
        positions = np.arange(1, len(values) + 1)
        drawn = [(p, g) for p, g in zip(positions, groups, strict=True) if len(g)]
        if drawn:
            ax.boxplot(
                [g for _, g in drawn],
                positions=[p for p, _ in drawn],
                widths=0.5,
                showfliers=False,
                medianprops={"color": "C1"},
            )
        for p, g in drawn:
            ax.plot(p + jitter.uniform(-0.18, 0.18, len(g)), g, ".", color="C0", alpha=0.35, ms=4)
        ax.set_xticks(positions, [show_value(v) for v in values])
        ax.set_xlim(0.4, len(values) + 0.6)
        ax.set_xlabel(lever_label)
        ax.set_ylabel(info.unit)  # the title names the outcome; the axis its unit
        direction = f"（{BETTER_ZH[info.better]}）" if info.better else ""
        ax.set_title(f"{info.label}{direction}", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[len(shown) :]:
        ax.set_visible(False)
    figure.suptitle(f"各结果随「{lever_label}」的分布（箱线为四分位，点为每次运行）")
    return _save(figure, path)


def plot_sobol(table: pd.DataFrame, path: Path) -> Path:
    """One panel per setting and outcome: first-order (S1) and total (ST) Sobol indices of
    each factor as bars with their 95% confidence intervals as whiskers; an invalid panel
    says why in red and draws no bars."""
    use_chinese_font()
    panels = list(table.groupby(["setting", "outcome"], sort=False))[:MAX_PANELS]
    rows, columns = _grid(len(panels))
    figure, axes = plt.subplots(
        rows, columns, figsize=(4.8 * columns, 3.6 * rows), squeeze=False, constrained_layout=True
    )
    for ax, ((setting, _), frame) in zip(axes.flat, panels, strict=False):
        title = frame["outcome_label"].iloc[0]
        ax.set_title(title if setting == "全部运行" else f"{setting}：{title}", fontsize=9)
        if not frame["valid"].all():
            ax.text(
                0.5,
                0.5,
                "\n".join(_wrap(frame["reason"].iloc[0], 22)),
                ha="center",
                va="center",
                color="red",
                transform=ax.transAxes,
                fontsize=9,
            )
            ax.set_xticks([])
            ax.set_yticks([])
            continue
        x = np.arange(len(frame))
        s1 = ax.bar(x - 0.2, frame["S1"], 0.4, yerr=frame["S1_conf"], capsize=3, label="一阶 S1")
        st = ax.bar(x + 0.2, frame["ST"], 0.4, yerr=frame["ST_conf"], capsize=3, label="总效应 ST")
        if "precise" in frame and not frame["precise"].all():
            # Valid but too imprecise to act on (the table says so): hatched and said here
            # too, as the figure is read apart from the table (an S1 of 1.95 ± 0.58 was
            # drawn like any other bar, review 19).
            for bars in (s1, st):
                for bar, precise in zip(bars, frame["precise"], strict=True):
                    if not precise:
                        bar.set_hatch("//")
                        bar.set_alpha(0.5)
            ax.set_title(ax.get_title() + "\n（斜线：精度不足，仅供参考）", fontsize=9)
        ax.set_xticks(x, frame["factor_label"], rotation=20, ha="right", fontsize=8)
        ax.set_ylabel("Sobol 指数")
        ax.axhline(0, color="black", lw=0.6)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    figure.suptitle("Sobol 敏感性指数（误差线为 95% 置信区间）")
    return _save(figure, path)


def _wrap(text: str, width: int) -> list[str]:
    return [text[i : i + width] for i in range(0, len(text), width)] or [""]


def plot_robustness(spread: pd.DataFrame, targets: pd.DataFrame, path: Path) -> Path:
    """The robustness table as a coloured grid, one row per setting: for each outcome with a
    direction its mean regret (green none, red the most of any setting), and for each target
    the share of worlds meeting it (green all, red none). Without either, the mean of each
    outcome is shown uncoloured."""
    use_chinese_font()
    settings = list(dict.fromkeys(spread["setting"]))
    cells: list[tuple[str, list[float], list[str], bool]] = []  # header, values, text, higher?
    judged = spread[spread["better"].notna()] if "regret_mean" in spread else spread.iloc[0:0]
    for _outcome, frame in judged.groupby("outcome", sort=False):
        frame = frame.set_index("setting").reindex(settings)
        label = f"{frame['outcome_label'].iloc[0]}\n平均后悔值"
        values = frame["regret_mean"].to_list()
        cells.append((label, values, [_number(v) for v in values], False))
    if len(targets):
        for target, frame in targets.groupby("target", sort=False):
            frame = frame.set_index("setting").reindex(settings)
            values = frame["share"].to_list()
            text = [f"{v:.0%}" if v == v else "—" for v in values]
            cells.append((f"达标比例\n{target}", values, text, True))
    if not cells:
        for _outcome, frame in spread.groupby("outcome", sort=False):
            frame = frame.set_index("setting").reindex(settings)
            values = frame["mean"].to_list()
            label = f"{frame['outcome_label'].iloc[0]}\n均值"
            cells.append((label, [math.nan] * len(values), [_number(v) for v in values], True))
    grid = np.full((len(settings), len(cells)), np.nan)
    for j, (header, values, _, higher) in enumerate(cells):
        column = np.array(values, dtype=float)
        finite = column[np.isfinite(column)]
        if header.startswith("达标比例"):
            grid[:, j] = column  # a share is good or bad on its own: 0 red, 1 green
        elif len(finite):
            low, high = finite.min(), finite.max()
            scaled = (column - low) / (high - low) if high > low else np.ones_like(column)
            grid[:, j] = scaled if higher else 1 - scaled
    width = max(6.0, 1.9 * len(cells) + 2.5)
    figure, ax = plt.subplots(figsize=(width, 0.5 * len(settings) + 2.0), constrained_layout=True)
    ax.imshow(np.ma.masked_invalid(grid), cmap="RdYlGn", vmin=0, vmax=1, aspect="auto")
    for j, (_, _, text, _) in enumerate(cells):
        for i, shown in enumerate(text):
            ax.text(j, i, shown, ha="center", va="center", fontsize=8)
    ax.set_xticks(range(len(cells)), [c[0] for c in cells], fontsize=8)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(settings)), settings, fontsize=8)
    ax.set_ylabel("方案")
    figure.suptitle("稳健性：各方案在各世界中的后悔值与达标比例（绿好红差）")
    return _save(figure, path)


def _number(value: float) -> str:
    if value != value:  # NaN
        return "—"
    return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
