"""A sweep killed (SIGKILL) mid-run resumes to the store an uninterrupted run makes; --retry-failed."""

from __future__ import annotations

import json
import math
import random
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import pytest

from liangye.results.sweep_analysis import analyse_sweep
from liangye.results.sweep_store import PARTS, finished_parts
from liangye.scenarios.sweep import build_design
from liangye.scenarios.sweep_executors import InProcessExecutor
from liangye.scenarios.sweep_models import ishigami
from liangye.scenarios.sweep_query import run_query
from liangye.scenarios.sweep_run import execute, fingerprint, open_store
from liangye.scenarios.sweep_schema import Sweep

from conftest import liangye

PI = math.pi
# 64 × (3 + 2) = 320 runs of 5 ms each in batches of 8: about 40 parts over 2 s or more.
SLOW = f"""
id = "slow"
model = "ishigami"
set = ["delay=0.005"]
root_seed = 8
outcomes = ["y"]
batch_size = 8

[sampler]
kind = "sobol"
samples = 64

[uncertainties]
x1 = {{ low = {-PI!r}, high = {PI!r} }}
x2 = {{ low = {-PI!r}, high = {PI!r} }}
x3 = {{ low = {-PI!r}, high = {PI!r} }}
"""
COLUMNS = ["run_id", "position", "point", "replication", "seed", "x1", "x2", "x3", "y", "status"]


def start(path: Path, out: Path, *extra: str) -> subprocess.Popen:
    command = "from liangye.scenarios.cli import main; main()"
    return subprocess.Popen(
        [sys.executable, "-c", command, "sweep", str(path), "--out", str(out), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def kill_after_parts(process: subprocess.Popen, out: Path, parts: int, rng: random.Random) -> int:
    """SIGKILL the sweep once at least ``parts`` more parts are finished, plus a random
    moment (0-60 ms: between or inside a part's writing); return the parts then finished."""
    before = len(finished_parts(out)) if (out / PARTS).exists() else 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (out / PARTS).exists() and len(finished_parts(out)) >= before + parts:
            break
        time.sleep(0.005)
    time.sleep(rng.uniform(0, 0.06))
    assert process.poll() is None, "the sweep ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return len(finished_parts(out))


def stored_runs(folder: Path) -> pd.DataFrame:
    return run_query(folder, "select * from runs order by position")[COLUMNS]


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]], ids=["in-process", "dask"])
def test_sigkilled_sweep_resumes_to_the_uninterrupted_store(tmp_path, workers):
    """Whatever the executor: the command killed while its Dask cluster runs batches too."""
    path = tmp_path / "slow.toml"
    path.write_text(SLOW, encoding="utf-8")
    whole = liangye("sweep", str(path), "--out", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    rng = random.Random(20240)
    process = start(path, out, *workers)
    counts = [kill_after_parts(process, out, rng.randint(2, 8), rng)]
    for _ in range(2):  # killed again while resuming
        process = start(path, out, "--resume", *workers)
        counts.append(kill_after_parts(process, out, rng.randint(2, 8), rng))
    assert counts == sorted(counts) and 0 < counts[-1] < 40
    resumed = liangye("sweep", str(path), "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    expected, found = stored_runs(tmp_path / "whole"), stored_runs(out)
    assert len(found) == 320 and found["run_id"].is_unique
    pd.testing.assert_frame_equal(found, expected)
    # every part on disk is a finished one: nothing written twice, nothing half-written
    raw = run_query(
        out, "select count(*) as n from read_parquet('" + str(out / PARTS) + "/*.parquet')"
    )
    assert int(raw["n"].iloc[0]) == 320
    assert not list((out / PARTS).glob(".*.part"))


def flaky(parameters: Mapping[str, object], seed: int) -> dict[str, float | None]:
    """Ishigami, failing where x1 > 2.5."""
    if float(parameters["x1"]) > 2.5:
        raise RuntimeError("transient failure")
    return ishigami(parameters, seed)


def test_retry_failed_runs_failed_runs_again_and_readers_take_their_ok_rows(tmp_path):
    unit = {"low": -PI, "high": PI}
    sweep = Sweep.model_validate(
        {
            "id": "retry",
            "outcomes": ["y"],
            "uncertainties": {"x1": unit, "x2": unit, "x3": unit},
            "sampler": {"kind": "sobol", "samples": 32},
        }
    )
    design = build_design(sweep)
    store = open_store(tmp_path / "s", sweep, design, fingerprint(sweep, None), False, {})
    first = execute(store, design, flaky, sweep.outcomes, InProcessExecutor())
    assert 0 < first.failed < first.ran == len(design.runs)
    assert not analyse_sweep(tmp_path / "s").sobol.valid
    plain = execute(store, design, ishigami, sweep.outcomes, InProcessExecutor())
    assert plain.ran == 0  # without retry_failed a failed run counts as stored
    retried = execute(
        store, design, ishigami, sweep.outcomes, InProcessExecutor(), retry_failed=True
    )
    assert (retried.ran, retried.failed) == (first.failed, 0)
    runs = stored_runs(tmp_path / "s")
    assert len(runs) == len(design.runs) and runs["run_id"].is_unique
    assert (runs["status"] == "ok").all()
    assert analyse_sweep(tmp_path / "s").sobol.valid
    again = execute(store, design, ishigami, sweep.outcomes, InProcessExecutor(), retry_failed=True)
    assert again.ran == 0


def test_retry_failed_on_the_command_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "bad"\nmodel = "ishigami"\noutcomes = ["y"]\n[levers]\na = [7.0, "x"]\n'
        "[uncertainties]\nx1 = [0.0, 1.0]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    refused = liangye("sweep", str(path), "--out", str(out), "--retry-failed")
    assert refused.returncode == 2 and "add --resume" in refused.stderr
    first = liangye("sweep", str(path), "--out", str(out))
    assert first.returncode == 0 and "2 failed" in first.stdout
    again = liangye("sweep", str(path), "--out", str(out), "--resume", "--retry-failed")
    assert again.returncode == 1, again.stderr  # the two runs retried fail again
    assert "every run retried failed again" in again.stderr
    assert "2 runs already finished: skipped" in again.stderr and "2 runs" in again.stdout
    runs = run_query(out, "select a, status, error from runs order by position")
    assert len(runs) == 4 and list(runs["status"]) == ["ok", "ok", "failed", "failed"]
    assert runs["error"].iloc[2].startswith("ValueError")
    # targets added to the file later: the same sweep (same folder), and analyse uses them
    path.write_text(path.read_text() + '[analysis]\ntargets = ["y <= 1"]\n', encoding="utf-8")
    assert liangye("sweep", str(path), "--out", str(out), "--resume").returncode == 0
    done = liangye("analyse", str(out), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["targets"] == ["y <= 1"]
