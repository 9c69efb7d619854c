"""The run's workbook, reopened as a bureau opens it: the right sheets, programmes by their
Chinese names, every candidate's reason in Chinese with what it would have taken, and
totals equal to the JSON's."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl
import pytest

from liangye.model.allocation import allocate
from liangye.model.options import build_problem
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.wording import OUTCOME_ZH
from liangye.results.export import write_plan_xlsx
from liangye.results.store import write_json
from liangye.scenarios.runner import money_by_year, save_workbook

from conftest import make_candidates, make_policy

SHEETS = [
    "分配方案",
    "候选说明",
    "年度支出",
    "期后承诺",
    "支出与风险",
    "按分排序对比",
    "按分排序方案",
    "汇总",
]
NAMES = {"demo_award": "服务型制造示范企业", "rebate_award": "主辅分离企业"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Two years; a demonstration award the city designates (20) or nominates nationally
    (100, chance 0.5), and a spin-off award paying 10 now and 5 in each of the next two
    years (commitments after the horizon); budgets that leave firms out."""
    levels = [
        {"level": "national", "amount": 100, "conferred_by": "national"},
        {"level": "municipal", "amount": 20, "conferred_by": "municipal"},
    ]
    rebate = {
        "level": "municipal",
        "amount": 10,
        "conferred_by": "municipal",
        "payouts": [{"years_after": [1, 2], "amount": 5}],
    }
    policy = make_policy(
        [
            {"id": "demo_award", "name": NAMES["demo_award"], "reference": "t", "levels": levels},
            {
                "id": "rebate_award",
                "name": NAMES["rebate_award"],
                "reference": "t",
                "levels": [rebate],
                "eligibility": ["revenue >= 5000"],
            },
        ],
        years=[2024, 2025],
    )
    rows = [
        {"id": f"F{i}", "name": f"企业{i}", "score": float(s), "revenue": float(r)}
        for i, (s, r) in enumerate(
            [(95, 8000), (88, 3000), (81, 6000), (76, 2000), (70, 9000), (64, 1000), (58, 7000)]
        )
    ]
    problem = build_problem(
        policy,
        make_candidates(rows),
        Budget(per_year={2024: Decimal(70), 2025: Decimal(80)}),
        AllocationSettings(success_probability={"national": 0.5}, level_weights={"national": 3}),
    )
    result = allocate(problem, confirm_cases=2)
    folder = tmp_path_factory.mktemp("run")
    data = json.loads(write_json(folder / "allocation.json", result.to_dict()).read_text("utf-8"))
    # The runner's own workbook: its headline (汇总) as a run writes it.
    path = save_workbook(result, folder)
    return result, data, openpyxl.load_workbook(path)


