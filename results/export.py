"""The plan as files for people: CSV and an Excel workbook with Chinese headers."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from liangye.model.status import STATUS_ZH, plan_name_zh
from liangye.model.units import LEVEL_CHINESE
from liangye.model.wording import DECISION_KIND_ZH, OUTCOME_ZH

from .spreadsheet import BOOK_OPTIONS, Formats, runs_as_formula, write_pairs, write_sheet
from .store import write_atomic

PLAN_HEADERS_ZH = {
    "candidate_id": "编号",
    "name": "名称",
    "district": "所在县区",
    "sector": "所属行业",
    "programme": "项目",
    "programme_name": "项目名称",
    "level": "级别",
    "year": "年度",
    "amount": "奖励标准（万元）",
    "cost": "本级当年支付（万元）",
    "probability": "获批概率",
    "expected_cost": "当年预计支出（万元）",
    "total_cost": "本级支付合计（含分年兑现，万元）",
    "expected_total_cost": "预计支出合计（含分年兑现，万元）",
    "nomination": "是否推荐申报",
    "decision": "决策类型",
    "upgrade_of": "晋级自（项目:级别:年度）",
    "score": "评分",
}
DECISION_ZH = DECISION_KIND_ZH
MONEY_HEADERS_ZH = {
    "year": "年度",
    "budget": "预算（万元）",
    "expected": "预计支出（万元）",
    "p95": "支出95%分位（万元）",
    "overrun": "超支概率",
    "after_horizon": "是否期后承诺",
}
REASON_HEADERS_ZH = {
    "candidate_id": "编号",
    "name": "名称",
    "outcome": "结果",
    "detail": "说明",
    "reason_zh": "说明",
    "score_needed": "入选所需评分",
    "extra_budget_wan": "入选所需增加预算（万元）",
    "extra_budget_year": "增加预算年度",
    "score_margin": "评分可降低分数",
    "threshold_at": "测算所依据的项目",
    "threshold_confirmed": "是否经重新求解确认",
    "score_confirmed": "评分数字是否经重新求解确认",
    "money_confirmed": "预算数字是否经重新求解确认",
}
# What a threshold that no score or budget reaches is shown as (thresholds.py: infinite).
UNREACHABLE_ZH = "无法达到"
# The model's level names (model/units.py), keyed by the plain values the tables hold.
LEVEL_ZH = {level.value: word for level, word in LEVEL_CHINESE.items()}


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run, prefixed with ' (so they show as the text they
    are); numbers and other text unchanged. For CSV, which has no other way to say "text"."""
    frame = frame.copy()
    for column in frame.columns:
        # Text columns are object or (pandas 3) str; numbers, flags and dates hold no text.
        if not (is_numeric_dtype(frame[column]) or is_datetime64_any_dtype(frame[column])):
            frame[column] = frame[column].map(lambda v: f"'{v}" if runs_as_formula(v) else v)
    return frame


def _numeric(frame: pd.DataFrame) -> pd.DataFrame:
    """Decimals as numbers a spreadsheet can add up (万元 with at most 4 decimals: exact to 1元)."""
    frame = frame.copy()
    for column in frame.columns:
        if len(frame) and isinstance(frame[column].iloc[0], Decimal):
            frame[column] = frame[column].map(lambda d: float(round(d, 4)))
    return frame


def write_plan_csv(plan: pd.DataFrame, path: Path) -> Path:
    """The plan (or any table) as UTF-8 CSV with the canonical (English) column names; text
    that a spreadsheet would run as a formula is escaped with a leading '."""
    table = escape_formulas(_numeric(plan))
    return write_atomic(path, lambda p: table.to_csv(p, index=False, encoding="utf-8"))


