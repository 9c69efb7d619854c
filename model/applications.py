"""An applications table checked and joined to the pairs: who applied for which tier, when."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import Problem
from .gathered import GatheredColumns, _Codes, column_at, positions_in
from .option_rules import _NO_EXCLUSIONS
from .policy import Policy
from .units import Level

# The reason an application the candidate is not eligible for is set aside with (the
# explanations find an applicant's own applications by it).
APPLIED_NOT_ELIGIBLE = "applied but not eligible"


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
    checked = _Checked(applications, candidates, policy, years)
    problems = checked.problems()
    position, programme_codes, level_codes = (
        checked.position,
        checked.programme_codes,
        checked.level_codes,
    )
    year_values = checked.year_values
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
    ).assign(reason=APPLIED_NOT_ELIGIBLE)
    return joined, [], rejected_frame


def application_problems(
    applications: pd.DataFrame, candidates: pd.DataFrame, policy: Policy, years: list[int]
) -> list[Problem]:
    """The problems of ``applications`` against the candidate table and the policy, in row
    order: an unknown candidate, programme or level, a year outside ``years``
    (``join_applications`` refuses the table on them)."""
    return _Checked(applications, candidates, policy, years).problems()


class _Checked:
    """An applications table checked against the candidates and the policy, column by
    column (the simulation builds an applications table every round), with what the join
    reuses: each applicant's position among the candidates and the tier columns factorised."""

    def __init__(
        self,
        applications: pd.DataFrame,
        candidates: pd.DataFrame,
        policy: Policy,
        years: list[int],
    ):
        self.applications = applications
        self.policy = policy
        self.years = years
        ids = applications["candidate_id"]
        candidate_ids = pd.Index(candidates["id"])
        self.candidate_ids = candidate_ids
        self.position: np.ndarray | None
        if candidate_ids.is_unique:
            # One hash lookup gives both the unknown ids and every applicant's row.
            self.position = positions_in(candidate_ids, ids)
            self.unknown_candidate = self.position < 0
        else:  # refused elsewhere, as the lookup by id would be
            self.position = None
            self.unknown_candidate = ~ids.isin(candidate_ids).to_numpy(dtype=bool)
        # The tier columns factorised once: for the check of the tiers and for the join.
        self.programme_codes = _Codes(applications["programme"])
        self.level_codes = _Codes(applications["level"])
        self.unknown_programme, self.pair_known = _known_tiers(
            applications, policy, self.programme_codes, self.level_codes
        )
        if "year" in applications.columns:
            self.year_values = applications["year"].to_numpy(dtype=float)
            self.bad_year = ~np.isnan(self.year_values) & ~np.isin(self.year_values, years)
        else:
            self.year_values = np.full(len(applications), np.nan)
            self.bad_year = np.zeros(len(applications), dtype=bool)

    def problems(self) -> list[Problem]:
        """A problem per unknown candidate, programme or level and year out of range, in
        row order (each row's in that order), as a per-row loop would give them."""
        applications = self.applications
        source = applications.attrs.get("source", "applications")
        flagged = self.unknown_candidate | self.unknown_programme | ~self.pair_known | self.bad_year
        problems: list[Problem] = []
        if not flagged.any():
            return problems
        ids_at, rows = applications["candidate_id"].to_numpy(), applications["row"].to_numpy()
        programmes = applications["programme"].to_numpy()
        levels = applications["level"].to_numpy()
        near = _near_ids(self.candidate_ids) if self.unknown_candidate.any() else {}
        for i in np.flatnonzero(flagged):
            if self.unknown_candidate[i]:
                like = near.get(_loose_id(ids_at[i]))
                hint, hint_zh = (
                    (
                        f" (the candidate table has '{like}': a spreadsheet may have dropped "
                        "leading zeros or changed letter case; store ids as text)",
                        f"（候选名单中有“{like}”：表格软件可能去掉了前导零或改了大小写，"
                        "请把编号存为文本）",
                    )
                    if like is not None
                    else ("", "")
                )
                problems.append(
                    Problem(
                        source,
                        rows[i],
                        f"candidate_id '{ids_at[i]}' is not in the candidate table{hint}",
                        f"候选“{ids_at[i]}”不在候选名单中{hint_zh}" if hint else "",
                    )
                )
            if self.unknown_programme[i]:
                # The known ones listed, as a quota's message lists them (review 23).
                known = [
                    f"{p.id} ({p.name})" if p.name and p.name != p.id else p.id
                    for p in self.policy.programmes
                ]
                known_zh = [p.name or p.id for p in self.policy.programmes]
                problems.append(
                    Problem(
                        source,
                        rows[i],
                        f"programme '{programmes[i]}' is not in policy {self.policy.id} "
                        f"(its programmes: {', '.join(known)})",
                        f"项目“{programmes[i]}”不在政策 {self.policy.id} 中"
                        f"（可用：{'、'.join(known_zh)}，或其编号）",
                    )
                )
            elif not self.pair_known[i]:
                problems.append(
                    Problem(
                        source, rows[i], f"programme '{programmes[i]}' has no level '{levels[i]}'"
                    )
                )
            if self.bad_year[i]:
                problems.append(
                    Problem(
                        source,
                        rows[i],
                        f"year {int(self.year_values[i])} is outside the years {self.years}",
                    )
                )
        return problems


def _loose_id(value: object) -> str:
    """An id as a spreadsheet might have turned it: letters in one case, leading zeros
    gone (00123 stored as the number 123)."""
    text = str(value).strip().casefold()
    return text.lstrip("0") or ("0" if text else text)


def _near_ids(ids: pd.Index) -> dict[str, str]:
    """Each candidate id by its loose form (``_loose_id``), where only one id has it."""
    seen: dict[str, list[str]] = {}
    for value in ids.astype(str).tolist():
        seen.setdefault(_loose_id(value), []).append(value)
    return {loose: found[0] for loose, found in seen.items() if len(found) == 1}


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
