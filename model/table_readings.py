"""What a candidate or applications table was read as, said to the reader: each defensible
reading taken (revenue that looks like 元, fractions under a percent header, a few scores
above 100, and those of ``tables.read_raw_table``), in English and Chinese."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .units import split_header_unit

# A median revenue above this many 万元 (100亿元) under a header without a unit is far more
# likely 元 written under a 万元 header than a pool of giants: worth a warning.
IMPLAUSIBLE_REVENUE = 1_000_000


def row_zh(row: str) -> str:
    """ "row 17" as 第 17 行."""
    return f"第 {row.removeprefix('row ')} 行" if row.startswith("row ") else row


# A score above this is a panel's points out of more than 100: fine for all of them, worth
# a word when only a few pass it (150 among scores out of 100 is likely a typo for 15 or 50).
USUAL_TOP_SCORE = 100.0


def score_warning(scores: pd.Series, rows: list[str], source: str) -> list[tuple[str, str]]:
    """A warning (English, Chinese) naming the scores above 100 when they are fewer than one
    in ten."""
    numbers = pd.to_numeric(scores, errors="coerce")
    above = numbers > USUAL_TOP_SCORE
    if not above.any() or above.mean() >= 0.1:
        return []
    first = int(np.flatnonzero(above.to_numpy())[0])
    return [
        (
            f"{source}: {int(above.sum())} score(s) above {USUAL_TOP_SCORE:g} while the others "
            f"are at most {USUAL_TOP_SCORE:g} ({rows[first]}: {numbers.iloc[first]:g}): read as "
            "written; check them if the panel scores out of 100",
            f"{source}：有 {int(above.sum())} 个评分高于 {USUAL_TOP_SCORE:g}，其余都不超过 "
            f"{USUAL_TOP_SCORE:g}（{row_zh(rows[first])}：{numbers.iloc[first]:g}）：已按所写读取；"
            "若评分满分为 100，请核对",
        )
    ]


def percent_warning(values: pd.Series, header: str, source: str) -> list[tuple[str, str]]:
    """A warning (English, Chinese) when every value under a (%) header is a fraction-like
    number ≤ 1."""
    numbers = values.dropna()
    if numbers.empty or (numbers * 100).max() > 1 or (numbers == 0).all():
        return []
    bare = split_header_unit(header)[0]
    unit = header[header.find(bare) + len(bare) :].strip()  # "（%）" or "(%)", as written
    return [
        (
            f"{source}: every value under '{header}' is at most 1, read as percents "
            f"(0.25 means 0.25%); if they are fractions, remove '{unit}' from the header",
            f"{source}：“{header}”下的每个值都不超过 1，已按百分数读取（0.25 即 0.25%）；"
            f"如果它们是小数占比，请去掉表头中的“{unit}”",
        )
    ]


def revenue_warning(frame: pd.DataFrame, header: str, source: str) -> list[tuple[str, str]]:
    """A warning (English, Chinese) when revenues under a header without a unit look like 元
    read as 万元."""
    median = frame["revenue"].dropna().median()
    if pd.isna(median) or median < IMPLAUSIBLE_REVENUE:
        return []
    return [
        (
            f"{source}: revenue has no unit in its header, so it was read as 万元, but half the "
            f"candidates then have at least {median:,.0f}万元 ({median / 10000:,.0f}亿元); if "
            f"the amounts are in 元, state the unit in the header: '{header}（元）' "
            "(e.g. 营业收入（元）)",
            f"{source}：营业收入的表头没有写单位，已按万元读取，但这样一半候选的营业收入至少为 "
            f"{median:,.0f}万元（{median / 10000:,.0f}亿元）；如果金额的单位是元，请在表头写明："
            f"“{header}（元）”",
        )
    ]


def readings_of(table: pd.DataFrame) -> list[tuple[str, str]]:
    """The readings a table was given, (English, Chinese) each (a table whose attrs carry no
    Chinese gives "")."""
    english = list(table.attrs.get("warnings", []))
    chinese = list(table.attrs.get("warnings_zh", []))
    return [(en, chinese[i] if i < len(chinese) else "") for i, en in enumerate(english)]


def with_readings(table: pd.DataFrame, said: list[tuple[str, str]]) -> None:
    """Record ``said`` in ``table.attrs``: ``warnings`` (English, what tools and tests read)
    and ``warnings_zh`` beside it."""
    table.attrs["warnings"] = [en for en, _ in said]
    table.attrs["warnings_zh"] = [zh for _, zh in said]
