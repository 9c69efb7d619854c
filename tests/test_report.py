"""``liangye report``: one self-contained Chinese HTML page of a run or a sweep folder."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from PIL import Image

from liangye.results.report import ReportNames, run_report
from liangye.results.report_html import Report, Section, Table, render
from liangye.results.sweep_store import SweepStore
from liangye.scenarios.loader import load_scenario
from liangye.scenarios.runner import write_report

from conftest import liangye


class Page(HTMLParser):
    """The parts of a page the tests look at: images, links, scripts, visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.references: list[str] = []
        self.scripts = 0
        self.text: list[str] = []
        self.headings: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self._in.append(tag)
        if tag == "img":
            self.images.append(values.get("src") or "")
        if tag == "script":
            self.scripts += 1
        for key in ("href", "src"):
            if values.get(key) and not (values[key] or "").startswith(("data:", "#")):
                self.references.append(values[key] or "")

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "h2":
            self.headings.append(data.strip())
        if not self._in or self._in[-1] not in ("style", "script"):
            self.text.append(data)


def parse(path: Path) -> tuple[str, Page]:
    html = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(html)
    return html, page


def assert_self_contained(html: str, page: Page) -> None:
    """No request leaves the file: no link, script or stylesheet outside it, no url() but
    data; figures are PNGs of a sensible size; printable."""
    assert page.references == [] and page.scripts == 0
    assert not re.search(r"url\((?!data:)", html)
    assert "@media print" in html and "@font-face" in html
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        with Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))) as image:
            assert image.format == "PNG" and image.size[0] > 400 and image.size[1] > 200


