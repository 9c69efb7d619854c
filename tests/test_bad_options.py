"""Bad options and scenario keys, reused run folders, Ctrl-C and strict outputs (issue 13).

Each case runs the command line as a user does (a subprocess) and asserts the exit code,
the words of the message (the option or key named, what was expected) and that no
traceback, pydantic wording or URL reaches the user.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from liangye.model.synthetic import synthetic_candidates

from conftest import allocate_jiaxing, liangye

CHANCES = ("--chance", "national=0.3", "--chance", "provincial=0.5")
SCENARIO = """\
id = "small"
title = "small"
policy = "jiaxing-2024-2026"
years = [2024, 2026]
outputs = {outputs}
[budget]
per_year = {{ 2024 = 5000, 2025 = 5000, 2026 = 5000 }}
[candidates.synthetic]
enterprises = 30
parks = 0
seed = 1
[allocation]
success_probability = {{ national = 0.3, provincial = 0.5 }}
time_limit = 20
"""


def scenario_file(folder: Path, outputs: str = '["csv", "xlsx", "parquet"]') -> Path:
    """A small, feasible scenario (30 synthetic enterprises, 2024-2026: a run takes a few
    seconds) writing ``outputs``."""
    path = folder / "small.toml"
    path.write_text(SCENARIO.format(outputs=outputs), encoding="utf-8")
    return path


@pytest.fixture
def candidate_file(tmp_path) -> Path:
    path = tmp_path / "candidates.csv"
    synthetic_candidates(20, 0, seed=3).to_csv(path, index=False)
    return path


def refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """Exit 2, every word in the message, and nothing a user should not see."""
    said = " ".join((done.stderr + done.stdout).split())  # rich wraps long lines
    assert done.returncode == 2, said
    for word in words:
        assert word in said, (word, said)
    for leak in ("Traceback", "Input should", "pydantic", "http"):
        assert leak not in said, (leak, said)


# Options ----------------------------------------------------------------------------------

BAD_SETTINGS = [
    ("--gap", "-1", "between 0 and 1"),
    ("--gap", "2", "between 0 and 1"),
    ("--gap", "nan", "between 0 and 1"),
    ("--time-limit", "0", "positive number of seconds"),
    ("--time-limit", "-5", "positive number of seconds"),
    ("--time-limit", "nan", "positive number of seconds"),
    ("--time-limit", "inf", "not finite"),
]


@pytest.mark.parametrize(("option", "value", "expected"), BAD_SETTINGS)
def test_a_bad_setting_option_names_the_option(candidate_file, option, value, expected):
    done = allocate_jiaxing(
        candidate_file,
        *CHANCES,
        option,
        value,
    )
    refused(done, option, value, expected)


@pytest.mark.parametrize(("option", "value", "expected"), BAD_SETTINGS[:4])
def test_a_bad_setting_option_beside_a_scenario_names_the_option(tmp_path, option, value, expected):
    done = liangye("allocate", str(scenario_file(tmp_path)), option, value)
    refused(done, option, expected)


def test_set_without_a_scenario_is_refused_not_dropped(candidate_file):
    """--set changes a scenario file's keys: with a policy and a candidate table instead it
    would have been dropped silently (a budget set that way solved with no budget at all)."""
    done = allocate_jiaxing(candidate_file, *CHANCES, "--set", "budget.per_year.2024=5")
    refused(done, "--set", "budget.per_year.2024=5", "--budget")


def test_options_are_checked_before_any_file_is_read(tmp_path):
    done = liangye(
        "allocate",
        "--policy",
        "jiaxing-2024-2026",
        "--candidates",
        str(tmp_path / "nowhere.csv"),
        "--gap",
        "-1",
        "--time-limit",
        "0",
    )
    refused(done, "--gap -1", "--time-limit 0", "Input problems (2)")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--seed", "-5"), ("--seed -5", "0 or more")),
        (("--replications", "0"), ("--replications 0", "from 1 to 1,000")),
        (("--replications", "5000"), ("--replications 5000", "from 1 to 1,000", "sweep")),
    ],
)
def test_a_bad_simulation_option_names_the_option(tmp_path, args, words):
    done = liangye("simulate", str(scenario_file(tmp_path)), *args, "--out", str(tmp_path / "o"))
    refused(done, *words)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("allocate", "--gap", "abc"), ("--gap", "expected a number", "应为数字")),
        (("simulate", "--seed", "1.5"), ("--seed", "expected a whole number", "应为整数")),
        (
            ("simulate", "--replications", "x"),
            ("--replications", "expected a whole number", "'--replications' 的取值有误：应为整数"),
        ),
        (("allocate", "--bogus"), ("No such option: --bogus", "没有选项 --bogus")),
        (("allocate", "extra"), ("unexpected extra argument", "多出了参数：extra")),
    ],
)
def test_a_value_typer_cannot_read_is_named_in_plain_words(tmp_path, args, words):
    command, *rest = args
    refused(liangye(command, str(scenario_file(tmp_path)), *rest), *words)


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("allocation.mip_gap=-1", "between 0 and 1"),
        ("allocation.mip_gap=2", "between 0 and 1"),
        ("allocation.mip_gap=nan", "not finite"),
        ("allocation.time_limit=0", "positive number of seconds"),
        ("allocation.time_limit=-5", "positive number of seconds"),
        ("allocation.time_limit=nan", "not finite"),
        ("simulation.seed=-5", "0 or more"),
        ("simulation.replications=0", "from 1 to 1,000"),
        ("allocation.seed=-5", "from 0 to 2147483647"),
        ("simulation.replications=1001", "from 1 to 1,000"),
        ("simulation.population.firms=100001", "from 1 to 100,000"),
        ("simulation.quarters=121", "from 1 to 120"),
        ("simulation.start_year=1800", "at least 1949"),
        ("simulation.start_year=2101", "at most 2100"),
        ("allocation.seed=2147483648", "from 0 to 2147483647"),
    ],
)
def test_a_bad_set_names_the_key_and_what_it_expects(tmp_path, item, expected):
    done = liangye("allocate", str(scenario_file(tmp_path)), "--set", item)
    refused(done, f"--set {item.partition('=')[0]}", "expected", expected)


def test_a_bad_key_in_the_scenario_file_names_file_and_key(tmp_path):
    path = scenario_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("time_limit = 20", "time_limit = inf"),
        encoding="utf-8",
    )
    refused(liangye("allocate", str(path)), "small.toml allocation.time_limit", "not finite")


# Years ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("years=[2026,2024]", ("--set years", "2026 comes after the last 2024")),
        ("years=[2024,20026]", ("--set years", "20026", "1949-2100")),
        ("years=[1,100000]", ("--set years", "1949-2100")),
        ("years=[2000,2040]", ("--set years", "41 years", "at most 30")),
        ("years=2024", ("--set years", "expected [FIRST, LAST]")),
    ],
)
def test_a_reversed_or_impossible_horizon_is_refused_naming_years(tmp_path, item, words):
    started = time.perf_counter()
    done = liangye("allocate", str(scenario_file(tmp_path)), "--set", item)
    refused(done, *words)
    assert time.perf_counter() - started < 30  # refused up front, not after building


def test_a_horizon_in_the_file_past_the_limit_is_refused_with_the_limit(tmp_path):
    path = scenario_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("[2024, 2026]", "[2024, 2099]"),
        encoding="utf-8",
    )
    refused(liangye("allocate", str(path)), "small.toml years", "76 years", "at most 30")


@pytest.mark.parametrize(
    ("value", "words"),
    [("2026-2024", ("--years 2026-2024", "after the last")), ("2024-20026", ("1949-2100",))],
)
def test_a_bad_years_option_is_refused(candidate_file, value, words):
    done = allocate_jiaxing(
        candidate_file,
        *CHANCES,
        "--years",
        value,
    )
    refused(done, *words)


# Run folders ------------------------------------------------------------------------------


def test_reusing_a_run_folder_clears_the_earlier_run_and_says_so(tmp_path):
    out = tmp_path / "out"
    first = liangye("allocate", str(scenario_file(tmp_path)), "--out", str(out))
    assert first.returncode == 0, first.stderr
    assert {"plan.xlsx", "plan.parquet", "plan.csv"} <= {p.name for p in out.iterdir()}
    second = liangye("allocate", str(scenario_file(tmp_path, '["csv"]')), "--out", str(out))
    assert second.returncode == 0, second.stderr
    said = " ".join(second.stderr.split())
    assert "cleared an earlier run" in said and "已清除" in said and "plan.xlsx" in said
    left = {p.name for p in out.iterdir()}
    assert "plan.xlsx" not in left and "plan.parquet" not in left and "plan.csv" in left
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest["files"]) == left
    assert manifest["complete"] is True and "INCOMPLETE" not in left


@pytest.mark.parametrize(
    "files", [("plan.csv", "manifest.json", "notes.docx"), ("plan.csv",)], ids=["mixed", "bare"]
)
def test_a_folder_holding_other_files_is_refused_and_left_alone(tmp_path, files):
    """A file liangye did not write, or a plan.csv with no manifest saying a run wrote it,
    is never deleted: the command refuses the folder, naming it and the files."""
    out = tmp_path / "out"
    out.mkdir()
    for name in files:
        (out / name).write_text("mine", encoding="utf-8")
    done = liangye("allocate", str(scenario_file(tmp_path)), "--out", str(out))
    refused(done, "--out", str(out), files[-1], "not an earlier liangye run")
    assert sorted(p.name for p in out.iterdir()) == sorted(files)


def test_a_finished_run_is_marked_complete_and_an_interrupted_one_is_not(tmp_path):
    """The INCOMPLETE marker is written before any output and removed after the manifest
    says "complete": true; a run whose simulation fails after the allocation keeps the
    marker (the simulation runs in a second process: its failure reaches the parent as the
    error ``result()`` raises)."""
    script = textwrap.dedent(
        """
        import sys
        import liangye.scenarios.background as background

        def broken(self):
            raise RuntimeError("simulation broke")

        background.BackgroundSimulation.result = broken
        from liangye.scenarios.cli import main
        main()
        """
    )
    out = tmp_path / "broken"
    done = subprocess.run(
        [sys.executable, "-c", script, "run", str(scenario_file(tmp_path)), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert done.returncode == 1 and "simulation broke" in done.stderr
    assert "Traceback" not in done.stderr
    assert (out / "INCOMPLETE").exists() and (out / "plan.csv").exists()
    assert "not finished" in (out / "INCOMPLETE").read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False


def test_the_marker_comes_before_every_output(tmp_path):
    """Interrupted during the allocation: the folder holds the marker and nothing else."""
    out = tmp_path / "out"
    done = python_main(
        "import liangye.scenarios.runner as runner\n"
        "def stop(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "runner.run_allocation = stop\n",
        "run",
        str(scenario_file(tmp_path)),
        "--out",
        str(out),
    )
    assert done.returncode == 130 and done.stderr.strip() == "interrupted"
    assert [p.name for p in out.iterdir()] == ["INCOMPLETE"]


def test_a_finished_run_and_its_simulation_are_marked_complete(tmp_path):
    out = tmp_path / "run"
    done = liangye("run", str(scenario_file(tmp_path)), "--out", str(out), "--json")
    assert done.returncode == 0, done.stderr
    answer = strict(done.stdout)  # the --json answer holds no Infinity or NaN
    assert answer["folder"] == str(out)
    for folder in (out, out / "simulation"):
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["complete"] is True and not (folder / "INCOMPLETE").exists()
    assert "simulation" in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]


# Ctrl-C -----------------------------------------------------------------------------------


def python_main(prelude: str, *args: str) -> subprocess.CompletedProcess:
    """``prelude`` run, then the command line's main() with ``args``, in a subprocess."""
    script = prelude + "\nfrom liangye.scenarios.cli import main\nmain()\n"
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},  # as conftest.liangye: wrapping not path-bound
    )


