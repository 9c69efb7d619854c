"""One Chinese word for each solve status and candidate outcome, defined in the model and read
by the command line, the report and the workbook alike."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import liangye.model
from liangye.model.decisions import DISCRETIONARY, ENTITLEMENT, NOMINATION
from liangye.model.explain import OUTCOMES
from liangye.model.status import STATUS_ZH, Status
from liangye.model.wording import DECISION_KIND_ZH, DECISION_ZH, OUTCOME_ZH
from liangye.results import export, report_labels
from liangye.scenarios import display


def test_every_status_has_a_word() -> None:
    missing = [status.value for status in Status if not STATUS_ZH.get(status)]
    assert not missing, f"statuses without a Chinese word in model/status.py: {missing}"
    assert set(STATUS_ZH) == set(Status)


def test_every_outcome_has_a_word() -> None:
    missing = [outcome for outcome in OUTCOMES if not OUTCOME_ZH.get(outcome)]
    assert not missing, f"outcomes without a Chinese word in model/wording.py: {missing}"
    assert set(OUTCOME_ZH) == set(OUTCOMES)  # no word for an outcome nobody produces


def test_a_status_read_back_as_plain_text_finds_its_word() -> None:
    """JSON and tables give the status as a plain string: it must find the member's entry."""
    for status in Status:
        assert STATUS_ZH.get(status.value) == STATUS_ZH[status]
        assert STATUS_ZH.get(str(status)) == STATUS_ZH[status]


def test_words_are_distinct() -> None:
    assert len(set(STATUS_ZH.values())) == len(STATUS_ZH)
    assert len(set(OUTCOME_ZH.values())) == len(OUTCOME_ZH)


def test_the_users_read_the_one_definition() -> None:
    assert report_labels.STATUS is STATUS_ZH and report_labels.OUTCOME is OUTCOME_ZH
    assert export.STATUS_ZH is STATUS_ZH and export.OUTCOME_ZH is OUTCOME_ZH
    assert display.STATUS_ZH is STATUS_ZH and display.OUTCOME_ZH is OUTCOME_ZH


def test_every_decision_kind_has_one_label_and_one_verb() -> None:
    kinds = {DISCRETIONARY, NOMINATION, ENTITLEMENT}
    assert set(DECISION_KIND_ZH) == kinds and set(DECISION_ZH) == kinds
    assert len(set(DECISION_KIND_ZH.values())) == len(kinds)
    # The report's 方式 and the workbook's 决策类型 read the same labels.
    assert report_labels.DECISION is DECISION_KIND_ZH and export.DECISION_ZH is DECISION_KIND_ZH


# What the model must never import (docs/design.md's layering).
LAYERS_ABOVE = ("liangye.results", "liangye.scenarios", "..results", "..scenarios")


def test_the_model_imports_neither_results_nor_scenarios() -> None:
    """The layering: scenarios → model / agents → results; the model stands alone."""
    package = Path(liangye.model.__file__).parent
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [("." * node.level) + (node.module or "")]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name.startswith(LAYERS_ABOVE):
                    offenders.append(f"{path.name}: {name}")
    assert not offenders, offenders


@pytest.mark.parametrize(
    ("chance", "bound", "said"),
    [
        (0.043, 0.05, "4.3%"),  # as before for the usual bounds
        (0.053, 0.05, "5.3%"),
        (0.0, 1e-6, "0.00000%"),
        (1.2e-6, 1e-6, "0.00012%"),  # was 0.0%, beside a bound of 0.0001%
        (0.2, 0.2, "20.0%"),
    ],
)
def test_a_chance_beside_its_bound_has_the_decimals_to_be_compared(chance, bound, said) -> None:
    from liangye.model.wording import percent_beside

    assert percent_beside(chance, bound) == said


def test_a_minimum_has_a_lower_bound_and_a_count_says_what_it_counts(tmp_path):
    """Review 10: min_cost's bound (3,364.93 under a plan of 3,365) was called 上界, and a
    count objective of 1,107 sat beside 入选事项数 1,151 (its 44 entitlements count nothing)."""
    from liangye.model.wording import OBJECTIVE_ZH, bound_zh

    from conftest import liangye

    assert bound_zh("min_cost") == "下界" and bound_zh("merit") == bound_zh("count") == "上界"
    assert "不含按规定应得" in OBJECTIVE_ZH["count"]
    done = liangye(
        "allocate",
        str(Path(__file__).parents[1] / "scenarios/examples/wuhan-service-manufacturing.toml"),
        "--set",
        "allocation.objective=min_cost",
        "--out",
        str(tmp_path / "run"),
    )
    said = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stderr
    assert "目标值（支出，万元）" in said and "下界" in said and "上界" not in said


def test_the_report_rounds_half_up_as_a_reader_does():
    """Review 10: 12.5 showed as 12 beside 7.5 as 8, 2,422.75 as 2,422.8 beside 2,991.25 as
    2,991.2 (Python rounds half to even, or by the binary value); -0 shows as 0."""
    from liangye.results.report_html import money, number, share

    assert [money(12.5), money(7.5), money(2.5)] == ["13", "8", "3"]
    assert [money(2422.75, 1), money(2991.25, 1), number(27.75, 1)] == [
        "2,422.8",
        "2,991.3",
        "27.8",
    ]
    assert money(-0.0) == "0" and money(-0.04, 1) == "0.0" and share(0.12345, 2) == "12.35%"
    # a percent scaled in decimal, not binary (0.0515 * 100 = 5.1499999…: review 13)
    assert share(0.0515, 1) == "5.2%" and share(0.0505, 1) == "5.1%"


def test_notes_of_one_cause_are_one_line_grouped_by_what_they_share():
    """A table without a column opened Jiaxing's answer with 30 lines of 注意 (review 15):
    notes of one cause become one line, by the column each lacks; a cause with one note
    keeps its own sentence, and notes without a cause stay as they are, in order."""
    from liangye.model.wording import Note, notes_zh_grouped

    cause = "缺列，以下{count}个项目不参与："
    notes = [
        Note("a", "A不参与（缺X）", cause, "A", "缺X"),
        Note("n", "另一件事"),
        Note("b", "B不参与（缺X）", cause, "B", "缺X"),
        Note("c", "C不参与（缺Y）", cause, "C", "缺Y"),
        Note("q", "指标一不适用", "以下{count}项指标不适用：", "指标一"),
    ]
    assert notes_zh_grouped(notes) == [
        "缺列，以下3个项目不参与：缺X：A、B；缺Y：C",
        "另一件事",
        "指标一不适用",
    ]


def test_every_setting_a_sweep_may_vary_has_a_chinese_name():
    """A simulation.start_year lever stayed an English key in the analysis's Chinese tables
    and figures (review 19): every simulation parameter a sweep may vary, and a yearly
    budget, has a Chinese name."""
    from liangye.agents.params import SimulationParameters
    from liangye.results.sweep_outcomes import factor_label

    not_varied = {"seed", "replications", "population"}  # set by the sweep itself, or a table
    unnamed = [
        k
        for k in SimulationParameters.model_fields
        if k not in not_varied and factor_label(f"simulation.{k}") == f"simulation.{k}"
    ]
    assert unnamed == []
    assert factor_label("budget.per_year.2025") == "2025年预算"
    assert factor_label("simulation.population.firms") == "企业数"
