"""Outputs a spreadsheet cannot misread, and output files like any other (issue 13)."""

from __future__ import annotations

import csv
import json
import os
import signal
import stat
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from liangye.results.export import write_plan_csv, write_plan_xlsx
from liangye.results.store import write_atomic, write_json, write_parquet

from conftest import export_plan

HOSTILE = ['=HYPERLINK("http://x.example","F003")', "+86 573", "-1+2", "@SUM(A1)"]


def plan(names: list[str]) -> pd.DataFrame:
    """A plan with the export's columns: one row per name, a negative number among them."""
    return export_plan(names, [Decimal("-12.5")] * len(names), -3.5)


def reasons(names: list[str]) -> pd.DataFrame:
    """Reasons naming each candidate."""
    return pd.DataFrame(
        {
            "candidate_id": [f"F{i}" for i in range(len(names))],
            "name": names,
            "outcome": ["selected"] * len(names),
            "detail": ["=1+1"] * len(names),
        }
    )


@pytest.fixture
def umask_022():
    """Run the test under umask 022 (the usual one), whatever the runner's."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# Formulas in cells -------------------------------------------------------------------------


def test_csv_text_that_a_spreadsheet_would_run_is_escaped(tmp_path):
    path = write_plan_csv(plan(HOSTILE), tmp_path / "plan.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["name"] for r in rows] == ["'" + text for text in HOSTILE]


def test_csv_numbers_stay_numbers(tmp_path):
    path = write_plan_csv(plan(["-5", "甲"]), tmp_path / "plan.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["amount"] for r in rows] == ["-12.5", "-12.5"]
    assert [r["score"] for r in rows] == ["-3.5", "-3.5"]
    assert [r["name"] for r in rows] == ["-5", "甲"]  # text that is a plain number runs nothing


def test_workbook_text_that_looks_like_a_formula_is_text(tmp_path):
    path = write_plan_xlsx(plan(HOSTILE), reasons(HOSTILE), {"状态": "=cmd"}, tmp_path / "p.xlsx")
    book = openpyxl.load_workbook(path)
    names = [row[1] for row in book["分配方案"].iter_rows(min_row=2)]
    assert [c.value for c in names] == HOSTILE
    assert {c.data_type for c in names} == {"s"}
    assert all(c.quotePrefix for c in names)
    detail = book["候选说明"]["D2"]
    assert (detail.value, detail.data_type) == ("=1+1", "s")
    assert [c.value for c in book["汇总"]["B"]][1] == "=cmd"
    formulas = [
        c.coordinate
        for sheet in book
        for row in sheet.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []


def test_workbook_numbers_stay_numbers(tmp_path):
    path = write_plan_xlsx(plan(HOSTILE), reasons(HOSTILE), {}, tmp_path / "p.xlsx")
    sheet = openpyxl.load_workbook(path)["分配方案"]
    headers = [c.value for c in sheet[1]]
    amount = sheet.cell(row=2, column=headers.index("奖励标准（万元）") + 1)
    score = sheet.cell(row=2, column=headers.index("评分") + 1)
    assert (amount.value, amount.data_type) == (-12.5, "n")
    assert (score.value, score.data_type) == (-3.5, "n")


def test_json_holds_no_infinity_or_nan(tmp_path):
    data = {"objective": float("inf"), "gap": float("nan"), "spend": [1.5, float("-inf")]}
    path = write_json(tmp_path / "allocation.json", data)

    def refuse(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    assert json.loads(path.read_text(encoding="utf-8"), parse_constant=refuse) == {
        "objective": None,
        "gap": None,
        "spend": [1.5, None],
    }


# File modes and partial files --------------------------------------------------------------


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_outputs_are_readable_by_the_group_under_umask_022(tmp_path, umask_022):
    written = [
        write_plan_csv(plan(["甲"]), tmp_path / "plan.csv"),
        write_plan_xlsx(plan(["甲"]), reasons(["甲"]), {}, tmp_path / "plan.xlsx"),
        write_json(tmp_path / "allocation.json", {"a": 1}),
        write_parquet(tmp_path / "plan.parquet", pd.DataFrame({"a": [1]})),
    ]
    assert {p.name: oct(mode(p)) for p in written} == {p.name: "0o644" for p in written}


def test_outputs_follow_a_stricter_umask(tmp_path):
    old = os.umask(0o077)
    try:
        path = write_json(tmp_path / "allocation.json", {"a": 1})
    finally:
        os.umask(old)
    assert oct(mode(path)) == "0o600"


def test_a_failed_write_leaves_no_part_file(tmp_path):
    def fail(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(tmp_path / "plan.csv", fail)
    assert list(tmp_path.iterdir()) == []


def test_an_interrupted_write_leaves_no_part_file(tmp_path):
    def interrupt(path: Path) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "plan.xlsx", interrupt)
    assert list(tmp_path.iterdir()) == []


def test_a_write_killed_by_sigterm_leaves_no_part_file(tmp_path):
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from liangye.results.store import write_atomic\n"
        "def slow(path):\n"
        "    print('writing', flush=True)\n"
        "    time.sleep(30)\n"
        "write_atomic(Path(sys.argv[1]) / 'plan.xlsx', slow)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline() == "writing\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")]  # it is writing
    started = time.monotonic()
    child.send_signal(signal.SIGTERM)
    _, errors = child.communicate(timeout=20)
    assert time.monotonic() - started < 10
    assert child.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in errors
    assert list(tmp_path.iterdir()) == []


def test_the_workbook_is_laid_out_for_a_bureau(tmp_path):
    """Every sheet has its header row frozen and columns as wide as their text; money in
    万元 and chances carry number formats a bureau files as they are."""
    import openpyxl

    path = write_plan_xlsx(
        plan(HOSTILE), reasons(HOSTILE), {"状态": "optimal"}, tmp_path / "p.xlsx"
    )
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(d.width and d.width >= 4 for d in sheet.column_dimensions.values())
    plan_sheet = book["分配方案"]
    headers = [c.value for c in plan_sheet[1]]
    money = headers.index("奖励标准（万元）") + 1
    assert plan_sheet.cell(row=2, column=money).number_format == "#,##0.####"
