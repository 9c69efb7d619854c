"""Every behavioural and population parameter of the simulation, with its default and source.

A scenario's ``[simulation]`` table (and ``[simulation.population]``) sets these; any key can
be overridden from the command line (``--set simulation.imitation_q=0.5``). Each field's
``source`` says where the default comes from: a study (docs/design.md, "Sources for defaults"),
a policy document (by its title) with its clause, or "assumption" — a number a user
should revisit (docs/calibration.md lists them).
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from liangye.model.errors import InvalidValue
from liangye.model.expressions import RuleSyntaxError, parse_rule
from liangye.model.units import FIRST_YEAR, LAST_YEAR

# The service modes the policy documents promote (Wuhan 004 主要模式（一）-（九）; Jiaxing 002
# 三（一）1-5 and 三（二）2-5; Zhongshan 000 二（二）1-6). Order is fixed: a mode's index is
# how firms store it and how the random choice of a new mode is made. Firms show them as
# columns mode_<name>, spelt as the Jiaxing policy file's programmes read them (e.g. its
# cultivation programme for shared manufacturing is for firms with mode_shared_manufacturing).
SERVICE_MODES: tuple[str, ...] = (
    "industrial_design",  # 工业设计服务
    "mass_customisation",  # 定制化服务 / 大规模个性化定制
    "shared_manufacturing",  # 共享制造
    "lifecycle",  # 全生命周期管理
    "total_integration",  # 总集成总承包 (EPC, BT, BOT, BOO)
    "supply_chain",  # 供应链管理
    "productive_finance",  # 生产性金融服务
    "testing",  # 检验检测认证服务
    "energy_environment",  # 节能环保服务
)

ASSUMPTION = "assumption"


MAX_FIRMS = 100_000
MAX_QUARTERS = 120  # 30 years, the longest horizon a policy may have (model/policy.py)
MAX_REPLICATIONS = 1_000


def _field(default: Any, description: str, source: str, **bounds: Any) -> Any:
    """A pydantic field whose schema carries its source (shown by ``parameter_table``)."""
    return Field(
        default=default, description=description, json_schema_extra={"source": source}, **bounds
    )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_yes_no_for_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A number key given true or false is refused, not read as 1 or 0 (review 22:
        ``award_scale = true`` ran as 1.0, ``share_noise = false`` as 0.0)."""
        if info.field_name is None or not _holds_yes_no(value):
            return value
        annotation = cls.model_fields[info.field_name].annotation
        if "bool" in str(annotation):
            return value
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            return value  # a table of its own: its keys are checked there, by name
        # Lists and tables are searched too (review 24: payout_schedule = {demo = [true]}
        # and input_gap = [true, 2] ran as 1.0).
        text = "str" in str(annotation) and not isinstance(value, list | tuple | dict)
        kind, kind_zh = ("text", "文字") if text else ("a number", "数字")
        raise InvalidValue(
            f"expected {kind}, not true or false", f"应为{kind_zh}，不能是 true 或 false（是/否）"
        )


def _holds_yes_no(value: Any) -> bool:
    """Whether ``value`` is true or false, or a list or table holding one."""
    if isinstance(value, bool):
        return True
    if isinstance(value, list | tuple):
        return any(_holds_yes_no(v) for v in value)
    if isinstance(value, dict):
        return any(_holds_yes_no(v) for v in value.values())
    return False


