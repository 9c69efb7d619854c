"""``liangye run``'s simulation in a second process, beside the allocation.

The simulation of a run does not read the run's allocation (each simulated year solves its
own), so the two are independent: on two cores the run takes about the longer of the two
instead of their sum (the default scenario: about 6.4 → 5.0 s with the other changes of the
same day, README "Performance"). The child is started with ``spawn`` (no fork of a process
whose libraries may hold threads), reports progress and its log records through one queue,
and sends back the finished run's digest (``simulation_digest.py``) with the report's
simulation section, or the exception it raised; the parent re-raises that exception as its
own, so bad input still reads as bad input. A child that dies without a word (killed) is
reported as such; a parent that stops early terminates the child.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from liangye.results.report_html import Section

    from .schema import Scenario
    from .simulation_digest import SimulationDigest

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
POLL_SECONDS = 0.2  # how often the parent looks whether a silent child is still alive


class SimulationDied(RuntimeError):
    """The simulation's process ended without sending its result or its error."""


class _QueueLogHandler(logging.Handler):
    """Hands the child's log records to the parent (which shows them with its own handler)."""

    def __init__(self, channel: Any):
        super().__init__()
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        # The message is formatted here: its arguments may not survive pickling.
        record.msg, record.args, record.exc_info, record.exc_text = (
            record.getMessage(),
            None,
            None,
            None,
        )
        self.channel.put(("log", record))


def _child(
    channel: Any,
    folder: Path,
    scenario: Scenario,
    base: Path,
    command: str,
    level: int,
) -> None:
    """The child's whole life: simulate into ``folder``, then send the run or the error."""
    root = logging.getLogger()
    root.handlers[:] = [_QueueLogHandler(channel)]
    root.setLevel(level)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        from .simulate import simulate_into

        run = simulate_into(
            folder,
            scenario,
            base,
            progress=lambda done, total: channel.put(("progress", done, total)),
            command=command,
        )
        # The report's simulation section is made here, from the files just written, as
        # the parent would make it (its figure and tables were 0.2-0.3 s of the parent's
        # report, which waits for nothing else).
        section = _report_section(folder, scenario, base)
        # The tables are written; the parent shows the summary and the headline only: the
        # tables took 0.4 s to send, and the run's own classes would load Mesa there.
        channel.put(("done", (run.digest(), section)))
    except BaseException as error:  # everything goes back to the parent
        channel.put(("error", _picklable(error)))
    # The answer is sent (its files written before it): the queue is flushed and the process
    # ends at once. An orderly interpreter shutdown freeing the simulation's objects took
    # 0.3-0.5 s that the parent, waiting for the answer, would otherwise wait for too.
    channel.close()
    channel.join_thread()
    os._exit(0)


def _report_section(folder: Path, scenario: Scenario, base: Path) -> Section | None:
    """The report's simulation section of the files in ``folder``, or None if making it
    fails: the simulation itself succeeded, and the parent's report then makes the section
    from the same files (and says what went wrong, if it goes wrong again)."""
    from .runner import simulation_report_section

    try:
        return simulation_report_section(folder, scenario, base)
    except Exception:  # the report is the parent's to fail, not the simulation's
        log.debug("simulation section left to the report", exc_info=True)
        return None


def _picklable(error: BaseException) -> BaseException:
    """``error`` itself if it survives pickling, else a RuntimeError with its message."""
    import pickle

    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