def interrupted(done: subprocess.CompletedProcess) -> None:
    """Exit 130 and the one line "interrupted" (after any progress bar), no traceback."""
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1] == "interrupted"


def test_ctrl_c_inside_a_command_exits_130_in_one_line(tmp_path):
    done = python_main(
        "import liangye.scenarios.runner as runner\n"
        "def stop(*args, **kwargs):\n"
        "    raise KeyboardInterrupt\n"
        "runner.scenario_problem = stop\n",
        "allocate",
        str(scenario_file(tmp_path)),
    )
    interrupted(done)
    assert done.stderr.strip() == "interrupted"


IMPORT_STOPPER = """
import os, signal, sys

class Stop:
    def find_spec(self, name, path=None, target=None):
        if name == {name!r}:
            {action}
        return None

signal.signal(signal.SIGINT, signal.default_int_handler)
sys.meta_path.insert(0, Stop())
"""


def test_ctrl_c_while_a_command_imports_its_modules(tmp_path):
    done = python_main(
        IMPORT_STOPPER.format(name="liangye.scenarios.loader", action="raise KeyboardInterrupt"),
        "allocate",
        str(scenario_file(tmp_path)),
    )
    interrupted(done)


def test_ctrl_c_while_the_command_line_itself_loads(tmp_path):
    """SIGINT delivered while liangye.scenarios.cli imports its own modules."""
    done = python_main(
        IMPORT_STOPPER.format(
            name="liangye.scenarios.policy_commands",
            action="os.kill(os.getpid(), signal.SIGINT)",
        ),
        "--help",
    )
    interrupted(done)


