"""Bad candidate and application tables: each case refused with its file, row and column, or
read one defensible way with a warning saying which (issue 13)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from liangye.model.applications_table import load_applications
from liangye.model.candidates import load_candidates, parse_score
from liangye.model.errors import InputError

HEADER = "id,name,kind,district,sector,revenue,score"
GOOD = "A,甲,企业,南湖区,纺织,3000,80"


def csv_file(path: Path, lines: list[str]) -> str:
    """Write ``lines`` as a UTF-8 CSV and return its path."""
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def xlsx_file(path: Path, sheets: dict[str, dict[str, object]]) -> str:
    """Write a workbook whose sheets hold {cell: value} (e.g. {"A1": "id"}); return its path."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, cells in sheets.items():
        sheet = book.create_sheet(title)
        for coordinate, value in cells.items():
            sheet[coordinate] = value
    book.save(path)
    return str(path)


def rows_of(header: str, *rows: str, first: int = 1) -> dict[str, object]:
    """Cells for a header at row ``first`` and the given rows below it (comma-separated)."""
    cells: dict[str, object] = {}
    for offset, line in enumerate([header, *rows]):
        for column, value in enumerate(line.split(",")):
            if value != "":
                cells[f"{chr(ord('A') + column)}{first + offset}"] = value
    return cells


def problems(load, path: str, **kwargs: object) -> list[str]:
    """The problems ``load`` raises for ``path``, as the user sees them."""
    with pytest.raises(InputError) as caught:
        load(path, **kwargs)
    return [str(p) for p in caught.value.problems]


# Numbers that are not finite, or not plausible -------------------------------------------


@pytest.mark.parametrize("text", ["inf", "-inf", "nan", "NaN", "Infinity", "1e400", "∞"])
def test_a_score_that_is_not_finite_is_refused(tmp_path, text):
    path = csv_file(
        tmp_path / "candidates.csv", [HEADER, GOOD, f"B,乙,企业,南湖区,纺织,3000,{text}"]
    )
    assert problems(load_candidates, path, needs_score=True) == [
        f"candidates.csv row 3: score '{text}' is not a finite number"
    ]


def test_a_revenue_of_inf_is_refused(tmp_path):
    path = csv_file(tmp_path / "candidates.csv", [HEADER, "B,乙,企业,南湖区,纺织,inf,80"])
    assert problems(load_candidates, path) == [
        "candidates.csv row 2: revenue 'inf' is not a finite number"
    ]


def test_a_share_of_nan_is_refused(tmp_path):
    lines = ["id,name,kind,district,sector,service_input_share", "B,乙,企业,南湖区,纺织,nan%"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 2: service_input_share 'nan%' is not a finite number"
    ]


def test_an_extra_numeric_column_with_inf_is_refused(tmp_path):
    lines = [
        "id,name,kind,district,sector,研发投入（万元）",
        "A,甲,企业,南湖区,纺织,300",
        "B,乙,企业,南湖区,纺织,-inf",
    ]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 3: 研发投入 '-inf' is not a finite number"
    ]


def test_an_extra_column_of_numbers_with_nan_is_refused(tmp_path):
    lines = ["id,name,kind,district,sector,patents", "A,甲,企业,南湖区,纺织,3", "B,乙,企业,X,S,NaN"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 3: patents 'NaN' is not a finite number"
    ]


def test_a_nan_text_cell_in_a_workbook_is_refused_not_read_as_empty(tmp_path):
    cells = rows_of(HEADER, GOOD, "B,乙,企业,南湖区,纺织,3000,NaN")
    path = xlsx_file(tmp_path / "c.xlsx", {"名单": cells})
    assert problems(load_candidates, path, needs_score=True) == [
        "c.xlsx row 3: score 'NaN' is not a finite number"
    ]


def test_an_application_score_of_nan_is_refused(tmp_path):
    lines = ["candidate_id,programme,level,score", "A,P,省级,88", "B,P,省级,nan"]
    assert problems(load_applications, csv_file(tmp_path / "a.csv", lines)) == [
        "a.csv row 3: score 'nan' is not a finite number"
    ]


