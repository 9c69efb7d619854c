"""The command line on decisions and risk: a scenario file for `allocate`, conferral chances
and the overrun bound from flags, and every mistake in them refused by name."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest

from conftest import liangye

POLICY = """
id = "mini"
title = "测试政策"
years = [2024, 2025]
upgrade = "top_up"

[[programmes]]
id = "demo"
name = "示范企业"
reference = "一"
levels = [
  { level = "national", amount = 150, conferred_by = "national" },
  { level = "provincial", amount = 50, conferred_by = "provincial" },
  { level = "municipal", amount = 20 },
]

[[programmes]]
id = "prize"
name = "设计奖"
reference = "二"
decision = "entitlement"
decision_reference = "二: 对获奖企业给予奖励"
applicants = "prize_winner"
levels = [
  { level = "provincial", amount = 40, conferred_by = "provincial", payouts = [{ years_after = [1], amount = 10 }] },
]
"""

FIRMS = "编号,企业名称,类型,所在县区,所属行业,评分,prize_winner\n" + "\n".join(
    f"F{i},企业{i},企业,南湖区,纺织,{60 + 3 * i},{'是' if i < 2 else '否'}" for i in range(8)
)


@pytest.fixture
def scenario(tmp_path) -> Path:
    (tmp_path / "mini.toml").write_text(POLICY, encoding="utf-8")
    (tmp_path / "firms.csv").write_text(FIRMS + "\n", encoding="utf-8")
    path = tmp_path / "scenario.toml"
    path.write_text(
        """