# Not earlier than 0.5 s: a signal before the interpreter has installed its own handler
# would kill it outright on a slow machine (the moments during start-up are covered,
# deterministically, by the import-stopper tests above).
@pytest.mark.parametrize("delay", [0.5, 2.0])
def test_sigint_at_any_moment_of_a_run_exits_130_without_traceback(tmp_path, delay):
    """A real SIGINT while loading, allocating or simulating: 130 and one line."""
    script = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from liangye.scenarios.cli import main\nmain()\n"
    )
    # The default scenario with 100 enterprises: about a second to load, one to allocate,
    # several to simulate.
    args = ["run", "--set", "candidates.synthetic.enterprises=100", "--out", str(tmp_path / "r")]
    process = subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=300)
    interrupted(subprocess.CompletedProcess(args, process.returncode, out, err))


# Strict outputs ---------------------------------------------------------------------------


def strict(text: str) -> object:
    """JSON as a strict parser reads it: Infinity and NaN refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} in JSON")

    return json.loads(text, parse_constant=refuse)


def test_frontier_csv_is_escaped_and_its_json_strict(tmp_path):
    """A text cell that would run as a formula is escaped in frontier.csv; a number that is
    not finite is null in --json, never Infinity."""
    prelude = textwrap.dedent(
        """
        import pandas as pd
        import liangye.model.frontier as frontier

        def fake(problem, scales, progress=None):
            return pd.DataFrame(
                {
                    "scale": [1.0],
                    "budget": [5000.0],
                    "status": ['=HYPERLINK("http://x.example","F003")'],
                    "objective": [float("inf")],
                    "bound": [float("nan")],
                    "designations": [3],
                    "greedy_objective": [1.0],
                    "greedy_designations": [2],
                    "seconds": [0.1],
                }
            )

        frontier.budget_frontier = fake
        """
    )
    out = tmp_path / "f"
    done = python_main(
        prelude,
        "frontier",
        str(scenario_file(tmp_path)),
        "--scales",
        "1",
        "--out",
        str(out),
        "--json",
    )
    assert done.returncode == 0, done.stderr
    rows = strict(done.stdout)
    assert rows[0]["objective"] is None and rows[0]["bound"] is None
    assert rows[0]["designations"] == 3
    text = (out / "frontier.csv").read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["complete"] is True


def test_print_json_writes_null_for_numbers_that_are_not_finite(capsys):
    from liangye.scenarios.cli import print_json

    print_json({"a": float("inf"), "b": [np.float64("nan"), np.int64(3)], "c": -float("inf")})
    assert strict(capsys.readouterr().out) == {"a": None, "b": [None, 3], "c": None}


def test_a_horizon_total_reads_in_chinese_and_no_chance_is_negative(tmp_path):
    """The overrun line names the horizon total 期间总额 (not "total年"), and no chance shows
    as -0.00% (a sum of probabilities a hair below zero)."""
    path = scenario_file(tmp_path)
    text = path.read_text(encoding="utf-8").replace(
        "per_year = { 2024 = 5000, 2025 = 5000, 2026 = 5000 }",
        "per_year = { 2024 = 5000, 2025 = 5000, 2026 = 5000 }\ntotal = 12000",
    )
    path.write_text(text, encoding="utf-8")
    done = liangye("allocate", str(path))
    said = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stderr
    assert "期间总额" in said and "total年" not in said and "-0.00%" not in said
    answer = json.loads(liangye("allocate", str(path), "--json").stdout)
    assert all(0.0 <= p <= 1.0 for p in answer["overrun_probability"].values())
    assert "total" in answer["overrun_probability"]


def _folder_with_manifest(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "manifest.json").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("frontier-nan", ("--scales nan", "positive budget multiples")),
        ("frontier-huge", ("--scales 1e9", "at most 100")),
        ("query-empty", ("query", "is empty")),
        ("query-run-folder", ("is not a sweep folder", "allocation")),
        ("compare-twice", ("is given twice",)),
        ("scheduler", ("--scheduler garbage", "tcp://")),
        ("allocate-folder", ("文件或文件夹无法读写", "Is a directory")),
        ("analyse-corrupt", ("is not readable JSON",)),
    ],
)
def test_commands_refuse_what_they_cannot_use_by_name(tmp_path, case, words):
    """Each of these ended in an internal error (exit 1 with a library's own words): now a
    clear refusal, exit 2, naming the option, path or file."""
    run_folder = _folder_with_manifest(tmp_path, "run", '{"kind": "allocation"}')
    args = {
        "frontier-nan": ("frontier", "--scales", "nan"),
        "frontier-huge": ("frontier", "--scales", "1e9"),
        "query-empty": ("query", str(tmp_path), ""),
        "query-run-folder": ("query", str(run_folder), "select 1"),
        "compare-twice": ("compare", str(run_folder), str(run_folder) + "/"),
        "scheduler": ("sweep", "tier-budget", "--scheduler", "garbage"),
        "allocate-folder": ("allocate", str(tmp_path)),
        "analyse-corrupt": ("analyse", str(_folder_with_manifest(tmp_path, "sweep", "{x"))),
    }[case]
    refused(liangye(*args), *words)


def test_the_frontier_table_reads_in_chinese(tmp_path):
    """The frontier's terminal table and its line on the least money are in Chinese, the
    statuses by their Chinese words."""
    done = liangye(
        "frontier", str(scenario_file(tmp_path)), "--scales", "1,1.2", "--out", str(tmp_path / "f")
    )
    said = " ".join(done.stdout.split())
    assert done.returncode == 0, done.stderr
    assert "预算前沿" in said and "求解状态" in said and "Budget frontier" not in said
    assert "最优" in said and "optimal" not in said
    assert "所需的最低预算" in said and "least money" not in said
    # the note on points without a proof is said exactly when the table has such a point
    table = pd.read_csv(tmp_path / "f" / "frontier.csv", encoding="utf-8-sig")
    unproven = table["status"].isin(["work_limit", "time_limit"]).any()
    assert ("未证明最优的点" in said) == unproven


@pytest.mark.parametrize("items", [["2025=10", "60"], ["60", "2025=10"]])
def test_a_year_named_in_budget_wins_whatever_the_order(items):
    from decimal import Decimal

    from liangye.scenarios.cli_options import parse_budget

    budget = parse_budget(items, [2024, 2025, 2026])
    assert budget.per_year == {2024: Decimal(60), 2025: Decimal(10), 2026: Decimal(60)}


def test_true_for_a_number_is_refused(tmp_path):
    """``--set allocation.mip_gap=true`` (or ``mip_gap = true`` in the file) was read as a
    gap of 1 (a bool taken as a number)."""
    from liangye.model.errors import InputError
    from liangye.scenarios.loader import load_scenario

    with pytest.raises(InputError, match="between 0 and 1"):
        load_scenario(None, ["allocation.mip_gap=true"])
    path = scenario_file(tmp_path)
    path.write_text(
        path.read_text(encoding="utf-8").replace("time_limit = 20", "time_limit = true"),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"allocation.time_limit.*positive number of seconds"):
        load_scenario(path)


def test_bad_input_with_json_asked_gives_the_problems_as_json(tmp_path, candidate_file):
    """A tool that asked for --json gets the problems on stdout as JSON (it got nothing),
    the person the same problems on stderr."""
    done = liangye(
        "allocate",
        "--policy",
        "jiaxing-2024-2026",
        "--candidates",
        str(candidate_file),
        "--budget",
        "3000",
        "--json",
    )
    assert done.returncode == 2, done.stderr
    answer = json.loads(done.stdout)
    assert answer["status"] == "input_error"
    wheres = [p["where"] for p in answer["problems"]]
    assert "success_probability.national" in wheres
    assert all(p["message"] and p["message_zh"] for p in answer["problems"])
    assert "success_probability.national" in " ".join(done.stderr.split())


def test_two_chances_for_one_level_are_refused():
    """``--chance national=0.3 --chance national=0.4`` took the last one without a word."""
    from liangye.model.errors import InputError
    from liangye.scenarios.cli_options import parse_chances

    assert parse_chances(["national=0.3", "国家级=0.3", "provincial=0.5"]) == {
        "national": 0.3,
        "provincial": 0.5,
    }
    with pytest.raises(InputError) as caught:
        parse_chances(["national=0.3", "provincial=0.5", "国家级=0.4"])
    [problem] = caught.value.problems
    assert problem.where == "国家级=0.4" and "second chance (0.3 before)" in problem.message


@pytest.mark.parametrize("command", ["simulate", "run"])
def test_a_bad_policy_file_is_refused_before_any_run_folder_is_made(tmp_path, command):
    """A scenario whose policy file is wrong (no programmes) exits 2 naming the file, and
    leaves no run folder behind (one holding only INCOMPLETE, before)."""
    (tmp_path / "empty-policy.toml").write_text(
        textwrap.dedent(
            """\
            id = "empty-policy"
            title = "空政策"
            issuer = "测试"
            years = [2024, 2026]
            deciding_level = "municipal"
            stacking = "highest"
            upgrade = "top_up"
            reference = "test"
            source = "test"
            programmes = []
            """
        ),
        encoding="utf-8",
    )
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'id = "no-programmes"\npolicy = "empty-policy.toml"\nyears = [2024, 2026]\n'
        "[budget]\nper_year = { 2024 = 3000, 2025 = 3000, 2026 = 3000 }\n"
        "[candidates.synthetic]\nenterprises = 20\nparks = 0\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = liangye(command, str(scenario), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert "empty-policy.toml" in done.stderr and "programmes" in done.stderr
    assert not out.exists()


def test_an_error_raised_while_a_ctrl_c_unwinds_is_the_ctrl_c():
    """A Ctrl-C between two of Pyomo's nested GC pauses surfaced as "Exiting PauseGC context
    manager out of order" with exit 1 (a flaky SIGINT test): it is read as the Ctrl-C."""
    from liangye.scenarios.cli import _interrupt_behind

    def cleanup_fails() -> None:
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt:
            raise RuntimeError("Exiting PauseGC context manager out of order") from None

    with pytest.raises(RuntimeError) as caught:
        cleanup_fails()
    assert _interrupt_behind(caught.value)  # from None hides it, but keeps the context
    assert not _interrupt_behind(RuntimeError("plain"))
