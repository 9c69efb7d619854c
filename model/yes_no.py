"""The one reading of a yes/no cell (是/否, Y/N, √/×, true/false, 1/0), shared by the
candidate tables and the rules that use a column as a condition."""

from __future__ import annotations

import pandas as pd

# Words a yes/no cell may hold (compared lower-cased); an empty cell is no.
YES_WORDS = frozenset({"yes", "y", "true", "1", "√", "✓", "✔", "是", "有"})
NO_WORDS = frozenset({"no", "n", "false", "0", "×", "✗", "否", "无"})
YES_NO_EXPECTED = "is not yes or no (是/否, Y/N, √/×, 1/0)"


def is_empty(value: object) -> bool:
    """A cell with nothing in it: None or NaN."""
    return value is None or (isinstance(value, float) and pd.isna(value))


def parse_yes_no(value: object) -> bool:
    """Read a yes/no cell (是/否, Y/N, √/×, true/false, 1/0; empty is no); raise ValueError."""
    if is_empty(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower()
    if word in YES_WORDS:
        return True
    if word in NO_WORDS:
        return False
    raise ValueError(f"'{value}' {YES_NO_EXPECTED}")


def is_yes(value: object) -> bool:
    """True for a cell that reads as yes (``parse_yes_no``); anything else (no, empty, not a
    yes/no word) is false. For cells already checked, or a condition over a table nobody
    typed."""
    try:
        return parse_yes_no(value)
    except ValueError:
        return False
