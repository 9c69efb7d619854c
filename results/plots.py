"""Plots people would rather look at than read: Chinese labels, money in 万元, PNG files.

Each plot has a ``*_figure`` builder returning the matplotlib Figure (the report embeds it)
and a ``plot_*`` function writing it as a PNG. Programme names come from the policy file
(``names``: programme id -> Chinese name); an id without a name is shown as it is.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no screen is assumed

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from liangye.model.status import Status, plan_name_zh
from liangye.model.units import LEVEL_CHINESE, LEVEL_ORDER, Level

from .fonts import use_chinese_font
from .store import write_atomic

WAN = "万元"
# Stacks with more parts than this lump the smallest into 其他: a legend of 29 programmes
# cannot be read at a glance.
MOST_PARTS = 8
DPI = 120


def level_name(level: object) -> str:
    """国家级/省级/市级/区县级 for a level given in English or Chinese; the text otherwise."""
    try:
        return LEVEL_CHINESE[Level(str(level))]
    except ValueError:
        return str(level)


def short_name(name: str, most: int = 14) -> str:
    """A programme name short enough for a legend: bracketed asides dropped, then cut."""
    plain = re.sub(r"（[^）]*）|\([^)]*\)", "", name).strip() or name
    return plain if len(plain) <= most else plain[: most - 1] + "…"


def programme_name(programme: str, names: Mapping[str, str] | None) -> str:
    """The programme's short Chinese name from ``names``, else its id."""
    return short_name(names[programme]) if names and programme in names else programme


# --- the budget frontier ------------------------------------------------------------------


def frontier_figure(
    frontier: pd.DataFrame, title: str, quota_budget: float | None = None
) -> Figure:
    """The budget frontier: objective, designations and the marginal value of 100万元.

    ``frontier`` has the columns of ``liangye.model.frontier.budget_frontier`` (budget,
    status, objective, designations, greedy_objective, greedy_designations; bound where
    known). Left: the objective against the total budget, optimal plan beside the
    rank-by-score plan, and where points are not proven optimal the band up to their bound;
    middle:
    designations; right: what each further 100万元 adds to the objective between adjacent
    budgets. ``quota_budget`` (万元) is marked as the budget the quotas need; without it,
    when some budgets are infeasible, the span between the largest infeasible and the
    smallest feasible budget is shaded as where that budget lies.
    """
    use_chinese_font()
    frame = frontier.sort_values("budget").reset_index(drop=True)
    budget = frame["budget"].astype(float)
    feasible = frame["objective"].notna()
    # 最优方案 only when every point drawn is proven so (plan_name_zh).
    proven = (frame.loc[feasible, "status"] == Status.OPTIMAL).all()
    ours = plan_name_zh(Status.OPTIMAL if proven else None)
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    # A rank-by-score plan that breaks a rule (it ignores minimum quotas) is drawn hollow with
    # a cross: its objective is not one the bureau could sign.
    broken = frame.get("greedy_rules_broken", pd.Series(0, index=frame.index)).fillna(0) > 0
    for axes, optimal, greedy, label in (
        (left, "objective", "greedy_objective", "目标值（加权评分）"),
        (middle, "designations", "greedy_designations", "认定与推荐数（项）"),
    ):
        axes.plot(budget[feasible], frame.loc[feasible, optimal], "o-", label=ours)
        (line,) = axes.plot(budget, frame[greedy], "s--", label="按分排序法")
        if broken.any():
            axes.plot(
                budget[broken],
                frame.loc[broken, greedy],
                "X",
                color=line.get_color(),
                markersize=9,
                linestyle="none",
                label="按分排序法（违反配额等规则）",
            )
        axes.set_ylabel(label)
    if not proven and "bound" in frame:
        # Where the best plan at each budget lies: between the plan found and the proven
        # bound (a point not proven optimal drew like a proven one).
        bounds = pd.to_numeric(frame.loc[feasible, "bound"], errors="coerce")
        known = bounds.notna().to_numpy()
        if known.any():
            left.fill_between(
                budget[feasible][known],
                frame.loc[feasible, "objective"][known].astype(float),
                bounds[known],
                alpha=0.2,
                label="最优值所在范围（介于方案与其界之间）",
            )
    for axes in (left, middle):
        axes.set_xlabel(f"期间总预算（{WAN}）")
        axes.grid(alpha=0.3)
        _mark_quota_budget(axes, frame, quota_budget)
        axes.legend(fontsize=9)
    _marginal_value(right, frame, ours, broken)
    figure.suptitle(title)
    return figure


