"""Reading tabular input (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX) into raw frames."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem

ENCODINGS = ("utf-8-sig", "gb18030")


def decode_text(data: bytes, source: str) -> tuple[str, str]:
    """Decode CSV bytes, returning (text, encoding).

    UTF-8 (with or without BOM) is tried first because it fails loudly on other encodings;
    GB18030 next, since it is what Excel in China writes and a superset of GBK and GB2312.
    Only if both fail is charset-normalizer asked for a guess.
    """
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise InputError(
            [Problem(source, "", "is not text in UTF-8, GB18030 or any known encoding")]
        )
    return str(best), best.encoding


def read_raw_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or XLSX file into a frame of text cells (no type guessing), headers stripped.

    Raises InputError naming the file when it is missing, empty or unreadable.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise InputError([Problem(str(path), "", "file not found")])
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=object, engine="openpyxl")
        elif suffix in (".csv", ".txt", ""):
            text, _ = decode_text(path.read_bytes(), source)
            frame = pd.read_csv(
                io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True
            )
        else:
            raise InputError([Problem(source, "", "is neither .csv nor .xlsx")])
    except InputError:
        raise
    except pd.errors.EmptyDataError:
        raise InputError(
            [Problem(source, "", "is empty: expected a header row and data rows")]
        ) from None
    except Exception as error:  # a corrupt file of any kind: say which, never a traceback
        raise InputError([Problem(source, "", f"cannot be read: {error}")]) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.map(lambda v: v.strip() if isinstance(v, str) else v)
    frame = frame.replace({"": None})
    frame = frame.dropna(how="all")  # blank lines at the end of an Excel export
    frame.attrs["source"] = source
    return frame


def spreadsheet_row(position: int) -> str:
    """The row a person sees in a spreadsheet for the 0-based data row ``position``."""
    return f"row {position + 2}"
