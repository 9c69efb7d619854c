"""The checks of a policy file that need the whole file: unknown names, duplicates, rules."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .errors import Problem
from .expressions import RuleSyntaxError, parse_rule
from .units import Level

if TYPE_CHECKING:
    from .policy import Policy


def cross_checks(policy: Policy, source: str) -> list[Problem]:
    """Checks that need the whole file: unknown names, duplicate ids, rules that do not parse."""
    problems: list[Problem] = []
    ids = policy.programme_ids
    for i, programme_id in enumerate(ids):
        if programme_id in ids[:i]:
            problems.append(
                Problem(
                    source,
                    f"programmes[{i}].id",
                    f"'{programme_id}' is a duplicate",
                    f"项目编号“{programme_id}”重复出现：每个项目的编号只能用一次",
                )
            )
    list_ids = [entry.id for entry in policy.lists]
    for i, programme in enumerate(policy.programmes):
        for j, text in enumerate(programme.eligibility):
            problems += _rule_problem(source, f"programmes[{i}].eligibility[{j}]", text)
        if programme.applicants is not None:
            problems += _rule_problem(source, f"programmes[{i}].applicants", programme.applicants)
        if programme.revocation is not None and programme.revocation.rule is not None:
            where = f"programmes[{i}].revocation.rule"
            problems += _rule_problem(source, where, programme.revocation.rule)
        if programme.sector_list is not None and programme.sector_list not in list_ids:
            problems.append(
                Problem(
                    source,
                    f"programmes[{i}].sector_list",
                    f"'{programme.sector_list}' is not an id in [[lists]] "
                    f"(known: {', '.join(list_ids) or 'none'})",
                    f"“{programme.sector_list}”不是 [[lists]] 中的名单编号"
                    f"（已有：{'、'.join(list_ids) or '无'}）",
                )
            )
        for k, award in enumerate(programme.levels):
            if policy.decision(programme, award) == "discretionary" and policy.confers_above(award):
                # The city cannot decide what a higher government confers: priced with that
                # government's chance, a "discretionary" tier was budgeted as uncertain while
                # the documents call it paid for sure once decided.
                where = f"programmes[{i}].levels[{k}].decision"
                if award.decision is None:
                    where = f"programmes[{i}].decision"
                problems.append(
                    Problem(
                        source,
                        where,
                        f"{award.level.value} of '{programme.id}' is conferred by the "
                        f"{award.conferrer.value} government, above the deciding "
                        f"{policy.deciding_level.value} one, so the city cannot designate it at "
                        'its discretion: write decision = "nomination" (paid once '
                        "conferred) or conferred_by = the deciding level",
                        f"“{programme.id}”的{award.level.chinese}由{award.conferrer.chinese}政府"
                        f"认定，高于决策层级（{policy.deciding_level.chinese}），本级不能自行认定："
                        '请写 decision = "nomination"（获批后支付），或把 conferred_by '
                        "设为决策层级",
                    )
                )
            for j, text in enumerate(award.eligibility):
                where = f"programmes[{i}].levels[{k}].eligibility[{j}]"
                problems += _rule_problem(source, where, text)
            for j, band in enumerate(award.bands):
                where = f"programmes[{i}].levels[{k}].bands[{j}].when"
                problems += _rule_problem(source, where, band.when)
    for i, entry in enumerate(list_ids):
        if entry in list_ids[:i]:
            problems.append(
                Problem(
                    source,
                    f"lists[{i}].id",
                    f"'{entry}' is a duplicate",
                    f"名单编号“{entry}”重复出现：每个名单的编号只能用一次",
                )
            )
    for group, entries in (
        ("quotas", policy.quotas),
        ("balance", policy.balance),
        ("reserves", policy.reserves),
        ("provisions", policy.provisions),
    ):
        for i, entry in enumerate(entries):
            for name in entry.programmes or []:
                if name not in ids:
                    problems.append(
                        Problem(
                            source,
                            f"{group}[{i}].programmes",
                            f"'{name}' is not a programme of this policy (known: {', '.join(ids)})",
                            f"“{name}”不是本政策的项目（已有：{'、'.join(ids)}）",
                        )
                    )
        for i, entry in enumerate(entries):
            # A level no programme in the scope offers counts nothing: a quota over it can
            # never be met (a minimum) or never bind (a maximum), and the allocation said
            # "infeasible" where the policy file was at fault (fuzzing).
            scope = [
                p for p in policy.programmes if entry.programmes is None or p.id in entry.programmes
            ]
            offered = {award.level for p in scope for award in p.levels}
            for level in getattr(entry, "levels", None) or []:
                if scope and level not in offered:
                    have = "、".join(lv.chinese for lv in sorted(offered, key=list(Level).index))
                    problems.append(
                        Problem(
                            source,
                            f"{group}[{i}].levels",
                            f"'{level.value}' is a level none of its programmes has (they have: "
                            f"{', '.join(lv.value for lv in sorted(offered, key=list(Level).index))})",
                            f"{level.chinese}不是其所含项目的任何级别（已有：{have}）",
                        )
                    )
    for i, quota in enumerate(policy.quotas):
        for year in quota.years or []:
            if year not in policy.year_range:
                problems.append(
                    Problem(
                        source,
                        f"quotas[{i}].years",
                        f"{year} is outside the policy's years",
                        f"{year}年不在政策的年份（{policy.years[0]}-{policy.years[1]}）之内",
                    )
                )
    for i, programme in enumerate(policy.programmes):
        for k, award in enumerate(programme.levels):
            kind = policy.decision(programme, award)
            if kind == "nomination" and not policy.confers_above(award):
                where = f"programmes[{i}].levels[{k}]"
                problems.append(
                    Problem(
                        source,
                        f"{where}.decision" if award.decision else f"programmes[{i}].decision",
                        f"a nomination needs a conferring government above the deciding one "
                        f"({policy.deciding_level.value}); {programme.id} at "
                        f"{award.level.value} is conferred by {award.conferrer.value} "
                        "(set conferred_by, or declare it discretionary or an entitlement)",
                        f"推荐申报需要由高于决策政府（{policy.deciding_level.chinese}）的政府认定，"
                        f"而“{programme.id}”的{award.level.chinese}由"
                        f"{award.conferrer.chinese}认定：请设置 conferred_by，"
                        "或将其声明为本级认定（discretionary）或应享奖励（entitlement）",
                    )
                )
    quota_names = [q.name for q in policy.quotas if q.name]
    for i, target in enumerate(policy.targets):
        if target.quota is not None and target.quota not in quota_names:
            problems.append(
                Problem(
                    source,
                    f"targets[{i}].quota",
                    f"'{target.quota}' names no quota",
                    f"“{target.quota}”不是任何配额的名称（name）",
                )
            )
    return problems


def _rule_problem(source: str, where: str, text: str) -> list[Problem]:
    try:
        parse_rule(text)
    except RuleSyntaxError as error:
        # The parser says where in English ("at 7"); the Chinese points to the same place.
        at = re.search(r"at (\d+)", str(error))
        near = f"（第 {at[1]} 个字符附近）" if at else ""
        return [
            Problem(
                source,
                where,
                f"rule '{text}' does not parse: {error}",
                f"条件“{text}”写法有误{near}：写法见 docs/policy-format.md",
            )
        ]
    return []


# One award above this many 万元 (1亿元) is far more likely 元 written in a 万元 field
# (1,200,000 for 120万元) than an award of its size: said, not refused (review 23: a
# 120亿元 award was accepted without a word).
IMPLAUSIBLE_AWARD = 10_000


def implausible_amounts(policy: Policy) -> list[tuple[str, str]]:
    """(English, Chinese) for each tier amount, band or fixed payout above
    ``IMPLAUSIBLE_AWARD`` 万元: amounts are in 万元."""
    said = []
    for i, programme in enumerate(policy.programmes):
        for j, award in enumerate(programme.levels):
            where = f"programmes[{i}].levels[{j}]"
            amounts = [("amount", award.amount)]
            amounts += [(f"bands[{k}].amount", b.amount) for k, b in enumerate(award.bands)]
            amounts += [(f"payouts[{k}].amount", p.amount) for k, p in enumerate(award.payouts)]
            for key, amount in amounts:
                if amount is not None and amount > IMPLAUSIBLE_AWARD:
                    said.append(
                        (
                            f"{where}.{key} = {amount:,.0f}万元 ({amount / 10000:,.1f}亿元) for one "
                            "award: amounts are in 万元; if this is in 元, divide it by 10,000",
                            f"{where}.{key} = {amount:,.0f}万元（{amount / 10000:,.1f}亿元），单笔奖励"
                            "金额过大：金额单位为万元；如填写的是元，请除以 10,000",
                        )
                    )
    return said