class BackgroundSimulation:
    """A scenario's simulation running in a child process from construction on.

    ``result()`` waits for it (``set_progress`` names what to call as quarters finish) and
    returns its digest (or raises what the child raised); ``report_section()`` is then the
    report's simulation section the child made (or None); ``stop()`` ends the child if the
    parent gives up first. Use it as a context manager so that the child never outlives a
    parent that failed."""

    def __init__(
        self,
        folder: Path,
        scenario: Scenario,
        base: Path,
        command: str,
    ):
        context = multiprocessing.get_context("spawn")
        self._channel = context.Queue()
        self._progress: Progress | None = None  # set_progress
        self._outcome: tuple[str, Any] | None = None
        self._stopped = False  # set by stop(): the child's end is then no surprise
        self._section: Section | None = None
        self._done: tuple[int, int] | None = None  # the last progress reported
        level = logging.getLogger().getEffectiveLevel()
        self._process = context.Process(
            target=_child,
            args=(self._channel, folder, scenario, base, command, level),
            name="liangye-simulation",
            daemon=True,
        )
        try:
            with _sigint_held():
                # The child is born with Ctrl-C blocked (the signal mask survives fork and
                # exec): a Ctrl-C in the terminal reaches both processes, and the parent,
                # which shows the one line "interrupted", ends the child; the child prints
                # nothing. The parent's own Ctrl-C meanwhile waits, blocked, and arrives once
                # unblocked (ignoring it instead, as first written, lost one pressed then).
                self._process.start()
            # Progress and log records are read as they come, while the parent allocates.
            self._reader = threading.Thread(target=self._read, name="liangye-simulation-reader")
            self._reader.daemon = True
            self._reader.start()
        except BaseException:  # a Ctrl-C arriving as the child starts: no child left behind
            if self._process.pid is not None:
                self._process.terminate()
            raise

    def _read(self) -> None:
        """Drain the queue until the result, the error, or the child's silent death."""
        while self._outcome is None:
            try:
                message = self._channel.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if not self._process.is_alive():
                    message = self._last_word()
                    if message is None:
                        code = None if self._stopped else self._process.exitcode
                        self._outcome = ("error", SimulationDied(_died(code)))
                        continue
                else:
                    continue
            except (EOFError, OSError):  # the queue broke with the child
                self._outcome = ("error", SimulationDied(_died(self._process.exitcode)))
                continue
            kind = message[0]
            if kind == "progress":
                self._done = (message[1], message[2])
                if self._progress is not None:
                    self._progress(*self._done)
            elif kind == "log":
                record = message[1]
                logging.getLogger(record.name).handle(record)
            elif kind == "done":
                self._outcome = (kind, message[1][0])
                self._section = message[1][1]
            elif kind == "error":
                self._outcome = (kind, message[1])

    def _last_word(self) -> tuple | None:
        """A message sent just before the child ended (it may land after the timeout)."""
        try:
            return self._channel.get(timeout=POLL_SECONDS)
        except (queue.Empty, EOFError, OSError):
            return None

    def set_progress(self, progress: Progress | None) -> None:
        """Send progress to ``progress`` from now on (the bar shown once the parent waits),
        starting with where the simulation stands."""
        self._progress = progress
        if progress is not None and self._done is not None:
            progress(*self._done)

    def result(self) -> SimulationDigest:
        """Wait for the simulation; what the command line shows of it (its tables are
        written), or the exception it raised. The answer is returned as soon as it arrives,
        without waiting for the child to finish exiting."""
        self._reader.join()
        kind, value = self._outcome  # type: ignore[misc] - set before the reader ends
        if kind == "error":
            raise value
        return value

    def report_section(self) -> Section | None:
        """The report's simulation section, made by the child from the files it wrote
        (``runner.simulation_report_section``); None before ``result()`` or after an error."""
        return self._section

    def stop(self) -> None:
        """End the child (the parent failed or was interrupted); idempotent."""
        self._stopped = True
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._reader.join()

    def __enter__(self) -> BackgroundSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.stop()


@contextmanager
def _sigint_held() -> Iterator[None]:
    """SIGINT held back within: blocked for the main thread and the processes it starts
    (where the platform has signal masks), and one that arrives meanwhile anyway (the kernel
    hands a process's signal to any thread not blocking it: numpy's BLAS threads, the
    queue's feeder) is kept by a handler of ours and raised again, as SIGINT, on leaving.
    Interrupting ``Process.start`` halfway (between the child's birth and the data it reads
    at birth) left a child printing ``EOFError`` (seen in CI)."""
    in_main_thread = threading.current_thread() is threading.main_thread()
    held: list[int] = []
    previous = None
    if in_main_thread:
        previous = signal.signal(signal.SIGINT, lambda number, frame: held.append(number))
    masks = hasattr(signal, "pthread_sigmask")
    if masks:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if masks:
            # A SIGINT pending on this thread is delivered here, to our handler.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        if in_main_thread and previous is not None:  # None: a handler not set from Python
            signal.signal(signal.SIGINT, previous)
            if held:
                signal.raise_signal(signal.SIGINT)  # now to the handler the caller had


def _died(code: int | None) -> str:
    """Words for a child that ended without a result, by its exit code (None: stopped by
    the parent)."""
    if code is None:
        return "the simulation was stopped"
    if code is not None and code < 0:
        return f"the simulation's process was killed (signal {-code}) before it finished"
    return f"the simulation's process ended (exit code {code}) before it finished"
