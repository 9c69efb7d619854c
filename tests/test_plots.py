"""Each plot rendered from a small fixed result: a valid PNG of sensible size, Chinese labels
drawn with a font that has every glyph, and the marks it promises where they belong."""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from fontTools.ttLib import TTFont
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.text import Text
from PIL import Image

from liangye.results import plots

NAMES = {
    "service_manufacturing_demo": "服务型制造示范企业（平台、项目）",
    "industrial_design_centre": "工业设计企业（中心、研究院）",
}


@cache
def _cmap(path: str) -> set[int]:
    return set(TTFont(path, fontNumber=0, lazy=True).getBestCmap())


def assert_every_glyph_present(figure: Figure) -> set[str]:
    """Every character of every visible text of ``figure`` has a glyph in the font that text
    resolves to (no missing-glyph boxes); return the CJK characters seen."""
    figure.canvas.draw()  # legends and tick labels exist once drawn
    seen: set[str] = set()
    for text in figure.findobj(Text):
        content = text.get_text()
        if not content or not text.get_visible():
            continue
        path = font_manager.findfont(text.get_fontproperties())
        missing = [c for c in content if not c.isspace() and ord(c) not in _cmap(path)]
        assert not missing, f"{content!r} drawn with {path} lacks {missing}"
        seen |= {c for c in content if "\u4e00" <= c <= "\u9fff"}
    return seen


def assert_png(path: Path, least: tuple[int, int] = (800, 300)) -> None:
    """A PNG that opens, of a size a screen or a page can show."""
    with Image.open(path) as image:
        image.verify()
    with Image.open(path) as image:
        assert image.format == "PNG"
        width, height = image.size
        assert least[0] <= width <= 4000 and least[1] <= height <= 3000, image.size
        # Not blank: a plot has ink of several shades.
        assert len(image.convert("L").getcolors(maxcolors=1 << 16) or []) > 20


def frontier_table() -> pd.DataFrame:
    """Four budgets; the smallest cannot meet the quotas (no plan)."""
    return pd.DataFrame(
        {
            "scale": [0.5, 1.0, 1.5, 2.0],
            "budget": [1000.0, 2000.0, 3000.0, 4000.0],
            "status": ["infeasible", "optimal", "optimal", "optimal"],
            "objective": [None, 100.0, 160.0, 180.0],
            "designations": [0, 10, 15, 16],
            "greedy_objective": [50.0, 90.0, 140.0, 170.0],
            "greedy_designations": [5, 9, 13, 15],
        }
    )


def test_frontier_plot(tmp_path: Path) -> None:
    figure = plots.frontier_figure(frontier_table(), "预算前沿")
    seen = assert_every_glyph_present(figure)
    assert {"预", "算", "万", "元"} <= seen
    left, middle, right = figure.axes[:3]
    assert "万元" in left.get_xlabel() and "万元" in middle.get_xlabel()
    # The quotas need between 1,000 (no plan) and 2,000 (a plan): that span is shaded.
    spans = [p for p in left.patches if p.get_label() == "满足配额所需预算所在区间"]
    assert len(spans) == 1
    extent = spans[0].get_window_extent().transformed(left.transData.inverted())
    assert (extent.x0, extent.x1) == pytest.approx((1000.0, 2000.0))
    # Marginal value of 100万元 between 2,000 and 3,000: (160 - 100) / 1000 * 100 = 6.
    heights = [p.get_height() for p in right.patches]
    assert 6.0 in heights and pytest.approx(5.0) in heights  # greedy: (140 - 90) / 10
    plt.close(figure)
    path = plots.plot_frontier(frontier_table(), tmp_path / "f.png", "预算前沿", quota_budget=1500)
    assert_png(path)


def test_frontier_marks_a_known_quota_budget() -> None:
    figure = plots.frontier_figure(frontier_table(), "预算前沿", quota_budget=1500.0)
    label = "满足配额所需预算（按预计支出）"
    lines = [ln for ln in figure.axes[0].lines if ln.get_label() == label]
    assert len(lines) == 1 and lines[0].get_xdata()[0] == 1500.0
    plt.close(figure)
    # With an overrun bound (the frontier reports each plan's overrun chance) the line says
    # a budget just above it may still have no plan.
    bounded = frontier_table().assign(overrun_any_year=0.01)
    figure = plots.frontier_figure(bounded, "预算前沿", quota_budget=1500.0)
    labels = [ln.get_label() for ln in figure.axes[0].lines]
    assert "满足配额所需预算（按预计支出；有超支上限时需更多）" in labels
    plt.close(figure)


