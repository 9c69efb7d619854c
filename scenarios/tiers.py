"""Tier designs for the service-oriented manufacturing award, and applying one to a scenario."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from liangye.model.errors import InputError, InvalidValue, Problem, validation_problems
from liangye.model.policy import Policy, read_toml
from liangye.model.settings import AllocationSettings, Amount, LevelKey
from liangye.model.units import Level

TIERS_FILE = Path(__file__).with_name("tiers.toml")


class TierDesign(BaseModel):
    """One ladder of amounts (万元) by level; real designs cite their document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    amounts: dict[LevelKey, Amount] = Field(min_length=1)
    illustrative: bool = False
    reference: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _sourced(self) -> TierDesign:
        if not self.illustrative and not self.reference:
            raise InvalidValue(
                "a design from a document needs its reference",
                "来自政策文件的档位设计需要写明出处（reference）",
            )
        if self.illustrative and not self.note:
            raise InvalidValue(
                "an illustrative design needs a note saying what it shows",
                "示意性的档位设计需要 note 说明它示意什么",
            )
        return self


class TierLibrary(BaseModel):
    """The designs of tiers.toml and the programme they price."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    programme: str
    designs: dict[str, TierDesign] = Field(min_length=1)


def load_tier_library(path: str | Path | None = None) -> TierLibrary:
    """Read and validate a tier-design file (the bundled tiers.toml by default)."""
    path = Path(path) if path is not None else TIERS_FILE
    try:
        return TierLibrary.model_validate(read_toml(path))
    except ValidationError as error:
        raise InputError(validation_problems(error, path.name)) from None


def design_amounts(
    name: str, policy: Policy, library: TierLibrary | None = None
) -> dict[str, dict[Level, Decimal]]:
    """The design ``name`` as ``allocation.amounts`` overrides for ``policy``; InputError if
    the design is unknown or the policy has no such programme or level."""
    library = library or load_tier_library()
    design = library.designs.get(name)
    if design is None:
        known = ", ".join(library.designs)
        raise InputError(
            [
                Problem(
                    "scenario",
                    "tier_design",
                    f"'{name}' is not a tier design (known: {known})",
                    f"“{name}”不是已有的档位设计（已有：{'、'.join(library.designs)}）",
                )
            ]
        )
    if library.programme not in policy.programme_ids:
        raise InputError(
            [
                Problem(
                    "scenario",
                    "tier_design",
                    f"policy {policy.id} has no programme '{library.programme}' "
                    "for a tier design to price",
                    f"政策 {policy.id} 中没有档位设计所定价的项目“{library.programme}”",
                )
            ]
        )
    programme = policy.programme(library.programme)
    missing = [lv.value for lv in design.amounts if programme.award(lv) is None]
    if missing:
        raise InputError(
            [
                Problem(
                    "scenario",
                    "tier_design",
                    f"design '{name}' prices level(s) {', '.join(missing)} that "
                    f"{programme.id} of policy {policy.id} does not have",
                    f"档位设计“{name}”定价的级别 {'、'.join(Level(v).chinese for v in missing)} 在政策 {policy.id} 的"
                    f"项目“{programme.id}”中没有",
                )
            ]
        )
    return {programme.id: dict(design.amounts)}


def with_tier_design(
    settings: AllocationSettings, policy: Policy, name: str | None
) -> AllocationSettings:
    """``settings`` with the design's amounts filled in; amounts set explicitly win."""
    if name is None:
        return settings
    amounts = {pid: dict(levels) for pid, levels in design_amounts(name, policy).items()}
    for pid, levels in settings.amounts.items():
        amounts.setdefault(pid, {}).update(levels)
    return settings.model_copy(update={"amounts": amounts})
