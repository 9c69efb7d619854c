"""The scenario file: a policy, years, budgets, a candidate pool and allocation settings."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from liangye.agents import SimulationParameters
from liangye.model.errors import InvalidValue
from liangye.model.settings import AllocationSettings, Budget
from liangye.model.units import FIRST_YEAR, LAST_YEAR, MAX_HORIZON, year_pair


def check_year_range(first: int, last: int) -> InvalidValue | None:
    """What is wrong with the horizon ``first``-``last`` (None: nothing), its English as the
    error's text and its Chinese as ``zh``: the first year after the last, a year outside
    1949-2100, or more than 30 years."""
    if first > last:
        return InvalidValue(
            f"the first year {first} comes after the last {last}: expected the earlier "
            f"year first ({last}, then {first})",
            f"首年 {first} 晚于末年 {last}：应先写较早的年份（先 {last}，后 {first}）",
        )
    outside = [year for year in (first, last) if not FIRST_YEAR <= year <= LAST_YEAR]
    if outside:
        return InvalidValue(
            f"year {outside[0]} is outside {FIRST_YEAR}-{LAST_YEAR}: expected years in that range",
            f"{outside[0]}年不在 {FIRST_YEAR}-{LAST_YEAR} 之内：年份应在此范围内",
        )
    if last - first + 1 > MAX_HORIZON:
        return InvalidValue(
            f"a horizon of {last - first + 1} years ({first}-{last}) is longer than the "
            f"{MAX_HORIZON} years liangye plans: expected at most {MAX_HORIZON}",
            f"{first}-{last} 共 {last - first + 1} 年，超过 liangye 可规划的 {MAX_HORIZON} 年："
            f"至多 {MAX_HORIZON} 年",
        )
    return None


class SyntheticPool(BaseModel):
    """The seeded synthetic candidate generator (``liangye.model.synthetic``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enterprises: int = Field(default=500, ge=0)
    parks: int = Field(default=12, ge=0)
    seed: int = Field(default=0, ge=0)
    held_share: float = Field(default=0.05, ge=0, le=1)
    extended: bool = Field(
        default=False,
        description="also generate the columns other programmes read (applicant titles, "
        "service modes, spin-off and platform data, categories, product ids)",
    )
    applications: bool = Field(
        default=False,
        description="also generate an applications table: every eligible candidate applies, "
        "entitlements dated in a year drawn over the horizon (model.synthetic)",
    )


class CandidateSource(BaseModel):
    """Where candidates come from: a file (CSV/XLSX) or the synthetic generator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    file: str | None = None
    applications: str | None = None
    synthetic: SyntheticPool | None = None

    @model_validator(mode="after")
    def _one_source(self) -> CandidateSource:
        if (self.file is None) == (self.synthetic is None):
            raise InvalidValue(
                "give exactly one of candidates.file and [candidates.synthetic]",
                "candidates.file 与 [candidates.synthetic] 应给且只给其中一个",
            )
        if self.applications and self.synthetic is not None:
            raise InvalidValue(
                "applications go with a candidate file, not the synthetic pool",
                "申报表（applications）只能与候选名单文件一起给出，不能与模拟候选（synthetic）一起用",
            )
        return self


def key_given(key: str, given: Iterable[str]) -> bool:
    """Whether dotted ``key`` (``budget.per_year.2027``, ``levers.x[1]``) is one of the keys
    ``given`` or lies under one of them."""
    return any(key == k or key.startswith((f"{k}.", f"{k}[")) for k in given)


class Scenario(BaseModel):
    """One scenario: everything needed to run an allocation, as data."""

    @property
    def source(self) -> str:
        """The file the scenario was read from (``loader.scenario_from_dict``'s ``source``)."""
        return self._source

    def source_of(self, key: str) -> str:
        """Who wrote dotted ``key`` (``budget.per_year.2027``): "--set" if a command-line
        override gave it or a key above it, else the scenario file (``source``)."""
        return "--set" if key_given(key, self._overridden) else self._source

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The file the scenario was read from, for naming it in problems found later (a budget
    # year outside the horizon is found once the policy is known); not part of the data.
    _source: str = PrivateAttr(default="scenario")
    # The dotted keys ``--set`` overrides gave (``loader.load_scenario``), for the same.
    _overridden: tuple[str, ...] = PrivateAttr(default=())

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    title: str | None = None
    description: str | None = None
    policy: str = Field(description="a bundled policy id, or a path relative to the scenario file")
    years: tuple[int, int] | None = Field(
        default=None,
        description="[FIRST, LAST]: FIRST ≤ LAST, both in 1949-2100, at most 30 years; "
        "[YEAR] is that year alone",
    )
    budget: Budget = Field(default_factory=Budget)
    candidates: CandidateSource
    allocation: AllocationSettings = Field(default_factory=AllocationSettings)
    tier_design: str | None = Field(
        default=None,
        description="a design of scenarios/tiers.toml pricing the service-manufacturing tiers",
    )
    simulation: SimulationParameters = Field(default_factory=SimulationParameters)
    outputs: list[Literal["csv", "xlsx", "parquet"]] = Field(
        default_factory=lambda: ["csv", "xlsx", "parquet"]
    )

    @field_validator("tier_design")
    @classmethod
    def _known_design(cls, value: str | None) -> str | None:
        # Named here, where the scenario (or a sweep's lever value) is read, not first when
        # a run prices its tiers: a sweep stored every run of an unknown design as failed.
        from .tiers import load_tier_library

        if value is not None:
            designs = load_tier_library().designs
            if value not in designs:
                raise InvalidValue(
                    f"'{value}' is not a tier design (known: {', '.join(designs)})",
                    f"“{value}”不是已有的档位设计（已有：{'、'.join(designs)}）",
                )
        return value

    @field_validator("years", mode="before")
    @classmethod
    def _pair(cls, value: object) -> object:
        return year_pair(value)

    @field_validator("years")
    @classmethod
    def _horizon(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and (wrong := check_year_range(*value)):
            raise wrong
        return value
