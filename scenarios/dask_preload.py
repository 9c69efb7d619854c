"""Loaded by the local cluster's Dask workers as they start (``distributed.worker.preload``):
a worker ignores SIGINT. A Ctrl-C at the terminal reaches the whole process group, and each
worker printed its own tracebacks (four a Ctrl-C with two workers, review 14); the sweep's
own process handles the Ctrl-C and closes the cluster, which stops the workers."""

from __future__ import annotations

import signal
import threading


def dask_setup(worker: object) -> None:
    """Dask calls this in each worker as it starts."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
