"""The rules that shape the options: eligibility, applicants, bands, history, applications,
the quotas and balance rules in force, and the payments an award brings after its year.

Each function settles one kind of rule over the whole candidate table at once and says why
a candidate is ruled out; ``options.build_problem`` puts them together.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .candidates import parse_held, parse_held_cells
from .decisions import map_objects, upgrade_price
from .errors import Problem
from .expressions import parse_rule
from .gathered import GatheredColumns, _Codes, column_at, positions_in
from .policy import Balance, Policy
from .units import Level
from .wording import Note, Words, column_zh

# One row per payment of an option besides its own year's cost: later payouts, and an
# upgrade chain's first designation; ``chance`` that it is paid (cost × chance = expected);
# ``part`` 1 for the option's own designation, 0 for a chain's first one.
LATER_PAYMENT_COLUMNS = ["option", "year", "cost", "expected_cost", "chance", "part"]
# None (framed once: framing it each round was 0.2 ms; copied, as callers may add to it).
_NO_LATER_PAYMENTS = pd.DataFrame(columns=LATER_PAYMENT_COLUMNS)
# No pair ruled out (framed once, as above).
_NO_EXCLUSIONS = pd.DataFrame(columns=["candidate", "programme", "level", "reason"])


def running_for(programme, candidates: pd.DataFrame, words: Words) -> pd.Series | Note | None:
    """Who is in the running for ``programme``: None (everyone), a boolean Series, or, when
    the table lacks a column the applicants rule reads, a note saying the programme sits out."""
    if programme.applicants is None:
        return None
    rule = parse_rule(programme.applicants)
    missing = sorted(rule.columns - set(candidates.columns))
    if missing:
        return Note(
            f"{programme.id} ({programme.name}) takes no part: the candidate table has no "
            f"column {', '.join(missing)} (who is in the running: {programme.applicants})",
            f"{words.programme(programme.id)}不参与本次分配：候选名单没有"
            f"“{'、'.join(column_zh(c) for c in missing)}”一列"
            f"（申报范围：{words.rule_zh(programme.applicants)}）",
        )
    return rule.holds(candidates)


def band_amounts(
    award, candidates: pd.DataFrame, where: str, source: str, problems: list[Problem]
) -> pd.Series:
    """Each candidate's amount from the first band whose rule holds (None: no band applies)."""
    amount = pd.Series([None] * len(candidates), index=candidates.index, dtype=object)
    for j, band in enumerate(award.bands):
        rule = parse_rule(band.when)
        missing = sorted(rule.columns - set(candidates.columns))
        if missing:
            problems.append(
                Problem(
                    source,
                    f"{where}[{j}].when",
                    f"rule '{band.when}' needs column(s) {', '.join(missing)} "
                    "that the candidate table does not have",
                )
            )
            continue
        holds = rule.holds(candidates)
        amount = amount.where(amount.notna() | ~holds, band.amount)
    return amount


def count_held(candidates: pd.DataFrame, programmes: list[str] | None, levels) -> int:
    """Candidates already holding a designation in ``programmes`` at ``levels`` (None: any)."""
    if "held" not in candidates.columns:
        return 0
    level_values = None if levels is None else {lv.value for lv in levels}
    count = 0
    for value in candidates["held"]:
        if any(
            (programmes is None or h.programme in programmes)
            and (level_values is None or h.level in level_values)
            for h in parse_held(value)
        ):
            count += 1
    return count


def no_repeat_column(column: str) -> str:
    return f"_no_repeat_{column}"


def with_no_repeat_keys(policy: Policy, candidates: pd.DataFrame) -> pd.DataFrame:
    """Add, per ``no_repeat_by`` column, a key where a missing value is the candidate itself."""
    columns = {p.no_repeat_by for p in policy.programmes if p.no_repeat_by}
    columns = [c for c in sorted(columns) if c in candidates.columns]
    if not columns:
        return candidates
    candidates = candidates.copy()
    for column in columns:
        own = "candidate:" + candidates["id"].astype(str)
        values = candidates[column].astype(object)
        candidates[no_repeat_column(column)] = values.where(values.notna(), own).astype(str)
    return candidates


