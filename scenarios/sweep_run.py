"""Running a sweep into its store: the manifest, the design, resuming, and each batch stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from liangye.model.errors import InputError, Problem, raise_if_any
from liangye.results.store import code_hash, package_versions
from liangye.results.sweep_store import (
    RUN_COLUMNS,
    STATUS_COLUMNS,
    StoreError,
    SweepStore,
    read_manifest,
    sweep_root,
    value_type,
)

from .sweep import (
    Design,
    Model,
    ScenarioModel,
    build_design,
    run_row,
    scenario_path,
)
from .sweep_checks import key_problems, outcome_problems, setting_warnings
from .sweep_executors import Executor, InProcessExecutor, Rows
from .sweep_models import MODELS, SCENARIO_MODEL, BoundModel
from .sweep_schema import Sweep, column_name, read_sweep

log = logging.getLogger(__name__)

OnStart = Callable[[int, int], None]  # (runs to do now, runs already stored)
OnRows = Callable[[Rows], None]  # each finished batch, once stored


@dataclass
class SweepReport:
    """What one invocation did: the folder, the design's size, what was already stored, what
    ran now and how many of those failed, and the seconds it took."""

    folder: Path
    design: int
    stored_before: int
    ran: int
    failed: int
    seconds: float
    executor: str
    stored_now: int = 0  # runs with a row in the store afterwards (ok or failed)

    @property
    def rate(self) -> float:
        """Runs per second in this invocation."""
        return self.ran / self.seconds if self.seconds > 0 else 0.0


def fingerprint(sweep: Sweep, scenario_hash: str | None) -> str:
    """A short hash of everything that decides the design and its numbers (not the title,
    the batch size or the ``[analysis]`` table; the model only when it is not the scenario
    simulation, so that sweeps stored before models could be named keep their folder)."""
    dumped = sweep.model_dump(
        mode="json", exclude={"title", "description", "batch_size", "analysis"}
    )
    if dumped.get("model") == SCENARIO_MODEL:
        del dumped["model"]
    text = json.dumps(
        {"sweep": dumped, "scenario": scenario_hash},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def store_schema(sweep: Sweep, design: Design) -> tuple[pa.Schema, list[dict[str, str]]]:
    """The Parquet schema of every part, and the column → key map of the manifest."""
    fields = [pa.field(name, kind) for name, kind in RUN_COLUMNS.items()]
    columns = []
    for kind, keys in (("lever", sweep.levers), ("uncertainty", sweep.uncertainties)):
        for key in keys:
            values = [(r.levers if kind == "lever" else r.uncertainties)[key] for r in design.runs]
            fields.append(pa.field(column_name(key), value_type(values)))
            columns.append({"column": column_name(key), "key": key, "kind": kind})
    for key in sweep.outcomes:
        fields.append(pa.field(column_name(key), pa.float64()))
        columns.append({"column": column_name(key), "key": key, "kind": "outcome"})
    fields += [pa.field(name, kind) for name, kind in STATUS_COLUMNS.items()]
    return pa.schema(fields), columns


def _changed(existing: dict[str, object], sweep: Sweep, extra: dict[str, object]) -> str:
    """What differs between a stored sweep's manifest and ``sweep``: the top-level keys of
    the sweep file the fingerprint reads, and the base scenario (by its hash)."""
    ignored = {"title", "description", "batch_size", "analysis"}
    before = existing.get("sweep") or {}
    now = sweep.model_dump(mode="json")
    keys = sorted(
        k
        for k in set(before) | set(now)  # type: ignore[arg-type]
        if k not in ignored and before.get(k) != now.get(k)  # type: ignore[union-attr]
    )
    if existing.get("scenario_hash") != extra.get("scenario_hash", existing.get("scenario_hash")):
        keys.append("the base scenario or a file it reads (policy, candidates, tier designs)")
    return ", ".join(keys) or "settings"


def open_store(
    folder: Path,
    sweep: Sweep,
    design: Design,
    print_: str,
    resume: bool,
    extra: dict[str, object],
) -> SweepStore:
    """The store for this sweep in ``folder``: new (manifest and design written), or the same
    sweep's when resuming. Refuses another sweep's folder, and a started one without
    ``resume``. Resuming takes the sweep file's ``[analysis]`` table (targets may change
    without changing the runs)."""
    schema, columns = store_schema(sweep, design)
    store = SweepStore(folder, schema)
    existing = read_manifest(folder)
    if existing:
        if existing.get("fingerprint") != print_:
            changed = _changed(existing, sweep, extra)
            raise StoreError(
                f"{folder} holds another sweep than this file describes (it differs in "
                f"{changed}: the runs stored there are not this sweep's); choose another --out, "
                "or put the file back as it was to resume",
                f"{folder} 中的批量情景与此文件不同（{changed} 不一致：其中已存的运行不属于"
                "这个批量情景）：请换一个 --out，或把文件改回原样后再接着运行",
            )
        stored_code, code = existing.get("code"), extra.get("code")
        if stored_code is not None and code is not None and stored_code != code:
            raise StoreError(
                f"{folder} holds runs made by another version of liangye (its code has "
                f"changed since: {stored_code} then, {code} now); the runs left to do would "
                "not be comparable with those stored: choose another --out to run the sweep "
                "afresh",
                f"{folder} 中的运行由另一版本的 liangye 生成（此后代码已改动：当时 "
                f"{stored_code}，现在 {code}）；接着运行的结果将无法与已存结果比较：请换一个 "
                "--out 重新运行整个批量情景",
            )
        if not resume:
            raise StoreError(
                f"{folder} already holds this sweep ({len(store.stored_ids())} of "
                f"{len(design.runs)} runs stored): add --resume to complete it",
                f"{folder} 中已有这个批量情景（共 {len(design.runs)} 次运行，已存 "
                f"{len(store.stored_ids())} 次）：加上 --resume 以接着完成",
            )
        analysis = sweep.analysis.model_dump(mode="json")
        if existing.get("sweep", {}).get("analysis") != analysis:
            existing.setdefault("sweep", {})["analysis"] = analysis
            store.write_manifest(existing)
        return store
    if folder.exists() and any(folder.iterdir()):
        raise StoreError(
            f"{folder} is not empty and holds no sweep; choose another --out",
            f"{folder} 不是空文件夹，也不是批量情景的文件夹：请换一个 --out",
        )
    folder.mkdir(parents=True, exist_ok=True)
    store.write_manifest(
        {
            "kind": "sweep",
            "sweep_id": f"{sweep.id}-{print_}",  # the sweep's, whatever folder --out names
            "fingerprint": print_,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "versions": package_versions(),
            "sweep": sweep.model_dump(mode="json"),
            "sampler": sweep.sampler.model_dump(mode="json"),
            "root_seed": sweep.root_seed,
            "replications": sweep.replications,
            "design": {
                "runs": len(design.runs),
                "cells": len(design.cells),
                "lever_settings": design.lever_settings,
                "points": design.points,
                "sampled": design.sampled,
            },
            "columns": columns,
            **extra,
        }
    )
    store.write_design([run_row(r) for r in design.cells])
    return store


def execute(
    store: SweepStore,
    design: Design,
    model: Model,
    outcomes: list[str],
    executor: Executor,
    limit: int | None = None,
    batch_size: int | None = None,
    workers: int = 1,
    on_start: OnStart | None = None,
    on_rows: OnRows | None = None,
    retry_failed: bool = False,
) -> SweepReport:
    """Run every run of the design not yet stored (only among the first ``limit`` when
    given), batch by batch; each finished batch is stored at once. With ``retry_failed``, a
    run stored only as failed runs again (its new row stands beside the failed one; readers
    take the ok row). Returns what was done."""
    started = time.perf_counter()
    with store.locked():
        stored = store.ok_ids() if retry_failed else store.stored_ids()
        chosen = design.runs if limit is None else design.runs[:limit]
        pending = [r for r in chosen if r.run_id not in stored]
        workers = max(workers, getattr(executor, "parallelism", 1))
        size = batch_size or max(1, min(16, math.ceil(len(pending) / (max(workers, 1) * 4))))
        batches = [pending[i : i + size] for i in range(0, len(pending), size)]
        if on_start:
            on_start(len(pending), len(stored))
        log.info(
            "%d runs to do (%d stored) in %d batches on %s",
            len(pending),
            len(stored),
            len(batches),
            executor.name,
        )
        ran = failed = 0
        done: set[str] = set()
        try:
            for rows in executor.run(model, batches, outcomes):
                store.write_part(rows)
                ran += len(rows)
                failed += sum(1 for r in rows if r.get("status") == "failed")
                if on_rows:
                    on_rows(rows)
        finally:
            manifest = store.manifest()
            done = store.stored_ids()
            manifest.update(
                updated=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                stored=len(done),
                complete=all(r.run_id in done for r in design.runs),
            )
            store.write_manifest(manifest)
    return SweepReport(
        store.folder,
        len(design.runs),
        len(stored),
        ran,
        failed,
        time.perf_counter() - started,
        executor.name,
        len(done),
    )


@dataclass
class PreparedSweep:
    """A sweep file read, checked and laid out, ready to run."""

    path: Path
    sweep: Sweep
    design: Design
    model: Model
    scenario_hash: str | None  # None for a named model: it has no scenario
    fingerprint: str
    scenario: Path | None = None
    # What the checks say without refusing (a value at which no round is held), said
    # before the first run and by ``liangye validate``.
    warnings: list[str] = field(default_factory=list)

    @property
    def sweep_id(self) -> str:
        return f"{self.sweep.id}-{self.fingerprint}"


def prepare(sweep_file: Path, quiet: bool = True) -> PreparedSweep:
    """Read the sweep file, check every lever, uncertainty and outcome against its model
    (the base scenario's simulation, or a named model), and build the design; raise
    InputError naming the file and every problem. ``quiet`` keeps the simulation's
    per-round warnings out of the terminal."""
    from .sweep import resolve_sweep

    path = resolve_sweep(sweep_file)
    # Every problem at once: the analysis's targets, the factors' keys and values and the
    # outcomes (a bad target hid a bad lever value until it was mended, review 19).
    sweep, problems = read_sweep(path)
    model: Model
    if sweep.model == SCENARIO_MODEL:
        from .loader import load_scenario, scenario_inputs_hash

        try:
            keys = key_problems(sweep, path)
        except InputError as error:  # the base scenario unreadable: said with the rest
            keys = error.problems
        raise_if_any(problems + keys + outcome_problems(sweep, path))
        warnings = setting_warnings(sweep, path)
        base_path = scenario_path(sweep, path)
        scenario, folder = load_scenario(base_path, sweep.set)
        # The scenario and the files it reads (policy, candidates, tier designs): a resume
        # after one of them changed is refused, as after a change of the sweep file.
        digest: str | None = scenario_inputs_hash(scenario, folder)
        model = ScenarioModel(base_path.resolve(), tuple(sweep.set), quiet)
        base: Path | None = base_path.resolve()
    else:
        try:
            model, digest, base = bind_model(sweep, path), None, None
        except InputError as error:
            raise InputError(problems + error.problems) from None
        raise_if_any(problems)
        warnings = []
    design = build_design(sweep)
    if not design.runs:
        raise InputError(
            [Problem(path.name, "", "the design has no runs", "试验设计中没有任何一次运行")]
        )
    return PreparedSweep(
        path, sweep, design, model, digest, fingerprint(sweep, digest), base, warnings
    )


def bind_model(sweep: Sweep, path: Path) -> BoundModel:
    """The named model of a sweep file with its ``set`` values fixed; raise InputError naming
    the file and every key the model does not read or outcome it does not return."""
    from .loader import apply_overrides

    named = MODELS.get(sweep.model)
    if named is None:
        known = ", ".join([SCENARIO_MODEL, *MODELS])
        raise InputError(
            [
                Problem(
                    path.name,
                    "model",
                    f"{sweep.model!r} is no model ({known})",
                    f"“{sweep.model}”不是可用的模型（可用：{known.replace(', ', '、')}）",
                )
            ]
        )
    try:
        fixed = apply_overrides({}, sweep.set)
    except InputError as error:
        raise InputError(
            [Problem(path.name, "set", str(p), p.zh or p.message) for p in error.problems]
        ) from None
    problems = [
        Problem(
            path.name,
            f"set.{key}",
            f"expected a number (got {value!r})",
            f"应为数字（填写的是 {value!r}）",
        )
        for key, value in fixed.items()
        if key in named.defaults and (isinstance(value, bool) or not isinstance(value, int | float))
    ]
    reads = ", ".join(named.defaults)
    for group, keys in (
        ("set", fixed),
        ("levers", sweep.levers),
        ("uncertainties", sweep.uncertainties),
    ):
        for key in keys:
            if key not in named.defaults:
                problems.append(
                    Problem(
                        path.name,
                        f"{group}.{key}",
                        f"the {sweep.model} model reads no {key!r} (it reads {reads})",
                        f"模型 {sweep.model} 不读取“{key}”（它读取：{reads.replace(', ', '、')}）",
                    )
                )
    returns = ", ".join(sorted(named.outcomes))
    for i, key in enumerate(sweep.outcomes):
        if key not in named.outcomes:
            problems.append(
                Problem(
                    path.name,
                    f"outcomes[{i}]",
                    f"{key!r} is no outcome of the {sweep.model} model (it returns {returns})",
                    f"“{key}”不是模型 {sweep.model} 的结果（它给出：{returns.replace(', ', '、')}）",
                )
            )
    if problems:
        raise InputError(problems)
    return BoundModel(named.function, tuple(sorted(fixed.items())))


def open_sweep_store(
    prepared: PreparedSweep, out: Path | None, resume: bool, retry_failed: bool = False
) -> SweepStore:
    """The store of a prepared sweep under ``out`` (default ``results/sweeps/<sweep-id>/``),
    made or (``resume``) reopened; StoreError when it cannot be (a folder of another sweep,
    a started one without ``resume``, ``retry_failed`` without ``resume``). Opened before
    any progress is shown, so that such an error comes alone."""
    if retry_failed and not resume:
        raise StoreError(
            "--retry-failed completes a started sweep: add --resume",
            "--retry-failed 用于接着完成已开始的批量情景：请加上 --resume",
        )
    folder = out or sweep_root() / prepared.sweep_id
    return open_store(
        folder,
        prepared.sweep,
        prepared.design,
        prepared.fingerprint,
        resume,
        {
            "sweep_file": str(prepared.path.resolve()),
            "model": prepared.sweep.model,
            "scenario": None if prepared.scenario is None else str(prepared.scenario),
            "scenario_hash": prepared.scenario_hash,
            "code": code_hash(),
        },
    )


def run_sweep(
    prepared: PreparedSweep,
    executor: Executor | None = None,
    out: Path | None = None,
    resume: bool = False,
    limit: int | None = None,
    workers: int = 1,
    on_start: OnStart | None = None,
    on_rows: OnRows | None = None,
    retry_failed: bool = False,
    store: SweepStore | None = None,
) -> SweepReport:
    """Run a prepared sweep into ``out`` (default ``results/sweeps/<sweep-id>/``), or into
    ``store`` if already opened (``open_sweep_store``); with ``retry_failed`` (only when
    resuming) the runs stored as failed run again."""
    if store is None:
        store = open_sweep_store(prepared, out, resume, retry_failed)
    return execute(
        store,
        prepared.design,
        prepared.model,
        prepared.sweep.outcomes,
        executor or InProcessExecutor(),
        limit,
        prepared.sweep.batch_size,
        workers,
        on_start,
        on_rows,
        retry_failed,
    )
