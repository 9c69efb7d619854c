"""What it would have taken: the reported thresholds hold when the allocation is solved
again from its inputs. A candidate left out is selected with its score raised to the score
it was told it needed (or with the extra budget it was told), and not with a little less;
a selected one keeps its place with its score lowered by its margin, and loses it with a
little more."""

from __future__ import annotations

import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from liangye.model import thresholds
from liangye.model.allocation import allocate
from liangye.model.options import build_problem
from liangye.model.settings import AllocationSettings, Budget

from conftest import make_candidates, make_policy, programme

YEARS = [2024, 2025]


def instance(seed: int, n: int = 12) -> tuple:
    """P (provincial 50, municipal 20) and Q (municipal 30), two matters, two years; n firms
    with integer scores 50-99; budgets that leave about half of them out."""
    rng = np.random.default_rng(seed)
    policy = make_policy(
        [
            programme("P", {"provincial": 50, "municipal": 20}),
            programme("Q", {"municipal": 30}, eligibility=["revenue >= 5000"]),
        ],
        years=YEARS,
    )
    rows = [
        {"id": f"F{i}", "score": float(s), "revenue": float(r)}
        for i, (s, r) in enumerate(
            zip(rng.integers(50, 100, n), rng.integers(1000, 10000, n), strict=True)
        )
    ]
    budget = {2024: int(rng.integers(60, 120)), 2025: int(rng.integers(60, 120))}
    return policy, rows, budget


def allocate_with(
    policy, rows: list[dict], budget: dict[int, float], confirm_cases: int = 0, **settings
):
    problem = build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={t: Decimal(str(v)) for t, v in budget.items()}),
        AllocationSettings(**{"level_weights": {"provincial": 2}, **settings}),
    )
    return allocate(problem, confirm_cases=confirm_cases)


def selected(policy, rows, budget, candidate: str, **settings) -> bool:
    """Is ``candidate`` designated when the allocation is built and solved from scratch?"""
    problem = build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={t: Decimal(str(v)) for t, v in budget.items()}),
        AllocationSettings(**{"level_weights": {"provincial": 2}, **settings}),
    )
    result = allocate(problem, explain=False)
    return candidate in set(result.selected["candidate_id"])


def scored(rows: list[dict], candidate: str, score: float) -> list[dict]:
    return [{**r, "score": score} if r["id"] == candidate else r for r in rows]


def richer(budget: dict[int, float], year: int, extra: float) -> dict[int, float]:
    return {t: v + (extra if t == year else 0) for t, v in budget.items()}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_reported_thresholds_hold_when_solved_again(seed):
    policy, rows, budget = instance(seed)
    result = allocate_with(policy, rows, budget, confirm_cases=3)
    reasons = result.reasons.set_index("candidate_id")
    score = {r["id"]: r["score"] for r in rows}
    shown = reasons[reasons["threshold_confirmed"]]
    losers = shown[shown["outcome"] != "selected"]
    winners = shown[shown["outcome"] == "selected"]
    assert len(losers) == 3 and len(winners) == 3  # the three closest on each side
    checked = 0
    for c, row in losers.iterrows():
        needed = row["score_needed"]
        if math.isfinite(needed):
            assert needed > score[c]
            assert selected(policy, scored(rows, c, needed), budget, c)
            assert not selected(policy, scored(rows, c, round(needed - 0.1, 1)), budget, c)
            assert f"评分需达到{needed:g}分方可入选" in row["reason_zh"]
            checked += 1
        extra, year = row["extra_budget_wan"], row["extra_budget_year"]
        if pd.notna(extra) and math.isfinite(extra):
            assert selected(policy, rows, richer(budget, year, extra), c)
            assert not selected(policy, rows, richer(budget, year, extra - 1), c)
            assert (
                f"{int(year)}年预算再增加{extra:g}万元方可入选（经重新求解确认）"
                in row["reason_zh"]
            )
            checked += 1
    for c, row in winners.iterrows():
        margin = row["score_margin"]
        assert 0 <= margin <= score[c]
        assert selected(policy, scored(rows, c, round(score[c] - margin, 1)), budget, c)
        if margin < score[c]:
            lower = round(score[c] - margin - 0.1, 1)
            assert not selected(policy, scored(rows, c, lower), budget, c)
        checked += 1
    assert checked >= 6


def test_money_thresholds_when_the_objective_counts_designations():
    """Under the count objective the score does not decide (no score figures); the money
    does, and the extra budget reported holds when solved again."""
    policy, rows, budget = instance(4)
    result = allocate_with(policy, rows, budget, confirm_cases=3, objective="count")
    reasons = result.reasons.set_index("candidate_id")
    assert reasons["score_needed"].isna().all() and reasons["score_margin"].isna().all()
    losers = reasons[reasons["threshold_confirmed"]]
    assert len(losers) == 3
    for c, row in losers.iterrows():
        extra, year = row["extra_budget_wan"], row["extra_budget_year"]
        assert row["threshold_confirmed"] and math.isfinite(extra)
        assert selected(policy, rows, richer(budget, year, extra), c, objective="count")
        assert not selected(policy, rows, richer(budget, year, extra - 1), c, objective="count")


