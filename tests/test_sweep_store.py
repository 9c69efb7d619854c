"""The sweep store and executors on a cheap model: each run once, resume, failures, Dask."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping

import numpy as np
import pyarrow.parquet as pq
import pytest

from liangye.model.errors import InputError
from liangye.results.sweep_store import PARTS, StoreError, finished_parts
from liangye.scenarios.sweep import build_design
from liangye.scenarios.sweep_executors import DaskExecutor, InProcessExecutor, PoolExecutor
from liangye.scenarios.sweep_query import run_query
from liangye.scenarios.sweep_run import execute, fingerprint, open_store
from liangye.scenarios.sweep_schema import Sweep


def toy(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """y = a·b + a noise drawn from the seed; refuses a = 3."""
    a, b = float(parameters["a"]), float(parameters["b"])
    if a == 3:
        raise ValueError("a = 3 is refused")
    noise = np.random.default_rng(seed).normal()
    return {"y": a * b + noise, "z": None if b == 0 else a / b}


def ishigami(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    x1, x2, x3 = (float(parameters[k]) for k in ("x1", "x2", "x3"))
    return {"y": math.sin(x1) + 7 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}


SWEEP = Sweep.model_validate(
    {
        "id": "toy",
        "outcomes": ["y", "z"],
        "levers": {"a": [1, 2, 3]},
        "uncertainties": {"b": [0, 1, 2]},
        "replications": 2,
        "root_seed": 9,
        "batch_size": 4,
    }
)


def store_for(folder, sweep=SWEEP, resume=False):
    design = build_design(sweep)
    return open_store(folder, sweep, design, fingerprint(sweep, None), resume, {}), design


def rows(folder):
    return run_query(folder, "select * from runs order by position")


def test_every_run_stored_once_and_failures_kept(tmp_path):
    store, design = store_for(tmp_path / "s")
    report = execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), batch_size=4)
    assert (report.design, report.ran, report.failed) == (18, 18, 6)
    table = rows(tmp_path / "s")
    assert len(table) == 18 and table["run_id"].is_unique
    assert list(table["position"]) == list(range(18))
    failed = table[table["status"] == "failed"]
    assert set(failed["a"]) == {3.0} and failed["y"].isna().all()
    assert (failed["error"] == "ValueError: a = 3 is refused").all()
    ok = table[table["status"] == "ok"]
    assert ok["error"].isna().all() and ok["y"].notna().all()
    assert ok.loc[ok["b"] == 0, "z"].isna().all()  # an undefined outcome is null, not a failure
    # common random numbers: the noise depends on the replication only
    noise = ok["y"] - ok["a"] * ok["b"]
    assert noise.round(9).groupby(ok["replication"]).nunique().eq(1).all()
    manifest = json.loads((tmp_path / "s" / "manifest.json").read_text())
    assert manifest["complete"] and manifest["stored"] == 18 and manifest["root_seed"] == 9
    assert {c["kind"] for c in manifest["columns"]} == {"lever", "uncertainty", "outcome"}
    assert len(finished_parts(tmp_path / "s")) == math.ceil(18 / 4)


def test_limit_then_resume_completes_without_duplicates(tmp_path):
    folder = tmp_path / "s"
    store, design = store_for(folder)
    first = execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=7)
    assert first.ran == 7
    assert sorted(rows(folder)["position"]) == list(range(7))
    with pytest.raises(StoreError, match="add --resume"):
        store_for(folder)
    # a crash between a part and its marker: the unmarked part and a temporary are left over
    part = finished_parts(folder)[0]
    orphan = part.with_name("part-orphan.parquet")
    orphan.write_bytes(part.read_bytes())
    (folder / PARTS / ".part-x.parquet.abc.part").write_bytes(b"half")
    assert len(rows(folder)) == 7  # the unmarked copy does not count
    store, design = store_for(folder, resume=True)
    second = execute(store, design, toy, SWEEP.outcomes, InProcessExecutor())
    assert (second.stored_before, second.ran) == (7, 11)
    table = rows(folder)
    assert len(table) == 18 and table["run_id"].is_unique
    assert not orphan.exists() and not list((folder / PARTS).glob(".*.part"))
    again = execute(store, design, toy, SWEEP.outcomes, InProcessExecutor())
    assert again.ran == 0


def test_a_part_without_marker_or_of_the_wrong_size_does_not_count(tmp_path):
    folder = tmp_path / "s"
    store, design = store_for(folder)
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=8, batch_size=4)
    parts = finished_parts(folder)
    assert len(parts) == 2
    parts[0].with_name(parts[0].name + ".done").unlink()
    with open(parts[1], "ab") as handle:  # a part that changed after it was marked
        handle.write(b"x")
    assert finished_parts(folder) == []


def test_a_store_with_no_finished_run_has_every_column_of_a_run(tmp_path):
    """Before the first batch finished, ``runs`` had the design's columns only: the query
    ``liangye sweep`` suggests for failures said "column status not found" (review 19)."""
    folder = tmp_path / "s"
    store_for(folder)
    empty = run_query(folder, "select run_id, status, error, seconds, y, z from runs")
    assert empty.empty and list(empty.columns) == ["run_id", "status", "error", "seconds", "y", "z"]
    assert run_query(folder, "select * from runs where status = 'failed'").empty


def test_a_damaged_part_is_moved_aside_by_the_next_sweep_and_warned_of_no_more(tmp_path, caplog):
    """A part not the size its marker recorded was ignored, but warned about (in English) by
    every later query and analysis, for ever (review 14). The next sweep moves it aside,
    runs its runs again, and readers say nothing more."""
    import logging

    folder = tmp_path / "s"
    store, design = store_for(folder)
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=8, batch_size=4)
    damaged = finished_parts(folder)[1]
    with open(damaged, "ab") as handle:
        handle.write(b"x")
    with caplog.at_level(logging.WARNING, logger="liangye.results.sweep_store"):
        assert len(finished_parts(folder)) == 1
    assert "忽略已损坏的" in caplog.text and "ignoring" in caplog.text
    report = execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), batch_size=4)
    assert report.ran == 18 - 4
    assert (folder / PARTS / "damaged" / damaged.name).exists() and not damaged.exists()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="liangye.results.sweep_store"):
        table = rows(folder)
    assert caplog.text == ""
    assert len(table) == 18 and table["run_id"].is_unique


def test_another_sweeps_folder_is_refused(tmp_path):
    store_for(tmp_path / "s")
    other = Sweep.model_validate({**SWEEP.model_dump(), "root_seed": 10})
    with pytest.raises(StoreError, match="another sweep") as raised:
        store_for(tmp_path / "s", other, resume=True)
    assert "it differs in root_seed:" in str(raised.value)  # what changed, not the folder again


@pytest.mark.parametrize("kind", ["dask", "pool"])
def test_parallel_executors_store_the_same_numbers(tmp_path, kind):
    store, design = store_for(tmp_path / "one")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor())
    executor = DaskExecutor(workers=2) if kind == "dask" else PoolExecutor(2)
    try:
        store, design = store_for(tmp_path / "two")
        report = execute(store, design, toy, SWEEP.outcomes, executor, workers=2, batch_size=2)
    finally:
        executor.close()
    assert report.ran == 18
    columns = ["run_id", "a", "b", "seed", "y", "z", "status", "error"]
    one, two = rows(tmp_path / "one")[columns], rows(tmp_path / "two")[columns]
    assert one.equals(two)


def test_local_dask_workers_run_without_the_statistical_profiler():
    """The local cluster's workers do not sample their threads for Dask's profiler (it took
    the interpreter's lock from the runs): the setting reaches the worker processes."""
    import dask

    executor = DaskExecutor(workers=2)
    try:
        seen = executor.client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    finally:
        executor.close()
    assert len(seen) == 2 and set(seen.values()) == {False}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # ours untouched


def test_two_local_clusters_at_once_take_free_ports_without_a_warning():
    """Two sweeps running side by side each serve their scheduler's HTTP pages on a port of
    their own, not both on 8787 (the second then warned that the port was in use)."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first, second = DaskExecutor(workers=1), DaskExecutor(workers=1)
        try:
            ports = [e.cluster.scheduler.http_server.port for e in (first, second)]
        finally:
            first.close()
            second.close()
    assert ports[0] != ports[1]
    assert not [w for w in caught if "already in use" in str(w.message)]


def test_ishigami_sobol_indices_through_sampler_executor_and_store(tmp_path):
    from SALib.analyze import sobol

    bounds = {"low": -math.pi, "high": math.pi}
    sweep = Sweep.model_validate(
        {
            "id": "ishigami",
            "outcomes": ["y"],
            "uncertainties": {"x1": bounds, "x2": bounds, "x3": bounds},
            "sampler": {"kind": "sobol", "samples": 1024},
            "batch_size": 512,
        }
    )
    store, design = store_for(tmp_path / "s", sweep)
    execute(store, design, ishigami, sweep.outcomes, InProcessExecutor())
    table = run_query(tmp_path / "s", "select point, y from runs order by point")
    assert list(table["point"]) == list(range(1024 * 5))
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}
    indices = sobol.analyze(problem, table["y"].to_numpy(), calc_second_order=False)
    # analytic values (Ishigami a = 7, b = 0.1): S1 = .314, .442, 0; ST = .558, .442, .244
    assert indices["S1"] == pytest.approx([0.314, 0.442, 0.0], abs=0.06)
    assert indices["ST"] == pytest.approx([0.558, 0.442, 0.244], abs=0.06)


def test_parts_hold_the_declared_schema(tmp_path):
    store, design = store_for(tmp_path / "s")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=4)
    schema = pq.read_schema(finished_parts(tmp_path / "s")[0])
    assert schema.names[:5] == ["run_id", "position", "point", "replication", "seed"]
    assert schema.names[-3:] == ["status", "error", "seconds"]


@pytest.mark.parametrize(
    ("sql", "english", "chinese"),
    [
        ("select nosuch from runs", 'column "nosuch" not found', "找不到列 nosuch"),
        ("select * from nosuch", "nosuch does not exist", "没有表 nosuch：可查询的视图是 runs"),
        ("selec * from runs", 'syntax error at or near "selec"', "SQL 语法有误（在 selec 附近）"),
        ("select cast('x' as integer)", "Could not convert", "无法把 'x' 转换为"),
        ("select nosuchfn(y) from runs", "nosuchfn does not exist", "没有函数 nosuchfn"),
    ],
)
def test_a_bad_query_is_said_in_english_and_chinese(tmp_path, sql, english, chinese):
    store, design = store_for(tmp_path / "s")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=2)
    with pytest.raises(InputError) as raised:
        run_query(tmp_path / "s", sql)
    (problem,) = raised.value.problems
    assert english in problem.message
    assert chinese in problem.chinese


@pytest.mark.parametrize(
    "sql",
    [
        "copy (select 'x' as a) to '{folder}/manifest.json' (format csv)",
        "create table t as select * from runs",
        "select 1; select 2",
        "attach '{folder}/other.db' as other",
    ],
)
def test_a_query_never_changes_the_store(tmp_path, sql):
    """Only one SELECT is answered: COPY ... TO overwrote a sweep's manifest (fuzzing)."""
    store, design = store_for(tmp_path / "s")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=2)
    manifest = (tmp_path / "s" / "manifest.json").read_bytes()
    with pytest.raises(InputError) as raised:
        run_query(tmp_path / "s", sql.format(folder=tmp_path / "s"))
    (problem,) = raised.value.problems
    assert "is not one SELECT statement" in problem.message
    assert "只读取结果库" in problem.chinese
    assert (tmp_path / "s" / "manifest.json").read_bytes() == manifest
    assert not (tmp_path / "s" / "other.db").exists()
    assert len(run_query(tmp_path / "s", "select * from runs")) == 2


