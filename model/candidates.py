"""Candidate and application tables: Chinese or English headers, units, and row-level checks."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd

from .errors import InputError, Problem, message_zh
from .table_readings import (
    percent_warning,
    readings_of,
    revenue_warning,
    row_zh,
    score_warning,
    with_readings,
)
from .tables import column_letter, read_raw_table, spreadsheet_rows
from .units import (
    MONEY_UNITS,
    UNITS_READ,
    NotFiniteError,
    parse_level,
    parse_number,
    parse_percent,
    parse_share,
    split_header_unit,
    unknown_unit,
)
from .wording import COLUMN_ZH
from .yes_no import NO_WORDS, YES_WORDS, is_empty, parse_yes_no

# Canonical column -> accepted headers (docs/design.md, "Candidates and applications").
CANDIDATE_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "编号", "企业编号", "候选编号"),
    "name": ("name", "名称", "企业名称", "单位名称"),
    "kind": ("kind", "类型"),
    "district": ("district", "所在县区", "区县", "县区", "所在区县"),
    "sector": ("sector", "行业", "所属行业"),
    "revenue": ("revenue", "营业收入", "主营业务收入"),
    "service_input_share": ("service_input_share", "服务投入占比"),
    "service_revenue_share": ("service_revenue_share", "服务收入占比"),
    "score": ("score", "评分", "专家评分", "综合评分"),
    "market_share_rank": ("market_share_rank", "市场占有率排名", "细分市场排名"),
    "manufacturing_va_share": ("manufacturing_va_share", "制造业增加值占比"),
    "has_service_platform": ("has_service_platform", "公共服务平台", "有公共服务平台"),
    "held": ("held", "已获认定", "已有认定"),
}
APPLICATION_HEADERS: dict[str, tuple[str, ...]] = {
    "candidate_id": ("candidate_id", "编号", "企业编号", "候选编号"),
    "programme": ("programme", "项目", "申报项目"),
    "level": ("level", "级别", "申报级别"),
    "score": ("score", "评分", "专家评分", "综合评分"),
    "year": ("year", "年度", "年份"),
}
# The columns the bundled policies' rules read, headed by their Chinese names too (the names
# a note asking for one gives, model/wording.py): 智能制造称号 is read as smart_manufacturing.
RULE_COLUMN_HEADERS = {
    name: column for column, name in COLUMN_ZH.items() if column not in CANDIDATE_HEADERS
}
REQUIRED_CANDIDATE = ("id", "name", "kind", "district", "sector")
MONEY_COLUMNS = ("revenue",)
SHARE_COLUMNS = ("service_input_share", "service_revenue_share", "manufacturing_va_share")
YES_NO_COLUMNS = ("has_service_platform",)
KIND_ALIASES = {"enterprise": "enterprise", "企业": "enterprise", "park": "park", "园区": "park"}
# Headers that announce a yes/no column a rule may name (是否高新, has_patent, …).
YES_NO_PREFIXES = ("是否", "有无", "is_", "has_")
HEADER_HINTS = {";": "';'", "\t": "tabs", "|": "'|'"}
HEADER_HINTS_ZH = {";": "分号", "\t": "制表符", "|": "竖线“|”"}


@dataclass(frozen=True)
class Held:
    """A designation a candidate already holds before the horizon."""

    programme: str
    level: str


def named_zh(column: str) -> str:
    """A canonical column as a Chinese header names it (编号, 营业收入), else as it is."""
    for headers in (CANDIDATE_HEADERS, APPLICATION_HEADERS):
        if column in headers and len(headers[column]) > 1:
            return headers[column][1]
    return COLUMN_ZH.get(column, column)


def in_row_order(problems: list[Problem]) -> list[Problem]:
    """``problems`` as a person fixes them, top to bottom: those of a row ("row 7") by row
    number, each row's in the order found, after those not about one row (checks run column
    by column, so they find a table's problems column by column)."""

    def row_number(problem: Problem) -> int:
        words = problem.where.split()
        return int(words[1]) if len(words) == 2 and words[0] == "row" and words[1].isdigit() else -1

    return sorted(problems, key=row_number)


