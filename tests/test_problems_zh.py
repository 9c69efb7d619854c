"""Every input problem carries a Chinese sentence for the reader (issue: problems in Chinese).

The command line prints each problem's English (which names the file, row and key) and,
under it, its Chinese. These tests drive bad inputs through the real command line and
assert the Chinese line; check that every pydantic error the scenario, policy, settings,
sweep, tier-design and simulation schemas raise on broken values has a Chinese sentence of
its own (not the generic one); and scan the package for problems or validator errors
written without one.
"""

from __future__ import annotations

import ast
import pickle
import re
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import liangye
from liangye.model.errors import (
    GENERIC_ZH,
    InputError,
    InvalidValue,
    Problem,
    message_zh,
    validation_problems,
    validation_zh,
)

from conftest import liangye as run_liangye
from conftest import make_policy, programme

PACKAGE = Path(liangye.__file__).parent

# --- the command line ------------------------------------------------------------------

POLICY = """\
id = "bad"
title = "坏政策"
years = [2024, 2025]
stacking = "most"
[[programmes]]
id = "P"
name = "P"
reference = "r"
levels = [{ level = "municipal", amount = 10 }]
[[quotas]]
min = 3
max = 1
"""

SWEEP = """\
id = "bad-sweep"
model = "ishigami"
outcomes = ["y"]
[sampler]
kind = "lhs"
[uncertainties]
x1 = { low = 0, high = 1 }
"""

SCENARIO = """\
id = "small"
policy = "jiaxing-2024-2026"
years = [2024, 2026]
[candidates.synthetic]
enterprises = 10
parks = 0
"""

CANDIDATES = [
    "编号,企业名称,类型,所在县区,所属行业,营业收入（亿元）,服务投入占比,服务收入占比,评分",
    "E1,甲,企业,南湖区,纺织,1.5,20%,0.12,85",
    "E1,乙,企业,南湖区,纺织,1.5,20%,0.12,85",
    "E3,,企业,南湖区,纺织,abc,20%,0.12,85",
]


def said(done) -> str:
    """What the command printed, its whitespace runs made one space (rich wraps lines)."""
    return " ".join((done.stdout + done.stderr).split())


