"""Executors behind one interface: batches in, finished batches out as they complete."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

from .sweep import Model, RunSpec, run_batch, run_row

log = logging.getLogger(__name__)

Rows = list[dict[str, object]]


class Executor(Protocol):
    """Runs batches of runs and yields each batch's rows as soon as that batch is done (in
    any order). A batch whose task dies (a killed worker) comes back with every run failed."""

    name: str

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        """Yield the rows of every batch, each exactly once."""
        ...

    def close(self) -> None:
        """Release workers and connections."""
        ...


def failed_rows(batch: list[RunSpec], error: BaseException) -> Rows:
    """Every run of a batch whose task died, as failed with the reason."""
    reason = f"the task running it died: {type(error).__name__}: {error}"
    return [{**run_row(spec), "status": "failed", "error": reason} for spec in batch]


class InProcessExecutor:
    """Runs batches one after the other in this process."""

    name = "in-process"

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        for batch in batches:
            yield run_batch(model, batch, outcomes)

    def close(self) -> None:
        return None


class PoolExecutor:
    """A local process pool (``concurrent.futures``) of ``workers`` processes."""

    name = "process pool"

    def __init__(self, workers: int):
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers)

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        from concurrent.futures import as_completed

        futures = {self.pool.submit(run_batch, model, b, outcomes): b for b in batches}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as error:  # the process died (BrokenProcessPool)
                    yield failed_rows(futures[future], error)
        finally:
            for future in futures:
                future.cancel()

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


class DaskExecutor:
    """Dask distributed: a scheduler at ``address``, or a LocalCluster of ``workers`` worker
    processes with one thread each. Batches are impure tasks (``pure=False``), gathered as
    they complete (``distributed.as_completed``)."""

    def __init__(self, workers: int = 2, address: str | None = None):
        from distributed import Client, LocalCluster

        self.cluster = None
        if address:
            self.client = Client(address, timeout="30s")
            self.name = f"dask scheduler {address}"
        else:
            import dask

            # Each worker samples its threads' stacks every 10 ms for Dask's profiler; on a
            # CPU-bound run that thread takes the interpreter's lock from the run itself:
            # with it off, 2 local workers did 3-4% more runs a minute (64 runs of the
            # tier-budget sweep). The nannies hand the workers this configuration.
            with dask.config.set({"distributed.worker.profile.enabled": False}):
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    # No dashboard, but the scheduler still serves its health and metrics
                    # pages over HTTP, on port 8787 unless told otherwise: a second sweep
                    # running beside the first then warned "Port 8787 is already in use".
                    # Any free port instead.
                    scheduler_kwargs={"dashboard_address": ":0"},
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster)
            self.name = f"dask local cluster ({workers} workers)"

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        from distributed import as_completed

        futures = [
            self.client.submit(run_batch, model, batch, outcomes, pure=False) for batch in batches
        ]
        owner = {f.key: b for f, b in zip(futures, batches, strict=True)}
        try:
            for future in as_completed(futures):
                try:
                    yield future.result()
                except Exception as error:  # KilledWorker, lost connection to the task
                    yield failed_rows(owner[future.key], error)
                finally:
                    future.release()
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int, scheduler: str | None, pool: bool = False) -> Executor:
    """In-process for one worker, Dask for more or when a scheduler is given; a plain process
    pool when ``pool`` is asked for."""
    if scheduler:
        return DaskExecutor(address=scheduler)
    if workers <= 1:
        return InProcessExecutor()
    if pool:
        return PoolExecutor(workers)
    return DaskExecutor(workers=workers)
