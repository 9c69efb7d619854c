"""What is robust in a finished sweep: Sobol indices, spread, regret and targets per lever
setting, and the uncertainty ranges where a setting fails (PRIM)."""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .sweep_outcomes import HIGHER, LOWER, OutcomeInfo, factor_label, outcome_info
from .sweep_store import DESIGN, finished_parts, read_manifest

log = logging.getLogger(__name__)

OK, FAILED, MISSING = "ok", "failed", "missing"
WORLD = ["point", "replication"]  # a world: the same uncertainty sample and seed

# PRIM needs enough worlds, and enough of them failing and succeeding, to draw a box.
MIN_PRIM_WORLDS = 30
MIN_PRIM_CASES = 5
PRIM_DENSITY = 0.8  # a box worth reporting fails in at least this share of its worlds


class AnalysisInputError(ValueError):
    """An analysis input is wrong: ``where`` names the option or file, ``message`` says
    what was expected and ``zh`` says it in Chinese (the command line shows both and exits
    2)."""

    def __init__(self, where: str, message: str, zh: str = ""):
        self.where = where
        self.message = message
        self.zh = zh
        super().__init__(f"{where}: {message}")

    def __reduce__(self) -> tuple[type[AnalysisInputError], tuple[str, str, str]]:
        # Rebuilt from its parts (the default would pass the joined message as ``where``).
        return (AnalysisInputError, (self.where, self.message, self.zh))


@dataclass(frozen=True)
class Target:
    """``outcome op value``: what an outcome should be in a world (op one of <= >= < >)."""

    outcome: str  # the outcome's key
    op: str
    value: float

    def __str__(self) -> str:
        return f"{self.outcome} {self.op} {self.value:g}"

    def met(self, values: pd.Series) -> pd.Series:
        """Whether each value meets the target; an undefined value (NaN) does not."""
        compare = {
            "<=": values.le,
            ">=": values.ge,
            "<": values.lt,
            ">": values.gt,
        }[self.op]
        return compare(self.value).fillna(False).astype(bool)


# --- the sweep's cells ------------------------------------------------------------------


@dataclass
class SweepData:
    """A sweep store read for analysis: one row per cell of the design (outcomes and
    ``status``: ok, failed, or missing when not stored yet) and what its columns are."""

    folder: Path
    manifest: dict[str, Any]
    cells: pd.DataFrame
    levers: list[str]  # store columns
    uncertainties: list[str]
    outcomes: list[str]
    keys: dict[str, str]  # column → key

    @property
    def joint(self) -> bool:
        """Whether levers were sampled with the uncertainties (no common worlds)."""
        return self.manifest.get("sampler", {}).get("combine") == "joint" and bool(self.levers)

    @property
    def settings(self) -> list[tuple]:
        """Every lever setting in design order (one empty setting without levers)."""
        if not self.levers:
            return [()]
        return list(dict.fromkeys(self.cells[self.levers].itertuples(index=False, name=None)))

    def setting_cells(self, setting: tuple) -> pd.DataFrame:
        """The cells of one lever setting."""
        if not self.levers:
            return self.cells
        mask = np.ones(len(self.cells), dtype=bool)
        for column, value in zip(self.levers, setting, strict=True):
            mask &= (self.cells[column] == value).to_numpy()
        return self.cells[mask]

    def label(self, setting: tuple) -> str:
        """A setting as a person reads it: its lever values joined (``jiaxing / 0.67``)."""
        return " / ".join(_show(v) for v in setting) if setting else "全部运行"

    def counts(self, cells: pd.DataFrame | None = None) -> dict[str, int]:
        """Runs (distinct run ids) by status among ``cells`` (all by default)."""
        cells = self.cells if cells is None else cells
        runs = cells.drop_duplicates("run_id")
        return {s: int((runs["status"] == s).sum()) for s in (OK, FAILED, MISSING)}


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def load_sweep_data(folder: Path) -> SweepData:
    """Every cell of the sweep in ``folder`` with its stored outcomes. A run stored more
    than once (retried after failing) counts by its ok row. Raises AnalysisInputError when
    the folder is no sweep or holds no finished run."""
    manifest = read_manifest(folder)
    if not manifest or not (folder / DESIGN).exists():
        raise AnalysisInputError(
            str(folder),
            "is not a sweep folder (no manifest.json)",
            "不是批量情景文件夹（没有 manifest.json）",
        )
    columns = manifest.get("columns", [])
    by_kind = {
        kind: [c["column"] for c in columns if c["kind"] == kind]
        for kind in ("lever", "uncertainty", "outcome")
    }
    keys = {c["column"]: c["key"] for c in columns}
    design = pq.read_table(folder / DESIGN).to_pandas()
    parts = finished_parts(folder)
    if not parts:
        raise AnalysisInputError(
            str(folder),
            f"holds no finished run yet (0 of {len(design)} stored)",
            f"还没有完成的运行（共 {len(design)} 次，已存 0 次）",
        )
    runs = pa.concat_tables(
        [pq.read_table(p) for p in parts], promote_options="default"
    ).to_pandas()
    # A retried run has a failed row and an ok row: the ok one is the run's.
    runs = runs.sort_values("status", key=lambda s: s != OK, kind="stable")
    runs = runs.drop_duplicates("run_id", keep="first")
    wanted = ["run_id", *by_kind["outcome"], "status", "error"]
    cells = design.merge(runs[wanted], on="run_id", how="left", validate="many_to_one")
    cells["status"] = cells["status"].fillna(MISSING)
    return SweepData(
        folder,
        manifest,
        cells,
        by_kind["lever"],
        by_kind["uncertainty"],
        by_kind["outcome"],
        keys,
    )


