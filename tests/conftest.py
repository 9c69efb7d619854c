"""Shared builders for tiny, hand-checkable allocation instances."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from liangye.model.allocation import AllocationResult, allocate
from liangye.model.options import build_problem
from liangye.model.policy import Policy, policy_from_dict
from liangye.model.settings import AllocationSettings, Budget
from liangye.results.font_cache import CACHE_ENV

# The report's font subsets are cached in the user's cache folder (results/font_cache.py):
# the tests keep theirs in a folder of their own (inherited by the commands they start),
# never in the home of whoever runs them, and start with it empty.
os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="liangye-test-cache-")


def make_policy(programmes: list[dict], **extra: object) -> Policy:
    """A policy from programme dicts, with one-year defaults filled in."""
    data = {"id": "test", "title": "测试政策", "years": [2024, 2024], "programmes": programmes}
    data.update(extra)
    return policy_from_dict(data, "test.toml")


def programme(pid: str, amounts: dict[str, float], **extra: object) -> dict:
    """A programme dict with levels {level: amount}, conferred by the municipal level itself."""
    levels = [
        {"level": level, "amount": amount, "conferred_by": "municipal"}
        for level, amount in amounts.items()
    ]
    return {"id": pid, "name": pid, "reference": "test", "levels": levels, **extra}


def make_candidates(rows: list[dict]) -> pd.DataFrame:
    """A canonical candidate table; missing columns get harmless defaults."""
    frame = pd.DataFrame(rows)
    defaults = {
        "kind": "enterprise",
        "district": "A",
        "sector": "S",
        "revenue": 10000.0,
        "service_input_share": 0.2,
        "service_revenue_share": 0.2,
    }
    for column, value in defaults.items():
        if column not in frame.columns:
            frame[column] = value
    if "name" not in frame.columns:
        frame["name"] = frame["id"]
    frame["row"] = [f"row {i + 2}" for i in range(len(frame))]
    frame.attrs["source"] = "candidates.csv"
    return frame


def solve(
    policy: Policy,
    candidates: pd.DataFrame,
    budget: dict[int, float] | None = None,
    total: float | None = None,
    carry_over: bool = False,
    **settings: object,
) -> AllocationResult:
    """Build and solve; budgets in 万元."""
    budget_obj = Budget(
        per_year={t: Decimal(str(v)) for t, v in (budget or {}).items()},
        total=None if total is None else Decimal(str(total)),
        carry_over=carry_over,
    )
    problem = build_problem(policy, candidates, budget_obj, AllocationSettings(**settings))
    return allocate(problem)


def picks(result: AllocationResult) -> set[tuple]:
    """The plan as {(candidate_id, programme, level, year)}."""
    return {
        (r.candidate_id, r.programme, r.level, int(r.year)) for r in result.selected.itertuples()
    }


def export_plan(
    names: list[str], amounts: list[Decimal], score: float, **extra: list
) -> pd.DataFrame:
    """A plan with the export's columns, one row per name (``extra``: more columns)."""
    n = len(names)
    return pd.DataFrame(
        {
            "candidate_id": [f"F{i}" for i in range(n)],
            "name": names,
            "district": ["南湖区"] * n,
            "sector": ["纺织"] * n,
            "programme": ["P"] * n,
            "level": ["municipal"] * n,
            "year": [2024] * n,
            "amount": amounts,
            **extra,
            "score": [score] * n,
            "nomination": [False] * n,
        }
    )


@pytest.fixture
def policy_dir(tmp_path):
    return tmp_path


def liangye(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The ``liangye`` command in a subprocess, as a user runs it (output captured).

    The output is laid out 200 columns wide: rich wraps what it prints at the console's width,
    and a test that looks for a phrase must not depend on how long the checkout's path is (CI's
    deeper path once broke "sweep, no problems" across two lines at the default 80).
    """
    return subprocess.run(
        [sys.executable, "-c", "from liangye.scenarios.cli import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        env={**os.environ, "COLUMNS": "200"},
    )


def allocate_jiaxing(
    candidates: Path, *extra: str, cwd: Path | None = None
) -> subprocess.CompletedProcess:
    """`liangye allocate` under the bundled Jiaxing policy on a candidate file, plus ``extra``."""
    return liangye(
        "allocate",
        "--policy",
        "jiaxing-2024-2026",
        "--candidates",
        str(candidates),
        *extra,
        cwd=cwd,
    )


def report_text(folder: Path, page: Path) -> str:
    """``liangye report FOLDER --out PAGE`` (which must succeed) and the page's HTML."""
    done = liangye("report", str(folder), "--out", str(page))
    assert done.returncode == 0, done.stderr
    return page.read_text(encoding="utf-8")


SMALL_RUN = """\
id = "small-report"
title = "小型测试情景"
policy = "jiaxing-2024-2026"
years = [2024, 2026]
outputs = ["csv", "parquet"]
[budget]
per_year = {{ 2024 = 5000, 2025 = 5000, 2026 = 5000 }}
[candidates.synthetic]
enterprises = {enterprises}
parks = 0
seed = 1
[allocation]
success_probability = {{ national = 0.3, provincial = 0.5 }}
time_limit = 20
[simulation]
replications = 2
[simulation.population]
firms = 200
"""


def small_run(folder: Path, *sets: str, enterprises: int = 30) -> Path:
    """``liangye run`` of a small scenario (30 synthetic enterprises, 200 simulated firms,
    two replications: a few seconds) into ``folder``, with ``--set`` overrides."""
    scenario = folder.parent / f"{folder.name}.toml"
    scenario.write_text(SMALL_RUN.format(enterprises=enterprises), encoding="utf-8")
    args = [arg for s in sets for arg in ("--set", s)]
    done = liangye("run", str(scenario), *args, "--out", str(folder))
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="session")
def design_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two runs of the small scenario on the same candidates and seeds, the policy's own
    tier design and the steep one: what ``liangye compare`` and the report tests read."""
    root = tmp_path_factory.mktemp("design_runs")
    return {
        "jiaxing": small_run(root / "jiaxing", "tier_design=jiaxing"),
        "steep": small_run(root / "steep", "tier_design=steep"),
    }
