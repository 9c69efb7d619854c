"""Candidates an applications table leaves out: which programmes were open to them (their
eligibility before applications), and the awards owed by right that no application claims.

With an applications table a candidate stands only for what it applied for. Review 23 found
two readings of that silent: a firm that met every rule of a programme but applied for
nothing was told it was "ineligible", the programme it qualified for left out of the list;
and a firm in the running for an entitlement (an award the city cannot decline) with no
application row was not paid, with nothing said. Both are said now: the first in the
candidate's reason (``explain``), the second as a note of the allocation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .decisions import ENTITLEMENT
from .eligibility import Tier
from .wording import Note, Words

if TYPE_CHECKING:  # options.py imports this module
    from .options import AllocationProblem


def open_programmes(tiers: list[Tier]) -> dict[str, np.ndarray]:
    """Per programme, whether some tier of it is open to each candidate (by position),
    before any application is read."""
    open_to: dict[str, np.ndarray] = {}
    for tier in tiers:
        programme = tier.programme.id
        if programme in open_to:
            open_to[programme] = open_to[programme] | tier.eligible
        else:
            open_to[programme] = np.asarray(tier.eligible, dtype=bool).copy()
    return open_to


def unclaimed_entitlements(
    tiers: list[Tier], candidates: pd.DataFrame, applications: pd.DataFrame
) -> list[Note]:
    """A note per entitlement (decision "entitlement") some candidate is in the running for
    but has no application row for: by the applications table it is not paid, and the plan
    does not count it among what the city owes."""
    notes = []
    ids = candidates["id"].astype(str).to_numpy()
    applied_for = pd.DataFrame(
        {
            "candidate_id": applications["candidate_id"].astype(str).to_numpy(),
            "programme": applications["programme"].astype(str).to_numpy(),
        }
    )
    for programme, open_to in open_programmes(
        [t for t in tiers if t.decision == ENTITLEMENT]
    ).items():
        tier = next(t for t in tiers if t.programme.id == programme)
        names = {programme, tier.programme.name or programme}
        claimed = set(applied_for.loc[applied_for["programme"].isin(names), "candidate_id"])
        missing = [c for c in ids[open_to] if c not in claimed]
        if not missing:
            continue
        shown = "、".join(missing[:10]) + ("等" if len(missing) > 10 else "")
        name = tier.programme.name or programme
        notes.append(
            Note(
                f"{programme}: {len(missing)} candidate(s) in the running for this entitlement "
                f"have no application for it and are not paid in this plan: "
                f"{', '.join(missing[:10])}{' …' if len(missing) > 10 else ''}",
                f"“{name}”为按规定应享的奖励：{len(missing)} 个候选符合其条件，但申报表中没有"
                f"其申请，本方案未计入应付（{shown}）；如应支付，请在申报表中补上",
            )
        )
    return notes


def unapplied_reason(
    c: int,
    problem: AllocationProblem,
    words: Words,
    failing_en: list[str] | None,
    failing_zh: dict[str, list[str]] | None,
) -> tuple[str, str]:
    """(English, Chinese) why candidate ``c``, with no row in the applications table, has no
    option: it did not apply; then the programmes that were open to it (and which of them
    is an award owed by right, not counted for want of an application), or, with none open,
    why not (``failing_*``: the programmes it does not qualify for, by reason)."""
    policy = problem.policy
    open_to = problem.open_to or {}
    order = [p.id for p in policy.programmes]
    opened = [p for p in order if p in open_to and bool(open_to[p][c])]
    owed = {
        p.id
        for p in policy.programmes
        for award in p.levels
        if policy.decision(p, award) == ENTITLEMENT
    }
    en = ["did not apply (no row in the applications table)"]
    zh = ["未申报（申报表中没有其申请）"]
    if opened:
        en.append("open to it: " + ", ".join(opened))
        zh.append("符合申报条件的项目：" + "、".join(words.programme(p) for p in opened))
        entitled = [p for p in opened if p in owed]
        if entitled:
            en.append(
                "of which owed by right, not counted without an application: " + ", ".join(entitled)
            )
            zh.append(
                "其中"
                + "、".join(f"“{words.programme(p)}”" for p in entitled)
                + "为按规定应享的奖励，未申报则本方案不计入应付"
            )
    elif failing_en and failing_zh:
        en.append("and not eligible for: " + "; ".join(failing_en))
        zh.append(
            "也不符合以下项目的申报条件："
            + "；".join(f"{'、'.join(ps)}：{reason}" for reason, ps in failing_zh.items())
        )
    else:
        zh[0] += "，也没有按规定应享的奖励"
    return "; ".join(en), "；".join(zh)