# --- Sobol indices ------------------------------------------------------------------------


@dataclass
class SobolResult:
    """Sobol indices of each outcome against the sampled factors, per lever setting: a row
    per (setting, outcome, factor); ``valid`` False with the reason wherever a run of the
    design failed, is missing, or left the outcome undefined."""

    table: pd.DataFrame
    valid: bool
    message: str  # Chinese: what makes the table invalid, or that it is valid
    failed: int
    missing: int


def sobol_indices(data: SweepData, seed: int = 0, conf_level: float = 0.95) -> SobolResult | None:
    """SALib's ``sobol.analyze`` (first-order S1 and total ST with bootstrap confidence
    intervals, ``seed`` for the bootstrap) for every outcome, per lever setting (``cross``:
    each setting ran the whole Saltelli design) or over the joint design. The replications
    of a sample point are averaged first (the seeds are no factor). None when the sweep's
    sampler is not sobol.

    Promises never to compute an index from part of the design: a setting where a run
    failed, is missing or left the outcome undefined gets rows marked invalid, naming how
    many runs."""
    sampler = data.manifest.get("sampler", {})
    if sampler.get("kind") != "sobol":
        return None
    from SALib.analyze import sobol

    sampled_keys = data.manifest.get("design", {}).get("sampled", [])
    by_key = {key: column for column, key in data.keys.items()}
    sampled = [by_key[k] for k in sampled_keys]
    second = bool(sampler.get("second_order"))
    n = int(sampler["samples"])
    points = n * (2 * len(sampled) + 2 if second else len(sampled) + 2)
    replications = int(data.manifest.get("replications", 1))
    problem = {"num_vars": len(sampled), "names": sampled, "bounds": [[0.0, 1.0]] * len(sampled)}
    groups = [()] if data.joint else data.settings
    rows: list[dict[str, object]] = []
    failed = missing = 0
    for setting in groups:
        cells = data.cells if data.joint else data.setting_cells(setting)
        counts = data.counts(cells)
        failed += counts[FAILED]
        missing += counts[MISSING]
        complete = len(cells) == points * replications and set(cells["point"]) == set(range(points))
        for outcome in data.outcomes:
            undefined = int(((cells["status"] == OK) & cells[outcome].isna()).sum())
            reason = _sobol_problem(counts, undefined, complete, points * replications, len(cells))
            indices: dict[str, Any] | None = None
            if reason is None:
                y = cells.groupby("point")[outcome].mean().reindex(range(points)).to_numpy()
                if np.ptp(y) == 0:
                    reason = "该结果在所有样本中相同：方差为零，指数无定义"
                else:
                    indices = sobol.analyze(
                        problem, y, calc_second_order=second, conf_level=conf_level, seed=seed
                    )
            for i, column in enumerate(sampled):
                row: dict[str, object] = {
                    "setting": data.label(setting) if not data.joint else "全部运行",
                    **({} if data.joint else dict(zip(data.levers, setting, strict=True))),
                    "outcome": data.keys[outcome],
                    "outcome_label": outcome_info(data.keys[outcome]).label,
                    "factor": data.keys[column],
                    "factor_label": factor_label(data.keys[column]),
                    "S1": np.nan,
                    "S1_conf": np.nan,
                    "ST": np.nan,
                    "ST_conf": np.nan,
                    "valid": indices is not None,
                    "reason": reason or "有效",
                    "samples": n,
                    "runs_failed": counts[FAILED],
                    "runs_missing": counts[MISSING],
                    "undefined": undefined,
                }
                if indices is not None:
                    for name in ("S1", "S1_conf", "ST", "ST_conf"):
                        row[name] = float(indices[name][i])
                rows.append(row)
    table = pd.DataFrame(rows)
    valid = bool(len(table)) and bool(table["valid"].all())
    if valid:
        message = "Sobol 指数有效：设计中的每次运行都已完成"
    else:
        message = "Sobol 指数无效（INVALID）：" + "；".join(
            dict.fromkeys(table.loc[~table["valid"], "reason"])
        )
    return SobolResult(table, valid, message, failed, missing)


