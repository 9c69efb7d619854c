"""The options' rules as they were written before they were made fast, kept as references.

Per-row loops and Series-by-Series reasoning, slow but plain: the equivalence tests
(``test_options_speed_equivalence.py``) check that ``model.eligibility.read_tiers``,
``model.option_rules.apply_history``, ``model.applications.join_applications``, the upgrade
chains, the settled entitlements and the pair table of ``model.options.build_problem`` give
what these give, on random instances. Copied from the code of commit 3b4afdb (the upgrade
chains and settled entitlements from 7c96430); not used by the package.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from liangye.model.candidates import Held, parse_held
from liangye.model.decisions import ENTITLEMENT, level_terms, upgrade_price
from liangye.model.eligibility import Tier, award_amounts
from liangye.model.errors import Problem
from liangye.model.expressions import parse_rule
from liangye.model.option_rules import band_amounts, running_for
from liangye.model.policy import Policy
from liangye.model.settings import AllocationSettings
from liangye.model.wording import Note, Words


def rule_failures(
    rules: list[str],
    table: pd.DataFrame,
    where: str,
    source: str,
    problems: list[Problem],
    nobody: list[Note] | None = None,
) -> pd.Series:
    """For each candidate, the first rule in ``rules`` that fails (None where all hold).

    A rule that holds for no candidate of a non-empty table is appended to ``nobody`` as a
    sentence (a rule that can match nobody is usually a unit or a column mistaken: a share
    written 20 for 20%, an amount written as text)."""
    failure = pd.Series([None] * len(table), index=table.index, dtype=object)
    for text in rules:
        rule = parse_rule(text)
        missing = sorted(rule.columns - set(table.columns))
        if missing:
            problems.append(
                Problem(
                    source,
                    where,
                    f"rule '{text}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = rule.holds(table)
        if nobody is not None and len(table) and not holds.any():
            # The English as the reading says it (the Chinese is compared elsewhere:
            # test_bad_policies).
            english = (
                f"{where}: rule '{text}' holds for none of the {len(table)} candidates "
                "(check its unit: shares are fractions or percents, e.g. 0.2 or 20%; "
                "amounts are numbers, e.g. 5亿, not text in quotes)"
            )
            nobody.append(Note(english, ""))
        failure = failure.where(failure.notna() | holds, f"rule '{text}' fails")
    return failure


def reference_read_tiers(
    policy: Policy,
    settings: AllocationSettings,
    candidates: pd.DataFrame,
    problems: list[Problem],
    notes: list[Note],
) -> tuple[list[Tier], list[str]]:
    """Every tier of the programmes taking part, and the ids of those programmes.

    A programme whose ``applicants`` rule names a column the table lacks takes no part (a
    note says so); rules naming other missing columns, and payouts reading missing columns,
    are problems. Eligibility is kind, applicants, a closed sector list, the programme's and
    the level's rules, and a band that applies (for banded tiers).
    """
    amounts = award_amounts(policy, settings)
    terms = level_terms(policy, settings)
    tiers: list[Tier] = []
    participating: list[str] = []
    for i, programme in enumerate(policy.programmes):
        running = running_for(programme, candidates, Words.of(policy))
        if isinstance(running, Note):
            # The table says nothing about who is in the running: the programme sits this
            # allocation out (a note, not a reason per candidate: it is not about them).
            notes.append(running)
            continue
        participating.append(programme.id)
        kind_ok = candidates["kind"].isin(programme.kinds)
        base_fail = rule_failures(
            programme.eligibility,
            candidates,
            f"programmes[{i}].eligibility",
            policy.file_name,
            problems,
            nobody=notes,
        )
        if programme.sector_list is not None:
            sectors = policy.named_list(programme.sector_list)
            if not sectors.open:  # an open list (等, "+X") records priorities, not limits
                in_list = candidates["sector"].isin(sectors.names)
                base_fail = base_fail.where(in_list, f"sector not in {sectors.name}")
        if running is not None:
            base_fail = base_fail.where(running, f"not in the running ({programme.applicants})")
        base_fail = base_fail.where(kind_ok, f"kind {'/'.join(programme.kinds)} only")
        for k, award in enumerate(programme.levels):
            where = f"programmes[{i}].levels[{k}]"
            fail = base_fail.copy()
            if award.eligibility:
                level_fail = rule_failures(
                    award.eligibility,
                    candidates,
                    f"{where}.eligibility",
                    policy.file_name,
                    problems,
                    nobody=notes,
                )
                fail = fail.where(fail.notna(), level_fail)
            band_amount = None
            if award.bands:
                band_amount = band_amounts(
                    award, candidates, f"{where}.bands", policy.file_name, problems
                )
                fail = fail.where(
                    fail.notna() | band_amount.notna(), "no band of the award applies"
                )
            for j, payout in enumerate(award.payouts):
                if payout.of is not None and payout.of not in candidates.columns:
                    problems.append(
                        Problem(
                            policy.file_name,
                            f"{where}.payouts[{j}].of",
                            f"column '{payout.of}' is not in the candidate table",
                        )
                    )
            decision, chance = terms[(programme.id, award.level.value)]
            tiers.append(
                Tier(
                    programme=programme,
                    award=award,
                    order=i,
                    where=where,
                    decision=decision,
                    chance=chance,
                    eligible=fail.isna().to_numpy(),
                    reasons=fail.to_numpy(),
                    amount=amounts[(programme.id, award.level.value)],
                    band_amount=band_amount,
                )
            )
    return tiers, participating


def reference_join_applications(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    applications: pd.DataFrame,
    policy: Policy,
    years: list[int],
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    source = applications.attrs.get("source", "applications")
    problems: list[Problem] = []
    position_of = pd.Series(candidates.index, index=candidates["id"])
    known_levels = {(p.id, lv.level.value) for p in policy.programmes for lv in p.levels}
    # Checked column by column (the simulation builds an applications table every round);
    # the problems come out in row order, as a per-row loop would give them.
    ids = applications["candidate_id"].to_numpy()
    programmes = applications["programme"].to_numpy()
    levels = applications["level"].to_numpy()
    rows = applications["row"].to_numpy()
    # pandas' isin hashes; numpy's sorts object arrays (1.7 s at 20,000 rows).
    unknown_candidate = ~pd.Index(ids).isin(position_of.index)
    unknown_programme = ~pd.Index(programmes).isin(list(policy.programme_ids))
    pair_known = np.array(
        [(p, lv) in known_levels for p, lv in zip(programmes, levels, strict=True)], dtype=bool
    )
    if "year" in applications.columns:
        year_values = applications["year"].to_numpy(dtype=float)
        bad_year = ~np.isnan(year_values) & ~np.isin(year_values, years)
    else:
        year_values = np.full(len(applications), np.nan)
        bad_year = np.zeros(len(applications), dtype=bool)
    flagged = unknown_candidate | unknown_programme | ~pair_known | bad_year
    for i in np.flatnonzero(flagged):
        if unknown_candidate[i]:
            problems.append(
                Problem(source, rows[i], f"candidate_id '{ids[i]}' is not in the candidate table")
            )
        if unknown_programme[i]:
            known = [
                f"{p.id} ({p.name})" if p.name and p.name != p.id else p.id
                for p in policy.programmes
            ]
            problems.append(
                Problem(
                    source,
                    rows[i],
                    f"programme '{programmes[i]}' is not in policy {policy.id} "
                    f"(its programmes: {', '.join(known)})",
                )
            )
        elif not pair_known[i]:
            problems.append(
                Problem(source, rows[i], f"programme '{programmes[i]}' has no level '{levels[i]}'")
            )
        if bad_year[i]:
            problems.append(
                Problem(source, rows[i], f"year {int(year_values[i])} is outside the years {years}")
            )
    if problems:
        return pairs, problems, pd.DataFrame()
    apps = applications.assign(candidate=position_of.loc[applications["candidate_id"]].to_numpy())
    if "year" not in apps.columns:
        apps["year"] = np.nan
    dated = apps[apps["year"].notna()].astype({"year": int}).assign(dated=True)
    undated = (
        apps[apps["year"].isna()]
        .drop(columns="year")
        .merge(pd.DataFrame({"year": years}), how="cross")
        .assign(dated=False)
    )
    apps = pd.concat([dated, undated], ignore_index=True)[
        ["candidate", "programme", "level", "year", "score", "dated"]
    ]
    joined = pairs.merge(apps, on=["candidate", "programme", "level"], how="inner")
    # Applications for which the candidate is not eligible are explained, not silently dropped.
    eligible = pairs[["candidate", "programme", "level"]].drop_duplicates()
    flagged = apps.merge(
        eligible, on=["candidate", "programme", "level"], how="left", indicator=True
    )
    rejected = flagged[flagged["_merge"] == "left_only"]
    rejected_frame = pd.DataFrame(
        {
            "candidate": rejected["candidate"],
            "programme": rejected["programme"],
            "level": rejected["level"],
            "reason": "applied but not eligible",
        }
    )
    return joined, [], rejected_frame


def reference_apply_history(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    policy: Policy,
    tier_amounts: dict[tuple[str, str], np.ndarray],
    held_at: object = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply designations already held: no repeats, and the upgrade rule's price (``held_at``,
    the column as build_problem read it, is ignored: each cell is read here).

    With stacking "highest" (就高不重复) a candidate already paid P in a matter (the largest
    amount of the titles it holds there) may be designated in that matter again only for an
    award above P, paid as ``decisions.upgrade_price`` says: the difference (top_up), the
    full amount (full), or not at all (none). History blocks by amount, not by government
    level: a holder of a 30万元 provincial title may still move up to a 300万元 one. With
    stacking "all" a candidate may not receive a title (programme and level) it holds.
    ``tier_amounts`` gives what each tier pays each candidate (bands per candidate).
    """
    pairs = pairs.copy()
    pairs["cost"] = pairs["amount"]
    if "held" not in candidates.columns or pairs.empty:
        return pairs, pd.DataFrame(columns=["candidate", "programme", "level", "reason"])
    matter_of = {p.id: p.stacking_matter for p in policy.programmes}
    held_by: dict[int, list[Held]] = {
        i: parse_held(v) for i, v in zip(candidates.index, candidates["held"], strict=True)
    }
    # What each candidate was paid in each matter: the largest tier amount it holds there.
    paid_in: dict[tuple[int, str], Decimal] = {}
    for position, (candidate, held) in enumerate(held_by.items()):
        for h in held:
            known = tier_amounts.get((h.programme, h.level))
            value = 0.0 if known is None or np.isnan(known[position]) else float(known[position])
            key = (candidate, matter_of.get(h.programme, h.programme))
            paid_in[key] = max(paid_in.get(key, Decimal(0)), Decimal(str(round(value, 4))))
    keep = np.ones(len(pairs), dtype=bool)
    costs = pairs["cost"].tolist()
    reasons: list[str | None] = [None] * len(pairs)
    for n, (candidate, programme, level, amount) in enumerate(
        zip(pairs["candidate"], pairs["programme"], pairs["level"], pairs["amount"], strict=True)
    ):
        held = held_by.get(candidate) or []
        if not held:
            continue
        if policy.stacking == "all":
            if any(h.programme == programme and h.level == level for h in held):
                keep[n], reasons[n] = False, f"already holds {programme} at {level}"
            continue
        matter = matter_of[programme]
        paid = paid_in.get((candidate, matter))
        if paid is None:
            continue
        price = upgrade_price(policy.upgrade, Decimal(amount), paid)
        if price is None:
            keep[n] = False
            reasons[n] = (
                f"already designated in matter '{matter}' (no upgrades)"
                if policy.upgrade == "none"
                else f"already paid {paid:f}万元 in matter '{matter}'; 就高不重复 pays only a "
                f"higher award (this one is {Decimal(amount):f}万元)"
            )
        else:
            costs[n] = price
    pairs["cost"] = costs
    dropped = (
        pairs.loc[~keep, ["candidate", "programme", "level"]]
        .assign(reason=[r for r, k in zip(reasons, keep, strict=True) if not k])
        .drop_duplicates(subset=["candidate", "programme", "level"])
    )
    return pairs[keep], dropped