def cell_zh(column: str, error: Exception) -> str:
    """The Chinese of a cell a parser refused: the column, then the parser's sentence
    (“营业收入”一栏：“abc”不是数字, by the patterns of model/errors.py): the sentence alone
    named the row but not the column, which the English names by its key only."""
    said = message_zh(str(error))
    if said:
        return f"“{named_zh(column)}”一栏：{said}"
    if str(error) == "is empty":
        return f"“{named_zh(column)}”为空"
    return f"“{named_zh(column)}”一栏的值无法读取"


def _column_letters(raw: pd.DataFrame) -> list[str]:
    """The spreadsheet letter of each raw column (read_raw_table records them)."""
    letters = raw.attrs.get("column_letters")
    if letters and len(letters) == len(raw.columns):
        return list(letters)
    return [column_letter(i) for i in range(len(raw.columns))]


def canonical_columns(
    raw: pd.DataFrame,
    headers: dict[str, tuple[str, ...]],
    source: str,
    also: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, str | None], dict[str, str], list[Problem]]:
    """Rename accepted headers to canonical names; return the units stated in headers, the
    headers as written, and a problem for each canonical column two headers both name.
    ``also``: more headers (Chinese name -> column) read as those columns."""
    lookup = {
        alias.lower(): canonical for canonical, aliases in headers.items() for alias in aliases
    }
    for header, canonical in (also or {}).items():
        lookup.setdefault(header.lower(), canonical)
    letters = _column_letters(raw)
    first: dict[str, int] = {}
    keep: list[int] = []
    names: list[str] = []
    units: dict[str, str | None] = {}
    written: dict[str, str] = {}
    problems: list[Problem] = []
    for position, column in enumerate(str(c) for c in raw.columns):
        bare, unit = split_header_unit(column)
        odd = unknown_unit(column)
        if odd is not None and odd[0].lower() in lookup:
            # 营业收入（千美元）: read as 万元 it would be silently wrong; dropped, a rule
            # would say the column is missing while the user sees it.
            problems.append(
                Problem(
                    source,
                    "header",
                    f"column '{column}' ({letters[position]}) states the unit '{odd[1]}', "
                    f"which liangye does not read: write one of {', '.join(UNITS_READ)}",
                    f"“{column}”（{letters[position]} 列）的单位“{odd[1]}”无法识别：请写作"
                    f"{'、'.join(UNITS_READ)}之一",
                )
            )
            continue
        canonical = lookup.get(bare.lower(), bare)
        if canonical in first:
            # Keeping either column would drop the other's data without a word.
            earlier = first[canonical]
            problems.append(
                Problem(
                    source,
                    "header",
                    f"columns '{written[canonical]}' ({letters[earlier]}) and '{column}' "
                    f"({letters[position]}) both mean '{canonical}': keep one of them",
                    f"“{written[canonical]}”（{letters[earlier]} 列）与“{column}”"
                    f"（{letters[position]} 列）都表示“{named_zh(canonical)}”：请只保留其一",
                )
            )
            continue
        first[canonical] = position
        keep.append(position)
        names.append(canonical)
        units[canonical] = unit
        written[canonical] = column
    frame = raw.iloc[:, keep].copy()
    frame.columns = names
    return frame, units, written, problems


def missing_columns(
    frame: pd.DataFrame, required: Iterable[str], headers: dict[str, tuple[str, ...]], source: str
) -> list[Problem]:
    """A problem for each ``required`` column ``frame`` lacks, naming the headers accepted
    for it (``headers``), in English and Chinese."""
    problems = []
    for column in required:
        if column not in frame.columns:
            accepted = " / ".join(headers[column])
            problems.append(
                Problem(
                    source,
                    "header",
                    f"missing column '{column}' ({accepted})",
                    f"缺少“{named_zh(column)}”一列（可用的表头：{accepted}）",
                )
            )
    return problems


def header_problem(raw: pd.DataFrame, source: str) -> list[Problem]:
    """When no row named the columns, which row was taken as the header, and from where."""
    if raw.attrs.get("header_found", True):
        return []
    sheet = raw.attrs.get("sheet")
    cells = raw.attrs.get("header_cells") or [str(c) for c in raw.columns]
    shown = ", ".join(f"'{c}'" for c in cells[:8]) + (", …" if len(cells) > 8 else "")
    where = f"row {raw.attrs.get('header_row', 1)}" + (f" of sheet '{sheet}'" if sheet else "")
    message = (
        f"no row of {'any sheet' if sheet else 'the file'} names two known columns, so {where} "
        f"was taken as the header: {shown}"
    )
    where_zh = f"第 {raw.attrs.get('header_row', 1)} 行" + (f"（工作表“{sheet}”）" if sheet else "")
    chinese = (
        f"{'各工作表' if sheet else '文件'}中没有一行含有两个可识别的列名，"
        f"因此把{where_zh}当作表头：{shown}"
    )
    if len(cells) == 1:
        for mark, name in HEADER_HINTS.items():
            if mark in cells[0]:
                message += (
                    f" (the cells are separated by {name}: save the file as comma-separated CSV)"
                )
                chinese += f"（单元格以{HEADER_HINTS_ZH[mark]}分隔：请另存为逗号分隔的 CSV）"
                break
    return [Problem(source, "header", message, chinese)]