def test_a_negative_score_is_refused(tmp_path):
    path = csv_file(tmp_path / "c.csv", [HEADER, "B,乙,企业,南湖区,纺织,3000,-5"])
    assert problems(load_candidates, path, needs_score=True) == [
        "c.csv row 2: score '-5' is negative: expected a number ≥ 0"
    ]


def test_a_negative_application_score_is_refused(tmp_path):
    lines = ["candidate_id,programme,level,score", "A,P,省级,-0.5"]
    assert problems(load_applications, csv_file(tmp_path / "a.csv", lines)) == [
        "a.csv row 2: score '-0.5' is negative: expected a number ≥ 0"
    ]


@pytest.mark.parametrize("score", ["1e15", "1e300", "100001"])
def test_a_score_no_panel_gives_is_refused(tmp_path, score):
    """Scores far past any panel's points (a unit or typing mistake) stopped the solver:
    1e15 ran past every budget of work, 1e300 ended in a solver error."""
    lines = ["candidate_id,programme,level,score", "A,P,省级,88", f"B,P,省级,{score}"]
    assert problems(load_applications, csv_file(tmp_path / "a.csv", lines)) == [
        f"a.csv row 3: score '{score}' is above the largest score, 100,000: expected a "
        "panel's points (e.g. 0-100)"
    ]
    path = csv_file(tmp_path / "c.csv", [HEADER, f"B,乙,企业,南湖区,纺织,3000,{score}"])
    with pytest.raises(InputError) as raised:
        load_candidates(path, needs_score=True)
    assert "超过评分上限 100,000" in raised.value.problems[0].chinese


def test_the_largest_score_is_read():
    assert parse_score("100000") == 100_000.0


def test_revenues_that_look_like_yuan_under_a_bare_header_are_warned_about(tmp_path):
    lines = [HEADER, "A,甲,企业,X,S,250000000,80", "B,乙,企业,X,S,380000000,70"]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["revenue"].tolist() == [250000000.0, 380000000.0]  # read as stated: 万元
    [warning] = table.attrs["warnings"]
    assert warning.startswith("c.csv: revenue has no unit in its header, so it was read as 万元")
    assert "营业收入（元）" in warning


# Headers ---------------------------------------------------------------------------------


def test_two_headers_for_one_column_are_refused_naming_both(tmp_path):
    lines = ["id,name,kind,district,sector,score,评分", "A,甲,企业,X,S,80,90"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv header: columns 'score' (F) and '评分' (G) both mean 'score': keep one of them"
    ]


def test_the_same_header_twice_is_refused_naming_both(tmp_path):
    lines = ["id,name,kind,district,sector,score,score", "A,甲,企业,X,S,80,90"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv header: columns 'score' (F) and 'score' (G) both mean 'score': keep one of them"
    ]


def test_a_repeated_column_is_named_by_its_letter_past_an_empty_one(tmp_path):
    lines = ["id,name,kind,district,sector,,score,评分", "A,甲,企业,X,S,,80,90"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv header: columns 'score' (G) and '评分' (H) both mean 'score': keep one of them"
    ]


def test_an_unfound_header_says_which_row_and_sheet_were_read(tmp_path):
    cells = {"A1": "填表说明", "A2": "请按模板填写"}
    path = xlsx_file(tmp_path / "c.xlsx", {"说明": cells})
    found = problems(load_candidates, path)
    assert found[0] == (
        "c.xlsx header: no row of any sheet names two known columns, so row 1 of sheet '说明' "
        "was taken as the header: '填表说明'"
    )
    assert "c.xlsx header: missing column 'id' (id / 编号 / 企业编号 / 候选编号)" in found


def test_a_semicolon_separated_file_is_named_as_such(tmp_path):
    lines = ["id;name;kind;district;sector", "A;甲;企业;X;S"]
    found = problems(load_candidates, csv_file(tmp_path / "c.csv", lines))
    assert found[0] == (
        "c.csv header: no row of the file names two known columns, so row 1 was taken as the "
        "header: 'id;name;kind;district;sector' (the cells are separated by ';': save the file "
        "as comma-separated CSV)"
    )


