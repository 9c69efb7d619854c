"""``liangye sweep`` and ``liangye query`` on the default scenario, as a user runs them."""

from __future__ import annotations

import io
import json

import pandas as pd

from conftest import liangye

SMALL = """
id = "small"
scenario = "default"
set = ["simulation.population.firms=200"]
replications = 2
root_seed = 3
outcomes = ["additionality.20.net_additional", "spend.paid", "overrun.occurred.any_year"]
batch_size = 2

[levers]
tier_design = ["jiaxing", "no-such-design"]   # the second is refused by the model: runs fail
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
    again = liangye("sweep", str(path), "--out", str(out))
    assert again.returncode == 2 and "--resume" in again.stderr
    resumed = liangye("sweep", str(path), "--out", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "3 runs already stored" in resumed.stderr
    runs = query(out, "select * from runs order by position")
    assert len(runs) == 8 and runs["run_id"].is_unique
    assert list(runs["position"]) == list(range(8))
    failed = runs[runs["status"] == "failed"]
    assert set(failed["tier_design"]) == {"no-such-design"} and len(failed) == 4
    assert failed["error"].str.contains("no-such-design").all()
    ok = runs[runs["status"] == "ok"]
    assert ok["spend_paid"].gt(0).all() and ok["additionality_20_net_additional"].notna().all()
    assert ok["seed"].nunique() == 2  # the same two seeds for every lever setting
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] and manifest["scenario_hash"] and manifest["versions"]
    counts = query(out, "select status, count(*) as n from runs group by status order by status")
    assert counts.to_dict("list") == {"status": ["failed", "ok"], "n": [4, 4]}
    table = liangye("query", str(out), "select count(*) as n from runs")
    assert table.returncode == 0 and "8" in table.stdout


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