class ReferenceColumns:
    """Columns of a table gathered block by block: scalars repeat over their block."""

    def __init__(self, names: list[str]):
        self.names = names
        self.blocks: dict[str, list[np.ndarray]] = {name: [] for name in names}
        self.rows = 0

    def add(self, **values: object) -> None:
        size = len(values[self.names[0]])  # the first column is always an array
        for name in self.names:
            value = values[name]
            if isinstance(value, np.ndarray):
                self.blocks[name].append(value)
            else:
                block = np.empty(size, dtype=object)
                block[:] = [value] * size
                self.blocks[name].append(block)
        self.rows += size

    def frame(self) -> pd.DataFrame:
        """One DataFrame; numeric columns get numeric dtypes."""
        data = {}
        for name in self.names:
            column = np.concatenate(self.blocks[name]) if self.blocks[name] else np.empty(0)
            data[name] = pd.Series(column).infer_objects()
        return pd.DataFrame(data)


def reference_upgrade_chains(
    pairs: pd.DataFrame,
    policy: Policy,
    tier_amounts: dict | None = None,
    tier_paid: dict | None = None,
) -> pd.DataFrame:
    """Every upgrade chain by the self-join, whatever the years; a first designation counted
    at what its tier pays in all (``tier_paid``: later payouts, cap), looked up row by row."""
    paid = None
    if tier_paid is not None:
        paid = np.array(
            [
                float(tier_paid[(p, lv)][c])
                if (p, lv) in tier_paid and tier_paid[(p, lv)] is not tier_amounts[(p, lv)]
                else float(a)
                for p, lv, c, a in zip(
                    pairs["programme"],
                    pairs["level"],
                    pairs["candidate"],
                    pairs["amount"],
                    strict=True,
                )
            ]
        )
    return plain_upgrade_chains(pairs, policy.upgrade, policy.stacking, paid)


