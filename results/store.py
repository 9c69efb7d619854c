"""The result store: one folder per run, files written atomically, a JSON manifest.

A run folder holds one run's files only, and says whether the run finished:

* ``start_run`` readies the folder. A folder that does not exist or is empty is used as it
  is. A folder holding nothing but an earlier liangye run's files (its ``manifest.json`` or
  ``INCOMPLETE`` marker among them, every other file one liangye writes) is cleared first,
  and the names removed are returned for the caller to say so. A folder holding anything
  else is refused (InputError naming the folder and the files liangye did not write): no
  file of the user's is ever deleted or left beside a new run.
* ``start_run`` then writes an ``INCOMPLETE`` marker, before any output;
* ``finish_run``, called once every output is written, rewrites ``manifest.json`` with
  ``"complete": true`` (and the final list of files) and only then removes the marker.

So a folder whose manifest lacks ``"complete": true``, or that still holds ``INCOMPLETE``,
is a run that was interrupted or failed.
"""

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
from typing import Any

import numpy as np
import pandas as pd

from liangye.model.errors import InputError, Problem

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


def code_hash() -> str:
    """A short hash of liangye's own source (every module of its five packages, by path and
    content): what ``package_versions`` cannot tell apart, as the version stays 0.1.0 while
    the code and its defaults change. A sweep resumed after such a change would mix runs of
    two models in one store (review 14: 14 of 40 rows differed)."""
    import hashlib

    import liangye
    from liangye import agents, model, results, scenarios

    digest = hashlib.sha256()
    for package in (liangye, model, agents, scenarios, results):
        for folder in package.__path__:
            for path in sorted(Path(folder).glob("*.py")):  # the packages are flat
                digest.update(f"{package.__name__}/{path.name}\n".encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


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


INCOMPLETE = "INCOMPLETE"
# Every file and folder a run, a simulation or a frontier writes into its folder.
RUN_FILES = frozenset(
    {
        INCOMPLETE,
        "manifest.json",
        # allocation (scenarios/runner.py)
        "allocation.json",
        "plan.csv",
        "reasons.csv",
        "plan.xlsx",
        "plan.parquet",
        "reasons.parquet",
        # frontier
        "frontier.parquet",
        "frontier.csv",
        "frontier.png",
        # simulation (scenarios/simulate.py), in the folder or in its simulation/
        "trajectories.parquet",
        "awards.parquet",
        "payments.parquet",
        "firms.parquet",
        "summary.json",
        "servitization.png",
        # the report (results/report.py), written last
        "report.html",
    }
)
SIMULATION_FOLDER = "simulation"


def _ours(path: Path) -> bool:
    """Whether ``path`` is a file liangye writes into a run folder (a leftover ``.part``
    temporary included), or a simulation/ folder holding only such files."""
    if path.is_dir() and not path.is_symlink():
        return path.name == SIMULATION_FOLDER and all(_ours(p) for p in path.iterdir())
    if path.name.startswith(".") and path.name.endswith(".part"):
        return path.name[1:].removesuffix(".part").rsplit(".", 1)[0] in RUN_FILES
    return path.name in RUN_FILES


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        for child in path.iterdir():
            _remove(child)
        path.rmdir()
    else:
        path.unlink()


def prepare_run_dir(folder: Path) -> list[str]:
    """Make ``folder`` ready for one new run's files; return the names cleared from it.

    Promises: a missing folder is created; an empty one is used as it is; one holding only
    an earlier run's files (a ``manifest.json`` or ``INCOMPLETE`` among them, and nothing
    liangye does not write) is emptied and the names removed are returned, sorted; anything
    else raises InputError naming the folder and the files liangye did not write, and
    nothing is removed.
    """
    if folder.exists() and not folder.is_dir():
        raise InputError(
            [
                Problem(
                    "--out",
                    str(folder),
                    "is a file, not a folder",
                    "是一个文件，不是文件夹：请给出用于存放结果的文件夹",
                )
            ]
        )
    folder.mkdir(parents=True, exist_ok=True)
    entries = sorted(folder.iterdir(), key=lambda p: p.name)
    if not entries:
        return []
    foreign = [p.name for p in entries if not _ours(p)]
    names = {p.name for p in entries}
    if foreign or not names & {"manifest.json", INCOMPLETE}:
        shown = foreign or [p.name for p in entries]
        listed = ", ".join(shown[:10]) + (f" and {len(shown) - 10} more" if len(shown) > 10 else "")
        listed_zh = "、".join(shown[:10]) + (f" 等 {len(shown)} 个" if len(shown) > 10 else "")
        raise InputError(
            [
                Problem(
                    "--out",
                    str(folder),
                    f"holds files that are not an earlier liangye run's ({listed}): give an "
                    "empty or new folder (a folder holding only an earlier run is cleared)",
                    f"其中有不是 liangye 先前运行所写的文件（{listed_zh}）：请给出空的或新的"
                    "文件夹（只含先前一次运行结果的文件夹会被清空后使用）",
                )
            ]
        )
    for path in entries:
        _remove(path)
    return [p.name for p in entries]


def start_run(folder: Path, command: str | None = None) -> list[str]:
    """Ready ``folder`` (``prepare_run_dir``: refused, cleared or new) and write its
    ``INCOMPLETE`` marker before any output; return the names of an earlier run cleared."""
    cleared = prepare_run_dir(folder)
    started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    text = (
        f"This run started at {started} and has not finished (or was interrupted): its files "
        "may be missing or from part of the run.\n"
        f"command: {command or '?'}\n"
        'A finished run has no INCOMPLETE file and its manifest.json says "complete": true.\n'
    )
    write_atomic(folder / INCOMPLETE, lambda p: p.write_text(text, encoding="utf-8"))
    return cleared


def finish_run(folder: Path) -> Path:
    """Mark the run in ``folder`` complete: its manifest rewritten with ``"complete": true``
    and the final list of files, then the ``INCOMPLETE`` marker removed (in that order, so
    a reader never sees a run marked neither way). Call only once every output is written."""
    path = folder / "manifest.json"
    manifest = read_json(path)
    manifest.update(
        files=run_listing(folder),
        complete=True,
        finished=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    write_json(path, manifest)
    (folder / INCOMPLETE).unlink(missing_ok=True)
    return path


def run_finished(folder: Path, manifest: dict[str, Any] | None = None) -> bool:
    """Whether the run in ``folder`` finished: its manifest (read unless given) says
    ``"complete": true`` and no ``INCOMPLETE`` marker is left (module docstring)."""
    if manifest is None:
        manifest = read_json(folder / "manifest.json")
    return bool(manifest.get("complete")) and not (folder / INCOMPLETE).exists()


def run_listing(folder: Path) -> list[str]:
    """The run's files for the manifest: not hidden temporaries, not the marker."""
    return sorted(
        p.name for p in folder.iterdir() if not p.name.startswith(".") and p.name != INCOMPLETE
    )


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
    and strict parsers refuse the files Python's json writes with them. NumPy scalars
    become the Python numbers they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite_json(item) for item in value]
    return value


def read_json(path: Path) -> dict[str, Any]:
    """A JSON file this package wrote, {} when it is not there; an InputError naming the file
    when it is not JSON (cut short by a full disk, or edited by hand)."""
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError([Problem(str(path), "", f"is not readable JSON ({error})")]) from None


def write_json(path: Path, data: dict) -> Path:
    """``data`` as indented UTF-8 JSON (a number that is not finite as null), written
    atomically."""
    text = json.dumps(finite_json(data), ensure_ascii=False, indent=2, default=str, allow_nan=False)
    return write_atomic(path, lambda p: p.write_text(text + "\n", encoding="utf-8"))


def write_parquet(path: Path, frame: pd.DataFrame) -> Path:
    """``frame`` as Parquet without its index, written atomically."""
    return write_atomic(path, lambda p: frame.to_parquet(p, index=False))


def write_manifest(folder: Path, **fields: object) -> Path:
    """``manifest.json``: what was run, with which versions, when, and which files it made;
    ``"complete": false`` until ``finish_run`` marks the run finished."""
    manifest = {
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "versions": package_versions(),
        "files": run_listing(folder),
        "complete": False,  # finish_run sets it once every output is written
        **fields,
    }
    return write_json(folder / "manifest.json", manifest)