def test_frontier_hatches_the_gains_of_rank_by_score_plans_that_break_rules() -> None:
    """The rank-by-score plan ignores minimum quotas: a span where it breaks a rule is drawn
    hatched and the legend says it is for comparison only."""
    table = frontier_table().assign(greedy_rules_broken=[3] + [0] * (len(frontier_table()) - 1))
    figure = plots.frontier_figure(table, "预算前沿")
    right = figure.axes[2]
    hatched = [p for p in right.patches if p.get_hatch() == "//"]
    assert len(hatched) == 1  # the first span only: its lower end breaks rules
    assert any("仅供对照" in t.get_text() for t in right.get_legend().get_texts())
    plt.close(figure)


def payments_table() -> pd.DataFrame:
    """2024: 100 certain + 150 national nomination at 30%; 2025: 20 certain, 50 at 50%;
    2026 (after a 2024-2025 horizon): 10 committed."""
    return pd.DataFrame(
        {
            "programme": ["service_manufacturing_demo", "service_manufacturing_demo",
                          "industrial_design_centre", "industrial_design_centre",
                          "industrial_design_centre"],
            "level": ["municipal", "national", "municipal", "provincial", "municipal"],
            "year": [2024, 2024, 2025, 2025, 2026],
            "amount": [100.0, 150.0, 20.0, 50.0, 10.0],
            "probability": [1.0, 0.3, 1.0, 0.5, 1.0],
        }
    )  # fmt: skip


def test_payout_plot(tmp_path: Path) -> None:
    figure = plots.payout_figure(
        payments_table(), {2024: 200.0, 2025: 200.0}, "方案支出", NAMES, {2024: 250.0}
    )
    seen = assert_every_glyph_present(figure)
    assert {"服", "务", "型", "国", "家", "级", "期", "后"} <= seen
    by_programme, by_level = figure.axes[:2]
    assert "万元" in by_programme.get_ylabel()
    labels = [t.get_text() for t in by_programme.get_legend().get_texts()]
    assert "服务型制造示范企业" in labels and "工业设计企业" in labels
    assert [t.get_text() for t in by_level.get_legend().get_texts()][-4:-1] == [
        "国家级",
        "省级",
        "市级",
    ]
    # Budget lines at 200 over 2024 and 2025, none over the commitment year.
    budget = [c for c in by_programme.collections if c.get_label() == "预算"]
    segments = [s for c in budget for s in c.get_segments()]
    assert sorted(s[0][1] for s in segments) == [200.0]
    # 2024: expected 100 + 45 = 145, whisker from 100 (certain) to 250 (all conferred).
    spans = [
        sorted([s[0][1], s[1][1]])
        for c in by_programme.collections
        if c.get_label() != "预算"
        for s in c.get_segments()
        if s[0][0] == s[1][0] == 0
    ]
    assert [100.0, 250.0] in spans
    stacked = sum(p.get_height() for p in by_programme.patches if p.get_x() < 0.5)
    assert stacked == pytest.approx(145.0)
    ticks = [t.get_text() for t in by_programme.get_xticklabels()]
    assert ticks == ["2024", "2025", "2026\n（期后承诺）"]
    plt.close(figure)
    path = plots.plot_payout(
        payments_table(), {2024: 200.0, 2025: 200.0}, tmp_path / "p.png", "方案支出", NAMES
    )
    assert_png(path)


def test_plan_payments_reads_allocation_json_rows() -> None:
    selected = [
        {"programme": "a", "level": "national", "probability": 0.3,
         "payments": {"2024": 100.0, "2026": 50.0}},
        {"programme": "b", "level": "municipal", "probability": 1.0, "payments": {"2025": 20.0}},
    ]  # fmt: skip
    table = plots.plan_payments(selected)
    assert list(table["year"]) == [2024, 2026, 2025]
    assert (table["amount"] * table["probability"]).sum() == pytest.approx(30 + 15 + 20)


