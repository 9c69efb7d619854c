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

from decimal import Decimal
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .decisions import ENTITLEMENT
from .eligibility import Tier
from .option_rules import apply_history
from .policy import Policy
from .units import Level
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


def owed_tiers(
    tiers: list[Tier],
    candidates: pd.DataFrame,
    policy: Policy,
    tier_paid: dict[tuple[str, str], np.ndarray],
    held_at: list | None,
) -> dict[tuple[str, str], np.ndarray]:
    """Per entitlement tier (programme, level), whether its rules owe it to each candidate
    (by position): open to it, and not ruled out by a title it already holds (就高不重复, as
    ``option_rules.apply_history`` rules it for the options)."""
    owed: dict[tuple[str, str], np.ndarray] = {}
    for tier in tiers:
        if tier.decision != ENTITLEMENT:
            continue
        key = (tier.programme.id, tier.level)
        mask = np.asarray(tier.eligible, dtype=bool).copy()
        at = np.flatnonzero(mask)
        # Only holders can be ruled out by what they hold (a simulated round's few).
        if held_at is not None and any(held_at[i] for i in at.tolist()):
            amounts = np.nan_to_num(tier.amounts())[at]
            pairs = pd.DataFrame(
                {
                    "candidate": np.asarray(candidates.index)[at],
                    "programme": key[0],
                    "level": key[1],
                    "amount": [Decimal(str(round(float(a), 4))) for a in amounts],
                }
            )
            kept, _ = apply_history(pairs, candidates, policy, tier_paid, held_at)
            mask[:] = False
            mask[candidates.index.get_indexer(kept["candidate"].to_numpy())] = True
        owed[key] = mask
    return owed


def unclaimed_entitlements(
    owed: dict[tuple[str, str], np.ndarray],
    policy: Policy,
    candidates: pd.DataFrame,
    applications: pd.DataFrame,
) -> list[Note]:
    """A note per entitlement tier owed to some candidate (``owed_tiers``) that has no
    application row for it (that programme at that level): by the applications table it is
    not paid, and the plan does not count it among what the city owes."""
    notes: list[Note] = []
    owed = {key: mask for key, mask in owed.items() if mask.any()}
    if not owed:
        return notes
    names = {p.id: p.name or p.id for p in policy.programmes}
    # Only the rows of the programmes owed are read as text (a simulated round has
    # thousands of applications, few of them to entitlements).
    programme_of = applications["programme"].to_numpy(dtype=object)
    written = {name for programme, _ in owed for name in (programme, names.get(programme))}
    rows = np.flatnonzero([p in written for p in programme_of.tolist()])
    applied = pd.DataFrame(
        {
            "candidate_id": applications["candidate_id"].to_numpy(dtype=object)[rows],
            "programme": programme_of[rows],
            "level": applications["level"].to_numpy(dtype=object)[rows],
        }
    ).astype(str)
    ids = candidates["id"].to_numpy(dtype=object)
    for (programme, level), mask in owed.items():
        asked = applied["programme"].isin({programme, names.get(programme, programme)}) & (
            applied["level"] == level
        )
        claimed = set(applied.loc[asked, "candidate_id"])
        missing = [str(c) for c in ids[mask] if str(c) not in claimed]
        if not missing:
            continue
        shown = "、".join(missing[:10]) + ("等" if len(missing) > 10 else "")
        name = f"{names.get(programme, programme)}（{Level(level).chinese}）"
        notes.append(
            Note(
                f"{programme} at {level}: {len(missing)} candidate(s) in the running for this "
                "entitlement have no application for it and are not paid in this plan: "
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
    owed = {p for (p, _), mask in (problem.owed_to or {}).items() if mask[c]}
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
