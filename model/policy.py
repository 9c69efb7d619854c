"""The policy catalogue: programmes, award levels, quotas and rules, loaded from TOML files.

A policy file is data (docs/policy-format.md); every number in it carries the clause it
comes from. Loading validates everything at once and reports each problem with the file
and the key, e.g. ``jiaxing.toml programmes[1].levels[0].amount: -5 is negative``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .errors import InputError, InvalidValue, Problem, validation_problems
from .expressions import Rule, RuleSyntaxError, parse_rule
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
DECISIONS: tuple[str, ...] = ("discretionary", "nomination", "entitlement")


def _money(value: object) -> Decimal | None:
    return None if value is None else parse_money(value)


Money = Annotated[Decimal, BeforeValidator(_money)]

# Years a policy may name, and the longest horizon: every option is a (candidate, tier,
# year), so a typo like 20026 would ask for millions of options before failing.
FIRST_YEAR, LAST_YEAR, MAX_HORIZON = 1949, 2100, 30


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """One band of a banded award: the amount paid to candidates for whom ``when`` holds."""

    when: str = Field(description="a rule over candidate columns, e.g. 'revenue > 1亿'")
    amount: Money
    reference: str | None = None
    note: str | None = None


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


class Selection(_Strict):
    """How the conferring body chooses among eligible applicants."""

    method: Literal["composite_score", "conferral", "unspecified"]
    text: str | None = None
    reference: str
    note: str | None = None


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


class Quota(_Strict):
    """A minimum and/or maximum count of designations over programmes and levels."""

    name: str | None = None
    programmes: list[str] | None = Field(default=None, description="absent: every programme")
    levels: list[LevelField] | None = Field(default=None, description="absent: every level")
    per: Literal["year", "horizon"] = "year"
    years: list[int] | None = Field(default=None, description="absent: every year in force")
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)
    about: int | None = Field(
        default=None, ge=0, description="the document's approximate number (左右) min/max read"
    )
    counts_held: bool = Field(
        default=False,
        description="a stock target (达到): designations already held count toward min",
    )
    reference: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Quota:
        if self.min is None and self.max is None:
            raise InvalidValue("a quota needs min, max or both", "配额需要 min、max 或两者都给")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise InvalidValue(
                f"min {self.min} is above max {self.max}",
                f"下限 min（{self.min}）大于上限 max（{self.max}）",
            )
        if self.about is not None and not self.note:
            raise InvalidValue(
                "a quota with 'about' needs a note saying how min/max read it",
                "给出约数 about 的配额需要 note 说明 min/max 如何据此确定",
            )
        if self.counts_held and self.per != "horizon":
            raise InvalidValue(
                "counts_held is for stock targets over the horizon (per = 'horizon')",
                "counts_held 只用于整个期间的存量目标（需 per = 'horizon'）",
            )
        return self

    def label(self, index: int) -> str:
        """How the quota is named to a user: its name, or what it counts."""
        if self.name:
            return self.name
        what = ", ".join(self.programmes) if self.programmes else "all programmes"
        levels = f" at {', '.join(lv.value for lv in self.levels)}" if self.levels else ""
        return f"quota {index + 1} ({what}{levels}, per {self.per})"


class Balance(_Strict):
    """A cap on how much of the designations one district, sector (or other group) may take.

    Without max_share and max_count the document asks for balance without a number: the
    rule is recorded (with a note) and not enforced.
    """

    by: str = Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="district, sector or another column"
    )
    max_share: float | None = Field(default=None, gt=0, le=1)
    max_count: int | None = Field(default=None, ge=0)
    programmes: list[str] | None = None
    levels: list[LevelField] | None = None
    per: Literal["year", "horizon"] = "horizon"
    reference: str | None = None
    note: str | None = None

    @property
    def quantified(self) -> bool:
        return self.max_share is not None or self.max_count is not None

    @model_validator(mode="after")
    def _some_cap(self) -> Balance:
        if not self.quantified and not self.note:
            raise InvalidValue(
                "a balance rule needs max_share, max_count or both "
                "(or a note saying the document gives no number)",
                "均衡规则需要 max_share、max_count 或两者都给（文件未给数字时，用 note 说明）",
            )
        return self


class ListItem(_Strict):
    name: str
    reference: str | None = None


class NamedList(_Strict):
    """A list the document names: sectors ("10+X"), service modes, functions, paths."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    name: str
    of: Literal["sector", "service_mode", "function", "path", "other"]
    items: list[ListItem] = Field(min_length=1)
    open: bool = Field(default=False, description="the list ends in 等 or 'X': others qualify")
    reference: str
    note: str | None = None

    @property
    def names(self) -> list[str]:
        return [item.name for item in self.items]


