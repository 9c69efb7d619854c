"""A policy's programmes and their tiers: amounts, bands, payouts, term, revocation, selection."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from .errors import InvalidValue
from .units import Level, parse_level, parse_money

LevelField = Annotated[
    Level, BeforeValidator(lambda v: parse_level(v) if isinstance(v, str) else v)
]
Kind = Literal["enterprise", "park"]
# Who decides whether an award is paid (docs/policy-format.md, "Decisions"):
#   discretionary: the deciding government designates (its own tiers);
#   nomination:    it recommends, a higher government confers with a chance, it pays on conferral;
#   entitlement:   every qualifying applicant is paid; the deciding government cannot decline.
Decision = Literal["discretionary", "nomination", "entitlement"]


def _money(value: object) -> Decimal | None:
    return None if value is None else parse_money(value)


Money = Annotated[Decimal, BeforeValidator(_money)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """One band of a banded award: the amount paid to candidates for whom ``when`` holds."""

    when: str = Field(description="a rule over candidate columns, e.g. 'revenue > 1亿'")
    amount: Money
    reference: str | None = None
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


class Payout(_Strict):
    """A later payment of an award, in years after the designation year (e.g. a tax rebate).

    Either a fixed ``amount`` (万元) or ``share`` × the candidate column ``of`` (万元 a year).
    """

    years_after: list[int] = Field(min_length=1, description="1 = the year after designation")
    amount: Money | None = None
    share: float | None = Field(default=None, gt=0, le=1)
    of: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    reference: str | None = None
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

    @model_validator(mode="after")
    def _one_kind(self) -> Payout:
        if self.amount is not None and (self.share is not None or self.of is not None):
            raise InvalidValue(
                "a payout has either amount or share/of, not both",
                "后续支付要么给 amount，要么给 share 与 of，不能都给",
            )
        if self.amount is None and (self.share is None or self.of is None):
            raise InvalidValue(
                "a payout needs either amount, or share together with of",
                "后续支付需要 amount，或同时给出 share 与 of",
            )
        if any(k < 1 for k in self.years_after) or len(set(self.years_after)) != len(
            self.years_after
        ):
            raise InvalidValue(
                "years_after are distinct years ≥ 1 after the designation year",
                "years_after 应为认定之后的第几年（1 或以上），且互不相同",
            )
        return self


class LevelAward(_Strict):
    """One tier of a programme: who confers it and what the deciding government pays."""

    level: LevelField
    amount: Money | None = Field(
        default=None,
        description="万元 paid on designation; absent where the document states no amount",
    )
    bands: list[Band] = Field(
        default_factory=list,
        description="amount by candidate band, first matching band wins; instead of amount",
    )
    cap: Money | None = Field(default=None, description="the most ever paid (最高不超过), 万元")
    payouts: list[Payout] = Field(
        default_factory=list, description="later payments after the designation year"
    )
    conferred_by: LevelField | None = None
    decision: Decision | None = Field(
        default=None, description="who decides this tier; absent: the programme's, or by conferrer"
    )
    decision_reference: str | None = Field(
        default=None, description="the clause that makes the tier this kind of decision"
    )
    eligibility: list[str] = Field(default_factory=list, description="extra rules for this tier")
    reference: str | None = None
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

    @property
    def conferrer(self) -> Level:
        """The government that confers the designation (defaults to the level itself)."""
        return self.conferred_by or self.level

    @model_validator(mode="after")
    def _amount_kinds(self) -> LevelAward:
        if self.bands and self.amount is not None:
            raise InvalidValue(
                "a level has either amount or bands, not both",
                "一个级别要么给 amount，要么给分档 bands，不能都给",
            )
        if self.cap is not None:
            above = [a for a in [self.amount, *(b.amount for b in self.bands)] if a is not None]
            if any(a > self.cap for a in above):
                raise InvalidValue(
                    f"an amount is above the cap {self.cap}",
                    f"有金额超过了上限 cap（{self.cap}万元）",
                )
        return self


class Term(_Strict):
    """How long a designation (a pilot) runs: a number of years, or until a calendar year."""

    years: int | None = Field(default=None, ge=1)
    ends: int | None = Field(default=None, description="last calendar year of the term")
    reference: str
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

    @model_validator(mode="after")
    def _some(self) -> Term:
        if self.years is None and self.ends is None:
            raise InvalidValue(
                "a term needs years, ends or both", "期限需要 years、ends 或两者都给"
            )
        return self


class Revocation(_Strict):
    """When a designation is withdrawn (撤销认定); ``rule`` only where the document gives a test."""

    when: str = Field(description="the document's trigger, in words")
    rule: str | None = Field(default=None, description="a rule over candidate columns, if stated")
    reference: str
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


class Selection(_Strict):
    """How the conferring body chooses among eligible applicants."""

    method: Literal["composite_score", "conferral", "unspecified"]
    text: str | None = None
    reference: str
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


class Programme(_Strict):
    """A designation programme: its matter (stacking group), who may hold it, and its tiers."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    name: str
    matter: str | None = None
    kinds: list[Kind] = Field(default_factory=lambda: ["enterprise"], min_length=1)
    eligibility: list[str] = Field(default_factory=list)
    applicants: str | None = Field(
        default=None,
        description="a rule marking who is in the running; a table without its columns "
        "takes no part in this programme",
    )
    no_repeat_by: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="candidate column: the same value is rewarded at most once (同一产品不重复奖励)",
    )
    sector_list: str | None = Field(default=None, description="id of a [[lists]] of sectors")
    decision: Decision | None = Field(
        default=None, description="who decides every tier (a level's own `decision` wins)"
    )
    decision_reference: str | None = Field(
        default=None, description="the clause that makes the programme this kind of decision"
    )
    term: Term | None = None
    revocation: Revocation | None = None
    selection: Selection | None = None
    reference: str
    levels: list[LevelAward] = Field(min_length=1)
    note: str | None = None
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

    @property
    def stacking_matter(self) -> str:
        """Programmes sharing a matter do not stack; a programme alone is its own matter."""
        return self.matter or self.id

    @field_validator("levels")
    @classmethod
    def _levels_distinct(cls, levels: list[LevelAward]) -> list[LevelAward]:
        seen = [lv.level for lv in levels]
        duplicated = sorted({lv.value for lv in seen if seen.count(lv) > 1})
        if duplicated:
            raise InvalidValue(
                f"level {', '.join(duplicated)} is listed twice",
                f"级别“{'、'.join(Level(v).chinese for v in duplicated)}”重复列出",
            )
        return levels

    def award(self, level: Level) -> LevelAward | None:
        """The tier at ``level``, or None if the programme has no such tier."""
        return next((lv for lv in self.levels if lv.level == level), None)