def printed(done) -> list[str]:
    """The lines the command printed (problems go to stderr, validate's to stdout)."""
    return (done.stdout + done.stderr).splitlines()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The files the cases below name: a bad policy, sweep and candidate table, and a
    scenario and a candidate table that are fine (for bad options and --set values)."""
    from liangye.model.synthetic import synthetic_candidates

    folder = tmp_path_factory.mktemp("zh")
    synthetic_candidates(20, 0, seed=3).to_csv(folder / "good.csv", index=False)
    files = {
        "policy": (folder / "policy.toml", POLICY),
        "sweep": (folder / "sweep.toml", SWEEP),
        "scenario": (folder / "scenario.toml", SCENARIO),
        "candidates": (folder / "candidates.csv", "\n".join(CANDIDATES) + "\n"),
    }
    for path, text in files.values():
        path.write_text(text, encoding="utf-8")
    return {"good": folder / "good.csv"} | {name: path for name, (path, _) in files.items()}


ALLOCATE = ("allocate", "--policy", "jiaxing-2024-2026", "--candidates", "{good}")

# (arguments, the Chinese the command must print): options, scenario keys, policy, sweep and
# candidate files, each a form that printed English alone before.
CASES = [
    (
        (*ALLOCATE, "--years", "2026-2024"),
        ["首年 2026 晚于末年 2024：应先写较早的年份"],
    ),
    (
        (*ALLOCATE, "--years", "soon"),
        ["应写作“年份”“首年-末年”或“年份,年份”"],
    ),
    ((*ALLOCATE, "--gap", "2"), ["应为 0 到 1 之间的相对最优间隙"]),
    ((*ALLOCATE, "--time-limit", "inf"), ["应为正的秒数，如 60；inf 不是有限的数"]),
    ((*ALLOCATE, "--budget", "2025=abc"), ["“abc”不是金额"]),
    ((*ALLOCATE, "--budget", "x=5"), ["应写作“金额”或“年份=金额”"]),
    ((*ALLOCATE, "--chance", "national=2"), ["应写作“级别=概率”"]),
    (
        (*ALLOCATE, "--objective", "fast"),
        ["应为 merit（加权评分）、count（入选事项数）或 min_cost（支出）"],
    ),
    ((*ALLOCATE, "--overrun-risk", "1"), ["应为严格介于 0 和 1 之间的概率"]),
    (
        (
            "allocate",
            "{scenario}",
            "--set",
            "allocation.time_limit=0",
            "--set",
            "years=[2024, 2025, 2026]",
        ),
        ["应为正的秒数，如 60（填写的是 0）", "应写作 [首年, 末年]"],
    ),
    (
        ("allocate", "{scenario}", "--set", "allocation.bogus=1", "--set", "budget.total=-5"),
        ["不是可识别的键（请对照 docs/reference.md 检查拼写）", "不能为负数（填写的是 -5）"],
    ),
    (
        ("allocate", "{scenario}", "--set", "simulation.thresholds=[2]"),
        ["阈值应为严格介于 0 和 1 之间的占比"],
    ),
    (("allocate", "{scenario}", "--set", "id=a.b"), ["只能由英文字母、数字、下划线和连字符组成"]),
    (("allocate", "{scenario}", "--policy", "x"), ["情景文件已写明政策、候选名单、年份和预算"]),
    (
        ("validate", "{policy}"),
        ["应为以下之一：'highest'、'all'（填写的是“most”）", "下限 min（3）大于上限 max（1）"],
    ),
    (("validate", "{sweep}"), ["lhs 抽样需要给出样本数 samples = N"]),
    (
        ("validate", "{candidates}"),
        ["编号“E1”与第 2 行重复", "“名称”为空", "“abc”不是数字"],
    ),
    (("simulate", "{scenario}", "--replications", "0"), ["应为 1 到 1,000 之间的重复次数"]),
    (("analyse", "{sweep}"), ["不是批量情景文件夹（没有 manifest.json）"]),
]


@pytest.mark.parametrize(("arguments", "chinese"), CASES, ids=lambda v: " ".join(v)[:60])
def test_the_command_line_prints_each_problem_in_chinese(
    inputs: dict[str, Path], arguments: tuple[str, ...], chinese: list[str]
) -> None:
    """A bad option, scenario key or file exits 2 and prints, under the English of each
    problem, its Chinese: the sentence the case names, and a Chinese line for every
    problem listed (none left to the English alone)."""
    done = run_liangye(*(a.format(**{k: str(v) for k, v in inputs.items()}) for a in arguments))
    text = said(done)
    assert done.returncode == 2, text
    for sentence in chinese:
        assert sentence in text, (sentence, text)
    lines = printed(done)
    problems = [i for i, line in enumerate(lines) if line.lstrip().startswith("✗")]
    assert problems, text
    for i in problems:  # rich may wrap an English line: its Chinese is the next "→" line
        after = next((line for line in lines[i + 1 :] if line.lstrip()[:1] in "✗→"), "")
        assert after.lstrip().startswith("→"), (lines[i], text)


# --- pydantic errors of the schemas ------------------------------------------------------


def _policy(**changes: object) -> dict:
    """A valid one-programme policy as data, with ``changes`` to its top level."""
    data = {
        "id": "p",
        "title": "t",
        "years": [2024, 2025],
        "programmes": [programme("P", {"municipal": 10})],
    }
    return {**data, **changes}


def _level(**changes: object) -> dict:
    """A policy whose only tier has ``changes``."""
    level = {"level": "municipal", "amount": 10, "conferred_by": "municipal", **changes}
    return _policy(programmes=[{**programme("P", {}), "levels": [level]}])


SCENARIO_DATA = {"id": "s", "policy": "jiaxing-2024-2026", "candidates": {"synthetic": {}}}
SWEEP_DATA = {"id": "w", "outcomes": ["y"], "model": "ishigami"}
TIER_DATA = {"title": "t", "amounts": {"municipal": 10}, "reference": "r"}
RANGE = {"low": 0, "high": 1}


def _schema(name: str) -> type[BaseModel]:
    """The schema class ``name`` (imported here: the scenario's pulls in the simulation)."""
    from liangye.agents.params import SimulationParameters
    from liangye.model.policy import Policy
    from liangye.model.settings import AllocationSettings
    from liangye.scenarios.schema import Scenario
    from liangye.scenarios.sweep_schema import Sweep
    from liangye.scenarios.tiers import TierDesign

    return {
        "policy": Policy,
        "scenario": Scenario,
        "settings": AllocationSettings,
        "sweep": Sweep,
        "tier": TierDesign,
        "simulation": SimulationParameters,
    }[name]


# (schema, broken data): each breaks one rule a user may break in a file or an option.
BROKEN: list[tuple[str, dict]] = [
    # settings: bounds, types, literals, enum, our validators
    ("settings", {"time_limit": 0}),
    ("settings", {"mip_gap": -1}),
    ("settings", {"mip_gap": 2}),
    ("settings", {"overrun_risk": 1}),
    ("settings", {"mip_gap": "x"}),
    ("settings", {"mip_gap": [1]}),
    ("settings", {"threads": "x"}),
    ("settings", {"threads": 1.5}),
    ("settings", {"threads": [1]}),
    ("settings", {"objective": "fast"}),
    ("settings", {"level_weights": {5: 1}}),
    ("settings", {"level_weights": {"国家级": -1}}),
    ("settings", {"level_weights": []}),
    ("settings", {"success_probability": {"national": 2}}),
    ("settings", {"amounts": {"P": {"municipal": "abc"}}}),
    ("settings", {"amounts": {"P": {"municipal": 1e12}}}),
    ("settings", {"amounts": {"P": {"省": -1}}}),
    ("settings", {"amounts": {"P": {"town": 1}}}),
    ("settings", {"speed": 1}),
    # scenario: missing keys, lists, booleans, strings, patterns, candidate sources, years
    ("scenario", {"id": "s"}),
    ("scenario", {**SCENARIO_DATA, "id": "a b"}),
    ("scenario", {**SCENARIO_DATA, "policy": 3}),
    ("scenario", {**SCENARIO_DATA, "outputs": "csv"}),
    ("scenario", {**SCENARIO_DATA, "outputs": ["pdf"]}),
    ("scenario", {**SCENARIO_DATA, "budget": {"carry_over": "maybe"}}),
    ("scenario", {**SCENARIO_DATA, "budget": {"carry_over": [1]}}),
    ("scenario", {**SCENARIO_DATA, "budget": {"per_year": 5}}),
    ("scenario", {**SCENARIO_DATA, "allocation": 5}),
    ("scenario", {**SCENARIO_DATA, "years": []}),
    ("scenario", {**SCENARIO_DATA, "years": [2024, 2025, 2026]}),
    ("scenario", {**SCENARIO_DATA, "years": [2026, 2024]}),
    ("scenario", {**SCENARIO_DATA, "years": [1900, 1901]}),
    ("scenario", {**SCENARIO_DATA, "years": [2000, 2099]}),
    # a pair given three values (years read [YEAR] and refuse a third themselves)
    (
        "scenario",
        {**SCENARIO_DATA, "simulation": {"population": {"margin_bounds": [-0.1, 0.1, 0.2]}}},
    ),
    ("scenario", {**SCENARIO_DATA, "candidates": {"file": "c.csv", "synthetic": {}}}),
    ("scenario", {**SCENARIO_DATA, "candidates": {"synthetic": {}, "applications": "a.csv"}}),
    # policy: every validator, lengths, dates, literals
    ("policy", _policy(programmes=[])),
    ("policy", _policy(issued="soon")),
    ("policy", _policy(upgrade="twice")),
    ("policy", _policy(years=[2025, 2024])),
    ("policy", _policy(years=[2024, 2025, 2026])),  # too long (a scenario's years say why)
    ("policy", _policy(years=[1900, 1901])),
    ("policy", _policy(years=[2024, 2090])),
    ("policy", _policy(quotas=[{}])),
    ("policy", _policy(quotas=[{"min": 3, "max": 1}])),
    ("policy", _policy(quotas=[{"min": 1, "about": 2}])),
    ("policy", _policy(quotas=[{"min": 1, "counts_held": True}])),
    ("policy", _policy(balance=[{"by": "district"}])),
    ("policy", _policy(balance=[{"by": "2x", "max_share": 0.5}])),
    ("policy", _level(amount=10, bands=[{"when": "revenue > 1", "amount": 5}])),
    ("policy", _level(amount=10, cap=5)),
    ("policy", _level(amount="abc")),
    ("policy", _level(payouts=[{"years_after": [1], "amount": 1, "share": 0.1, "of": "r"}])),
    ("policy", _level(payouts=[{"years_after": [1], "share": 0.1}])),
    ("policy", _level(payouts=[{"years_after": [0], "amount": 1}])),
    ("policy", _level(payouts=[{"years_after": [], "amount": 1}])),
    (
        "policy",
        _policy(programmes=[{**programme("P", {"municipal": 1}), "term": {"reference": "r"}}]),
    ),
    ("policy", _policy(programmes=[programme("P", {"municipal": 1, "市级": 2})])),
    # sweep: every validator and the factor's forms
    ("sweep", {**SWEEP_DATA, "outcomes": []}),
    ("sweep", {**SWEEP_DATA, "levers": {"a": [1, 1]}}),
    ("sweep", {**SWEEP_DATA, "levers": {"a": {"low": 0, "high": float("inf"), "points": 2}}}),
    ("sweep", {**SWEEP_DATA, "levers": {"a": {"low": 1, "high": 0, "points": 2}}}),
    ("sweep", {**SWEEP_DATA, "levers": {"a": {"low": 0, "high": 1, "dist": "loguniform"}}}),
    (
        "sweep",
        {
            **SWEEP_DATA,
            "levers": {"a": {"dist": "normal", "mean": 0, "sd": 1, "low": 1, "high": 0}},
        },
    ),
    ("sweep", {**SWEEP_DATA, "levers": {"a": 5}}),
    ("sweep", {**SWEEP_DATA, "sampler": {"samples": 4}}),
    ("sweep", {**SWEEP_DATA, "sampler": {"kind": "lhs"}, "uncertainties": {"a": RANGE}}),
    (
        "sweep",
        {**SWEEP_DATA, "sampler": {"kind": "sobol", "samples": 3}, "uncertainties": {"a": RANGE}},
    ),
    ("sweep", {**SWEEP_DATA, "levers": {"a": [1, 2]}, "uncertainties": {"a": [1, 2]}}),
    ("sweep", {**SWEEP_DATA, "outcomes": ["y", "y"]}),
    ("sweep", {**SWEEP_DATA, "outcomes": ["a.b", "a_b"]}),
    ("sweep", {**SWEEP_DATA, "levers": {"a": RANGE}}),
    ("sweep", {**SWEEP_DATA, "sampler": {"kind": "lhs", "samples": 4}}),
    ("sweep", {**SWEEP_DATA, "outcomes": ["a b"]}),
    # tier designs
    ("tier", {**TIER_DATA, "reference": None}),
    ("tier", {**TIER_DATA, "illustrative": True}),
    ("tier", {**TIER_DATA, "amounts": {}}),
    # simulation parameters
    ("simulation", {"population": {"input_gap": [0, 1]}}),
    ("simulation", {"population": {"margin_bounds": [0.3, -0.1]}}),
    ("simulation", {"payout_schedule": {"P": [0.5, 0.2]}}),
    ("simulation", {"thresholds": [0, 0.3]}),
    ("simulation", {"max_service_share": 0.01}),
    ("simulation", {"quarters": 0}),
]


def _raised(schema: str, data: dict) -> ValidationError:
    """The error pydantic raises for ``data`` under ``schema`` (none: the case is wrong)."""
    with pytest.raises(ValidationError) as raised:
        _schema(schema).model_validate(data)
    return raised.value


def _errors(schema: str, data: dict) -> list[dict]:
    """The errors pydantic gives for ``data`` under ``schema``."""
    return _raised(schema, data).errors()


@pytest.mark.parametrize(("schema", "data"), BROKEN, ids=lambda v: str(v)[:50])
def test_every_pydantic_error_of_the_schemas_has_its_own_chinese(schema: str, data: dict) -> None:
    """Each error of a broken value is said in Chinese by its type and context, or by the
    validator that raised it: never "" and never the generic sentence kept for the
    unforeseen; and the problems built from it carry that Chinese."""
    error = _raised(schema, data)
    for each in error.errors():
        zh = validation_zh(each)
        assert zh and zh != GENERIC_ZH, (each["type"], each["msg"])
        assert re.search(r"[\u4e00-\u9fff]", zh), zh
    for problem in validation_problems(error, f"{schema}.toml"):
        assert problem.zh and problem.chinese == problem.zh, problem


# The pydantic error types the brief names: each must be among those the broken values give.
TYPES = {
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "int_parsing",
    "int_type",
    "int_from_float",
    "float_parsing",
    "float_type",
    "bool_parsing",
    "bool_type",
    "string_type",
    "literal_error",
    "enum",
    "too_short",
    "too_long",
    "list_type",
    "dict_type",
    "missing",
    "extra_forbidden",
    "value_error",
}


def test_the_broken_values_reach_every_error_type_named() -> None:
    """The cases above give every error type the Chinese is written for (a case that stops
    giving one would otherwise leave its sentence untested)."""
    seen = {str(e["type"]) for schema, data in BROKEN for e in _errors(schema, data)}
    assert seen >= TYPES, TYPES - seen


def test_bounds_and_choices_name_their_values() -> None:
    """The Chinese of a bound names the bound as written (0, not 0.0), of a literal its
    choices, of a length its count."""
    cases = {
        ("settings", "time_limit"): "应大于 0",
        ("settings", "mip_gap"): "应不小于 0",
        ("settings", "objective"): "应为以下之一：'merit'、'count'、'min_cost'",
    }
    errors = _errors("settings", {"time_limit": 0, "mip_gap": -1, "objective": "x"})
    by_key = {("settings", str(e["loc"][0])): validation_zh(e) for e in errors}
    assert by_key == cases
    (short,) = _errors("policy", _policy(programmes=[]))
    assert validation_zh(short) == "至少应有 1 项"


# --- the scenario's own words ------------------------------------------------------------


def test_the_scenario_expected_values_are_said_in_chinese_key_by_key() -> None:
    """Every key the scenario names what it expects for (EXPECTED) has its Chinese, and a
    problem at it carries it, with the value given."""
    from liangye.scenarios.loader import EXPECTED, EXPECTED_ZH, scenario_from_dict

    assert set(EXPECTED_ZH) == set(EXPECTED)
    # 0 for quarters: the value shows even where the sentence holds its digit ("1 到 120").
    data = {
        **SCENARIO_DATA,
        "allocation": {"mip_gap": 3, "seed": -1},
        "simulation": {"quarters": 0, "replications": True},
    }
    with pytest.raises(InputError) as raised:
        scenario_from_dict(data, "s.toml")
    said = {p.where: p.zh for p in raised.value.problems}
    assert said == {
        "allocation.mip_gap": EXPECTED_ZH["allocation.mip_gap"] + "（填写的是 3）",
        "allocation.seed": EXPECTED_ZH["allocation.seed"] + "（填写的是 -1）",
        "simulation.quarters": EXPECTED_ZH["simulation.quarters"] + "（填写的是 0）",
        "simulation.replications": EXPECTED_ZH["simulation.replications"] + "（填写的是 true）",
    }


def test_problems_renamed_for_set_keep_their_chinese(tmp_path: Path) -> None:
    """A problem at a key --set gave is named as --set's, and keeps its Chinese."""
    from liangye.scenarios.loader import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        load_scenario(path, ["allocation.threads=0"])
    (problem,) = raised.value.problems
    assert problem.source == "--set" and problem.zh == "应为线程数：1 或以上的整数（填写的是 0）"


def test_a_whole_table_check_or_an_unknown_table_is_blamed_on_the_set_that_caused_it(
    tmp_path: Path,
) -> None:
    """A check of a whole table (the chances) or an unknown top key fails on a key --set gave
    beneath it: --set is named. The same check failing on the file's own value, while --set
    changed another key of the table, names the file."""
    from liangye.scenarios.loader import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(SCENARIO, encoding="utf-8")
    for item, where in [
        ("allocation.success_probability.national=1.5", "allocation.success_probability"),
        ("nonexistent.key=1", "nonexistent"),
    ]:
        with pytest.raises(InputError) as raised:
            load_scenario(path, [item])
        (problem,) = raised.value.problems
        assert (problem.source, problem.where) == ("--set", where)
    path.write_text(
        SCENARIO.replace(
            "[candidates.synthetic]",
            "[allocation.success_probability]\nnational = 1.5\n[candidates.synthetic]",
        ),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as raised:
        load_scenario(path, ["allocation.success_probability.provincial=0.5"])
    (problem,) = raised.value.problems
    assert (problem.source, problem.where) == ("s.toml", "allocation.success_probability")


# --- parsers and pickling ----------------------------------------------------------------


def test_every_sentence_of_the_cell_parsers_has_its_chinese() -> None:
    """What a cell parser says of a bad value (reaching problems as "revenue 'abc' is not a
    number") matches a pattern of model/errors.py."""
    from liangye.model.candidates import parse_held, parse_score, parse_yes_no
    from liangye.model.units import (
        parse_level,
        parse_money,
        parse_number,
        parse_percent,
        parse_share,
    )

    bad = [
        (parse_number, "abc"),
        (parse_number, "inf"),
        (parse_number, True),
        (parse_share, "30"),
        (parse_share, "nan%"),
        (parse_percent, "120"),
        (parse_money, "abc"),
        (parse_money, "inf"),
        (parse_money, "-5"),
        (parse_money, "2e9"),
        (parse_level, "town"),
        (parse_score, "-1"),
        (parse_yes_no, "maybe"),
        (parse_held, "P-municipal"),
        (parse_held, "P:town"),
    ]
    for parse, value in bad:
        with pytest.raises(ValueError) as raised:
            parse(value)
        assert message_zh(str(raised.value)), (parse.__name__, value, str(raised.value))


def test_problems_and_errors_pickle_with_their_chinese() -> None:
    """A problem's Chinese survives pickling inside an InputError (a simulation's second
    process sends it back), as do the errors that carry Chinese to a problem."""
    from liangye.results.sweep_data import AnalysisInputError
    from liangye.results.sweep_store import StoreError

    error = InputError([Problem("a.toml", "years", "is wrong", "年份有误")])
    copy = pickle.loads(pickle.dumps(error))
    assert copy.problems == error.problems and copy.problems[0].zh == "年份有误"
    for raised in (
        InvalidValue("bad", "坏"),
        StoreError("bad", "坏"),
        AnalysisInputError("--setting", "bad", "坏"),
    ):
        copy = pickle.loads(pickle.dumps(raised))
        assert str(copy) == str(raised) and copy.zh == "坏"


def test_an_explicit_chinese_wins_over_the_patterns() -> None:
    """``chinese`` given is the Chinese; without it the patterns answer as before."""
    plain = Problem("c.csv", "row 2", "revenue 'abc' is not a number")
    assert plain.zh == "“abc”不是数字"
    assert Problem(*vars(plain).values()).zh == plain.zh
    said = Problem("c.csv", "row 2", "revenue 'abc' is not a number", "营业收入不是数字")
    assert said.zh == "营业收入不是数字"


# --- the package scanned ------------------------------------------------------------------

# Files others own (the report and the frontier): their problems are not checked here.
NOT_SCANNED = re.compile(r"results/(report|export)|model/frontier|scenarios/frontier")


def _package_files() -> list[Path]:
    """The package's modules that build problems or validate files."""
    files = [
        p for d in ("model", "agents", "scenarios", "results") for p in (PACKAGE / d).rglob("*.py")
    ]
    return [p for p in files if not NOT_SCANNED.search(p.relative_to(PACKAGE).as_posix())]


def _rendered(node: ast.expr) -> str | None:
    """A message as the site writes it, each value it interpolates as 7 (None: not text)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "7" for v in node.values)
    return None


def test_every_problem_site_has_chinese() -> None:
    """Each ``Problem(...)`` the package builds passes its Chinese, or writes an English
    message a pattern of model/errors.py turns into Chinese, or is written in Chinese."""
    bare = []
    for path in _package_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Problem"):
                continue
            if len(node.args) >= 4 or any(k.arg == "chinese" for k in node.keywords):
                continue
            text = _rendered(node.args[2]) if len(node.args) > 2 else None
            if text is None or not (message_zh(text) or re.search(r"[\u4e00-\u9fff]", text)):
                bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {text!r}")
    assert not bare, bare


def test_validators_raise_their_errors_with_chinese() -> None:
    """A pydantic validator of the package raises InvalidValue (its Chinese beside the
    English), never a bare ValueError, which the reader would get as the generic sentence."""
    bare = []
    for path in _package_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            decorators = [ast.unparse(d) for d in node.decorator_list]
            if not any("validator" in d for d in decorators):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Raise) and inner.exc is not None:
                    raised = inner.exc.func if isinstance(inner.exc, ast.Call) else inner.exc
                    if ast.unparse(raised) in ("ValueError", "AssertionError"):
                        bare.append(f"{path.relative_to(PACKAGE)}:{inner.lineno}")
    assert not bare, bare


def test_a_policy_file_problem_names_its_programmes_in_chinese() -> None:
    """The policy's cross-checks (after the schema) say what is wrong in Chinese."""
    data = _policy(quotas=[{"max": 1, "programmes": ["Q"], "years": [2030]}])
    data["programmes"] = [programme("P", {"municipal": 1}), programme("P", {"municipal": 2})]
    with pytest.raises(InputError) as raised:
        make_policy(data["programmes"], quotas=data["quotas"])
    said = [p.zh for p in raised.value.problems]
    assert said == [
        "项目编号“P”重复出现：每个项目的编号只能用一次",
        "“Q”不是本政策的项目（已有：P、P）",
        "2030年不在政策的年份（2024-2024）之内",
    ]


def test_a_check_of_a_whole_file_does_not_repeat_the_file():
    """A sweep-level check's refused input is the whole sweep: the message quoted all of it."""
    from pydantic import ValidationError

    from liangye.model.errors import validation_problems
    from liangye.scenarios.sweep_schema import Sweep

    data = {
        "id": "t",
        "outcomes": ["spend.paid"],
        "sampler": {"kind": "grid"},
        "uncertainties": {"simulation.award_scale": {"low": 0.1, "high": 0.2}},
    }
    with pytest.raises(ValidationError) as raised:
        Sweep.model_validate(data)
    (problem,) = validation_problems(raised.value, "s.toml")
    assert "needs values = [...] or a range with points = K" in problem.message
    assert "(got" not in problem.message and "'id'" not in problem.message


def test_the_chinese_line_of_a_problem_says_where_it_is(tmp_path: Path) -> None:
    """A reader of the Chinese line alone learns the file and row: "→ c.csv 第2行：“约一亿”
    不是数字" (the place was only in the English line)."""
    path = tmp_path / "c.csv"
    path.write_text(
        "编号,企业名称,类型,所在县区,所属行业,营业收入（万元）,评分\nA,甲,企业,南湖区,纺织,约一亿,80\n",
        encoding="utf-8",
    )
    done = run_liangye("validate", str(path))
    assert done.returncode == 2
    assert "→ c.csv 第2行：“营业收入”一栏：“约一亿”不是数字" in done.stdout + done.stderr
