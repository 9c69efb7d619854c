"""A sweep pointed at a Dask scheduler and two workers started by hand (`dask scheduler`,
`dask worker tcp://...`, as the README says to do on other machines) stores the same
numbers as the same sweep run in-process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from liangye.scenarios.sweep_query import run_query

from conftest import liangye

SWEEP = """
id = "cluster"
scenario = "default"
set = ["simulation.population.firms=150", "candidates.synthetic.enterprises=120"]
replications = 2
root_seed = 5
outcomes = ["additionality.20.net_additional", "spend.paid", "designations.conferred"]
batch_size = 1

[levers]
tier_design = ["jiaxing", "wuhan"]
"""
# `dask scheduler` and `dask worker`, from this interpreter's environment
SCHEDULER = [sys.executable, "-m", "distributed.cli.dask_scheduler"]
WORKER = [sys.executable, "-m", "distributed.cli.dask_worker"]
COLUMNS = ["run_id", "position", "seed", "tier_design", "status"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=60)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """A scheduler and two one-thread workers, each its own process, on a free local port."""
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    logs = tmp_path / "dask.log"
    with logs.open("w") as log:
        processes = [
            subprocess.Popen(
                [*SCHEDULER, "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                stdout=log,
                stderr=log,
            )
        ]
        try:
            time.sleep(1)
            for _ in range(2):
                processes.append(
                    subprocess.Popen(
                        [*WORKER, address, "--nthreads", "1", "--no-dashboard"],
                        stdout=log,
                        stderr=log,
                    )
                )
            wait_for_workers(address, 2)
            yield address
        finally:
            for process in reversed(processes):
                process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()


def test_a_sweep_on_a_hand_started_cluster_stores_the_in_process_numbers(tmp_path, cluster):
    path = tmp_path / "cluster.toml"
    path.write_text(SWEEP, encoding="utf-8")
    on_cluster = liangye("sweep", str(path), "--scheduler", cluster, "--out", str(tmp_path / "a"))
    assert on_cluster.returncode == 0, on_cluster.stderr
    in_process = liangye("sweep", str(path), "--out", str(tmp_path / "b"))
    assert in_process.returncode == 0, in_process.stderr
    sql = "select * from runs order by position"
    a, b = run_query(tmp_path / "a", sql), run_query(tmp_path / "b", sql)
    assert len(a) == len(b) == 4 and (a["status"] == "ok").all()
    outcomes = [c for c in a.columns if c.startswith(("additionality", "spend", "designations"))]
    assert outcomes, list(a.columns)
    assert a[COLUMNS + outcomes].equals(b[COLUMNS + outcomes])
    # The hand-started workers ran the runs (not a cluster of the command's own).
    from distributed import Client

    with Client(cluster, timeout="30s") as client:
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: sorted(dask_scheduler.task_prefixes)
        )
    assert "run_batch" in prefixes, prefixes
