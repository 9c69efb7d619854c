"""Sweep files and designs: validation, samplers, seeds shared by every lever setting."""

from __future__ import annotations

import numpy as np
import pytest

from liangye.model.errors import InputError
from liangye.scenarios.sweep import (
    SWEEP_DIR,
    build_design,
    from_unit,
    replication_seeds,
    run_id,
)
from liangye.scenarios.sweep_checks import check_keys
from liangye.scenarios.sweep_run import prepare
from liangye.scenarios.sweep_schema import Range, Sweep, load_sweep


def sweep(**data: object) -> Sweep:
    return Sweep.model_validate({"id": "t", "outcomes": ["spend.paid"], **data})


def write(tmp_path, text: str):
    path = tmp_path / "s.toml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(path) -> list[str]:
    with pytest.raises(InputError) as caught:
        load_sweep(path)
    return [str(p) for p in caught.value.problems]


def test_grid_crosses_levers_samples_and_replications_with_shared_seeds():
    s = sweep(
        levers={
            "tier_design": ["jiaxing", "wuhan"],
            "budget_scale": {"low": 0.5, "high": 1.5, "points": 3},
        },
        uncertainties={"simulation.award_response": [1.0, 5.0]},
        replications=3,
        root_seed=42,
    )
    design = build_design(s)
    assert len(design.runs) == 2 * 3 * 2 * 3
    assert [r.position for r in design.runs] == list(range(36))
    assert len({r.run_id for r in design.runs}) == 36
    assert {r.levers["budget_scale"] for r in design.runs} == {0.5, 1.0, 1.5}
    expected = [
        int(c.generate_state(1, dtype=np.uint32)[0]) for c in np.random.SeedSequence(42).spawn(3)
    ]
    assert replication_seeds(42, 3) == expected
    # common random numbers: every lever setting runs on the same (point, seed) worlds
    worlds: dict[tuple, set] = {}
    for r in design.runs:
        key = (r.levers["tier_design"], r.levers["budget_scale"])
        worlds.setdefault(key, set()).add((tuple(r.uncertainties.items()), r.seed))
    assert len(set(map(frozenset, worlds.values()))) == 1
    assert build_design(s).runs == design.runs  # the same file, the same design


def test_run_id_depends_on_parameters_and_seed_only():
    assert run_id({"a": 1, "b": "x"}, 5) == run_id({"b": "x", "a": 1}, 5)
    assert run_id({"a": 1}, 5) != run_id({"a": 1}, 6)
    assert run_id({"a": 1}, 5) != run_id({"a": 2}, 5)


def test_sobol_design_is_saltelli_sized_and_lhs_is_stratified():
    unc = {
        "x": {"low": 0, "high": 1},
        "y": {"low": 10, "high": 20},
        "z": {"dist": "normal", "mean": 0, "sd": 1},
    }
    design = build_design(sweep(uncertainties=unc, sampler={"kind": "sobol", "samples": 8}))
    assert len(design.runs) == 8 * (3 + 2) and design.points == 40
    assert all(10 <= r.uncertainties["y"] <= 20 for r in design.runs)
    crossed = build_design(
        sweep(
            levers={"tier_design": ["a", "b"]},
            uncertainties=unc,
            sampler={"kind": "lhs", "samples": 10},
        )
    )
    assert len(crossed.runs) == 20
    xs = sorted(r.uncertainties["x"] for r in crossed.runs if r.levers["tier_design"] == "a")
    assert all(k / 10 <= x < (k + 1) / 10 for k, x in enumerate(xs))  # one per stratum
    joint = build_design(
        sweep(
            levers={"budget_scale": {"low": 0.5, "high": 2}},
            uncertainties=unc,
            sampler={"kind": "lhs", "samples": 6, "combine": "joint"},
        )
    )
    assert len(joint.runs) == 6 and len({r.levers["budget_scale"] for r in joint.runs}) == 6


def test_from_unit_maps_quantiles():
    assert from_unit(Range(low=1, high=100, dist="loguniform"), 0.5) == pytest.approx(10)
    assert from_unit(Range(low=0, high=10, integer=True), 0.46) == 5


