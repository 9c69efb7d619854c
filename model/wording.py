"""The words of explanations, in English (for tools) and Chinese (for the bureau), from the
same facts: programme and level names from the policy, money in 万元, years as 2025年."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, NamedTuple

from .units import LEVEL_CHINESE, Level

if TYPE_CHECKING:
    # For the annotations only: the report and the workbook read OUTCOME_ZH from here
    # without loading the policy schema (50 ms of their import).
    from .policy import Policy, Quota

# Service modes a firm runs (boolean columns of the synthetic pool, model/synthetic.py), after
# the Jiaxing plan's cultivation tasks 三（一）1-5 and 三（二）1-5; the same modes appear in
# Wuhan 3（一）-（九） and Zhongshan 二（二）.
SERVICE_MODE_COLUMNS = {
    "mode_design_marketing": "数字化“设计+营销”",
    "mode_mass_customisation": "大规模个性化定制",
    "mode_shared_manufacturing": "共享制造",
    "mode_lifecycle": "全生命周期管理",
    "mode_productive_finance": "生产性金融",
    "mode_industrial_internet": "工业互联网平台",
    "mode_supply_chain": "供应链管理",
    "mode_total_integration": "总集成总承包",
    "mode_energy_environment": "节能环保服务",
    "mode_testing": "检验检测服务",
}

# A rule's candidate columns as a Chinese reader knows them: the headers the candidate
# table accepts (model/candidates.py), and the columns the bundled policies' rules read,
# which the synthetic pool has (model/synthetic.py; the Jiaxing clauses they come from).
COLUMN_ZH = {
    **{column: f"开展{name}" for column, name in SERVICE_MODE_COLUMNS.items()},
    "smart_manufacturing": "智能制造称号",  # 四（一）1
    "green_manufacturing": "绿色制造称号",  # 四（一）2
    "design_prize": "获工业设计奖项",  # 四（一）3
    "spun_off_service_firm": "剥离设立的服务业企业",  # 四（二）1
    "parent_equity_share": "原企业股权出资比例",  # 四（二）1
    "wholesale_retail": "批零贸易类企业",  # 四（二）1
    "local_tax_above_base": "超基数地方税收",  # 四（二）1
    "offshore_outsourcing_firm": "离岸服务外包企业",  # 四（三）1
    "advanced_tech_service_firm": "技术先进型服务企业",  # 四（三）2
    "cross_border_platform": "跨境电商线上综合服务平台",  # 四（三）4
    "firms_served": "当年度服务企业数",  # 四（三）4
    "category": "企业类别",
    "services_to_manufacturing_share": "专业化中间投入服务业务收入占比",  # 中山 三（二）2
    "revenue": "营业收入",
    "service_input_share": "服务投入占比",
    "service_revenue_share": "服务收入占比",
    "score": "评分",
    "sector": "所属行业",
    "district": "所在县区",
    "kind": "类型",
    "market_share_rank": "市场占有率排名",
    "manufacturing_va_share": "制造业增加值占比",
    "has_service_platform": "公共服务平台",
    "held": "已获认定",
    "product_id": "产品",
}


class Note(NamedTuple):
    """A remark on what an allocation left out or suspects in its input (a programme that
    sits out, a quota not applied, a rule no candidate meets): in English for tools (the
    JSON's ``notes``) and in Chinese for the bureau (``notes_zh``, the command line)."""

    en: str
    zh: str
    # Notes of one cause shown as one line (``notes_zh_grouped``): the cause, and what this
    # note names under it (a programme, a quota).
    cause_zh: str | None = None
    item_zh: str | None = None
    # Within a cause, what this note shares with some others (the missing column).
    part_zh: str | None = None


def notes_zh_grouped(notes: list[Note]) -> list[str]:
    """The notes in Chinese for a person, those of one cause in one line, in the order their
    causes first appear: "候选名单没有“智能制造称号”一列，以下6个项目不参与本次分配：A、B、…".
    A table without one column used to open Jiaxing's answer with 30 lines of 注意 (review 15).
    A cause with one note keeps that note's own sentence."""
    causes: dict[str, list[Note]] = {}
    order: list[str | Note] = []
    for note in notes:
        if note.cause_zh is None or note.item_zh is None:
            order.append(note)
            continue
        if note.cause_zh not in causes:
            causes[note.cause_zh] = []
            order.append(note.cause_zh)
        causes[note.cause_zh].append(note)
    lines = []
    for entry in order:
        if isinstance(entry, Note):
            lines.append(entry.zh)
            continue
        grouped = causes[entry]
        if len(grouped) == 1:
            lines.append(grouped[0].zh)
            continue
        parts: dict[str | None, list[str]] = {}
        for n in grouped:
            parts.setdefault(n.part_zh, []).append(n.item_zh or "")
        said = "；".join(
            "、".join(items) if part is None else f"{part}：{'、'.join(items)}"
            for part, items in parts.items()
        )
        lines.append(entry.format(count=len(grouped)) + said)
    return lines


# Values of the synthetic pool's category column as a rule compares them (model/synthetic.py;
# Zhongshan's four kinds of applicant).
VALUE_ZH = {
    "manufacturer": "制造业企业",
    "producer_service": "生产性服务业企业",
    "manufacturing_park": "制造业园区",
    "service_cluster": "生产性服务业集聚区",
}


def column_zh(column: str) -> str:
    """A table column's name in Chinese (所在县区, 营业收入, …), else the column itself."""
    return COLUMN_ZH.get(column, column)


def header_zh(column: str) -> str:
    """A column as a note asking for it names it: its Chinese name and the column
    (``智能制造称号（smart_manufacturing）``), either of which a table may head it with."""
    name = COLUMN_ZH.get(column)
    return f"{name}（{column}）" if name and name != column else column


KIND_ZH = {"enterprise": "企业", "park": "园区"}
DECISION_ZH = {"discretionary": "认定为", "nomination": "推荐申报", "entitlement": "应享"}
# The kind of a decision as a table names it (the workbook's 决策类型, the report's 方式);
# DECISION_ZH above is the verb a sentence uses.
DECISION_KIND_ZH = {
    "discretionary": "本级认定",
    "nomination": "推荐申报",
    "entitlement": "应享奖励",
}
# A candidate's outcome (model/explain.py's OUTCOMES) as the reader sees it in the command
# line, the report and the workbook; the reason column says the rest. A test fails when an
# outcome lacks a word.
OUTCOME_ZH = {
    "selected": "入选",
    # Not "不符合申报条件" (the reason sentence begins with it already): short, as the command
    # line and the workbook had it, and it covers holding the tier or 就高不重复 as well.
    "ineligible": "不符合条件",
    # An applications table without a row for it (and nothing it is owed).
    "not_applied": "未申报",
    "out_of_budget": "预算不足",
    # Not "名额已满或评分靠后": a balance, cap or stacking rule outranks it too (explain.py).
    "outranked": "排名靠后",
    # Not "满足配额无需该企业": candidates are parks as well as firms.
    "not_needed": "满足名额要求无需入选",
    # No plan was found (infeasible, or none within the time or work limit): nothing decided.
    "undecided": "未作决定",
}
# What each objective counts, and what its bound is (a minimum's bound is below it). Under
# ``count`` the obligations (entitlements the documents make automatic) count nothing: the
# plan cannot choose them, so its headline count of designations is larger.
OBJECTIVE_ZH = {
    "merit": "加权评分",
    "count": "择优入选事项数，不含按规定应得的奖励",
    "min_cost": "支出，万元",
}


def bound_zh(objective: str) -> str:
    """上界 for an objective maximised, 下界 for one minimised (min_cost)."""
    return "下界" if objective == "min_cost" else "上界"


VERB_EN = {
    "discretionary": "designated",
    "nomination": "nominated for",
    "entitlement": "entitled to",
}


def money(amount: Decimal | float) -> str:
    """An amount in 万元, to the cent of a 万元, without trailing zeros: ``150万元``."""
    value = Decimal(str(amount)).quantize(Decimal("0.01")).normalize()
    return f"{value:f}万元"


def percent(chance: float) -> str:
    """A chance as a percent without needless decimals: ``30%``, ``4.9%``."""
    return f"{chance * 100:.4g}%"


def percent_beside(chance: float, bound: float) -> str:
    """A chance as a percent with the decimals it needs to be read against ``bound``:
    ``4.3%`` beside a bound of 5%, ``0.00012%`` beside one of 0.0001% (to one decimal both
    read 0.0%, and a rise from 0.0% to 0.0% above 0.0001% explains nothing)."""
    decimals = 1
    if bound > 0:
        decimals = max(1, 1 - math.floor(math.log10(bound * 100)))
    return f"{chance * 100:.{decimals}f}%"


def level_zh(level: str) -> str:
    """国家级 / 省级 / 市级 / 区县级 for a level value (the value itself if unknown)."""
    try:
        return LEVEL_CHINESE[Level(level)]
    except ValueError:
        return str(level)


@dataclass(frozen=True)
class Words:
    """How a policy's programmes, levels and quotas are named in a sentence."""

    names: dict[str, str]

    @classmethod
    def of(cls, policy: Policy) -> Words:
        return cls({p.id: p.name for p in policy.programmes})

    def programme(self, programme: str) -> str:
        """The programme's Chinese name from the policy file (its id if it has none)."""
        return self.names.get(programme, programme)

    def tier_zh(self, programme: str, level: str) -> str:
        """``服务型制造示范企业（平台、项目）（市级）``"""
        return f"{self.programme(programme)}（{level_zh(level)}）"

    def tier_en(self, programme: str, level: str) -> str:
        return f"{programme} {level}"

    def quota_zh(self, quota: Quota, index: int) -> str:
        """The quota's name (the policy files name them in Chinese), or what it counts."""
        if quota.name:
            return quota.name
        what = "、".join(self.programme(p) for p in quota.programmes or []) or "全部项目"
        levels = "、".join(level_zh(lv.value) for lv in quota.levels or [])
        per = "每年" if quota.per == "year" else "整个期间"
        return f"第{index + 1}项名额（{what}{'，' + levels if levels else ''}，{per}）"

    @staticmethod
    def rule_zh(text: str) -> str:
        """A rule of the policy's small language as a Chinese reader reads it: columns and
        words in Chinese, a title among a cell's several as 含 (绿色制造称号含“国家级绿色工厂”,
        not '国家级绿色工厂' 属于 …), a category by its name, ≥ for >=, amounts in 亿元/万元."""
        out = re.sub(
            r"'([^']*)'\s+not\s+in\s+(\w+)", lambda m: f"{column_zh(m[2])}不含“{m[1]}”", text
        )
        out = re.sub(r"'([^']*)'\s+in\s+(\w+)", lambda m: f"{column_zh(m[2])}含“{m[1]}”", out)
        out = re.sub(
            r"(\w+)\s*(==|!=)\s*'([^']*)'",
            lambda m: (
                f"{column_zh(m[1])}{'为' if m[2] == '==' else '不为'}“{VALUE_ZH.get(m[3], m[3])}”"
            ),
            out,
        )
        for column, name in COLUMN_ZH.items():
            out = re.sub(rf"\b{column}\b", name, out)
        for english, chinese in ((" and ", " 且 "), (" or ", " 或 "), (" not in ", " 不属于 ")):
            out = out.replace(english, chinese)
        out = re.sub(r"\bnot\s+", "非 ", out)
        out = out.replace(" in ", " 属于 ")
        for english, sign in ((">=", "≥"), ("<=", "≤"), ("!=", "≠"), ("==", "=")):
            out = out.replace(english, sign)
        return re.sub(r"(\d)(亿|万)(?!元)", r"\1\2元", out)

    def exclusion_zh(self, reason: str) -> str:
        """Why a tier was ruled out, in Chinese. The sentences are made where each rule is
        read (eligibility, applications, history, entitlements), in English; they are few
        fixed forms, each matched here. An unknown form is kept as it is."""
        for pattern, render in _EXCLUSIONS:
            found = pattern.fullmatch(reason)
            if found:
                return render(self, found)
        return reason


def _already_paid(words: Words, m: re.Match) -> str:
    return f"同一事项已获奖励{m['paid']}万元，按“就高不重复”只奖励更高额度（本项{m['this']}万元）"


# (pattern, Chinese) for every reason an exclusion carries (model/eligibility.py,
# option_rules.py, applications.py, decisions.py); the first that matches the whole reason
# is used.
_EXCLUSIONS = [
    (re.compile(r"rule '(?P<rule>.+)' fails"), lambda w, m: f"不满足条件“{w.rule_zh(m['rule'])}”"),
    (re.compile(r"sector not in (?P<list>.+)"), lambda w, m: f"所属行业不在“{m['list']}”之列"),
    (
        re.compile(r"not in the running \((?P<rule>.+)\)"),
        lambda w, m: f"不在申报范围内（申报条件：{w.rule_zh(m['rule'])}）",
    ),
    (
        re.compile(r"kind (?P<kinds>[a-z/]+) only"),
        lambda w, m: "仅限" + "、".join(KIND_ZH.get(k, k) for k in m["kinds"].split("/")) + "申报",
    ),
    (re.compile(r"no band of the award applies"), lambda w, m: "不属于该奖励的任何档次"),
    (re.compile(r"applied but not eligible"), lambda w, m: "已申报但不符合该项条件"),
    (
        re.compile(r"already holds (?P<p>\S+) at (?P<l>\S+)"),
        lambda w, m: f"已获得{w.tier_zh(m['p'], m['l'])}",
    ),
    (
        re.compile(r"already designated in matter '(?P<m>.+)' \(no upgrades\)"),
        lambda w, m: "同一事项已获认定，本政策不予晋级",
    ),
    (
        re.compile(
            r"already paid (?P<paid>[\d.]+)万元 in matter '(?P<m>.+)'; 就高不重复 pays only a "
            r"higher award \(this one is (?P<this>[\d.]+)万元\)"
        ),
        _already_paid,
    ),
    (re.compile(r"entitled to it in an earlier year already"), lambda w, m: "此前年度已享受该奖励"),
    (
        re.compile(
            r"就高不重复: entitled to (?P<p>\S+) at (?P<l>\S+) in (?P<y>\d+) in the same matter"
        ),
        lambda w, m: f"按“就高不重复”，同一事项已于{m['y']}年应享{w.tier_zh(m['p'], m['l'])}",
    ),
    (
        re.compile(r"同一(?P<c>\S+)不重复奖励: (?P<k>.+) is rewarded to (?P<id>.+) in (?P<y>\d+)"),
        lambda w, m: f"同一{column_zh(m['c'])}不重复奖励：{m['k']}已于{m['y']}年奖励给{m['id']}",
    ),
]