def _sobol_problem(
    counts: Mapping[str, int], undefined: int, complete: bool, expected: int, found: int
) -> str | None:
    """Why a setting's Sobol indices cannot be computed (Chinese), or None."""
    reasons = []
    if counts[FAILED]:
        reasons.append(f"{counts[FAILED]} 次运行失败")
    if counts[MISSING]:
        reasons.append(f"{counts[MISSING]} 次运行尚未完成")
    if undefined:
        reasons.append(f"{undefined} 次运行该结果无定义")
    if not complete:
        reasons.append(f"设计应有 {expected} 个单元，实有 {found} 个")
    if not reasons:
        return None
    return "无效（INVALID）：" + "，".join(reasons) + "；Saltelli 设计缺一不可，未计算指数"


# --- spread, regret and targets per lever setting --------------------------------------


@dataclass
class Robustness:
    """Per setting and outcome: spread over worlds, regret against the best setting in each
    world; per setting and target: the share of worlds meeting it; and the setting the
    analysis would choose."""

    spread: pd.DataFrame
    targets: pd.DataFrame
    best_setting: tuple
    best_by: str  # Chinese: how the best setting was chosen
    notes: list[str] = field(default_factory=list)


def robustness(
    data: SweepData, targets: Sequence[Target], better: Mapping[str, str] | None = None
) -> Robustness:
    """For each lever setting and outcome: the mean and the 10th and 90th percentiles over
    the worlds (uncertainty sample × seed) where the run finished with the outcome defined;
    for outcomes with a direction, the regret in each world where every setting has the
    outcome (the best setting's value minus this one's, or the reverse for lower-is-better)
    and the share of those worlds where the setting is best. For each target (and all of
    them together): the share of worlds, among those whose run finished, where the setting
    meets it (an undefined outcome does not). Failed and missing runs are counted in every
    row, never dropped silently."""
    joint = data.joint
    settings = [()] if joint else data.settings
    notes: list[str] = []
    if joint:
        notes.append("杠杆与不确定性联合抽样：各方案没有共同的世界，不计算后悔值")
    elif len(settings) == 1:
        notes.append("只有一个方案：后悔值恒为零")
    spread_rows: list[dict[str, object]] = []
    regrets: dict[str, pd.DataFrame] = {}
    for outcome in data.outcomes:
        info = outcome_info(data.keys[outcome], better)
        wide = _by_world(data, outcome) if not joint else None
        compared = wide is not None and info.better and len(settings) > 1
        regret = _regret(wide, info) if compared else None
        if regret is not None:
            regrets[outcome] = regret
        for i, setting in enumerate(settings):
            cells = data.setting_cells(setting) if not joint else data.cells
            ok = cells[cells["status"] == OK]
            values = ok[outcome].dropna().to_numpy(dtype=float)
            counts = data.counts(cells)
            row = _setting_columns(data, setting, i) | {
                "outcome": info.key,
                "outcome_label": info.label,
                "unit": info.unit,
                "better": info.better,
                "worlds": len(values),
                "undefined": int(ok[outcome].isna().sum()),
                "failed": counts[FAILED],
                "missing": counts[MISSING],
                "mean": float(values.mean()) if len(values) else np.nan,
                "p10": float(np.percentile(values, 10)) if len(values) else np.nan,
                "p90": float(np.percentile(values, 90)) if len(values) else np.nan,
            }
            if regret is not None:
                column = regret[i]
                row |= {
                    "regret_mean": float(column.mean()) if len(column) else np.nan,
                    "regret_p90": float(np.percentile(column, 90)) if len(column) else np.nan,
                    "regret_max": float(column.max()) if len(column) else np.nan,
                    "best_share": float((column <= 1e-12).mean()) if len(column) else np.nan,
                    "regret_worlds": len(column),
                    "regret_excluded": len(wide) - len(column),  # type: ignore[arg-type]
                }
            spread_rows.append(row)
    spread = pd.DataFrame(spread_rows)
    table = _target_table(data, settings, targets)
    best, by = _best_setting(data, settings, regrets, targets, table, better)
    return Robustness(spread, table, best, by, notes)