class PopulationParameters(_Strict):
    """The synthetic firm population, or a real firm table to load instead."""

    file: str | None = _field(
        None,
        "a firm table (CSV/XLSX, the candidate headers of docs/design.md) to simulate instead of "
        "the synthetic population; relative to the scenario file",
        "user data",
    )
    seed: int | None = _field(
        None,
        "fix the synthetic population across replications; None draws a new one per replication",
        ASSUMPTION,
    )
    # At most MAX_FIRMS: 20,000 firms peak at 533 MB a replication (benchmarks/simulation.py),
    # so 100,000 is a few GB; more would exhaust a laptop before the first quarter ends.
    firms: int = _field(2000, "number of firms", ASSUMPTION, ge=1, le=MAX_FIRMS)
    service_firm_share: float = _field(
        0.15, "share of producer-service firms among firms", ASSUMPTION, ge=0, le=1
    )
    parks: int = _field(
        12, "industrial parks (firms of a park imitate each other)", ASSUMPTION, ge=0
    )
    park_membership: float = _field(0.5, "share of firms inside a park", ASSUMPTION, ge=0, le=1)
    sells_services: float = _field(
        0.83,
        "share of manufacturers with any service revenue",
        "Crozet & Milet, CEPII 2014-10: 83% of French manufacturers sold services in 2007",
        ge=0,
        le=1,
    )
    mean_service_share: float = _field(
        0.114,
        "mean service revenue share of manufacturers at the start",
        "Crozet & Milet, CEPII 2014-10: 11.4% of manufacturing sales were services",
        gt=0,
        lt=1,
    )
    share_concentration: float = _field(
        10.0,
        "a + b of the Beta law of service shares among sellers (higher: less spread)",
        ASSUMPTION,
        gt=0,
    )
    service_firm_min_share: float = _field(
        0.5,
        "lowest service revenue share of a producer-service firm",
        "Zhongshan 000 三（二）2: producer-service firms earn ≥ 50% from services to manufacturers",
        ge=0,
        le=1,
    )
    service_firm_share_beta: tuple[float, float] = _field(
        (2.0, 3.0),
        "Beta(a, b) law of a producer-service firm's service share above the lowest: "
        "share = lowest + (1 − lowest)·Beta(a, b); the defaults give a mean of 70%",
        ASSUMPTION + ": no source gives the spread of service firms' service shares",
    )
    revenue_median: float = _field(
        10000.0,
        "median annual revenue, 万元",
        "liangye.model.synthetic: 规上 firms around 1亿元 (assumption)",
        gt=0,
    )
    revenue_sigma: float = _field(
        1.1, "standard deviation of log revenue", "liangye.model.synthetic (assumption)", ge=0
    )
    margin_mean: float = _field(
        0.058,
        "mean operating margin (profit over revenue)",
        "NBS: 规模以上工业企业营业收入利润率 5.76% in 2023",
        gt=-1,
        lt=1,
    )
    margin_sd: float = _field(0.03, "spread of operating margins", ASSUMPTION, ge=0)
    margin_bounds: tuple[float, float] = _field(
        (-0.1, 0.3),
        "lowest and highest operating margin drawn (the normal law is clipped to them)",
        ASSUMPTION + ": keeps drawn margins within what 规上 manufacturers report",
    )
    input_gap: tuple[float, float] = _field(
        (2.0, 12.0),
        "Beta(a, b) law of service input share minus service revenue share",
        "liangye.model.synthetic (assumption)",
    )
    design_prize: float = _field(
        0.03,
        "share of firms winning a listed design prize over a three-year policy period from "
        "the start, each in one year drawn uniformly, whatever the horizon (Jiaxing's "
        "design_award)",
        "liangye.model.synthetic (assumption)",
        ge=0,
        le=1,
    )

    @field_validator("service_firm_share_beta", "input_gap")
    @classmethod
    def _beta(cls, value: tuple[float, float]) -> tuple[float, float]:
        if min(value) <= 0:
            raise InvalidValue(
                "both parameters of a Beta law must be positive", "Beta 分布的两个参数都应为正数"
            )
        return value

    @field_validator("margin_bounds")
    @classmethod
    def _bounds(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not -1 < value[0] < value[1] < 1:
            raise InvalidValue(
                "margin bounds must be increasing and within (−1, 1)",
                "利润率的上下界应在 (−1, 1) 之内，且下界小于上界",
            )
        return value


class SimulationParameters(_Strict):
    """The simulation's settings: horizon, population, firm behaviour, government rounds."""

    # --- horizon and replications ---
    start_year: int | None = _field(
        None,
        "first simulated year; None: the scenario's (or the policy's) first year",
        "scenario",
        ge=FIRST_YEAR,
        le=LAST_YEAR,
    )
    quarters: int = _field(
        12, "quarters simulated (12: 2024Q1-2026Q4)", "docs/design.md", ge=1, le=MAX_QUARTERS
    )
    seed: int = _field(0, "root seed; replication seeds are spawned from it", "user", ge=0)
    # One run holds every replication's tables in memory and takes 1.6 s each on the default:
    # 1,000 is about half an hour. More is a sweep's work (liangye sweep: streamed to disk,
    # resumable, on several workers).
    replications: int = _field(
        1, "replications (each with its own twin)", "user", ge=1, le=MAX_REPLICATIONS
    )
    population: PopulationParameters = Field(default_factory=PopulationParameters)

    # --- diffusion (the Bass model) ---
    innovation_p: float = _field(
        0.03,
        "own-initiative rate of adding a service mode, per year (Bass p)",
        "meta-analytic average of Bass fits (Sultan, Farley & Lehmann 1990): p ≈ 0.03",
        ge=0,
    )
    imitation_q: float = _field(
        0.38,
        "imitation rate per year at full adoption among peers (Bass q)",
        "meta-analytic average of Bass fits (Sultan, Farley & Lehmann 1990): q ≈ 0.38",
        ge=0,
    )
    park_weight: float = _field(
        0.5,
        "weight of park peers against sector peers in imitation (firms outside parks: sector only)",
        ASSUMPTION,
        ge=0,
        le=1,
    )
    adopter_share: float = _field(
        0.2,
        "service revenue share from which a peer counts as an adopter to imitate",
        "Fang, Palmatier & Steenkamp 2008: critical mass from 20%",
        ge=0,
        le=1,
    )

    # --- service share dynamics ---
    share_per_mode: float = _field(
        0.05,
        "long-run service revenue share one more mode adds",
        ASSUMPTION + ": nine modes take a pure manufacturer to about half its sales in services",
        gt=0,
        le=1,
    )
    max_service_share: float = _field(
        0.9, "ceiling of a manufacturer's service share", ASSUMPTION, gt=0, le=1
    )
    share_adjustment: float = _field(
        0.25,
        "quarterly fraction of the gap to the long-run share closed (new services ramp up)",
        ASSUMPTION + ": a new mode earns most of its revenue within about a year",
        gt=0,
        le=1,
    )
    share_noise: float = _field(
        0.01, "standard deviation of quarterly shocks to the service share", ASSUMPTION, ge=0
    )
    revenue_growth: float = _field(
        0.05, "mean revenue growth per year (log)", ASSUMPTION, ge=-1, le=1
    )
    revenue_volatility: float = _field(
        0.10, "standard deviation of log revenue growth per year", ASSUMPTION, ge=0
    )

    # --- the J-curve payoff of servitization ---
    payoff_inflection: float = _field(
        0.25,
        "service share below which more services lower the margin and above which they raise it",
        "Fang, Palmatier & Steenkamp 2008: positive effect only above 20-30%",
        gt=0,
        lt=1,
    )
    service_cost_slope: float = _field(
        0.10,
        "margin lost per unit of service share (costs first)",
        ASSUMPTION + " (shape from Fang, Palmatier & Steenkamp 2008)",
        ge=0,
    )
    service_premium_slope: float = _field(
        0.30,
        "margin gained per unit of service share above the inflection",
        ASSUMPTION + " (shape from Fang, Palmatier & Steenkamp 2008)",
        ge=0,
    )
    adoption_cost: float = _field(
        0.01, "one-off cost of a new mode, share of annual revenue", ASSUMPTION, ge=0
    )
    planning_years: float = _field(
        3.0, "years of margin change a firm weighs against the adoption cost", ASSUMPTION, gt=0
    )
    payoff_sensitivity: float = _field(
        1.0,
        "log-hazard response to the payoff of the next mode, per year of profit",
        ASSUMPTION,
        ge=0,
    )
    payoff_clip: float = _field(
        5.0,
        "largest |sensitivity × v| the payoff multiplier exp(sensitivity × v) takes: a mode "
        "worth more (or less) than this moves the hazard no further",
        ASSUMPTION + ": keeps one firm's hazard within e^±5 of its rate without the payoff",
        gt=0,
    )
    profit_floor: float = _field(
        0.01,
        "profit, as a share of revenue, below which a firm weighs money against this floor",
        ASSUMPTION + ": keeps loss-makers' ratios finite",
        gt=0,
    )

    # --- awards as firms see them ---
    award_response: float = _field(
        5.0,
        "rise of the adoption hazard per unit of expected award over annual profit",
        "Srhoj et al. 2021 (effect grows with award size relative to profit); size: assumption",
        ge=0,
    )
    threshold_pull: float = _field(
        2.0,
        "extra weight on the expected award for firms one mode short of eligibility",
        ASSUMPTION + " (bunching at thresholds)",
        ge=0,
    )

    # --- the government ---
    awards_enabled: bool = _field(
        True, "False: no government rounds (the award world equals its twin)", "user"
    )
    award_scale: float = _field(
        1.0, "multiplier on every tier amount (tier-design experiments)", "user", ge=0
    )
    application_rules: dict[str, list[str]] = _field(
        {},
        "rules an applicant must meet besides the policy's own; key '*' for every programme "
        "or a programme id (none by default: firms apply where the policy admits them)",
        "user",
    )
    application_rate: float = _field(
        0.6, "chance that an eligible firm applies in a round", ASSUMPTION, ge=0, le=1
    )
    service_firms_apply: bool = _field(
        False,
        "let producer-service firms apply (the Jiaxing programmes target manufacturers)",
        ASSUMPTION,
    )
    panel_agreement: float = _field(
        0.23,
        "correlation of two expert panels' scores of the same firm",
        "weighted κ ≈ 0.23 between grant review panels",
        gt=0,
        le=1,
    )
    score_mean: float = _field(
        70.0,
        "mean expert score on the calls' 0-100 scale",
        ASSUMPTION + ": the calls score out of 100 and publish no score distribution",
        ge=0,
        le=100,
    )
    score_sd: float = _field(
        10.0, "standard deviation of expert scores (0-100 scale)", ASSUMPTION, gt=0, le=50
    )
    size_weight: float = _field(
        0.5,
        "weight of size (log revenue) against service share in the firm's true merit",
        ASSUMPTION,
        ge=0,
        le=1,
    )
    round_quarter: int = _field(
        4, "quarter of the year in which the round is decided and paid", ASSUMPTION, ge=1, le=4
    )
    payout_schedule: dict[str, list[float]] = _field(
        {},
        "per programme, fractions of the award paid in the round year and the years after "
        "(absent: all at once)",
        "policy documents (Jiaxing 002 pays at once)",
    )
    # No clock by default, as in the allocation (model/settings.py): a round's plan must not
    # depend on how busy the machine is, or the same seed would give different worlds.
    time_limit: float = _field(
        math.inf,
        "seconds per yearly allocation solve, on top of its work limit (none by default)",
        "user",
        gt=0,
    )
    # A simulated bureau's plan, not a proof: each yearly solve stops within 0.2% of the best
    # plan's merit (the allocation itself keeps its 1e-4). At 1e-3 one round in four or five
    # of the default went on from a rounded plan 0.12-0.18% short to a counts MIP that HiGHS
    # closed with a root sub-MIP (50-290 ms each, 0.1 s a replication on average); at 2e-3
    # the rounded plan is the answer. Measured on 16 replications of the default (seed 3):
    # designations, nominations and spending changed by a tenth of their spread between
    # replications or less (nominations 82.0 → 81.5, sd 10.3; spending 8,022 → 8,031万元,
    # sd 336), the overrun counts not at all (docs/performance.md, 2026-12-06).
    mip_gap: float = _field(2e-3, "relative gap of the yearly solves", "user", ge=0, le=1)

    # --- outcomes ---
    thresholds: tuple[float, ...] = _field(
        (0.2, 0.3),
        "service shares whose crossing counts a firm as servitized",
        "Fang, Palmatier & Steenkamp 2008: 20-30%",
    )

    @field_validator("payout_schedule")
    @classmethod
    def _schedules(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        for programme, fractions in value.items():
            if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
                raise InvalidValue(
                    f"{programme}: fractions must be ≥ 0 and sum to 1",
                    f"“{programme}”：各年支付比例应不小于 0，且合计为 1",
                )
        return value

    @field_validator("application_rules")
    @classmethod
    def _rules(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        # Read when the scenario is (``liangye validate`` included), not when the first
        # round runs: a rule that does not parse stopped the run halfway, in English only.
        for key, texts in value.items():
            for text in texts:
                try:
                    parse_rule(text)
                except RuleSyntaxError as error:
                    raise InvalidValue(
                        f"{key}: rule '{text}' does not read: {error}",
                        f"“{key}”的条件“{text}”无法解读：{error}",
                    ) from None
        return value

    @field_validator("thresholds")
    @classmethod
    def _thresholds(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if not value or any(not 0 < v < 1 for v in value):
            raise InvalidValue(
                "thresholds must be shares strictly between 0 and 1",
                "阈值应为严格介于 0 和 1 之间的占比",
            )
        return tuple(sorted(value))

    @model_validator(mode="after")
    def _slopes(self) -> SimulationParameters:
        if self.max_service_share <= self.adopter_share:
            raise InvalidValue(
                "max_service_share must exceed adopter_share",
                "max_service_share 应大于 adopter_share",
            )
        return self


def parameter_table(model: type[BaseModel] = SimulationParameters) -> list[dict[str, object]]:
    """Every parameter as {name, default, description, source}, nested tables flattened."""
    rows: list[dict[str, object]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            for row in parameter_table(annotation):
                rows.append({**row, "name": f"{name}.{row['name']}"})
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        rows.append(
            {
                "name": name,
                "default": info.get_default(call_default_factory=True),
                "description": info.description,
                "source": extra.get("source"),
            }
        )
    return rows


# Said elsewhere in a run's summary (its seed, replications and horizon), not as a change.
_NOT_CHANGES = frozenset({"seed", "replications", "quarters", "start_year"})


def changed_parameters(params: SimulationParameters) -> dict[str, object]:
    """The parameters ``params`` sets to other values than the defaults, by dotted name
    (``population.firms``), JSON-ready: what a reader of a run must be told it ran with."""

    def flat(data: dict[str, object], prefix: str = "") -> dict[str, object]:
        out: dict[str, object] = {}
        for key, value in data.items():
            if isinstance(value, dict) and key == "population":
                out |= flat(value, f"{prefix}{key}.")
            else:
                out[f"{prefix}{key}"] = value
        return out

    given = flat(params.model_dump(mode="json"))
    default = flat(SimulationParameters().model_dump(mode="json"))
    return {k: v for k, v in given.items() if v != default.get(k) and k not in _NOT_CHANGES}
