"""Why a candidate is left out when another of its group holds the place: the rule
``no_repeat_by`` (同一集团/产品不重复奖励), said by name in the candidate's reason.

Review 23: a firm scoring 89, above the lowest selected 76, whose group-mate (94) was
selected in the same programme, was told its budget had run out and that it needed 94
points; the group rule was never named.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .option_rules import no_repeat_column
from .options import AllocationProblem
from .wording import Words, column_zh


class GroupTaken:
    """For each programme with ``no_repeat_by``, which key values the plan has used and by
    whom: ``blocked(c, options)`` says whether every option of candidate c lies in such a
    programme where another candidate of its key was selected, and with whom."""

    def __init__(self, problem: AllocationProblem, chosen: np.ndarray):
        candidates, options = problem.candidates, problem.options
        self.column_of = {
            p.id: p.no_repeat_by
            for p in problem.policy.programmes
            if p.no_repeat_by and no_repeat_column(p.no_repeat_by) in candidates.columns
        }
        self.key_of = {
            column: candidates[no_repeat_column(column)].astype(str).to_numpy()
            for column in set(self.column_of.values())
        }
        self.raw_of = {
            column: candidates[column].astype(str).to_numpy()
            for column in set(self.column_of.values())
            if column in candidates.columns
        }
        self.programme_of = options["programme"].to_numpy()
        self.ids = candidates["id"].astype(str).to_numpy()
        self.used: dict[tuple[str, str], list[int]] = {}
        at = options["candidate"].to_numpy()
        for o in np.asarray(chosen, dtype=int).tolist():
            programme = self.programme_of[o]
            column = self.column_of.get(programme)
            if column is not None:
                key = (programme, self.key_of[column][at[o]])
                self.used.setdefault(key, []).append(int(at[o]))

    def blocked(self, c: int, own: Sequence[int]) -> tuple[str, list[str], str] | None:
        """(programme, the group-mates selected there, the shared value) when every option
        of c lies in a programme whose ``no_repeat_by`` value of c another selected
        candidate shares; None otherwise."""
        if not self.used or len(own) == 0:
            return None
        found = None
        for o in own:
            programme = self.programme_of[o]
            column = self.column_of.get(programme)
            if column is None:
                return None
            mates = [m for m in self.used.get((programme, self.key_of[column][c]), []) if m != c]
            if not mates:
                return None
            value = self.raw_of.get(column, self.key_of[column])[c]
            found = found or (programme, sorted({self.ids[m] for m in mates}), value)
        return found

    def reason(self, c: int, own: Sequence[int], words: Words) -> tuple[str, str] | None:
        """(English, Chinese) of ``blocked``, naming the rule, the value and the mates."""
        blocked = self.blocked(c, own)
        if blocked is None:
            return None
        programme, mates, value = blocked
        column = self.column_of[programme]
        return (
            f"no_repeat_by {column}: {programme} already rewards {value} ({', '.join(mates)})",
            f"“{words.programme(programme)}”同一{column_zh(column)}不重复奖励："
            f"与其同属“{value}”的{'、'.join(mates)}已入选",
        )