def empty_cells(
    frame: pd.DataFrame, columns: Iterable[str], rows: list[str], source: str
) -> list[Problem]:
    """A problem for each empty cell of ``columns`` (which a row must fill), naming its row."""
    return [
        _empty_problem(source, rows[position], column)
        for column in columns
        for position, value in enumerate(frame[column].tolist())
        if is_empty(value)
    ]


def _empty_problem(source: str, row: str, column: str) -> Problem:
    """The problem of a cell a row must fill, left empty."""
    return Problem(source, row, f"{column} is empty", f"“{named_zh(column)}”为空")


def convert_column(
    frame: pd.DataFrame,
    column: str,
    parse: Callable[[object], object],
    source: str,
    problems: list[Problem],
    required: bool,
    rows: list[str],
) -> None:
    values: list[object] = []
    for position, raw in enumerate(frame[column].tolist()):
        if is_empty(raw):
            if required:
                problems.append(_empty_problem(source, rows[position], column))
            values.append(float("nan"))
            continue
        try:
            values.append(parse(raw))
        except ValueError as error:
            problems.append(
                Problem(source, rows[position], f"{column} {error}", cell_zh(column, error))
            )
            values.append(float("nan"))
    frame[column] = values


def _money_parser(unit: str | None, column: str) -> Callable[[object], float]:
    scale = float(MONEY_UNITS.get(unit or "万元", Decimal(1)))

    def parse(raw: object) -> float:
        value = parse_number(raw)
        if value < 0:
            raise ValueError(f"'{raw}' is negative")
        return value * scale

    return parse


# The largest expert score read. Scores are a panel's points (0-100, or a few hundred on a
# weighted sheet); one of 1e12 is a unit or typing mistake, and it is also beyond what the
# solver can weigh beside the tie-breaking bonus: scores of 1e15 kept HiGHS's simplex going
# past any budget of work, and 1e300 ended in a solver error (found by fuzzing, 2026-12-05).
MAX_SCORE = 100_000.0


def parse_score(raw: object) -> float:
    """An expert score: a finite number from 0 to ``MAX_SCORE``; raise ValueError."""
    value = parse_number(raw)
    if value < 0:
        raise ValueError(f"'{raw}' is negative: expected a number ≥ 0")
    if value > MAX_SCORE:
        raise ValueError(
            f"'{raw}' is above the largest score, {MAX_SCORE:,.0f}: expected a panel's "
            "points (e.g. 0-100)"
        )
    return value


def _looks_yes_no(column: str, series: pd.Series) -> bool:
    """A column a rule may use as a condition: its header says so (是否…), or every filled cell
    is a yes/no word and at least one is not a bare 1/0 (which stay numbers)."""
    if column.lower().startswith(YES_NO_PREFIXES):
        return True
    filled = [v for v in series.tolist() if not is_empty(v)]
    words = [str(v).strip().lower() for v in filled if isinstance(v, str)]
    if not words or len(words) != len(filled):
        return False
    return all(w in YES_WORDS | NO_WORDS for w in words) and any(w not in ("1", "0") for w in words)


