"""Designs run on the same candidates and seeds, compared: one table and one report."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from liangye.model.errors import InputError, Problem

from . import plots
from .report import ReportNames, read_run
from .report_designs import exceeds_spread, metric_rows, paired_difference, replication_metrics
from .report_html import Figure, Report, Section, Table, money, number, render, share, write_html
from .store import write_atomic

METRICS: dict[str, str] = {
    "spend": "实际支付（万元）",
    "additional": "净新增服务化企业（家）",
    "cost_per_additional": "每家净新增企业成本（万元）",
    "deadweight_share": "无效激励资金占比",
    "overrun_risk": "任一年超支比例",
}
SHARES = {"deadweight_share", "overrun_risk"}
# The CSV's columns: Chinese for the reader, in this order.
COLUMNS = {
    "metric": "指标",
    "design": "方案",
    "folder": "运行文件夹",
    "mean": "均值",
    "low": "下限",
    "high": "上限",
    "difference": "与基准之差",
    "paired_low": "逐次重复之差：最小",
    "paired_high": "逐次重复之差：最大",
    "spread": "重复间波动（极差）",
    "exceeds": "差异是否超出重复间波动",
}


# What a design is, among a scenario's settings (dotted keys, by prefix): what the city
# chooses — its tier design, policy, budget and allocation rules, the award scale. They may
# differ between the runs compared, and each difference is named. Everything else is the
# world the designs are tried in (candidates, simulated firms and their behaviour, horizon,
# the chance that a higher government confers, seeds) and must be the same in every run:
# otherwise a difference would be credited to the design that the world made.
DESIGN_SETTINGS = (
    "tier_design",
    "policy",
    "budget",
    "allocation",
    "simulation.award_scale",
    "simulation.awards_enabled",  # awards or none: a design the twin measures
    "simulation.application_rules",  # who may apply, the city's rule
    "simulation.service_firms_apply",
    "simulation.payout_schedule",  # how the city pays out an award
    "simulation.round_quarter",  # when the city holds its round
)
# The seeds and replications are compared as the runs drew them (the summaries' seed,
# replications and spawn keys, which a --seed or --replications flag also sets), not as the
# scenario wrote them, so that a difference is named once.
WORLD_SETTINGS_IN_DESIGN = ("allocation.success_probability", "allocation.seed")
COMPARED_FROM_SUMMARIES = ("simulation.seed", "simulation.replications")
NOT_SETTINGS = ("id", "title", "description", "outputs")
# Settings that name a file: the same when the files hold the same bytes, whatever the path
# (a run's manifest names the scenario's files by absolute path since review 23, so copies
# of one scenario in two folders name two paths for one table).
FILE_SETTINGS = ("candidates.file", "candidates.applications", "simulation.population.file")


def same_file_content(first: object, second: object) -> bool:
    """Whether two recorded file settings name files with the same bytes (both must exist)."""
    if not isinstance(first, str) or not isinstance(second, str):
        return False
    paths = [Path(first), Path(second)]
    if not all(p.is_file() for p in paths):
        return False
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in paths]
    return digests[0] == digests[1]


@dataclass
class Compared:
    """One run folder in a comparison: its label, scenario, simulation and metrics, and the
    design settings in which it differs from the first run (dotted key, its value, the first
    run's value)."""

    folder: Path
    label: str
    scenario: dict[str, Any]
    summary: dict[str, Any]
    allocation: dict[str, Any] | None
    candidates: frozenset[str] | None
    metrics: pd.DataFrame
    differs: list[tuple[str, object, object]] = field(default_factory=list)


def load_runs(folders: list[Path], names: ReportNames | None = None) -> list[Compared]:
    """Each folder's run, read for comparison; InputError naming every folder that is not a
    finished run with a simulation (``liangye run`` or ``liangye simulate`` writes one)."""
    names = names or ReportNames()
    problems, runs = [], []
    if len(folders) < 2:
        problems.append(Problem("compare", "", "至少需要两个运行文件夹才能比较"))
    for folder in folders:
        if not (folder / "manifest.json").exists():
            problems.append(
                Problem(str(folder), "", "不是 liangye 的运行文件夹（没有 manifest.json）")
            )
            continue
        files = read_run(folder)
        if files.summary is None:
            problems.append(
                Problem(
                    str(folder),
                    "",
                    "没有模拟结果（summary.json）：请用 liangye run 或 liangye simulate 生成",
                )
            )
            continue
        threshold = _thresholds(files.summary)
        runs.append(
            Compared(
                folder=folder,
                label=names.design(files.scenario.get("tier_design")),
                scenario=files.scenario,
                summary=files.summary,
                allocation=files.allocation,
                candidates=frozenset(files.reasons["candidate_id"].astype(str))
                if files.reasons is not None
                else None,
                metrics=replication_metrics(files.summary.get("runs") or [], threshold[0])
                if threshold
                else replication_metrics([], 0),
            )
        )
    if len(runs) >= 2:
        problems += comparability_problems(runs)
    if problems:
        raise InputError(problems)
    for run in runs[1:]:
        run.differs = [
            # A tier design by its name (the rows' labels use it), not its id.
            (key, names.design(theirs), names.design(mine))
            if key == "tier_design"
            else (key, theirs, mine)
            for key, mine, theirs in setting_differences(runs[0].scenario, run.scenario)
            if is_design_setting(key)
        ]
    _distinct_labels(runs)
    return runs


def flat_settings(scenario: dict[str, Any], prefix: str = "") -> dict[str, object]:
    """A scenario's settings as dotted keys (``budget.per_year.2025``) and their values."""
    out: dict[str, object] = {}
    for key, value in scenario.items():
        dotted = f"{prefix}{key}"
        if not prefix and key in NOT_SETTINGS:
            continue
        if isinstance(value, dict) and value:
            out |= flat_settings(value, f"{dotted}.")
        else:
            out[dotted] = value
    return out


def setting_differences(
    first: dict[str, Any], other: dict[str, Any]
) -> list[tuple[str, object, object]]:
    """(dotted key, first's value, other's value) for every setting in which the two
    scenarios differ (a setting one of them lacks reads None there)."""
    mine, theirs = flat_settings(first), flat_settings(other)
    return [
        (key, mine.get(key), theirs.get(key))
        for key in sorted(set(mine) | set(theirs))
        if mine.get(key) != theirs.get(key)
    ]


def is_design_setting(key: str) -> bool:
    """Whether the dotted setting ``key`` is the city's choice (``DESIGN_SETTINGS``)."""

    def under(prefixes: tuple[str, ...]) -> bool:
        return any(key == p or key.startswith(p + ".") for p in prefixes)

    return under(DESIGN_SETTINGS) and not under(WORLD_SETTINGS_IN_DESIGN)


def _thresholds(summary: dict[str, Any]) -> list[int]:
    runs = summary.get("runs") or []
    return (
        [round(float(a["threshold"]) * 100) for a in (runs[0].get("additionality") or [])]
        if runs
        else []
    )


def _distinct_labels(runs: list[Compared]) -> None:
    """Two runs of one design (say, at two budgets) are told apart by their folder."""
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    for run in runs:
        if seen[run.label] > 1:
            run.label = f"{run.label}（{run.folder.name}）"


def check_comparable(runs: list[Compared]) -> None:
    """Raise InputError naming every way the runs are not comparable
    (``comparability_problems``)."""
    problems = comparability_problems(runs)
    if problems:
        raise InputError(problems)


def comparability_problems(runs: list[Compared]) -> list[Problem]:
    """Every way a run did not face the same world as the first: any setting that is not
    the city's choice (``DESIGN_SETTINGS``: candidates, simulated firms and their behaviour,
    horizon, conferral chances, seeds), the candidate ids where the allocation wrote them,
    the simulation's root seed, replications and their spawn keys. Every difference is
    named with the folder, the setting's dotted key and the two values."""
    base = runs[0]
    problems: list[Problem] = []
    for run in runs[1:]:
        for key, mine, theirs in setting_differences(base.scenario, run.scenario):
            if key in FILE_SETTINGS and same_file_content(mine, theirs):
                continue  # one table by two paths (manifests name files absolutely)
            if not is_design_setting(key) and key not in COMPARED_FROM_SUMMARIES:
                problems.append(
                    Problem(
                        str(run.folder),
                        key,
                        f"与 {base.folder} 不同（{_short(theirs)}，而基准为 {_short(mine)}）："
                        "候选、模拟企业与其行为、年份、上级认定概率与随机种子须相同，"
                        "才能把差异归于方案",
                    )
                )
        checks = [
            ("模拟随机种子", base.summary.get("seed"), run.summary.get("seed")),
            ("重复次数", base.summary.get("replications"), run.summary.get("replications")),
            ("重复的随机数流", _spawn_keys(base), _spawn_keys(run)),
        ]
        for what, mine, theirs in checks:
            if mine != theirs:
                problems.append(
                    Problem(
                        str(run.folder),
                        what,
                        f"与 {base.folder} 不同（{_short(theirs)}，而基准为 {_short(mine)}）：只能比较在相同候选与随机种子下运行的方案",
                    )
                )
        if (
            base.candidates is not None
            and run.candidates is not None
            and base.candidates != run.candidates
        ):
            only = sorted(run.candidates ^ base.candidates)
            problems.append(
                Problem(
                    str(run.folder),
                    "候选编号",
                    f"与 {base.folder} 的候选不同（相差 {len(only)} 个，例如 {', '.join(only[:5])}）",
                )
            )
    return problems


def _spawn_keys(run: Compared) -> list[str]:
    return [str(r.get("spawn_key")) for r in run.summary.get("runs") or []]


def _short(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= 120 else text[:117] + "…"


def comparison_table(runs: list[Compared]) -> pd.DataFrame:
    """One row per metric and design: mean, its bar (low, high), and against the first run
    (the baseline) the difference of means, the range of the replication-by-replication
    differences (the runs share their seeds), the spread over replications (the larger
    range of the two) and whether the difference exceeds it (None: cannot tell with fewer
    than two replications or a metric undefined)."""
    base = runs[0]
    rows = []
    per_design = {run.label: pd.DataFrame(metric_rows(run.label, run.metrics)) for run in runs}
    threshold = _thresholds(base.summary)
    labels = {
        # The metrics read at a threshold say which (the table is read apart from the page).
        metric: f"{label}，门槛 {threshold[0]}%"
        if threshold and metric in ("additional", "cost_per_additional", "deadweight_share")
        else label
        for metric, label in METRICS.items()
    }
    for metric in METRICS:
        for run in runs:
            own = per_design[run.label]
            found = own[own["metric"] == metric]
            mean, low, high = (
                (
                    float(found["mean"].iloc[0]),
                    float(found["low"].iloc[0]),
                    float(found["high"].iloc[0]),
                )
                if len(found)
                else (math.nan, math.nan, math.nan)
            )
            row = {
                "metric": labels[metric],
                "design": run.label,
                "folder": str(run.folder),
                "mean": mean,
                "low": low,
                "high": high,
                "difference": math.nan,
                "paired_low": math.nan,
                "paired_high": math.nan,
                "spread": math.nan,
                "exceeds": None,
                "key": metric,
            }
            if run is not base:
                if metric == "cost_per_additional":
                    # Pooled costs are not paired by replication: their difference only.
                    baseline = per_design[base.label]
                    row["difference"] = mean - float(
                        baseline.loc[baseline["metric"] == metric, "mean"].iloc[0]
                    )
                else:
                    diff, spread, verdict = exceeds_spread(base.metrics, run.metrics, metric)
                    _, paired_low, paired_high, _ = paired_difference(
                        base.metrics, run.metrics, metric
                    )
                    row.update(
                        difference=diff,
                        paired_low=paired_low,
                        paired_high=paired_high,
                        spread=spread,
                        exceeds=verdict,
                    )
            rows.append(row)
    return pd.DataFrame(rows)


def _format(key: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if key in SHARES:
        return share(value, 1)
    return money(value, 1) if key in ("spend", "cost_per_additional") else number(value, 1)


def _verdict(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return "是" if value else "否"


def display_rows(table: pd.DataFrame) -> list[list[str]]:
    """The table as text cells, in ``COLUMNS`` order (the terminal, the report and the CSV
    show the same words)."""
    rows = []
    for row in table.to_dict("records"):
        key = str(row["key"])
        rows.append(
            [
                str(row["metric"]),
                str(row["design"]),
                str(row["folder"]),
                *(
                    _format(key, row[c])
                    for c in (
                        "mean",
                        "low",
                        "high",
                        "difference",
                        "paired_low",
                        "paired_high",
                        "spread",
                    )
                ),
                "基准" if row["folder"] == table["folder"].iloc[0] else _verdict(row["exceeds"]),
            ]
        )
    return rows


def differences_zh(runs: list[Compared]) -> list[str]:
    """A line per run whose design settings differ from the first run's, naming each
    setting and both values (the rest of the world is the same: ``comparability_problems``)."""
    lines = []
    for run in runs[1:]:
        if run.differs:
            said = "；".join(
                f"{key} = {_short(theirs)}（基准 {_short(mine)}）"
                for key, theirs, mine in run.differs
            )
            lines.append(f"{run.label} 与基准不同的设置：{said}。")
    return lines


def write_csv(table: pd.DataFrame, path: Path) -> Path:
    """The comparison as CSV with Chinese headers (UTF-8 with BOM, so Excel reads it):
    numbers as numbers, shares in percent with （%） in their metric's name (a bureau read
    0.227396 for a share of 22.7%), the verdict as 是/否 (基准 for the baseline, empty when
    there is no telling)."""
    frame = table[list(COLUMNS)].copy()
    shares = table.get("key", table["metric"]).isin(SHARES).to_numpy()
    numbers = frame.select_dtypes("number").columns
    frame.loc[shares, numbers] = frame.loc[shares, numbers] * 100
    frame.loc[shares, "metric"] = [_percent_label(m) for m in frame.loc[shares, "metric"]]
    baseline = frame["folder"] == frame["folder"].iloc[0]
    frame["exceeds"] = [
        "基准" if first else _verdict(value)
        for first, value in zip(baseline, frame["exceeds"], strict=True)
    ]
    # An interval with no upper end (no net additional firm in some world: cost unbounded)
    # is an empty cell, as a spreadsheet reads it, not the text "inf".
    frame[numbers] = frame[numbers].mask(np.isinf(frame[numbers]))
    frame = frame.rename(columns=COLUMNS)
    return write_atomic(
        path,
        lambda p: frame.to_csv(p, index=False, encoding="utf-8-sig", float_format="%.6g"),
    )


def _percent_label(metric: str) -> str:
    """A share's metric name saying its unit: 无效激励资金占比（%），门槛 20%."""
    name, comma, rest = metric.partition("，")
    return f"{name}（%）{comma}{rest}"


def compare_report(runs: list[Compared], table: pd.DataFrame) -> Report:
    """The comparison as a report: what was compared, the table, the figure."""
    base = runs[0]
    threshold = _thresholds(base.summary)
    lines = [
        f"比较 {len(runs)} 个方案，基准为第一个：{base.label}（{base.folder}）。",
        f"各方案使用相同的候选、模拟企业与行为参数和随机种子（{base.summary.get('replications', '?')} "
        f"次重复，根种子 {base.summary.get('seed', '?')}），因此第 k 次重复面对的是同一个世界，"
        "差异来自方案本身（奖励档次、政策、预算、分配规则与奖励倍数，下列为各方案与基准不同之处）。",
        "“差异是否超出重复间波动”：两方案均值之差的绝对值是否大于两者在重复间的极差（取较大者）；"
        "重复少于两次时无法判断，留空。",
    ]
    if threshold:
        lines.append(f"新增服务化企业与无效激励资金按服务收入占比 {threshold[0]}% 门槛计算。")
    lines += differences_zh(runs)
    rows = display_rows(table)
    headers = list(COLUMNS.values())
    keep = [i for i, h in enumerate(headers) if h != "运行文件夹"]
    shown = Table(
        [headers[i] for i in keep],
        [[r[i] for i in keep] for r in rows],
        "方案比较",
        [False, False, *[True] * (len(keep) - 2)],
    )
    plotted = table.assign(metric=table["key"])[["design", "metric", "mean", "low", "high"]]
    figure = plots.designs_figure(plotted, "奖励档次比较")
    folders = Table(
        ["方案", "运行文件夹", "奖励档次", "情景"],
        [
            [
                r.label,
                str(r.folder),
                str(r.scenario.get("tier_design") or "政策原定"),
                str(r.scenario.get("id", "")),
            ]
            for r in runs
        ],
        "参与比较的运行",
    )
    report = Report(
        title="奖励方案比较报告",
        subtitle="、".join(r.label for r in runs),
        facts=[
            ("方案数", str(len(runs))),
            ("重复次数", str(base.summary.get("replications", "?"))),
        ],
        sections=[
            Section("比较说明", paragraphs=lines, tables=[folders], anchor="s1"),
            Section(
                "结果",
                tables=[shown],
                figures=[
                    Figure(
                        "各方案的指标：柱为均值，误差线为重复间范围（超支比例为95%置信区间）。",
                        plots.figure_png(figure),
                        "方案比较图",
                    )
                ],
                anchor="s2",
            ),
        ],
    )
    return report


def write_comparison(runs: list[Compared], out: Path) -> tuple[pd.DataFrame, Path, Path]:
    """Check, compare and write ``compare.csv`` and ``compare.html`` into ``out``."""
    check_comparable(runs)
    table = comparison_table(runs)
    out.mkdir(parents=True, exist_ok=True)
    csv = write_csv(table, out / "compare.csv")
    html = write_html(out / "compare.html", render(compare_report(runs, table)))
    return table, csv, html