def _mark_quota_budget(axes: plt.Axes, frame: pd.DataFrame, quota_budget: float | None) -> None:
    """The budget the quotas need: a line where known, else the span it must lie in."""
    if quota_budget is not None:
        # At expected cost: with an overrun bound (the frontier then reports each plan's
        # overrun chance) a budget just above it can still have no plan.
        bounded = "overrun_any_year" in frame
        label = "满足配额所需预算（按预计支出" + ("；有超支上限时需更多）" if bounded else "）")
        axes.axvline(quota_budget, color="firebrick", linestyle=":", label=label)
        return
    infeasible = frame.loc[frame["objective"].isna(), "budget"].astype(float)
    feasible = frame.loc[frame["objective"].notna(), "budget"].astype(float)
    if len(infeasible) and len(feasible):
        low, high = infeasible.max(), feasible[feasible > infeasible.max()].min()
        if np.isfinite(high):
            axes.axvspan(low, high, color="firebrick", alpha=0.12, label="满足配额所需预算所在区间")


def _marginal_value(axes: plt.Axes, frame: pd.DataFrame, ours: str, broken: pd.Series) -> None:
    """Bars of Δobjective per 100万元 between adjacent budgets, optimal beside greedy."""
    budget = frame["budget"].astype(float).to_numpy()
    spans, optimal, greedy = [], [], []
    for i in range(1, len(frame)):
        width = budget[i] - budget[i - 1]
        if width <= 0:
            continue
        spans.append(f"{budget[i - 1]:,.0f}→{budget[i]:,.0f}")
        before, after = frame["objective"].iloc[i - 1], frame["objective"].iloc[i]
        optimal.append(
            np.nan if pd.isna(before) or pd.isna(after) else (after - before) / width * 100
        )
        greedy.append(
            (frame["greedy_objective"].iloc[i] - frame["greedy_objective"].iloc[i - 1])
            / width
            * 100
        )
    x = np.arange(len(spans))
    axes.bar(x - 0.2, optimal, 0.4, label=ours)
    # A span whose rank-by-score plan breaks a rule (``broken``) at either end is hatched:
    # that plan is no alternative (it ignores minimum quotas), so its gain is for comparison.
    at_ends = [
        bool(broken.iloc[i] or broken.iloc[i - 1])
        for i in range(1, len(frame))
        if budget[i] - budget[i - 1] > 0
    ]
    bars = axes.bar(
        x + 0.2,
        greedy,
        0.4,
        label="按分排序法（斜线：违反配额等规则，仅供对照）" if any(at_ends) else "按分排序法",
    )
    for bar, hatched in zip(bars, at_ends, strict=True):
        if hatched:
            bar.set_hatch("//")
            bar.set_alpha(0.6)
    axes.set_xticks(x, spans, rotation=30, ha="right", fontsize=8)
    axes.set_xlabel(f"预算区间（{WAN}）")
    axes.set_ylabel(f"每增加100{WAN}带来的目标值")
    axes.axhline(0, color="black", linewidth=0.8)
    axes.grid(alpha=0.3, axis="y")
    axes.legend(fontsize=9)


def plot_frontier(
    frontier: pd.DataFrame, path: Path, title: str, quota_budget: float | None = None
) -> Path:
    """Write ``frontier_figure`` as a PNG at ``path``."""
    return _save(frontier_figure(frontier, title, quota_budget), path)


# --- payout of a plan against the budget ------------------------------------------------


def plan_payments(selected: Sequence[Mapping[str, object]]) -> pd.DataFrame:
    """One row per payment of a plan: programme, level, year, amount (if conferred), chance.

    ``selected`` is ``allocation.json``'s ``selected`` list (each row's ``payments`` by
    year and ``probability``)."""
    rows = [
        {
            "programme": str(row["programme"]),
            "level": str(row["level"]),
            "year": int(year),
            "amount": float(amount),
            "probability": float(row["probability"]),
        }
        for row in selected
        for year, amount in dict(row.get("payments") or {}).items()
    ]
    columns = ["programme", "level", "year", "amount", "probability"]
    return pd.DataFrame(rows, columns=columns)