def test_report_of_a_run(design_runs: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    done = liangye("report", str(design_runs["steep"]), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert str(out) in "".join(done.stdout.split())  # its path, however rich wraps it
    html, page = parse(out)
    assert_self_contained(html, page)
    assert page.headings == [
        "情景说明",
        "分配方案",
        "支出、预算与超支风险",
        "未入选的候选及原因",
        "模拟结果",
        "运行信息",
    ]
    text = "".join(page.text)
    # The scenario in words, programme and design names from the policy and tiers files.
    assert "嘉兴市推动先进制造业和现代服务业深度融合发展的实施方案" in text
    assert "奖励档次：陡峭 300/50/10（示意）" in text
    assert "每年 5,000 万元" in text and "国家级 30%" in text
    allocation = json.loads((design_runs["steep"] / "allocation.json").read_text("utf-8"))
    assert f"{len(allocation['selected'])} 项" in text
    # The plan names programmes and levels in Chinese, never by their ids.
    plan = text[text.index("求解状态") : text.rindex("未入选的候选及原因")]
    assert "服务型制造示范企业" in plan and "国家级" in plan
    for programme in {row["programme"] for row in allocation["selected"]}:
        assert programme not in plan
    assert "national" not in plan and "municipal" not in plan
    # Two figures: the plan's payout and the simulation.
    assert len(page.images) == 2
    assert "2 次重复模拟" in text
    # The cost per additional firm pools the replications, and says so beside the means.
    assert "2次模拟合计支付" in text
    # The run's facts name whose seed is whose: the solver's, and the simulation's.
    summary = json.loads((design_runs["steep"] / "simulation" / "summary.json").read_text("utf-8"))
    facts = text[text.rindex("运行信息") :]
    assert "求解器随机种子" in facts and f"模拟随机种子{summary['seed']}" in facts


def test_the_report_names_each_loser_with_the_chinese_reason_and_what_it_would_take(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    """Where the explanations carry a Chinese reason and further columns, the report shows
    them; every value is escaped (a name is text, never markup)."""
    folder = tmp_path / "run"
    shutil.copytree(design_runs["jiaxing"], folder)
    reasons = pd.read_parquet(folder / "reasons.parquet")
    # The small scenario's budget takes everyone: two candidates are made losers here.
    reasons.loc[[0, 1], "outcome"] = ["out_of_budget", "ineligible"]
    losers = reasons.index[reasons["outcome"] != "selected"]
    reasons["reason_zh"] = "预算不足：需要再增加 20万元"
    reasons["needed_score"] = 88.5
    # The thresholds' columns as the explanations write them: shown by their Chinese names.
    reasons["score_needed"] = [88.0, np.inf] + [np.nan] * (len(reasons) - 2)
    reasons["extra_budget_year"] = pd.array([2025] + [pd.NA] * (len(reasons) - 1), dtype="Int64")
    reasons["threshold_confirmed"] = True
    # each figure's own mark too: 是/否, never the 0 and 1 of a bool column (review 21)
    reasons["score_confirmed"] = True
    reasons["money_confirmed"] = pd.array([False] + [pd.NA] * (len(reasons) - 1), dtype="boolean")
    reasons["threshold_at"] = "design_centre:municipal:2025"
    reasons.loc[losers[0], "name"] = "<script>alert(1)</script>企业"
    reasons.to_parquet(folder / "reasons.parquet", index=False)
    scenario = design_runs["jiaxing"].parent / "jiaxing.toml"
    out = write_report(folder, *load_scenario(scenario, ["tier_design=jiaxing"]))
    html, page = parse(out)
    assert_self_contained(html, page)
    assert page.scripts == 0 and "&lt;script&gt;alert(1)&lt;/script&gt;企业" in html
    text = "".join(page.text)
    assert "预算不足：需要再增加 20万元" in text and "needed_score" in text and "88.5" in text
    assert "预算不足" in text and "不符合条件" in text  # the outcomes in Chinese
    assert "入选所需评分" in text and "无法达到" in text and "2025年" in text and "是" in text
    tables = [t for s in run_report(folder, ReportNames()).sections for t in s.tables]
    losers_table = next(t for t in tables if t.caption == "未入选的候选")
    header = list(losers_table.headers)
    for column in ("评分数字是否经重新求解确认", "预算数字是否经重新求解确认"):
        cells = {row[header.index(column)] for row in losers_table.rows}
        assert cells <= {"是", "否"}, (column, cells)
    for field in ("score_needed", "extra_budget_year", "threshold_", "design_centre:", "2,025"):
        assert field not in text, field
    # The English sentence is replaced, not shown beside; selected candidates are not listed.
    assert reasons.loc[losers[0], "detail"] not in text
    assert reasons.loc[5, "name"] not in text.split("未入选的候选")[-1].split("模拟结果")[0]


def test_a_run_report_without_names_shows_ids(design_runs: dict[str, Path]) -> None:
    report = run_report(design_runs["jiaxing"], ReportNames())
    plan = next(s for s in report.sections if s.title == "分配方案")
    cells = [cell for table in plan.tables for row in table.rows for cell in row]
    assert any(cell in ("service_manufacturing_demo", "industrial_design_centre") for cell in cells)


def sweep_folder(folder: Path) -> Path:
    """A sweep store with two tier designs × two replications, and an analysis folder
    holding one figure and one table, as ``liangye sweep`` and ``liangye analyse`` write."""
    columns = [
        {"column": "tier_design", "key": "tier_design", "kind": "lever"},
        {"column": "spend_paid", "key": "spend.paid", "kind": "outcome"},
        {"column": "additionality_20_net_additional", "key": "additionality.20.net_additional",
         "kind": "outcome"},
        {"column": "overrun_occurred_any_year", "key": "overrun.occurred.any_year",
         "kind": "outcome"},
    ]  # fmt: skip
    schema = pa.schema(
        [
            ("run_id", pa.string()),
            ("position", pa.int64()),
            ("point", pa.int64()),
            ("replication", pa.int64()),
            ("seed", pa.int64()),
            ("tier_design", pa.string()),
            ("spend_paid", pa.float64()),
            ("additionality_20_net_additional", pa.float64()),
            ("overrun_occurred_any_year", pa.float64()),
            ("status", pa.string()),
            ("error", pa.string()),
            ("seconds", pa.float64()),
        ]
    )
    store = SweepStore(folder, schema)
    rows = [
        {"run_id": f"r{i}", "position": i, "point": 0, "replication": i % 2, "seed": 10 + i % 2,
         "tier_design": design, "spend_paid": spend, "additionality_20_net_additional": net,
         "overrun_occurred_any_year": over, "status": "ok", "error": None, "seconds": 1.0}
        for i, (design, spend, net, over) in enumerate(
            [("jiaxing", 8000.0, 4.0, 0.0), ("jiaxing", 8200.0, 6.0, 1.0),
             ("steep", 7000.0, 2.0, 0.0), ("steep", 7400.0, 3.0, 0.0)]
        )
    ]  # fmt: skip
    rows.append({**rows[0], "run_id": "bad", "position": 4, "status": "failed",
                 "error": "求解失败：示例", "spend_paid": None})  # fmt: skip
    with store.locked():
        store.write_manifest(
            {
                "kind": "sweep",
                "sweep": {"id": "t", "title": "测试批量情景", "scenario": "default",
                          "levers": {"tier_design": {"values": ["jiaxing", "steep"]}}},
                "columns": columns,
                "replications": 2,
                "root_seed": 7,
                "sampler": {"kind": "grid"},
                "design": {"runs": 5},
                "complete": True,
            }
        )  # fmt: skip
        store.write_design([{k: r[k] for k in ("run_id", "position", "point")} for r in rows])
        store.write_part(rows)
    analysis = folder / "analysis"
    analysis.mkdir()
    figure, axes = plt.subplots(figsize=(6, 3))
    axes.plot([0, 1, 2], [1, 3, 2])
    figure.savefig(analysis / "outcomes_by_tier_design.png", dpi=100)
    plt.close(figure)
    pd.DataFrame({"tier_design": ["jiaxing", "steep"], "spend_paid": [8100.0, 7200.0]}).to_csv(
        analysis / "robustness.csv", index=False
    )
    return folder


def test_report_of_a_sweep(tmp_path: Path) -> None:
    folder = sweep_folder(tmp_path / "sweep")
    done = liangye("report", str(folder))
    assert done.returncode == 0, done.stderr
    html, page = parse(folder / "report.html")
    assert_self_contained(html, page)
    assert page.headings == [
        "批量情景设计",
        "运行汇总",
        "奖励档次比较",
        "分析图表",
        "分析表格",
        "失败的运行",
        "运行信息",
    ]
    text = "".join(page.text)
    assert "嘉兴 150/50/20" in text and "陡峭 300/50/10（示意）" in text
    # jiaxing: spend 8,100 (8,000–8,200) over its two runs; the failed run is listed apart.
    assert "8,100（8,000–8,200）" in text and "求解失败：示例" in text
    assert "各结果随奖励档次的变化" in text and "实际支付（万元）" in text
    assert len(page.images) == 2  # the design comparison and the analysis's figure


def test_a_folder_that_is_neither_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    done = liangye("report", str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "既不是liangye的运行文件夹" in "".join(done.stderr.split())
    missing = liangye("report", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "不是文件夹" in missing.stderr.replace("\n", "")


def test_render_escapes_and_embeds_the_font_subset() -> None:
    report = Report(
        "标题 <b>",
        sections=[Section("第一节", ["段落 & 说明"], [Table(["甲"], [["<i>乙</i>"]])])],
    )
    html = render(report)
    assert (
        "标题 &lt;b&gt;" in html and "段落 &amp; 说明" in html and "&lt;i&gt;乙&lt;/i&gt;" in html
    )
    font = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html)
    assert font is not None
    # A subset: the page's characters only, far below the 16 MB font.
    from fontTools.ttLib import TTFont

    subset = TTFont(io.BytesIO(base64.b64decode(font.group(1))))
    cmap = subset.getBestCmap()
    assert all(ord(c) in cmap for c in "标题第一节段落说明甲乙")
    assert len(font.group(1)) < 400_000


@pytest.mark.parametrize("name", ["report.html.j2"])
def test_the_template_ships_with_the_package(name: str) -> None:
    from importlib.resources import files

    assert (files("liangye.results") / "templates" / name).is_file()


def test_the_plan_table_says_when_designations_also_pay_in_later_years(tmp_path: Path) -> None:
    """The plan's table sums each designation's award in the year it is made; a rebate paid
    over three years then makes its yearly amounts differ from the spend by year, and the
    table says so with the amount paid later (expected: a nomination's times its chance)."""
    from liangye.results.report import RunFiles
    from liangye.results.report_plan import plan_section

    def row(year: int, payments: dict[str, float], probability: float = 1.0) -> dict:
        return {
            "candidate_id": "A",
            "programme": "spin_off",
            "level": "municipal",
            "year": year,
            "amount": payments[str(year)],
            "expected_amount": payments[str(year)] * probability,
            "nomination": probability < 1,
            "decision": "entitlement" if probability == 1 else "nomination",
            "probability": probability,
            "payments": payments,
        }

    plain = [row(2024, {"2024": 20.0}), row(2025, {"2025": 130.0}, probability=0.3)]
    later = [
        row(2024, {"2024": 10.0, "2025": 6.6, "2026": 6.6}),
        row(2025, {"2025": 130.0, "2026": 10.0}, probability=0.3),
    ]

    def note(selected: list[dict]) -> str | None:
        files = RunFiles(tmp_path, {}, allocation={"status": "optimal", "selected": selected})
        return plan_section(files, ReportNames()).tables[0].note

    assert note(plain) is None
    assert "16.2 万元在以后年份支付" in (note(later) or ""), note(later)


@pytest.mark.parametrize(
    ("damage", "file", "said"),
    [
        ("remove", "allocation.json", "is listed in manifest.json but missing"),
        ("garble", "plan.parquet", "the file is damaged"),
        ("columns", "plan.parquet", "lacks the column(s) candidate_id"),
        ("garble", "allocation.json", "is not readable JSON"),
    ],
)
def test_a_damaged_run_folder_is_refused_naming_the_file(
    design_runs: dict[str, Path], tmp_path: Path, damage: str, file: str, said: str
) -> None:
    """A report without its plan or money sections was written with exit 0, to be read as
    the whole run."""
    folder = tmp_path / "run"
    shutil.copytree(design_runs["jiaxing"], folder)
    if damage == "remove":
        (folder / file).unlink()
    elif damage == "columns":
        pd.DataFrame({"x": [1]}).to_parquet(folder / file)
    else:
        (folder / file).write_text("garbage\n", encoding="utf-8")
    done = liangye("report", str(folder), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2, done.stderr
    text = " ".join(done.stderr.split())
    assert file in text and said in text and "Traceback" not in text
    assert not (tmp_path / "r.html").exists()


def test_an_unfinished_run_is_reported_as_unfinished(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    """The marker left by an interrupted run made no difference: the page said 完成 是."""
    folder = tmp_path / "run"
    shutil.copytree(design_runs["jiaxing"], folder)
    (folder / "INCOMPLETE").write_text("", encoding="utf-8")
    done = liangye("report", str(folder), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 0, done.stderr
    assert "did not finish" in " ".join(done.stderr.split())
    text = "".join(parse(tmp_path / "r.html")[1].text)
    assert "未完成或被中断" in text and "是否完成是" not in text.replace(" ", "")


def test_a_report_is_not_written_to_a_file_that_is_not_a_web_page(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    done = liangye("report", str(design_runs["jiaxing"]), "--out", str(tmp_path / "r.txt"))
    assert done.returncode == 2 and ".html" in done.stderr
    assert not (tmp_path / "r.txt").exists()


def test_the_report_gives_the_diagnosis_in_chinese(
    design_runs: dict[str, Path], tmp_path: Path
) -> None:
    """allocation.json keeps each finding in English and Chinese: the report, read by the
    bureau, shows the Chinese (it showed the English)."""
    folder = tmp_path / "run"
    shutil.copytree(design_runs["jiaxing"], folder)
    path = folder / "allocation.json"
    allocation = json.loads(path.read_text("utf-8"))
    allocation["diagnosis"] = ["2024: obligations alone exceed the budget"]
    allocation["diagnosis_zh"] = ["2024年：按规定应付的奖励已超出预算"]
    path.write_text(json.dumps(allocation, ensure_ascii=False), "utf-8")
    out = tmp_path / "report.html"
    done = liangye("report", str(folder), "--out", str(out))
    assert done.returncode == 0, done.stderr
    text = "".join(parse(out)[1].text)
    assert "诊断：2024年：按规定应付的奖励已超出预算" in text
    assert "obligations alone" not in text


def test_the_sweep_report_says_what_was_run() -> None:
    """The overrides every run carried, a range lever and the uncertainties in words (they
    showed nothing, and raw dicts); a named model is no scenario."""
    from liangye.results.report_sweep import _design_section

    manifest = {
        "sweep": {
            "scenario": "default",
            "set": ["simulation.population.firms=200"],
            "levers": {"budget_scale": {"low": 0.5, "high": 1.5, "points": 3, "integer": False}},
            "uncertainties": {
                "simulation.award_response": {"low": 1.0, "high": 10.0, "dist": "loguniform"},
                "x": {"dist": "normal", "mean": 0.0, "sd": 1.0, "low": None, "high": None},
            },
        },
        "sampler": {"kind": "lhs"},
    }
    text = " ".join(_design_section(manifest, ReportNames()).paragraphs)
    assert "simulation.population.firms=200" in text
    assert "0.5–1.5（均匀，网格 3 个点）" in text
    assert "1.0–10.0（对数均匀）" in text and "正态分布，均值 0.0，标准差 1.0" in text
    assert "{" not in text
    named = " ".join(_design_section({"sweep": {"model": "ishigami"}}, ReportNames()).paragraphs)
    assert "模型：ishigami" in named and "基础情景" not in named


def test_the_run_summary_says_how_many_runs_an_undefined_cost_leaves_out() -> None:
    """A cost per additional firm is undefined in a run that added none: the mean over the
    others (5,590) was shown as the setting's, beside the pooled 11,120 of the same report."""
    from liangye.results.report_sweep import _summary_section

    ok = pd.DataFrame(
        {
            "tier_design": ["jiaxing", "jiaxing"],
            "additionality_20_cost_per_additional": [5590.0, np.nan],
        }
    )
    section = _summary_section(
        ok, ["tier_design"], ["additionality_20_cost_per_additional"], ReportNames()
    )
    [row] = section.tables[0].rows
    assert row[-1].startswith("5,590") and "1 次无定义未计入" in row[-1]


def test_the_report_says_which_simulation_settings_were_changed(tmp_path: Path) -> None:
    """A run with the simulation's amounts doubled and another response says so in the
    scenario's words (the plan above stays at the policy's amounts); a setting left at its
    default is not named."""
    from conftest import small_run

    folder = small_run(
        tmp_path / "changed", "simulation.award_scale=2", "simulation.award_response=3"
    )
    summary = json.loads((folder / "simulation" / "summary.json").read_text("utf-8"))
    assert summary["changed_parameters"] == {
        "population.firms": 200,
        "award_scale": 2.0,
        "award_response": 3.0,
    }
    _, page = parse(folder / "report.html")
    text = "".join(page.text)
    start = text.index("情景说明")
    words = text[start : text.index("求解状态", start)]
    assert "模拟中各档金额乘以 2（分配方案仍按原金额）" in words
    assert "奖励响应强度（award_response）= 3" in words
    assert "imitation_q" not in words and "award_scale）" not in words


def test_a_simulation_only_report_is_titled_by_what_it_holds(tmp_path: Path) -> None:
    """A `liangye simulate` folder has no allocation: its report was titled 分配方案与模拟报告."""
    from conftest import liangye

    folder = tmp_path / "sim"
    done = liangye(
        "simulate",
        "--set",
        "simulation.population.firms=200",
        "--replications",
        "1",
        "--out",
        str(folder),
    )
    assert done.returncode == 0, done.stderr
    done = liangye("report", str(folder))
    assert done.returncode == 0, done.stderr
    html = (folder / "report.html").read_text(encoding="utf-8")
    title = html[html.index("<title>") : html.index("</title>")]
    assert "模拟报告" in title and "分配方案" not in title


def test_a_report_made_from_another_folder_finds_the_scenarios_own_policy(tmp_path):
    """The manifest kept the scenario's policy as written ("my-policy.toml", relative to the
    scenario file), and a report made later from another folder could not read it: programme
    ids for names, the policy without its title (review 23). The manifest now names the file
    by its absolute path."""
    from liangye.model.synthetic import synthetic_candidates
    from liangye.scenarios.loader import PACKAGE_DIR

    project = tmp_path / "bureau"
    project.mkdir()
    policy = (PACKAGE_DIR / "policies" / "wuhan-service-manufacturing.toml").read_text(
        encoding="utf-8"
    )
    (project / "my-policy.toml").write_text(policy, encoding="utf-8")
    synthetic_candidates(30, 0, seed=2).to_csv(project / "firms.csv", index=False)
    (project / "plan.toml").write_text(
        'id = "mine"\npolicy = "my-policy.toml"\nyears = [2024, 2025]\n'
        "[budget]\nper_year = { 2024 = 300, 2025 = 300 }\n"
        '[candidates]\nfile = "firms.csv"\n'
        "[allocation]\nsuccess_probability = { national = 0.3, provincial = 0.5 }\n",
        encoding="utf-8",
    )
    out = tmp_path / "runs" / "one"
    done = liangye("allocate", str(project / "plan.toml"), "--out", str(out), cwd=tmp_path)
    assert done.returncode in (0, 3), done.stdout + done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["scenario"]["policy"] == str((project / "my-policy.toml").resolve())
    assert manifest["scenario"]["candidates"]["file"] == str((project / "firms.csv").resolve())
    elsewhere = tmp_path / "archive"
    elsewhere.mkdir()
    done = liangye("report", str(out), cwd=elsewhere)
    said = done.stdout + done.stderr
    assert done.returncode == 0 and "无法读取" not in said, said
    title = tomllib.loads(policy)["title"]
    assert title in (out / "report.html").read_text(encoding="utf-8")
