"""The cells of a real firm table the simulation reads beyond a candidate table's: each
firm's revenue (above 0), profit or margin (numbers), role and service modes (known words),
every problem named by the file's row and column, as the candidate table's own are.

And the titles a firm held before the simulated years (``held_problems``) must be titles of
the scenario's policy, as ``liangye allocate`` asks of a candidate table.

Review 22 found them read without a word: an empty or zero revenue let a firm take up every
mode and turned the mean hazard into NaN; a profit of "n/a" stopped the run with Python's
own message; a mistyped role made a service firm a manufacturer; a bad mode named the row
counted after the parks were dropped; a held title of no programme was ignored, so the firm
was paid in full again where it should have been paid the difference (就高不重复).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from liangye.model.candidates import parse_held_cells
from liangye.model.errors import Problem
from liangye.model.policy import Policy
from liangye.model.problem_checks import check_held, held_by_id
from liangye.model.units import MONEY_UNITS, parse_number, split_header_unit

from .params import SERVICE_MODES

MANUFACTURER = "manufacturer"
SERVICE = "service"
ROLE_ALIASES = {
    "manufacturer": MANUFACTURER,
    "制造": MANUFACTURER,
    "制造业": MANUFACTURER,
    "制造企业": MANUFACTURER,
    "service": SERVICE,
    "服务": SERVICE,
    "服务业": SERVICE,
    "生产性服务业": SERVICE,
    "生产性服务企业": SERVICE,
}
# Headers a real firm table may use for the simulation's own columns (besides the
# candidate table's), each with or without a unit in brackets: 利润（万元）.
EXTRA_HEADERS = {
    "role": ("role", "企业性质", "两业类型"),
    "park": ("park", "园区", "所在园区"),
    "profit": ("profit", "利润", "利润总额"),
    "margin": ("margin", "利润率", "营业利润率"),
    "modes": ("modes", "服务模式"),
}
COLUMN_ZH = {
    "revenue": "营业收入",
    "profit": "利润",
    "margin": "利润率",
    "role": "两业类型",
    "modes": "服务模式",
}


def renamed_extras(table: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str | None]]:
    """``table`` with the simulation's own columns under their canonical names, and the unit
    each header stated (None: none)."""
    renames: dict[str, str] = {}
    units: dict[str, str | None] = {}
    for canonical, aliases in EXTRA_HEADERS.items():
        if canonical in table.columns:
            units[canonical] = None
            continue
        for column in table.columns:
            name, unit = split_header_unit(str(column))
            if name in aliases and canonical not in renames.values():
                renames[column] = canonical
                units[canonical] = unit
    return table.rename(columns=renames), units


class CellProblems:
    """Problems of ``source``'s cells, each named by the file's own row (``rows``)."""

    def __init__(self, source: str, rows: Sequence[str]):
        self.source = source
        self.rows = list(rows)
        self.found: list[Problem] = []

    def add(self, position: int, column: str, english: str, chinese: str) -> None:
        self.found.append(
            Problem(
                self.source,
                self.rows[position],
                f"{column}: {english}",
                f"“{COLUMN_ZH.get(column, column)}”一栏：{chinese}",
            )
        )


def checked_revenue(revenue: pd.Series, cells: CellProblems) -> np.ndarray:
    """Each firm's revenue in 万元, which must be there and above 0: the simulation reads a
    firm's awards and profit against it."""
    values = pd.to_numeric(revenue, errors="coerce").to_numpy(dtype=float)
    for position in np.flatnonzero(~(values > 0)).tolist():
        empty = not np.isfinite(values[position])
        cells.add(
            position,
            "revenue",
            "is empty: the simulation needs every firm's revenue"
            if empty
            else f"is {values[position]:g}: the simulation needs a revenue above 0",
            "为空：模拟需要每家企业的营业收入"
            if empty
            else f"为 {values[position]:g}：模拟需要大于 0 的营业收入",
        )
    return values


