"""What it would have taken, in words: the sentences each candidate's reason gains from the
figures of ``thresholds.py`` (the score needed, the money that would have made room, a
selected one's margin), in English for tools and Chinese for the bureau, each marked 估算
where it is an estimate rather than settled by re-solving."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .options import AllocationProblem
from .thresholds import THRESHOLD_COLUMNS, scores_at
from .wording import Words, money


def threshold_sentences(
    problem: AllocationProblem, table: pd.DataFrame, reasons: pd.DataFrame
) -> pd.DataFrame:
    """``reasons`` (one row per candidate, in candidate order) with the thresholds as columns
    and as a sentence after each reason, in English and in Chinese."""
    out = reasons.copy()
    for column in THRESHOLD_COLUMNS:
        out[column] = table[column].array  # its dtype kept (years as nullable integers)
    figures = table[["score_needed", "extra_budget_wan", "score_margin"]].notna().any(axis=1)
    if not figures.any():
        return out
    words = Words.of(problem.policy)
    own = scores_at(problem, table["threshold_at"])
    scores = problem.options["score"].to_numpy(dtype=float) if len(problem.options) else []
    top = float(np.nanmax(scores)) if len(scores) and not np.isnan(scores).all() else None
    en_parts, zh_parts = [], []
    selected = (out["outcome"] == "selected").to_numpy()
    for c, row, some, paid in zip(
        table.index, table.itertuples(index=False), figures.to_numpy(), selected, strict=True
    ):
        if not some:
            en_parts.append("")
            zh_parts.append("")
            continue
        # A candidate selected only for what it is owed is told what a tier of the city's
        # choice would have taken, not that it "would be selected" (it is).
        for_en = " for a tier of the city's choice" if paid else ""
        win_en = "a tier of the city's choice" if paid else "it"
        win_zh = "方可另获本级认定或推荐" if paid else "方可入选"
        # Each figure said as it stands: settled by re-solving, or the relaxation's estimate.
        how_en, how_zh = _how(row.score_confirmed)
        money_en, money_zh = _how(row.money_confirmed)
        where_zh = _where_zh(words, row.threshold_at)
        en, zh = [], []
        if pd.notna(row.score_needed):
            if math.isinf(row.score_needed):
                en.append(f"no score would have won {win_en} ({how_en})")
                zh.append(f"评分再高也无法{win_zh[2:]}（{how_zh}）")
            else:
                # Far above every candidate's score (a tenth more than the highest): said,
                # as no score on the panel's scale is likely to do (Wuhan's parks: 290 where
                # scores end near 100). Just above the highest is ordinary competition.
                beyond = top is not None and top > 0 and row.score_needed > 1.1 * top
                en.append(
                    f"it would have needed a score of {row.score_needed:g}"
                    f"{for_en}"
                    f"{f' (at {row.threshold_at})' if row.threshold_at else ''}"
                    f"{f', above the highest of any candidate ({top:g})' if beyond else ''}"
                    f" ({how_en})"
                )
                zh.append(
                    f"评分需达到{row.score_needed:g}分{win_zh}"
                    f"{f'，高于全部候选的最高分{top:g}分' if beyond else ''}{where_zh}（{how_zh}）"
                )
        if pd.notna(row.extra_budget_wan):
            year = row.extra_budget_year
            if math.isinf(row.extra_budget_wan):
                # Only the year searched (the year of its best option) is known to be no help:
                # money in another year may be (a review found 2024's do what 2025's could not).
                # And what was shown is the figure at money for every award (``money_cap``),
                # not at every amount below it: the choice is not monotone in money (5万元
                # more can win a place that 25万元 more gives a dearer competitor).
                if pd.isna(year):
                    en.append(
                        f"not even a horizon total enough to pay every award would have made "
                        f"room for {win_en} ({money_en})"
                    )
                    zh.append(
                        f"即使期间总预算足以支付全部可选奖励，也无法{win_zh[2:]}（{money_zh}）"
                    )
                else:
                    en.append(
                        f"not even a {int(year)} budget enough to pay every award of the year "
                        f"would have made room for {win_en} ({money_en})"
                    )
                    zh.append(
                        f"即使{int(year)}年预算足以支付当年全部可选奖励，也无法{win_zh[2:]}"
                        f"（{money_zh}）"
                    )
            else:
                # As the figure was found (with_more_money): the year's budget raised and,
                # when there is one, the horizon total's with it, each by that much.
                if pd.isna(year):
                    when_en, when_zh = " in the horizon total", "期间总预算"
                elif problem.budget.total is not None:
                    when_en = f" in {int(year)} and in the horizon total, each"
                    when_zh = f"{int(year)}年预算和期间总预算各"
                else:
                    when_en, when_zh = f" in {int(year)}", f"{int(year)}年预算"
                en.append(
                    f"{money(row.extra_budget_wan)} more{when_en} would have made room for {win_en} "
                    f"({money_en})"
                )
                zh.append(f"{when_zh}再增加{money(row.extra_budget_wan)}{win_zh}（{money_zh}）")
        if pd.notna(row.score_margin):
            base = own.get(c)
            base = None if base is None or pd.isna(base) else float(base)
            if base is not None and row.score_margin >= base:
                en.append(f"even a score of 0 would have kept its place ({how_en})")
                # Not "即使评分为0分仍会入选", which read as "scores do not count", nor "名额与
                # 预算均有富余": its quota may be full and its budget spent, with no other
                # candidate able to take the place (the one that could is too dear).
                zh.append(f"评分降至0分仍可入选，没有其他候选能取代其位置（{how_zh}）")
            else:
                floor = "" if base is None else f"（降至{round(base - row.score_margin, 1):g}分）"
                en.append(
                    f"its score could fall by {row.score_margin:g} and it would keep its place "
                    f"({how_en})"
                )
                zh.append(f"评分再降低{row.score_margin:g}分{floor}仍可入选（{how_zh}）")
        en_parts.append("; ".join(en))
        zh_parts.append("；".join(zh))
    out["detail"] = [
        d if not e else f"{d}; {e}" for d, e in zip(out["detail"], en_parts, strict=True)
    ]
    out["reason_zh"] = [
        d if not z else f"{d}；{z}" for d, z in zip(out["reason_zh"], zh_parts, strict=True)
    ]
    return out


def _where_zh(words: Words, at: object) -> str:
    """``（以服务型制造示范企业（平台、项目）（市级）2025年计）`` for programme:level:year."""
    if not isinstance(at, str) or at.count(":") != 2:
        return ""
    programme, level, year = at.split(":")
    return f"（以{year}年{words.tier_zh(programme, level)}计）"


def _how(confirmed: object) -> tuple[str, str]:
    """How a figure was found, in English and in Chinese."""
    if not pd.isna(confirmed) and bool(confirmed):
        return "confirmed by re-solving", "经重新求解确认"
    return "estimated", "估算"
