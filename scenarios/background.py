"""``liangye run``'s second process: the simulation beside the allocation, then the report.

The simulation of a run does not read the run's allocation (each simulated year solves its
own), so the two are independent: on two cores the run takes about the longer of the two
instead of their sum. The child is started first, with ``spawn`` (no fork of a process whose
libraries may hold threads), and loads the simulation's modules while the parent reads the
scenario; it then takes two orders through a queue: simulate (into the run's simulation
folder; it makes the report's simulation section from the files it wrote and sends back the
run's digest, ``simulation_digest.py``), and write the report (once the parent's files are
written; the parent meanwhile writes the workbook and shows the answer). Progress, log
records and answers come back through one queue; an exception the child raised comes back
as itself, so bad input still reads as bad input. A child that dies without a word (killed)
is reported as such; a parent that stops early, or fails, terminates the child. The default
scenario's run: 4.65 → 3.72 s with the report written here (docs/performance.md).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Collection, Iterator
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


def _child(channel: Any, orders: Any, level: int) -> None:
    """The child's whole life: load the simulation's modules while the parent reads the
    scenario; simulate when told to, make the report's simulation section and send the
    digest; then write the run's report when told to (or end when told to stop)."""
    # Born by spawn, this process would make any multiprocessing lock a named semaphore left
    # to the resource tracker (Pyomo makes one as it loads); ended by os._exit or by the
    # parent, it never unlinks it, and the tracker then warns on the user's terminal after
    # the command has ended. With fork as its own start method (it starts no process) such
    # a lock is unlinked as soon as it is made.
    multiprocessing.set_start_method("fork", force=True)
    root = logging.getLogger()
    root.handlers[:] = [_QueueLogHandler(channel)]
    root.setLevel(level)
    logging.getLogger("MESA").setLevel(logging.WARNING)  # Mesa logs every step at INFO
    try:
        # Loaded before the orders arrive (1.2 s of Mesa, Pyomo, pandas and matplotlib):
        # the parent meanwhile loads and checks the scenario.
        from .simulate import simulate_into

        order = orders.get()
        if order[0] == "simulate":
            _, folder, scenario, base, command = order
            run = simulate_into(
                folder,
                scenario,
                base,
                progress=lambda done, total: channel.put(("progress", done, total)),
                command=command,
            )
            # The report's simulation section, made here from the files just written while
            # the parent still allocates; the report is written here too (below), so the
            # section never crosses to the parent.
            section = _report_section(folder, scenario, base)
            # The parent shows the summary and the headline only: the tables took 0.4 s to
            # send, and the run's own classes would load Mesa there.
            channel.put(("simulated", run.digest()))
            _ready_the_report()
            order = orders.get()
            if order[0] == "report":
                from .runner import write_report

                _, run_folder, pending = order
                path = write_report(run_folder, scenario, base, section, pending)
                channel.put(("reported", path))
    except BaseException as error:  # everything goes back to the parent
        channel.put(("error", _picklable(error)))
    # The answer is sent (its files written before it): the queue is flushed and the process
    # ends at once. An orderly interpreter shutdown freeing the simulation's objects took
    # 0.3-0.5 s that the parent, waiting for the answer, would otherwise wait for too.
    channel.close()
    channel.join_thread()
    os._exit(0)


def _ready_the_report() -> None:
    """Load what writing the report needs while the parent still allocates (its template
    compiled, the font tools imported): the report is what the parent waits for last."""
    from fontTools import subset  # noqa: F401 - imported for its cost, here
    from fontTools.ttLib import TTFont  # noqa: F401

    from liangye.results.report_html import template

    template()


