"""Reading tabular input (CSV in UTF-8, UTF-8 with BOM or GB18030; XLSX) into raw frames."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, Problem
from .table_readings import with_readings
from .units import split_header_unit

ENCODINGS = ("utf-8-sig", "gb18030")
# How far down a sheet the header row is looked for: title and note rows above it are few.
HEADER_SEARCH_ROWS = 30
# A row naming at least this many known columns is the header; one could be a title's word.
HEADER_MIN_KNOWN = 2
ROW_INDEX_NAME = "spreadsheet_row"
_FORMULA_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?f[\s>/]")


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


@dataclass
class _Grid:
    """The filled rows of one sheet (or of a CSV file), with their spreadsheet row numbers."""

    sheet: str | None  # None for a CSV file
    rows: list[tuple[int, list[object]]] = field(default_factory=list)


def column_letter(position: int) -> str:
    """The spreadsheet letter of the 0-based column ``position`` (0 -> A, 26 -> AA)."""
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell(value: object) -> object:
    """A cell as the parsers expect it: text stripped, empty text as None, numbers kept."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _text(value: object) -> str:
    """A cell as a person reads it (2024.0 shows as 2024, as Excel shows it)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _filled(cells: list[object]) -> bool:
    return any(c is not None for c in cells)


def _csv_grid(path: Path, source: str) -> _Grid:
    """The CSV's records numbered as a spreadsheet numbers them: blank lines count, a quoted
    cell running over several lines is one row."""
    text, _ = decode_text(path.read_bytes(), source)
    grid = _Grid(None)
    reader = csv.reader(io.StringIO(text, newline=""), skipinitialspace=True)
    for number, record in enumerate(reader, start=1):
        cells = [_cell(c) for c in record]
        if _filled(cells):
            grid.rows.append((number, cells))
    return grid


def _xlsx_grids(path: Path) -> list[_Grid]:
    """Every worksheet's filled rows, with cached formula values (None where none was saved)."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        grids = []
        for sheet in book.worksheets:
            # Some writers store a wrong size; without it every stored row and cell is read.
            sheet.reset_dimensions()
            grid = _Grid(sheet.title)
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [_cell(c) for c in row]
                if _filled(cells):
                    grid.rows.append((number, cells))
            grids.append(grid)
        return grids
    finally:
        book.close()


def _has_formulas(path: Path) -> bool:
    """Whether any worksheet of the workbook stores a formula (a cheap scan of its XML)."""
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if not name.startswith("xl/worksheets/") or not name.endswith(".xml"):
                continue
            tail = b""
            with archive.open(name) as stream:
                while chunk := stream.read(1 << 20):
                    if _FORMULA_TAG.search(tail + chunk):
                        return True
                    tail = chunk[-64:]  # a tag split across two chunks is still found
    return False