def parse_candidates(raw: pd.DataFrame, source: str, needs_score: bool = False) -> pd.DataFrame:
    """Turn a raw candidate frame into the canonical table, or raise InputError with every problem.

    The result has a 0..n-1 index in file order (the tie-break order), canonical column names,
    revenue in 万元, shares as fractions, ``kind`` as enterprise/park, yes/no columns as
    booleans, and a ``row`` column naming each candidate's spreadsheet row for messages.
    ``attrs["warnings"]`` lists, as sentences naming the file, each defensible reading taken
    (those of ``read_raw_table`` first, then revenues that look like 元, fractions under a
    (%) header); callers print them.
    """
    rows = spreadsheet_rows(raw)
    warnings = readings_of(raw)
    frame, units, written, problems = canonical_columns(
        raw, CANDIDATE_HEADERS, source, RULE_COLUMN_HEADERS
    )
    frame = frame.reset_index(drop=True)
    problems += missing_columns(frame, REQUIRED_CANDIDATE, CANDIDATE_HEADERS, source)
    if needs_score and "score" not in frame.columns:
        problems.append(
            Problem(
                source,
                "header",
                "missing column 'score' (评分): without an applications "
                "file, each candidate's expert score must be on the candidate table",
                "缺少“评分”一列：没有申报表时，每个候选的专家评分须写在候选名单上",
            )
        )
    if problems:
        missing = any(p.message.startswith("missing column") for p in problems)
        raise InputError((header_problem(raw, source) if missing else []) + problems)
    if frame.empty:
        raise InputError(
            [Problem(source, "", "has a header but no candidates", "只有表头，没有候选")]
        )

    problems += empty_cells(frame, REQUIRED_CANDIDATE, rows, source)
    frame["id"] = [cell_text(v) for v in frame["id"]]
    duplicated = frame["id"].duplicated(keep="first")
    for position in frame.index[duplicated]:
        first = frame.index[(frame["id"] == frame.at[position, "id"]) & ~duplicated][0]
        problems.append(
            Problem(
                source,
                rows[position],
                f"id '{frame.at[position, 'id']}' repeats {rows[first]}",
                f"编号“{frame.at[position, 'id']}”与{row_zh(rows[first])}重复：每个候选的编号只能用一次",
            )
        )
    kinds: list[str | None] = []
    for position, value in enumerate(frame["kind"].tolist()):
        kind = KIND_ALIASES.get(str(value).strip().lower()) if value is not None else None
        if value is not None and kind is None:
            problems.append(
                Problem(
                    source,
                    rows[position],
                    f"kind '{value}' is not enterprise/park (企业/园区)",
                )
            )
        kinds.append(kind)
    frame["kind"] = kinds

    def convert(column: str, parse: Callable[[object], object], required: bool = False) -> None:
        convert_column(frame, column, parse, source, problems, required, rows)

    for column in MONEY_COLUMNS:
        if column in frame.columns:
            convert(column, _money_parser(units[column], column))
    if "revenue" in frame.columns and units["revenue"] is None:
        warnings += revenue_warning(frame, written["revenue"], source)
    for column in SHARE_COLUMNS:
        if column in frame.columns:
            percent = units[column] in ("%", "％")
            # A header stating (%) says what 25 means: 25%, not a share of 25.
            convert(column, parse_percent if percent else parse_share)
            if percent:
                warnings += percent_warning(frame[column], written[column], source)
    if "score" in frame.columns:
        convert("score", parse_score, needs_score)
        warnings += score_warning(frame["score"], rows, source)
    if "market_share_rank" in frame.columns:
        convert("market_share_rank", parse_number)
    for column in YES_NO_COLUMNS:
        if column in frame.columns:
            convert(column, parse_yes_no)
            frame[column] = frame[column].map(lambda v: v is True)
    for column in frame.columns:
        if column in CANDIDATE_HEADERS:
            continue
        # Extra columns a rule may name: numbers become numbers, units and percents applied.
        unit = units.get(column)
        if unit in MONEY_UNITS:
            convert(column, _money_parser(unit, column))
        elif unit in ("%", "％"):
            convert(column, lambda v: parse_percent(v, bounded=False))
        elif _looks_yes_no(column, frame[column]):
            convert(column, parse_yes_no)
            frame[column] = frame[column].map(lambda v: v is True)
        else:
            frame[column] = _numbers_where_possible(frame, column, source, problems, rows)
    if "held" in frame.columns:
        for position, value in enumerate(frame["held"].tolist()):
            try:
                parse_held(value)
            except ValueError as error:
                problems.append(
                    Problem(source, rows[position], f"held {error}", cell_zh("held", error))
                )
    if problems:
        raise InputError(in_row_order(problems))
    frame["row"] = rows
    frame.attrs["source"] = source
    with_readings(frame, warnings)
    return frame