def test_a_title_row_above_the_header_is_skipped_with_a_warning(tmp_path):
    lines = ["嘉兴市2024年申报企业名单,,,,,,", HEADER, GOOD]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["id"].tolist() == ["A"] and table["row"].tolist() == ["row 3"]
    assert table.attrs["warnings"] == [
        "c.csv: row 2 was read as the header; row 1 above it was skipped ('嘉兴市2024年申报企业名单')"
    ]


def test_a_column_without_a_header_is_left_out_with_a_warning(tmp_path):
    lines = ["id,name,kind,district,sector,,score", "A,甲,企业,X,S,备注,80"]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert "备注" not in table.to_numpy().ravel().tolist()
    assert table.attrs["warnings"] == [
        "c.csv: column F has no header, so its cells were not read (row 2: '备注')"
    ]


def test_workbook_cells_right_of_the_header_are_left_out_with_a_warning(tmp_path):
    cells = rows_of(HEADER, GOOD + ",备注")
    table = load_candidates(xlsx_file(tmp_path / "c.xlsx", {"名单": cells}))
    assert table["id"].tolist() == ["A"]
    assert table.attrs["warnings"] == [
        "c.xlsx: column H has no header, so its cells were not read (row 2: '备注')"
    ]


# Sheets and cells of a workbook ------------------------------------------------------------


def test_data_over_two_sheets_reads_the_first_and_names_the_other(tmp_path):
    first = rows_of(HEADER, GOOD, "B,乙,企业,X,S,3000,70")
    second = rows_of(HEADER, "C,丙,企业,X,S,3000,60")
    path = xlsx_file(tmp_path / "c.xlsx", {"2024上": first, "2024下": second})
    table = load_candidates(path)
    assert table["id"].tolist() == ["A", "B"]
    assert table.attrs["warnings"] == [
        "c.xlsx: read sheet '2024上' only; sheet '2024下' also has a header row and 1 data row, "
        "which were not read: put all the rows on one sheet"
    ]


def test_a_notes_sheet_first_is_passed_over_for_the_sheet_with_the_header(tmp_path):
    notes = {"A1": "填表说明", "A2": "金额单位：万元"}
    path = xlsx_file(tmp_path / "c.xlsx", {"说明": notes, "名单": rows_of(HEADER, GOOD)})
    table = load_candidates(path)
    assert table["id"].tolist() == ["A"] and table["row"].tolist() == ["row 2"]
    assert table.attrs["warnings"] == [
        "c.xlsx: read sheet '名单' only; sheet '说明' has no header row and was not read"
    ]


def test_a_formula_without_a_saved_value_is_refused_naming_the_cell(tmp_path):
    cells = rows_of(HEADER, GOOD, "B,乙,企业,X,S,3000,")
    cells["G3"] = "=AVERAGE(G1:G2)"  # openpyxl saves the formula, never its value
    path = xlsx_file(tmp_path / "c.xlsx", {"名单": cells})
    assert problems(load_candidates, path, needs_score=True) == [
        "c.xlsx row 3: score (cell 名单!G3) is a formula with no saved value "
        "('=AVERAGE(G1:G2)'): open the file in Excel and save it, or paste the values"
    ]


# Yes/no columns ----------------------------------------------------------------------------

YES = ["Yes", "Y", "y", "√", "✓", "是", "true", "1"]
NO = ["No", "N", "×", "否", "false", "0", ""]


def test_yes_no_words_are_read_as_yes_and_no(tmp_path):
    lines = ["id,name,kind,district,sector,有公共服务平台"]
    lines += [f"{i},n,园区,X,S,{word}" for i, word in enumerate(YES + NO)]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["has_service_platform"].tolist() == [True] * len(YES) + [False] * len(NO)


def test_a_yes_no_workbook_cell_holding_true_or_1_is_yes(tmp_path):
    cells = rows_of(
        "id,name,kind,district,sector,has_service_platform", "A,a,园区,X,S", "B,b,园区,X,S"
    )
    cells.update({"F2": True, "F3": 0})
    table = load_candidates(xlsx_file(tmp_path / "c.xlsx", {"名单": cells}))
    assert table["has_service_platform"].dtype == bool
    assert table["has_service_platform"].tolist() == [True, False]


