"""The workbook's layout as XlsxWriter writes it: number formats per cell, columns as wide as
their text, text that looks like a formula kept text, and tables without rows."""

from __future__ import annotations

import re
import zipfile
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from liangye.results import export, spreadsheet
from liangye.results.export import write_plan_xlsx
from liangye.results.spreadsheet import WIDEST

from conftest import export_plan

HOSTILE = ['=HYPERLINK("http://x.example","F003")', "+86 573", "-1+2", "@SUM(A1)", "\tcmd"]
# XlsxWriter stores a width of n characters as n plus Excel's 5-pixel cell padding (7-pixel
# digits): the column then shows exactly n characters.
PADDING = 5 / 7


def plan(names: list[str], amounts: list[str]) -> pd.DataFrame:
    """A plan with the export's columns, one row per name."""
    return export_plan(names, [Decimal(a) for a in amounts], 79.5, probability=[0.3] * len(names))


def reasons(names: list[str], needed: list[float]) -> pd.DataFrame:
    """Reasons with the threshold columns (inf: no score reaches it; NaN: none asked)."""
    n = len(names)
    return pd.DataFrame(
        {
            "candidate_id": [f"F{i}" for i in range(n)],
            "name": names,
            "outcome": ["not_selected"] * n,
            "detail": (["x" * (WIDEST + 10)] + ["短"] * n)[:n],
            "score_needed": needed,
            "extra_budget_wan": ([1.5] + [2.0] * n)[:n],
        }
    )


def column_of(sheet, header: str) -> list:
    """The cells below ``header``."""
    headers = [c.value for c in sheet[1]]
    index = headers.index(header) + 1
    return [sheet.cell(row=r, column=index) for r in range(2, sheet.max_row + 1)]


def width_of(sheet, header: str) -> float:
    """The width openpyxl reads for the column under ``header``."""
    headers = [c.value for c in sheet[1]]
    index = headers.index(header) + 1
    for dimension in sheet.column_dimensions.values():
        if dimension.min <= index <= dimension.max:
            return dimension.width
    raise AssertionError(f"no width for {header}")


@pytest.fixture
def book(tmp_path):
    names = ["甲", *HOSTILE, "-5"]
    amounts = ["3000", "12.5", "0.0001", "-7", "20", "1.25", "100"]
    needed = [np.inf, np.nan, 55.25, 60.0, 1.0, 2.0, 3.0]
    money = pd.DataFrame(
        {
            "year": [2024, 2025],
            "budget": [3000.0, 2999.5],
            "expected": [2647.5, 2422.0],
            "p95": [2990.0, np.nan],
            "overrun": [0.042835, 0.05],
            "after_horizon": [False, True],
        }
    )
    path = write_plan_xlsx(
        plan(names, amounts),
        reasons(names, needed),
        {"状态": "optimal", "=1+1": "-inf"},
        tmp_path / "p.xlsx",
        money,
    )
    return path, openpyxl.load_workbook(path)


def test_money_is_formatted_per_cell_chances_as_percent_scores_to_one_decimal(book):
    _, workbook = book
    amounts = column_of(workbook["分配方案"], "奖励标准（万元）")
    assert [c.value for c in amounts] == [3000, 12.5, 0.0001, -7, 20, 1.25, 100]
    assert [c.number_format for c in amounts] == [
        "#,##0",
        "#,##0.####",
        "#,##0.####",
        "#,##0",
        "#,##0",
        "#,##0.####",
        "#,##0",
    ]
    assert {c.number_format for c in column_of(workbook["分配方案"], "获批概率")} == {"0.00%"}
    assert {c.number_format for c in column_of(workbook["分配方案"], "评分")} == {"General"}
    needed = column_of(workbook["候选说明"], "入选所需评分")
    assert [c.value for c in needed[:3]] == [export.UNREACHABLE_ZH, None, 55.25]
    assert needed[0].number_format == "General"  # text stays text
    assert {c.number_format for c in needed[2:]} == {"0.0"}
    risk = workbook["支出与风险"]
    assert [c.number_format for c in column_of(risk, "预算（万元）")] == ["#,##0", "#,##0.####"]
    assert [c.value for c in column_of(risk, "支出95%分位（万元）")] == [2990, None]
    assert {c.number_format for c in column_of(risk, "超支概率")} == {"0.00%"}
    assert [c.value for c in column_of(risk, "是否期后承诺")] == ["否", "是"]


def test_columns_are_as_wide_as_their_text_and_long_text_wraps(book):
    _, workbook = book
    sheet = workbook["分配方案"]
    # The header 所在县区 (8) is wider than 南湖区 (6); 编号 (4) than F0 .. F6 (2).
    assert width_of(sheet, "所在县区") == pytest.approx(8 + 2 + PADDING, abs=0.01)
    assert width_of(sheet, "编号") == pytest.approx(4 + 2 + PADDING, abs=0.01)
    longest = max(len(text) for text in HOSTILE)  # Latin letters count once
    assert width_of(sheet, "名称") == pytest.approx(longest + 2 + PADDING, abs=0.01)
    detail = workbook["候选说明"]
    assert width_of(detail, "说明") == pytest.approx(WIDEST + PADDING, abs=0.01)
    cells = column_of(detail, "说明")
    assert all(c.alignment.wrap_text and c.alignment.vertical == "top" for c in cells)
    assert not detail["D1"].alignment.wrap_text  # the header is not wrapped
    assert not any(c.alignment.wrap_text for c in column_of(detail, "名称"))
    for sheet in workbook.worksheets:
        assert sheet.freeze_panes == "A2"


def test_text_that_looks_like_a_formula_is_quoted_text_and_no_cell_is_a_formula(book):
    path, workbook = book
    names = column_of(workbook["分配方案"], "名称")
    assert [c.value for c in names] == ["甲", *HOSTILE, "-5"]
    assert [bool(c.quotePrefix) for c in names] == [False] + [True] * len(HOSTILE) + [False]
    assert {c.data_type for c in names} == {"s"}
    summary = workbook["汇总"]
    assert (summary["A3"].value, summary["A3"].quotePrefix) == ("=1+1", True)
    assert (summary["B3"].value, summary["B3"].quotePrefix) == ("-inf", True)
    with zipfile.ZipFile(path) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any(re.search(r"<f[ >]", archive.read(n).decode()) for n in sheets)


def test_tables_without_rows_give_sheets_with_their_headers(tmp_path):
    path = write_plan_xlsx(plan([], []), reasons([], []), {}, tmp_path / "p.xlsx")
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["分配方案", "候选说明", "汇总"]
    sheet = workbook["分配方案"]
    assert sheet.max_row == 1 and sheet["A1"].value == "编号"
    assert width_of(sheet, "奖励标准（万元）") == pytest.approx(16 + 2 + PADDING, abs=0.01)
    assert [c.value for c in workbook["汇总"][1]] == ["项目", "数值"]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            # NUL, which no cell can hold (XlsxWriter writes it as _x0000_), left out; so are
            # lone surrogates, which no UTF-8 input can carry (pandas' Arrow strings refuse them).
            st.text(
                st.characters(exclude_characters="\x00", exclude_categories=("Cs",)),
                max_size=30,
            ),
            st.floats(),
            st.integers(),
        )
    )
)
def test_widest_text_counts_cjk_twice_like_the_one_cell_rule(values):
    """The vectorised width equals the per-cell rule on every value's text."""
    column = pd.Series(values, dtype=object)
    texts = spreadsheet._cell_texts(column)
    expected = max(
        (spreadsheet._display_width(str(v)) for v in values if v is not None and v == v), default=0
    )
    assert spreadsheet._widest(texts) == expected