def test_the_store_columns_a_key_may_not_take_are_the_stores_own(tmp_path):
    from liangye.scenarios.sweep_schema import STORE_COLUMNS

    store, design = store_for(tmp_path / "u")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor(), limit=2)
    names = pq.read_schema(finished_parts(tmp_path / "u")[0]).names
    keys = {k.replace(".", "_") for k in [*SWEEP.levers, *SWEEP.uncertainties, *SWEEP.outcomes]}
    assert sorted(set(names) - keys) == sorted(STORE_COLUMNS)


@pytest.mark.parametrize("key", ["seconds", "status", "seed"])
def test_a_lever_named_like_a_store_column_is_refused(key):
    """A lever named ``seconds`` was stored beside the run's time under the same name, and
    the view showed the time in its place."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="is one the store keeps for itself"):
        Sweep.model_validate({"id": "t", "outcomes": ["y"], "levers": {key: [0.0, 1.0]}})


class KillsItsWorkerOnce:
    """The toy model, except that the first run to see no ``marker`` file makes it and kills
    its own process (as the OOM killer or a hand would), once in the whole sweep."""

    def __init__(self, marker):
        self.marker = marker

    def __call__(self, parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
        import os
        import signal

        if not self.marker.exists():
            self.marker.write_text("killed")
            os.kill(os.getpid(), signal.SIGKILL)
        return toy(parameters, seed)


def test_a_killed_pool_worker_costs_a_new_pool_not_the_rest_of_the_sweep(tmp_path):
    """Before: the pool broke and every batch not yet finished, those never started
    included, was stored as failed, and the manifest said complete (review 14). Now the
    unfinished batches run again on a new pool and store what an undisturbed sweep does."""
    store, design = store_for(tmp_path / "one")
    execute(store, design, toy, SWEEP.outcomes, InProcessExecutor())
    executor = PoolExecutor(2)
    try:
        store, design = store_for(tmp_path / "two")
        model = KillsItsWorkerOnce(tmp_path / "marker")
        report = execute(store, design, model, SWEEP.outcomes, executor, workers=2, batch_size=2)
    finally:
        executor.close()
    assert (tmp_path / "marker").exists() and executor.restarts == 1
    assert report.ran == 18
    columns = ["run_id", "a", "b", "seed", "y", "z", "status", "error"]
    one, two = rows(tmp_path / "one")[columns], rows(tmp_path / "two")[columns]
    assert one.equals(two)  # a = 3 failed by the model itself, as in-process; nothing else


def test_pool_workers_end_when_the_sweeps_process_is_killed(tmp_path):
    """A SIGKILL of the sweep's process left its pool's workers running for good; each now
    watches its parent and ends within a couple of seconds of it."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "pool.py"
    script.write_text(
        "import time\n"
        "from liangye.scenarios.sweep_executors import PoolExecutor\n"
        "executor = PoolExecutor(2)\n"
        "futures = [executor.pool.submit(time.sleep, 60) for _ in range(2)]\n"
        "time.sleep(1.0)\n"
        "print(' '.join(str(p) for p in executor.pool._processes), flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert len(workers) == 2
    parent.send_signal(signal.SIGKILL)
    parent.wait()

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie (ended, not yet reaped by init) counts as ended
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"

    deadline = time.monotonic() + 10
    while any(alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = [p for p in workers if alive(p)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left


def test_a_store_made_by_other_code_is_not_resumed(tmp_path):
    """The manifest keeps a hash of liangye's own source; a resume after the code changed
    would mix runs of two models in one store, and is refused, saying so."""
    design = build_design(SWEEP)
    print_ = fingerprint(SWEEP, None)
    open_store(tmp_path / "s", SWEEP, design, print_, False, {"code": "aaaa"})
    with pytest.raises(StoreError, match="another version of liangye") as raised:
        open_store(tmp_path / "s", SWEEP, design, print_, True, {"code": "bbbb"})
    assert "aaaa" in str(raised.value) and "bbbb" in str(raised.value)
    open_store(tmp_path / "s", SWEEP, design, print_, True, {"code": "aaaa"})  # same: resumes


def test_batches_are_sized_for_the_threads_a_scheduler_has():
    """With --scheduler the batches were sized for one worker (a 24-run sweep on six workers
    made four batches); the executor now says how many runs its cluster runs at once."""
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=3,
        threads_per_worker=1,
        processes=False,
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": ":0"},  # not 8787, which another may hold
    ) as cluster:
        executor = DaskExecutor(address=cluster.scheduler_address)
        try:
            assert executor.parallelism == 3
        finally:
            executor.close()
