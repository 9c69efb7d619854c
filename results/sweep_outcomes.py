"""What each sweep outcome and factor is called in Chinese, its unit, and which way is better."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

HIGHER = "higher"
LOWER = "lower"
BETTER_ZH = {HIGHER: "越大越好", LOWER: "越小越好", None: "—"}


@dataclass(frozen=True)
class OutcomeInfo:
    """An outcome as a person reads it: a Chinese label, a unit (万元, 家, or "" for shares
    and indicators) and which direction is better (None: neither — no regret is computed)."""

    key: str
    label: str
    unit: str
    better: str | None
    # 1 where something happened, 0 where not (its mean is the share of worlds): True or
    # False for the outcomes the rules know (``EVENTS``), None for any other.
    event: bool | None = None

    @property
    def axis_label(self) -> str:
        """The label with its unit, as an axis shows it: ``实际支付（万元）``."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label


# The one place that says what the simulation's outcomes mean and which way is better
# (agents/outcomes.py defines them). First full match wins; {0} is the pattern's group.
# Spending has no direction on its own (spending nothing would "win"): judge money through
# the cost per additional firm, or declare a direction in the sweep file's [analysis.better].
OUTCOME_RULES: tuple[tuple[str, str, str, str | None], ...] = (
    (
        r"additionality\.(\d+)\.net_additional",
        "净新增服务化企业（服务收入占比≥{0}%）",
        "家",
        HIGHER,
    ),
    (r"additionality\.(\d+)\.additional", "因奖励新跨过{0}%的企业", "家", HIGHER),
    (r"additionality\.(\d+)\.additional_awarded", "因奖励新跨过{0}%的获奖企业", "家", HIGHER),
    (r"additionality\.(\d+)\.reversed", "仅在无奖励时跨过{0}%的企业", "家", LOWER),
    (r"additionality\.(\d+)\.crossed_award", "有奖励时跨过{0}%的企业", "家", HIGHER),
    (r"additionality\.(\d+)\.crossed_twin", "无奖励时跨过{0}%的企业", "家", None),
    (r"additionality\.(\d+)\.awarded_firms", "获认定企业（含无奖励资金的称号）", "家", None),
    (r"additionality\.(\d+)\.awarded_firms_paid", "获奖励资金企业", "家", None),
    (r"additionality\.(\d+)\.deadweight", "无奖励也达{0}%的获认定企业", "家", LOWER),
    (
        r"additionality\.(\d+)\.deadweight_firms_paid",
        "无效激励企业（获奖励资金且无奖励也达{0}%）",
        "家",
        LOWER,
    ),
    (r"additionality\.(\d+)\.deadweight_already_above", "无奖励也达标：期初已达{0}%", "家", LOWER),
    (
        r"additionality\.(\d+)\.deadweight_crossed_anyway",
        "无奖励也达标：无奖励也会跨过{0}%",
        "家",
        LOWER,
    ),
    (r"additionality\.(\d+)\.deadweight_paid", "无效激励资金（{0}%口径）", "万元", LOWER),
    (
        r"additionality\.(\d+)\.deadweight_paid_share",
        "无效激励资金占支出比例（{0}%口径）",
        "",
        LOWER,
    ),
    (
        r"additionality\.(\d+)\.cost_per_additional",
        "每家净新增服务化企业的成本（{0}%口径）",
        "万元/家",
        LOWER,
    ),
    (r"designations\.decided", "认定与推荐", "项", None),
    (r"designations\.nominations", "向上推荐", "项", None),
    (r"designations\.conferred", "获认定", "项", None),
    (r"designations\.revoked", "撤销的认定", "项", None),
    (r"spend\.paid", "实际支付", "万元", None),
    (r"spend\.committed", "获认定应付总额", "万元", None),
    (r"spend\.cancelled", "因撤销不再支付", "万元", None),
    (r"spend\.owed_after_horizon", "期后仍应支付", "万元", None),
    (r"spend\.paid_by_year\.(\d+)", "{0}年支付", "万元", None),
    (r"overrun\.occurred\.any_year", "任一年超支（是=1，均值即超支概率）", "", LOWER),
    (r"overrun\.occurred\.(.+)", "超支（{0}，是=1）", "", LOWER),
    (r"overrun\.by_row\.(.+)", "超支金额（{0}）", "万元", LOWER),
    (r"servitization\.share_above_(\d+)_award", "期末服务收入占比≥{0}%的制造企业比例", "", HIGHER),
    (r"servitization\.share_above_(\d+)_twin", "无奖励时期末≥{0}%的制造企业比例", "", None),
    (r"servitization\.share_above_(\d+)_start", "期初≥{0}%的制造企业比例", "", None),
    (r"servitization\.mean_service_share_award", "期末平均服务收入占比", "", HIGHER),
    (r"servitization\.mean_service_share_twin", "无奖励时期末平均服务收入占比", "", None),
    (r"servitization\.mean_service_share_start", "期初平均服务收入占比", "", None),
    (r"districts\.districts_reached", "获奖覆盖县区", "个", None),
    (r"districts\.largest_share", "获奖最多县区所占份额", "", None),
    (r"districts\.herfindahl", "获奖县区集中度（HHI）", "", None),
    (r"rounds\.planned", "按全部规则完成的年度评审", "次", HIGHER),
    (r"rounds\.without_minimums", "未能满足最低名额的年度评审", "次", LOWER),
    (r"rounds\.obligations_only", "只兑现应享奖励的年度评审", "次", LOWER),
    (r"rounds\.not_held", "未能举行的年度评审", "次", LOWER),
    (r"rounds\.no_applicants", "无人申报的年度评审", "次", None),
)

