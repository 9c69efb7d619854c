"""One self-contained HTML page from sections of text, tables and figures (Jinja2, escaped)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import io
import logging
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import jinja2
import pandas as pd

from .font_cache import cached_subset
from .fonts import chinese_font_path
from .store import write_atomic

log = logging.getLogger(__name__)

# Characters the font subset always holds, whatever the page says (digits, Latin letters,
# punctuation in both widths), so a number typed into a printed copy's margin never boxes.
_ALWAYS = (
    "".join(chr(c) for c in range(0x20, 0x7F)) + "，。、；：？！（）【】《》“”‘’…—～·％＋－×÷≤≥→←"
)
# What the subsetting below does, in words: part of the font cache's key, so a change here
# must change it (a cached subset made another way is then no longer found).
FONT_RECIPE = "woff; layout features kern; notdef outline; bounding boxes and timestamp kept"
# The page is a few hundred kilobytes at most: a long table is cut with a note saying so.
MOST_ROWS = 300


@dataclass
class Table:
    """A table as the reader sees it: headers, formatted cells, which columns are numbers."""

    headers: list[str]
    rows: list[list[str]]
    caption: str | None = None
    numeric: list[bool] = field(default_factory=list)
    note: str | None = None

    wide: list[bool] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One flag per column, so the template never indexes past the list.
        self.numeric = [*self.numeric, *[False] * len(self.headers)][: len(self.headers)]
        # Columns of long text wrap; the others (names, codes, numbers) stay on one line.
        longest = [
            max((len(row[i]) for row in self.rows), default=0) for i in range(len(self.headers))
        ]
        self.wide = [n > 24 for n in longest]


@dataclass
class Figure:
    """A PNG figure with its caption, embedded in the page as a data URI."""

    caption: str
    png: bytes
    alt: str = ""

    @property
    def uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


@dataclass
class Section:
    """A titled part of the report: paragraphs, then tables, then figures."""

    title: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    anchor: str = ""


@dataclass
class Report:
    """The whole page: a title, facts shown at the top (label, value) and sections."""

    title: str
    subtitle: str = ""
    facts: list[tuple[str, str]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)


def money(value: object, digits: int = 0) -> str:
    """万元 with thousands separators; an empty cell for nothing; ∞ for no upper end."""
    if isinstance(value, int | float) and value == math.inf:
        return "∞"
    number = _number(value)
    return "" if number is None else f"{_half_up(number, digits):,.{digits}f}"


def share(value: object, digits: int = 1) -> str:
    """A fraction as a percent ("4.9%"); an empty cell for nothing."""
    number = _number(value)
    return "" if number is None else f"{_half_up(number, digits, percent=True):.{digits}f}%"


def number(value: object, digits: int = 1) -> str:
    """A number with separators, trailing zeros of the decimals dropped."""
    value = _number(value)
    if value is None:
        return ""
    text = f"{_half_up(value, digits):,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _half_up(value: float, digits: int, percent: bool = False) -> Decimal:
    """``value`` rounded half away from zero at ``digits`` decimals, as written (its
    shortest repr): 12.5 → 13 and 2,422.75 → 2,422.8, as a reader rounds and as the
    workbook's exact figures suggest (Python's own formatting rounds half to even, or by the
    binary value: 12.5 → 12 beside 7.5 → 8)."""
    exact = Decimal(repr(value))
    if percent:  # scaled in decimal: 0.0515 * 100 is 5.1499999… in binary (5.1%, not 5.2%)
        exact = exact.scaleb(2)
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP) + 0  # no -0


def _number(value: object) -> float | None:
    if value is None or isinstance(value, str):
        return None
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def frame_table(
    frame: pd.DataFrame,
    headers: dict[str, str],
    formats: dict[str, object] | None = None,
    caption: str | None = None,
    most: int = MOST_ROWS,
) -> Table:
    """A table of ``frame``'s columns named in ``headers`` (column -> Chinese header), cells
    formatted by ``formats`` (column -> function to text; text as it is otherwise), at most
    ``most`` rows with a note saying how many were left out."""
    formats = formats or {}
    columns = [c for c in headers if c in frame.columns]
    shown = frame.head(most)
    rows = [
        [_cell(value, formats.get(column)) for column, value in zip(columns, row, strict=True)]
        for row in shown[columns].itertuples(index=False)
    ]
    numeric = [
        column in formats or pd.api.types.is_numeric_dtype(frame[column]) for column in columns
    ]
    note = (
        f"仅列出前 {most} 行，共 {len(frame)} 行；完整内容见运行文件夹中的表格文件。"
        if len(frame) > most
        else None
    )
    return Table([headers[c] for c in columns], rows, caption, numeric, note)


def _cell(value: object, form: object) -> str:
    if callable(form):
        return str(form(value))
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def pairs_table(rows: Sequence[tuple[str, str]], caption: str | None = None) -> Table:
    """A two-column table of (item, value) rows."""
    return Table(["项目", "数值"], [[k, v] for k, v in rows], caption, [False, False])


@functools.cache
def template() -> jinja2.Template:
    """The report's page template, compiled once per process."""
    # Autoescape: every value (a firm's name, a reason) is text, never markup.
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("liangye.results", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html.j2")


def render(report: Report) -> str:
    """The report as one HTML document: styles inline, figures and the font (a subset of
    Noto Sans CJK SC holding the characters the page uses) embedded, no external request,
    laid out for print as well as for the screen."""
    created = dt.datetime.now(dt.UTC).astimezone().strftime("%Y-%m-%d %H:%M")
    page = template().render(report=report, created=created, font_face=_PLACEHOLDER)
    # The font is cut to the characters of the page itself (markup and data are ASCII).
    return page.replace(_PLACEHOLDER, embedded_font_css("".join(set(page))))


_PLACEHOLDER = "/*liangye-font-face*/"


def embedded_font_css(text: str) -> str:
    """An @font-face rule with the CJK font, cut to the characters of ``text`` (WOFF, base64),
    so the page shows the same Chinese on a machine without any CJK font. Empty (the
    browser's own fonts are used) when the bundled font is missing."""
    path = chinese_font_path()
    if path is None:
        log.warning("未找到中文字体：报告将使用浏览器自带字体显示汉字")
        return ""
    # A page with the same characters as an earlier one takes its subset from the cache
    # (font_cache.py): the subsetting below is the last 0.35 s that ``liangye run`` waits for.
    import fontTools

    recipe = f"{FONT_RECIPE}; fontTools {fontTools.version}"
    woff = cached_subset(path, recipe, text + _ALWAYS, lambda: _font_subset(path, text))
    data = base64.b64encode(woff).decode("ascii")
    return (
        "@font-face { font-family: 'LiangyeCJK'; font-style: normal; font-weight: 400; "
        f"src: url(data:font/woff;base64,{data}) format('woff'); }}"
    )


def _font_subset(path: Path, text: str) -> bytes:
    """The font at ``path`` cut to the characters of ``text`` and ``_ALWAYS``, as WOFF bytes
    (made as ``FONT_RECIPE`` says)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    # Only Latin kerning of the layout features: the page is horizontal Simplified Chinese
    # in the SC font itself, so the CJK substitutions (locale and vertical forms, glyph
    # composition) change no glyph it shows, and their closure was half of the subsetting
    # time (0.78 → 0.33 s) and 40% of the bytes (136 → 82 KB on the default run's page).
    # All of them ("*") were 22% more again.
    options.layout_features = ["kern"]
    options.notdef_outline = True
    # The font-wide bounding boxes are kept as the full font has them (a superset of the
    # subset's): recomputing them from every glyph outline was 75% of the save (0.21 s).
    # Its timestamp too: the same page gives the same bytes, whenever it is written.
    font = TTFont(str(path), lazy=True, recalcBBoxes=False, recalcTimestamp=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text + _ALWAYS)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font.flavor = "woff"
    font.save(buffer)
    return buffer.getvalue()


def write_html(path: Path, page: str) -> Path:
    """Write the page as UTF-8, atomically."""
    return write_atomic(path, lambda p: p.write_text(page, encoding="utf-8"))


def unique_anchors(sections: Iterable[Section]) -> None:
    """Give each section an anchor for the contents list (s1, s2, …) where it has none."""
    for i, section in enumerate(sections, start=1):
        section.anchor = section.anchor or f"s{i}"
