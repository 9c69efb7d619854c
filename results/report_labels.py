"""Chinese words for the keys and codes liangye writes (outcomes, statuses, reasons, levers)."""

from __future__ import annotations

import re

from liangye.model.status import STATUS_ZH
from liangye.model.wording import DECISION_KIND_ZH, OUTCOME_ZH

# One wording for each, in the model beside what it names (the CLI and the workbook read the
# same); under the names the report has always read them by. The report once called the
# decision kinds 市级自主认定 / 向上推荐 / 按规定兑现 while the workbook said 本级认定 / 推荐申报
# / 应享奖励: one reader, one wording (the workbook's, which its tests and users know).
STATUS = STATUS_ZH
OUTCOME = OUTCOME_ZH

DECISION = DECISION_KIND_ZH

OBJECTIVE: dict[str, str] = {
    "merit": "综合评分加权（级别权重 × 评分）最大",
    "count": "入选事项数最多",
    "min_cost": "满足配额的支出最少",
}

LEVERS: dict[str, str] = {
    "tier_design": "奖励档次",
    "budget_scale": "预算倍数",
}

# Fixed parts of the simulation's outcome keys (summary.json, the sweep store's columns).
_SIMPLE: dict[str, str] = {
    "designations.decided": "认定与推荐决定数",
    "designations.nominations": "向上推荐数",
    "designations.conferred": "获得认定数",
    "designations.revoked": "撤销数",
    "spend.paid": "实际支付（万元）",
    "spend.committed": "承诺支出（万元）",
    "spend.cancelled": "取消支出（万元）",
    "spend.owed_after_horizon": "期后应付（万元）",
    "overrun.occurred.any_year": "任一年超支（模拟中的比例）",
    # A horizon total's row (budget.total), beside the years' (review 23: shown untranslated)
    "overrun.occurred.total": "期间总预算超支（模拟中的比例）",
    "overrun.by_row.total": "期间总预算超支金额（万元）",
    "servitization.mean_service_share_start": "制造企业平均服务收入占比：期初",
    "servitization.mean_service_share_award": "制造企业平均服务收入占比：有奖励期末",
    "servitization.mean_service_share_twin": "制造企业平均服务收入占比：无奖励期末",
    "districts.districts_reached": "覆盖县区数",
    "districts.largest_share": "单一县区最大占比",
    "districts.herfindahl": "县区集中度（赫芬达尔指数）",
    "rounds.planned": "按全部规则完成的年度评审（次）",
    "rounds.without_minimums": "未能满足最低名额、改为不设下限的年度评审（次）",
    "rounds.obligations_only": "只兑现应享奖励的年度评审（次）",
    "rounds.not_held": "未能举行的年度评审（次）",
    "rounds.no_applicants": "无人申报的年度评审（次）",
}
_ADDITIONALITY: dict[str, str] = {
    "net_additional": "净新增服务化企业（家）",
    "additional": "因奖励新增的企业（家）",
    "additional_awarded": "获奖且因奖励新增的企业（家）",
    "reversed": "因奖励反而未达门槛的企业（家）",
    "kept_above": "因奖励保持在门槛以上的企业（家，期初已达门槛）",
    "dropped_below": "因奖励反而跌破门槛的企业（家，期初已达门槛）",
    "net_above": "期末达门槛企业数之差：有奖励减无奖励（家）",
    "crossed_award": "有奖励时跨过门槛的企业（家）",
    "crossed_twin": "无奖励时跨过门槛的企业（家）",
    "awarded_firms": "获认定企业（家，含无奖励资金的称号）",
    "awarded_firms_paid": "获奖励资金企业（家）",
    "deadweight": "无奖励也会达标的获认定企业（家）",
    "deadweight_firms_paid": "无效激励企业（家，获奖励资金且无奖励也会达标）",
    "deadweight_already_above": "无奖励也会达标：期初已达门槛（家）",
    "deadweight_crossed_anyway": "无奖励也会达标：无奖励也会跨过（家）",
    "deadweight_paid": "无效激励资金（万元）",
    "deadweight_paid_share": "无效激励资金占比（资金）",
    "cost_per_additional": "每家净新增企业成本（万元）",
}


def outcome_label(key: str) -> str:
    """The Chinese name of an outcome key (``spend.paid``, ``additionality.20.deadweight``,
    ``spend_paid`` as the sweep store spells it); the key itself when it has none."""
    dotted = key if "." in key else _dotted(key)
    if dotted in _SIMPLE:
        return _SIMPLE[dotted]
    match = re.fullmatch(r"additionality\.(\d+)\.(\w+)", dotted)
    if match and match.group(2) in _ADDITIONALITY:
        return f"{_ADDITIONALITY[match.group(2)]}，门槛 {match.group(1)}%"
    match = re.fullmatch(r"servitization\.share_above_(\d+)_(start|award|twin)", dotted)
    if match:
        when = {"start": "期初", "award": "有奖励期末", "twin": "无奖励期末"}[match.group(2)]
        return f"服务收入占比≥{match.group(1)}%的制造企业比例：{when}"
    match = re.fullmatch(r"overrun\.occurred\.(\d{4})", dotted)
    if match:
        return f"{match.group(1)}年超支（模拟中的比例）"
    match = re.fullmatch(r"overrun\.by_row\.(\d{4})", dotted)
    if match:
        return f"{match.group(1)}年超支金额（万元）"
    match = re.fullmatch(r"spend\.paid_by_year\.(\d{4})", dotted)
    if match:
        return f"{match.group(1)}年实际支付（万元）"
    match = re.fullmatch(r"districts\.(designations|paid)\.(.+)", dotted)
    if match:
        what = "认定数" if match.group(1) == "designations" else "支付（万元）"
        return f"{match.group(2)}：{what}"
    return key


def _dotted(column: str) -> str:
    """A sweep store column (``additionality_20_net_additional``) as its outcome key."""
    for prefix in ("additionality", "designations", "spend", "overrun", "servitization"):
        if column.startswith(prefix + "_"):
            rest = column[len(prefix) + 1 :]
            if prefix == "additionality":
                number, _, name = rest.partition("_")
                return f"additionality.{number}.{name}"
            if prefix == "overrun" and rest.startswith("occurred_"):
                return "overrun.occurred." + rest.removeprefix("occurred_")
            if prefix == "spend" and rest.startswith("paid_by_year_"):
                return "spend.paid_by_year." + rest.removeprefix("paid_by_year_")
            return f"{prefix}.{rest}"
    return column


def is_share(key: str) -> bool:
    """Whether an outcome is a fraction to show as a percent."""
    dotted = key if "." in key else _dotted(key)
    return (
        "share" in dotted.rsplit(".", 1)[-1]
        or dotted.startswith("overrun.occurred")
        or dotted.endswith("largest_share")
    )