# Levers and uncertainties of the bundled sweeps, and the simulation settings a run's report
# names when they differ from their defaults (any other key is shown as it is written).
FACTOR_LABELS: dict[str, str] = {
    "tier_design": "奖励档次设计",
    "budget_scale": "预算倍数",
    "simulation.award_response": "奖励响应强度",
    "simulation.award_scale": "奖励金额倍数",
    "simulation.imitation_q": "模仿系数 q",
    "simulation.innovation_p": "创新系数 p",
    "simulation.application_rate": "申报率",
    "simulation.population.firms": "企业数",
    "simulation.threshold_pull": "临近资格门槛的冲刺强度",
    "simulation.awards_enabled": "是否发放奖励",
    "simulation.application_rules": "模拟的申报条件",
    "simulation.service_firms_apply": "服务业企业是否申报",
    "simulation.payout_schedule": "分期拨付比例",
    "simulation.payoff_inflection": "服务化收益拐点",
    "simulation.adoption_cost": "增加服务模式的成本",
    "simulation.panel_agreement": "评审一致度",
    "simulation.round_quarter": "评审所在季度",
    "simulation.mip_gap": "模拟中分配求解的相对间隙",
    "simulation.thresholds": "服务化门槛",
    "allocation.success_probability.national": "国家级获批概率",
    "allocation.success_probability.provincial": "省级获批概率",
    "allocation.overrun_risk": "超支风险上限",
    # Every other setting a sweep may vary, named as the scenario's reader knows it (a
    # simulation.start_year column stayed an English key in the Chinese tables, review 19).
    "years": "规划年份",
    "policy": "政策",
    "allocation.objective": "分配目标",
    "allocation.mip_gap": "分配求解的相对间隙",
    "allocation.cap_per_candidate_per_year": "每家每年认定上限",
    "allocation.seed": "求解器随机种子",
    "simulation.start_year": "模拟起始年份",
    "simulation.quarters": "模拟季度数",
    "simulation.park_weight": "园区同伴的模仿权重",
    "simulation.adopter_share": "视为已服务化的服务收入占比",
    "simulation.share_per_mode": "每种服务模式带来的服务收入占比",
    "simulation.max_service_share": "服务收入占比上限",
    "simulation.share_adjustment": "服务收入占比的季度调整比例",
    "simulation.share_noise": "服务收入占比的季度波动",
    "simulation.revenue_growth": "营业收入年均增长",
    "simulation.revenue_volatility": "营业收入增长波动",
    "simulation.service_cost_slope": "服务化初期的利润损失斜率",
    "simulation.service_premium_slope": "服务化后期的利润增益斜率",
    "simulation.planning_years": "企业权衡收益的年数",
    "simulation.payoff_sensitivity": "对服务化收益的响应强度",
    "simulation.payoff_clip": "收益响应的上限",
    "simulation.profit_floor": "利润下限（占营业收入）",
    "simulation.score_mean": "专家评分均值",
    "simulation.score_sd": "专家评分标准差",
    "simulation.size_weight": "规模在真实水平中的权重",
    "simulation.time_limit": "模拟中每次分配的时间上限（秒）",
}


# The outcomes that are events (``OutcomeInfo.event``): every other outcome the rules know is
# a count or an amount, even where a sweep gives it only the values 0 and 1.
EVENTS = (r"overrun\.occurred\..+",)


def outcome_info(key: str, better: Mapping[str, str] | None = None) -> OutcomeInfo:
    """What ``key`` is called, its unit and which way is better; ``better`` (the sweep
    file's ``[analysis.better]``) overrides the direction. An outcome no rule knows keeps its
    key as label, no unit and no direction unless ``better`` gives one."""
    chosen = dict(better or {})
    for pattern, label, unit, direction in OUTCOME_RULES:
        match = re.fullmatch(pattern, key)
        if match:
            event = any(re.fullmatch(e, key) for e in EVENTS)
            return OutcomeInfo(
                key, label.format(*match.groups()), unit, chosen.get(key, direction), event
            )
    return OutcomeInfo(key, key, "", chosen.get(key))


def factor_label(key: str) -> str:
    """A lever's or uncertainty's Chinese name (its key when there is none): a yearly budget
    ``budget.per_year.2025`` reads 2025年预算."""
    if key in FACTOR_LABELS:
        return FACTOR_LABELS[key]
    parts = key.split(".")
    if len(parts) == 3 and parts[:2] == ["budget", "per_year"] and parts[2].isdigit():
        return f"{parts[2]}年预算"
    if key == "budget.total":
        return "期间总预算"
    return key
