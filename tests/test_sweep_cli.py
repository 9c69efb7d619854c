"""``liangye sweep`` and ``liangye query`` on the default scenario, as a user runs them."""

from __future__ import annotations

import io
import json

import pandas as pd

from conftest import liangye, report_text

SMALL = """
id = "small"
scenario = "default"
set = ["simulation.population.firms=200"]
replications = 2
root_seed = 3
outcomes = ["additionality.20.net_additional", "spend.paid", "overrun.occurred.any_year"]
batch_size = 2

[levers]
tier_design = ["jiaxing", "flat"]
"simulation.award_scale" = [0.5, 1.0]
"""


def query(folder, sql: str) -> pd.DataFrame:
    done = liangye("query", str(folder), sql, "--csv")
    assert done.returncode == 0, done.stderr
    return pd.read_csv(io.StringIO(done.stdout))


def test_sweep_limit_resume_failures_and_query(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    out = tmp_path / "out"
    first = liangye("sweep", str(path), "--out", str(out), "--limit", "3")
    assert first.returncode == 0, first.stderr
    assert "3 runs" in first.stdout and "3 of 8 stored" in first.stdout.replace("\n", " ")
    # the sweep named by its id and fingerprint, not by the folder --out names (review 19)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["sweep_id"] == f"small-{manifest['fingerprint']}"
    again = liangye("sweep", str(path), "--out", str(out))
    assert again.returncode == 2 and "--resume" in again.stderr
    assert "━" not in again.stderr  # the refusal comes alone, no progress bar before it
    resumed = liangye("sweep", str(path), "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "3 runs already stored" in resumed.stderr
    runs = query(out, "select * from runs order by position")
    assert len(runs) == 8 and runs["run_id"].is_unique
    assert list(runs["position"]) == list(range(8))
    assert (runs["status"] == "ok").all()
    assert runs["spend_paid"].gt(0).all() and runs["additionality_20_net_additional"].notna().all()
    assert runs["seed"].nunique() == 2  # the same two seeds for every lever setting
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["scenario_hash"] and manifest["versions"]
    table = liangye("query", str(out), "select count(*) as n from runs")
    assert table.returncode == 0 and "8" in table.stdout


FAILING = """
id = "failing"
model = "ishigami"
root_seed = 1
outcomes = ["y"]
batch_size = 2

[levers]
delay = [0.0, -1.0]   # the model refuses a negative one as it runs: those runs fail
x1 = [0.5, 1.0]
"""


def test_a_run_the_model_refuses_is_stored_as_failed_and_the_sweep_completes(tmp_path):
    path = tmp_path / "failing.toml"
    path.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "out"
    done = liangye("sweep", str(path), "--out", str(out))
    assert done.returncode == 0, done.stderr
    runs = query(out, "select * from runs order by position")
    assert len(runs) == 4
    failed = runs[runs["status"] == "failed"]
    assert list(failed["delay"]) == [-1.0, -1.0]
    assert failed["error"].str.contains("delay must be 0 or more seconds").all()
    ok = runs[runs["status"] == "ok"]
    assert list(ok["delay"]) == [0.0, 0.0] and ok["y"].notna().all()
    counts = query(out, "select status, count(*) as n from runs group by status order by status")
    assert counts.to_dict("list") == {"status": ["failed", "ok"], "n": [2, 2]}


def test_a_sweep_whose_every_run_fails_stores_them_and_exits_1_with_the_first_error(tmp_path):
    """It ended with exit 0, so a night script read a sweep of failures as done."""
    path = tmp_path / "failing.toml"
    path.write_text(FAILING.replace("[0.0, -1.0]", "[-1.0]"), encoding="utf-8")
    out = tmp_path / "out"
    done = liangye("sweep", str(path), "--out", str(out))
    assert done.returncode == 1, done.stderr
    said = " ".join(done.stderr.split())
    assert "every run failed" in said and "delay must be 0 or more seconds" in said
    assert query(out, "select count(*) as n from runs where status = 'failed'")["n"][0] == 2


def test_bad_sweep_file_exits_2_naming_file_and_key(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(
        'id = "bad"\noutcomes = ["spend.paid"]\n[levers]\n"simulation.award_respons" = [1, 2]\n',
        encoding="utf-8",
    )
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    text = " ".join(done.stderr.split())
    assert "bad.toml levers.simulation.award_respons: is not a key" in text
    assert not (tmp_path / "out").exists()


def test_query_errors_exit_2(tmp_path):
    done = liangye("query", str(tmp_path), "select 1")
    assert done.returncode == 2 and "not a sweep folder" in " ".join(done.stderr.split())


def test_a_changed_policy_file_changes_the_sweeps_fingerprint(tmp_path):
    """A scenario names its policy by path: editing that file must make the sweep another
    sweep (refused on --resume), or a resumed store mixes runs of two policies."""
    from liangye.scenarios.loader import PACKAGE_DIR
    from liangye.scenarios.sweep_run import prepare

    policy = tmp_path / "jx.toml"
    policy.write_text(
        (PACKAGE_DIR / "policies" / "jiaxing-2024-2026.toml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    scenario = (PACKAGE_DIR / "default.toml").read_text(encoding="utf-8")
    scenario = scenario.replace('policy = "jiaxing-2024-2026"', 'policy = "jx.toml"')
    assert 'policy = "jx.toml"' in scenario
    (tmp_path / "scen.toml").write_text(scenario, encoding="utf-8")
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(SMALL.replace('scenario = "default"', 'scenario = "scen.toml"'), "utf-8")
    before = prepare(sweep)
    assert prepare(sweep).fingerprint == before.fingerprint  # the same inputs, the same sweep
    text = policy.read_text(encoding="utf-8")
    assert "amount = 150" in text
    policy.write_text(text.replace("amount = 150", "amount = 1500", 1), encoding="utf-8")
    after = prepare(sweep)
    assert after.fingerprint != before.fingerprint
    assert after.scenario_hash != before.scenario_hash


def test_a_run_retried_and_failing_again_counts_once_in_the_report(tmp_path):
    """--resume --retry-failed stores a second row for a run that fails again: the report
    counted rows (4 failed of 2 runs), where query and the analysis count runs."""
    path = tmp_path / "failing.toml"
    path.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "out"
    assert liangye("sweep", str(path), "--out", str(out)).returncode == 0
    retried = liangye("sweep", str(path), "--out", str(out), "--resume", "--retry-failed")
    assert retried.returncode == 1  # nothing came of the retry: said, not read as done
    # Every run has a row (two ok, two failed): 4 of 4 stored, not the ok 2 + the 2 retried.
    limited = liangye(
        "sweep", str(path), "--out", str(out), "--resume", "--retry-failed", "--limit", "3"
    )
    assert "4 of 4 stored" in " ".join(limited.stdout.split()), limited.stdout
    assert "every run retried failed again" in " ".join(retried.stderr.split())
    rows = query(out, "select count(*) as n from runs")["n"][0]
    assert rows == 4
    text = report_text(out, tmp_path / "report.html")
    assert "4（成功 2，失败 2）" in text and "失败 4" not in text


def test_an_analysis_older_than_the_store_is_reported_as_such(tmp_path):
    """Analysed after two of four runs, then resumed: the report showed the old analysis
    (2 runs missing, indices invalid) under a header saying the sweep is complete."""
    path = tmp_path / "fine.toml"
    path.write_text(FAILING.replace("[0.0, -1.0]", "[0.0]"), encoding="utf-8")
    out = tmp_path / "out"
    assert liangye("sweep", str(path), "--out", str(out), "--limit", "1").returncode == 0
    assert liangye("analyse", str(out)).returncode == 0
    assert liangye("sweep", str(path), "--out", str(out), "--resume").returncode == 0
    page = tmp_path / "report.html"
    assert "分析结果已过期" in report_text(out, page)
    assert liangye("analyse", str(out)).returncode == 0
    assert "分析结果已过期" not in report_text(out, page)


def test_a_pool_without_workers_is_refused(tmp_path):
    """--pool alone (one worker) ran in-process without a word."""
    path = tmp_path / "failing.toml"
    path.write_text(FAILING, encoding="utf-8")
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"), "--pool")
    assert done.returncode == 2 and "--workers N" in " ".join(done.stderr.split())
    assert not (tmp_path / "out").exists()


def slow_sweep_until_a_batch(tmp_path, *flags: str, new_group: bool = False):
    """A 12-run sweep of slow runs (0.3 s, one a batch) started in a subprocess as a user
    starts it (``new_group``: in its own process group, as a terminal's job), returned once
    its first batch is stored; and its store folder."""
    import os
    import subprocess
    import sys
    import time

    path = tmp_path / "slow.toml"
    path.write_text(
        FAILING.replace("[0.0, -1.0]", "[0.3]").replace("batch_size = 2", "batch_size = 1")
        + "x2 = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    command = [sys.executable, "-c", "from liangye.scenarios.cli import main; main()"]
    sweep = subprocess.Popen(
        [*command, "sweep", str(path), "--out", str(out), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
        start_new_session=new_group,
    )
    deadline = time.monotonic() + 120
    while not list((out / "parts").glob("*.done")) and time.monotonic() < deadline:
        time.sleep(0.1)
    return sweep, out


def test_an_interrupted_sweep_says_what_it_kept_and_how_to_finish(tmp_path):
    """Ctrl-C said "interrupted" alone, in English; now also how many runs are stored and
    that --resume completes the sweep (review 14), and it still exits 130."""
    import signal

    sweep, out = slow_sweep_until_a_batch(tmp_path)
    sweep.send_signal(signal.SIGINT)
    _, stderr = sweep.communicate(timeout=60)
    assert sweep.returncode == 130
    said = " ".join(stderr.split())
    kept = len(query(out, "select run_id from runs"))
    assert 1 <= kept < 12
    assert f"已中断：共 12 次运行，已存 {kept} 次；用同一命令加上 --resume 接着完成" in said
    assert f"interrupted: {kept} of 12 runs stored" in said


def test_a_cluster_that_cannot_be_reached_is_the_addresss_problem_and_leaves_no_store(
    tmp_path, monkeypatch
):
    """An unreachable --scheduler read "文件或文件夹无法读写 file error" and left a started,
    empty store that the same command then refused as begun (review 14)."""
    from typer.testing import CliRunner

    from liangye.model.errors import InputError
    from liangye.scenarios import sweep_executors
    from liangye.scenarios.cli import app

    def unreachable(workers, scheduler, pool=False):
        raise OSError(f"Timed out trying to connect to {scheduler} after 30 s")

    monkeypatch.setattr(sweep_executors, "make_executor", unreachable)
    path = tmp_path / "small.toml"
    path.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "out"
    args = ["sweep", str(path), "--out", str(out), "--scheduler", "tcp://127.0.0.1:1"]
    # (main() prints an InputError and exits 2; the app alone hands it back)
    result = CliRunner().invoke(app, args, env={"COLUMNS": "200"})
    assert isinstance(result.exception, InputError)
    (problem,) = result.exception.problems
    assert (problem.source, problem.where) == ("--scheduler", "tcp://127.0.0.1:1")
    assert problem.zh.startswith("无法启动或连接 Dask 集群：Timed out")
    assert not out.exists()


def test_the_progress_rate_is_the_runs_done_over_the_time_taken():
    """Rich's speed, taken over its last few updates, read 125/min where 65 were done: the
    batches land in bursts. The bar's rate and time left are the average since the start."""
    from types import SimpleNamespace

    from liangye.scenarios.sweep_progress import average_rate

    task = SimpleNamespace(completed=65, elapsed=60.0, finished=False, finished_time=None)
    assert average_rate(task) == 65 / 60
    assert average_rate(SimpleNamespace(completed=0, elapsed=5.0, finished=False)) is None
    done = SimpleNamespace(completed=120, elapsed=99.0, finished=True, finished_time=90.0)
    assert average_rate(done) == 120 / 90


def test_a_ctrl_c_to_a_dask_sweeps_process_group_prints_no_traceback(tmp_path):
    """A terminal's Ctrl-C reaches the local cluster's workers too, and each printed its own
    tracebacks (four with two workers, review 14): the workers now ignore SIGINT, and the
    sweep's process says what it kept and closes the cluster."""
    import os
    import signal

    sweep, _ = slow_sweep_until_a_batch(tmp_path, "--workers", "2", new_group=True)
    os.killpg(sweep.pid, signal.SIGINT)
    _, stderr = sweep.communicate(timeout=120)
    assert sweep.returncode == 130
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr, stderr
    assert "已中断：共 12 次运行" in " ".join(stderr.split())


def test_a_folder_another_sweep_is_writing_is_refused_before_any_bar(tmp_path):
    """The refusal came after the progress bar had been drawn (review 14)."""
    from liangye.results.sweep_store import SweepStore

    path = tmp_path / "small.toml"
    path.write_text(FAILING, encoding="utf-8")
    out = tmp_path / "out"
    first = liangye("sweep", str(path), "--out", str(out), "--limit", "1")
    assert first.returncode == 0, first.stderr
    with SweepStore(out, None).locked():  # another sweep at work in the folder
        done = liangye("sweep", str(path), "--out", str(out), "--resume")
    assert done.returncode == 2
    said = " ".join(done.stderr.split())
    assert "正被另一个批量情景使用" in said and "失败 0" not in said


def validated_start_years(tmp_path, years: str, more: str = "") -> tuple:
    """A sweep of the default scenario (100 firms) over ``simulation.start_year = years``,
    written and validated (which must pass): (its path, what validate said)."""
    path = tmp_path / "years.toml"
    path.write_text(
        'id = "years"\nscenario = "default"\nset = ["simulation.population.firms=100"]\n'
        f'outcomes = ["spend.paid"]\n{more}[levers]\n"simulation.start_year" = {years}\n',
        encoding="utf-8",
    )
    checked = liangye("validate", str(path))
    assert checked.returncode == 0, checked.stdout
    return path, " ".join(checked.stdout.split())


def test_a_value_at_which_no_round_is_held_is_said_once_before_the_runs(tmp_path):
    """A start year after the policy's last passed validate, and every run at it paid
    nothing with a Chinese-only warning each (review 19): said once, in both languages, by
    validate and before the first run, and not by the runs."""
    path, said = validated_start_years(tmp_path, "[2024, 2031]", "replications = 2\n")
    assert "levers.simulation.start_year[1] = 2031: the years of jiaxing-2024-2026" in said
    assert "没有重叠" in said and said.count("没有重叠") == 1
    done = liangye("sweep", str(path), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    both = " ".join((done.stdout + done.stderr).split())
    assert both.count("没有重叠") == 1 and "start_year[1] = 2031" in both


def test_a_sweep_file_that_does_not_parse_is_named_as_a_sweep(tmp_path):
    """A TOML syntax error in a sweep file was reported as a "policy or scenario" with
    problems (review 19)."""
    path = tmp_path / "broken.toml"
    path.write_text('id = "b"\noutcomes = ["spend.paid"\n[levers]\nx = [1]\n', encoding="utf-8")
    done = liangye("validate", str(path))
    said = " ".join(done.stdout.split())
    assert done.returncode == 2 and "sweep with problems" in said and "not valid TOML" in said


def test_quiet_runs_put_the_loggers_levels_back_even_when_they_overlap():
    """A quiet run silences the rounds' and the setup's warnings only while quiet runs are
    under way: in-process, the process went on silenced (five simulation tests failed after
    the sweep tests in one worker); threads saving and restoring in turn could leave it so."""
    import logging
    import threading

    from liangye.scenarios.sweep import QUIET_LOGGERS, _quietened

    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    before = [logger.level for logger in loggers]
    entered, release = threading.Barrier(3), threading.Event()

    def run() -> None:
        with _quietened(True):
            entered.wait()
            release.wait()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    entered.wait()
    assert all(logger.level == logging.ERROR for logger in loggers)
    release.set()
    for thread in threads:
        thread.join()
    assert [logger.level for logger in loggers] == before


def test_a_value_that_leaves_a_budget_year_unused_is_said_before_the_runs(tmp_path):
    """A start year of 2025 leaves the 2024 budget to no round: each run said so, until quiet
    runs silenced it with nothing said instead (review 21)."""
    _, said = validated_start_years(tmp_path, "[2025]")
    assert "start_year[0] = 2025: the budget of 2024 is not used" in said
    assert "预算中2024年的额度在模拟中不使用" in said
