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

# Each status in the Chinese of the bureau's reader: the one wording of the command line,
# the report and the workbook (a test fails when a status lacks one). Keyed by the members,
# which are their strings, so the plain word "optimal" read from JSON finds its entry too.
STATUS_ZH: dict[Status, str] = {
    # "within the requested gap": a gap above zero proves less than the optimum.
    Status.OPTIMAL: "已证明最优（在要求的间隙内）",
    # "the best found", not "最优可行方案": these plans come with no proof of optimality.
    Status.TIME_LIMIT: "时间用尽时找到的最好方案",
    Status.WORK_LIMIT: "计算量上限内找到的最好方案",
    Status.INFEASIBLE: "无可行方案",
    Status.NO_SOLUTION: "未找到方案",
    Status.ERROR: "求解出错",
    Status.FRACTIONAL: "计数模型的认定为小数（内部中间状态）",
}


def plan_name_zh(status: str | None) -> str:
    """What a table or figure calls the plan liangye found, beside the rank-by-score one:
    最优方案 only when it is proven within the gap, else 本方案 (no proof comes with it)."""
    return "最优方案" if status == Status.OPTIMAL else "本方案"
