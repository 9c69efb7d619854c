"""`liangye run`'s simulation in a second process: the same files and outcomes as in the
foreground, errors raised as themselves, a killed child reported, no child left behind."""

from __future__ import annotations

import logging
import os
import pickle
import signal
from pathlib import Path

import pandas as pd
import pytest

from liangye.model.errors import InputError, Problem
from liangye.scenarios.background import (
    BackgroundSimulation,
    SimulationDied,
    _picklable,
    _QueueLogHandler,
)
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.simulate import simulate_into

SMALL = [
    "simulation.population.firms=200",
    "simulation.replications=1",
    "candidates.synthetic.enterprises=60",
]
TABLES = ("trajectories", "awards", "payments", "firms")


def simulating(folder: Path, scenario, base: Path) -> BackgroundSimulation:
    """A second process told to simulate ``scenario`` into ``folder``."""
    background = BackgroundSimulation()
    background.simulate(folder, scenario, base, "test")
    return background


def test_the_background_run_writes_and_reports_what_the_foreground_does(tmp_path):
    scenario, base = load_scenario(None, SMALL)
    here = simulate_into(tmp_path / "here", scenario, base, command="test")
    seen: list[tuple[int, int]] = []
    with simulating(tmp_path / "there", scenario, base) as background:
        background.set_progress(lambda d, t: seen.append((d, t)))
        there = background.result()
    for name in ("summary.json", *(f"{t}.parquet" for t in TABLES)):
        assert (tmp_path / "here" / name).read_bytes() == (tmp_path / "there" / name).read_bytes()
    # what comes back is what the command line shows (the tables stay on disk), and it
    # unpickles without the simulation's modules
    assert there == here.digest()
    assert there.summary == here.summary() and there.replications == 1
    assert there.table().row_count == len(there.headline) > 5
    assert seen and seen[-1][0] == seen[-1][1] > 0  # progress up to every quarter of both worlds


def test_an_error_in_the_child_is_raised_in_the_parent_as_itself(tmp_path):
    scenario, base = load_scenario(None, SMALL)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    with (
        pytest.raises(OSError, match="a-file"),
        simulating(blocker / "simulation", scenario, base) as background,
    ):
        background.result()


def test_a_killed_child_is_reported_not_waited_for(tmp_path):
    scenario, base = load_scenario(None, SMALL)
    with simulating(tmp_path / "sim", scenario, base) as background:
        os.kill(background._process.pid, signal.SIGKILL)
        with pytest.raises(SimulationDied, match="killed \\(signal 9\\)"):
            background.result()


def test_a_parent_that_fails_leaves_no_child(tmp_path):
    scenario, base = load_scenario(None, SMALL)
    with (
        pytest.raises(RuntimeError, match="allocation failed"),
        simulating(tmp_path / "sim", scenario, base) as background,
    ):
        raise RuntimeError("allocation failed")
    assert not background._process.is_alive()
    with pytest.raises(SimulationDied, match="stopped"):
        background.result()


