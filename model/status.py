"""The one status type of an allocation: what the solver, the overrun bound and the
allocation report, in the words the JSON and the reader see."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How an allocation (or one solve of it) ended. A ``StrEnum``: each member is its own
    string value, so it reads and writes as that word (JSON, tables, comparisons)."""

    OPTIMAL = "optimal"  # a plan proven within the requested gap
    TIME_LIMIT = "time_limit"  # the best plan when a clock the user set ran out
    WORK_LIMIT = "work_limit"  # the best plan at the fixed budget of work (nodes, rounds)
    INFEASIBLE = "infeasible"  # no plan meets the rules: the diagnosis says why
    NO_SOLUTION = "no_solution"  # the work ended before any plan was found
    ERROR = "error"  # the solver failed
    # Internal to solve.py: a counts-only MIP whose designations came back fractional; the
    # next phase takes over, and no caller ever receives it.
    FRACTIONAL = "fractional"

    @property
    def has_plan(self) -> bool:
        """Whether a plan comes with this status."""
        return self in PLAN_STATUSES


# Statuses that come with a plan: proven within the gap; the best found when the clock ran
# out; the best found when a deterministic work limit (branch-and-bound nodes) was reached.
PLAN_STATUSES = frozenset({Status.OPTIMAL, Status.TIME_LIMIT, Status.WORK_LIMIT})
