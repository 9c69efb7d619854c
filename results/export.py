"""The plan as files for people: CSV and an Excel workbook with Chinese headers."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from .store import write_atomic

if TYPE_CHECKING:
    from openpyxl import Workbook

PLAN_HEADERS_ZH = {
    "candidate_id": "编号",
    "name": "名称",
    "district": "所在县区",
    "sector": "所属行业",
    "programme": "项目",
    "programme_name": "项目名称",
    "level": "级别",
    "year": "年度",
    "amount": "奖励标准（万元）",
    "cost": "本级支付（万元）",
    "probability": "获批概率",
    "expected_cost": "预计支出（万元）",
    "nomination": "是否推荐申报",
    "decision": "决策类型",
    "upgrade_of": "升级自（项目:级别:年度）",
    "score": "评分",
}
DECISION_ZH = {"discretionary": "本级认定", "nomination": "推荐申报", "entitlement": "应享奖励"}
MONEY_HEADERS_ZH = {
    "year": "年度",
    "budget": "预算（万元）",
    "expected": "预计支出（万元）",
    "p95": "支出95%分位（万元）",
    "overrun": "超支概率",
    "after_horizon": "是否期后承诺",
}
REASON_HEADERS_ZH = {"candidate_id": "编号", "name": "名称", "outcome": "结果", "detail": "说明"}
OUTCOME_ZH = {
    "selected": "入选",
    "ineligible": "不符合条件",
    "out_of_budget": "预算不足",
    "outranked": "排名靠后",
    "not_needed": "无需入选",
}
LEVEL_ZH = {"national": "国家级", "provincial": "省级", "municipal": "市级", "district": "区县级"}
# Text a spreadsheet reads as a formula when it begins a cell (OWASP, "CSV injection"); a tab
# or carriage return first can hide such a start from the eye.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number ("-5", "+3.2e4") computes nothing and is left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _runs_as_formula(value: object) -> bool:
    """Whether a text cell would be taken for a formula by a spreadsheet."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    )


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run, prefixed with ' (so they show as the text they
    are); numbers and other text unchanged. For CSV, which has no other way to say "text"."""
    frame = frame.copy()
    for column in frame.columns:
        # Text columns are object or (pandas 3) str; numbers, flags and dates hold no text.
        if not (is_numeric_dtype(frame[column]) or is_datetime64_any_dtype(frame[column])):
            frame[column] = frame[column].map(lambda v: f"'{v}" if _runs_as_formula(v) else v)
    return frame


def _formulas_as_text(book: Workbook) -> None:
    """Make every text cell of an openpyxl workbook that looks like a formula a text cell.

    openpyxl stores any string beginning with "=" as a formula; the plan's names and ids
    come from the user's tables and must never run. quotePrefix keeps them text when a
    person edits the cell in Excel too.
    """
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f" or (
                    cell.data_type == "s" and _runs_as_formula(cell.value)
                ):
                    cell.data_type = "s"
                    cell.quotePrefix = True


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimals as numbers a spreadsheet can add up (万元 with at most 4 decimals: exact to 1元)."""
    frame = frame.copy()
    for column in frame.columns:
        if len(frame) and isinstance(frame[column].iloc[0], Decimal):
            frame[column] = frame[column].map(lambda d: float(round(d, 4)))
    return frame


def write_plan_csv(plan: pd.DataFrame, path: Path) -> Path:
    """The plan (or any table) as UTF-8 CSV with the canonical (English) column names; text
    that a spreadsheet would run as a formula is escaped with a leading '."""
    table = escape_formulas(_numeric(plan))
    return write_atomic(path, lambda p: table.to_csv(p, index=False, encoding="utf-8"))


def write_plan_xlsx(
    plan: pd.DataFrame,
    reasons: pd.DataFrame,
    summary: dict[str, object],
    path: Path,
    money: pd.DataFrame | None = None,
) -> Path:
    """An Excel workbook for the bureau's own files: 分配方案, 候选说明, 汇总 and, given
    ``money`` (year, budget, expected, p95, overrun, after_horizon), 支出与风险: each year's
    expected and 95th-percentile spend, its chance of overrun, and the commitments that fall
    after the horizon (Chinese headers). Text cells are text, never formulas."""
    sheet = _numeric(plan)
    sheet["level"] = sheet["level"].map(LEVEL_ZH)
    sheet["nomination"] = sheet["nomination"].map({True: "是", False: "否"})
    if "decision" in sheet.columns:
        sheet["decision"] = sheet["decision"].map(DECISION_ZH)
    sheet = sheet.rename(columns=PLAN_HEADERS_ZH)
    explained = reasons.assign(outcome=reasons["outcome"].map(OUTCOME_ZH)).rename(
        columns=REASON_HEADERS_ZH
    )
    overview = pd.DataFrame({"项目": list(summary), "数值": [str(v) for v in summary.values()]})

    def write(p: Path) -> None:
        with pd.ExcelWriter(p, engine="openpyxl") as writer:
            sheet.to_excel(writer, sheet_name="分配方案", index=False)
            explained.to_excel(writer, sheet_name="候选说明", index=False)
            overview.to_excel(writer, sheet_name="汇总", index=False)
            if money is not None:
                table = money.assign(
                    after_horizon=money["after_horizon"].map({True: "是", False: "否"})
                )
                table.rename(columns=MONEY_HEADERS_ZH).to_excel(
                    writer, sheet_name="支出与风险", index=False
                )
            _formulas_as_text(writer.book)
            _bureau_layout(writer.book)

    return write_atomic(path, write)


# Number formats a bureau files as they are: money in 万元 with up to four decimals (exact to
# 1元) shown with thousands separators, chances as percents.
MONEY_FORMAT = "#,##0.####"
PERCENT_FORMAT = "0.00%"


def _bureau_layout(book: Workbook) -> None:
    """Frozen header row, columns as wide as their text (CJK characters count double, at
    most 60), money columns (headers with 万元) and chance columns (概率) formatted."""
    from openpyxl.utils import get_column_letter

    for sheet in book.worksheets:
        sheet.freeze_panes = "A2"
        for index, column in enumerate(sheet.iter_cols(), start=1):
            header = str(column[0].value or "")
            widest = max(_display_width(cell.value) for cell in column)
            sheet.column_dimensions[get_column_letter(index)].width = min(60, widest + 2)
            number_format = (
                MONEY_FORMAT if "万元" in header else PERCENT_FORMAT if "概率" in header else None
            )
            if number_format:
                for cell in column[1:]:
                    if isinstance(cell.value, int | float):
                        cell.number_format = number_format


def _display_width(value: object) -> int:
    """How many Latin-letter widths ``value`` takes in a cell (a CJK character takes two)."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