def write_plan_xlsx(
    plan: pd.DataFrame,
    reasons: pd.DataFrame,
    summary: dict[str, object],
    path: Path,
    money: pd.DataFrame | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
) -> Path:
    """An Excel workbook for the bureau's own files, in Chinese: 分配方案 (the plan,
    programmes by name), 候选说明 (every candidate's outcome, its reason in Chinese where
    ``reasons`` has ``reason_zh``, and what it would have taken), 汇总, and, given ``money``
    (year, budget, expected, p95, overrun, after_horizon), 支出与风险: each year's expected and
    95th-percentile spend, its chance of overrun and the commitments after the horizon.

    Given ``tables`` (``AllocationResult.workbook_tables()``: spend, greedy_spend,
    greedy_plan, budget), also 年度支出 (spend by programme, level and year against each
    year's budget), 期后承诺 (what falls due after the horizon), 按分排序对比 (the optimum
    and the rank-by-score plan side by side) and 按分排序方案 (that plan). Text cells are
    text, never formulas; header rows frozen, columns as wide as their text."""
    tables = tables or {}
    names = _programme_names(plan, tables.get("greedy_plan"))
    sheets: list[tuple[str, pd.DataFrame]] = [
        ("分配方案", _plan_sheet(plan, names)),
        ("候选说明", _reasons_sheet(reasons, names)),
    ]
    spend = tables.get("spend")
    if spend is not None:
        sheets.append(("年度支出", _spend_sheet(spend, tables.get("budget"))))
        sheets.append(("期后承诺", _commitments_sheet(spend)))
    if money is not None:
        table = money.assign(after_horizon=money["after_horizon"].map({True: "是", False: "否"}))
        sheets.append(("支出与风险", table.rename(columns=MONEY_HEADERS_ZH)))
    if spend is not None and tables.get("greedy_spend") is not None:
        ours = plan_name_zh(summary.get("状态"))  # 最优方案 only for a proven plan
        sheets.append(("按分排序对比", _comparison_sheet(spend, tables["greedy_spend"], ours)))
    if tables.get("greedy_plan") is not None:
        sheets.append(("按分排序方案", _plan_sheet(tables["greedy_plan"], names)))
    # Numbers stay numbers (formatted by their label: write_pairs); the rest is text.
    overview = pd.DataFrame(
        {
            "项目": list(summary),
            "数值": pd.Series(
                [
                    STATUS_ZH.get(str(v), str(v))
                    if k == "状态"
                    else v
                    if isinstance(v, int | float | Decimal) and not isinstance(v, bool)
                    else ("" if v is None else str(v))
                    for k, v in summary.items()
                ],
                dtype=object,
            ),
        }
    )
    sheets.append(("汇总", overview))

    def write(p: Path) -> None:
        # XlsxWriter, cells written column by column with formats decided per column: the
        # openpyxl engine and two passes over every cell (formulas, layout) took 0.80 CPU s
        # of the default run's 6.3 s; this takes 0.30.
        with pd.ExcelWriter(p, engine="xlsxwriter", engine_kwargs={"options": BOOK_OPTIONS}) as w:
            formats = Formats(w.book)
            for name, frame in sheets:
                sheet = w.book.add_worksheet(name)
                if name == "汇总":
                    write_pairs(sheet, frame, formats)
                else:
                    write_sheet(sheet, frame, formats)

    return write_atomic(path, write)


def _programme_names(*plans: pd.DataFrame | None) -> dict[str, str]:
    """programme id -> its name, from the plans' ``programme_name`` columns (if any)."""
    names: dict[str, str] = {}
    for plan in plans:
        if plan is not None and "programme_name" in plan.columns:
            names.update(zip(plan["programme"], plan["programme_name"], strict=True))
    return names


def _tier_zh(names: Mapping[str, str], programme: str, level: str) -> str:
    return f"{names.get(programme, programme)}（{LEVEL_ZH.get(level, level)}）"


def _option_zh(names: Mapping[str, str], text: object) -> object:
    """programme:level:year as ``2025年服务型制造示范企业（市级）`` (other values as they are)."""
    if not isinstance(text, str) or text.count(":") != 2:
        return text
    programme, level, year = text.split(":")
    return f"{year}年{_tier_zh(names, programme, level)}"


