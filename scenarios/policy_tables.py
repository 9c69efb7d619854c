"""The policy documents as rich tables and JSON, in Chinese (``liangye policy show``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum

from rich.table import Table

from liangye.model.policy import LevelAward, Policy, Programme
from liangye.model.units import Level
from liangye.model.wording import Words, column_zh

STACKING = {"highest": "就高不重复（同一事项只按最高一档奖励）", "all": "可叠加"}
UPGRADE = {"top_up": "晋级补差", "full": "晋级全额奖励", "none": "不可晋级"}
PER = {"year": "每年", "horizon": "整个期间"}
SELECTION = {"composite_score": "按综合得分择优", "conferral": "经认定", "unspecified": "未说明"}
PROVISION = {
    "selection": "遴选",
    "procedure": "程序",
    "review": "评价与动态管理",
    "revocation": "撤销",
    "recommendation": "优先推荐",
    "support": "支持措施",
    "award_without_amount": "未定额奖励",
    "stacking": "叠加规则",
    "statistics": "统计",
    "other": "其他",
}
OP = {">=": "≥", ">": ">", "==": "=", "<=": "≤", "<": "<"}


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """A titled table of wrapping columns, rows ruled apart (every table of ``policy show``)."""
    table = Table(title=title, title_justify="left", show_lines=True)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def flat_note(text: str | None) -> str:
    """A note as one paragraph: the line breaks of a TOML multi-line string removed."""
    return " ".join((text or "").split())


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _levels(levels: list[Level] | None) -> str:
    return "全部" if levels is None else "、".join(lv.chinese for lv in levels)


def _programmes(policy: Policy, ids: list[str] | None) -> str:
    if ids is None:
        return "全部项目"
    names = {p.id: p.name for p in policy.programmes}
    return "；".join(f"{names.get(i, i)}（{i}）" for i in ids)


def _amount_text(programme: Programme, award: LevelAward) -> str:
    """The amount column of a level: a number, bands, a cap, later payouts, or a blank."""
    parts: list[str] = []
    if award.amount is not None:
        parts.append(_money(award.amount))
    elif award.bands:
        parts.append(
            "分档："
            + "；".join(
                f"{Words.rule_zh(band.when)} → {_money(band.amount)}" for band in award.bands
            )
        )
    else:
        parts.append(
            f"文件未规定金额（情景参数 allocation.amounts.{programme.id}.{award.level.value}）"
        )
    if award.cap is not None:
        parts.append(f"最高不超过 {_money(award.cap)}")
    for payout in award.payouts:
        years = "、".join(str(k) for k in payout.years_after)
        what = (
            _money(payout.amount)
            if payout.amount is not None
            else f"{payout.share:.0%} × {column_zh(payout.of)}"
        )
        parts.append(f"另于认定后第 {years} 年各付 {what}")
    return "\n".join(parts)


def _conditions(programme: Programme, award: LevelAward, policy: Policy) -> str:
    lines = [
        f"类型：{'、'.join({'enterprise': '企业', 'park': '园区'}[k] for k in programme.kinds)}"
    ]
    # The rules as the reasons say them (含“…”, ≥, 亿元), not in the files' language; the
    # files themselves, and --json, keep that (a review found 'x' in smart_manufacturing).
    if programme.applicants:
        lines.append(f"参评范围：{Words.rule_zh(programme.applicants)}")
    lines += [
        f"条件：{Words.rule_zh(rule)}" for rule in [*programme.eligibility, *award.eligibility]
    ]
    if programme.sector_list:
        entry = policy.named_list(programme.sector_list)
        lines.append(f"领域：{entry.name}{'（开放）' if entry.open else ''}")
    if programme.no_repeat_by:
        lines.append(f"同一{column_zh(programme.no_repeat_by)}不重复奖励")
    return "\n".join(lines)


def programme_table(policy: Policy) -> Table:
    table = _table("奖励项目与级别（金额：万元）", ("项目", "级别", "金额", "授予", "条件", "出处"))
    for programme in policy.programmes:
        for k, award in enumerate(programme.levels):
            conferrer = award.conferrer
            nominated = conferrer != policy.deciding_level
            table.add_row(
                f"{programme.name}\n（{programme.id}）" if k == 0 else "",
                award.level.chinese,
                _amount_text(programme, award),
                f"{conferrer.chinese}认定"
                + (f"（{policy.deciding_level.chinese}推荐，认定后付款）" if nominated else ""),
                _conditions(programme, award, policy),
                award.reference or programme.reference,
            )
    return table


def metadata_table(policy: Policy) -> Table | None:
    rows = []
    for programme in policy.programmes:
        if programme.term:
            term = programme.term
            span = "、".join(
                part
                for part in (
                    f"{term.years}年" if term.years else "",
                    f"至{term.ends}年" if term.ends else "",
                )
                if part
            )
            rows.append((programme.name, "试点期", span, term.reference))
        if programme.selection:
            selection = programme.selection
            text = SELECTION[selection.method] + (f"：{selection.text}" if selection.text else "")
            rows.append((programme.name, "遴选方式", text, selection.reference))
        if programme.revocation:
            revocation = programme.revocation
            text = revocation.when + (f"（规则：{revocation.rule}）" if revocation.rule else "")
            rows.append((programme.name, "撤销认定", text, revocation.reference))
        if programme.note or programme.note_zh:
            rows.append(
                (
                    programme.name,
                    "说明",
                    flat_note(programme.note_zh or programme.note),
                    programme.reference,
                )
            )
    if not rows:
        return None
    table = _table("项目的期限、遴选、撤销与说明", ("项目", "事项", "内容", "出处"))
    for row in rows:
        table.add_row(*row)
    return table


def quota_table(policy: Policy) -> Table | None:
    if not policy.quotas:
        return None
    table = _table("数量指标", ("指标", "项目", "级别", "周期", "下限", "上限", "出处", "说明"))
    for q, quota in enumerate(policy.quotas):
        period = PER[quota.per] + (
            f"（{'、'.join(map(str, quota.years))}年）" if quota.years else ""
        )
        notes = [flat_note(quota.note_zh or quota.note)] if quota.note or quota.note_zh else []
        if quota.about is not None:
            notes.insert(0, f"文件约数：{quota.about}左右")
        if quota.counts_held:
            notes.insert(0, "存量目标：已获认定计入")
        table.add_row(
            quota.label(q),
            _programmes(policy, quota.programmes),
            _levels(quota.levels),
            period,
            "—" if quota.min is None else str(quota.min),
            "—" if quota.max is None else str(quota.max),
            quota.reference or "",
            "\n".join(notes),
        )
    return table


def balance_table(policy: Policy) -> Table | None:
    if not policy.balance:
        return None
    table = _table("分布均衡", ("按", "项目", "上限", "周期", "出处", "说明"))
    for rule in policy.balance:
        caps = []
        if rule.max_share is not None:
            caps.append(f"占比 ≤ {rule.max_share:.0%}")
        if rule.max_count is not None:
            caps.append(f"数量 ≤ {rule.max_count}")
        table.add_row(
            rule.by,
            _programmes(policy, rule.programmes),
            "；".join(caps) or "文件未量化（不参与约束）",
            PER[rule.per],
            rule.reference or "",
            flat_note(rule.note_zh or rule.note),
        )
    return table


def reserve_table(policy: Policy) -> Table | None:
    if not policy.reserves:
        return None
    table = _table("后备库", ("名称", "项目", "周期", "规模", "出处", "说明"))
    for reserve in policy.reserves:
        table.add_row(
            reserve.name,
            _programmes(policy, reserve.programmes),
            PER[reserve.per],
            "未规定（全部候补，按得分排序）" if reserve.size is None else str(reserve.size),
            reserve.reference,
            flat_note(reserve.note_zh or reserve.note),
        )
    return table


def target_table(policy: Policy) -> Table | None:
    if not policy.targets:
        return None
    table = _table("目标", ("目标", "数值", "年份", "对应指标", "出处", "说明"))
    for target in policy.targets:
        value = f"{OP[target.op]} {_money(target.value)} {target.unit}"
        note = ("力争（非约束性）\n" if target.aspirational else "") + flat_note(
            target.note_zh or target.note
        )
        table.add_row(
            target.name,
            value,
            str(target.year),
            target.quota or "不作为分配约束",
            target.reference,
            note.strip(),
        )
    return table


def list_table(policy: Policy) -> Table | None:
    if not policy.lists:
        return None
    table = _table("文件列举的领域、模式与环节", ("名称", "内容", "出处"))
    for entry in policy.lists:
        items = "、".join(entry.names) + ("（等，开放列表）" if entry.open else "")
        table.add_row(f"{entry.name}\n（{entry.id}）", items, entry.reference)
    return table


def provision_table(policy: Policy) -> Table | None:
    if not policy.provisions:
        return None
    table = _table("其他规定（记录，不参与计算）", ("类别", "内容", "出处", "说明"))
    for provision in policy.provisions:
        table.add_row(
            PROVISION[provision.kind],
            provision.text,
            provision.reference,
            flat_note(provision.note_zh or provision.note),
        )
    return table


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


def policy_json(policy: Policy) -> dict:
    """The policy as plain JSON data: amounts as numbers, levels as their English names."""
    return _jsonable(policy.model_dump(exclude_none=True))
