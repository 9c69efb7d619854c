"""Levels, money and shares: the units of the policies and their conversion on input."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from enum import StrEnum

# Years a plan, a policy or a simulation may name (the People's Republic's to the end of the
# century), and the longest horizon: every option is a (candidate, tier, year), so a typo
# like 20026 would ask for millions of options before failing.
FIRST_YEAR, LAST_YEAR, MAX_HORIZON = 1949, 2100, 30


def year_pair(value: object) -> object:
    """A file's ``years`` as [FIRST, LAST]: ``[2024]`` is the year 2024 alone (policies and
    scenarios alike); any other count than one or two years is refused."""
    from .errors import InvalidValue  # errors imports pydantic; units stays light

    if isinstance(value, list | tuple):
        if len(value) == 1:
            return (value[0], value[0])
        if len(value) != 2:
            raise InvalidValue(
                f"expected [FIRST, LAST] (e.g. [2024, 2026]) or [YEAR], got {len(value)} years",
                f"应写作 [首年, 末年]（如 [2024, 2026]）或 [年份]，而这里写了 {len(value)} 个年份",
            )
    return value


class Level(StrEnum):
    """Government levels, highest first. The order is the order of precedence."""

    national = "national"
    provincial = "provincial"
    municipal = "municipal"
    district = "district"

    @property
    def rank(self) -> int:
        """0 for national ... 3 for district: lower is higher."""
        return LEVEL_ORDER.index(self)

    @property
    def chinese(self) -> str:
        return LEVEL_CHINESE[self]


LEVEL_ORDER: list[Level] = [Level.national, Level.provincial, Level.municipal, Level.district]
LEVEL_CHINESE: dict[Level, str] = {
    Level.national: "国家级",
    Level.provincial: "省级",
    Level.municipal: "市级",
    Level.district: "区县级",
}
_LEVEL_ALIASES: dict[str, Level] = {
    **{lv.value: lv for lv in Level},
    **{zh: lv for lv, zh in LEVEL_CHINESE.items()},
    "国家": Level.national,
    "省": Level.provincial,
    "市": Level.municipal,
    "区县": Level.district,
    "县级": Level.district,
    "区级": Level.district,
}


def parse_level(text: str) -> Level:
    """Read a level given in English or Chinese ("provincial", "省级"); raise ValueError."""
    key = str(text).strip().lower()
    if key in _LEVEL_ALIASES:
        return _LEVEL_ALIASES[key]
    raise ValueError(f"'{text}' is not a level (expected one of {', '.join(_LEVEL_ALIASES)})")


# Money units a header may state, as multiples of 万元.
MONEY_UNITS: dict[str, Decimal] = {
    "元": Decimal("0.0001"),
    "千元": Decimal("0.1"),
    "万元": Decimal(1),
    "百万元": Decimal(100),
    "千万元": Decimal(1000),
    "亿元": Decimal(10000),
    "万": Decimal(1),
    "百万": Decimal(100),
    "千万": Decimal(1000),
    "亿": Decimal(10000),
}


class NotFiniteError(ValueError):
    """A cell that reads as a number but is not a finite one ("inf", "nan", "1e400")."""


# The full-width forms of ASCII (U+FF01-U+FF5E) and the ideographic space, as their ASCII.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def parse_number(text: object) -> float:
    """Read a finite number from a cell: ints, floats, "1,234.5", "1 234"; raise ValueError.

    "inf", "nan" and overflowing numbers raise NotFiniteError: a score of inf or a revenue
    of NaN would otherwise reach the model and move money without a word.
    """
    if isinstance(text, bool):
        raise ValueError(f"'{text}' is not a number")
    if isinstance(text, int | float):
        if isinstance(text, float) and math.isnan(text):
            raise ValueError("is empty")
        value = float(text)
    else:
        # Full-width digits and points (２４．８, typed with a Chinese input method) read as
        # the digits they are, "，" as a comma and "　" as a space; only those forms: NFKC
        # also folds superscripts and circled numbers, and read a footnote marker in
        # "54225¹" as a digit (542251, review 21).
        cleaned = str(text).translate(_FULL_WIDTH).strip()
        cleaned = cleaned.replace(",", "").replace(" ", "")
        if not cleaned:
            raise ValueError("is empty")
        if cleaned.lstrip("+-") == "∞":  # what some sheets show for an overflowed number
            raise NotFiniteError(f"'{text}' is not a finite number")
        try:
            value = float(cleaned)
        except ValueError:
            raise ValueError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise NotFiniteError(f"'{text}' is not a finite number")
    return value


def _percent_text(text: object) -> str | None:
    """The number in "20%" or "20％", or None when the cell has no percent sign."""
    if isinstance(text, str) and text.strip().endswith(("%", "％")):
        return text.strip()[:-1]
    return None


def parse_share(text: object) -> float:
    """Read a share as a fraction in [0, 1]: "0.2", "20%", "20％"; raise ValueError.

    A bare number above 1 is refused rather than guessed to be a percent: 30 could mean
    30% or a typo, and silently wrong shares would move money.
    """
    number = _percent_text(text)
    try:
        value = parse_number(text) if number is None else parse_number(number) / 100
    except NotFiniteError:
        raise NotFiniteError(f"'{text}' is not a finite number") from None
    if not 0 <= value <= 1:
        raise ValueError(f"'{text}' is not a share between 0 and 1 (write percents as '20%')")
    return value


def parse_percent(text: object, bounded: bool = True) -> float:
    """Read a cell under a header stating (%) as a fraction: 25 and "25%" are 0.25; raise
    ValueError, and outside 0-100 when ``bounded`` (a share; a growth rate is not)."""
    number = _percent_text(text)
    try:
        value = parse_number(text if number is None else number)
    except NotFiniteError:
        raise NotFiniteError(f"'{text}' is not a finite number") from None
    if bounded and not 0 <= value <= 100:
        raise ValueError(f"'{text}' is not a percent between 0 and 100")
    return value / 100


# The largest amount read as money: 10万亿元 in 万元, above the revenue of any firm or park
# (so a value in 元 under a 万元 header fails loudly instead of computing with 1e300).
MAX_AMOUNT = Decimal(1_000_000_000)


def parse_money(text: object) -> Decimal:
    """Read an amount in 万元 as an exact Decimal, refusing negatives; raise ValueError."""
    if isinstance(text, float):
        text = repr(text)
    try:
        amount = Decimal(str(text).strip().replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"'{text}' is not an amount") from None
    if not amount.is_finite():
        raise ValueError(f"'{text}' is not a finite amount")
    if amount < 0:
        raise ValueError(f"{text} is negative; amounts are in 万元 and must be ≥ 0")
    if amount > MAX_AMOUNT:
        raise ValueError(
            f"{text} is above {MAX_AMOUNT:,.0f}万元 (10万亿元), more than any award, budget or "
            "firm's revenue: check the unit (amounts are in 万元)"
        )
    return amount


# Longest first: 千万元 is not 万元 after a stray 千.
_UNITS_WRITTEN = sorted([*MONEY_UNITS, "%", "％"], key=len, reverse=True)
_UNIT_IN_HEADER = re.compile(
    r"[（(]\s*(" + "|".join(map(re.escape, _UNITS_WRITTEN)) + r")\s*[)）]\s*$"
)
# What a header may state, as a reader is told: money units, then percent.
UNITS_READ = (*MONEY_UNITS, "%")
# Any bracketed ending, for naming a unit liangye does not read (美元, 千人).
_BRACKETED_ENDING = re.compile(r"[（(]\s*([^()（）]+?)\s*[)）]\s*$")


def unknown_unit(header: str) -> tuple[str, str] | None:
    """("营业收入", "美元") for a header ending in a bracketed word that is no unit liangye
    reads; None for a header with a known unit or none."""
    if _UNIT_IN_HEADER.search(header):
        return None
    match = _BRACKETED_ENDING.search(header)
    if not match:
        return None
    return header[: match.start()].strip(), match.group(1)


def split_header_unit(header: str) -> tuple[str, str | None]:
    """Split "营业收入（亿元）" into ("营业收入", "亿元"); headers without a unit give None."""
    match = _UNIT_IN_HEADER.search(header)
    if not match:
        return header.strip(), None
    return header[: match.start()].strip(), match.group(1)
