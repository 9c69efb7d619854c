"""Candidate and application tables: Chinese or English headers, units, and row-level checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from .errors import InputError, Problem
from .tables import read_raw_table, spreadsheet_row
from .units import MONEY_UNITS, parse_level, parse_number, parse_share, split_header_unit

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
REQUIRED_CANDIDATE = ("id", "name", "kind", "district", "sector")
MONEY_COLUMNS = ("revenue",)
SHARE_COLUMNS = ("service_input_share", "service_revenue_share", "manufacturing_va_share")
NUMBER_COLUMNS = ("score", "market_share_rank")
KIND_ALIASES = {"enterprise": "enterprise", "企业": "enterprise", "park": "park", "园区": "park"}


@dataclass(frozen=True)
class Held:
    """A designation a candidate already holds before the horizon."""

    programme: str
    level: str


def _canonical_columns(
    frame: pd.DataFrame, headers: dict[str, tuple[str, ...]], source: str
) -> tuple[pd.DataFrame, dict[str, str | None], list[Problem]]:
    """Rename accepted headers to canonical names; return the units stated in headers."""
    lookup = {
        alias.lower(): canonical for canonical, aliases in headers.items() for alias in aliases
    }
    renames: dict[str, str] = {}
    units: dict[str, str | None] = {}
    problems: list[Problem] = []
    for column in frame.columns:
        bare, unit = split_header_unit(column)
        canonical = lookup.get(bare.lower(), bare)
        if canonical in renames.values():
            problems.append(Problem(source, f"column '{column}'", f"repeats column '{canonical}'"))
            continue
        renames[column] = canonical
        units[canonical] = unit
    frame = frame[list(renames)].rename(columns=renames)
    return frame, units, problems


def _convert_column(
    frame: pd.DataFrame,
    column: str,
    parse: Callable[[object], object],
    source: str,
    problems: list[Problem],
    required: bool,
) -> None:
    values: list[object] = []
    for position, raw in enumerate(frame[column].tolist()):
        if raw is None or (isinstance(raw, float) and pd.isna(raw)):
            if required:
                problems.append(Problem(source, spreadsheet_row(position), f"{column} is empty"))
            values.append(float("nan"))
            continue
        try:
            values.append(parse(raw))
        except ValueError as error:
            problems.append(Problem(source, spreadsheet_row(position), f"{column} {error}"))
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


def parse_candidates(raw: pd.DataFrame, source: str, needs_score: bool = False) -> pd.DataFrame:
    """Turn a raw candidate frame into the canonical table, or raise InputError with every problem.

    The result has a 0..n-1 index in file order (the tie-break order), canonical column names,
    revenue in 万元, shares as fractions, ``kind`` as enterprise/park, and a ``row`` column
    naming each candidate's spreadsheet row for messages.
    """
    frame, units, problems = _canonical_columns(
        raw.reset_index(drop=True), CANDIDATE_HEADERS, source
    )
    for column in REQUIRED_CANDIDATE:
        if column not in frame.columns:
            accepted = " / ".join(CANDIDATE_HEADERS[column])
            problems.append(Problem(source, "header", f"missing column '{column}' ({accepted})"))
    if needs_score and "score" not in frame.columns:
        problems.append(
            Problem(
                source,
                "header",
                "missing column 'score' (评分): without an applications "
                "file, each candidate's expert score must be on the candidate table",
            )
        )
    if problems:
        raise InputError(problems)
    if frame.empty:
        raise InputError([Problem(source, "", "has a header but no candidates")])

    for column in REQUIRED_CANDIDATE:
        for position, value in enumerate(frame[column].tolist()):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                problems.append(Problem(source, spreadsheet_row(position), f"{column} is empty"))
    frame["id"] = frame["id"].astype(str)
    duplicated = frame["id"].duplicated(keep="first")
    for position in frame.index[duplicated]:
        first = frame.index[(frame["id"] == frame.at[position, "id"]) & ~duplicated][0]
        problems.append(
            Problem(
                source,
                spreadsheet_row(position),
                f"id '{frame.at[position, 'id']}' repeats {spreadsheet_row(first)}",
            )
        )
    kinds: list[str | None] = []
    for position, value in enumerate(frame["kind"].tolist()):
        kind = KIND_ALIASES.get(str(value).strip().lower()) if value is not None else None
        if value is not None and kind is None:
            problems.append(
                Problem(
                    source,
                    spreadsheet_row(position),
                    f"kind '{value}' is not enterprise/park (企业/园区)",
                )
            )
        kinds.append(kind)
    frame["kind"] = kinds

    for column in MONEY_COLUMNS:
        if column in frame.columns:
            _convert_column(
                frame, column, _money_parser(units[column], column), source, problems, False
            )
    for column in SHARE_COLUMNS:
        if column in frame.columns:
            _convert_column(frame, column, parse_share, source, problems, False)
    for column in NUMBER_COLUMNS:
        if column in frame.columns:
            _convert_column(
                frame, column, parse_number, source, problems, column == "score" and needs_score
            )
    for column in frame.columns:
        if column in CANDIDATE_HEADERS:
            continue
        # Extra columns a rule may name: numbers become numbers, units and percents applied.
        unit = units.get(column)
        if unit in MONEY_UNITS:
            _convert_column(frame, column, _money_parser(unit, column), source, problems, False)
        elif unit in ("%", "％"):
            _convert_column(frame, column, lambda v: parse_number(v) / 100, source, problems, False)
        else:
            frame[column] = _numbers_where_possible(frame[column])
    if "held" in frame.columns:
        for position, value in enumerate(frame["held"].tolist()):
            try:
                parse_held(value)
            except ValueError as error:
                problems.append(Problem(source, spreadsheet_row(position), f"held {error}"))
    if problems:
        raise InputError(problems)
    frame["row"] = [spreadsheet_row(i) for i in range(len(frame))]
    frame.attrs["source"] = source
    return frame


def _numbers_where_possible(series: pd.Series) -> pd.Series:
    """A column all of whose filled cells are numbers becomes numeric; otherwise it stays text."""
    values: list[float] = []
    for value in series.tolist():
        if value is None or (isinstance(value, float) and pd.isna(value)):
            values.append(float("nan"))
            continue
        try:
            values.append(parse_number(value))
        except ValueError:
            return series
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


def parse_applications(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Turn a raw applications frame into canonical columns, or raise InputError with every problem."""
    frame, _, problems = _canonical_columns(raw.reset_index(drop=True), APPLICATION_HEADERS, source)
    for column in ("candidate_id", "programme", "level", "score"):
        if column not in frame.columns:
            accepted = " / ".join(APPLICATION_HEADERS[column])
            problems.append(Problem(source, "header", f"missing column '{column}' ({accepted})"))
    if problems:
        raise InputError(problems)
    frame["candidate_id"] = frame["candidate_id"].astype(str)
    levels: list[str | None] = []
    for position, value in enumerate(frame["level"].tolist()):
        try:
            levels.append(parse_level(value).value)
        except (ValueError, AttributeError) as error:
            problems.append(Problem(source, spreadsheet_row(position), f"level {error}"))
            levels.append(None)
    frame["level"] = levels
    _convert_column(frame, "score", parse_number, source, problems, True)
    if "year" in frame.columns:

        def parse_year(value: object) -> float:
            number = parse_number(value)
            if number != int(number) or not 1990 <= number <= 2100:
                raise ValueError(f"'{value}' is not a year")
            return number

        _convert_column(frame, "year", parse_year, source, problems, False)
    keys = ["candidate_id", "programme", "level"] + (["year"] if "year" in frame.columns else [])
    duplicated = frame.duplicated(subset=keys, keep="first")
    for position in frame.index[duplicated]:
        problems.append(
            Problem(source, spreadsheet_row(position), "repeats an earlier application")
        )
    if problems:
        raise InputError(problems)
    frame["row"] = [spreadsheet_row(i) for i in range(len(frame))]
    frame.attrs["source"] = source
    return frame


def load_candidates(path: str, needs_score: bool = False) -> pd.DataFrame:
    """Read and check a candidate file (CSV or XLSX)."""
    raw = read_raw_table(path)
    return parse_candidates(raw, raw.attrs["source"], needs_score=needs_score)


def load_applications(path: str) -> pd.DataFrame:
    """Read and check an applications file (CSV or XLSX)."""
    raw = read_raw_table(path)
    return parse_applications(raw, raw.attrs["source"])