def payout_figure(
    payments: pd.DataFrame,
    budget: Mapping[int, float],
    title: str,
    names: Mapping[str, str] | None = None,
    p95: Mapping[int, float] | None = None,
) -> Figure:
    """What a plan pays by year, by programme (left) and by level (right), against the budget.

    ``payments`` as ``plan_payments`` gives. Bars stack the expected payment (amount ×
    chance of conferral); each year's budget is a black line across its bar. Nominations
    are uncertain, so each year carries a whisker from what is paid for certain (no
    nomination conferred) to what is paid if every one is (``p95``, the 95th percentile of
    the exact law, as a diamond where given). Years after the last budgeted year are the
    commitments after the horizon, drawn lighter and marked as such.
    """
    use_chinese_font()
    figure, axes = plt.subplots(1, 2, figsize=(15, 5.2), constrained_layout=True)
    frame = payments.assign(expected=payments["amount"] * payments["probability"])
    years = sorted(set(frame["year"]) | set(budget)) if len(frame) or budget else []
    horizon_end = max(budget) if budget else (max(years) if years else None)
    programmes = frame.assign(
        part=[programme_name(p, names) for p in frame["programme"]]
    ).pivot_table(index="year", columns="part", values="expected", aggfunc="sum", fill_value=0)
    levels = frame.assign(part=[level_name(v) for v in frame["level"]]).pivot_table(
        index="year", columns="part", values="expected", aggfunc="sum", fill_value=0
    )
    order = [level_name(v) for v in LEVEL_ORDER]
    levels = levels[[c for c in order if c in levels.columns]]
    certain = frame[frame["probability"] >= 1].groupby("year")["amount"].sum()
    most = frame.groupby("year")["amount"].sum()
    for ax, table, what in ((axes[0], programmes, "按项目"), (axes[1], levels, "按级别")):
        table = table.reindex(years, fill_value=0.0)
        # Programmes largest first (the rest lumped); levels in their own order.
        table = _lump(table) if what == "按项目" else table
        _stacked(ax, table, years, horizon_end)
        for i, year in enumerate(years):
            if year in budget:
                ax.hlines(
                    budget[year],
                    i - 0.42,
                    i + 0.42,
                    colors="black",
                    linewidth=2.2,
                    label="预算" if i == 0 else None,
                )
            if most.get(year, 0) > certain.get(year, 0):
                mean = float(table.loc[year].sum())
                ax.errorbar(
                    i,
                    mean,
                    yerr=[[mean - certain.get(year, 0.0)], [most.get(year, 0.0) - mean]],
                    fmt="none",
                    ecolor="dimgrey",
                    capsize=5,
                    label="范围：仅确定支付～推荐全部获批" if i == 0 else None,
                )
            if horizon_end is not None and year > horizon_end:
                # Commitments are small beside a year's budget: say the amount in words.
                ax.annotate(
                    f"{float(table.loc[year].sum()):,.0f}",
                    (i, float(table.loc[year].sum())),
                    textcoords="offset points",
                    xytext=(0, 4),
                    ha="center",
                    fontsize=9,
                )
            if p95 and year in p95:
                ax.plot(
                    i,
                    p95[year],
                    "D",
                    color="firebrick",
                    markersize=6,
                    label="95%分位支出" if i == 0 else None,
                )
        labels = [
            f"{y}\n（期后承诺）" if horizon_end is not None and y > horizon_end else str(y)
            for y in years
        ]
        ax.set_xticks(range(len(years)), labels)
        ax.set_xlabel("年份")
        ax.set_ylabel(f"预计支出（{WAN}）")
        ax.set_title(what)
        ax.grid(alpha=0.3, axis="y")
        # Beside the panel, not over the bars it explains.
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    figure.suptitle(title)
    return figure


def _lump(table: pd.DataFrame) -> pd.DataFrame:
    """At most ``MOST_PARTS`` columns, largest first; the rest summed as 其他."""
    table = table.loc[:, table.sum().sort_values(ascending=False).index]
    table = table.loc[:, table.sum() > 0]
    if table.shape[1] <= MOST_PARTS:
        return table
    kept = table.iloc[:, : MOST_PARTS - 1].copy()
    kept["其他"] = table.iloc[:, MOST_PARTS - 1 :].sum(axis=1)
    return kept