def _setting_columns(data: SweepData, setting: tuple, index: int) -> dict[str, object]:
    return {
        "setting": data.label(setting) if not data.joint else "全部运行",
        "setting_index": index,
        **({} if data.joint else dict(zip(data.levers, setting, strict=True))),
    }


def _by_world(data: SweepData, outcome: str) -> pd.DataFrame:
    """Worlds × settings (columns numbered as ``data.settings``) of one outcome; NaN where a
    run failed, is missing or left it undefined."""
    columns = []
    for setting in data.settings:
        cells = data.setting_cells(setting)
        columns.append(
            cells.set_index(WORLD)[outcome].where(cells.set_index(WORLD)["status"] == OK)
        )
    wide = pd.concat(columns, axis=1, keys=range(len(columns)))
    return wide.sort_index()


def _regret(wide: pd.DataFrame, info: OutcomeInfo) -> pd.DataFrame:
    """Regret in each world where every setting has the outcome (worlds × settings)."""
    complete = wide.dropna(how="any")
    if info.better == HIGHER:
        return complete.rsub(complete.max(axis=1), axis=0)
    return complete.sub(complete.min(axis=1), axis=0)


def _target_table(
    data: SweepData, settings: list[tuple], targets: Sequence[Target]
) -> pd.DataFrame:
    """A row per setting and target (and one for all targets together when there are
    several): worlds judged (run finished), worlds meeting it, their share."""
    by_key = {key: column for column, key in data.keys.items()}
    rows = []
    for i, setting in enumerate(settings):
        cells = data.setting_cells(setting) if not data.joint else data.cells
        ok = cells[cells["status"] == OK]
        counts = data.counts(cells)
        judged: list[tuple[str, pd.Series]] = [
            (str(t), t.met(ok[by_key[t.outcome]])) for t in targets
        ]
        if len(targets) > 1:
            together = np.logical_and.reduce([m.to_numpy() for _, m in judged])
            judged.append(("全部目标", pd.Series(together, index=ok.index)))
        for text, met in judged:
            rows.append(
                _setting_columns(data, setting, i)
                | {
                    "target": text,
                    "met": int(met.sum()),
                    "judged": len(met),
                    "share": float(met.mean()) if len(met) else np.nan,
                    "failed": counts[FAILED],
                    "missing": counts[MISSING],
                }
            )
    return pd.DataFrame(rows)


