"""Typed settings for one allocation: the objective, solver limits, budgets and overrides."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from .errors import InvalidValue
from .units import Level, parse_level, parse_money

LevelKey = Annotated[Level, BeforeValidator(lambda v: parse_level(v) if isinstance(v, str) else v)]
Amount = Annotated[Decimal, BeforeValidator(parse_money)]


class Budget(BaseModel):
    """Money the deciding government may commit, in 万元.

    ``per_year`` maps each year to its limit; ``total`` optionally caps the horizon;
    with ``carry_over`` unspent money moves to later years (cumulative limits).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    per_year: dict[int, Amount] = Field(default_factory=dict)
    total: Amount | None = None
    carry_over: bool = False

    @property
    def unlimited(self) -> bool:
        return not self.per_year and self.total is None


class AllocationSettings(BaseModel):
    """How to choose among feasible plans and how hard to try."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    objective: Literal["merit", "count", "min_cost"] = "merit"
    level_weights: dict[LevelKey, float] = Field(
        default_factory=dict, description="merit weight per level; unset levels weigh 1"
    )
    mip_gap: float = Field(default=1e-4, ge=0, le=1, description="relative optimality gap")
    # No clock by default: each MIP stops at a budget of branch-and-bound nodes set by the
    # model's size (solve_mip.MIP_WORK), so the same scenario gives the same plan on any machine
    # however loaded. A time limit, when given, is a cap on top of that, and makes a plan
    # that reaches it depend on the machine's speed (its status says time_limit).
    time_limit: float = Field(
        default=math.inf, gt=0, description="seconds (none by default: a work limit applies)"
    )
    # Two HiGHS threads unless asked, whatever the machine: a fixed count, so a plan does not
    # depend on how many cores the machine has. Two, not one: one thread made the benchmark's
    # applied-tight family at 10,000 candidates 2.7x slower (12.6 s against 4.7 s, same
    # plan), though the default scenario takes the same time either way.
    threads: int | None = Field(default=2, ge=1)
    success_probability: dict[LevelKey, float] = Field(
        default_factory=dict,
        description="chance that a tier conferred by this (higher) government is conferred; "
        "required for every such tier that has options (no document states one)",
    )
    amounts: dict[str, dict[LevelKey, Amount]] = Field(
        default_factory=dict,
        description="award amounts (万元) per programme and level, overriding or filling the policy's",
    )
    cap_per_candidate_per_year: int | None = Field(default=None, ge=1)
    overrun_risk: float | None = Field(
        default=None,
        gt=0,
        lt=1,
        description="the largest chance, in every year (and over the horizon total), that "
        "conferred awards and obligations exceed the budget; absent: budgets at expected cost only",
    )
    # HiGHS's random_seed option takes 0 .. 2,147,483,647 (a C int); outside it HiGHS would
    # refuse the option at solve time, after the model was built.
    seed: int = Field(default=0, ge=0, le=2_147_483_647, description="the solver's random seed")

    @field_validator("success_probability")
    @classmethod
    def _probabilities(cls, value: dict[Level, float]) -> dict[Level, float]:
        for level, probability in value.items():
            if not 0 <= probability <= 1:  # also refuses NaN
                raise InvalidValue(
                    f"{level.value}: {probability} is not a probability in [0, 1]",
                    f"{level.chinese}：{probability} 不是 0 到 1 之间的概率",
                )
        return value

    @field_validator("level_weights")
    @classmethod
    def _weights(cls, value: dict[Level, float]) -> dict[Level, float]:
        for level, weight in value.items():
            if weight < 0:
                raise InvalidValue(
                    f"{level.value}: weight {weight} is negative",
                    f"{level.chinese}：权重 {weight} 不能为负数",
                )
        return value

    def weight(self, level: Level) -> float:
        return self.level_weights.get(level, 1.0)

    def chance(self, level: Level) -> float | None:
        """The chance that ``level`` confers what it is put forward for (None: not given)."""
        return self.success_probability.get(level)