def test_under_an_overrun_bound_the_thresholds_hold_too():
    """A national tier (60, conferred with chance 0.5, weight 3) beside the city's own (20),
    budgets of 100 and at most a 20% chance of overrunning a year's: two nominations in a
    year would overrun with chance 25%, so the bound, not the money expected, keeps firms
    out; the confirmed thresholds still hold when solved again."""
    levels = [
        {"level": "national", "amount": 60, "conferred_by": "national"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    policy = make_policy(
        [{"id": "P", "name": "示范企业", "reference": "t", "levels": levels}], years=YEARS
    )
    scores = [91, 84, 77, 73, 66, 62, 58, 55]
    rows = [{"id": f"F{i}", "score": float(s)} for i, s in enumerate(scores)]
    budget = {2024: 100, 2025: 100}
    settings = {
        "success_probability": {"national": 0.5},
        "overrun_risk": 0.2,
        "level_weights": {"national": 3},
    }
    result = allocate_with(policy, rows, budget, confirm_cases=2, **settings)
    assert result.selected["nomination"].any()
    reasons = result.reasons.set_index("candidate_id")
    losers = reasons[(reasons["outcome"] != "selected") & reasons["threshold_confirmed"]]
    assert len(losers) == 2
    for c, row in losers.iterrows():
        needed = row["score_needed"]
        assert row["threshold_confirmed"] and math.isfinite(needed)
        assert selected(policy, scored(rows, c, needed), budget, c, **settings)
        assert not selected(policy, scored(rows, c, round(needed - 0.1, 1)), budget, c, **settings)


def test_estimates_for_everyone_and_confirmation_only_where_asked():
    """Without confirmation every candidate left out has an estimate (a score above its
    own) and every selected one a margin, all marked estimated; confirming two cases marks
    at most four rows (two each side), and the same problem gives the same figures."""
    policy, rows, budget = instance(5, n=16)
    plain = allocate_with(policy, rows, budget)
    reasons = plain.reasons.set_index("candidate_id")
    score = {r["id"]: r["score"] for r in rows}
    assert not reasons["threshold_confirmed"].any()
    losers = reasons[reasons["outcome"] != "selected"]
    assert len(losers) and all(losers["score_needed"] > [score[c] for c in losers.index])
    assert all("（估算）" in text for text in losers["reason_zh"])
    winners = reasons[reasons["outcome"] == "selected"]
    assert winners["score_margin"].notna().all()
    confirmed = allocate_with(policy, rows, budget, confirm_cases=2)
    marked = confirmed.reasons["threshold_confirmed"]
    assert 1 <= marked.sum() <= 4
    again = allocate_with(policy, rows, budget, confirm_cases=2)
    pd.testing.assert_frame_equal(confirmed.reasons, again.reasons)
    assert confirmed.to_dict()["thresholds_confirmed"] == int(marked.sum())


def test_past_the_estimate_limit_nothing_is_estimated(monkeypatch):
    """Past thresholds.ESTIMATE_LIMIT options the relaxation is not solved again: the
    threshold columns are there, empty, and the reasons say nothing of them."""
    monkeypatch.setattr(thresholds, "ESTIMATE_LIMIT", 0)
    policy, rows, budget = instance(1)
    reasons = allocate_with(policy, rows, budget).reasons
    for column in thresholds.THRESHOLD_COLUMNS:
        assert column in reasons.columns
    assert reasons[["score_needed", "extra_budget_wan", "score_margin"]].isna().all().all()
    assert not any("估算" in text for text in reasons["reason_zh"])


def test_a_score_that_cannot_help_is_said_so():
    """F1's only award (B, 80) costs more than the year's budget (60), whatever its score;
    40 more would pay it beside F0's award (A, 20), and 39 more would not."""
    policy = make_policy(
        [
            programme("A", {"municipal": 20}, eligibility=["revenue >= 5000"]),
            programme("B", {"municipal": 80}, eligibility=["revenue < 5000"]),
        ]
    )
    rows = [
        {"id": "F0", "score": 90.0, "revenue": 8000.0},
        {"id": "F1", "score": 60.0, "revenue": 1000.0},
    ]
    result = allocate_with(policy, rows, {2024: 60}, confirm_cases=2)
    row = result.reasons.set_index("candidate_id").loc["F1"]
    assert row["threshold_confirmed"]
    assert math.isinf(row["score_needed"])
    assert "评分再高也无法入选（经重新求解确认）" in row["reason_zh"]
    assert row["extra_budget_wan"] == 40 and row["extra_budget_year"] == 2024
    assert "2024年预算再增加40万元方可入选（经重新求解确认）" in row["reason_zh"]


def test_the_command_line_shows_the_closest_left_out_in_chinese():
    """The readable summary ends with the candidates left out closest to selection: what
    each needed and its reason in Chinese."""
    from rich.console import Console

    from liangye.scenarios.display import show_allocation

    policy, rows, budget = instance(2)
    result = allocate_with(policy, rows, budget)
    console = Console(record=True, width=200)
    show_allocation(console, result)
    text = console.export_text()
    assert "最接近入选的未入选候选" in text
    closest = result.reasons.dropna(subset=["score_needed"]).iloc[0]
    assert closest["candidate_id"] in text and "方可入选" in text
