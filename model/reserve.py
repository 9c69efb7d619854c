"""Reserve pools (后备库): the eligible candidates a plan leaves out, ranked for next time."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .option_groups import scope_mask
from .options import AllocationProblem
from .programme import HORIZON

RESERVE_COLUMNS = [
    "reserve",
    "year",
    "rank",
    "candidate_id",
    "name",
    "programme",
    "level",
    "score",
    "merit",
]


def reserve_pool(problem: AllocationProblem, chosen: np.ndarray) -> pd.DataFrame:
    """Every reserve pool of the policy under the plan ``chosen``, one row per member.

    For a reserve with ``per = "year"``, the pool of year t holds the candidates with an
    option in its programmes and levels in t that the plan has not designated in those
    programmes in t or before; with ``per = "horizon"``, those never designated in them.
    Members are ranked by their best weighted score (ties: higher level, then earlier
    candidate), each once, with the option that gives that score; ``size`` keeps the first.
    """
    options = problem.options
    candidates = problem.candidates
    chosen_rows = options.iloc[np.asarray(chosen, dtype=int)]
    frames: list[pd.DataFrame] = []
    for reserve in problem.policy.reserves:
        mask = scope_mask(options, reserve.programmes, reserve.levels)
        picked = scope_mask(chosen_rows, reserve.programmes, None)
        periods = problem.years if reserve.per == "year" else [HORIZON]
        for t in periods:
            if t == HORIZON:
                in_period, designated_by = mask, picked
            else:
                in_period = mask & (options["year"].to_numpy() == t)
                designated_by = picked & (chosen_rows["year"].to_numpy() <= t)
            designated = set(chosen_rows["candidate"].to_numpy()[designated_by].tolist())
            pool = options[in_period & ~options["candidate"].isin(designated).to_numpy()]
            pool = pool.sort_values(
                ["merit", "level_rank", "candidate"], ascending=[False, True, True], kind="stable"
            ).drop_duplicates(subset=["candidate"], keep="first")
            if reserve.size is not None:
                pool = pool.head(reserve.size)
            frames.append(
                pd.DataFrame(
                    {
                        "reserve": reserve.name,
                        "year": t,
                        "rank": np.arange(1, len(pool) + 1),
                        "candidate_id": pool["candidate_id"].to_numpy(),
                        "name": candidates["name"].to_numpy()[pool["candidate"].to_numpy()],
                        "programme": pool["programme"].to_numpy(),
                        "level": pool["level"].to_numpy(),
                        "score": pool["score"].to_numpy(),
                        "merit": pool["merit"].to_numpy(),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=RESERVE_COLUMNS)
    return pd.concat(frames, ignore_index=True)[RESERVE_COLUMNS]
