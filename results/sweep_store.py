"""The sweep store: one folder per sweep, each finished batch an atomic Parquet part with a marker."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .store import DEFAULT_ROOT, read_json, write_atomic, write_json

log = logging.getLogger(__name__)

PARTS = "parts"
DESIGN = "design.parquet"
MANIFEST = "manifest.json"
MARKER = ".done"
LOCK = ".lock"
DAMAGED = "damaged"  # where a sweep moves parts that are not what their marker recorded

# Columns every run row has besides its levers, uncertainties and outcomes.
RUN_COLUMNS: dict[str, pa.DataType] = {
    "run_id": pa.string(),
    "position": pa.int64(),  # the run's place in the design's fixed order
    "point": pa.int64(),  # the uncertainty sample (or joint sample) it belongs to
    "replication": pa.int64(),
    "seed": pa.int64(),
}
STATUS_COLUMNS: dict[str, pa.DataType] = {
    "status": pa.string(),  # "ok" or "failed"
    "error": pa.string(),
    "seconds": pa.float64(),
}


class StoreError(Exception):
    """The folder cannot take this sweep (another sweep's, or in use by another process):
    the English as the error's text, the Chinese as ``zh``."""

    def __init__(self, message: str, zh: str = ""):
        super().__init__(message)
        self.zh = zh

    def __reduce__(self) -> tuple[type[StoreError], tuple[str, str]]:
        # Rebuilt with both sentences (the default would pass the English alone).
        return (StoreError, (str(self), self.zh))


def sweep_root(root: Path | None = None) -> Path:
    """``<root>/sweeps`` (``results/sweeps`` by default)."""
    return (root or DEFAULT_ROOT) / "sweeps"


def value_type(values: Sequence[object]) -> pa.DataType:
    """The Parquet type of a lever or uncertainty column: float, bool, or text for anything
    else (mixed types, tables), so that every part of a sweep has the same schema."""
    if values and all(isinstance(v, bool) for v in values):
        return pa.bool_()
    if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return pa.float64()
    return pa.string()


def as_column_value(value: object, kind: pa.DataType) -> object:
    """``value`` as the column of type ``kind`` holds it (text columns get JSON for tables)."""
    if value is None:
        return None
    if kind == pa.string():
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    if kind == pa.float64():
        return float(value)  # type: ignore[arg-type]
    return value


class SweepStore:
    """A sweep's folder: ``manifest.json``, ``design.parquet`` and ``parts/part-*.parquet``.

    A part counts only once its marker (``part-*.parquet.done``) exists, and the marker is
    written only after the part is in place under its final name (each through a temporary
    file and ``os.replace``), so a crash at any moment leaves either a finished part or none.
    Parts without a marker are leftovers of a crash and are removed when the store is opened.
    Parts are never rewritten: a failed run retried later gets a second row, and readers
    take a run's ok row when it has one (``liangye query``'s view ``runs``, the analysis).
    """

    def __init__(self, folder: Path, schema: pa.Schema):
        self.folder = folder
        self.schema = schema
        self.parts = folder / PARTS
        self._lock: Any = None

    # --- opening and closing ---------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[SweepStore]:
        """Hold the folder's lock while inside: a second sweep into it fails at once."""
        self.parts.mkdir(parents=True, exist_ok=True)
        handle = open(self.folder / LOCK, "w")  # noqa: SIM115 - held for the block
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise StoreError(
                f"{self.folder} is in use by another sweep",
                f"{self.folder} 正被另一个批量情景使用",
            ) from None
        try:
            self._remove_unfinished()
            yield self
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def _remove_unfinished(self) -> None:
        for part in self.parts.glob("part-*.parquet"):
            if not marker_of(part).exists():
                log.info("removing %s: written but never marked finished", part.name)
                part.unlink()
        for leftover in self.parts.glob(".*.part"):  # temporaries of a killed write
            leftover.unlink()
        # A marked part that is not what its marker recorded (cut short, changed) is moved
        # aside, once, by the sweep that will run its runs again: every later query and
        # analysis warned about it anew (review 14), and nothing reads it.
        for marker in sorted(self.parts.glob(f"part-*.parquet{MARKER}")):
            part = marker.with_name(marker.name.removesuffix(MARKER))
            if _intact(part, marker) is not None:
                continue
            aside = self.parts / DAMAGED
            aside.mkdir(exist_ok=True)
            for path in (part, marker):
                if path.exists():
                    path.replace(aside / path.name)
            log.warning(
                "%s 已损坏，移至 %s/，其中的运行将重新运行 (%s is damaged: moved to %s/, its runs "
                "run again)",
                part.name,
                DAMAGED,
                part.name,
                DAMAGED,
            )

    # --- writing ---------------------------------------------------------------------

    def write_part(self, rows: list[dict[str, object]]) -> Path:
        """Write one finished batch as a Parquet part, then its marker; return the part.
        Each row has every column of the schema (missing ones are stored as null)."""
        columns = {
            field.name: [as_column_value(row.get(field.name), field.type) for row in rows]
            for field in self.schema
        }
        table = pa.table(columns, schema=self.schema)
        part = self.parts / f"part-{uuid.uuid4().hex}.parquet"
        write_atomic(part, lambda p: pq.write_table(table, p))
        marker = {"rows": len(rows), "bytes": part.stat().st_size}
        write_atomic(
            marker_of(part), lambda p: p.write_text(json.dumps(marker) + "\n", encoding="utf-8")
        )
        return part

    def write_design(self, rows: list[dict[str, object]]) -> Path:
        """The whole design (every run, before any is run) as ``design.parquet``."""
        design_fields = [f for f in self.schema if f.name in self.design_columns()]
        columns = {
            f.name: [as_column_value(row.get(f.name), f.type) for row in rows]
            for f in design_fields
        }
        table = pa.table(columns, schema=pa.schema(design_fields))
        return write_atomic(self.folder / DESIGN, lambda p: pq.write_table(table, p))

    def design_columns(self) -> list[str]:
        """Every column but the outcomes and the status columns."""
        manifest = self.manifest()
        factors = [c["column"] for c in manifest.get("columns", []) if c["kind"] != "outcome"]
        return [*RUN_COLUMNS, *factors]

    def write_manifest(self, manifest: dict[str, object]) -> Path:
        """``manifest.json``, replaced atomically."""
        return write_json(self.folder / MANIFEST, manifest)

    def manifest(self) -> dict[str, Any]:
        """The manifest as written, or {} before the first write."""
        return read_manifest(self.folder)

    # --- reading ---------------------------------------------------------------------

    def finished_parts(self) -> list[Path]:
        return finished_parts(self.folder)

    def stored_ids(self) -> set[str]:
        """Run ids of every finished run, ok or failed."""
        return {row for part in self.finished_parts() for row in _ids(part)}

    def ok_ids(self) -> set[str]:
        """Run ids with an ok row (a failed run retried successfully has both rows)."""
        ok: set[str] = set()
        for part in self.finished_parts():
            table = pq.read_table(part, columns=["run_id", "status"]).to_pydict()
            ok.update(r for r, s in zip(table["run_id"], table["status"], strict=True) if s == "ok")
        return ok


def marker_of(part: Path) -> Path:
    """The completion marker of a part."""
    return part.with_name(part.name + MARKER)


def _intact(part: Path, marker: Path) -> Path | None:
    """``part`` if its marker is readable and the part is the size the marker recorded."""
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        return part if part.stat().st_size == recorded.get("bytes") else None
    except (OSError, ValueError, AttributeError):
        return None


def finished_parts(folder: Path) -> list[Path]:
    """Parts whose marker exists and whose size matches what the marker recorded."""
    parts = []
    for marker in sorted((folder / PARTS).glob(f"part-*.parquet{MARKER}")):
        part = marker.with_name(marker.name.removesuffix(MARKER))
        if _intact(part, marker) is None:
            log.warning(
                "忽略已损坏的 %s（其标记不可读，或文件缺失、大小与记录不符；下次 --resume "
                "时移开并重新运行其中的运行）ignoring %s: its marker is unreadable, or the part "
                "is missing or not the size recorded (the next --resume moves it aside and "
                "runs its runs again)",
                part.name,
                part.name,
            )
            continue
        parts.append(part)
    return parts


def _ids(part: Path) -> list[str]:
    return pq.read_table(part, columns=["run_id"]).column("run_id").to_pylist()


def read_manifest(folder: Path) -> dict[str, Any]:
    """A sweep folder's manifest, or {} when there is none; an InputError naming the file
    when it is not JSON (cut short by a full disk, or edited by hand)."""
    return read_json(folder / MANIFEST)


def sweep_parquet_files(folder: Path) -> list[str]:
    """Every finished part of a sweep folder, as paths for a Parquet reader."""
    return [os.fspath(p) for p in finished_parts(folder)]