def rules_in_force(
    policy: Policy,
    candidates: pd.DataFrame,
    participating: list[str],
    years: list[int],
    notes: list[Note],
    problems: list[Problem],
) -> Policy:
    """The policy's quotas and balance rules as this allocation applies them.

    Dropped, with a note: quotas and balance rules over programmes that take no part, quotas
    whose years all fall outside the allocation's, and balance rules without a number. Adjusted: stock targets (``counts_held``) less the
    designations already held. Added: a count of one per value of each programme's
    ``no_repeat_by`` column over the horizon (同一产品不重复奖励), as a balance rule.
    """
    taking_part = set(participating)
    words = Words.of(policy)
    quotas = []
    for q, quota in enumerate(policy.quotas):
        label, label_zh = quota.label(q), words.quota_zh(quota, q)
        if quota.programmes is not None and not taking_part & set(quota.programmes):
            notes.append(
                Note(
                    f"{label} is not applied: none of its programmes takes part",
                    f"{label_zh}不适用：所涉项目均不参与本次分配",
                )
            )
            continue
        if quota.years is not None and not set(quota.years) & set(years):
            notes.append(
                Note(
                    f"{label} is not applied: its years {quota.years} are not allocated",
                    f"{label_zh}不适用：其年份（{'、'.join(f'{y}年' for y in quota.years)}）"
                    "不在本次分配之内",
                )
            )
            continue
        if quota.counts_held and quota.min:
            held = count_held(candidates, quota.programmes, quota.levels)
            if held:
                notes.append(
                    Note(
                        f"{label}: {held} already held count toward the minimum {quota.min}",
                        f"{label_zh}：已获认定的{held}个计入最低{quota.min}个",
                    )
                )
                quota = quota.model_copy(update={"min": max(0, quota.min - held)})
        quotas.append(quota)
    balance = []
    for b, rule in enumerate(policy.balance):
        by_zh = column_zh(rule.by)
        if rule.programmes is not None and not taking_part & set(rule.programmes):
            notes.append(
                Note(
                    f"balance[{b}] by {rule.by} is not applied: none of its programmes takes part",
                    f"按{by_zh}的均衡要求（第{b + 1}项）不适用：所涉项目均不参与本次分配",
                )
            )
            continue
        if not rule.quantified:
            notes.append(
                Note(
                    f"balance[{b}] by {rule.by} is recorded, not enforced: the document gives no "
                    "number (set max_share or max_count in a copy of the policy to enforce it)",
                    f"按{by_zh}的均衡要求（第{b + 1}项）只作记录、不作约束：文件没有给出数字"
                    "（如需约束，请在政策文件副本中设定 max_share 或 max_count）",
                )
            )
            continue
        if rule.by not in candidates.columns:
            problems.append(
                Problem(
                    policy.id,
                    f"balance[{b}].by",
                    f"column '{rule.by}' is not in the candidate table",
                )
            )
            continue
        balance.append(rule)
    for programme in policy.programmes:
        column = programme.no_repeat_by
        if column is None or programme.id not in taking_part:
            continue
        if column not in candidates.columns:
            notes.append(
                Note(
                    f"{programme.id}: the candidate table has no column '{column}', so each "
                    f"candidate counts as its own {column}",
                    f"{words.programme(programme.id)}：候选名单没有“{column_zh(column)}”一列，"
                    f"每个候选按各自的{column_zh(column)}计",
                )
            )
            continue
        balance.append(
            Balance(
                by=no_repeat_column(column),
                max_count=1,
                programmes=[programme.id],
                per="horizon",
                reference=programme.reference,
                note=f"no_repeat_by = {column}: the same {column} is rewarded at most once",
            )
        )
    return policy.model_copy(update={"quotas": quotas, "balance": balance})