def read_partly(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """What checks across files can still ask of a raw candidate table that has problems of
    its own (which ``parse_candidates`` says), so that one bad cell does not hide the rest:
    each row's spreadsheet name (``row``), its ``id`` as text and its ``held`` entries, where
    the table has those columns; a held cell that does not read is taken as holding nothing.
    """
    frame, _, _, _ = canonical_columns(raw, CANDIDATE_HEADERS, source, RULE_COLUMN_HEADERS)
    frame = frame.reset_index(drop=True)
    read = pd.DataFrame({"row": spreadsheet_rows(raw)})
    for column in ("id", "held"):
        if column not in frame.columns or isinstance(frame[column], pd.DataFrame):
            continue  # missing, or named twice: the table's own problem
        cells = frame[column].tolist()
        if column == "id":
            read["id"] = [None if is_empty(v) else cell_text(v) for v in cells]
        else:
            read["held"] = [_held_or_nothing(v) for v in cells]
    read.attrs["source"] = source
    return read


def _held_or_nothing(value: object) -> list[Held]:
    try:
        return parse_held(value)
    except ValueError:
        return []


def cell_text(value: object) -> str:
    """An id as text: 1001 read from a workbook as a number is '1001', not '1001.0'."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _numbers_where_possible(
    frame: pd.DataFrame, column: str, source: str, problems: list[Problem], rows: list[str]
) -> pd.Series:
    """A column all of whose filled cells are numbers becomes numeric; otherwise it stays text.

    A column of numbers with "inf" or "nan" among them is a column of numbers with bad
    cells: each is a problem, never a reason to keep the column as text.
    """
    series = frame[column]
    values: list[float] = []
    bad: list[Problem] = []
    for position, value in enumerate(series.tolist()):
        if is_empty(value):
            values.append(float("nan"))
            continue
        try:
            values.append(parse_number(value))
        except NotFiniteError as error:
            bad.append(Problem(source, rows[position], f"{column} {error}", cell_zh(column, error)))
            values.append(float("nan"))
        except ValueError:
            return series
    if bad and all(pd.isna(v) for v in values):
        return series  # no finite number at all: a text column, not a numeric one
    problems.extend(bad)
    return pd.Series(values, index=series.index, dtype=float)


def parse_held(value: object) -> list[Held]:
    """Read "programme:level; programme:level" into Held entries; raise ValueError."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    entries: list[Held] = []
    for part in str(value).replace("；", ";").replace("，", ";").replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        programme, sep, level = part.replace("：", ":").partition(":")
        if not sep:
            raise ValueError(f"'{part}' is not 'programme:level'")
        entries.append(Held(programme.strip(), parse_level(level).value))
    return entries


# Held texts already read, kept across calls: a simulated run builds a candidate table every
# round, and its texts mostly repeat the last round's (reading them again was 2.5 of a late
# round's 34 ms build_problem). Emptied when it grows past the bound.
_HELD_READ: dict[str, list[Held]] = {}
_HELD_READ_MAX = 100_000


def parse_held_cells(cells: pd.Series) -> list[list[Held]]:
    """``parse_held`` of each cell of a ``held`` column, each distinct text parsed once (a
    simulated round's table repeats a few texts over thousands of firms, and the next round
    the same texts). The lists are shared between equal cells and between calls: read them,
    do not change them."""
    if len(_HELD_READ) > _HELD_READ_MAX:
        _HELD_READ.clear()
    parsed = _HELD_READ

    def read(cell: object) -> list[Held]:
        if isinstance(cell, str):
            entries = parsed.get(cell)
            if entries is None:
                entries = parsed[cell] = parse_held(cell)
            return entries
        if cell is None or (isinstance(cell, float) and cell != cell):
            return []  # nothing held (None or NaN), as parse_held reads it
        return parse_held(cell)

    dtype = cells.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.na_value is np.nan:
        # A text column whose missing cells are NaN: only the cells present hold anything.
        out: list[list[Held]] = [[] for _ in range(len(cells))]
        present = np.flatnonzero(cells.notna().to_numpy())
        for position, cell in zip(present.tolist(), cells.iloc[present].tolist(), strict=True):
            out[position] = read(cell)
        return out
    return [read(cell) for cell in cells.tolist()]


def load_candidates(path: str, needs_score: bool = False) -> pd.DataFrame:
    """Read and check a candidate file (CSV or XLSX); its warnings are in ``attrs["warnings"]``."""
    raw = read_raw_table(path)
    return parse_candidates(raw, raw.attrs["source"], needs_score=needs_score)
