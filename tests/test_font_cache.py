"""The report's font subsets cached on disk (results/font_cache.py): the same bytes as a fresh
subset, read back for the same characters, never trusted when damaged, and never in the way."""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path

import pytest

from liangye.results import font_cache
from liangye.results.font_cache import CACHE_ENV, cached_subset, is_whole_woff, subset_key
from liangye.results.report_html import embedded_font_css

PAGE = "候选说明：评分需达到76.1分方可入选（估算）"


def _woff(css: str) -> bytes:
    """The WOFF bytes inside an @font-face rule."""
    found = re.search(r"base64,([A-Za-z0-9+/=]+)\)", css)
    assert found, css[:200]
    return base64.b64decode(found.group(1))


@pytest.fixture
def cache(tmp_path: Path, monkeypatch) -> Path:
    """A fresh cache folder for one test."""
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache" / font_cache.FOLDER


def test_a_cached_subset_is_the_fresh_subset_and_is_read_back(cache: Path, monkeypatch) -> None:
    monkeypatch.setenv(CACHE_ENV, "off")
    fresh = _woff(embedded_font_css(PAGE))
    assert not cache.exists()  # turned off: nothing written
    monkeypatch.setenv(CACHE_ENV, str(cache.parent))
    first = _woff(embedded_font_css(PAGE))
    assert first == fresh
    assert len(list(cache.glob("*.woff"))) == 1
    # The same characters in another order, repeated: the same entry, not made again.
    made = []
    original = font_cache.cached_subset

    def spy(font, recipe, characters, make):
        return original(font, recipe, characters, lambda: made.append(1) or make())

    monkeypatch.setattr("liangye.results.report_html.cached_subset", spy)
    again = _woff(embedded_font_css(PAGE[::-1] + PAGE))
    assert again == fresh and made == []
    # Other characters: another subset, made and stored beside the first.
    other = _woff(embedded_font_css(PAGE + "珺"))
    assert made == [1] and other != fresh
    assert len(list(cache.glob("*.woff"))) == 2


def test_a_damaged_cache_file_is_made_again(cache: Path) -> None:
    made = []

    def make() -> bytes:
        made.append(1)
        return b"wOFF" + b"\0" * 4 + (48).to_bytes(4, "big") + b"\1" * 36

    font = Path(__file__)  # any file: the key reads its name, size and time only
    good = cached_subset(font, "recipe", "abc", make)
    assert is_whole_woff(good) and made == [1]
    entry = next(cache.glob("*.woff"))
    entry.write_bytes(good[:20])  # cut short, as by a full disk
    assert cached_subset(font, "recipe", "cab", make) == good
    assert made == [1, 1]
    assert entry.read_bytes() == good  # replaced by the whole file


def test_the_key_follows_font_recipe_and_characters(tmp_path: Path) -> None:
    font = tmp_path / "font.otf"
    font.write_bytes(b"x")
    key = subset_key(font, "recipe", "ab")
    assert subset_key(font, "recipe", "baab") == key
    assert subset_key(font, "other recipe", "ab") != key
    assert subset_key(font, "recipe", "abc") != key
    os.utime(font, ns=(1, 1))  # the font replaced: its time changes
    assert subset_key(font, "recipe", "ab") != key


def test_an_unwritable_cache_still_gives_the_subset(tmp_path: Path, monkeypatch) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    monkeypatch.setenv(CACHE_ENV, str(blocked))
    data = b"wOFF" + b"\0" * 4 + (44).to_bytes(4, "big") + b"\0" * 32
    assert cached_subset(Path(__file__), "recipe", "abc", lambda: data) == data


def test_the_cache_keeps_the_most_recently_used(cache: Path, monkeypatch) -> None:
    monkeypatch.setattr(font_cache, "MOST_ENTRIES", 3)

    def woff(tag: int) -> bytes:
        return b"wOFF" + b"\0" * 4 + (45).to_bytes(4, "big") + b"\0" * 32 + bytes([tag])

    font = Path(__file__)
    for i in range(3):
        cached_subset(font, "recipe", str(i), lambda i=i: woff(i))
    oldest = cache / f"{subset_key(font, 'recipe', '0')}.woff"
    later = time.time_ns() + 10**12
    os.utime(oldest, ns=(later, later))  # used last
    cached_subset(font, "recipe", "3", lambda: woff(3))
    kept = {p.name for p in cache.glob("*.woff")}
    assert len(kept) == 3
    assert oldest.name in kept
    assert f"{subset_key(font, 'recipe', '1')}.woff" not in kept


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv(CACHE_ENV, "OFF")
    assert font_cache.cache_folder() is None
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert font_cache.cache_folder() == tmp_path / "liangye" / font_cache.FOLDER