def _stacked(ax: plt.Axes, table: pd.DataFrame, years: list[int], horizon_end: int | None) -> None:
    """Stacked bars, one per year; years after ``horizon_end`` lighter (commitments)."""
    bottom = np.zeros(len(years))
    after = np.array([horizon_end is not None and y > horizon_end for y in years])
    for k, column in enumerate(table.columns):
        values = table[column].to_numpy(dtype=float)
        colour = f"C{k % 10}"
        ax.bar(
            np.flatnonzero(~after),
            values[~after],
            0.7,
            bottom=bottom[~after],
            color=colour,
            label=column,
        )
        if after.any():
            ax.bar(
                np.flatnonzero(after),
                values[after],
                0.7,
                bottom=bottom[after],
                color=colour,
                alpha=0.4,
                hatch="//",
            )
        bottom += values


def plot_payout(
    payments: pd.DataFrame,
    budget: Mapping[int, float],
    path: Path,
    title: str,
    names: Mapping[str, str] | None = None,
    p95: Mapping[int, float] | None = None,
) -> Path:
    """Write ``payout_figure`` as a PNG at ``path``."""
    return _save(payout_figure(payments, budget, title, names, p95), path)


# --- the simulation -----------------------------------------------------------------------


def servitization_figure(
    trajectories: pd.DataFrame,
    payments: pd.DataFrame,
    title: str,
    shares: dict[str, str],
    budget: dict[int, float] | None = None,
    names: Mapping[str, str] | None = None,
) -> Figure:
    """Servitization over time in the award world against its no-award twin, and payouts.

    Left: for each trajectory column in ``shares`` (column -> legend label, e.g.
    ``share_above_20`` -> "≥ 20%"), the share of manufacturers at or above that service
    revenue share each quarter, the mean over replications as a line and the range over
    replications as a band, award world beside twin. Right: money paid by programme (named
    from ``names``) and year (mean over replications), each year's budget as a line across
    its bar (``budget``: year -> 万元; its artist labelled ``budget``) and the range of the
    year's total over replications as a whisker, so a year that overran in some
    replications shows. Columns as written by ``liangye simulate``.
    """
    use_chinese_font()
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), constrained_layout=True)
    styles = {"award": "-", "twin": "--"}
    worlds = {"award": "有奖励", "twin": "无奖励（对照）"}
    colours = {column: f"C{i}" for i, column in enumerate(shares)}
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
                label=f"{shares[column]}，{worlds.get(str(world), str(world))}",
            )
            left.fill_between(mean.index, low.to_numpy(), high.to_numpy(), color=colour, alpha=0.12)
    ticks = list(range(0, len(quarters), 4))
    left.set_xticks(ticks, [quarters[i] for i in ticks])
    left.yaxis.set_major_formatter(PercentFormatter(1.0))
    left.set_ylabel("服务收入占比达到门槛的制造企业比例")
    left.set_xlabel("季度（阴影：重复模拟间的范围）")
    left.legend(fontsize=8)
    left.grid(alpha=0.3)
    replications = max(1, trajectories["replication"].nunique())
    _simulated_payout(right, payments, replications, budget, names)
    right.set_xlabel("年份")
    right.set_ylabel(f"实际支付（{WAN}，重复模拟均值）")
    right.grid(alpha=0.3, axis="y")
    figure.suptitle(title)
    return figure


def _simulated_payout(
    right: plt.Axes,
    payments: pd.DataFrame,
    replications: int,
    budget: dict[int, float] | None,
    names: Mapping[str, str] | None,
) -> None:
    """Money paid by programme and year, the budget line and the range over replications."""
    if not len(payments):
        return
    named = payments.assign(programme=[programme_name(p, names) for p in payments["programme"]])
    paid = _lump(named.groupby(["year", "programme"])["paid"].sum().unstack(fill_value=0))
    (paid / replications).plot.bar(ax=right, stacked=True, rot=0)
    totals = payments.groupby(["year", "replication"])["paid"].sum().unstack(fill_value=0)
    totals = totals.reindex(columns=range(replications), fill_value=0)
    handles: dict[str, object] = {}
    for i, year in enumerate(paid.index):
        each = totals.loc[year].to_numpy(dtype=float)
        mean = float(paid.loc[year].sum()) / replications
        bar = right.errorbar(
            i,
            mean,
            yerr=[[mean - each.min()], [each.max() - mean]],
            fmt="none",
            ecolor="dimgrey",
            capsize=5,
        )
        handles.setdefault("重复模拟间范围", bar)
        if budget and int(year) in budget:
            # Labelled with a stable id (tools and tests find it); the legend says 预算.
            line = right.hlines(
                budget[int(year)], i - 0.45, i + 0.45, colors="black", linewidth=2, label="budget"
            )
            handles.setdefault("预算", line)
    stacks, labels = right.get_legend_handles_labels()
    shown = [(h, lab) for h, lab in zip(stacks, labels, strict=True) if lab != "budget"]
    shown += [(h, lab) for lab, h in handles.items()]
    # Beside the panel, not over the bars it explains.
    right.legend(
        [h for h, _ in shown],
        [lab for _, lab in shown],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )


# --- tier designs side by side -----------------------------------------------------------

# The outcomes of a design comparison, in the order drawn, with their axis labels.
DESIGN_METRICS: dict[str, str] = {
    "spend": f"实际支付（{WAN}）",
    "additional": "新增服务化企业（家）",
    "cost_per_additional": f"每家新增服务化企业成本（{WAN}）",
    "deadweight_share": "无效激励资金占比（资金）",
    "overrun_risk": "超支风险（任一年超支的比例）",
}


def designs_figure(table: pd.DataFrame, title: str) -> Figure:
    """Tier designs side by side, one panel per outcome, with uncertainty bars.

    ``table`` has one row per design and outcome: ``design`` (its Chinese label),
    ``metric`` (a key of ``DESIGN_METRICS``), ``mean``, ``low`` and ``high`` (the bar's
    ends: the range over replications, or an interval for a chance). A missing mean (a cost
    per additional firm with no additional firm) is written as 无 on the panel.
    """
    use_chinese_font()
    designs = list(dict.fromkeys(table["design"]))
    metrics = [m for m in DESIGN_METRICS if m in set(table["metric"])]
    height = 1.2 + 0.45 * len(designs)
    figure, axes = plt.subplots(
        1,
        len(metrics),
        figsize=(3.4 * len(metrics) + 1.5, height + 1.2),
        squeeze=False,
        sharey=True,
        constrained_layout=True,
    )
    y = np.arange(len(designs))
    for ax, metric in zip(axes[0], metrics, strict=True):
        rows = table[table["metric"] == metric].set_index("design").reindex(designs)
        mean = rows["mean"].astype(float).to_numpy()
        low = rows["low"].astype(float).to_numpy()
        high = rows["high"].astype(float).to_numpy()
        shown = np.nan_to_num(mean)
        ax.barh(y, shown, 0.6, color=[f"C{i % 10}" for i in range(len(designs))])
        # A range open above (a cost with a replication that added no firm) is drawn to the
        # panel's edge with an arrow instead of an infinite whisker.
        open_above = np.isinf(high)
        high = np.where(open_above, np.nan, high)
        errors = np.array([np.clip(shown - low, 0, None), np.clip(high - shown, 0, None)])
        has = ~np.isnan(mean) & ~np.isnan(low) & ~np.isnan(high)
        for i in np.flatnonzero(open_above & ~np.isnan(mean)):
            ax.annotate(
                "",
                xy=(1.0, y[i]),
                xycoords=("axes fraction", "data"),
                xytext=(shown[i], y[i]),
                arrowprops={"arrowstyle": "->", "color": "black"},
            )
        if has.any():
            ax.errorbar(
                shown[has], y[has], xerr=errors[:, has], fmt="none", ecolor="black", capsize=4
            )
        for i in np.flatnonzero(np.isnan(mean)):
            ax.text(0, y[i], " 无", va="center", fontsize=9, color="dimgrey")
        if metric in ("deadweight_share", "overrun_risk"):
            ax.xaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_title(DESIGN_METRICS[metric], fontsize=10)
        ax.grid(alpha=0.3, axis="x")
    axes[0][0].set_yticks(y, designs)
    axes[0][0].invert_yaxis()
    figure.suptitle(title)
    return figure


def plot_designs(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Write ``designs_figure`` as a PNG at ``path``."""
    return _save(designs_figure(table, title), path)


# --- output -------------------------------------------------------------------------------


def figure_png(figure: Figure) -> bytes:
    """``figure`` as PNG bytes (for embedding in a report); the figure is closed."""
    buffer = io.BytesIO()
    figure.savefig(buffer, dpi=DPI, format="png")
    plt.close(figure)
    return buffer.getvalue()


def _save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG atomically (a crash never leaves half a file) and close it."""

    def save(p: Path) -> None:
        figure.savefig(p, dpi=DPI, format="png")

    write_atomic(path, save)
    plt.close(figure)
    return path