def plain_upgrade_chains(
    options: pd.DataFrame, rule: str, stacking: str, paid: np.ndarray | None = None
) -> pd.DataFrame:
    """``decisions.upgrade_chains`` as a merge of the certain options with every option of
    the same candidate and matter, filtered (the code of commit 7c96430); ``paid``: what
    each option's award pays in all, where it is more than its amount."""
    empty = options.iloc[0:0].assign(from_key=pd.Series(dtype=int))
    if stacking != "highest" or rule == "none" or options.empty:
        return empty
    held = options["amount"].to_numpy(dtype=object).copy()
    if paid is not None:
        differs = paid != options["amount"].to_numpy(dtype=float)
        held[differs] = [Decimal(str(round(float(v), 4))) for v in paid[differs]]
    starts = options.assign(_paid=held)
    starts = starts[starts["probability"].to_numpy(dtype=float) >= 1.0]
    pairs = starts.merge(options, on=["candidate", "matter"], suffixes=("_a", ""))
    pairs = pairs[
        (pairs["year"].to_numpy() > pairs["year_a"].to_numpy())
        & (pairs["amount"].to_numpy(dtype=float) > pairs["_paid"].to_numpy(dtype=float))
        & ~pairs["forced"].to_numpy(dtype=bool)
    ]
    if pairs.empty:
        return empty
    amount_a = pairs["_paid"].to_numpy(dtype=object)
    amount_b = pairs["amount"].to_numpy(dtype=object)
    chains = pairs[list(options.columns)].copy()
    chains["cost"] = [upgrade_price(rule, b, a) for a, b in zip(amount_a, amount_b, strict=True)]
    chains["forced"] = False
    chains["from_key"] = pairs["key_a"].to_numpy()
    if "merit" in options.columns:
        chance_b = pairs["probability"].to_numpy(dtype=float)
        chains["merit"] = pairs["merit_a"].to_numpy(dtype=float) * (1 - chance_b) + pairs[
            "merit"
        ].to_numpy(dtype=float)
    return chains