def _best_setting(
    data: SweepData,
    settings: list[tuple],
    regrets: Mapping[str, pd.DataFrame],
    targets: Sequence[Target],
    table: pd.DataFrame,
    better: Mapping[str, str] | None,
) -> tuple[tuple, str]:
    """The setting with the least mean regret on the first target's outcome (or the first
    outcome with a direction); without any, the one meeting all targets most often."""
    if data.joint:
        return (), "杠杆联合抽样：没有方案可比"
    if len(settings) == 1:
        return settings[0], "只有一个方案"
    by_key = {key: column for column, key in data.keys.items()}
    order = [by_key[t.outcome] for t in targets] + data.outcomes
    for outcome in order:
        regret = regrets.get(outcome)
        if regret is not None and len(regret):
            means = regret.mean(axis=0)
            best = int(means.idxmin())  # ties: the first in design order
            info = outcome_info(data.keys[outcome], better)
            return settings[best], f"「{info.label}」平均后悔值最小（{len(regret)} 个世界）"
    if len(table):
        together = table[table["target"] == table["target"].iloc[-1]]
        best = int(
            together.sort_values("share", ascending=False, kind="stable").iloc[0]["setting_index"]
        )
        return settings[best], "达标比例最高（没有可比较方向的结果）"
    return settings[0], "没有可比较方向的结果，也没有目标：取第一个方案"


def find_setting(data: SweepData, wanted: Mapping[str, str]) -> tuple:
    """The one setting whose levers take the given values (``{lever key or column: text}``);
    raises AnalysisInputError naming --setting and the settings there are."""
    if data.joint:
        raise AnalysisInputError(
            "--setting",
            "levers were sampled jointly: there are no settings",
            "政策变量与不确定因素是一起抽样的（joint）：没有可选的政策组合",
        )
    by_name = {**{c: c for c in data.levers}, **{data.keys[c]: c for c in data.levers}}
    unknown = [name for name in wanted if name not in by_name]
    shown = "; ".join(
        ", ".join(f"{data.keys[c]}={_show(v)}" for c, v in zip(data.levers, s, strict=True))
        for s in data.settings
    )
    if unknown:
        levers = ", ".join(data.keys[c] for c in data.levers) or "none"
        raise AnalysisInputError(
            "--setting",
            f"{', '.join(unknown)} is no lever (levers: {levers})",
            f"{'、'.join(unknown)} 不是政策变量（lever）（已有：{levers.replace(', ', '、')}）",
        )
    matches = [
        s
        for s in data.settings
        if all(_same(s[data.levers.index(by_name[name])], text) for name, text in wanted.items())
    ]
    if len(matches) != 1:
        what = "no setting" if not matches else f"{len(matches)} settings"
        said = "没有政策组合" if not matches else f"有 {len(matches)} 个政策组合"
        raise AnalysisInputError(
            "--setting",
            f"{what} match; the settings are: {shown}",
            f"{said}与之相符（应恰好一个）；现有组合：{shown}",
        )
    return matches[0]