def checked_numbers(
    column: pd.Series, name: str, cells: CellProblems, scale: float = 1.0
) -> np.ndarray:
    """A column of numbers (times ``scale``), NaN where a cell is empty; a cell that is no
    number is a problem."""
    out = np.full(len(column), np.nan)
    for position, cell in enumerate(column.tolist()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            continue
        try:
            out[position] = parse_number(cell) * scale
        except ValueError as error:
            if str(error) == "is empty":
                continue
            cells.add(position, name, f"'{cell}' is not a number", f"“{cell}”不是数字")
    return out


def money_scale(unit: str | None) -> float:
    """万元 per unit of a money header (1 without one)."""
    return float(MONEY_UNITS[unit]) if unit in MONEY_UNITS else 1.0


def checked_roles(column: pd.Series, cells: CellProblems) -> list[str]:
    """Each firm's role (manufacturer or producer service); an empty cell is a manufacturer,
    a word that is neither is a problem (a typo made a service firm a manufacturer)."""
    known = "、".join(ROLE_ALIASES)
    roles = []
    for position, cell in enumerate(column.tolist()):
        text = "" if cell is None or (isinstance(cell, float) and np.isnan(cell)) else str(cell)
        role = ROLE_ALIASES.get(text.strip().lower()) if text.strip() else MANUFACTURER
        if role is None:
            cells.add(
                position,
                "role",
                f"'{text}' is neither a manufacturer nor a producer-service firm "
                f"(one of {', '.join(ROLE_ALIASES)})",
                f"“{text}”不是可识别的类型（可用：{known}）",
            )
            role = MANUFACTURER
        roles.append(role)
    return roles


def checked_modes(column: pd.Series, cells: CellProblems) -> list[str]:
    """Each firm's service modes, ``;``-separated in ``SERVICE_MODES`` order; an unknown
    name is a problem."""
    out = []
    for position, cell in enumerate(column.tolist()):
        if cell is None or (isinstance(cell, float) and np.isnan(cell)):
            out.append("")
            continue
        names = [m.strip() for m in str(cell).replace("；", ";").split(";") if m.strip()]
        unknown = [m for m in names if m not in SERVICE_MODES]
        if unknown:
            cells.add(
                position,
                "modes",
                f"unknown mode(s) {', '.join(unknown)} (known: {', '.join(SERVICE_MODES)})",
                f"无法识别的服务模式：{'、'.join(unknown)}（可用：{'、'.join(SERVICE_MODES)}）",
            )
        out.append(";".join(m for m in SERVICE_MODES if m in names))
    return out


def margins(
    table: pd.DataFrame,
    units: Mapping[str, str | None],
    revenue: np.ndarray,
    cells: CellProblems,
    fallback: Callable[[int], np.ndarray],
) -> np.ndarray:
    """Each firm's operating margin: profit over revenue where a profit is given, else the
    margin column's, else ``fallback(n)``'s (drawn); an empty cell takes the fallback's."""
    n = len(table)
    drawn = fallback(n)
    if "profit" in table.columns:
        profit = checked_numbers(table["profit"], "profit", cells, money_scale(units["profit"]))
        with np.errstate(divide="ignore", invalid="ignore"):
            given = profit / revenue
    elif "margin" in table.columns:
        given = checked_numbers(table["margin"], "margin", cells)
    else:
        return drawn
    return np.where(np.isfinite(given), given, drawn)


def held_problems(table: pd.DataFrame, policy: Policy) -> list[Problem]:
    """Every title in ``table``'s held column that is no programme and level of ``policy``
    (the scenario's, before any programme sits out of the simulation), by programme id or
    name, named by the file's row (``problem_checks.check_held``, as for a candidate table)."""
    if "held" not in table.columns or not table["held"].notna().any():
        return []
    held_at = held_by_id(parse_held_cells(table["held"]), policy)
    rows = table["row"].astype(str).tolist() if "row" in table.columns else []
    return check_held(policy, held_at, rows, table.attrs.get("source", "population"))
