"""A HiGHS instance that stays quiet: no log, and no start-up banner on stdout."""

from __future__ import annotations

import contextlib
import os
import sys
import threading

import highspy

_STDOUT_LOCK = threading.Lock()

# HiGHS runs its parallel work on one scheduler per process, made with the thread count of the
# first instance that runs; an instance asking for another count later fails (its run returns
# an error status). So every instance of this process asks for the same count, THREADS, and a
# change (allocation.threads) resets the scheduler first (``use_threads``).
THREADS = 2  # as AllocationSettings.threads' default


def quiet_highs() -> highspy.Highs:
    """A new HiGHS instance with logging off, its start-up banner kept out of stdout.

    HiGHS 1.16 writes its copyright banner from C++ to file descriptor 1 as the instance is
    constructed, before any option can be set (ERGO-Code/HiGHS#1932, #2749); that would corrupt
    ``liangye ... --json``. So the descriptor points at /dev/null for the construction only.
    """
    with _STDOUT_LOCK:
        sys.stdout.flush()
        with contextlib.ExitStack() as undo:
            try:
                saved = os.dup(1)
            except OSError:  # no descriptor 1 (embedded interpreters): nothing to protect
                saved = None
            if saved is not None:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, 1)
                os.close(devnull)
                undo.callback(os.close, saved)
                undo.callback(os.dup2, saved, 1)
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", THREADS)
    return highs


def use_threads(highs: highspy.Highs, threads: int) -> None:
    """Run ``highs`` (and every instance made after it) on ``threads`` threads, resetting
    HiGHS's process-wide scheduler when the count changes (see THREADS)."""
    global THREADS
    if threads != THREADS:
        highspy.Highs.resetGlobalScheduler(True)
        THREADS = threads
    highs.setOptionValue("threads", threads)
