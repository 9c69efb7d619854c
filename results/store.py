"""The result store: one folder per run, files written atomically, a JSON manifest."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import platform
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pandas as pd

DEFAULT_ROOT = Path("results")
TRACKED_PACKAGES = (
    "liangye",
    "pyomo",
    "highspy",
    "numpy",
    "pandas",
    "pyarrow",
    "mesa",
    "dask",
    "distributed",
)


def package_versions() -> dict[str, str]:
    """Versions of the packages a result depends on, for the manifest."""
    versions = {"python": platform.python_version()}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def new_run_dir(root: Path | None, label: str, fingerprint: str, kind: str = "runs") -> Path:
    """A fresh folder ``<root>/<kind>/<UTC time>-<label>-<fingerprint>`` (created)."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    base = (root or DEFAULT_ROOT) / kind
    path = base / f"{stamp}-{label}-{fingerprint}"
    suffix = 1
    while path.exists():
        suffix += 1
        path = base / f"{stamp}-{label}-{fingerprint}-{suffix}"
    path.mkdir(parents=True)
    return path


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status", encoding="utf-8", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    # Elsewhere the only way to read it is to set it and put it back at once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _terminate(signum: int, frame: object) -> None:
    """A termination signal as SystemExit, so ``finally`` blocks remove partial files."""
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def _cleanup_on_termination() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP left at their default (which kills the process
    without running ``finally``) raise SystemExit instead; handlers a caller set are kept."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    replaced: dict[int, object] = {}
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) == signal.SIG_DFL:
            replaced[signum] = signal.signal(signum, _terminate)
    try:
        yield
    finally:
        for signum, previous in replaced.items():
            signal.signal(signum, previous)


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same folder and rename it into place, so a
    crash never leaves a half-written file under the final name.

    The temporary ``.part`` file is removed whenever writing fails, is interrupted or the
    process is told to terminate. The file gets the mode any new file of the user gets
    (0644 under umask 022), not the 0600 of the temporary.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary: str | None = None
    with _cleanup_on_termination():
        try:
            handle, temporary = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".part"
            )
            os.close(handle)
            write(Path(temporary))
            # mkstemp makes the file private; the result is an output like any other.
            os.chmod(temporary, 0o666 & ~current_umask())
            os.replace(temporary, path)
        finally:
            if temporary is not None and os.path.exists(temporary):
                os.unlink(temporary)
    return path


def finite_json(value: object) -> object:
    """``value`` with every float that is not finite as None: JSON has no Infinity or NaN,
    and strict parsers refuse the files Python's json writes with them."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def write_json(path: Path, data: dict) -> Path:
    """``data`` as indented UTF-8 JSON (a number that is not finite as null), written
    atomically."""
    text = json.dumps(finite_json(data), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    return write_atomic(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` as Parquet without its index, written atomically."""
    return write_atomic(path, lambda p: frame.to_parquet(p, index=False))


def write_manifest(folder: Path, **fields: object) -> Path:
    """``manifest.json``: what was run, with which versions, when, and which files it made."""
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "files": sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")),
        **fields,
    }
    return write_json(folder / "manifest.json", manifest)