def test_anything_else_in_a_yes_no_column_is_refused_naming_row_and_column(tmp_path):
    lines = [
        "id,name,kind,district,sector,has_service_platform",
        "A,a,园区,X,S,是",
        "B,b,园区,X,S,maybe",
    ]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 3: has_service_platform 'maybe' is not yes or no (是/否, Y/N, √/×, 1/0)"
    ]


def test_an_extra_column_of_yes_no_words_becomes_yes_and_no(tmp_path):
    lines = ["id,name,kind,district,sector,是否高新", "A,a,企业,X,S,√", "B,b,企业,X,S,"]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["是否高新"].tolist() == [True, False]


def test_an_extra_yes_no_column_with_another_word_is_refused(tmp_path):
    lines = ["id,name,kind,district,sector,是否高新", "A,a,企业,X,S,是", "B,b,企业,X,S,待定"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 3: 是否高新 '待定' is not yes or no (是/否, Y/N, √/×, 1/0)"
    ]


# Row numbers as the spreadsheet shows them -------------------------------------------------


def test_csv_rows_count_blank_lines_above_and_inside(tmp_path):
    lines = ["", "", HEADER, GOOD, "", "B,乙,工厂,X,S,3000,80"]
    found = problems(load_candidates, csv_file(tmp_path / "c.csv", lines))
    assert found == ["c.csv row 6: kind '工厂' is not enterprise/park (企业/园区)"]


def test_csv_rows_count_a_quoted_cell_over_two_lines_as_one_row(tmp_path):
    lines = [HEADER, 'A,"甲\n有限公司",企业,X,S,3000,80', "B,乙,工厂,X,S,3000,80"]
    found = problems(load_candidates, csv_file(tmp_path / "c.csv", lines))
    assert found == ["c.csv row 3: kind '工厂' is not enterprise/park (企业/园区)"]


def test_xlsx_rows_count_blank_rows_above_and_inside(tmp_path):
    cells = rows_of(HEADER, GOOD, "", "", "B,乙,企业,X,S,abc,80", first=3)
    found = problems(load_candidates, xlsx_file(tmp_path / "c.xlsx", {"名单": cells}))
    assert found == ["c.xlsx row 7: revenue 'abc' is not a number"]


def test_the_row_column_and_repeats_name_spreadsheet_rows(tmp_path):
    lines = ["", HEADER, GOOD, "", "A,乙,企业,X,S,3000,80"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 5: id 'A' repeats row 3"
    ]
    table = load_candidates(
        csv_file(tmp_path / "d.csv", ["", HEADER, GOOD, "", GOOD.replace("A", "B")])
    )
    assert table["row"].tolist() == ["row 3", "row 5"]


def test_application_rows_count_blank_rows(tmp_path):
    lines = ["", "candidate_id,programme,level,score", "A,P,省级,88", "", "B,P,大区级,70"]
    found = problems(load_applications, csv_file(tmp_path / "a.csv", lines))
    assert len(found) == 1 and found[0].startswith("a.csv row 5: level '大区级' is not a level")


def test_a_row_longer_than_the_header_is_refused(tmp_path):
    lines = [HEADER, GOOD + ",多余"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 2: has 8 cells but the header names 7 (cell H: '多余')"
    ]


# Percent columns ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header", ["服务投入占比（%）", "服务投入占比(%)", "service_input_share (%)"]
)
def test_a_percent_header_reads_bare_numbers_as_percents(tmp_path, header):
    lines = [f"id,name,kind,district,sector,{header}", "A,a,企业,X,S,25", "B,b,企业,X,S,7.5%"]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["service_input_share"].tolist() == [0.25, 0.075]


def test_a_percent_above_100_is_refused(tmp_path):
    lines = ["id,name,kind,district,sector,服务投入占比（%）", "A,a,企业,X,S,125"]
    assert problems(load_candidates, csv_file(tmp_path / "c.csv", lines)) == [
        "c.csv row 2: service_input_share '125' is not a percent between 0 and 100"
    ]