def rows_of(sheet) -> list[dict]:
    headers = [c.value for c in sheet[1]]
    return [
        dict(zip(headers, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)
    ]


def by_label(sheet) -> dict[str, dict]:
    return {r["项目及级别"]: r for r in rows_of(sheet)}


def test_the_sheets_a_bureau_expects(run):
    _, _, book = run
    assert book.sheetnames == SHEETS
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"


def test_the_plan_names_programmes_and_levels_in_chinese(run):
    _, data, book = run
    plan = rows_of(book["分配方案"])
    assert len(plan) == len(data["selected"])
    assert {r["项目名称"] for r in plan} <= set(NAMES.values())
    assert {r["项目代码"] for r in plan} <= set(NAMES)
    assert {r["级别"] for r in plan} <= {"国家级", "市级"}
    assert {r["决策类型"] for r in plan} <= {"本级认定", "推荐申报", "应享奖励"}
    assert sum(r["当年预计支出（万元）"] for r in plan) == pytest.approx(
        sum(s["expected_amount"] for s in data["selected"])
    )
    assert sum(r["预计支出合计（含分年兑现，万元）"] for r in plan) == pytest.approx(
        sum(s["expected_total_amount"] for s in data["selected"])
    )
    # The rows add up to what the plan spends, in the horizon and after it: the rebate's
    # later instalments were on no row (review 10: 132万元 of the default's plan).
    assert any(r["本级支付合计（含分年兑现，万元）"] > r["本级当年支付（万元）"] for r in plan)
    assert sum(s["expected_total_amount"] for s in data["selected"]) == pytest.approx(
        sum(data["spend"].values()) + sum((data["commitments"] or {}).values())
    )


def test_every_candidate_has_its_reason_in_chinese_and_what_it_would_have_taken(run):
    result, _, book = run
    reasons = rows_of(book["候选说明"])
    assert [r["编号"] for r in reasons] == list(result.reasons["candidate_id"])
    headers = [c.value for c in book["候选说明"][1]]
    assert headers[:4] == ["编号", "名称", "结果", "说明"]
    assert {
        "入选所需评分",
        "入选所需增加预算（万元）",
        "评分可降低分数",
        "是否经重新求解确认",
    } <= set(headers)
    for row in reasons:
        assert row["结果"] in set(OUTCOME_ZH.values())  # the model's one word for each
        assert "demo_award" not in row["说明"] and "rebate_award" not in row["说明"]
        assert row["是否经重新求解确认"] in {"是", "否"}
    left_out = [r for r in reasons if r["结果"] != "入选"]
    assert left_out and all(r["入选所需评分"] is not None for r in left_out)
    assert any(r["是否经重新求解确认"] == "是" for r in left_out)
    assert any("方可入选" in r["说明"] for r in left_out)


def test_spend_by_year_adds_up_to_the_json_and_stands_against_the_budget(run):
    _, data, book = run
    spend = by_label(book["年度支出"])
    for year in ("2024", "2025"):
        column = f"{year}年预计支出（万元）"
        assert spend["合计"][column] == pytest.approx(data["spend"][year])
        assert spend["预算"][column] == pytest.approx(data["budget"][year])
        assert spend["结余"][column] == pytest.approx(data["budget"][year] - data["spend"][year])
        tiers = [r for label, r in spend.items() if label not in ("合计", "预算", "结余")]
        assert sum(r[column] for r in tiers) == pytest.approx(data["spend"][year])
        assert spend["合计"][f"{year}年入选数"] == sum(
            1 for s in data["selected"] if s["year"] == int(year)
        )
    assert spend["合计"]["合计（万元）"] == pytest.approx(sum(data["spend"].values()))
    assert any(label.startswith(NAMES["demo_award"]) for label in spend)


def test_commitments_after_the_horizon_equal_the_json(run):
    _, data, book = run
    assert data["commitments"], "the instance leaves payments after the horizon"
    total = by_label(book["期后承诺"])["合计"]
    for year, amount in data["commitments"].items():
        assert total[f"{year}年预计（万元）"] == pytest.approx(amount)
        assert total[f"{year}年若全部获批（万元）"] == pytest.approx(
            data["commitments_if_conferred"][year]
        )


def test_the_greedy_plan_beside_the_optimum(run):
    result, data, book = run
    total = by_label(book["按分排序对比"])["合计"]
    assert total["最优方案预计支出（万元）"] == pytest.approx(sum(data["spend"].values()))
    assert total["按分排序预计支出（万元）"] == pytest.approx(data["greedy"]["total_spend"])
    assert total["最优方案入选数"] == len(data["selected"])
    greedy_rows = rows_of(book["按分排序方案"])
    assert total["按分排序入选数"] == len(greedy_rows) == len(result.greedy_selected)
    assert {r["项目名称"] for r in greedy_rows} <= set(NAMES.values())


def test_numbers_are_numbers_with_a_bureau_format(run):
    _, _, book = run
    sheet = book["年度支出"]
    headers = [c.value for c in sheet[1]]
    column = headers.index("2024年预计支出（万元）") + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    assert all(c.data_type == "n" for c in cells if c.value is not None)
    for cell in cells:
        if isinstance(cell.value, float) and not cell.value.is_integer():
            assert cell.number_format == "#,##0.####"
        elif cell.value is not None:
            assert cell.number_format == "#,##0"  # no trailing decimal point on 3,000
    risk = book["支出与风险"]
    chance = [c.value for c in risk[1]].index("超支概率") + 1
    assert risk.cell(row=2, column=chance).number_format == "0.00%"
    summary = {r["项目"]: r["数值"] for r in rows_of(book["汇总"])}
    assert summary["状态"] == "已证明最优（在要求的间隙内）"
    # The headline's numbers are numbers too, formatted by their row's label.
    cells = {row[0].value: row[1] for row in book["汇总"].iter_rows(min_row=2)}
    objective = next(label for label in cells if str(label).startswith("目标值（"))
    assert cells[objective].data_type == "n" and cells["入选数"].data_type == "n"
    assert cells["相对间隙"].data_type == "n" and cells["相对间隙"].number_format == "0.00##%"
    money = [label for label in cells if "万元" in str(label)]
    assert money and all(cells[label].data_type == "n" for label in money)
    assert all(cells[label].number_format in ("#,##0", "#,##0.####") for label in money)


def test_old_callers_get_the_plan_and_reasons_sheets(tmp_path, run):
    """Without the extra tables (the runner's call before this change) the workbook still
    has its four sheets, names from the plan's programme_name column, Chinese reasons."""
    result, _, _ = run
    path = write_plan_xlsx(
        result.selected, result.reasons, {"状态": "optimal"}, tmp_path / "p.xlsx"
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["分配方案", "候选说明", "汇总"]
    assert {r["项目名称"] for r in rows_of(book["分配方案"])} <= set(NAMES.values())


def test_a_plan_without_proof_is_not_called_optimal_in_the_comparison(run, tmp_path):
    """最优方案 heads the comparison only for a proven plan: a plan the work limit stopped is
    本方案 there, as on the terminal, the report and the frontier figure."""
    result, _, proven = run
    assert result.status == "optimal"
    assert "最优方案入选数" in rows_of(proven["按分排序对比"])[0]
    path = write_plan_xlsx(
        result.selected,
        result.reasons,
        {"状态": "work_limit", "入选数": len(result.selected)},
        tmp_path / "plan.xlsx",
        money_by_year(result),
        result.workbook_tables(),
    )
    headers = list(rows_of(openpyxl.load_workbook(path)["按分排序对比"])[0])
    assert "本方案入选数" in headers and "本方案预计支出（万元）" in headers
    assert not any("最优" in h for h in headers)


def test_the_rank_by_score_plan_carries_its_own_instalments():
    """Review 13: the later instalments were looked up among the optimum's options, so a
    rank-by-score row the optimum did not pick showed 60 where it pays 80 in all."""
    from liangye.model.policy import policy_from_dict

    from conftest import make_candidates, solve

    pay = [{"years_after": [1, 2], "amount": 10}]
    data = {
        "id": "t",
        "title": "t",
        "years": [2024, 2024],
        "programmes": [
            {
                "id": pid,
                "name": pid,
                "reference": "t",
                "eligibility": [rule],
                "levels": [
                    {
                        "level": "municipal",
                        "amount": amt,
                        "conferred_by": "municipal",
                        "payouts": pay,
                    }
                ],
            }
            for pid, amt, rule in (("X", 60, "revenue >= 5000"), ("Y", 30, "revenue < 5000"))
        ],
    }
    rows = [
        {"id": "F0", "score": 90.0, "revenue": 9000.0},
        {"id": "F1", "score": 80.0, "revenue": 1000.0},
        {"id": "F2", "score": 80.0, "revenue": 1000.0},
    ]
    result = solve(policy_from_dict(data, "t.toml"), make_candidates(rows), {2024: 60})
    greedy = result.greedy_selected.set_index("candidate_id")
    assert "F0" not in set(result.selected["candidate_id"]) and "F0" in greedy.index
    assert float(greedy.at["F0", "total_cost"]) == 80.0
    assert all(
        float(t) == float(c) + 20
        for t, c in zip(result.selected["total_cost"], result.selected["cost"], strict=True)
    )
