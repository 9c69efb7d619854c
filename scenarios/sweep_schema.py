"""The sweep file: a base scenario, levers, uncertainties, a sampler, replications, outcomes."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from liangye.model.errors import (
    InputError,
    InvalidValue,
    Problem,
    raise_if_any,
    validation_problems,
)
from liangye.model.policy import read_toml
from liangye.results.sweep_data import Target

# A lever that is not a scenario key: every yearly budget (and the horizon total) of the base
# scenario multiplied by the value.
BUDGET_SCALE = "budget_scale"

Scalar = bool | int | float | str
Value = Scalar | dict[str, Scalar]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Discrete(_Strict):
    """A factor taking one of a few listed values (a grid crosses them all)."""

    values: list[Value] = Field(min_length=1)

    @model_validator(mode="after")
    def _distinct(self) -> Discrete:
        # Numbers by value (7 and 7.0 are one value: the store keeps them in one column, and
        # two settings of it were analysed as one); true stays apart from 1.
        def same(v: Value) -> object:
            number = isinstance(v, int | float) and not isinstance(v, bool)
            return ("number", float(v)) if number else repr(v)

        if len({same(v) for v in self.values}) != len(self.values):
            raise InvalidValue("values must be distinct", "取值不能重复")
        return self


def _empty_range(low: float, high: float) -> InvalidValue:
    """The error of a range whose low is not below its high."""
    return InvalidValue(
        f"empty range: low ({low}) must be below high ({high})",
        f"范围为空：low（{low}）应小于 high（{high}）",
    )


class Range(_Strict):
    """A continuous factor: uniform or log-uniform on [low, high]; ``points`` spaces a grid."""

    low: float
    high: float
    dist: Literal["uniform", "loguniform"] = "uniform"
    points: int | None = Field(default=None, ge=2, description="grid points, ends included")
    integer: bool = Field(
        default=False,
        description="whole numbers only: a uniform range samples each whole number in it "
        "alike; a log-uniform one, and a grid, round each value",
    )

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise InvalidValue("low and high must be finite numbers", "low 和 high 应为有限的数")
        if not self.low < self.high:
            raise _empty_range(self.low, self.high)
        if self.dist == "loguniform" and self.low <= 0:
            raise InvalidValue(
                "a log-uniform range needs low > 0", "对数均匀分布的范围需要 low 大于 0"
            )
        if self.integer and self.points is None:
            first, last = self.whole_numbers()
            if first > last:
                raise InvalidValue(
                    f"an integer range from {self.low:g} to {self.high:g} holds no whole number",
                    f"整数范围 {self.low:g}–{self.high:g} 之间没有整数",
                )
        if self.points is not None and self.integer:
            values = self.grid()
            if len(set(values)) < len(values):
                raise InvalidValue(
                    f"points = {self.points} rounds to repeated whole numbers {values}: give "
                    "fewer points or list the values",
                    f"points = {self.points} 取整后出现重复的整数 {values}：请减少 points，"
                    "或直接列出取值",
                )
        return self

    def whole_numbers(self) -> tuple[int, int]:
        """The first and last whole numbers in [low, high] (first > last: none)."""
        return math.ceil(self.low), math.floor(self.high)

    def grid(self) -> list[float | int]:
        """The ``points`` values a grid crosses, evenly spaced (log-spaced for a log-uniform
        range), ends included, each rounded when the range is integer."""
        import numpy as np

        assert self.points is not None
        spaced = np.geomspace if self.dist == "loguniform" else np.linspace
        raw = spaced(self.low, self.high, self.points)
        return [round(float(x)) if self.integer else float(x) for x in raw]


class Normal(_Strict):
    """A normally distributed factor, optionally truncated to [low, high] (the normal law
    conditioned on the interval, not clipped onto its ends)."""

    dist: Literal["normal"]
    mean: float
    sd: float = Field(gt=0)
    low: float | None = Field(default=None, description="truncated below here (optional)")
    high: float | None = Field(default=None, description="truncated above here (optional)")

    @model_validator(mode="after")
    def _ordered(self) -> Normal:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise _empty_range(self.low, self.high)
        from scipy.stats import norm

        low = 0.0 if self.low is None else float(norm.cdf(self.low, self.mean, self.sd))
        high = 1.0 if self.high is None else float(norm.cdf(self.high, self.mean, self.sd))
        if high - low < 1e-9:
            raise InvalidValue(
                f"[{self.low}, {self.high}] holds almost none of a normal law of mean "
                f"{self.mean} and sd {self.sd}: move the bounds or the mean",
                f"[{self.low}, {self.high}] 几乎不含均值 {self.mean}、标准差 {self.sd} 的正态分布"
                "的概率：请调整上下限或均值",
            )
        return self


def _factor_kind(data: object) -> str:
    """Which factor a table describes: listed values, a normal law, or a range."""
    if isinstance(data, dict):
        if "values" in data:
            return "values"
        return "normal" if data.get("dist") == "normal" else "range"
    return "values" if isinstance(data, list | Discrete) else type(data).__name__.lower()


def _listed(data: object) -> object:
    """``key = [a, b]`` is short for ``key = { values = [a, b] }``."""
    return {"values": data} if isinstance(data, list) else data


# The keys of a factor's own table; a table with none of them groups dotted keys.
FACTOR_KEYS = frozenset({*Discrete.model_fields, *Range.model_fields, *Normal.model_fields})


def _dotted(factors: object, prefix: str = "") -> object:
    """TOML's ``allocation.overrun_risk = [...]`` (a dotted key left unquoted) as the key
    ``"allocation.overrun_risk"``: a table none of whose keys a factor has groups keys."""
    if not isinstance(factors, dict):
        return factors
    flat: dict[str, object] = {}
    for key, value in factors.items():
        if isinstance(value, dict) and value and not FACTOR_KEYS & set(value):
            flat.update(_dotted(value, f"{prefix}{key}."))  # type: ignore[arg-type]
        else:
            flat[f"{prefix}{key}"] = value
    return flat


Factor = Annotated[
    Annotated[Discrete, Tag("values")]
    | Annotated[Range, Tag("range")]
    | Annotated[Normal, Tag("normal")],
    Discriminator(
        _factor_kind,
        custom_error_type="factor",
        custom_error_message="expected a list of values, { low, high } or { dist = 'normal', mean, sd }",
    ),
    BeforeValidator(_listed),
]


class Sampler(_Strict):
    """How the design is drawn.

    ``grid`` crosses every factor's values (ranges need ``points``); ``lhs`` (Latin hypercube,
    scipy.stats.qmc) and ``sobol`` (SALib's Saltelli scheme, for Sobol indices) draw
    ``samples`` points of the uncertainties. ``combine = "cross"`` runs every lever setting on
    the same uncertainty samples; ``"joint"`` samples levers and uncertainties together.
    """

    kind: Literal["grid", "lhs", "sobol"] = "grid"
    # Checked against the kind (declared first) even when left out: lhs and sobol need it.
    samples: int | None = Field(default=None, ge=1, validate_default=True, strict=True)
    combine: Literal["cross", "joint"] = "cross"
    seed: int | None = Field(default=None, ge=0, description="default: the sweep's root_seed")
    second_order: bool = Field(
        default=False, description="sobol: also second-order indices (analysis/sobol_pairs.csv)"
    )

    @field_validator("samples", mode="after")
    @classmethod
    def _sized(cls, samples: int | None, info: ValidationInfo) -> int | None:
        kind = info.data.get("kind")  # absent when the kind itself was refused
        if kind == "grid" and samples is not None:
            raise InvalidValue(
                "a grid takes no samples: its size is the product of the values",
                "网格（grid）不取 samples：其大小是各因素取值个数的乘积",
            )
        if kind in ("lhs", "sobol") and samples is None:
            raise InvalidValue(
                f"the {kind} sampler needs samples = N",
                f"{kind} 抽样需要给出样本数 samples = N",
            )
        if kind == "sobol" and samples is not None and samples & (samples - 1):
            raise InvalidValue(
                "sobol samples must be a power of two",
                "sobol 抽样的样本数应为 2 的幂",
            )
        if kind == "sobol" and samples == 1:
            # One base sample cannot bootstrap its own error: indices of -2.7 and 11.1 came
            # out with intervals of zero width, read as valid and precise (review 19).
            raise InvalidValue(
                "sobol samples must be at least 2 (one sample cannot estimate its own "
                "error; 64 or more give usable indices)",
                "sobol 抽样的样本数至少为 2（一个样本无法估计其误差；64 个以上的指数才可用）",
            )
        return samples

    @field_validator("second_order", mode="after")
    @classmethod
    def _second_order_is_sobols(cls, second_order: bool, info: ValidationInfo) -> bool:
        # Accepted silently with another sampler, it did nothing (review 14).
        kind = info.data.get("kind")
        if second_order and kind is not None and kind != "sobol":
            raise InvalidValue(
                f"second_order is for the sobol sampler (this one is {kind})",
                f"second_order 只用于 sobol 抽样（此处为 {kind}）",
            )
        return second_order


Key = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")]
# levers and uncertainties: each key's factor, dotted keys written as TOML tables flattened.
Factors = Annotated[dict[Key, Factor], BeforeValidator(_dotted)]


Better = Literal["higher", "lower"]


class Analysis(_Strict):
    """What ``liangye analyse`` judges a sweep by: targets an outcome should meet in a world
    (``"overrun.occurred.any_year <= 0"``), and which direction is better for outcomes the
    analysis has no direction for (or a direction other than its own)."""

    targets: list[str] = Field(default_factory=list, description="e.g. 'spend.paid <= 9000'")
    better: dict[Key, Better] = Field(default_factory=dict)


class Sweep(_Strict):
    """One sweep file (``scenarios/sweeps/*.toml``)."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    title: str | None = None
    description: str | None = None
    model: str = Field(
        default="scenario",
        description="the scenario simulation, or a named model (scenarios/sweep_models.py)",
    )
    scenario: str = Field(
        default="default",
        description="a bundled scenario name or a path relative to the sweep file",
    )
    set: list[str] = Field(default_factory=list, description="overrides applied to every run")
    levers: Factors = Field(default_factory=dict)
    uncertainties: Factors = Field(default_factory=dict)
    sampler: Sampler = Field(default_factory=Sampler)
    # strict: "3" (a TOML string) was read as 3 (review 19); TOML writes numbers bare
    replications: int = Field(default=1, ge=1, strict=True)
    root_seed: int = Field(default=0, ge=0, strict=True)
    outcomes: list[Key] = Field(min_length=1)
    batch_size: int | None = Field(default=None, ge=1, strict=True, description="runs per task")
    analysis: Analysis = Field(default_factory=Analysis)

    @model_validator(mode="after")
    def _consistent(self) -> Sweep:
        both = sorted(set(self.levers) & set(self.uncertainties))
        if both:
            raise InvalidValue(
                f"{', '.join(both)}: both a lever and an uncertainty",
                f"{'、'.join(both)} 既是政策变量（lever）又是不确定因素（uncertainty）：只能是其一",
            )
        # A key set for every run and varied too: the factor wins and the set is ignored
        # without a word (review 19), so the file says two things; it is asked to say one.
        fixed = {item.partition("=")[0].strip() for item in self.set}
        varied = sorted(fixed & (set(self.levers) | set(self.uncertainties)))
        if varied:
            raise InvalidValue(
                f"{', '.join(varied)}: both set for every run (set) and varied (a lever or an "
                "uncertainty): keep one",
                f"{'、'.join(varied)} 既在 set 中为所有运行固定，又作为政策变量或不确定因素变化："
                "只能是其一",
            )
        if len(set(self.outcomes)) != len(self.outcomes):
            raise InvalidValue("outcomes are listed twice", "结果（outcomes）有重复列出的")
        columns: dict[str, str] = {}
        for key in [*self.levers, *self.uncertainties, *self.outcomes]:
            column = column_name(key)
            if column in columns and columns[column] != key:
                raise InvalidValue(
                    f"{key} and {columns[column]} would share the column {column}",
                    f"{key} 与 {columns[column]} 会存入同一列 {column}：请改名其一",
                )
            columns[column] = key
            if column in STORE_COLUMNS:
                raise InvalidValue(
                    f"{key}: its column {column} is one the store keeps for itself "
                    f"({', '.join(STORE_COLUMNS)}): rename it",
                    f"{key} 的列名 {column} 已为结果库自用（{'、'.join(STORE_COLUMNS)}）：请改名",
                )
        grid_needs = self.sampler.kind == "grid" or self.sampler.combine == "cross"
        for group, factors in (("levers", self.levers), ("uncertainties", self.uncertainties)):
            crossed = grid_needs if group == "levers" else self.sampler.kind == "grid"
            for key, factor in factors.items():
                if crossed and not enumerable(factor):
                    raise InvalidValue(
                        f"{group}.{key}: a {self.sampler.kind} sweep crosses its values, so it "
                        "needs values = [...] or a range with points = K",
                        f"{group}.{key}：{self.sampler.kind} 批量情景要交叉各取值，"
                        "需要 values = [...] 或带 points = K 的范围",
                    )
        if self.sampler.kind != "grid":
            sampled = len(self.uncertainties) + (
                len(self.levers) if self.sampler.combine == "joint" else 0
            )
            if sampled == 0:
                raise InvalidValue(
                    f"the {self.sampler.kind} sampler needs uncertainties to sample",
                    f"{self.sampler.kind} 抽样需要可抽样的不确定因素（uncertainties）",
                )
        return self


def enumerable(factor: Factor) -> bool:
    """Whether a grid can list the factor's values."""
    return isinstance(factor, Discrete) or (isinstance(factor, Range) and factor.points is not None)


# The columns the store keeps for itself beside the parameters and outcomes (``sweep.run_row``
# and ``sweep.run_batch``): a key whose column is one of them is refused, where a lever named
# ``seconds`` hid its values behind the run's time.
STORE_COLUMNS = ("run_id", "position", "point", "replication", "seed", "status", "error", "seconds")


def column_name(key: str) -> str:
    """The store's column for a lever, uncertainty or outcome key: dots and dashes become
    underscores, so SQL needs no quoting (``additionality.20.net_additional`` →
    ``additionality_20_net_additional``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", key)


# Keys only a scenario file has, and keys only a sweep file has (``validate`` tells them
# apart by the same sets).
SCENARIO_MARKERS = frozenset({"candidates", "budget", "policy", "allocation", "simulation"})
SWEEP_KEYS = frozenset({"levers", "uncertainties", "sampler", "outcomes", "replications"})


def load_sweep(path: str | Path) -> Sweep:
    """Read and validate a sweep file; raise InputError naming the file and every bad key
    (an ``[analysis]`` target that does not parse or names no outcome of the sweep among
    them)."""
    sweep, problems = read_sweep(path)
    raise_if_any(problems)
    return sweep


def read_sweep(path: str | Path) -> tuple[Sweep, list[Problem]]:
    """A sweep file read and validated, with the problems of its ``[analysis]`` targets
    returned, not raised, so that whoever checks the file against its model says them all
    at once (a bad target hid a bad lever value, review 19). Raises InputError on a file
    that is no sweep or breaks the schema (no Sweep to check further)."""
    path = Path(path)
    data = read_toml(path)
    kind = (
        "policy" if "programmes" in data else "scenario" if SCENARIO_MARKERS & set(data) else None
    )
    if kind is not None and not SWEEP_KEYS & set(data):
        # Eight unknown keys would bury what is wrong: the file is another kind.
        raise InputError(
            [
                Problem(
                    path.name,
                    "",
                    f"is a {kind} file, not a sweep file (a sweep names levers, uncertainties, "
                    "a sampler and outcomes; see scenarios/sweeps/): to run a scenario once "
                    "use liangye run",
                    f"这是{'政策' if kind == 'policy' else '情景'}文件，不是批量情景文件（批量情景要写"
                    "levers、uncertainties、sampler 和 outcomes，参见 scenarios/sweeps/）："
                    "单次运行情景请用 liangye run",
                )
            ]
        )
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as error:
        raise InputError(validation_problems(error, path.name)) from None
    return sweep, analysis_problems(sweep, path.name)


# --- targets: "outcome <= value", parsed (never evaluated) ---------------------------------

_OPERATORS = {"<=": "<=", ">=": ">=", "<": "<", ">": ">", "≤": "<=", "≥": ">="}
_TARGET = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9_.\-]+?)\s*(?P<op><=|>=|≤|≥|<|>)\s*(?P<value>\S.*?)\s*$"
)


def outcome_names(sweep: Sweep) -> dict[str, str]:
    """Every name an outcome answers to (its key and its store column) → its key."""
    names = {column_name(key): key for key in sweep.outcomes}
    names.update({key: key for key in sweep.outcomes})
    return names


def parse_target(text: str, outcomes: dict[str, str]) -> Target:
    """``"additionality.20.net_additional >= 10"`` as a Target: an outcome (its key or store
    column), one of ``<= >= < > ≤ ≥`` and a finite number (``5%`` is 0.05). Raises
    InvalidValue (a ValueError) saying what is wrong and what was expected, in English and in
    Chinese; nothing is evaluated."""
    match = _TARGET.match(text)
    if not match:
        raise InvalidValue(
            f"{text!r} is not a target: expected OUTCOME <= NUMBER (or >=, <, >), "
            "e.g. 'overrun.occurred.any_year <= 0'",
            f"“{text}”不是目标：应写作“结果 <= 数值”（或 >=、<、>），"
            "如 'overrun.occurred.any_year <= 0'",
        )
    name, op, raw = match["name"], _OPERATORS[match["op"]], match["value"]
    if name not in outcomes:
        known = ", ".join(sorted(set(outcomes.values())))
        raise InvalidValue(
            f"{text!r}: {name!r} is no outcome of this sweep (its outcomes: {known})",
            f"“{text}”：“{name}”不是本批量情景的结果（其结果有：{known.replace(', ', '、')}）",
        )
    percent = raw.endswith("%")
    try:
        value = float(raw.removesuffix("%").strip())
    except ValueError:
        raise InvalidValue(
            f"{text!r}: {raw!r} is not a number", f"“{text}”：“{raw}”不是数字"
        ) from None
    if not math.isfinite(value):
        raise InvalidValue(
            f"{text!r}: {raw!r} is not a finite number", f"“{text}”：“{raw}”不是有限的数"
        )
    return Target(outcomes[name], op, value / 100 if percent else value)


def analysis_problems(sweep: Sweep, source: str) -> list[Problem]:
    """Every ``[analysis]`` target that does not parse or names no outcome of the sweep, and
    every ``better`` key that is no outcome, named by file and key."""
    outcomes = outcome_names(sweep)
    found = []
    for i, text in enumerate(sweep.analysis.targets):
        try:
            parse_target(text, outcomes)
        except InvalidValue as error:
            found.append(Problem(source, f"analysis.targets[{i}]", str(error), error.zh))
    for key in sweep.analysis.better:
        if key not in outcomes:
            found.append(
                Problem(
                    source,
                    f"analysis.better.{key}",
                    "is no outcome of this sweep",
                    f"“{key}”不是本批量情景的结果（outcomes）",
                )
            )
    return found


def problem(path: Path, where: str, message: str, chinese: str = "") -> Problem:
    """A problem of a sweep file, named by its file name, with its Chinese if given."""
    return Problem(path.name, where, message, chinese)