def _formulas(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """{(row, 0-based column): formula text} of one sheet."""
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        found: dict[tuple[int, int], str] = {}
        worksheet = book[sheet]
        worksheet.reset_dimensions()
        for number, row in enumerate(worksheet.iter_rows(values_only=True), start=1):
            for position, value in enumerate(row):
                text = getattr(value, "text", value)  # an array formula carries its text
                if isinstance(text, str) and text.startswith("="):
                    found[(number, position)] = text
        return found
    finally:
        book.close()


def _known_headers() -> set[str]:
    """The headers of candidate and application tables, lower-cased, to find the header row."""
    # Imported here because candidates.py reads its tables through this module.
    from .candidates import APPLICATION_HEADERS, CANDIDATE_HEADERS

    return {
        alias.lower()
        for table in (CANDIDATE_HEADERS, APPLICATION_HEADERS)
        for aliases in table.values()
        for alias in aliases
    }


def _header_index(grid: _Grid, known: set[str]) -> int | None:
    """Which of the grid's first filled rows names at least two known columns, if any."""
    for index, (_, cells) in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        names = {split_header_unit(_text(c))[0].lower() for c in cells if c is not None}
        if len(names & known) >= HEADER_MIN_KNOWN:
            return index
    return None


def _quoted(cells: list[object], limit: int = 8) -> str:
    """Cells as 'a', 'b', … for a message."""
    shown = [f"'{_text(c)}'" for c in cells if c is not None]
    return ", ".join(shown[:limit]) + (", …" if len(shown) > limit else "")


def _rows_word(count: int) -> str:
    return f"{count} data row" + ("" if count == 1 else "s")


def _sheet_warning(
    grids: list[_Grid], chosen: _Grid, known: set[str], source: str
) -> tuple[str, str] | None:
    """Which sheet was read and why each other filled sheet was not (English, Chinese), or
    None for one sheet."""
    others: list[tuple[str, str]] = []
    for grid in grids:
        if grid is chosen or not grid.rows:
            continue
        index = _header_index(grid, known)
        if index is None:
            others.append(
                (
                    f"sheet '{grid.sheet}' has no header row and was not read",
                    f"工作表“{grid.sheet}”没有表头行，未读取",
                )
            )
        else:
            data = len(grid.rows) - index - 1
            others.append(
                (
                    f"sheet '{grid.sheet}' also has a header row and {_rows_word(data)}, which "
                    "were not read: put all the rows on one sheet",
                    f"工作表“{grid.sheet}”也有表头行和 {data} 行数据，未读取：请把所有行放在同一个"
                    "工作表中",
                )
            )
    if not others:
        return None
    return (
        f"{source}: read sheet '{chosen.sheet}' only; " + "; ".join(en for en, _ in others),
        f"{source}：只读取了工作表“{chosen.sheet}”；" + "；".join(zh for _, zh in others),
    )


def read_raw_table(path: str | Path, headers: Collection[str] | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX file into a frame of cells (no type guessing), headers stripped.

    The header is the first row, among a sheet's first 30 filled rows, that names at least
    two of ``headers`` (default: the candidate and application headers); rows above it are
    skipped with a warning. A workbook is read from the first sheet that has such a row.
    When no sheet has one, the first filled row of the first filled sheet is taken.

    The index holds each row's number as a spreadsheet shows it (blank rows above and
    inside the data count; blank rows are dropped). ``attrs`` carries ``source`` (the file
    name), ``sheet`` (None for CSV), ``header_row``, ``header_found``, ``header_cells``,
    ``column_letters`` (each column's spreadsheet letter), and
    ``warnings``: a list of sentences, each naming the file, that say which defensible
    reading was taken (which sheet was read and which were not, skipped title rows, columns
    without a header) for the caller to print.

    Raises InputError naming the file when it is missing, empty or unreadable, naming the
    cell of a formula saved without its value, and naming the rows of a CSV file that have
    more cells than its header.
    """
    path = Path(path)
    source = path.name
    if not path.exists():
        raise InputError([Problem(str(path), "", "file not found")])
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            grids = _xlsx_grids(path)
        elif suffix in (".csv", ".txt", ""):
            grids = [_csv_grid(path, source)]
        else:
            raise InputError(
                [Problem(source, "", "is neither .csv nor .xlsx", "既不是 .csv 也不是 .xlsx 文件")]
            )
    except InputError:
        raise
    except Exception as error:  # a corrupt file of any kind: say which, never a traceback
        raise InputError([Problem(source, "", f"cannot be read: {error}")]) from None
    filled = [g for g in grids if g.rows]
    if not filled:
        raise InputError([Problem(source, "", "is empty: expected a header row and data rows")])

    known = {h.lower() for h in headers} if headers is not None else _known_headers()
    chosen, index = filled[0], 0
    found = False
    for grid in filled:
        at = _header_index(grid, known)
        if at is not None:
            chosen, index, found = grid, at, True
            break
    warnings: list[tuple[str, str]] = []  # (English, Chinese)
    sheet_note = _sheet_warning(grids, chosen, known, source)
    if sheet_note:
        warnings.append(sheet_note)
    header_row, header = chosen.rows[index]
    if index:
        above = chosen.rows[:index]
        numbers = ", ".join(str(n) for n, _ in above)
        titles = ", ".join(_quoted(cells, 1) for _, cells in above[:3])
        skipped = (
            f"row {numbers} above it was" if len(above) == 1 else f"rows {numbers} above it were"
        )
        warnings.append(
            (
                f"{source}: row {header_row} was read as the header; {skipped} skipped ({titles})",
                f"{source}：第 {header_row} 行被当作表头；其上的第 {numbers} 行已跳过（{titles}）",
            )
        )

    data = chosen.rows[index + 1 :]
    width = len(header)
    problems: list[Problem] = []
    workbook = suffix in (".xlsx", ".xlsm")
    named = max((i for i, h in enumerate(header) if h is not None), default=-1) + 1
    for number, cells in data:
        if not workbook and len(cells) < named:
            # A cell left out of a CSV row shifts every cell after it one column left
            # (revenue read as a share); an empty cell is written as ",,".
            problems.append(
                Problem(
                    source,
                    f"row {number}",
                    f"has {len(cells)} cells but the header names {named}: a cell is missing, "
                    "so the cells after it may sit under the wrong columns (write an empty "
                    "cell as ,,)",
                    f"只有 {len(cells)} 个单元格，而表头有 {named} 列：少了一个单元格，其后各格可能"
                    "错位（空单元格请写作两个相连的逗号“,,”）",
                )
            )
            continue
        last = max(i for i, c in enumerate(cells) if c is not None)
        # In a CSV a row with more cells than the header is one whose cells have shifted (a
        # comma inside an unquoted name): reading it would put values under wrong columns. A
        # workbook's cells cannot shift; there, cells right of the header are only unnamed.
        if last >= width and not workbook:
            extra = next(i for i in range(width, len(cells)) if cells[i] is not None)
            problems.append(
                Problem(
                    source,
                    f"row {number}",
                    f"has {last + 1} cells but the header names {width} "
                    f"(cell {column_letter(extra)}: '{_text(cells[extra])}')",
                    f"有 {last + 1} 个单元格，而表头只有 {width} 列（{column_letter(extra)} 列为"
                    f"“{_text(cells[extra])}”）：可能是某个名称中的逗号未加引号，使各列错位",
                )
            )
    names: list[str] = []
    keep: list[int] = []
    widest = max([width, *(len(cells) for _, cells in data)]) if workbook else width
    for position in range(widest):
        name = header[position] if position < width else None
        if name is not None:
            names.append(_text(name).strip())
            keep.append(position)
            continue
        # Cells under no header cannot be meant for any rule: say they are left out.
        cells = [(n, row[position]) for n, row in data if position < len(row)]
        cells = [(n, c) for n, c in cells if c is not None]
        if cells:
            number, value = cells[0]
            warnings.append(
                (
                    f"{source}: column {column_letter(position)} has no header, so its cells "
                    f"were not read (row {number}: '{_text(value)}')",
                    f"{source}：{column_letter(position)} 列没有表头，其中的单元格未读取"
                    f"（第 {number} 行：“{_text(value)}”）",
                )
            )
    if workbook:
        problems += _unsaved_formulas(path, source, chosen, data, header, keep)
    if problems:
        raise InputError(problems)

    values = [[cells[p] if p < len(cells) else None for p in keep] for _, cells in data]
    frame = pd.DataFrame(
        values,
        columns=names,
        index=pd.Index([n for n, _ in data], name=ROW_INDEX_NAME),
        dtype=object,
    )
    frame.attrs.update(
        source=source,
        sheet=chosen.sheet,
        header_row=header_row,
        header_found=found,
        header_cells=[_text(c) for c in header if c is not None],
        column_letters=[column_letter(p) for p in keep],
    )
    with_readings(frame, warnings)
    return frame


def _unsaved_formulas(
    path: Path,
    source: str,
    grid: _Grid,
    data: list[tuple[int, list[object]]],
    header: list[object],
    keep: list[int],
) -> list[Problem]:
    """A problem for each formula cell in the data whose value was never saved.

    openpyxl reads such a cell as empty, which would silently drop the value; the workbook
    is read a second time, for formulas, only when it has empty cells and stores formulas.
    """
    empty = [
        (number, position)
        for number, cells in data
        for position in keep
        if position >= len(cells) or cells[position] is None
    ]
    if not empty or not _has_formulas(path):
        return []
    formulas = _formulas(path, str(grid.sheet))
    problems = []
    for number, position in empty:
        formula = formulas.get((number, position))
        if formula is None:
            continue
        cell = f"{grid.sheet}!{column_letter(position)}{number}"
        problems.append(
            Problem(
                source,
                f"row {number}",
                f"{_text(header[position])} (cell {cell}) is a formula with no saved value "
                f"('{formula}'): open the file in Excel and save it, or paste the values",
                f"“{_text(header[position])}”（单元格 {cell}）是公式（“{formula}”），文件中"
                "没有保存其计算结果：请用 Excel 打开并保存，或粘贴为数值",
            )
        )
    return problems


def spreadsheet_row(position: int) -> str:
    """The row a person sees in a spreadsheet for the 0-based data row ``position``, when the
    header is on row 1 and no blank rows intervene (frames not read by ``read_raw_table``)."""
    return f"row {position + 2}"


def spreadsheet_rows(frame: pd.DataFrame) -> list[str]:
    """Each row's "row N" as a spreadsheet shows it: from the index ``read_raw_table`` sets,
    else counted from a header on row 1."""
    if frame.index.name == ROW_INDEX_NAME:
        return [f"row {n}" for n in frame.index]
    return [spreadsheet_row(i) for i in range(len(frame))]