def simulation_tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two replications, two worlds, eight quarters; payments in two years."""
    rows = []
    for replication in (0, 1):
        for world, lift in (("award", 0.02), ("twin", 0.0)):
            for t in range(8):
                base = 0.2 + 0.01 * t + 0.005 * replication
                rows.append(
                    {
                        "world": world,
                        "replication": replication,
                        "t": t,
                        "quarter": f"{2024 + t // 4}Q{t % 4 + 1}",
                        "share_above_20": base + lift,
                        "share_above_30": base / 2 + lift,
                    }
                )
    payments = pd.DataFrame(
        {
            "year": [2024, 2024, 2025, 2025],
            "replication": [0, 1, 0, 1],
            "programme": ["service_manufacturing_demo"] * 2 + ["industrial_design_centre"] * 2,
            "paid": [90.0, 130.0, 40.0, 60.0],
        }
    )
    return pd.DataFrame(rows), payments


def test_servitization_plot(tmp_path: Path) -> None:
    trajectories, payments = simulation_tables()
    shares = {"share_above_20": "≥ 20%", "share_above_30": "≥ 30%"}
    figure = plots.servitization_figure(
        trajectories, payments, "服务化进程", shares, {2024: 100.0, 2025: 100.0}, NAMES
    )
    seen = assert_every_glyph_present(figure)
    assert {"有", "奖", "励", "对", "照"} <= seen
    left, right = figure.axes[:2]
    labels = [t.get_text() for t in left.get_legend().get_texts()]
    assert labels == [
        "≥ 20%，有奖励",
        "≥ 30%，有奖励",
        "≥ 20%，无奖励（对照）",
        "≥ 30%，无奖励（对照）",
    ]
    # A band over the replications for each line: 2 shares × 2 worlds.
    assert len(left.collections) == 4
    legend = [t.get_text() for t in right.get_legend().get_texts()]
    assert "预算" in legend and "重复模拟间范围" in legend and "服务型制造示范企业" in legend
    assert "万元" in right.get_ylabel()
    plt.close(figure)
    # as the report and the simulation's servitization.png draw it
    from liangye.results.report_simulation import servitization_png

    path = tmp_path / "s.png"
    path.write_bytes(servitization_png(trajectories, payments, [20, 30], {2024: 100.0}, NAMES))
    assert_png(path)


def designs_table() -> pd.DataFrame:
    rows = []
    for design, scale in (("嘉兴 150/50/20", 1.0), ("平坦 50/50/50（示意）", 0.8)):
        rows += [
            {"design": design, "metric": "spend", "mean": 8000 * scale, "low": 7500 * scale,
             "high": 8600 * scale},
            {"design": design, "metric": "additional", "mean": 12 * scale, "low": 8 * scale,
             "high": 15 * scale},
            {"design": design, "metric": "cost_per_additional",
             "mean": 667.0 if scale == 1 else math.nan, "low": 500.0, "high": 900.0},
            {"design": design, "metric": "deadweight_share", "mean": 0.3, "low": 0.25,
             "high": 0.36},
            {"design": design, "metric": "overrun_risk", "mean": 0.2, "low": 0.04,
             "high": 0.62},
        ]  # fmt: skip
    return pd.DataFrame(rows)


def test_designs_plot(tmp_path: Path) -> None:
    figure = plots.designs_figure(designs_table(), "奖励档次比较")
    seen = assert_every_glyph_present(figure)
    assert {"嘉", "兴", "平", "坦", "超", "支"} <= seen
    assert len(figure.axes) == 5
    titles = [ax.get_title() for ax in figure.axes]
    assert titles[0] == "实际支付（万元）" and "每家新增服务化企业成本（万元）" in titles
    # Uncertainty bars for each design on every panel, but where the design has no value:
    # the design with no cost per additional firm has no bar there and says 无.
    cost = figure.axes[titles.index("每家新增服务化企业成本（万元）")]
    for ax in figure.axes:
        bars = sum(len(c.get_segments()) for c in ax.collections)
        assert bars == (1 if ax is cost else 2), ax.get_title()
    assert any(t.get_text().strip() == "无" for t in cost.texts)
    spend = figure.axes[0]
    (bar_a, bar_b) = spend.patches[:2]
    assert (bar_a.get_width(), bar_b.get_width()) == (8000.0, 6400.0)
    plt.close(figure)
    assert_png(plots.plot_designs(designs_table(), tmp_path / "d.png", "奖励档次比较"))


def test_names_and_levels() -> None:
    assert plots.level_name("national") == "国家级" and plots.level_name("省级") == "省级"
    assert plots.level_name("galactic") == "galactic"
    assert (
        plots.short_name("工业设计奖项奖励（中国优秀工业设计奖、金智奖等）") == "工业设计奖项奖励"
    )
    assert plots.programme_name("unknown_id", NAMES) == "unknown_id"
    assert len(plots.short_name("一" * 30)) == 14


def test_figure_png_is_a_png() -> None:
    figure, axes = plt.subplots(figsize=(8, 3))
    axes.plot(np.arange(5))
    data = plots.figure_png(figure)
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