def test_an_integer_range_samples_each_whole_number_alike():
    """Review 11: rounding a uniform draw gave -3 and 3 half the share of -2..2."""
    factor = Range(low=-3, high=3, integer=True)
    draws = [from_unit(factor, u) for u in (np.arange(7000) + 0.5) / 7000]
    counts = {k: draws.count(k) for k in range(-3, 4)}
    assert set(draws) == set(range(-3, 4)) and set(counts.values()) == {1000}
    assert all(isinstance(d, int) for d in draws)
    # not-whole ends: the whole numbers inside, each alike
    inside = [from_unit(Range(low=0.5, high=2.5, integer=True), u) for u in (0.1, 0.6)]
    assert inside == [1, 2]
    with pytest.raises(ValueError, match="holds no whole number"):
        Range(low=0.2, high=0.8, integer=True)
    # log-uniform too, and its rounded values stay inside (2.2-2.4 gave 2: review 13)
    with pytest.raises(ValueError, match="holds no whole number"):
        Range(low=2.2, high=2.4, dist="loguniform", integer=True)
    logs = [
        from_unit(Range(low=1.6, high=9.6, dist="loguniform", integer=True), u) for u in (0.0, 1.0)
    ]
    assert logs == [2, 9]


def test_a_normal_with_bounds_is_truncated_not_clipped():
    """Review 11: clipping put the tails' mass exactly on the bounds (3 of 50 points)."""
    from scipy.stats import truncnorm

    from liangye.scenarios.sweep_schema import Normal

    factor = Normal(dist="normal", mean=0.5, sd=1.0, low=-1.5, high=2.5)
    u = (np.arange(1000) + 0.5) / 1000
    draws = np.array([from_unit(factor, x) for x in u])
    assert (draws > -1.5).all() and (draws < 2.5).all()
    expected = truncnorm.ppf(u, (-1.5 - 0.5) / 1.0, (2.5 - 0.5) / 1.0, loc=0.5, scale=1.0)
    assert np.allclose(draws, expected, atol=1e-9)
    with pytest.raises(ValueError, match="almost none"):
        Normal(dist="normal", mean=0.0, sd=1.0, low=40.0, high=41.0)


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ('[levers]\n"budget_scale" = { low = 2, high = 1 }', "levers.budget_scale", "empty range"),
        (
            '[sampler]\nkind = "sobol"\nsamples = 6\n[uncertainties]\nx = { low = 0, high = 1 }',
            "sampler.samples",
            "power of two",
        ),
        # one sample: indices of -2.7 and 11.1 read as valid and precise (review 19)
        (
            '[sampler]\nkind = "sobol"\nsamples = 1\n[uncertainties]\nx = { low = 0, high = 1 }',
            "sampler.samples",
            "at least 2",
        ),
        ("[uncertainties]\nx = { low = 0, high = 1 }", "", "points = K"),
        # a number written as text was read as the number (review 19)
        ('replications = "3"\n[levers]\nbudget_scale = [1.0]', "replications", "integer"),
        # set for every run and varied: the lever won without a word (review 19)
        (
            'set = ["tier_design=jiaxing"]\n[levers]\ntier_design = ["wuhan", "flat"]',
            "",
            "both set for every run",
        ),
        ("[levers]\nx = 3", "levers.x", "expected a list of values"),
        ('[sampler]\nkind = "lhs"', "sampler.samples", "needs samples"),
        # accepted silently with another sampler, it did nothing (review 14)
        (
            '[sampler]\nkind = "lhs"\nsamples = 8\nsecond_order = true\n'
            "[uncertainties]\nx = { low = 0, high = 1 }",
            "sampler.second_order",
            "for the sobol sampler",
        ),
        ("bogus = 1", "bogus", "not a known key"),
        # the tag of a listed factor is not said twice (levers.budget_scale.values.values)
        ("[levers]\nbudget_scale = []", "levers.budget_scale.values:", "at least 1 item"),
    ],
)
def test_bad_sweep_files_name_file_and_key(tmp_path, body, where, words):
    path = write(tmp_path, f'id = "t"\noutcomes = ["spend.paid"]\n{body}\n')
    found = problems(path)
    assert any(p.startswith(f"s.toml {where}".rstrip()) and words in p for p in found), found


def test_unknown_scenario_key_is_named(tmp_path):
    path = write(
        tmp_path,
        'id = "t"\noutcomes = ["spend.paid"]\n[levers]\n"simulation.award_respons" = [1, 2]\n'
        '"simulation.award_scale" = [-1]\n',
    )
    with pytest.raises(InputError) as caught:
        check_keys(load_sweep(path), path)
    text = [str(p) for p in caught.value.problems]
    assert any("s.toml levers.simulation.award_respons: is not a key" in p for p in text), text
    assert any("s.toml levers.simulation.award_scale[0]: value -1 is refused" in p for p in text), (
        text
    )