def money_value(value: object) -> Decimal:
    """A candidate's money cell as an exact Decimal; missing or negative counts as nothing."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return Decimal(0)
    amount = Decimal(str(round(float(value), 4)))
    return max(amount, Decimal(0))


def later_payments(policy: Policy, candidates: pd.DataFrame, options: pd.DataFrame) -> pd.DataFrame:
    """Payments besides each option's own-year cost, one row per (option, year, chance),
    columns LATER_PAYMENT_COLUMNS; cost exact (Decimal), expected_cost = cost × chance:

    - the policy's later payouts of the option's tier, paid with the option's chance: a
      fixed amount, or share × a candidate column (万元 a year); a missing or negative
      column value pays nothing (no increase over the base, no rebate);
    - for an upgrade chain (``from_option`` ≥ 0, ``decisions.upgrade_chains``), the first
      designation's own cost and payouts, certain (chance 1), in their years.
    """
    frames: list[pd.DataFrame] = []
    chance = options["probability"].to_numpy(dtype=float)
    for programme in policy.programmes:
        for award in programme.levels:
            if not award.payouts:
                continue
            at = np.flatnonzero(
                (options["programme"] == programme.id).to_numpy()
                & (options["level"] == award.level.value).to_numpy()
            )
            if len(at) == 0:
                continue
            chosen = options.iloc[at]
            for payout in award.payouts:
                if payout.amount is not None:
                    costs = [payout.amount] * len(chosen)
                else:
                    share = Decimal(str(payout.share))
                    values = candidates[payout.of].to_numpy()[chosen["candidate"].to_numpy()]
                    costs = [share * money_value(v) for v in values]
                for k in payout.years_after:
                    frames.append(
                        pd.DataFrame(
                            {
                                "option": at,
                                "year": chosen["year"].to_numpy() + k,
                                "cost": costs,
                                "chance": chance[at],
                                "part": 1,
                            }
                        )
                    )
    payouts = pd.concat(frames, ignore_index=True) if frames else None
    origin = options["from_option"].to_numpy()
    chains = np.flatnonzero(origin >= 0)
    if len(chains):
        first = origin[chains]
        frames.append(
            pd.DataFrame(
                {
                    "option": chains,
                    "year": options["year"].to_numpy()[first],
                    "cost": options["cost"].to_numpy()[first],
                    "chance": 1.0,
                    "part": 0,
                }
            )
        )
        if payouts is not None:
            # Each chain inherits its first designation's payouts, certain: one merge.
            owner = pd.DataFrame({"origin": first, "chain": chains})
            inherited = payouts.merge(owner, left_on="option", right_on="origin")
            frames.append(
                inherited.drop(columns=["option", "origin"])
                .rename(columns={"chain": "option"})
                .assign(chance=1.0, part=0)[list(payouts.columns)]
            )
    if not frames:
        return _NO_LATER_PAYMENTS.copy()
    payments = pd.concat(frames, ignore_index=True)
    # float(cost) once per distinct cost object, not per row (26 ms of 105,000 chains).
    cost = map_objects(float, payments["cost"].to_numpy(dtype=object)).astype(float)
    payments["expected_cost"] = cost * payments["chance"].to_numpy(dtype=float)
    single = _single_payments(payments)
    if single is not None:
        return single
    payments = payments.groupby(
        ["option", "year", "chance", "part"], as_index=False, sort=True
    ).agg(cost=("cost", "sum"), expected_cost=("expected_cost", "sum"))
    return payments[LATER_PAYMENT_COLUMNS]


def _single_payments(payments: pd.DataFrame) -> pd.DataFrame | None:
    """What ``later_payments``' groupby-sum gives when every (option, year, chance, part)
    is one row and nothing is missing (upgrade chains without payouts: 20 of 30 ms at
    10,000 candidates): the rows in the order of their keys, each cost the row's own
    object, each expected cost the row's plus 0.0 (as the sum starts from 0.0: -0.0 becomes
    0.0). None otherwise."""
    keys = [payments[k].to_numpy() for k in ("option", "year", "chance", "part")]
    expected = payments["expected_cost"].to_numpy(dtype=float)
    if (
        any(k.dtype.kind not in "iuf" or np.isnan(k.astype(float)).any() for k in keys)
        or np.isnan(expected).any()
        or pd.isna(payments["cost"].to_numpy()).any()
    ):
        return None
    order = np.lexsort(keys[::-1])
    ordered = [k[order] for k in keys]
    repeated = np.ones(max(len(order) - 1, 0), dtype=bool)
    for k in ordered:
        repeated &= k[1:] == k[:-1]
    if repeated.any():
        return None
    single = payments.take(order).reset_index(drop=True)
    single["expected_cost"] = expected[order] + 0.0
    return single[LATER_PAYMENT_COLUMNS]


def join_applications(
    pairs: pd.DataFrame | GatheredColumns,
    candidates: pd.DataFrame,
    applications: pd.DataFrame,
    policy: Policy,
    years: list[int],
) -> tuple[pd.DataFrame, list[Problem], pd.DataFrame]:
    """The pairs a candidate applied for, one row per application and year (an undated
    application stands in every year), with the application's score and year; the
    problems of the applications table (unknown candidates, programmes, levels, years);
    and the applications for pairs the candidate is not eligible for, with that reason.

    The joined rows keep the pairs' order, and within a pair the applications'. The pairs
    may come as gathered columns: only the joined rows are then framed."""
    source = applications.attrs.get("source", "applications")
    problems: list[Problem] = []
    # Checked column by column (the simulation builds an applications table every round);
    # the problems come out in row order, as a per-row loop would give them.
    ids = applications["candidate_id"]
    candidate_ids = pd.Index(candidates["id"])
    if candidate_ids.is_unique:
        # One hash lookup gives both the unknown ids and every applicant's row.
        position = positions_in(candidate_ids, ids)
        unknown_candidate = position < 0
    else:  # refused below, as the lookup by id would be
        position = None
        unknown_candidate = ~ids.isin(candidate_ids).to_numpy(dtype=bool)
    # The tier columns factorised once: for the check of the tiers and for the join.
    programme_codes = _Codes(applications["programme"])
    level_codes = _Codes(applications["level"])
    unknown_programme, pair_known = _known_tiers(applications, policy, programme_codes, level_codes)
    if "year" in applications.columns:
        year_values = applications["year"].to_numpy(dtype=float)
        bad_year = ~np.isnan(year_values) & ~np.isin(year_values, years)
    else:
        year_values = np.full(len(applications), np.nan)
        bad_year = np.zeros(len(applications), dtype=bool)
    flagged = unknown_candidate | unknown_programme | ~pair_known | bad_year
    if flagged.any():
        ids_at, rows = ids.to_numpy(), applications["row"].to_numpy()
        programmes = applications["programme"].to_numpy()
        levels = applications["level"].to_numpy()
    for i in np.flatnonzero(flagged):
        if unknown_candidate[i]:
            problems.append(
                Problem(
                    source, rows[i], f"candidate_id '{ids_at[i]}' is not in the candidate table"
                )
            )
        if unknown_programme[i]:
            problems.append(
                Problem(
                    source, rows[i], f"programme '{programmes[i]}' is not in policy {policy.id}"
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
        framed = pairs.frame() if isinstance(pairs, GatheredColumns) else pairs
        return framed, problems, pd.DataFrame()
    if position is None:
        position_of = pd.Series(candidates.index, index=candidates["id"])
        candidate = position_of.loc[applications["candidate_id"]].to_numpy()
    else:
        candidate = np.asarray(candidates.index)[position]
    columns = ["candidate", "programme", "level", "year", "score", "dated"]
    has_year = ~np.isnan(year_values)
    if has_year.all() and "year" in applications.columns:
        # A simulated round's: every application dated (no cross join).
        # Framed once from the columns kept: the frame's assign, selection and reset were
        # 0.6 of a round's 6 ms.
        index = pd.RangeIndex(len(applications))
        apps = pd.DataFrame(
            {
                "candidate": candidate,
                "programme": column_at(applications["programme"], None, index),
                "level": column_at(applications["level"], None, index),
                "year": applications["year"].astype(int).to_numpy(),
                "score": column_at(applications["score"], None, index),
                "dated": True,
            },
            index=index,
            copy=False,
        )
        source_rows = np.arange(len(applications))
    else:
        apps = applications.assign(candidate=candidate)
        if "year" not in apps.columns:
            apps["year"] = np.nan
        dated = apps[has_year].astype({"year": int}).assign(dated=True)
        undated = (
            apps[~has_year]
            .drop(columns="year")
            .merge(pd.DataFrame({"year": years}), how="cross")
            .assign(dated=False)
        )
        apps = pd.concat([dated, undated], ignore_index=True)[columns]
        # The application each row comes from: the dated ones, then each undated one for
        # every year (the cross merge's order).
        source_rows = np.concatenate(
            [np.flatnonzero(has_year), np.repeat(np.flatnonzero(~has_year), len(years))]
        )
    # An applicant's code: its row in the candidate table, looked up by the row's label.
    candidate_codes = (
        _Codes(apps["candidate"])
        if position is None
        else _Codes(None, position, candidates.index).at(source_rows)
    )
    app_codes = [
        candidate_codes,
        programme_codes.at(source_rows),
        level_codes.at(source_rows),
    ]
    keys = ["candidate", "programme", "level"]
    joined, eligible = _inner_join(pairs, apps, keys, app_codes)
    # Applications for which the candidate is not eligible are explained, not silently dropped.
    rejected = np.flatnonzero(~eligible)
    if len(rejected) == 0:  # (framing no rows was 0.4 ms a round)
        return joined, [], _NO_EXCLUSIONS.copy()
    index = pd.Index(rejected)
    rejected_frame = pd.DataFrame(
        {key: column_at(apps[key], rejected, index) for key in keys},
        index=index,
        copy=False,
    ).assign(reason="applied but not eligible")
    return joined, [], rejected_frame


def _known_tiers(
    applications: pd.DataFrame, policy: Policy, programme_codes: _Codes, level_codes: _Codes
) -> tuple[np.ndarray, np.ndarray]:
    """Per application, whether its programme is none of the policy's, and whether its
    (programme, level) is a tier of the policy: by position in the policy's programmes and
    the levels, not by a tuple per row (``*_codes``: the two columns factorised)."""
    # Plain lists, not Indexes: few values, looked up by _Codes (0.3 → 0.1 ms a round).
    programmes = list(policy.programme_ids)
    levels = [level.value for level in Level]
    if len(set(programmes)) < len(programmes):  # a policy file refuses this; be exact anyway
        known = {(p.id, lv.level.value) for p in policy.programmes for lv in p.levels}
        pairs = zip(applications["programme"].tolist(), applications["level"].tolist(), strict=True)
        unknown = ~applications["programme"].isin(programmes).to_numpy(dtype=bool)
        return unknown, np.array([pair in known for pair in pairs], dtype=bool)
    tier = np.zeros((len(programmes) + 1, len(levels) + 1), dtype=bool)  # last: none (-1)
    for p, programme in enumerate(policy.programmes):
        for award in programme.levels:
            tier[p, levels.index(award.level.value)] = True
    p = programme_codes.positions_in(np.array(programmes, dtype=object))
    return p < 0, tier[p, level_codes.positions_in(np.array(levels, dtype=object))]


def _inner_join(
    pairs: pd.DataFrame | GatheredColumns,
    apps: pd.DataFrame,
    keys: list[str],
    app_codes: list[_Codes],
) -> tuple[pd.DataFrame, np.ndarray]:
    """``pairs.merge(apps, on=keys)`` (pairs' columns, then the others of ``apps``; rows in
    the pairs' order, then the applications'), and which application found its pair.

    Each pair appears once in ``pairs`` (one per candidate and tier), so every application
    finds at most one: one hash lookup and a stable sort instead of two merges (a tenth of
    a second at 130,000 applications). Pandas' merges where a key repeats. ``app_codes``:
    the applications' key columns factorised."""
    pair_key, app_key = _join_codes(pairs, app_codes, keys) if len(pairs) else (None, None)
    pair_keys = pd.Index(pair_key) if pair_key is not None else None
    if pair_keys is None or not pair_keys.is_unique:
        if isinstance(pairs, GatheredColumns):
            pairs = pairs.frame()
        joined = pairs.merge(apps, on=keys, how="inner")
        flagged = apps.merge(pairs[keys].drop_duplicates(), on=keys, how="left", indicator=True)
        return joined, (flagged["_merge"] == "both").to_numpy()
    match = pair_keys.get_indexer(app_key)
    order = np.argsort(match, kind="stable")
    order = order[match[order] >= 0]
    # Framed once from the columns taken: the frames' takes and a setitem per application
    # column were 1.5 of a round's 6 ms.
    rows = match[order]
    index = pd.RangeIndex(len(rows))
    if isinstance(pairs, GatheredColumns):
        columns = pairs.columns_at(rows, index)
    else:
        columns = {column: column_at(pairs[column], rows, index) for column in pairs.columns}
    for column in apps.columns:
        if column not in keys:
            columns[column] = column_at(apps[column], order, index)
    return pd.DataFrame(columns, index=index, copy=False), match >= 0


