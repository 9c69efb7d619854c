"""The bundled CJK font: registered from mplfonts, actually used for Chinese, a clean fallback."""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from fontTools.ttLib import TTFont
from matplotlib import font_manager, rcParams
from PIL import Image

from liangye.results import fonts

TEXT = "服务型制造示范企业 工业设计中心 国家级 省级 市级 支出（万元）−5"


def test_chinese_text_is_drawn_with_the_bundled_font(tmp_path: Path) -> None:
    family = fonts.use_chinese_font()
    assert family == "Noto Sans CJK SC"
    path = fonts.chinese_font_path()
    assert path is not None and path.name == "NotoSansCJKsc-Regular.otf"
    assert rcParams["font.sans-serif"][0] == family
    assert rcParams["axes.unicode_minus"] is False
    # The font matplotlib picks for the default sans-serif properties is the bundled file.
    used = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert Path(used).resolve() == path.resolve()
    # Every character of the text (bar spaces) has a glyph in it: no missing-glyph boxes.
    cmap = TTFont(path, fontNumber=0, lazy=True).getBestCmap()
    missing = [c for c in TEXT if not c.isspace() and ord(c) not in cmap]
    assert missing == []
    figure, axes = plt.subplots(figsize=(5, 2))
    label = axes.set_title(TEXT)
    axes.set_xlabel("年份")
    figure.savefig(tmp_path / "chinese.png", dpi=80)
    plt.close(figure)
    # The text object itself resolves to the bundled file when drawn.
    drawn = font_manager.findfont(label.get_fontproperties())
    assert Path(drawn).resolve() == path.resolve()
    with Image.open(tmp_path / "chinese.png") as image:
        assert image.size == (400, 160)


def test_registration_is_idempotent() -> None:
    first = fonts.use_chinese_font()
    second = fonts.use_chinese_font()
    assert first == second
    assert rcParams["font.sans-serif"].count(first) == 1


def test_missing_font_warns_and_plots_still_draw(monkeypatch, caplog, tmp_path: Path) -> None:
    monkeypatch.setattr(fonts, "FONT_PACKAGE", "liangye_no_such_font_package")
    with caplog.at_level(logging.WARNING, logger="liangye.results.fonts"):
        assert fonts.use_chinese_font() is None
    assert "pip install liangye_no_such_font_package" in caplog.text
    figure, axes = plt.subplots(figsize=(3, 2))
    axes.plot([0, 1], [0, 1])
    figure.savefig(tmp_path / "fallback.png", dpi=50)
    plt.close(figure)
    assert (tmp_path / "fallback.png").stat().st_size > 500


def test_missing_font_file_in_package_is_none(monkeypatch) -> None:
    monkeypatch.setattr(fonts, "FONT_FILE", "NoSuchFont.otf")
    assert fonts.chinese_font_path() is None
