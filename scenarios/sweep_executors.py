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
    parallelism: int  # runs that go at once: what the batches are sized for

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
    parallelism = 1

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        for batch in batches:
            yield run_batch(model, batch, outcomes)

    def close(self) -> None:
        return None


# Times a process pool may break (a worker process killed, by hand or for memory) and be
# made anew, its unfinished batches submitted again, before they are stored as failed: a
# batch that kills its worker every time must not keep the sweep going round for ever.
POOL_RESTARTS = 3


def _exit_with_parent(parent: int) -> None:
    """In a pool worker: end this process when the sweep's process ``parent`` is gone. A
    worker blocks reading its next batch from a pipe that its sibling workers also hold open,
    so a killed parent (SIGKILL) left them alive for good, 250 MB each (review 14: nine
    found minutes later). And ignore SIGINT: a Ctrl-C at the terminal reaches the whole
    process group, and the sweep's process handles it and stops the workers (a worker's own
    KeyboardInterrupt broke the pool, which would then be made anew)."""
    import os
    import signal
    import threading
    import time

    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="liangye-parent-watch", daemon=True).start()


def _as_completed_awake(futures, every: float = 0.5) -> Iterator:
    """The futures as they complete, like ``concurrent.futures.as_completed``, but waking
    every ``every`` seconds: a SIGINT the kernel hands to another thread (the pool's own
    threads, rich's refresh) runs its Python handler only when the main thread next runs
    Python, which a main thread asleep on a lock would do only when the next batch ends.
    (What ended review 14's 8.6 s waits was terminating the workers, ``close``; this costs
    nothing and closes the other way a Ctrl-C could wait for a batch.)"""
    from concurrent.futures import FIRST_COMPLETED, wait

    left = set(futures)
    while left:
        done, left = wait(left, timeout=every, return_when=FIRST_COMPLETED)
        yield from done


class PoolExecutor:
    """A local process pool (``concurrent.futures``) of ``workers`` processes. When a worker
    process dies the pool breaks and every batch not yet finished with it; the pool is then
    made anew and those batches run again (as Dask reruns the task of a killed worker), at
    most ``POOL_RESTARTS`` times, after which they are stored as failed."""

    name = "process pool"

    def __init__(self, workers: int):
        self.workers = self.parallelism = workers
        self.restarts = 0
        self.pool = self._new_pool()

    def _new_pool(self):
        import os
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(
            max_workers=self.workers, initializer=_exit_with_parent, initargs=(os.getpid(),)
        )

    def run(
        self, model: Model, batches: list[list[RunSpec]], outcomes: list[str]
    ) -> Iterator[Rows]:
        from concurrent.futures.process import BrokenProcessPool

        pending = dict(enumerate(batches))
        while pending:
            futures = {
                self.pool.submit(run_batch, model, batch, outcomes): k
                for k, batch in pending.items()
            }
            broken: BaseException | None = None
            try:
                for future in _as_completed_awake(futures):
                    k = futures[future]
                    try:
                        rows = future.result()
                    except BrokenProcessPool as error:  # a worker process died
                        broken = error
                        continue
                    except Exception as error:  # the batch could not reach its worker
                        rows = failed_rows(pending[k], error)
                    del pending[k]
                    yield rows
            finally:
                for future in futures:
                    future.cancel()
            if broken is None:
                break
            if self.restarts >= POOL_RESTARTS:
                for batch in pending.values():
                    yield failed_rows(batch, broken)
                break
            self.restarts += 1
            log.warning(
                "a worker process died (%s): %d batches run again on a new pool (%d of %d)",
                broken,
                len(pending),
                self.restarts,
                POOL_RESTARTS,
            )
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = self._new_pool()

    def close(self) -> None:
        # The batches running in the workers are stopped, not awaited: shutdown alone lets
        # them finish, and Python waits for them on the way out (a SIGINT to the sweep's
        # process alone took 10-22 s to end it, review 14). Nothing they would finish is
        # stored after this anyway. ``_processes`` is the pool's own record of its workers
        # (Python 3.14 adds ``terminate_workers`` for this).
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()


class DaskExecutor:
    """Dask distributed: a scheduler at ``address``, or a LocalCluster of ``workers`` worker
    processes with one thread each. Batches are impure tasks (``pure=False``), gathered as
    they complete (``distributed.as_completed``)."""

    def __init__(self, workers: int = 2, address: str | None = None):
        from distributed import Client, LocalCluster

        self.cluster = None
        self.parallelism = workers
        if address:
            self.client = Client(address, timeout="30s")
            self.name = f"dask scheduler {address}"
            # Batches sized for the threads the scheduler's workers have now (workers that
            # join later still take batches from the queue): sized for one, a 24-run sweep on
            # six workers made four batches and left two workers idle (review 14).
            self.parallelism = max(1, sum(self.client.nthreads().values()))
        else:
            import dask

            # Each worker samples its threads' stacks every 10 ms for Dask's profiler; on a
            # CPU-bound run that thread takes the interpreter's lock from the run itself:
            # with it off, 2 local workers did 3-4% more runs a minute (64 runs of the
            # tier-budget sweep). The nannies hand the workers this configuration.
            # The workers ignore SIGINT (scenarios/dask_preload.py): this process handles
            # a Ctrl-C and closes the cluster.
            with dask.config.set(
                {
                    "distributed.worker.profile.enabled": False,
                    "distributed.worker.preload": ["liangye.scenarios.dask_preload"],
                }
            ):
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