def test_every_refused_value_of_a_list_is_named(tmp_path):
    """[0.05, 0.0, 1.5] named 0.0 and hid 1.5 until it was fixed (review 19); a budget scale
    of [1.0, -1.0, 0.0] likewise."""
    path = write(
        tmp_path,
        'id = "t"\noutcomes = ["spend.paid"]\n[levers]\n'
        '"allocation.overrun_risk" = [0.05, 0.0, 1.5]\nbudget_scale = [1.0, -1.0, 0.0]\n',
    )
    with pytest.raises(InputError) as caught:
        check_keys(load_sweep(path), path)
    wheres = [p.where for p in caught.value.problems]
    assert wheres == [
        "levers.allocation.overrun_risk[1]",
        "levers.allocation.overrun_risk[2]",
        "levers.budget_scale[1]",
        "levers.budget_scale[2]",
    ]


def test_unknown_outcome_is_named(tmp_path):
    path = write(
        tmp_path,
        'id = "t"\nset = ["simulation.population.firms=200"]\noutcomes = ["spend.paid", "profit"]\n',
    )
    with pytest.raises(InputError, match=r"outcomes\[1\]: 'profit' is no simulation outcome"):
        prepare(path)


@pytest.mark.parametrize("name", ["tier-budget", "behaviour-sobol", "ishigami"])
def test_bundled_sweeps_prepare(name):
    prepared = prepare(SWEEP_DIR / f"{name}.toml")
    assert prepared.design.runs
    if name == "tier-budget":
        assert len(prepared.design.runs) == 4 * 3 * 5
    elif name == "ishigami":
        assert len(prepared.design.runs) == 1024 * (3 + 2) and prepared.scenario_hash is None
    else:
        assert len(prepared.design.runs) == 16 * (5 + 2)


def test_an_unknown_tier_design_lever_is_refused_before_any_run(tmp_path):
    """Its runs were all stored as failed ("'nosuch' is not a tier design")."""
    path = write(
        tmp_path,
        'id = "t"\noutcomes = ["spend.paid"]\n[levers]\ntier_design = ["flat", "nosuch"]\n',
    )
    with pytest.raises(InputError) as caught:
        prepare(path)
    text = " ".join(str(p) for p in caught.value.problems)
    assert "levers.tier_design" in text and "'nosuch' is not a tier design" in text


@pytest.mark.parametrize(
    ("values", "where", "written"),
    [('["big", 1.0]', "[0]", '"big"'), ("[1.0, true]", "[1]", "true"), ("[0.5, -1]", "[1]", "-1")],
)
def test_a_budget_scale_that_is_not_a_positive_number_is_named_by_its_place(
    tmp_path, values, where, written
):
    """It failed with a raw "could not convert string to float" (exit 1), and true was read
    as a scale of 1."""
    path = write(
        tmp_path, f'id = "t"\noutcomes = ["spend.paid"]\n[levers]\nbudget_scale = {values}\n'
    )
    with pytest.raises(InputError) as caught:
        prepare(path)
    text = [str(p) for p in caught.value.problems]
    assert text == [
        f"s.toml levers.budget_scale{where}: expected a number above 0 that multiplies every "
        f"budget, e.g. 0.8 (got {written})"
    ]
    assert "预算" in caught.value.problems[0].chinese


def test_a_continuous_range_over_a_whole_number_key_is_refused_before_any_run(tmp_path):
    """Its ends pass the scenario, so every run drawn between them failed and the sweep
    still ended well; ``integer = true`` is what it needs, and then it is taken."""
    body = (
        'id = "t"\noutcomes = ["spend.paid"]\n[sampler]\nkind = "lhs"\nsamples = 4\n'
        '[uncertainties]\n"simulation.population.firms" = { low = 100, high = 300%s }\n'
    )
    path = write(tmp_path, body % "")
    with pytest.raises(InputError, match=r"whole numbers only.*integer = true"):
        prepare(path)
    path = write(tmp_path, body % ", integer = true")
    assert len(prepare(path).design.runs) == 4


