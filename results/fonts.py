"""A CJK font for plots, from the PyPI package ``mplfonts``, so every machine draws the same Chinese."""

from __future__ import annotations

import functools
import importlib.resources
import logging
from pathlib import Path

from matplotlib import font_manager, rcParams

log = logging.getLogger(__name__)

#: The font file inside the ``mplfonts`` wheel (Noto Sans CJK SC, SIL Open Font License).
FONT_PACKAGE = "mplfonts"
FONT_FILE = "NotoSansCJKsc-Regular.otf"


def chinese_font_path() -> Path | None:
    """The bundled Noto Sans CJK SC file, or None when ``mplfonts`` or its font is missing."""
    try:
        resource = importlib.resources.files(FONT_PACKAGE) / "fonts" / FONT_FILE
    except ModuleNotFoundError:
        return None
    # A wheel installs as plain files, so the resource is a real path matplotlib can open.
    path = Path(str(resource))
    return path if path.is_file() else None


@functools.cache
def _register(path: Path) -> str:
    """Add the font file to matplotlib's font list once per process; return its family name."""
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path)).get_name()


def use_chinese_font() -> str | None:
    """Make matplotlib draw Chinese with the bundled CJK font; return the family used.

    Registers Noto Sans CJK SC from ``mplfonts`` (once per process), puts it first in
    ``font.sans-serif`` and turns ``axes.unicode_minus`` off (the CJK font has no U+2212 minus
    glyph, so matplotlib's default would draw a box). Safe to call before every figure: the
    rcParams are set again each time in case something reset them. When the package or its
    font file is missing, logs a warning naming how to install it and returns None; plots
    are still drawn with matplotlib's default font (Chinese characters then show as boxes).
    """
    path = chinese_font_path()
    if path is None:
        log.warning(
            "未找到中文字体 %s（PyPI 包 %s），图中汉字将无法显示：请运行 pip install %s",
            FONT_FILE,
            FONT_PACKAGE,
            FONT_PACKAGE,
        )
        return None
    try:
        family = _register(path)
    except (OSError, RuntimeError) as error:
        # A damaged file must not stop the plots; they fall back to the default font.
        log.warning("中文字体 %s 无法载入（%s），图中汉字将无法显示", path, error)
        return None
    rcParams["font.family"] = "sans-serif"
    rcParams["font.sans-serif"] = [family, *[f for f in rcParams["font.sans-serif"] if f != family]]
    rcParams["axes.unicode_minus"] = False
    return family
