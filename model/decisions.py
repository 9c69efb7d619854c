"""Who decides each award and what the deciding government owes: decision kinds, conferral
chances, entitlements as obligations, and upgrades priced by the policy's ``upgrade`` rule.

Three kinds of decision (docs/policy-format.md, "Decisions"):

- **discretionary**: the deciding government designates; certain once decided;
- **nomination**: it recommends, a higher government confers with the scenario's chance for
  that level, and it pays on conferral;
- **entitlement**: every eligible applicant in the running is paid; the deciding government
  cannot decline. Conferred by a higher government, it is paid with that level's chance.

就高不重复 (stacking "highest") pays one award per candidate and matter: the highest. A
holder may be designated again in the matter only for a higher amount (history blocks by
amount, not by government level), priced by ``upgrade``: the difference (top_up), the full
amount (full), or not at all (none). The same pricing serves designations held before the
horizon (``option_rules.apply_history``), upgrades inside the horizon (``upgrade_chains``) and
the simulation's later rounds.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from .errors import Problem
from .policy import Policy
from .settings import AllocationSettings
from .units import Level
from .wording import DECISION_KIND_ZH

DISCRETIONARY, NOMINATION, ENTITLEMENT = "discretionary", "nomination", "entitlement"
NO_ORIGIN = -1  # from_option of an option that is not an upgrade chain


def upgrade_price(rule: str, amount: Decimal, paid: Decimal) -> Decimal | None:
    """What an award of ``amount`` costs a holder already paid ``paid`` in its matter
    (就高不重复): None where the rule allows no new award (not higher, or ``none``)."""
    if amount <= paid or rule == "none":
        return None
    return amount - paid if rule == "top_up" else amount


def upgrade_prices(rule: str, amounts: np.ndarray, paid: np.ndarray) -> np.ndarray:
    """``upgrade_price`` over arrays of floats; NaN where no new award is allowed."""
    allowed = (amounts > paid + 1e-9) & (rule != "none")
    price = amounts - paid if rule == "top_up" else amounts
    return np.where(allowed, price, np.nan)


def level_terms(
    policy: Policy, settings: AllocationSettings
) -> dict[tuple[str, str], tuple[str, float | None]]:
    """(programme, level) -> (decision kind, chance it is paid once decided) for every tier;
    the chance is None where the scenario gives none for a tier conferred above the deciding
    government (``missing_chances`` reports those that matter)."""
    terms: dict[tuple[str, str], tuple[str, float | None]] = {}
    for programme in policy.programmes:
        for award in programme.levels:
            kind = policy.decision(programme, award)
            chance = settings.chance(award.conferrer) if policy.confers_above(award) else 1.0
            terms[(programme.id, award.level.value)] = (kind, chance)
    return terms


def missing_chances(
    pairs: pd.DataFrame, terms: dict[tuple[str, str], tuple[str, float | None]]
) -> list[Problem]:
    """A problem per conferring level with candidates but no chance: the plan's risk and its
    expected cost depend on it, and no document states one, so it is never assumed."""
    if pairs.empty or all(chance is not None for _, chance in terms.values()):
        return []  # every tier has its chance: the pairs need not be read
    needed: dict[str, list[str]] = {}
    named_zh: dict[str, list[str]] = {}  # the same, in the words of the Chinese sentence
    for programme, level in pairs[["programme", "level"]].drop_duplicates().itertuples(index=False):
        kind, chance = terms[(programme, level)]
        if chance is None:
            needed.setdefault(level, []).append(f"{programme} ({kind})")
            named_zh.setdefault(level, []).append(
                f"“{programme}”（{DECISION_KIND_ZH.get(kind, kind)}）"
            )
    return [
        Problem(
            "settings",
            f"success_probability.{level}",
            f"{', '.join(sorted(names))} at {level} is conferred by a higher government and "
            f"needs the chance that it is conferred: set allocation.success_probability."
            f"{level} in the scenario, or --chance {level}=P (a number in [0, 1])",
            f"{'、'.join(sorted(named_zh[level]))}的{Level(level).chinese}由上级政府认定，"
            "需要给出获得认定的概率：请在情景中设置 allocation.success_probability."
            f"{level}，或用 --chance {level}=P（0 到 1 之间的数）",
        )
        for level, names in sorted(needed.items())
    ]


def settle_entitlements(
    pairs: pd.DataFrame, first_year: int, stacking: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entitlements as obligations: one option each, in its application year or (undated)
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
        return pairs, _no_reasons()
    # An undated entitlement stands in the first year only: it is owed once, not every year.
    undated = entitled & ~pairs["dated"].to_numpy(dtype=bool)
    if undated.any():
        pairs = pairs[~undated | (pairs["year"].to_numpy() == first_year)]
    pairs = pairs.reset_index(drop=True)
    if stacking != "highest":
        keys = ["candidate", "programme", "level"]
        ent = pairs[pairs["forced"]].sort_values(["year"], kind="stable")
        repeat = ent.duplicated(subset=keys, keep="first")
        dropped = ent[repeat]
        pairs = pairs.drop(index=dropped.index).reset_index(drop=True)
        return pairs, _reasons(dropped, "entitled to it in an earlier year already")
    # Only the pairs of candidates with an entitlement are read (a few of a simulated round's
    # thousands): a matter key and a lookup over every pair was 6 of its 34 ms.
    forced = pairs["forced"].to_numpy()
    candidate = pairs["candidate"].to_numpy()
    rows = np.flatnonzero(pd.Index(candidate).isin(pd.unique(candidate[forced])))
    keep = np.ones(len(pairs), dtype=bool)
    keep[rows], set_aside = _highest_entitlements(pairs.iloc[rows])
    return (pairs if keep.all() else pairs[keep].reset_index(drop=True)), set_aside


def _highest_entitlements(pairs: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """``settle_entitlements`` under stacking "highest" of the pairs of candidates with an
    entitlement (few): which pairs stay, and the set-aside rows.

    Read row by row in plain Python: pandas' sort, set_index, MultiIndex and reindex on a
    frame of a few dozen rows cost 7 ms a simulated round. The entitlement paid in each
    (candidate, matter) is the first in the order of a stable sort by candidate, matter,
    amount (highest first, a missing one last), year, level rank and programme order."""
    candidate = pairs["candidate"].tolist()
    matter = pairs["matter"].tolist()
    value = pairs["amount"].to_numpy(dtype=float)
    year = pairs["year"].tolist()
    rank = pairs["level_rank"].tolist()
    order = pairs["programme_order"].tolist()
    forced = pairs["forced"].to_numpy(dtype=bool)
    chance = pairs["probability"].to_numpy(dtype=float)
    programme = pairs["programme"].tolist()
    level = pairs["level"].tolist()

    def sort_key(i: int) -> tuple:
        missing = bool(np.isnan(value[i]))
        return (
            candidate[i],
            matter[i],
            missing,
            0.0 if missing else -value[i],
            year[i],
            rank[i],
            order[i],
        )

    owed: dict[tuple[int, str], int] = {}  # (candidate, matter) -> the entitlement paid
    for i in sorted(np.flatnonzero(forced).tolist(), key=sort_key):
        owed.setdefault((candidate[i], matter[i]), i)
    paid = set(owed.values())
    keep = np.ones(len(pairs), dtype=bool)
    reasons = []
    for i in range(len(pairs)):
        j = owed.get((candidate[i], matter[i]))
        if j is None or i in paid:
            continue
        # Later, higher options stay as possible upgrades from a certain entitlement.
        if year[i] > year[j] and value[i] > value[j] and chance[j] >= 1.0 and not forced[i]:
            continue
        keep[i] = False
        reasons.append(
            f"就高不重复: entitled to {programme[j]} at {level[j]} in {year[j]} in the same matter"
        )
    dropped = ~keep
    set_aside = pd.DataFrame(
        {
            "candidate": pairs["candidate"].to_numpy()[dropped],
            "programme": pairs["programme"].to_numpy()[dropped],
            "level": pairs["level"].to_numpy()[dropped],
            "reason": reasons,
        }
    ).drop_duplicates(subset=["candidate", "programme", "level"])
    return keep, set_aside


def upgrade_chains(
    options: pd.DataFrame, rule: str, stacking: str, paid: np.ndarray | None = None
) -> pd.DataFrame:
    """Upgrades inside the horizon, as options of their own: for a designation A that is
    certain once made (discretionary, or an entitlement paid for sure) and an option B of
    the same candidate and matter in a later year paying more, a *chain* option "A, then B":
    it makes both designations, pays A's payments and, in B's year, the upgrade priced by
    the rule (top_up: amount_B − amount_A; full: amount_B) with B's chance. A chain is one
    choice among the candidate's options in the matter (就高不重复 keeps one per matter), so
    the programme keeps its one-row-per-candidate-and-matter structure; its merit is B's
    expected merit plus A's where B is not conferred (a chain is worth where it ends, as a
    direct designation there would be, when B is certain), B's alone when A is an
    entitlement (which adds no merit in any plan).

    ``paid``: what each option's award pays in all (``later_payments.award_totals``: with
    later payouts, at most its cap), which A counts as paid; None: its amount.

    Upgrades from a nomination are not planned: what they would cost depends on a conferral
    not yet known (the next year's round plans them from what was conferred). Returns the
    chain rows, B's columns with ``cost`` the upgrade price and ``from_key`` A's ``key``;
    none with stacking "all" or upgrade "none".
    """
    empty = options.iloc[0:0].assign(from_key=pd.Series(dtype=int))
    if stacking != "highest" or rule == "none" or options.empty:
        return empty
    # Vectorised: the pairs (A, B) are enumerated as positions and filtered on arrays read
    # once from the options, and only the chains are framed: the merge of the certain
    # options with every option, then filtered, was 49 of 81 ms of a 1,000-candidate
    # build_problem and 340 of 513 ms at 10,000 (its Decimal amounts converted per pair).
    certain = np.flatnonzero(options["probability"].to_numpy(dtype=float) >= 1.0)
    a, b = _same_candidate_and_matter(options, certain)
    year = options["year"].to_numpy()
    amount = float_values(options["amount"])
    forced = options["forced"].to_numpy(dtype=bool)
    given = amount if paid is None else paid
    ends = (year[b] > year[a]) & (amount[b] > given[a]) & ~forced[b]
    if not ends.any():
        return empty
    rows = pd.RangeIndex(len(a))[ends]  # each chain's row in the merge (the index it had)
    a, b = a[ends], b[ends]
    chains = options.iloc[b].set_axis(rows)
    amounts = options["amount"].to_numpy(dtype=object)
    if paid is None:
        chains["cost"] = _upgrade_costs(rule, amounts, a, b)
    else:
        # A's amount object where its award pays no more than it (the costs as without
        # ``paid``), its total where it does.
        held = amounts.copy()
        differs = np.flatnonzero(paid != amount)
        held[differs] = [Decimal(str(round(float(v), 4))) for v in paid[differs].tolist()]
        chains["cost"] = [
            upgrade_price(rule, amounts[j], held[i])
            for i, j in zip(a.tolist(), b.tolist(), strict=True)
        ]
    chains["forced"] = False
    chains["from_key"] = options["key"].to_numpy()[a]
    # Worth where it ends if B is conferred, and A's merit if not: A (1 − p_B) + p_B B. An
    # entitlement A is paid in every plan and adds no merit (objective_coefficients): a chain
    # from it is worth p_B B alone, or the firm's obligation would win it the upgrade over a
    # better firm's nomination.
    if "merit" in options.columns:
        chance_b = options["probability"].to_numpy(dtype=float)[b]
        merit = options["merit"].to_numpy(dtype=float)
        chains["merit"] = np.where(forced[a], 0.0, merit[a] * (1 - chance_b)) + merit[b]
    return chains


def object_codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(code of each value, position of each code's first value) for an array of objects,
    distinct by identity, not value: an amount column holds a few objects (a tier's amount
    repeated over its options), so a function of the values is computed once per object and
    each row still gets what its own object gives (Decimal("30") and Decimal("30.0") are
    equal but print differently)."""
    identity = np.fromiter(map(id, values), dtype=np.uint64, count=len(values))
    code, distinct = pd.factorize(identity)
    first = np.full(len(distinct), len(values), dtype=np.int64)
    np.minimum.at(first, code, np.arange(len(values)))
    return code, first


def map_objects(function, values: np.ndarray) -> np.ndarray:
    """``[function(v) for v in values]`` as an array, ``function`` (pure) called once per
    distinct object of ``values`` (``object_codes``)."""
    values = np.asarray(values, dtype=object)
    code, first = object_codes(values)
    results = np.empty(len(first), dtype=object)
    results[:] = [function(values[k]) for k in first]
    return results[code]


def float_values(column: pd.Series) -> np.ndarray:
    """``column.to_numpy(dtype=float)``; a column of objects (Decimal amounts) converted once
    per distinct object (``object_codes``) instead of once per row."""
    if column.dtype != object:
        return column.to_numpy(dtype=float)
    values = column.to_numpy()
    code, first = object_codes(values)
    return np.asarray(values[first], dtype=float)[code]


def _upgrade_costs(rule: str, amounts: np.ndarray, a: np.ndarray, b: np.ndarray) -> list:
    """``upgrade_price(rule, amounts[b], amounts[a])`` for each pair, as a list: once per
    distinct pair of amount objects (``object_codes``); a call per chain was 36 ms of
    10,000 candidates' 105,000 chains."""
    code, _ = object_codes(amounts)
    distinct = code.max() + 1 if len(code) else 0
    pair = code[a].astype(np.int64) * distinct + code[b]
    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
    prices = np.empty(len(first), dtype=object)
    prices[:] = [upgrade_price(rule, amounts[b[k]], amounts[a[k]]) for k in first]
    return prices[inverse.ravel()].tolist()


def _same_candidate_and_matter(
    options: pd.DataFrame, starts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Every (a, b) of positions with a in ``starts`` (increasing) and b an option of the
    same candidate and matter, in the rows of pandas' inner merge of ``options.iloc[starts]``
    with ``options`` on those two columns: by a, then b in the options' order (a missing
    matter matches a missing one, as in the merge)."""
    candidate = pd.factorize(options["candidate"], use_na_sentinel=False)[0]
    matter, matters = pd.factorize(options["matter"], use_na_sentinel=False)
    key = candidate.astype(np.int64) * max(len(matters), 1) + matter
    order = np.argsort(key, kind="stable")
    grouped = key[order]
    first = np.searchsorted(grouped, key[starts], side="left")
    size = np.searchsorted(grouped, key[starts], side="right") - first
    a = np.repeat(starts, size)
    # b runs over each a's group: its first position, then the next, size times.
    offset = np.arange(len(a)) - np.repeat(np.cumsum(size) - size, size)
    b = order[np.repeat(first, size) + offset]
    return a, b


def _reasons(rows: pd.DataFrame, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "candidate": rows["candidate"].to_numpy(),
            "programme": rows["programme"].to_numpy(),
            "level": rows["level"].to_numpy(),
            "reason": reason,
        }
    )


def _no_reasons() -> pd.DataFrame:
    return pd.DataFrame(columns=["candidate", "programme", "level", "reason"])


def settle_shared_keys(
    pairs: pd.DataFrame, candidates: pd.DataFrame, policy: Policy
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Entitlements of a programme with ``no_repeat_by`` (同一产品不重复奖励) paid once per key.

    Two firms entitled for one product (a jointly designed prize winner) cannot both be
    paid: the product is rewarded once, to the entitlement that falls first (the earlier
    year, then the earlier candidate row); the others are set aside with the reason.
    Returns the options and the set-aside rows (candidate, programme, level, reason).
    """
    dropped_parts, reasons = [], []
    for programme in policy.programmes:
        column = programme.no_repeat_by
        if not column or column not in candidates.columns:
            continue
        mine = pairs[pairs["forced"].to_numpy(dtype=bool) & (pairs["programme"] == programme.id)]
        if mine.empty:
            continue
        values = candidates[column].to_numpy(dtype=object)[mine["candidate"].to_numpy()]
        key = [
            f"candidate:{c}" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
            for v, c in zip(values, mine["candidate"], strict=True)
        ]
        ordered = mine.assign(_key=key).sort_values(["year", "candidate"], kind="stable")
        first = ordered.drop_duplicates(subset="_key", keep="first")
        winner = first.set_index("_key")
        repeat = ordered[~ordered.index.isin(first.index)]
        ids = candidates["id"].to_numpy()
        for k in repeat["_key"]:
            paid = winner.loc[k]
            reasons.append(
                f"同一{column}不重复奖励: {k} is rewarded to {ids[int(paid['candidate'])]} "
                f"in {int(paid['year'])}"
            )
        dropped_parts.append(repeat.drop(columns="_key"))
    if not dropped_parts:
        return pairs, _no_reasons()
    dropped = pd.concat(dropped_parts)
    set_aside = pd.DataFrame(
        {
            "candidate": dropped["candidate"].to_numpy(),
            "programme": dropped["programme"].to_numpy(),
            "level": dropped["level"].to_numpy(),
            "reason": reasons,
        }
    )
    return pairs.drop(index=dropped.index).reset_index(drop=True), set_aside