def _report_section(folder: Path, scenario: Scenario, base: Path) -> Section | None:
    """The report's simulation section of the files in ``folder``, or None if making it
    fails: the simulation itself succeeded, and the report then makes the section from the
    same files (and says what went wrong, if it goes wrong again). Its figure is the one
    just written (servitization.png is drawn as the report draws it)."""
    from liangye.results.report import SERVITIZATION_FIGURE

    from .runner import simulation_report_section

    try:
        figure = (folder / SERVITIZATION_FIGURE).read_bytes()
        return simulation_report_section(folder, scenario, base, figure)
    except Exception:  # the report is the one to fail, not the simulation
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
    """``liangye run``'s second process: started at once (it loads the simulation's modules
    while the parent reads the scenario), it simulates when ``simulate`` says so and writes
    the run's report when ``write_report`` says so.

    ``result()`` waits for the simulation (``set_progress`` names what to call as quarters
    finish) and returns its digest, or raises what the child raised; ``write_report()``
    then has the child write the report (it holds the simulation's section, matplotlib and
    the font tools) and ``report()`` waits for its path; ``stop()`` ends the child. Use it as a context
    manager so that the child never outlives the parent's command."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self._channel = context.Queue()  # child -> parent: progress, log records, answers
        self._orders = context.Queue()  # parent -> child: simulate, report, stop
        self._answers: queue.Queue[tuple[str, Any]] = queue.Queue()  # read from the channel
        self._failure: BaseException | None = None  # raised again by every later wait
        self._progress: Progress | None = None  # set_progress
        self._stopped = False  # set by stop(): the child's end is then no surprise
        self._done: tuple[int, int] | None = None  # the last progress reported
        level = logging.getLogger().getEffectiveLevel()
        self._process = context.Process(
            target=_child,
            args=(self._channel, self._orders, level),
            name="liangye-simulation",
            daemon=True,
        )
        try:
            with _sigint_held():
                # The child is born with Ctrl-C blocked (the signal mask survives fork and
                # exec): a Ctrl-C in the terminal reaches both processes, and the parent,
                # which shows the one line "interrupted", ends the child; the child prints
                # nothing. The parent's own Ctrl-C meanwhile waits, held, and arrives once
                # the start is over (ignoring it instead, as first written, lost one pressed
                # then; interrupting the start halfway left a child without its start data).
                self._process.start()
            # Progress, log records and answers are read as they come, while the parent works.
            self._reader = threading.Thread(target=self._read, name="liangye-simulation-reader")
            self._reader.daemon = True
            self._reader.start()
        except BaseException:  # a Ctrl-C arriving as the child starts: no child left behind
            if self._process.pid is not None:
                self._process.terminate()
            raise

    def simulate(self, folder: Path, scenario: Scenario, base: Path, command: str) -> None:
        """Have the child simulate ``scenario`` into ``folder`` (``simulate_into``)."""
        self._orders.put(("simulate", folder, scenario, base, command))

    def _read(self) -> None:
        """Drain the channel until the child's last answer, its error or its silent death;
        answers go to whoever waits (``result``, ``report``)."""
        while True:
            try:
                message = self._channel.get(timeout=POLL_SECONDS)
            except queue.Empty:
                if self._process.is_alive():
                    continue
                message = self._last_word()
                if message is None:
                    code = None if self._stopped else self._process.exitcode
                    self._answers.put(("error", SimulationDied(_died(code))))
                    return
            except (EOFError, OSError):  # the queue broke with the child
                self._answers.put(("error", SimulationDied(_died(self._process.exitcode))))
                return
            kind = message[0]
            if kind == "progress":
                self._done = (message[1], message[2])
                if self._progress is not None:
                    self._progress(*self._done)
            elif kind == "log":
                record = message[1]
                logging.getLogger(record.name).handle(record)
            else:  # "simulated", "reported" or "error"
                self._answers.put((kind, message[1]))
                if kind != "simulated":
                    return  # the child's last word

    def _last_word(self) -> tuple | None:
        """A message sent just before the child ended (it may land after the timeout)."""
        try:
            return self._channel.get(timeout=POLL_SECONDS)
        except (queue.Empty, EOFError, OSError):
            return None

    def _answer(self, expected: str) -> Any:
        """Wait for the child's next answer, which should be ``expected``; raise its error
        (and the same error at every later wait)."""
        if self._failure is not None:
            raise self._failure
        kind, value = self._answers.get()
        if kind == "error":
            self._failure = value
            raise value
        if kind != expected:  # a programming error of this module, not the user's
            raise RuntimeError(f"the simulation's process answered {kind!r}, not {expected!r}")
        return value

    def set_progress(self, progress: Progress | None) -> None:
        """Send progress to ``progress`` from now on (the bar shown once the parent waits),
        starting with where the simulation stands."""
        self._progress = progress
        if progress is not None and self._done is not None:
            progress(*self._done)

    def result(self) -> SimulationDigest:
        """Wait for the simulation; what the command line shows of it (its tables are
        written), or the exception it raised. Call once, after ``simulate``."""
        return self._answer("simulated")

    def write_report(self, folder: Path, pending: Collection[str] = ()) -> None:
        """Have the child write the report of the run in ``folder`` (``runner.write_report``
        with the section it made), once the run's files the report reads are written
        (``pending``: those still being written meanwhile); ``report()`` waits for it. Call
        once, after ``result``."""
        self._orders.put(("report", folder, tuple(pending)))

    def report(self) -> Path:
        """Wait for the report ``write_report`` asked for; its path, or the exception
        raised in writing it."""
        return self._answer("reported")

    def stop(self) -> None:
        """End the child (the parent is done, failed or was interrupted); idempotent."""
        self._stopped = True
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()
        self._reader.join()

    def __enter__(self) -> BackgroundSimulation:
        return self

    def __exit__(self, *exc: object) -> None:
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