def reference_settle_entitlements(
    pairs: pd.DataFrame, first_year: int, stacking: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``decisions.settle_entitlements`` with pandas' sort, set_index and reindex over every
    pair (the code of commit 7c96430).

    Entitlements as obligations: one option each, in its application year or (undated)
    the first year of the horizon, forced into every plan.

    With stacking "highest" a candidate entitled to several awards of one matter is paid the
    highest (ties: the earlier year, then the higher level, then the earlier programme); the
    others are set aside, and so is every other option of the candidate in that matter, but
    for upgrades from a certain entitlement (``upgrade_chains``). Returns the options and the
    set-aside rows (candidate, programme, level, reason).
    """
    pairs = pairs.copy()
    entitled = (pairs["decision"] == ENTITLEMENT).to_numpy()
    pairs["forced"] = entitled
    if not entitled.any():
        return pairs, _no_settled_reasons()
    # An undated entitlement stands in the first year only: it is owed once, not every year.
    undated = entitled & ~pairs["dated"].to_numpy(dtype=bool)
    pairs = pairs[~undated | (pairs["year"].to_numpy() == first_year)].reset_index(drop=True)
    if stacking != "highest":
        keys = ["candidate", "programme", "level"]
        ent = pairs[pairs["forced"]].sort_values(["year"], kind="stable")
        repeat = ent.duplicated(subset=keys, keep="first")
        dropped = ent[repeat]
        pairs = pairs.drop(index=dropped.index).reset_index(drop=True)
        return pairs, _settled_reasons(dropped, "entitled to it in an earlier year already")
    value = pairs["amount"].to_numpy(dtype=float)
    ent = (
        pairs.assign(_value=value)[pairs["forced"]]
        .sort_values(
            ["candidate", "matter", "_value", "year", "level_rank", "programme_order"],
            ascending=[True, True, False, True, True, True],
            kind="stable",
        )
        .drop(columns="_value")
    )
    kept = ent.drop_duplicates(subset=["candidate", "matter"], keep="first")
    owed = kept.set_index(["candidate", "matter"])
    key = pd.MultiIndex.from_frame(pairs[["candidate", "matter"]])
    in_owed_matter = key.isin(owed.index)
    keep = ~in_owed_matter | pairs.index.isin(kept.index)
    # Later, higher options stay as possible upgrades from a certain entitlement.
    if in_owed_matter.any():
        ref = owed.reindex(key)
        later_higher = (
            (pairs["year"].to_numpy() > ref["year"].to_numpy())
            & (value > ref["amount"].to_numpy(dtype=float))
            & (ref["probability"].to_numpy(dtype=float) >= 1.0)
            & ~pairs["forced"].to_numpy()
        )
        keep |= in_owed_matter & later_higher
    dropped = pairs[~keep]
    reason_of = {
        (c, m): f"就高不重复: entitled to {p} at {lv} in {y} in the same matter"
        for (c, m), p, lv, y in zip(
            owed.index, owed["programme"], owed["level"], owed["year"], strict=True
        )
    }
    reasons = [
        reason_of[(c, m)] for c, m in zip(dropped["candidate"], dropped["matter"], strict=True)
    ]
    set_aside = pd.DataFrame(
        {
            "candidate": dropped["candidate"].to_numpy(),
            "programme": dropped["programme"].to_numpy(),
            "level": dropped["level"].to_numpy(),
            "reason": reasons,
        }
    ).drop_duplicates(subset=["candidate", "programme", "level"])
    return pairs[keep].reset_index(drop=True), set_aside


def _settled_reasons(rows: pd.DataFrame, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "candidate": rows["candidate"].to_numpy(),
            "programme": rows["programme"].to_numpy(),
            "level": rows["level"].to_numpy(),
            "reason": reason,
        }
    )


def _no_settled_reasons() -> pd.DataFrame:
    return pd.DataFrame(columns=["candidate", "programme", "level", "reason"])