def test_an_unquoted_dotted_key_is_the_same_factor_as_a_quoted_one(tmp_path):
    """TOML reads ``allocation.overrun_risk = [..]`` as a table; it was refused as a range
    missing its low and high."""
    quoted = sweep(levers={"allocation.overrun_risk": [0.05, 0.1]})
    path = write(
        tmp_path,
        'id = "t"\noutcomes = ["spend.paid"]\n[levers]\nallocation.overrun_risk = [0.05, 0.1]\n'
        "allocation.risk_samples = { low = 100, high = 200, points = 2 }\n",
    )
    unquoted = load_sweep(path)
    assert unquoted.levers["allocation.overrun_risk"] == quoted.levers["allocation.overrun_risk"]
    assert set(unquoted.levers) == {"allocation.overrun_risk", "allocation.risk_samples"}


def test_a_failed_runs_input_error_is_stored_with_its_chinese_and_not_as_a_users_set():
    """The store said "--set simulation.population.firms: ..." for a value the sweep drew."""
    from liangye.model.errors import Problem
    from liangye.scenarios.sweep import PACKAGE_DIR, ScenarioModel, error_text

    model = ScenarioModel(PACKAGE_DIR / "default.toml")
    with pytest.raises(InputError) as caught:
        model({"simulation.population.firms": 10.5}, seed=1)
    text = error_text(caught.value)
    assert text.startswith("InputError: sweep value simulation.population.firms:"), text
    assert "--set" not in text and "企业数" in text
    plain = error_text(InputError([Problem("a.csv", "row 2", "'x' is not a number")]))
    assert plain == "InputError: a.csv row 2: 'x' is not a number（“x”不是数字）"


def test_a_scenario_file_given_as_a_sweep_is_named_as_such(tmp_path):
    """It gave eight unknown-key problems, one per scenario key."""
    path = write(tmp_path, 'id = "s"\npolicy = "jiaxing-2024-2026"\n[budget]\ntotal = 100\n')
    found = problems(path)
    assert len(found) == 1 and "is a scenario file, not a sweep file" in found[0]


def test_a_grid_of_whole_numbers_that_repeats_a_value_is_refused(tmp_path):
    """points = 5 over [0, 1] rounded to whole numbers gives 0, 0, 0, 1, 1: settings that
    repeat one another's worlds, on which the analysis failed ("non-unique multi-index")."""
    path = write(
        tmp_path,
        'id = "t"\nmodel = "ishigami"\noutcomes = ["y"]\n'
        "[levers]\na = { low = 0, high = 1, points = 5, integer = true }\n",
    )
    [said] = problems(path)
    assert "levers.a" in said and "[0, 0, 0, 1, 1]" in said
    fine = sweep(
        levers={
            "simulation.population.firms": {"low": 100, "high": 300, "points": 3, "integer": True}
        }
    )
    assert fine.levers["simulation.population.firms"].grid() == [100, 200, 300]


def test_listed_values_equal_as_numbers_are_one_value(tmp_path):
    """7 and 7.0 were two settings in one column of the store, analysed as one."""
    path = write(
        tmp_path, 'id = "t"\nmodel = "ishigami"\noutcomes = ["y"]\n[levers]\na = [7, 7.0, 2]\n'
    )
    [said] = problems(path)
    assert "levers.a" in said and "distinct" in said
    assert sweep(levers={"simulation.awards_enabled": [True, False]})  # true is not 1


@pytest.mark.parametrize("model", ["scenario", "ishigami"])
def test_every_problem_of_a_sweep_file_is_said_at_once(tmp_path, model):
    """A bad analysis target hid a refused lever value and an unknown outcome, one per run of
    validate (review 19): prepare, which validate and sweep share, says them together."""
    if model == "scenario":
        body = (
            'id = "t"\noutcomes = ["spend.paid", "nonsense.outcome"]\n'
            '[levers]\n"simulation.award_scale" = [1.0, -1.0]\n'
        )
        expected = {"analysis.targets[0]", "levers.simulation.award_scale[1]", "outcomes[1]"}
    else:
        body = (
            'id = "t"\nmodel = "ishigami"\noutcomes = ["y", "z"]\n'
            "[uncertainties]\nx1 = [-1.0, 1.0]\nx2 = [0.0]\nx3 = [0.0]\n"
        )
        expected = {"analysis.targets[0]", "outcomes[1]"}
    path = write(tmp_path, body + '[analysis]\ntargets = ["spend.paid <= abc"]\n')
    with pytest.raises(InputError) as caught:
        prepare(path)
    assert {p.where for p in caught.value.problems} == expected