def _join_codes(
    pairs: pd.DataFrame | GatheredColumns, app_codes: list[_Codes], keys: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """One integer per row of ``pairs`` and of ``apps`` for its values of ``keys``: equal
    where the values are equal, and -1 for an application whose values no pair has. Each
    key is numbered by the pairs' distinct values: cheaper than a MultiIndex of the text
    columns (2.5 of a simulated round's 9 ms join)."""
    pair_key = np.zeros(len(pairs), dtype=np.int64)
    size = len(app_codes[0].codes)
    app_key = np.zeros(size, dtype=np.int64)
    missing = np.zeros(size, dtype=bool)
    for key, app_code in zip(keys, app_codes, strict=True):
        if isinstance(pairs, GatheredColumns):  # by the blocks' values: no texts hashed
            pair_code = pairs.codes(key)
            codes, distinct = pair_code.codes, pair_code.distinct
        else:
            codes, distinct = pd.factorize(pairs[key], use_na_sentinel=False)
        found = app_code.positions_in(distinct)
        pair_key = pair_key * len(distinct) + codes
        app_key = app_key * len(distinct) + found
        missing |= found < 0
    app_key[missing] = -1
    return pair_key, app_key


_HISTORY = ["candidate", "programme", "level", "amount"]  # the columns history reads


def apply_history(
    pairs: pd.DataFrame,
    candidates: pd.DataFrame,
    policy: Policy,
    tier_amounts: dict[tuple[str, str], np.ndarray],
    held_at: list | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Apply designations already held: no repeats, and the upgrade rule's price.

    With stacking "highest" (就高不重复) a candidate already paid P in a matter (the largest
    amount of the titles it holds there) may be designated in that matter again only for an
    award above P, paid as ``decisions.upgrade_price`` says: the difference (top_up), the
    full amount (full), or not at all (none). History blocks by amount, not by government
    level: a holder of a 30万元 provincial title may still move up to a 300万元 one. With
    stacking "all" a candidate may not receive a title (programme and level) it holds.
    ``tier_amounts`` gives what each tier pays each candidate (bands per candidate);
    ``held_at`` the held column read (``parse_held_cells``), when the caller has it.
    """
    if "held" not in candidates.columns or pairs.empty:
        pairs = pairs.copy()
        pairs["cost"] = pairs["amount"]
        return pairs, _NO_EXCLUSIONS.copy()
    matter_of = {p.id: p.stacking_matter for p in policy.programmes}
    if held_at is None:
        held_at = parse_held_cells(candidates["held"])
    # Only pairs of candidates holding something are touched: few, in a simulated round
    # (the rest keep their amount as cost, whatever the rules).
    holder_at = np.flatnonzero([bool(held) for held in held_at])
    keep = np.ones(len(pairs), dtype=bool)
    costs = pairs["amount"].tolist()
    reasons: dict[int, str] = {}  # by row, of the pairs ruled out
    if len(holder_at):
        # What each holder was paid in each matter: the largest tier amount it holds there.
        # Plain floats and each distinct value's Decimal made once: the per-title numpy
        # scalars, isnan and Decimal were 2.4 of a late simulated round's 3.6 ms here.
        paid_in: dict[tuple[int, str], Decimal] = {}
        decimal_of: dict[float, Decimal] = {}
        zero = Decimal(0)
        for position, candidate in zip(
            holder_at.tolist(), candidates.index[holder_at].tolist(), strict=True
        ):
            for h in held_at[position]:
                known = tier_amounts.get((h.programme, h.level))
                value = 0.0 if known is None else float(known[position])
                if value != value:  # NaN: nothing known
                    value = 0.0
                paid = decimal_of.get(value)
                if paid is None:  # 0.0 and -0.0 share one: neither is above the zero start
                    paid = decimal_of[value] = Decimal(str(round(value, 4)))
                key = (candidate, matter_of.get(h.programme, h.programme))
                paid_in[key] = max(paid_in.get(key, zero), paid)
        position_of = candidates.index.get_indexer(pairs["candidate"].to_numpy())
        holds = np.zeros(len(candidates) + 1, dtype=bool)  # the last: not a candidate (-1)
        holds[holder_at] = True
        rows = np.flatnonzero(holds[position_of])
        stacking_all = policy.stacking == "all"
        # A price per distinct (amount, paid) pair of objects (by identity: Decimal("30")
        # and Decimal("30.0") are equal but price differently); the objects stay alive in
        # the lists and paid_in while the loop runs. Thousands of rows a late round.
        price_of: dict[tuple[int, int], Decimal | None] = {}
        # The touched rows' columns taken one by one: the frame's take was 0.3 ms a round.
        for n, at, candidate, programme, level, amount in zip(
            rows.tolist(),
            position_of[rows].tolist(),
            *(column_at(pairs[c], rows, pd.RangeIndex(len(rows))).tolist() for c in _HISTORY),
            strict=True,
        ):
            if stacking_all:
                if any(h.programme == programme and h.level == level for h in held_at[at]):
                    keep[n], reasons[n] = False, f"already holds {programme} at {level}"
                continue
            matter = matter_of[programme]
            paid = paid_in.get((candidate, matter))
            if paid is None:
                continue
            key = (id(amount), id(paid))
            if key in price_of:
                price = price_of[key]
            else:
                price = price_of[key] = upgrade_price(policy.upgrade, Decimal(amount), paid)
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
    # One assign: no copy of the frame first, and the list typed as a setitem types it.
    pairs = pairs.assign(cost=costs)
    out = np.flatnonzero(~keep)
    if len(out) == 0:  # as when nothing is held (framing no rows was 0.4 ms a round)
        return pairs, _NO_EXCLUSIONS.copy()
    index = pairs.index[out]
    keys = ["candidate", "programme", "level"]
    dropped = pd.DataFrame(
        {key: column_at(pairs[key], out, index) for key in keys}, index=index, copy=False
    ).assign(reason=[reasons[n] for n in out.tolist()])
    # Only a title refused in several years repeats: pandas' drop_duplicates only then.
    if len(set(zip(*(dropped[key].tolist() for key in keys), strict=True))) < len(dropped):
        dropped = dropped.drop_duplicates(subset=keys)
    return (pairs if keep.all() else pairs[keep]), dropped
