"""Candidate and application tables: headers, units, encodings, and every kind of bad row."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from liangye.model.applications_table import load_applications
from liangye.model.candidates import load_candidates
from liangye.model.errors import InputError
from liangye.model.units import (
    NotFiniteError,
    parse_level,
    parse_number,
    parse_percent,
    parse_share,
)

HEADER_ZH = "编号,企业名称,类型,所在县区,所属行业,营业收入（亿元）,服务投入占比,服务收入占比,评分"
ROWS_ZH = [
    "E1,嘉兴甲有限公司,企业,南湖区,纺织,1.5,20%,0.12,85",
    "E2,嘉兴乙有限公司,enterprise,秀洲区,化工,0.3,15%,30%,78",
    "P1,嘉兴丙产业园,园区,海宁市,装备,150,0.25,0.1,80",
]


def write(path, lines: list[str], encoding: str = "utf-8") -> str:
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return str(path)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_chinese_headers_units_and_encodings(tmp_path, encoding):
    """Revenue in 亿元 becomes 万元 (1.5亿 = 15000万); percents become fractions; 企业/园区
    become enterprise/park, whatever encoding Excel used."""
    table = load_candidates(
        write(tmp_path / "c.csv", [HEADER_ZH, *ROWS_ZH], encoding), needs_score=True
    )
    assert list(table["id"]) == ["E1", "E2", "P1"]
    assert list(table["revenue"]) == [15000.0, 3000.0, 1500000.0]
    assert list(table["service_input_share"]) == [0.2, 0.15, 0.25]
    assert list(table["service_revenue_share"]) == [0.12, 0.3, 0.1]
    assert list(table["kind"]) == ["enterprise", "enterprise", "park"]
    assert table.at[0, "name"] == "嘉兴甲有限公司"


def test_the_columns_a_policy_rule_reads_are_read_under_their_chinese_names(tmp_path):
    """A note asking for 智能制造称号（smart_manufacturing） is answered by a column headed
    either way: the Chinese names of the rules' columns are headers too, with their units
    (超基数地方税收（亿元） in 万元, 原企业股权出资比例（%） as a share)."""
    header = (
        HEADER_ZH
        + ",智能制造称号,剥离设立的服务业企业,原企业股权出资比例（%）,超基数地方税收（亿元）"
    )
    rows = [row + ",省级智能工厂,是,60,0.02" for row in ROWS_ZH]
    table = load_candidates(write(tmp_path / "c.csv", [header, *rows]), needs_score=True)
    assert list(table["smart_manufacturing"]) == ["省级智能工厂"] * 3
    assert table["spun_off_service_firm"].tolist() == [True] * 3
    assert table["parent_equity_share"].tolist() == [0.6] * 3
    assert table["local_tax_above_base"].tolist() == [200.0] * 3


def test_revenue_in_yuan(tmp_path):
    lines = ["id,name,kind,district,sector,营业收入（元）,score", "A,a,企业,X,S,25000000,80"]
    assert load_candidates(write(tmp_path / "c.csv", lines))["revenue"].iloc[0] == 2500.0


def test_xlsx_is_read(tmp_path):
    frame = pd.DataFrame([r.split(",") for r in ROWS_ZH], columns=HEADER_ZH.split(","))
    path = tmp_path / "c.xlsx"
    frame.to_excel(path, index=False)
    table = load_candidates(str(path), needs_score=True)
    assert list(table["revenue"]) == [15000.0, 3000.0, 1500000.0]


def problems_of(path: str, **kwargs) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_candidates(path, **kwargs)
    return [str(p) for p in caught.value.problems]


def test_every_bad_row_is_reported_at_once(tmp_path):
    lines = [
        HEADER_ZH,
        "E1,甲,企业,南湖区,纺织,abc,20%,0.1,85",  # row 2: revenue not a number
        "E2,乙,工厂,南湖区,纺织,1,20%,0.1,85",  # row 3: unknown kind
        "E1,丙,企业,南湖区,纺织,1,20%,0.1,85",  # row 4: duplicate id
        "E4,丁,企业,南湖区,纺织,1,130%,0.1,85",  # row 5: share above 1
        "E5,戊,企业,,纺织,1,20%,30,85",  # row 6: empty district, bare 30 as a share
        "E6,己,企业,南湖区,纺织,-2,20%,0.1,85",  # row 7: negative revenue
    ]
    found = problems_of(write(tmp_path / "candidates.csv", lines), needs_score=True)
    assert "candidates.csv row 2: revenue 'abc' is not a number" in found
    assert any(p.startswith("candidates.csv row 3: kind '工厂'") for p in found)
    assert "candidates.csv row 4: id 'E1' repeats row 2" in found
    assert any(p.startswith("candidates.csv row 5: service_input_share '130%'") for p in found)
    assert "candidates.csv row 6: district is empty" in found
    assert any(p.startswith("candidates.csv row 6: service_revenue_share '30'") for p in found)
    assert any(p.startswith("candidates.csv row 7: revenue") and "negative" in p for p in found)


def test_missing_columns_are_named(tmp_path):
    found = problems_of(write(tmp_path / "c.csv", ["编号,名称", "A,a"]), needs_score=True)
    assert any("missing column 'district'" in p for p in found)
    assert any("missing column 'score'" in p for p in found)


def test_missing_empty_and_unreadable_files(tmp_path):
    assert "file not found" in problems_of(str(tmp_path / "nope.csv"))[0]
    (tmp_path / "empty.csv").write_bytes(b"")
    assert "is empty" in problems_of(str(tmp_path / "empty.csv"))[0]
    (tmp_path / "broken.xlsx").write_bytes(b"not a zip")
    assert "cannot be read" in problems_of(str(tmp_path / "broken.xlsx"))[0]


def test_applications(tmp_path):
    lines = ["企业编号,申报项目,申报级别,专家评分,年度", "E1,P,省级,88,2025", "E2,P,市级,75,"]
    apps = load_applications(write(tmp_path / "a.csv", lines))
    assert list(apps["level"]) == ["provincial", "municipal"]
    assert apps["year"].iloc[0] == 2025 and pd.isna(apps["year"].iloc[1])
    bad = [
        "candidate_id,programme,level,score",
        "E1,P,大区级,88",
        "E1,P,市级,x",
        "E2,P,市级,70",
        "E2,P,市级,71",
    ]
    with pytest.raises(InputError) as caught:
        load_applications(write(tmp_path / "bad.csv", bad))
    text = str(caught.value)
    assert "bad.csv row 2: level '大区级' is not a level" in text
    assert "bad.csv row 3: score 'x' is not a number" in text
    assert "bad.csv row 5: repeats the application of row 4" in text  # the row named


def test_units():
    assert parse_share("20%") == 0.2 and parse_share("0.35") == 0.35 and parse_share("20％") == 0.2
    with pytest.raises(ValueError):
        parse_share("30")
    assert parse_level("国家级") == parse_level("national")
    with pytest.raises(ValueError):
        parse_level("galactic")


def test_numbers_that_are_not_finite_are_refused_by_the_unit_parsers():
    for text in ("inf", "-Infinity", "nan", "1e400", "∞"):
        with pytest.raises(NotFiniteError, match="is not a finite number"):
            parse_number(text)
    with pytest.raises(NotFiniteError, match="'nan%' is not a finite number"):
        parse_share("nan%")
    assert parse_number("1,234.5") == 1234.5


def test_percents_under_a_percent_header():
    assert parse_percent("25") == 0.25 and parse_percent("25%") == 0.25 and parse_percent(7) == 0.07
    with pytest.raises(ValueError, match="not a percent between 0 and 100"):
        parse_percent("130")
    assert parse_percent("-12.5", bounded=False) == -0.125


def test_a_budget_year_outside_the_allocation_is_said_once():
    """A budget for a year the allocation does not cover is named; it is not followed by a
    second problem naming no year ("no budget for year(s) []")."""
    from decimal import Decimal

    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    from conftest import make_candidates, make_policy, programme

    policy = make_policy([programme("P", {"municipal": 20})])
    budget = Budget(per_year={2024: Decimal(60), 2030: Decimal(5)})
    with pytest.raises(InputError) as raised:
        build_problem(
            policy, make_candidates([{"id": "A", "score": 80}]), budget, AllocationSettings()
        )
    said = str(raised.value)
    assert "2030" in said and "is not one of the years [2024]" in said
    assert "no budget for year(s) []" not in said


def test_problems_in_a_table_are_said_in_chinese_too(tmp_path):
    """The common forms of problem carry a Chinese sentence beside the English (which names
    file, row and column); the command line prints it under each."""
    lines = [
        HEADER_ZH,
        "E1,甲,企业,南湖区,纺织,abc,20%,0.1,85",  # revenue not a number
        "E2,乙,工厂,南湖区,纺织,1,20%,0.1,85",  # unknown kind
        "E6,己,企业,南湖区,纺织,-2,20%,0.1,85",  # negative revenue
    ]
    with pytest.raises(InputError) as raised:
        load_candidates(str(write(tmp_path / "candidates.csv", lines)), needs_score=True)
    said = {p.where: p.zh for p in raised.value.problems}
    assert said["row 2"] == "“营业收入”一栏：“abc”不是数字"  # the column named (review 20)
    assert said["row 3"] == "类型“工厂”应为企业或园区"
    assert said["row 4"] == "“营业收入”一栏：不能为负数"


def test_years_of_one_year_and_of_three_are_read_or_refused_plainly(tmp_path):
    """``years = [2024]`` was refused as "years[1]: is required but missing"."""
    from liangye.model.errors import InputError
    from liangye.scenarios.loader import load_scenario

    one, _ = load_scenario(None, ["years=[2025]"])
    assert one.years == (2025, 2025)
    with pytest.raises(InputError) as caught:
        load_scenario(None, ["years=[2024, 2025, 2026]"])
    [problem] = caught.value.problems
    assert problem.where == "years" and "expected [FIRST, LAST]" in problem.message


def test_a_budget_year_outside_the_horizon_is_named_by_the_scenario_file_and_key():
    """It was named "budget 2027", as if "budget" were a file: now by the file that wrote
    the key, or by ``--set`` when an override gave it (it was blamed on the file then)."""
    from liangye.model.errors import InputError
    from liangye.scenarios.loader import (
        apply_overrides,
        load_scenario,
        read_toml,
        scenario_from_dict,
    )
    from liangye.scenarios.runner import scenario_problem

    given = ["simulation.population.firms=50", "budget.per_year.2027=100"]
    scenario, base = load_scenario(None, given)
    with pytest.raises(InputError) as caught:
        scenario_problem(scenario, base)
    named = [(p.source, p.where) for p in caught.value.problems]
    assert ("--set", "budget.per_year.2027") in named, named

    # The same key written in a file of the user's own is that file's.
    data = apply_overrides(read_toml(base / "default.toml"), given)
    written = scenario_from_dict(data, "mine.toml")
    with pytest.raises(InputError) as caught:
        scenario_problem(written, base)
    named = [(p.source, p.where) for p in caught.value.problems]
    assert ("mine.toml", "budget.per_year.2027") in named, named


def test_set_none_removes_a_key_and_quoted_none_is_text():
    """The default's overrun bound could only be dropped by copying the file: --set
    allocation.overrun_risk=none removes it; "none" quoted stays the text."""
    from liangye.scenarios.loader import apply_overrides, load_scenario

    scenario, _ = load_scenario(None, ["allocation.overrun_risk=none"])
    assert scenario.allocation.overrun_risk is None
    assert load_scenario(None, [])[0].allocation.overrun_risk == 0.05
    data = apply_overrides({"a": {"b": 1}}, ["a.b=none", "a.c=none", 'a.d="none"'])
    assert data == {"a": {"d": "none"}}


WUHAN = "scenarios/policies/wuhan-service-manufacturing.toml"
DEMO_NAME = "服务型制造示范企业（平台、项目）"


def _wuhan_tables(tmp_path, held: str, programme: str) -> tuple[str, str]:
    firms = write(
        tmp_path / "firms.csv",
        [
            "编号,企业名称,类型,所在县区,所属行业,已获认定",
            f"F01,甲,企业,江岸区,装备制造,{held}",
            "F02,乙,企业,江汉区,电子信息,",
        ],
    )
    apps = write(
        tmp_path / "apps.csv",
        [
            "编号,项目,级别,评分,年份",
            f"F01,{programme},省级,85,2024",
            "F02,nosuch_programme,省级,80,2025",
            "F09,service_manufacturing_demo,市级,80,2025",
        ],
    )
    return firms, apps


def test_validate_says_the_candidates_and_the_applications_problems_at_once(tmp_path):
    """A held designation no programme has and two bad applications: all three are said in
    one pass (the applications' used to wait until the held cell was fixed)."""
    from conftest import liangye

    firms, apps = _wuhan_tables(tmp_path, "nosuch:市级", "service_manufacturing_demo")
    done = liangye("validate", WUHAN, firms, apps)
    assert done.returncode == 2
    said = " ".join(done.stdout.split() + done.stderr.split())
    assert "held 'nosuch:municipal'" in said
    assert "'nosuch_programme' is not in policy" in said
    assert "F09" in said


def test_a_programme_may_be_named_by_its_chinese_name_in_held_and_applications(tmp_path):
    """`policy show` names programmes in Chinese: a held cell and an application naming the
    programme so are read as its id, the same options as with the id."""
    from liangye.model.options import build_problem
    from liangye.model.policy import load_policy
    from liangye.model.settings import AllocationSettings, Budget

    policy = load_policy(WUHAN)
    settings = AllocationSettings(success_probability={"national": 0.3, "provincial": 0.5})
    problems = []
    for held, programme in [
        ("service_manufacturing_demo:市级", "service_manufacturing_demo"),
        (f"{DEMO_NAME}:市级", DEMO_NAME),
    ]:
        folder = tmp_path / str(len(problems))
        folder.mkdir()
        firms, _ = _wuhan_tables(folder, held, programme)
        apps_lines = (folder / "apps.csv").read_text(encoding="utf-8").splitlines()[:2]
        (folder / "apps.csv").write_text("\n".join(apps_lines) + "\n", encoding="utf-8")
        problems.append(
            build_problem(
                policy,
                load_candidates(firms),
                Budget(),
                settings=settings,
                applications=load_applications(str(folder / "apps.csv")),
            )
        )
    by_id, by_name = (p.options[["candidate", "programme", "level", "year"]] for p in problems)
    assert len(by_id) > 0
    assert by_id.equals(by_name)


def test_the_bundled_sample_table_allocates_under_wuhans_policy():
    """The README's first own-table command: the sample table with Chinese headers (the
    units, percents and a held designation) gives an optimal plan."""
    from conftest import liangye

    done = liangye(
        "allocate",
        "--policy",
        "wuhan-service-manufacturing",
        "--candidates",
        str(Path(__file__).parent.parent / "scenarios" / "examples" / "candidates-sample.csv"),
        "--years",
        "2024-2025",
        "--budget",
        "300",
        "--chance",
        "national=0.3",
        "--chance",
        "provincial=0.5",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "optimal" and answer["candidates"] == 30


def test_validate_says_what_allocate_notes_of_the_problem():
    """Jiangsu's balance rules are recorded, not enforced (the document gives no number):
    allocate said so, validate said nothing."""
    from conftest import liangye

    scenario = Path(__file__).parents[1] / "scenarios/examples/jiangsu-pilots-batch3.toml"
    done = liangye("validate", str(scenario))
    said = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stderr
    assert "没有问题" in said and "只作记录、不作约束" in said


def test_full_width_digits_are_read_as_the_digits_they_are():
    """２４．８ (typed with a Chinese input method) was "not a number" while a full-width ％
    was read: the same digits now read alike, in numbers, shares and scores."""
    from liangye.model.candidates import parse_score
    from liangye.model.units import parse_number, parse_share

    assert parse_number("９９８３６．３") == 99836.3
    assert parse_number("１，２３４") == 1234.0
    assert parse_share("２４．８％") == pytest.approx(0.248)
    assert parse_score("８５．５") == 85.5
    with pytest.raises(ValueError):
        parse_number("约一亿")


def test_only_full_width_forms_are_read_as_digits():
    """Superscripts and circled numbers are not digits of the cell's number: a footnote
    marker in 54225¹ read as 542251 when every compatibility form was folded (review 21)."""
    from liangye.model.units import parse_number

    for cell in ("54225¹", "2²", "①", "⑩"):
        with pytest.raises(ValueError):
            parse_number(cell)
    assert parse_number("　１２　") == 12.0