def test_fractions_under_a_percent_header_are_warned_about(tmp_path):
    lines = [
        "id,name,kind,district,sector,服务投入占比（%）",
        "A,a,企业,X,S,0.25",
        "B,b,企业,X,S,0.3",
    ]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    assert table["service_input_share"].tolist() == [0.0025, 0.003]
    assert table.attrs["warnings"] == [
        "c.csv: every value under '服务投入占比（%）' is at most 1, read as percents "
        "(0.25 means 0.25%); if they are fractions, remove '（%）' from the header"
    ]


def test_problems_are_listed_row_by_row_as_a_person_fixes_them(tmp_path):
    """Checks run column by column; the list reads top to bottom (a row's problems together)."""
    lines = [HEADER, GOOD, "A,乙,企业,X,S,abc,80", "C,丙,工厂,X,S,3000,80", "D,丁,企业,X,S,xyz,80"]
    found = problems(load_candidates, csv_file(tmp_path / "c.csv", lines))
    rows = [p.split(":")[0] for p in found]
    assert rows == ["c.csv row 3", "c.csv row 3", "c.csv row 4", "c.csv row 5"], found


def _design_prize_plan(tmp_path: Path, cells: list[str]):
    """Allocate a one-programme policy whose only rule is the bare condition ``design_prize``
    over candidates A, B, ... carrying ``cells`` in that column (an entitlement of 50)."""
    from conftest import make_policy, programme, solve

    lines = [HEADER + ",design_prize"]
    lines += [
        f"{chr(65 + i)},甲{i},企业,南湖区,纺织,3000,80,{cell}" for i, cell in enumerate(cells)
    ]
    table = load_candidates(csv_file(tmp_path / "c.csv", lines))
    policy = make_policy([programme("P", {"municipal": 50}, eligibility=["design_prize"])])
    return solve(policy, table, {2024: 1000})


def test_a_bare_condition_reads_every_yes_word_even_beside_a_stray_cell_refused(tmp_path):
    """A column a rule uses as a condition on its own must hold yes/no cells: Y and √ are
    yes wherever they are (they were read as no once a column held one stray word, and an
    award owed was silently dropped), and a cell like 'x' is refused naming its row."""
    result = _design_prize_plan(tmp_path, ["是", "Y", "√", "否", ""])
    assert {row.candidate_id for row in result.selected.itertuples()} == {"A", "B", "C"}

    with pytest.raises(InputError) as caught:
        _design_prize_plan(tmp_path, ["是", "Y", "x", "否"])
    problems = caught.value.problems
    assert [(p.where, p.source) for p in problems] == [("row 4", "c.csv")]
    assert "'x'" in problems[0].message and "design_prize" in problems[0].message
    assert "条件" in problems[0].chinese


def test_problems_of_the_candidate_and_applications_files_are_said_together(tmp_path):
    """The applications file's problems were said first, and the candidates' only once
    those were fixed: two passes for what one can show."""
    from liangye.model.applications_table import load_tables

    candidates = csv_file(tmp_path / "c.csv", [HEADER, GOOD, "B,乙,工厂,南湖区,纺织,3000,80"])
    applications = csv_file(
        tmp_path / "a.csv", ["candidate_id,programme,level,score", "A,P,municipal,abc"]
    )
    with pytest.raises(InputError) as caught:
        load_tables(candidates, applications)
    assert [(p.source, p.where) for p in caught.value.problems] == [
        ("c.csv", "row 3"),
        ("a.csv", "row 2"),
    ]


@pytest.mark.parametrize(
    ("unit", "wan"), [("千元", 300.0), ("百万元", 300000.0), ("千万元", 3_000_000.0)]
)
def test_more_money_units_are_read_and_an_unknown_one_is_refused(tmp_path, unit, wan):
    """营业收入（千元） was taken for a column liangye did not know: the rules then said the
    candidate table had no revenue column."""
    header = HEADER.replace("revenue", f"营业收入（{unit}）")
    table = load_candidates(csv_file(tmp_path / "c.csv", [header, GOOD]))
    assert table.loc[0, "revenue"] == pytest.approx(wan)
    odd = HEADER.replace("revenue", "营业收入（美元）")
    found = problems(load_candidates, csv_file(tmp_path / "d.csv", [odd, GOOD]))
    assert len(found) == 1 and "'美元', which liangye does not read" in found[0]