class Reserve(_Strict):
    """A reserve pool (后备库): eligible candidates not selected, ranked by score."""

    name: str
    programmes: list[str] | None = None
    levels: list[LevelField] | None = None
    per: Literal["year", "horizon"] = "year"
    size: int | None = Field(default=None, ge=1, description="absent: every such candidate")
    reference: str
    note: str | None = None


class Target(_Strict):
    """A quantified goal of the document; ``quota`` names the quota that models it, if any."""

    name: str
    value: Money
    unit: str
    op: Literal[">=", ">", "==", "<=", "<"] = ">="
    year: int
    quota: str | None = None
    aspirational: bool = Field(default=False, description="力争: strive for, not a commitment")
    reference: str
    note: str | None = None


class Provision(_Strict):
    """A rule the document states that the allocation records but does not compute with."""

    kind: Literal[
        "selection",
        "procedure",
        "review",
        "revocation",
        "recommendation",
        "support",
        "award_without_amount",
        "stacking",
        "statistics",
        "other",
    ]
    text: str
    programmes: list[str] | None = None
    reference: str
    note: str | None = None


class Policy(_Strict):
    """One policy document as data: what it awards, to whom, how often, under which rules."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    title: str
    issuer: str | None = None
    issued: dt.date | None = None
    valid_until: dt.date | None = None
    years: tuple[int, int]
    deciding_level: LevelField = Field(
        default=Level.municipal,
        description="the government whose budget pays; other conferrers make a nomination",
    )
    stacking: Literal["highest", "all"] = "highest"
    upgrade: Literal["top_up", "full", "none"] = "top_up"
    cap_per_candidate_per_year: int | None = Field(default=None, ge=1)
    reference: str | None = None
    source: str | None = None
    note: str | None = None
    programmes: list[Programme] = Field(min_length=1)
    quotas: list[Quota] = Field(default_factory=list)
    balance: list[Balance] = Field(default_factory=list)
    reserves: list[Reserve] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    lists: list[NamedList] = Field(default_factory=list)
    provisions: list[Provision] = Field(default_factory=list)

    @field_validator("years")
    @classmethod
    def _years_ordered(cls, years: tuple[int, int]) -> tuple[int, int]:
        if years[0] > years[1]:
            raise InvalidValue(
                f"first year {years[0]} is after last year {years[1]}",
                f"首年 {years[0]} 晚于末年 {years[1]}",
            )
        if years[0] < FIRST_YEAR or years[1] > LAST_YEAR:
            raise InvalidValue(
                f"years must lie in {FIRST_YEAR}-{LAST_YEAR}",
                f"年份应在 {FIRST_YEAR}-{LAST_YEAR} 之间",
            )
        if years[1] - years[0] + 1 > MAX_HORIZON:
            raise InvalidValue(
                f"{years[1] - years[0] + 1} years is longer than the {MAX_HORIZON} a plan may "
                f"span (a typo such as 20026?)",
                f"共 {years[1] - years[0] + 1} 年，超过方案最长的 {MAX_HORIZON} 年"
                "（年份是否写错，如 20026？）",
            )
        return years

    @property
    def year_range(self) -> list[int]:
        return list(range(self.years[0], self.years[1] + 1))

    def programme(self, programme_id: str) -> Programme:
        for programme in self.programmes:
            if programme.id == programme_id:
                return programme
        raise KeyError(programme_id)

    @property
    def programme_ids(self) -> list[str]:
        return [p.id for p in self.programmes]

    def decision(self, programme: Programme, award: LevelAward) -> str:
        """The kind of decision a tier is: its own ``decision``, else its programme's, else by
        who confers it (a government above ``deciding_level`` makes it a nomination; the
        deciding government's own tiers, and any below, are discretionary)."""
        if award.decision is not None:
            return award.decision
        if programme.decision is not None:
            return programme.decision
        return "nomination" if award.conferrer.rank < self.deciding_level.rank else "discretionary"

    def confers_above(self, award: LevelAward) -> bool:
        """Is the tier conferred by a government above the deciding one (a chance applies)?"""
        return award.conferrer.rank < self.deciding_level.rank

    def named_list(self, list_id: str) -> NamedList:
        for entry in self.lists:
            if entry.id == list_id:
                return entry
        raise KeyError(list_id)


def _cross_checks(policy: Policy, source: str) -> list[Problem]:
    """Checks that need the whole file: unknown names, duplicate ids, rules that do not parse."""
    problems: list[Problem] = []
    ids = policy.programme_ids
    for i, programme_id in enumerate(ids):
        if programme_id in ids[:i]:
            problems.append(
                Problem(
                    source,
                    f"programmes[{i}].id",
                    f"'{programme_id}' is a duplicate",
                    f"项目编号“{programme_id}”重复出现：每个项目的编号只能用一次",
                )
            )
    list_ids = [entry.id for entry in policy.lists]
    for i, programme in enumerate(policy.programmes):
        for j, text in enumerate(programme.eligibility):
            problems += _rule_problem(source, f"programmes[{i}].eligibility[{j}]", text)
        if programme.applicants is not None:
            problems += _rule_problem(source, f"programmes[{i}].applicants", programme.applicants)
        if programme.revocation is not None and programme.revocation.rule is not None:
            where = f"programmes[{i}].revocation.rule"
            problems += _rule_problem(source, where, programme.revocation.rule)
        if programme.sector_list is not None and programme.sector_list not in list_ids:
            problems.append(
                Problem(
                    source,
                    f"programmes[{i}].sector_list",
                    f"'{programme.sector_list}' is not an id in [[lists]] "
                    f"(known: {', '.join(list_ids) or 'none'})",
                    f"“{programme.sector_list}”不是 [[lists]] 中的名单编号"
                    f"（已有：{'、'.join(list_ids) or '无'}）",
                )
            )
        for k, award in enumerate(programme.levels):
            for j, text in enumerate(award.eligibility):
                where = f"programmes[{i}].levels[{k}].eligibility[{j}]"
                problems += _rule_problem(source, where, text)
            for j, band in enumerate(award.bands):
                where = f"programmes[{i}].levels[{k}].bands[{j}].when"
                problems += _rule_problem(source, where, band.when)
    for i, entry in enumerate(list_ids):
        if entry in list_ids[:i]:
            problems.append(
                Problem(
                    source,
                    f"lists[{i}].id",
                    f"'{entry}' is a duplicate",
                    f"名单编号“{entry}”重复出现：每个名单的编号只能用一次",
                )
            )
    for group, entries in (
        ("quotas", policy.quotas),
        ("balance", policy.balance),
        ("reserves", policy.reserves),
        ("provisions", policy.provisions),
    ):
        for i, entry in enumerate(entries):
            for name in entry.programmes or []:
                if name not in ids:
                    problems.append(
                        Problem(
                            source,
                            f"{group}[{i}].programmes",
                            f"'{name}' is not a programme of this policy (known: {', '.join(ids)})",
                            f"“{name}”不是本政策的项目（已有：{'、'.join(ids)}）",
                        )
                    )
        for i, entry in enumerate(entries):
            # A level no programme in the scope offers counts nothing: a quota over it can
            # never be met (a minimum) or never bind (a maximum), and the allocation said
            # "infeasible" where the policy file was at fault (fuzzing).
            scope = [
                p for p in policy.programmes if entry.programmes is None or p.id in entry.programmes
            ]
            offered = {award.level for p in scope for award in p.levels}
            for level in getattr(entry, "levels", None) or []:
                if scope and level not in offered:
                    have = "、".join(lv.chinese for lv in sorted(offered, key=list(Level).index))
                    problems.append(
                        Problem(
                            source,
                            f"{group}[{i}].levels",
                            f"'{level.value}' is a level none of its programmes has (they have: "
                            f"{', '.join(lv.value for lv in sorted(offered, key=list(Level).index))})",
                            f"{level.chinese}不是其所含项目的任何级别（已有：{have}）",
                        )
                    )
    for i, quota in enumerate(policy.quotas):
        for year in quota.years or []:
            if year not in policy.year_range:
                problems.append(
                    Problem(
                        source,
                        f"quotas[{i}].years",
                        f"{year} is outside the policy's years",
                        f"{year}年不在政策的年份（{policy.years[0]}-{policy.years[1]}）之内",
                    )
                )
    for i, programme in enumerate(policy.programmes):
        for k, award in enumerate(programme.levels):
            kind = policy.decision(programme, award)
            if kind == "nomination" and not policy.confers_above(award):
                where = f"programmes[{i}].levels[{k}]"
                problems.append(
                    Problem(
                        source,
                        f"{where}.decision" if award.decision else f"programmes[{i}].decision",
                        f"a nomination needs a conferring government above the deciding one "
                        f"({policy.deciding_level.value}); {programme.id} at "
                        f"{award.level.value} is conferred by {award.conferrer.value} "
                        "(set conferred_by, or declare it discretionary or an entitlement)",
                        f"推荐申报需要由高于决策政府（{policy.deciding_level.chinese}）的政府认定，"
                        f"而“{programme.id}”的{award.level.chinese}由"
                        f"{award.conferrer.chinese}认定：请设置 conferred_by，"
                        "或将其声明为本级认定（discretionary）或应享奖励（entitlement）",
                    )
                )
    quota_names = [q.name for q in policy.quotas if q.name]
    for i, target in enumerate(policy.targets):
        if target.quota is not None and target.quota not in quota_names:
            problems.append(
                Problem(
                    source,
                    f"targets[{i}].quota",
                    f"'{target.quota}' names no quota",
                    f"“{target.quota}”不是任何配额的名称（name）",
                )
            )
    return problems


def _rule_problem(source: str, where: str, text: str) -> list[Problem]:
    try:
        parse_rule(text)
    except RuleSyntaxError as error:
        # The parser says where in English ("at 7"); the Chinese points to the same place.
        at = re.search(r"at (\d+)", str(error))
        near = f"（第 {at[1]} 个字符附近）" if at else ""
        return [
            Problem(
                source,
                where,
                f"rule '{text}' does not parse: {error}",
                f"条件“{text}”写法有误{near}：写法见 docs/policy-format.md",
            )
        ]
    return []


def policy_from_dict(data: dict, source: str = "<policy>") -> Policy:
    """Validate a policy given as a dict (as read from TOML); raise InputError listing all problems."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        raise InputError(validation_problems(error, source)) from None
    problems = _cross_checks(policy, source)
    if problems:
        raise InputError(problems)
    return policy


def read_toml(path: Path) -> dict:
    """Read a TOML file; syntax errors and duplicate keys become an InputError naming the file."""
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise InputError([Problem(str(path), "", "file not found")]) from None
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"line (\d+), column (\d+)", str(error))
        near = f"第 {at[1]} 行第 {at[2]} 列附近" if at else ""
        raise InputError(
            [
                Problem(
                    path.name,
                    "",
                    f"is not valid TOML: {error}",
                    f"不是有效的 TOML 文件{'：' + near + '有误' if near else ''}",
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise InputError([Problem(path.name, "", "is not UTF-8 text")]) from None


def load_policy(path: str | Path) -> Policy:
    """Load and validate the policy file at ``path``; raise InputError listing all problems."""
    path = Path(path)
    return policy_from_dict(read_toml(path), source=path.name)


def compile_rules(texts: list[str]) -> list[Rule]:
    """Parse rules already checked by loading (so they cannot fail here)."""
    return [parse_rule(text) for text in texts]
