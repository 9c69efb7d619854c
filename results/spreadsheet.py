"""Tables written into spreadsheet cells as a bureau files them: text that would run as a
formula kept text, money, chance and score formats, columns as wide as their text (the
workbook of ``export.py``, written with XlsxWriter)."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook
    from xlsxwriter.worksheet import Worksheet

# Text a spreadsheet reads as a formula when it begins a cell (OWASP, "CSV injection"); a tab
# or carriage return first can hide such a start from the eye.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is only a number ("-5", "+3.2e4") computes nothing and is left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def runs_as_formula(value: object) -> bool:
    """Whether a text cell would be taken for a formula by a spreadsheet."""
    return (
        isinstance(value, str)
        and value.startswith(FORMULA_STARTS)
        and not _PLAIN_NUMBER.fullmatch(value)
    )


# Number formats a bureau files as they are: money in 万元 with up to four decimals (exact to
# 1元) shown with thousands separators (a whole amount without the decimal point Excel would
# leave after "3,000" under the first format), chances as percents, scores to one decimal.
MONEY_FORMAT = "#,##0.####"
WHOLE_MONEY_FORMAT = "#,##0"
PERCENT_FORMAT = "0.00%"
FINE_PERCENT_FORMAT = "0.00##%"
SCORE_FORMAT = "0.0"
WIDEST = 60  # characters; longer text wraps
# Text is only ever text: never a formula (names come from the user's tables) or a link.
BOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


class Formats:
    """The workbook's cell formats, one per (number format, wrapped, quote prefix), each made
    the first time a cell needs it and shared by all such cells."""

    def __init__(self, book: Workbook) -> None:
        self._book = book
        self._made: dict[tuple[str | None, bool, bool], Format | None] = {}

    def get(self, number_format: str | None, wrap: bool, quote: bool = False) -> Format | None:
        """The format, None for a plain cell."""
        key = (number_format, wrap, quote)
        if key not in self._made:
            properties: dict[str, object] = {}
            if number_format:
                properties["num_format"] = number_format
            if wrap:
                properties.update(text_wrap=True, valign="top")
            if quote:
                properties["quote_prefix"] = True
            self._made[key] = self._book.add_format(properties) if properties else None
        return self._made[key]


def write_sheet(sheet: Worksheet, frame: pd.DataFrame, formats: Formats) -> None:
    """``frame`` on ``sheet`` as a bureau files it: the header row frozen, columns as wide as
    their text (CJK characters count double, at most WIDEST, longer text wrapped), numbers in
    money columns (headers with 万元), chance columns (概率) and threshold scores (所需评分,
    可降低分数) formatted, text that looks like a formula a text cell with a quote prefix.

    Headers are text. Cells hold numbers, booleans or text (anything else as its text);
    missing values are empty cells, infinities the text inf or -inf (as pandas writes them).
    """
    sheet.freeze_panes(1, 0)
    for col, label in enumerate(frame.columns):
        header = str(label)
        column = frame.iloc[:, col]
        texts = _cell_texts(column)
        widest = max(_display_width(header), _widest(texts))
        sheet.set_column(col, col, min(WIDEST, widest + 2))
        sheet.write_string(0, col, header, formats.get(None, False, runs_as_formula(header)))
        wrap = widest + 2 > WIDEST
        _write_column(sheet, col, column, texts, _number_format(header), wrap, formats)


def write_pairs(sheet: Worksheet, frame: pd.DataFrame, formats: Formats) -> None:
    """A two-column table of labels and values (the workbook's 汇总) as ``write_sheet``
    writes a table, but each value formatted by its own row's label: money in 万元, chances
    (概率) and the gap (间隙) as percents; a number stays a number a bureau can compute with."""
    write_sheet(sheet, frame.iloc[:, :1], formats)
    header = str(frame.columns[1])
    column = frame.iloc[:, 1]
    texts = _cell_texts(column)
    widest = max(_display_width(header), _widest(texts))
    sheet.set_column(1, 1, min(WIDEST, widest + 2))
    sheet.write_string(0, 1, header, formats.get(None, False, runs_as_formula(header)))
    wrap = widest + 2 > WIDEST
    for row, (label, value) in enumerate(zip(frame.iloc[:, 0], column, strict=True), start=1):
        label = str(label)
        number_format = _number_format(label)
        if "间隙" in label or number_format == PERCENT_FORMAT:
            # Up to four more decimals: a bound of 1e-6 is 0.0001%, not 0.00%.
            number_format = FINE_PERCENT_FORMAT
        one = pd.Series([value], dtype=object)
        _write_column(sheet, 1, one, _cell_texts(one), number_format, wrap, formats, row)


def _number_format(header: str) -> str | None:
    """The format of the numbers under ``header``: MONEY_FORMAT for amounts in 万元 (whole
    ones WHOLE_MONEY_FORMAT), PERCENT_FORMAT for chances, SCORE_FORMAT for threshold scores."""
    if "万元" in header:
        return MONEY_FORMAT
    if "概率" in header:
        return PERCENT_FORMAT
    if "所需评分" in header or "可降低分数" in header:
        return SCORE_FORMAT
    return None


def _write_column(
    sheet: Worksheet,
    col: int,
    column: pd.Series,
    texts: pd.Series,
    number_format: str | None,
    wrap: bool,
    formats: Formats,
    first_row: int = 1,
) -> None:
    """One column's cells from row ``first_row`` down (below the header), each cell's format
    decided for the whole column at once (vectorised: was a pass through openpyxl over
    every cell)."""
    plain, quoted = formats.get(None, wrap), formats.get(None, wrap, quote=True)
    if number_format == MONEY_FORMAT:
        # Per cell: "#,##0.####" leaves a decimal point after a whole amount ("3,000.").
        numbers = pd.to_numeric(column, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        whole = np.mod(numbers, 1, where=np.isfinite(numbers), out=np.ones_like(numbers)) == 0
        for_numbers = np.where(
            whole, formats.get(WHOLE_MONEY_FORMAT, wrap), formats.get(MONEY_FORMAT, wrap)
        )
    else:
        for_numbers = np.full(len(column), formats.get(number_format, wrap), dtype=object)
    if is_numeric_dtype(column) and not is_bool_dtype(column):
        values = column.to_numpy(dtype=float, na_value=np.nan).tolist()
        for row, (value, number) in enumerate(
            zip(values, for_numbers, strict=True), start=first_row
        ):
            if math.isfinite(value):
                sheet.write_number(row, col, value, number)
            else:
                _write_missing_or_infinite(sheet, row, col, value, plain, quoted)
        return
    for_texts = np.where(_formula_mask(texts), quoted, plain)
    cells = zip(column.tolist(), texts.tolist(), for_numbers, for_texts, strict=True)
    for row, (value, text, number, words) in enumerate(cells, start=first_row):
        if isinstance(value, str):
            sheet.write_string(row, col, value, words)
        elif isinstance(value, bool | np.bool_):
            sheet.write_boolean(row, col, bool(value), plain)
        elif isinstance(value, int | float | np.integer | np.floating | Decimal):
            if math.isfinite(value):
                sheet.write_number(row, col, float(value), number)
            else:
                _write_missing_or_infinite(sheet, row, col, float(value), plain, quoted)
        elif pd.isna(text):
            _write_missing_or_infinite(sheet, row, col, math.nan, plain, quoted)
        else:
            sheet.write_string(row, col, text, words)


def _write_missing_or_infinite(
    sheet: Worksheet,
    row: int,
    col: int,
    value: float,
    plain: Format | None,
    quoted: Format | None,
) -> None:
    """An empty cell for NaN (written only to carry a format), inf or -inf as text (-inf
    quoted: a spreadsheet would run it as a formula)."""
    if value == math.inf:
        sheet.write_string(row, col, "inf", plain)
    elif value == -math.inf:
        sheet.write_string(row, col, "-inf", quoted)
    elif plain is not None:
        sheet.write_blank(row, col, None, plain)


def _cell_texts(column: pd.Series) -> pd.Series:
    """Each cell's value as text (missing values NaN), as str() shows it."""
    return column.astype(str).where(column.notna())


def _formula_mask(texts: pd.Series) -> np.ndarray:
    """Which texts a spreadsheet would take for a formula (``runs_as_formula``)."""
    text = texts.fillna("").astype(str)
    starts = text.str.startswith(FORMULA_STARTS)
    if not starts.any():
        return starts.to_numpy(dtype=bool)
    return (starts & ~text.str.fullmatch(_PLAIN_NUMBER.pattern)).to_numpy(dtype=bool)


def _widest(texts: pd.Series) -> int:
    """The largest ``_display_width`` among ``texts`` (0 if there is no text), for all of them
    at once: their code points as a NumPy array (vectorised: 3x faster than pandas' string
    methods here)."""
    distinct = texts.dropna().unique()
    if not len(distinct):
        return 0
    text = np.array(distinct, dtype=str)
    points = text.view(np.uint32).reshape(len(text), -1)
    return int((np.char.str_len(text) + (points > 0x2E80).sum(axis=1)).max())


def _display_width(value: object) -> int:
    """How many Latin-letter widths ``value`` takes in a cell (a CJK character takes two)."""
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