def _same(value: object, text: str) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return math.isclose(float(value), float(text), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False
    return _show(value) == text.strip()


# --- scenario discovery -----------------------------------------------------------------


@dataclass
class Discovery:
    """Where a setting fails its targets: PRIM's box over the uncertainties (``box`` a row
    per uncertainty, ``restricted`` or not), its coverage (share of the failures inside) and
    density (share of the worlds inside that fail); ``message`` says why there is no box."""

    setting: str
    worlds: int
    failures: int
    excluded: int  # worlds whose run failed or is missing
    box: pd.DataFrame | None = None
    coverage: float | None = None
    density: float | None = None
    mass: float | None = None
    in_box: int | None = None
    failures_in_box: int | None = None
    message: str = ""


def discover(
    data: SweepData, setting: tuple, targets: Sequence[Target], density: float = PRIM_DENSITY
) -> Discovery:
    """PRIM (ema_workbench) on the worlds of ``setting``: the uncertainties are the inputs,
    failing any target is the case of interest. Chooses, on the peeling trajectory, among the
    boxes with at least ``density``, the one with the largest harmonic mean of coverage and
    density. Says so, instead of
    drawing a box, when there are no targets or uncertainties, fewer than 30 worlds, or
    fewer than 5 failing or 5 succeeding worlds."""
    label = data.label(setting) if not data.joint else "全部运行"
    cells = data.cells if data.joint else data.setting_cells(setting)
    ok = cells[cells["status"] == OK]
    excluded = len(cells) - len(ok)
    by_key = {key: column for column, key in data.keys.items()}
    if not targets:
        return Discovery(
            label,
            len(ok),
            0,
            excluded,
            message="没有目标：用 --target 或 [analysis] targets 给出目标",
        )
    met = np.logical_and.reduce([t.met(ok[by_key[t.outcome]]).to_numpy() for t in targets])
    fails = ~met
    found = Discovery(label, len(ok), int(fails.sum()), excluded)
    inputs = [*data.levers, *data.uncertainties] if data.joint else list(data.uncertainties)
    x = ok[inputs].reset_index(drop=True)
    x = x.loc[:, [c for c in x.columns if x[c].nunique() > 1]]
    if x.shape[1] == 0:
        found.message = "没有取值变化的不确定性：各世界只差随机种子，无法圈出不确定性范围"
    elif len(ok) < MIN_PRIM_WORLDS:
        found.message = f"运行太少：{len(ok)} 个已完成的世界（PRIM 至少需要 {MIN_PRIM_WORLDS} 个）"
    elif found.failures < MIN_PRIM_CASES:
        found.message = (
            f"未达标的世界太少：{found.failures} / {len(ok)}（PRIM 至少需要 {MIN_PRIM_CASES} 个）"
        )
    elif len(ok) - found.failures < MIN_PRIM_CASES:
        found.message = (
            f"几乎所有世界都未达标：{found.failures} / {len(ok)}，没有可以圈出的失败范围"
        )
    if found.message:
        return found
    return _prim_box(found, x, fails, data, density)


def _prim_box(
    found: Discovery, x: pd.DataFrame, fails: np.ndarray, data: SweepData, density: float
) -> Discovery:
    prim = _import_prim()
    for column in x.columns:
        if x[column].dtype == object or isinstance(x[column].dtype, pd.StringDtype):
            x[column] = x[column].astype("category")
    # PRIM's threshold both marks the cases of interest (y ≥ threshold: the failures, 1) and
    # is the density its last box must reach, or it returns the whole space instead. A tiny
    # positive one keeps the peeled box; the box is chosen on its trajectory below.
    with warnings.catch_warnings():
        # ema_workbench 2.5 still calls DataFrame.drop(inplace=True), which pandas 3.1 warns of
        warnings.filterwarnings("ignore", message="The inplace keyword", category=Warning)
        algorithm = prim.Prim(x, fails.astype(float), threshold=1e-9)
        box = algorithm.find_box()
    trajectory = box.peeling_trajectory.reset_index(drop=True)
    dense = trajectory[trajectory["density"] >= density - 1e-12]
    if len(dense):
        # The best trade-off of coverage and density: their harmonic mean (the F-score of
        # "inside the box" as a prediction of failing), fewer restricted factors on a tie.
        score = 2 * dense["coverage"] * dense["density"] / (dense["coverage"] + dense["density"])
        ranked = dense.assign(score=score.round(12))
        index = int(ranked.sort_values(["score", "res_dim"], ascending=[False, True]).index[0])
    else:
        index = int(trajectory["density"].idxmax())
        found.message = f"PRIM 没有找到未达标密度≥{density:.0%}的范围：以下为密度最高的范围"
    stats = trajectory.iloc[index]
    limits = box.box_lims[index]
    initial = algorithm.box_init
    rows = []
    for column in x.columns:
        low, high = limits[column].iloc[0], limits[column].iloc[1]
        first, last = initial[column].iloc[0], initial[column].iloc[1]
        categorical = isinstance(x[column].dtype, pd.CategoricalDtype)
        restricted = (set(low) != set(first)) if categorical else (low != first or high != last)
        rows.append(
            {
                "factor": data.keys.get(column, column),
                "factor_label": factor_label(data.keys.get(column, column)),
                "restricted": bool(restricted),
                "lower": "、".join(map(str, sorted(low))) if categorical else float(low),
                "upper": "" if categorical else float(high),
                "sample_low": "、".join(map(str, sorted(first))) if categorical else float(first),
                "sample_high": "" if categorical else float(last),
            }
        )
    found.box = pd.DataFrame(rows)
    found.coverage = float(stats["coverage"])
    found.density = float(stats["density"])
    found.mass = float(stats["mass"])
    found.in_box = int(stats["n"])
    found.failures_in_box = int(stats["k"])
    return found


def _import_prim() -> Any:
    """ema_workbench's PRIM, imported only when asked for (about 1.6 s) and without its
    warning that ipyparallel (which liangye never uses) is not installed."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="ipyparallel not installed", category=UserWarning)
        from ema_workbench.analysis import prim
    return prim


# --- the whole analysis -------------------------------------------------------------------


@dataclass
class SweepAnalysis:
    """Everything ``liangye analyse`` reports on one sweep."""

    data: SweepData
    targets: list[Target]
    better: dict[str, str]
    sobol: SobolResult | None
    robust: Robustness
    discovery: Discovery
    setting: tuple  # the setting PRIM looked at
    setting_chosen_by: str  # Chinese: --setting, or how the best setting was found


def analyse_sweep(
    folder: Path,
    targets: Sequence[Target] = (),
    better: Mapping[str, str] | None = None,
    setting: Mapping[str, str] | None = None,
) -> SweepAnalysis:
    """Read the sweep in ``folder`` and analyse it: Sobol indices (sobol sampler), spread,
    regret and targets per lever setting, and PRIM for ``setting`` (``{lever: value}``) or
    the best setting by mean regret. The same store gives the same numbers (the bootstrap of
    the confidence intervals is seeded by the sweep's root seed)."""
    data = load_sweep_data(folder)
    better = dict(better or {})
    for key, direction in better.items():
        if direction not in (HIGHER, LOWER):
            raise AnalysisInputError(
                f"better.{key}",
                "expected higher or lower",
                "应为 higher（越高越好）或 lower（越低越好）",
            )
    seed = int(data.manifest.get("root_seed", 0))
    sobol = sobol_indices(data, seed=seed)
    robust = robustness(data, targets, better)
    if setting:
        chosen, by = find_setting(data, setting), "--setting 指定"
    else:
        chosen, by = robust.best_setting, robust.best_by
    found = discover(data, chosen, targets)
    return SweepAnalysis(data, list(targets), better, sobol, robust, found, chosen, by)


# --- files ----------------------------------------------------------------------------------

ANALYSIS_DIR = "analysis"
TABLES = ("sobol", "robustness", "targets", "discovery")
HEADERS_ZH = {
    "setting": "方案",
    "setting_index": "方案序号",
    "outcome": "结果键",
    "outcome_label": "结果",
    "unit": "单位",
    "better": "较优方向",
    "worlds": "有值的世界数",
    "undefined": "结果无定义的运行",
    "failed": "失败运行",
    "missing": "缺失运行",
    "mean": "均值",
    "p10": "10%分位",
    "p90": "90%分位",
    "regret_mean": "平均后悔值",
    "regret_p90": "后悔值90%分位",
    "regret_max": "最大后悔值",
    "best_share": "最优世界占比",
    "regret_worlds": "计算后悔值的世界数",
    "regret_excluded": "因缺值未计后悔值的世界数",
    "factor": "因素键",
    "factor_label": "因素",
    "S1": "一阶指数S1",
    "S1_conf": "S1的95%置信区间半宽",
    "ST": "总效应指数ST",
    "ST_conf": "ST的95%置信区间半宽",
    "valid": "是否有效",
    "reason": "说明",
    "samples": "基础样本数N",
    "runs_failed": "失败运行",
    "runs_missing": "缺失运行",
    "target": "目标",
    "met": "达标世界数",
    "judged": "判定世界数",
    "share": "达标比例",
    "restricted": "是否受限",
    "lower": "下限",
    "upper": "上限",
    "sample_low": "样本最小值",
    "sample_high": "样本最大值",
}


def analysis_tables(analysis: SweepAnalysis) -> dict[str, pd.DataFrame]:
    """The analysis's tables by file stem (English columns, as the Parquet files hold them)."""
    tables = {"robustness": analysis.robust.spread}
    if analysis.sobol is not None:
        tables["sobol"] = analysis.sobol.table
    if len(analysis.robust.targets):
        tables["targets"] = analysis.robust.targets
    if analysis.discovery.box is not None:
        tables["discovery"] = analysis.discovery.box
    return tables


def _for_people(table: pd.DataFrame, data: SweepData) -> pd.DataFrame:
    """A table with Chinese headers and words (lever columns by their Chinese names)."""
    from .export import escape_formulas

    table = table.copy()
    yes_no = {True: "是", False: "否"}
    for column in ("valid", "restricted"):
        if column in table:
            table[column] = table[column].map(yes_no)
    if "better" in table:
        from .sweep_outcomes import BETTER_ZH

        table["better"] = table["better"].map(lambda b: BETTER_ZH.get(b, "—"))
    names = {c: factor_label(data.keys[c]) for c in data.levers} | HEADERS_ZH
    return escape_formulas(table.rename(columns=names))


def summary(analysis: SweepAnalysis, files: Sequence[Path] = ()) -> dict[str, object]:
    """The analysis as JSON for tools (English keys; messages in Chinese)."""
    data, found = analysis.data, analysis.discovery
    counts = data.counts()
    levers = [data.keys[c] for c in data.levers]
    return {
        "sweep_id": data.manifest.get("sweep_id"),
        "folder": str(data.folder),
        "runs": {
            "design_cells": len(data.cells),
            "runs": int(data.cells["run_id"].nunique()),
            **counts,
            "complete": counts[FAILED] == 0 and counts[MISSING] == 0,
        },
        "targets": [str(t) for t in analysis.targets],
        "better": analysis.better,
        "sobol": None
        if analysis.sobol is None
        else {
            "valid": analysis.sobol.valid,
            "message": analysis.sobol.message,
            "failed": analysis.sobol.failed,
            "missing": analysis.sobol.missing,
        },
        "best_setting": {
            "setting": data.label(analysis.robust.best_setting),
            "levers": dict(zip(levers, analysis.robust.best_setting, strict=False)),
            "chosen_by": analysis.robust.best_by,
        },
        "discovery": {
            "setting": found.setting,
            "levers": dict(zip(levers, analysis.setting, strict=False)),
            "chosen_by": analysis.setting_chosen_by,
            "worlds": found.worlds,
            "failures": found.failures,
            "excluded": found.excluded,
            "coverage": found.coverage,
            "density": found.density,
            "mass": found.mass,
            "in_box": found.in_box,
            "failures_in_box": found.failures_in_box,
            "message": found.message,
            "box": [] if found.box is None else found.box.to_dict(orient="records"),
        },
        "notes": analysis.robust.notes,
        "files": [str(f) for f in files],
    }


def write_analysis(analysis: SweepAnalysis, out: Path | None = None) -> list[Path]:
    """Write the tables (Parquet with English columns, CSV with Chinese headers in UTF-8
    with a BOM so that Excel reads it), the figures (PNG) and ``summary.json`` into
    ``out`` (default ``<sweep>/analysis/``), replacing what an earlier analysis wrote there;
    return the files written."""
    from .store import write_atomic, write_json
    from .sweep_plots import plot_outcomes_by_lever, plot_robustness, plot_sobol

    folder = out or analysis.data.folder / ANALYSIS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for stem in TABLES:
        for suffix in (".csv", ".parquet"):
            (folder / f"{stem}{suffix}").unlink(missing_ok=True)
    for old in [*folder.glob("outcomes_by_*.png"), folder / "sobol.png", folder / "robustness.png"]:
        old.unlink(missing_ok=True)
    written: list[Path] = []
    for stem, table in analysis_tables(analysis).items():
        written.append(
            write_atomic(
                folder / f"{stem}.parquet", lambda p, t=table: t.to_parquet(p, index=False)
            )
        )
        people = _for_people(table, analysis.data)
        written.append(
            write_atomic(
                folder / f"{stem}.csv",
                lambda p, t=people: t.to_csv(p, index=False, encoding="utf-8-sig"),
            )
        )
    data = analysis.data
    infos = [outcome_info(data.keys[c], analysis.better) for c in data.outcomes]
    for lever in data.levers:
        path = folder / f"outcomes_by_{lever}.png"
        written.append(
            plot_outcomes_by_lever(
                data.cells, lever, factor_label(data.keys[lever]), data.outcomes, infos, path
            )
        )
    if analysis.sobol is not None:
        written.append(plot_sobol(analysis.sobol.table, folder / "sobol.png"))
    written.append(
        plot_robustness(analysis.robust.spread, analysis.robust.targets, folder / "robustness.png")
    )
    written.append(folder / "summary.json")
    write_json(folder / "summary.json", summary(analysis, written))
    return written
