"""Font subsets kept on disk by the characters they hold: a report whose page uses the same
characters as an earlier one (the same scenario run again) skips fontTools' subsetting.

Cutting the bundled CJK font to a page's characters costs about 0.35 s, most of it fixed
(reading and executing the font's CFF charstrings), and it is the last thing ``liangye run``
waits for. The subset is a pure function of the font file, the subsetting recipe and the
set of characters, so it is stored under a hash of those three and read back the next time
the same three come together: the bytes are the same as a fresh subset's.

Where: ``$LIANGYE_CACHE_DIR`` (``off`` turns the cache off), else
``$XDG_CACHE_HOME/liangye``, else ``~/.cache/liangye``; in its ``font-subsets`` folder, at
most ``MOST_ENTRIES`` files (about 110 KB each), the least recently used removed first. The
cache is only ever a shortcut: a file that cannot be read, written or that is not a whole
WOFF file is ignored and the subset made afresh.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import struct
from collections.abc import Callable
from pathlib import Path

from .store import write_atomic

log = logging.getLogger(__name__)

CACHE_ENV = "LIANGYE_CACHE_DIR"
FOLDER = "font-subsets"
MOST_ENTRIES = 64
_OFF = {"", "0", "off", "none", "false"}


def cache_folder() -> Path | None:
    """The folder of cached font subsets, or None when the cache is turned off."""
    configured = os.environ.get(CACHE_ENV)
    if configured is not None:
        if configured.strip().lower() in _OFF:
            return None
        return Path(configured).expanduser() / FOLDER
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "liangye" / FOLDER


def subset_key(font: Path, recipe: str, characters: str) -> str:
    """The cache key of ``font`` cut by ``recipe`` to ``characters`` (their order and
    repeats do not matter): the font file by name, size and modification time."""
    stat = font.stat()
    digest = hashlib.sha256()
    for part in (font.name, str(stat.st_size), str(stat.st_mtime_ns), recipe):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update("".join(sorted(set(characters))).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def is_whole_woff(data: bytes) -> bool:
    """Whether ``data`` is a WOFF file as long as its own header says (not cut short)."""
    if len(data) < 44 or data[:4] != b"wOFF":
        return False
    (length,) = struct.unpack(">I", data[8:12])
    return length == len(data)


def cached_subset(font: Path, recipe: str, characters: str, make: Callable[[], bytes]) -> bytes:
    """The WOFF bytes of ``font`` cut by ``recipe`` to ``characters``: read from the cache
    when there, else ``make()`` (which must return exactly that subset), stored for next
    time."""
    folder = cache_folder()
    if folder is None:
        return make()
    path = folder / f"{subset_key(font, recipe, characters)}.woff"
    try:
        data = path.read_bytes()
    except OSError:
        data = b""
    if is_whole_woff(data):
        with contextlib.suppress(OSError):  # a read-only cache still serves
            os.utime(path)  # recently used: pruned last
        return data
    data = make()
    try:
        write_atomic(path, lambda p: p.write_bytes(data))
        _prune(folder)
    except OSError as error:  # a read-only home, a full disk: the page is made all the same
        log.debug("font subset not cached in %s: %s", folder, error)
    return data


def _prune(folder: Path) -> None:
    """Keep the ``MOST_ENTRIES`` most recently used subsets in ``folder``."""
    entries = []
    for path in folder.glob("*.woff"):
        try:
            entries.append((path.stat().st_mtime_ns, path))
        except OSError:  # removed meanwhile by another report
            continue
    entries.sort(reverse=True)
    for _, path in entries[MOST_ENTRIES:]:
        path.unlink(missing_ok=True)
