"""The eligibility rule language: what parses, what it means, and that it never runs code."""

from __future__ import annotations

import pandas as pd
import pytest

from liangye.model.expressions import RuleSyntaxError, parse_rule

TABLE = pd.DataFrame(
    {
        "revenue": [3000.0, 1000.0, None, 60000.0],
        "service_input_share": [0.25, 0.1, 0.3, 0.19],
        "sector": ["批发", "纺织", "纺织", "零售"],
        "market_share_rank": [7, 3, None, 1],
        "has_service_platform": ["是", "否", True, None],
    }
)


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("revenue >= 2000", [True, False, False, True]),
        ("revenue >= 5亿", [False, False, False, True]),
        ("service_input_share >= 20%", [True, False, True, False]),
        ("revenue >= 8亿 or market_share_rank <= 5", [False, True, False, True]),
        ("revenue >= 2000 and service_input_share >= 0.2", [True, False, False, False]),
        ("sector in ['批发', '零售']", [True, False, False, True]),
        ("sector not in ['批发', '零售']", [False, True, True, False]),
        ("not revenue < 2000", [True, False, False, True]),  # missing stays false under not
        ("has_service_platform", [True, False, True, False]),
        ("revenue * service_input_share >= 600", [True, False, False, True]),
        (
            "(revenue >= 2000 or sector == '纺织') and not market_share_rank > 5",
            [False, True, False, True],
        ),
    ],
)
def test_rules_evaluate_over_a_table(rule, expected):
    assert parse_rule(rule).holds(TABLE).tolist() == expected


def test_columns_read_by_a_rule():
    assert parse_rule("revenue >= 8亿 or market_share_rank <= 5").columns == {
        "revenue",
        "market_share_rank",
    }


@pytest.mark.parametrize(
    "rule",
    [
        "revenue >=",
        "revenue >= 2000 and",
        "__import__('os').system('true')",
        "revenue >= 2000)",
        "a @ b",
        "",
        "sector in [revenue]",
        "open('x')",
    ],
)
def test_bad_rules_are_refused(rule):
    with pytest.raises(RuleSyntaxError):
        parse_rule(rule)


def test_a_division_by_a_zero_cell_meets_no_comparison():
    """The infinity of revenue / 0 made every such row meet ``> 1`` (fuzzing)."""
    table = pd.DataFrame({"revenue": [10.0, 5.0, None], "employees": [0, 5, 2]})
    assert parse_rule("revenue / employees >= 1").holds(table).tolist() == [False, True, False]
    assert parse_rule("revenue / employees < 1").holds(table).tolist() == [False, False, False]


def test_a_division_by_the_number_zero_is_refused_as_written():
    with pytest.raises(RuleSyntaxError, match="divides by zero"):
        parse_rule("revenue / 0 > 1")


def test_conditions_are_the_columns_a_rule_reads_on_their_own():
    """Only a column standing alone under and/or/not is a yes/no condition; one inside a
    comparison, a sum or a membership test is read for its value."""
    rule = parse_rule("design_prize and revenue > 2000 or not (is_new or x + y > 1)")
    assert rule.conditions == {"design_prize", "is_new"}
    assert parse_rule("'省级智能工厂' in smart_manufacturing").conditions == set()
    assert parse_rule("has_platform").conditions == {"has_platform"}
