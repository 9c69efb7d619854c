"""The result store: one folder per run, files written atomically, a JSON manifest."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import tempfile
from collections.abc import Callable
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


def write_atomic(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through a temporary file in the same folder and rename it into place, so a
    crash never leaves a half-written file under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return path


def write_json(path: Path, data: dict) -> Path:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return write_atomic(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
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
