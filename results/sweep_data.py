"""A finished sweep read for analysis: its runs by world and setting, its targets, and the
errors its input can raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .sweep_store import DESIGN, finished_parts, read_manifest

OK, FAILED, MISSING = "ok", "failed", "missing"


WORLD = ["point", "replication"]  # a world: the same uncertainty sample and seed


class AnalysisInputError(ValueError):
    """An analysis input is wrong: ``where`` names the option or file, ``message`` says
    what was expected and ``zh`` says it in Chinese (the command line shows both and exits
    2)."""

    def __init__(self, where: str, message: str, zh: str = ""):
        self.where = where
        self.message = message
        self.zh = zh
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[AnalysisInputError], tuple[str, str, str]]:
        # Rebuilt from its parts (the default would pass the joined message as ``where``).
        return (AnalysisInputError, (self.where, self.message, self.zh))


@dataclass(frozen=True)
class Target:
    """``outcome op value``: what an outcome should be in a world (op one of <= >= < >)."""

    outcome: str  # the outcome's key
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"

    def met(self, values: pd.Series) -> pd.Series:
        """Whether each value meets the target; an undefined value (NaN) does not."""
        compare = {
            "<=": values.le,
            ">=": values.ge,
            "<": values.lt,
            ">": values.gt,
        }[self.op]
        return compare(self.value).fillna(False).astype(bool)


@dataclass
class SweepData:
    """A sweep store read for analysis: one row per cell of the design (outcomes and
    ``status``: ok, failed, or missing when not stored yet) and what its columns are."""

    folder: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame
    levers: list[str]  # store columns
    uncertainties: list[str]
    outcomes: list[str]
    keys: dict[str, str]  # column → key
    # column → {value: what a reader calls it} (a tier design's id → its Chinese title),
    # given by the caller that knows the names (``analyse_sweep``'s ``value_names``)
    value_names: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def joint(self) -> bool:
        """Whether levers were sampled with the uncertainties (no common worlds)."""
        return self.manifest.get("sampler", {}).get("combine") == "joint" and bool(self.levers)

    @property
    def settings(self) -> list[tuple]:
        """Every lever setting in design order (one empty setting without levers)."""
        if not self.levers:
            return [()]
        return list(dict.fromkeys(self.cells[self.levers].itertuples(index=False, name=None)))

    def setting_cells(self, setting: tuple) -> pd.DataFrame:
        """The cells of one lever setting."""
        if not self.levers:
            return self.cells
        mask = np.ones(len(self.cells), dtype=bool)
        for column, value in zip(self.levers, setting, strict=True):
            mask &= (self.cells[column] == value).to_numpy()
        return self.cells[mask]

    def label(self, setting: tuple) -> str:
        """A setting as a person reads it: its lever values joined, each by its name where
        it has one (``嘉兴 150/50/20 / 0.67``)."""
        if not setting:
            return "全部运行"
        return " / ".join(
            self.value_names.get(column, {}).get(show_value(v), show_value(v))
            for column, v in zip(self.levers, setting, strict=False)
        )

    def counts(self, cells: pd.DataFrame | None = None) -> dict[str, int]:
        """Runs (distinct run ids) by status among ``cells`` (all by default)."""
        cells = self.cells if cells is None else cells
        runs = cells.drop_duplicates("run_id")
        return {s: int((runs["status"] == s).sum()) for s in (OK, FAILED, MISSING)}


def show_value(value: object) -> str:
    """A lever or uncertainty value as people read it: floats without trailing zeros."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def stored_runs(parts: list[Path]) -> pd.DataFrame:
    """The runs the finished ``parts`` hold, one row per run: a failed run retried has a
    failed row and an ok row, and the ok one is the run's (as ``liangye query``'s view
    ``runs`` reads it). Empty without parts."""
    if not parts:
        return pd.DataFrame()
    runs = pa.concat_tables(
        [pq.read_table(p) for p in parts], promote_options="default"
    ).to_pandas()
    runs = runs.sort_values("status", key=lambda s: s != OK, kind="stable")
    return runs.drop_duplicates("run_id", keep="first")


def load_sweep_data(folder: Path) -> SweepData:
    """Every cell of the sweep in ``folder`` with its stored outcomes. A run stored more
    than once (retried after failing) counts by its ok row. Raises AnalysisInputError when
    the folder is no sweep or holds no finished run."""
    manifest = read_manifest(folder)
    if not manifest or not (folder / DESIGN).exists():
        raise AnalysisInputError(
            str(folder),
            "is not a sweep folder (no manifest.json)",
            "不是批量情景文件夹（没有 manifest.json）",
        )
    columns = manifest.get("columns", [])
    by_kind = {
        kind: [c["column"] for c in columns if c["kind"] == kind]
        for kind in ("lever", "uncertainty", "outcome")
    }
    keys = {c["column"]: c["key"] for c in columns}
    design = pq.read_table(folder / DESIGN).to_pandas()
    parts = finished_parts(folder)
    if not parts:
        raise AnalysisInputError(
            str(folder),
            f"holds no finished run yet (0 of {len(design)} stored)",
            f"还没有完成的运行（共 {len(design)} 次，已存 0 次）",
        )
    runs = stored_runs(parts)
    wanted = ["run_id", *by_kind["outcome"], "status", "error"]
    cells = design.merge(runs[wanted], on="run_id", how="left", validate="many_to_one")
    cells["status"] = cells["status"].fillna(MISSING)
    return SweepData(
        folder,
        manifest,
        cells,
        by_kind["lever"],
        by_kind["uncertainty"],
        by_kind["outcome"],
        keys,
    )
