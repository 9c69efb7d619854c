"""The checks of an allocation's inputs before its options are made (``options.build_problem``):
amounts the settings give for the policy's programmes, designations already held, and the
size of the problem the table would make; and programmes a table names by their Chinese
names read as the policy's ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from .errors import InputError, Problem
from .policy import Policy
from .settings import AllocationSettings


def check_settings(policy: Policy, settings: AllocationSettings, source: str) -> list[Problem]:
    """The scenario's amounts name programmes and levels of the policy, within its caps."""
    problems: list[Problem] = []
    for programme_id, by_level in settings.amounts.items():
        if programme_id not in policy.programme_ids:
            problems.append(
                Problem(
                    source,
                    f"amounts.{programme_id}",
                    "is not a programme of the policy",
                    f"“{programme_id}”不是本政策的项目（已有：{'、'.join(policy.programme_ids)}）",
                )
            )
            continue
        programme = policy.programme(programme_id)
        levels = {lv.level for lv in programme.levels}
        for level, amount in by_level.items():
            if level not in levels:
                problems.append(
                    Problem(
                        source,
                        f"amounts.{programme_id}.{level.value}",
                        "the programme has no such level",
                        f"项目“{programme_id}”没有{level.chinese}这一级别",
                    )
                )
                continue
            cap = programme.award(level).cap
            if cap is not None and amount > cap:
                problems.append(
                    Problem(
                        source,
                        f"amounts.{programme_id}.{level.value}",
                        f"{amount} is above the document's cap of {cap}万元",
                        f"{amount}万元超过了政策文件规定的上限 {cap}万元",
                    )
                )
    return problems


def check_held(
    policy: Policy, held_at: list | None, rows: Sequence[str], source: str
) -> list[Problem]:
    """Designations already held (``held_at``: the held column read, by candidate, with
    programmes as ids; None without one) must name a programme and level of this policy;
    ``rows`` name the candidates' spreadsheet rows in ``source``."""
    if held_at is None:
        return []
    known = {(p.id, lv.level.value) for p in policy.programmes for lv in p.levels}
    problems: list[Problem] = []
    for position in (k for k, entries in enumerate(held_at) if entries):
        for held in held_at[position]:
            if (held.programme, held.level) not in known:
                problems.append(
                    Problem(
                        source,
                        rows[position],
                        f"held '{held.programme}:{held.level}' is not a programme "
                        f"and level of policy {policy.id}",
                        f"已获认定“{held.programme}:{held.level}”不是政策 {policy.id} 中的"
                        "项目和级别",
                    )
                )
    return problems


# The most (candidate, tier, year) options one allocation takes on: measured on 2 cores,
# 10,000 candidates under eight programmes (about 240,000 before upgrade chains) allocate in
# about 5 s within 600 MiB, while 100,000 under Jiaxing's policy (1.8 million) took 158 s and
# 4.9 GiB without a plan. Above this the table is refused at once, before any option is made.
MAX_OPTIONS = 400_000


def refuse_oversize(
    tiers: list, years: list[int], applications: pd.DataFrame | None, candidates: pd.DataFrame
) -> None:
    """Raise InputError when the options would exceed MAX_OPTIONS (counted from the tiers'
    eligibility, before they are made): too large to plan within a minute and 2 GiB."""
    eligible = sum(int(t.eligible.sum()) for t in tiers)
    estimate = len(applications) if applications is not None else eligible * len(years)
    if estimate > MAX_OPTIONS:
        source = candidates.attrs.get("source", "candidates")
        raise InputError(
            [
                Problem(
                    source,
                    "size",
                    f"{len(candidates):,} candidates make about {estimate:,} options "
                    f"(candidate × tier × year), more than the {MAX_OPTIONS:,} one allocation "
                    "handles within a minute and 2 GiB (about 10,000 candidates under eight "
                    "programmes for three years): split the table (by district or sector) or "
                    "shorten the horizon",
                    f"{len(candidates):,} 个候选约产生 {estimate:,} 个选项（候选 × 级别 × 年份），"
                    f"超过一次分配在一分钟、2 GiB 内能处理的 {MAX_OPTIONS:,} 个（约为 1 万个"
                    "候选、八个项目、三年）：请把名单按县区或行业拆分，或缩短年限",
                )
            ]
        )


def applications_by_id(applications: pd.DataFrame | None, policy: Policy) -> pd.DataFrame | None:
    """``applications`` with a programme written by its name (服务型制造示范企业（平台、项目）,
    as ``policy show`` prints it) replaced by its id; as it is when every programme is an id
    (the simulation's rounds: one look at the distinct values)."""
    if applications is None or "programme" not in applications.columns:
        return applications
    ids = set(policy.programme_ids)
    named = {v for v in pd.unique(applications["programme"]) if v not in ids}
    by_name = {k: v for k, v in policy.ids_by_name().items() if k in named}
    if not by_name:
        return applications
    out = applications.copy()
    out["programme"] = out["programme"].replace(by_name)
    out.attrs = dict(applications.attrs)
    return out


def held_by_id(held_at: list | None, policy: Policy) -> list | None:
    """Designations already held (``parse_held_cells``) with a programme written by its name
    read as its id; the same lists when every programme is an id."""
    if held_at is None:
        return None
    ids = set(policy.programme_ids)
    named = {h.programme for entries in held_at for h in entries if h.programme not in ids}
    by_name = {k: v for k, v in policy.ids_by_name().items() if k in named}
    if not by_name:
        return held_at
    return [
        [replace(h, programme=by_name.get(h.programme, h.programme)) for h in entries]
        for entries in held_at
    ]
