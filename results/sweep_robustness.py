"""Per lever setting: the spread of each outcome over the sampled worlds, its regret against
the best setting in each world, and the share of worlds meeting the targets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .sweep_data import (
    FAILED,
    MISSING,
    OK,
    WORLD,
    AnalysisInputError,
    SweepData,
    Target,
    show_value,
)
from .sweep_outcomes import HIGHER, OutcomeInfo, outcome_info


@dataclass
class Robustness:
    """Per setting and outcome: spread over worlds, regret against the best setting in each
    world; per setting and target: the share of worlds meeting it; and the setting the
    analysis would choose."""

    spread: pd.DataFrame
    targets: pd.DataFrame
    best_setting: tuple
    best_by: str  # Chinese: how the best setting was chosen, or why none could be
    notes: list[str] = field(default_factory=list)
    # Whether ``best_setting`` won a comparison (regret, or targets met on equal worlds);
    # False: it is only the first setting, for what needs one (scenario discovery).
    crowned: bool = True


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
    finished_cells = data.cells[data.cells["status"] == OK]
    regrets: dict[str, pd.DataFrame] = {}
    for outcome in data.outcomes:
        info = outcome_info(data.keys[outcome], better)
        # Whether the outcome is an event, once for every setting (a per-setting guess from
        # the values read a count that was 0 or 1 in one setting's worlds as a share):
        # the rules say for the outcomes they know; any other is one where every finished
        # world's value is 0 or 1.
        finished = finished_cells[outcome].dropna().to_numpy(float)
        event = info.event if info.event is not None else _zero_one(finished)
        wide = _by_world(data, outcome) if not joint else None
        compared = wide is not None and info.better and len(settings) > 1
        regret = _regret(wide, info) if compared else None
        if regret is not None:
            regrets[outcome] = regret
        for i, setting in enumerate(settings):
            cells = data.setting_cells(setting) if not joint else data.cells
            ok = cells[cells["status"] == OK]
            values = ok[outcome].dropna().to_numpy(dtype=float)
            counts = _cell_counts(cells)
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
                "event": event,
                "p10": _percentile(values, 10, event),
                "p90": _percentile(values, 90, event),
            }
            if regret is not None:
                column = regret[i]
                row |= {
                    "regret_mean": float(column.mean()) if len(column) else np.nan,
                    "regret_p90": _percentile(column, 90, event) if len(column) else np.nan,
                    "regret_max": float(column.max()) if len(column) else np.nan,
                    "best_share": float((column <= 1e-12).mean()) if len(column) else np.nan,
                    "regret_worlds": len(column),
                    "regret_excluded": len(wide) - len(column),  # type: ignore[arg-type]
                }
            spread_rows.append(row)
    spread = pd.DataFrame(spread_rows)
    table = _target_table(data, settings, targets)
    best, by, crowned = _best_setting(data, settings, regrets, targets, table, better)
    return Robustness(spread, table, best, by, notes, crowned)


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
        counts = _cell_counts(cells)
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


def _cell_counts(cells: pd.DataFrame) -> dict[str, int]:
    """Design cells (sampled worlds) by status: the unit in which the spread and the target
    shares count worlds. A Sobol design over listed values runs one parameter set for
    several cells, and each cell counts, failed or not (failures were counted in runs
    beside worlds counted in cells: judged 104 + failed 48 added up to neither)."""
    status = cells["status"]
    return {s: int((status == s).sum()) for s in (OK, FAILED, MISSING)}


def _best_setting(
    data: SweepData,
    settings: list[tuple],
    regrets: Mapping[str, pd.DataFrame],
    targets: Sequence[Target],
    table: pd.DataFrame,
    better: Mapping[str, str] | None,
) -> tuple[tuple, str, bool]:
    """(setting, how it was chosen, whether it won a comparison): the setting with the least
    mean regret on the first target's outcome (or the first outcome with a direction), over
    the worlds every setting finished (an outcome on which several settings share the least
    regret crowns none, and the next one is read); without any such world, the one meeting
    all targets most often, if every setting was judged on the same number of worlds. Otherwise the
    first setting, not crowned: a setting is never called the most robust on part of the
    comparison (two runs of one setting against none of the others)."""
    if data.joint:
        return (), "杠杆联合抽样：没有方案可比", False
    if len(settings) == 1:
        return settings[0], "只有一个方案", False
    by_key = {key: column for column, key in data.keys.items()}
    order = [by_key[t.outcome] for t in targets] + data.outcomes
    # Lexicographic: the settings sharing the least mean regret on an outcome go on to the
    # next, and only they. (All of them went on: a tie of two on overrun crowned a third
    # that overran most, said to be "tied" there.)
    contenders: list = list(range(len(settings)))
    tied: list[str] = []
    for outcome in order:
        regret = regrets.get(outcome)
        if regret is None or not len(regret):
            continue
        means = regret.mean(axis=0).loc[contenders]
        info = outcome_info(data.keys[outcome], better)
        least = float(means.min())
        near = means[means <= least + 1e-9 * max(1.0, abs(least))]
        if len(near) > 1:
            # Several settings share the least regret (all 0: no setting ever beaten on
            # it): that outcome crowns none of them; the next one may, among them.
            contenders = list(near.index)
            if info.label not in tied:
                tied.append(info.label)
            continue
        best = int(near.index[0])
        said = f"「{info.label}」平均后悔值最小（{len(regret)} 个世界）"
        if tied:
            said += f"；在{'、'.join(f'「{x}」' for x in tied)}上与其他方案并列最小"
        return settings[best], said, True
    if tied:
        return (
            settings[int(contenders[0])],
            f"{'、'.join(f'「{x}」' for x in tied)}上平均后悔值并列最小的方案不止一个"
            f"（{len(contenders)} 个）：不评选最稳健的方案",
            False,
        )
    if len(table):
        together = table[table["target"] == table["target"].iloc[-1]]
        judged = together["judged"]
        if judged.min() > 0 and judged.nunique() == 1:
            best = int(
                together.sort_values("share", ascending=False, kind="stable").iloc[0][
                    "setting_index"
                ]
            )
            return settings[best], "达标比例最高（没有可比较方向的结果）", True
        return (
            settings[0],
            f"各方案已完成的世界数不同（{judged.min()}–{judged.max()}）：不评选最稳健的方案",
            False,
        )
    if regrets:
        return settings[0], "没有所有方案都完成的世界：不评选最稳健的方案", False
    return settings[0], "没有可比较方向的结果，也没有目标：不评选最稳健的方案", False


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
        ", ".join(f"{data.keys[c]}={show_value(v)}" for c, v in zip(data.levers, s, strict=True))
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
    """Whether a stored lever value is the one ``text`` names: numbers by value, yes/no as
    the sweep file writes them (true/false) or as stored (True/False), others as shown."""
    if isinstance(value, bool | np.bool_):
        return text.strip().lower() == str(bool(value)).lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return math.isclose(float(value), float(text), rel_tol=1e-9, abs_tol=1e-12)
        except ValueError:
            return False
    return show_value(value) == text.strip()


def _zero_one(values: np.ndarray) -> bool:
    """Whether every value is 0 or 1 (and there is one): an outcome no rule knows read as an
    event (``OutcomeInfo.event``)."""
    return bool(len(values)) and bool(np.isin(values, (0.0, 1.0)).all())


def _percentile(values: np.ndarray, q: float, event: bool) -> float:
    """The q-th percentile over the worlds; of an event, a value some world had (0 or 1,
    ``inverted_cdf``): interpolated, a 9% overrun chance read as a 90th percentile of 0.1."""
    if not len(values):
        return np.nan
    return float(np.percentile(values, q, method="inverted_cdf" if event else "linear"))