def _plan_sheet(plan: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """The plan in Chinese: programme names (the id kept last, for lookups), levels,
    decisions, 是/否, the designation an upgrade comes from."""
    sheet = _numeric(plan)
    if "programme_name" in sheet.columns:
        # The name where the id stood; the id moves to the end.
        ids = sheet["programme"].copy()
        sheet["programme"] = sheet.pop("programme_name")
        sheet["programme_id"] = ids
    sheet["level"] = sheet["level"].map(LEVEL_ZH)
    sheet["nomination"] = sheet["nomination"].map({True: "是", False: "否"})
    if "decision" in sheet.columns:
        sheet["decision"] = sheet["decision"].map(DECISION_ZH)
    if "upgrade_of" in sheet.columns:
        sheet["upgrade_of"] = [_option_zh(names, v) for v in sheet["upgrade_of"]]
    headers = {**PLAN_HEADERS_ZH, "upgrade_of": "晋级自"}
    if "programme_id" in sheet.columns:
        headers = {**headers, "programme": "项目名称", "programme_id": "项目代码"}
    return sheet.rename(columns=headers)


def _reasons_sheet(reasons: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    """Every candidate's outcome and reason, in Chinese where the reasons give it (the
    English sentence then stays in the CSV and JSON), with what it would have taken."""
    sheet = reasons.copy()
    if "reason_zh" in sheet.columns:
        sheet = sheet.drop(columns=["detail"], errors="ignore")
    sheet["outcome"] = sheet["outcome"].map(OUTCOME_ZH).fillna(sheet["outcome"])
    for column in ("score_needed", "extra_budget_wan", "score_margin"):
        if column in sheet.columns:
            values = pd.to_numeric(sheet[column], errors="coerce")
            sheet[column] = [
                UNREACHABLE_ZH if np.isinf(v) else (None if np.isnan(v) else float(v))
                for v in values
            ]
    if "extra_budget_year" in sheet.columns:
        sheet["extra_budget_year"] = [
            None if pd.isna(v) else f"{int(v)}年" for v in sheet["extra_budget_year"]
        ]
    if "threshold_at" in sheet.columns:
        sheet["threshold_at"] = [_option_zh(names, v) for v in sheet["threshold_at"]]
    for column in ("threshold_confirmed", "score_confirmed", "money_confirmed"):
        if column in sheet.columns:
            sheet[column] = sheet[column].map({True: "是", False: "否"})
    return sheet.rename(columns=REASON_HEADERS_ZH)


def _tier_rows(frame: pd.DataFrame) -> pd.Series:
    names = dict(zip(frame["programme"], frame["programme_name"], strict=True))
    return pd.Series(
        [_tier_zh(names, p, lv) for p, lv in zip(frame["programme"], frame["level"], strict=True)],
        index=frame.index,
    )


def _spend_sheet(spend: pd.DataFrame, budget: pd.DataFrame | None) -> pd.DataFrame:
    """Expected spend by programme and level (rows) and year (columns) inside the horizon,
    with the total, each year's budget and what is left."""
    inside = spend[~spend["after_horizon"].astype(bool)]
    years = sorted(budget["year"].dropna().astype(int)) if budget is not None else []
    years = sorted(set(years) | set(inside["year"].astype(int)))
    rows = inside.assign(tier=_tier_rows(inside))
    pivot = rows.pivot_table(
        index="tier", columns="year", values="expected", aggfunc="sum", sort=False
    ).reindex(columns=years)
    counts = rows.pivot_table(
        index="tier", columns="year", values="designations", aggfunc="sum", sort=False
    ).reindex(index=pivot.index, columns=years)
    table = pd.DataFrame({"项目及级别": pivot.index})
    for t in years:
        table[f"{t}年入选数"] = counts[t].fillna(0).astype(int).to_numpy()
        table[f"{t}年预计支出（万元）"] = pivot[t].fillna(0.0).round(4).to_numpy()
    money_columns = [f"{t}年预计支出（万元）" for t in years]
    table["合计（万元）"] = table[money_columns].sum(axis=1).round(4)
    total = {"项目及级别": "合计"}
    for t in years:
        total[f"{t}年入选数"] = int(table[f"{t}年入选数"].sum())
        total[f"{t}年预计支出（万元）"] = round(float(table[f"{t}年预计支出（万元）"].sum()), 4)
    total["合计（万元）"] = round(float(table["合计（万元）"].sum()), 4)
    extra = [total]
    if budget is not None and budget["budget"].notna().any():
        by_year = {
            int(y): b for y, b in zip(budget["year"], budget["budget"], strict=True) if pd.notna(y)
        }
        limit = {"项目及级别": "预算"}
        left = {"项目及级别": "结余"}
        for t in years:
            b = by_year.get(t)
            if b is not None and not np.isnan(b):
                limit[f"{t}年预计支出（万元）"] = b
                left[f"{t}年预计支出（万元）"] = round(b - total[f"{t}年预计支出（万元）"], 4)
        whole = budget[budget["year"].isna()]
        if len(whole):
            limit["合计（万元）"] = float(whole["budget"].iloc[0])
            left["合计（万元）"] = round(limit["合计（万元）"] - total["合计（万元）"], 4)
        elif all(t in by_year and not np.isnan(by_year[t]) for t in years):
            limit["合计（万元）"] = round(sum(by_year[t] for t in years), 4)
            left["合计（万元）"] = round(limit["合计（万元）"] - total["合计（万元）"], 4)
        extra += [limit, left]
    return pd.concat([table, pd.DataFrame(extra)], ignore_index=True)


def _commitments_sheet(spend: pd.DataFrame) -> pd.DataFrame:
    """What the plan leaves to pay after the horizon, by programme, level and year: expected
    and if every conferral comes."""
    after = spend[spend["after_horizon"].astype(bool)]
    if after.empty:
        return pd.DataFrame({"项目及级别": ["本方案在规划期之后没有承诺支出"]})
    rows = after.assign(tier=_tier_rows(after))
    years = sorted(rows["year"].astype(int).unique())
    table = pd.DataFrame({"项目及级别": list(dict.fromkeys(rows["tier"]))})
    for t in years:
        mine = (
            rows[rows["year"] == t].groupby("tier", sort=False)[["expected", "if_conferred"]].sum()
        )
        table[f"{t}年预计（万元）"] = table["项目及级别"].map(mine["expected"]).fillna(0.0).round(4)
        table[f"{t}年若全部获批（万元）"] = (
            table["项目及级别"].map(mine["if_conferred"]).fillna(0.0).round(4)
        )
    total = {"项目及级别": "合计"}
    total.update({c: round(float(table[c].sum()), 4) for c in table.columns[1:]})
    return pd.concat([table, pd.DataFrame([total])], ignore_index=True)


def _comparison_sheet(optimal: pd.DataFrame, greedy: pd.DataFrame, ours: str) -> pd.DataFrame:
    """liangye's plan (called ``ours``: ``plan_name_zh`` of its status) and the
    rank-by-score plan by programme and level, over the horizon: designations and expected
    spend side by side, and the difference."""

    def totals(spend: pd.DataFrame) -> pd.DataFrame:
        inside = spend[~spend["after_horizon"].astype(bool)]
        return (
            inside.assign(tier=_tier_rows(inside))
            .groupby("tier", sort=False)[["designations", "expected"]]
            .sum()
        )

    best, rule = totals(optimal), totals(greedy)
    tiers = list(dict.fromkeys([*best.index, *rule.index]))
    table = pd.DataFrame({"项目及级别": tiers})
    table[f"{ours}入选数"] = table["项目及级别"].map(best["designations"]).fillna(0).astype(int)
    table["按分排序入选数"] = table["项目及级别"].map(rule["designations"]).fillna(0).astype(int)
    table[f"{ours}预计支出（万元）"] = table["项目及级别"].map(best["expected"]).fillna(0.0)
    table["按分排序预计支出（万元）"] = table["项目及级别"].map(rule["expected"]).fillna(0.0)
    table["支出差额（万元）"] = table[f"{ours}预计支出（万元）"] - table["按分排序预计支出（万元）"]
    total = {"项目及级别": "合计"}
    total.update({c: table[c].sum() for c in table.columns[1:]})
    table = pd.concat([table, pd.DataFrame([total])], ignore_index=True)
    money = [c for c in table.columns if "万元" in c]
    table[money] = table[money].astype(float).round(4)
    return table