def test_a_csv_row_short_of_a_cell_is_refused(tmp_path):
    """A cell left out shifts the cells after it one column left; the row was read with
    its last cell blank."""
    short = "B,乙,企业,南湖区,纺织,3000"
    found = problems(load_candidates, csv_file(tmp_path / "c.csv", [HEADER, GOOD, short]))
    assert found == [
        "c.csv row 3: has 6 cells but the header names 7: a cell is missing, so the cells "
        "after it may sit under the wrong columns (write an empty cell as ,,)"
    ]
    table = load_candidates(csv_file(tmp_path / "d.csv", [HEADER, GOOD, short + ","]))
    assert table["score"].isna().tolist() == [False, True]  # an empty cell written as such


def test_a_few_scores_above_100_are_read_with_a_warning(tmp_path):
    rows = [HEADER, *(f"C{i},甲{i},企业,南湖区,纺织,3000,{60 + i}" for i in range(12))]
    rows.append("Z,乙,企业,南湖区,纺织,3000,150")
    table = load_candidates(csv_file(tmp_path / "c.csv", rows))
    assert table["score"].max() == 150
    assert any("1 score(s) above 100" in w and "row 14: 150" in w for w in table.attrs["warnings"])
    every = [HEADER, *(f"C{i},甲{i},企业,南湖区,纺织,3000,{100 + i}" for i in range(5))]
    assert load_candidates(csv_file(tmp_path / "d.csv", every)).attrs["warnings"] == []


def test_every_reading_of_a_table_is_said_in_chinese_too(tmp_path):
    """The readings (a sheet left out, a title row skipped, revenue that looks like 元, a
    percent header over fractions, a score above 100) were in English only."""
    from liangye.model.table_readings import readings_of
    from liangye.scenarios.runner import readings

    path = xlsx_file(
        tmp_path / "c.xlsx",
        {
            "说明": {"A1": "本表为候选名单"},
            "候选": {
                "A1": "候选名单（标题）",
                **rows_of(
                    "编号,企业名称,类型,所在县区,所属行业,营业收入,服务投入占比（%）,评分",
                    *(
                        f"C{i},甲{i},企业,南湖区,纺织,{5_000_000 + i},0.{i + 1},{70 + i}"
                        for i in range(12)
                    ),
                    "Z,乙,企业,南湖区,纺织,5000000,0.5,150",
                    first=2,
                ),
            },
        },
    )
    table = load_candidates(path)
    said = readings_of(table)
    assert len(said) == 5 and all(zh and zh != en for en, zh in said)
    chinese = " ".join(zh for _, zh in said)
    for words in (
        "只读取了工作表“候选”",
        "被当作表头",
        "按万元读取",
        "按百分数读取",
        "评分高于 100",
    ):
        assert words in chinese, words
    assert all("\n    → " in line for line in readings(table))


def test_an_applications_table_with_a_header_and_no_rows_is_refused(tmp_path):
    """Read as nobody applying, every candidate was ineligible and the allocation came out
    infeasible, blaming a quota: a header without rows is a table not filled in."""
    found = problems(
        load_applications, csv_file(tmp_path / "a.csv", ["编号,申报项目,申报级别,评分"])
    )
    assert len(found) == 1 and "has a header but no applications" in found[0]


def test_an_application_year_written_with_nian_is_read():
    """2024年 is how many Chinese tables write a year; it was refused as not a number."""
    import pandas as pd

    from liangye.model.applications_table import parse_applications

    raw = pd.DataFrame(
        {"编号": ["A"], "申报项目": ["P"], "申报级别": ["市级"], "评分": ["80"], "年度": ["2025年"]}
    )
    assert parse_applications(raw, "a.csv")["year"].tolist() == [2025]