def test_input_errors_cross_processes_with_their_problems():
    error = InputError([Problem("candidates.csv", "row 3", "score: expected a number")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and str(copy) == str(error)
    assert _picklable(error) is error


def test_an_error_that_cannot_be_pickled_is_sent_as_its_text():
    class Local(Exception):  # defined in a function: pickle cannot find it by name
        pass

    sent = _picklable(Local("the simulation broke"))
    assert isinstance(sent, RuntimeError) and str(sent) == "Local: the simulation broke"


def test_the_childs_log_records_arrive_formatted():
    sent: list[tuple] = []

    class Channel:
        def put(self, item: tuple) -> None:
            sent.append(pickle.loads(pickle.dumps(item)))  # as the queue would carry it

    logger = logging.getLogger("liangye.test_background")
    logger.addHandler(_QueueLogHandler(Channel()))
    logger.propagate = False
    try:
        logger.warning("%s: no plan meets every rule", pd.Timestamp("2026-01-01").year)
    finally:
        logger.handlers.clear()
        logger.propagate = True
    [(kind, record)] = sent
    assert kind == "log" and record.getMessage() == "2026: no plan meets every rule"
    assert record.levelno == logging.WARNING


def test_the_child_ignores_ctrl_c_which_the_parent_handles(tmp_path):
    """A Ctrl-C in a terminal reaches both processes: the child neither dies of it nor prints
    a traceback (the parent stops it); the parent's own handler is untouched."""
    scenario, base = load_scenario(None, SMALL)
    before = signal.getsignal(signal.SIGINT)
    with simulating(tmp_path / "sim", scenario, base) as background:
        assert signal.getsignal(signal.SIGINT) is before
        os.kill(background._process.pid, signal.SIGINT)
        digest = background.result()
    assert digest.replications == 1 and (tmp_path / "sim" / "summary.json").exists()


def test_the_digest_unpickles_without_loading_the_simulation():
    """What the parent receives names no class of the simulation's modules: unpickled in a
    fresh interpreter, it loads neither Mesa nor liangye.agents."""
    import subprocess
    import sys

    from liangye.scenarios.simulation_digest import SimulationDigest

    digest = SimulationDigest("s", 1, 2, {"summary": {"x": {"mean": 1.0}}}, [("a", "b")])
    script = (
        "import pickle, sys; d = pickle.loads(sys.stdin.buffer.read()); "
        "print(d.headline, 'mesa' in sys.modules, 'liangye.agents' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(digest), capture_output=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().split() == ["[('a',", "'b')]", "False", "False"]


def test_the_simulation_section_made_beside_is_the_one_the_report_would_make(tmp_path):
    """`liangye run` has its simulation's process make the report's simulation section from
    the files it wrote; the page is the same as when the report reads them itself."""
    import re

    from liangye.results.report import run_report
    from liangye.results.report_html import render
    from liangye.scenarios.report_commands import report_names
    from liangye.scenarios.runner import simulation_report_section

    from conftest import small_run

    folder = small_run(tmp_path / "run")
    scenario, base = load_scenario(tmp_path / "run.toml", [])
    names = report_names(scenario.model_dump(mode="json"), base)
    section = simulation_report_section(folder / "simulation", scenario, base)
    assert section.figures and section.tables
    # the simulation's servitization.png is the report's figure, byte for byte
    saved = (folder / "simulation" / "servitization.png").read_bytes()
    assert section.figures[0].png == saved

    def page(simulation=None) -> str:
        text = render(run_report(folder, names, simulation))
        return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<created>", text)

    assert page(section) == page()


def test_a_section_that_cannot_be_made_is_left_to_the_report(tmp_path, monkeypatch):
    """The simulation succeeded; if making the report's section from its files fails, the
    child sends none and the parent's report makes it (the run does not fail for it)."""
    from liangye.scenarios import background, runner

    def broken(*args, **kwargs):
        raise RuntimeError("no figure today")

    monkeypatch.setattr(runner, "simulation_report_section", broken)
    assert background._report_section(tmp_path, None, tmp_path) is None


@pytest.fixture
def python_ctrl_c():
    """Python's own SIGINT handler (KeyboardInterrupt) while the test runs, the one a user's
    process has: what ``_sigint_held`` raises again goes to the handler the caller had. In
    three full runs of the suite on two workers a worker reached these tests with another
    handler and they failed ("DID NOT RAISE"); alone, or with any part of the suite before
    them, they pass. The cause was not found (a run watching every test's handler passed,
    seeing none change it), so the precondition is set here rather than assumed."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, before)


def test_a_ctrl_c_while_the_child_starts_is_not_lost(tmp_path, monkeypatch, python_ctrl_c):
    """Ctrl-C pressed while the child is being started reaches the parent (as
    KeyboardInterrupt) once the start is over, and the child does not outlive it."""
    import multiprocessing.process

    started: list[multiprocessing.process.BaseProcess] = []
    original = multiprocessing.process.BaseProcess.start

    def start_and_press_ctrl_c(self):
        original(self)
        started.append(self)
        os.kill(os.getpid(), signal.SIGINT)  # held until the start is over

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", start_and_press_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        BackgroundSimulation()
    [child] = started
    child.join(timeout=10)
    assert not child.is_alive()


def test_a_ctrl_c_landing_on_another_thread_waits_for_the_start(
    tmp_path, monkeypatch, python_ctrl_c
):
    """The kernel may hand the process's SIGINT to any thread not blocking it (BLAS's, a
    queue's feeder): it still waits until the child has its start data (CI saw a child
    print EOFError when the start was cut between the child's birth and that data)."""
    import multiprocessing.process
    import threading
    import time

    bystander_waits = threading.Event()
    bystander = threading.Thread(target=bystander_waits.wait, daemon=True)
    bystander.start()  # started before the hold: SIGINT is not blocked in it
    started: list[multiprocessing.process.BaseProcess] = []
    original = multiprocessing.process.BaseProcess.start

    def start_with_ctrl_c_on_the_bystander(self):
        signal.pthread_kill(bystander.ident, signal.SIGINT)
        time.sleep(0.2)  # the main thread passes many points where a signal would be raised
        original(self)
        started.append(self)

    monkeypatch.setattr(
        multiprocessing.process.BaseProcess, "start", start_with_ctrl_c_on_the_bystander
    )
    try:
        with pytest.raises(KeyboardInterrupt):
            BackgroundSimulation()
    finally:
        bystander_waits.set()
    [child] = started  # the start ran to its end before the interrupt
    child.join(timeout=10)
    assert child.exitcode == -signal.SIGTERM  # ended by the parent, not by a broken start
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_child_is_born_with_ctrl_c_blocked(tmp_path):
    """What makes a terminal's Ctrl-C harmless to the child: SIGINT in its blocked mask."""
    scenario, base = load_scenario(None, SMALL)
    with simulating(tmp_path / "sim", scenario, base) as background:
        status = Path(f"/proc/{background._process.pid}/status").read_text()
        blocked = int(
            next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16
        )
        assert blocked & (1 << (signal.SIGINT - 1))
        background.result()
    assert not signal.pthread_sigmask(signal.SIG_BLOCK, set()) & {signal.SIGINT}


def test_the_report_the_child_writes_is_the_one_the_run_folder_gives(tmp_path):
    """`liangye run` has its second process write the report, with the simulation section
    it made; the page is the one written afterwards from the run's files alone."""
    import re

    from liangye.scenarios.runner import write_report

    from conftest import small_run

    folder = small_run(tmp_path / "run")
    scenario, base = load_scenario(tmp_path / "run.toml", [])
    by_the_run = (folder / "report.html").read_text(encoding="utf-8")
    again = write_report(folder, scenario, base).read_text(encoding="utf-8")

    def unstamped(page: str) -> str:
        return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", "<created>", page)

    assert "LiangyeCJK" in by_the_run and unstamped(by_the_run) == unstamped(again)


def test_a_parent_that_fails_before_giving_orders_leaves_no_child():
    """A scenario that fails to load: the second process, started first, is ended."""
    with pytest.raises(InputError), BackgroundSimulation() as background:
        raise InputError([Problem("scenario.toml", "budget", "expected a number")])
    assert not background._process.is_alive()


def test_an_error_writing_the_report_is_raised_in_the_parent(tmp_path):
    scenario, base = load_scenario(None, SMALL)
    run = tmp_path / "run"
    (run / "report.html").mkdir(parents=True)  # where the page should go, a folder
    with simulating(run / "simulation", scenario, base) as background:
        assert background.result().replications == 1
        background.write_report(run)
        with pytest.raises(OSError, match=r"report\.html"):
            background.report()
        with pytest.raises(OSError, match=r"report\.html"):  # and again at any later wait
            background.report()
