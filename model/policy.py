"""The policy catalogue: programmes, award levels, quotas and rules, loaded from TOML files.

A policy file is data (docs/policy-format.md); every number in it carries the clause it
comes from. Loading validates everything at once and reports each problem with the file
and the key, e.g. ``jiaxing.toml programmes[1].levels[0].amount: -5 is negative``.

Here: the policy as a whole (``Policy``), the rules across its programmes (quotas, balance,
reserves, targets, named lists, provisions) and reading. The programmes and their tiers
are in ``policy_programmes.py``, the checks that need the whole file in ``policy_checks.py``.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import Field, PrivateAttr, ValidationError, field_validator, model_validator

from .errors import InputError, InvalidValue, Problem, validation_problems
from .policy_checks import cross_checks
from .policy_programmes import LevelAward, LevelField, Money, Programme, _Strict
from .units import FIRST_YEAR, LAST_YEAR, MAX_HORIZON, Level, year_pair

# The names other modules import from here, those made elsewhere among them (the agents
# and the scenarios' policy tables import Programme and LevelAward from this module).
__all__ = [
    "LevelAward",
    "Policy",
    "Programme",
    "Quota",
    "load_policy",
    "policy_from_dict",
    "read_toml",
]


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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place

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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place


class Policy(_Strict):
    """One policy document as data: what it awards, to whom, how often, under which rules."""

    # The file the policy was read from (``policy_from_dict``'s ``source``), for naming it in
    # problems found when it meets a candidate table; not part of the data.
    _source: str | None = PrivateAttr(default=None)

    @property
    def file_name(self) -> str:
        """The policy's file name, or its id when it was not read from a file."""
        return self._source or self.id

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
    note_zh: str | None = None  # the note in Chinese, shown to people in its place
    programmes: list[Programme] = Field(min_length=1)
    quotas: list[Quota] = Field(default_factory=list)
    balance: list[Balance] = Field(default_factory=list)
    reserves: list[Reserve] = Field(default_factory=list)
    targets: list[Target] = Field(default_factory=list)
    lists: list[NamedList] = Field(default_factory=list)
    provisions: list[Provision] = Field(default_factory=list)

    @field_validator("years", mode="before")
    @classmethod
    def _years_pair(cls, value: object) -> object:
        return year_pair(value)

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

    def ids_by_name(self) -> dict[str, str]:
        """Each programme's Chinese name (as the document and ``policy show`` write it) ->
        its id, for tables that name a programme by name; names two programmes share, or
        that are another programme's id, are left out (they would be ambiguous)."""
        names = [p.name for p in self.programmes]
        ids = set(self.programme_ids)
        return {
            p.name: p.id
            for p in self.programmes
            if p.name and names.count(p.name) == 1 and p.name not in ids
        }

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


def policy_from_dict(data: dict, source: str = "<policy>") -> Policy:
    """Validate a policy given as a dict (as read from TOML); raise InputError listing all problems."""
    try:
        policy = Policy.model_validate(data)
    except ValidationError as error:
        raise InputError(validation_problems(error, source)) from None
    problems = cross_checks(policy, source)
    if problems:
        raise InputError(problems)
    if source != "<policy>":
        policy._source = source
    return policy


def read_toml(path: Path) -> dict:
    """Read a TOML file; syntax errors and duplicate keys become an InputError naming the file."""
    text = ""
    try:
        data = Path(path).read_bytes()
        # Notepad writes UTF-8 with a byte-order mark, which TOML refuses at line 1 column 1.
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
        return tomllib.loads(text)
    except FileNotFoundError:
        raise InputError([Problem(str(path), "", "file not found")]) from None
    except tomllib.TOMLDecodeError as error:
        at = re.search(r"line (\d+), column (\d+)", str(error))
        near = f"第 {at[1]} 行第 {at[2]} 列附近" if at else ""
        hint, hint_zh = _toml_hint(text, at)
        raise InputError(
            [
                Problem(
                    path.name,
                    "",
                    f"is not valid TOML: {error}{hint}",
                    f"不是有效的 TOML 文件{'：' + near + '有误' if near else ''}{hint_zh}",
                )
            ]
        ) from None
    except UnicodeDecodeError:
        raise InputError([Problem(path.name, "", "is not UTF-8 text")]) from None


def _toml_hint(text: str, at: re.Match | None) -> tuple[str, str]:
    """What the mistakes review 23 met most likely are, where the line shows one: a word in
    Chinese without quotes (as a key or as a value) and an inline table ``{ … }`` broken over
    lines (TOML 1.0 keeps it on one). ("", "") where none shows."""
    if at is None:
        return "", ""
    lines = text.splitlines()
    row, column = int(at[1]) - 1, int(at[2]) - 1
    line = lines[row] if 0 <= row < len(lines) else ""
    here = line[column] if 0 <= column < len(line) else ""
    prefix = _STRINGS.sub('""', line[:column]).rstrip()
    if here and not here.isascii() and here.isalpha():
        word = re.match(r"[^\s=.,{}\[\]\"']+", line[column:])
        word = word[0] if word else here
        if prefix.endswith(("=", "[")) or (prefix.endswith(",") and "[" in prefix):
            return (
                f'; text is written in quotes: "{word}"',
                f'；文字须加引号，如 "{word}"',
            )
        if prefix == "" or prefix.endswith(("{", ",")):
            return (
                f'; a key written in Chinese needs quotes: "{word}" = …',
                f'；中文的键须加引号，如 "{word}" = …',
            )
        return "", ""
    # An inline table left open on an earlier line (strings set aside: a "{" in a text is
    # no table).
    before = 0
    for earlier in lines[:row]:
        plain = _STRINGS.sub('""', earlier.split("#")[0])
        before += plain.count("{") - plain.count("}")
    depth = before + prefix.count("{") - prefix.count("}")
    at_end = line[column:].strip() == "" or line[column:].lstrip().startswith("#")
    if depth > 0 and (before > 0 or at_end):
        return (
            "; an inline table { … } must stay on one line: write a long one as a table of "
            "its own, e.g. [[programmes.levels]]",
            "；行内表 { … } 须写在同一行：较长的请改写为单独的表，如 [[programmes.levels]]",
        )
    return "", ""


# Quoted strings of a TOML line, set aside when counting braces or reading what precedes.
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'[^\']*\'')


def load_policy(path: str | Path) -> Policy:
    """Load and validate the policy file at ``path``; raise InputError listing all problems."""
    path = Path(path)
    return policy_from_dict(read_toml(path), source=path.name)