id = "mini-scenario"
policy = "mini.toml"
[budget]
per_year = { 2024 = 200, 2025 = 200 }
[candidates]
file = "firms.csv"
[allocation]
level_weights = { national = 3, provincial = 2, municipal = 1 }
success_probability = { national = 0.3, provincial = 0.5 }
overrun_risk = 0.1
""",
        encoding="utf-8",
    )
    return path


def test_allocate_takes_a_scenario_and_reports_the_risk_of_its_plan(scenario):
    done = liangye("allocate", str(scenario), "--json")
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["overrun_risk"] == 0.1
    for year in ("2024", "2025"):
        assert answer["overrun_probability"][year] <= 0.1
        assert answer["spend_p95"][year] >= answer["spend"][year] - 1e-9
    assert 0 <= answer["overrun_probability"]["any_year"] <= 1
    kinds = {(s["programme"], s["decision"]) for s in answer["selected"]}
    assert ("prize", "entitlement") in kinds  # both prize winners are paid, whatever else
    prizes = [s for s in answer["selected"] if s["programme"] == "prize"]
    assert len(prizes) == 2 and all(s["probability"] == 0.5 for s in prizes)
    # 2025's prize instalments fall after the horizon only for awards made in 2025; the
    # 2024 prizes pay their 10 in 2025, inside the horizon: no commitments after it here.
    assert all(s["payments"] == {"2024": 40.0, "2025": 10.0} for s in prizes)
    assert answer["commitments"] == {}


def test_flags_override_the_scenario_chances_and_bound(scenario):
    done = liangye(
        "allocate", str(scenario), "--chance", "省级=0.9", "--overrun-risk", "0.45", "--json"
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["overrun_risk"] == 0.45
    provincial = [s for s in answer["selected"] if s["level"] == "provincial"]
    assert provincial and all(s["probability"] == 0.9 for s in provincial)


def test_the_readable_summary_shows_the_risk(scenario, tmp_path):
    done = liangye("allocate", str(scenario), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "超支概率（每年不超过 10%）" in done.stdout
    assert "95%分位支出" in done.stdout and "超支概率" in done.stdout
    # The workbook's 汇总 shows the bound, the gap and the chances as percents: numbers a
    # bureau can compute with, in a percent format (raw fractions such as 0.042835 once,
    # then text such as "4.28%").
    book = openpyxl.load_workbook(tmp_path / "out" / "plan.xlsx")
    cells = {row[0].value: row[1] for row in book["汇总"].iter_rows(min_row=2)}
    assert cells["超支概率上限"].value == 0.1
    shown = [cells["超支概率上限"], cells["相对间隙"]]
    shown += [cell for label, cell in cells.items() if str(label).endswith("超支概率")]
    assert len(shown) > 2
    assert all(c.data_type == "n" and c.number_format.endswith("%") for c in shown)


@pytest.mark.parametrize(
    ("flags", "named", "expected"),
    [
        (("--overrun-risk", "1.5"), "--overrun-risk", "strictly between 0 and 1"),
        (("--overrun-risk", "0"), "--overrun-risk", "strictly between 0 and 1"),
        (("--chance", "national"), "--chance", "LEVEL=P"),
        (("--chance", "national=1.2"), "--chance", "LEVEL=P"),
        (("--chance", "galactic=0.3"), "--chance", "LEVEL=P"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(scenario, flags, named, expected):
    done = liangye("allocate", str(scenario), *flags)
    assert done.returncode == 2
    assert named in done.stderr and expected in done.stderr
    assert "Traceback" not in done.stderr


def test_a_nomination_without_a_chance_exits_2_naming_the_key(tmp_path, scenario):
    text = scenario.read_text(encoding="utf-8").replace(
        "success_probability = { national = 0.3, provincial = 0.5 }", ""
    )
    scenario.write_text(text, encoding="utf-8")
    done = liangye("allocate", str(scenario))
    assert done.returncode == 2
    assert "success_probability.national" in done.stderr
    assert "--chance national=P" in done.stderr


def test_an_unknown_decision_kind_exits_2_naming_file_and_key(tmp_path, scenario):
    policy = tmp_path / "mini.toml"
    policy.write_text(
        POLICY.replace('decision = "entitlement"', 'decision = "automatic"'), encoding="utf-8"
    )
    done = liangye("allocate", str(scenario))
    assert done.returncode == 2
    assert "mini.toml programmes[1].decision" in done.stderr
    assert "entitlement" in done.stderr


def test_obligations_too_risky_exit_3_with_their_chance(scenario):
    """Two prize winners entitled to 40 each with chance 0.5 in 2024, budget 60: both come
    with chance 0.25, above a bound of 0.2, and the city cannot decline them."""
    done = liangye(
        "allocate",
        str(scenario),
        "--set",
        "budget.2024=60",
        "--overrun-risk",
        "0.2",
        "--json",
    )
    assert done.returncode == 3, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "infeasible"
    assert any(
        "obligations alone overrun" in line and "25.0000%" in line for line in answer["diagnosis"]
    )


def test_obligations_beyond_the_budget_exit_3_saying_by_how_much(scenario):
    done = liangye("allocate", str(scenario), "--set", "budget.2024=30", "--json")
    assert done.returncode == 3
    (line,) = json.loads(done.stdout)["diagnosis"]
    assert "2024" in line and "40万元" in line and "over by 10万元" in line and "F0 prize" in line


def test_a_scenario_and_a_policy_flag_together_are_refused(scenario):
    done = liangye("allocate", str(scenario), "--policy", "jiaxing-2024-2026")
    assert done.returncode == 2 and "--policy" in done.stderr


def test_a_plan_not_proven_optimal_is_not_called_the_optimum(tmp_path):
    """The money table headed the plan 最优方案 whatever its status; a plan at the work
    limit (no proof) is 本方案, and 最优方案 is kept for a proven one."""
    from liangye.model.status import Status, plan_name_zh

    assert plan_name_zh(Status.OPTIMAL) == "最优方案"
    assert {plan_name_zh(s) for s in Status if s != Status.OPTIMAL} == {"本方案"}
    done = liangye("allocate", "default", "--json")
    assert done.returncode == 0, done.stderr
    status = json.loads(done.stdout)["status"]
    shown = liangye("allocate", "default")
    header = " ".join(shown.stdout.split())
    assert ("最优方案" in header) == (status == "optimal"), status
    assert plan_name_zh(status) in header
    # The expected-cost plan beside it is solved to a looser gap: named a plan, never a bound.
    price = header[header.index("控制超支风险的代价") :].split("）")[0]
    assert "非精确值" in price and "上界" not in price, price
