"""Policy files a hostile but realistic user writes: refused up front, or accepted with the
reading said (issue 13, policies)."""

from __future__ import annotations

import pytest

from liangye.model.errors import InputError
from liangye.model.expressions import RuleSyntaxError, parse_rule

from conftest import liangye, make_candidates, make_policy, programme, solve


def policy_text(**replace: str) -> str:
    from liangye.scenarios.loader import bundled_policies

    text = bundled_policies()["jiaxing-2024-2026"].read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    ("years", "words"),
    [
        ("[2024, 20026]", "years must lie in 1949-2100"),
        ("[1, 100000]", "years must lie in 1949-2100"),
        ("[2024, 2070]", "47 years is longer than the 30"),
    ],
)
def test_a_horizon_past_what_can_be_planned_is_refused_at_once(tmp_path, years, words):
    path = tmp_path / "p.toml"
    path.write_text(policy_text(**{"years = [2024, 2026]": f"years = {years}"}), encoding="utf-8")
    done = liangye("validate", str(path))
    assert done.returncode == 2 and "p.toml years" in done.stdout and words in done.stdout


def test_an_amount_beyond_any_budget_is_refused_naming_the_key(tmp_path):
    path = tmp_path / "p.toml"
    text = policy_text(
        **{
            'amount = 150, reference = "四（一）3: 国家级…给予150万元"': 'amount = 1e300, reference = "x"'
        }
    )
    path.write_text(text, encoding="utf-8")
    done = liangye("validate", str(path))
    assert done.returncode == 2
    assert "programmes[0].levels[0].amount" in done.stdout and "check the unit" in done.stdout
    assert "InvalidOperation" not in done.stdout + done.stderr


@pytest.mark.parametrize(
    "rule",
    [
        "(" * 5000 + "revenue > 1" + ")" * 5000,
        "not " * 3000 + "design_prize",
        "revenue" + " + 1" * 2000,
    ],
)
def test_rules_too_deep_or_too_long_are_refused_not_crashed_on(rule):
    with pytest.raises(RuleSyntaxError, match=r"nested|symbols"):
        parse_rule(rule)


@pytest.mark.parametrize("rule", ["service_input_share >= 20", "revenue >= '5亿'"])
def test_a_rule_no_candidate_meets_is_said(rule):
    """A share compared with 20 (meant 20%) or an amount quoted as text matches nobody: the
    allocation still runs, and a note (printed by default) says which rule and why."""
    policy = make_policy([programme("P", {"municipal": 20}, eligibility=[rule])])
    candidates = make_candidates([{"id": c, "score": 80} for c in "ABC"])
    result = solve(policy, candidates, {2024: 100})
    notes = result.problem.notes
    assert any(rule in n.en and "holds for none of the 3 candidates" in n.en for n in notes)
    said = result.to_dict()
    assert said["notes"] == [n.en for n in notes]
    # in Chinese for the bureau: the rule with its column's Chinese name, and the unit hint
    assert any("对全部3个候选都不成立" in zh and "请检查单位" in zh for zh in said["notes_zh"])


def test_a_programme_that_sits_out_is_said_by_default(tmp_path):
    """A misspelt column in an applicants rule makes the programme take no part: the plain
    command (no -v) says so."""
    from liangye.model.synthetic import synthetic_candidates

    pool = synthetic_candidates(60, 0, seed=3)
    path = tmp_path / "c.csv"
    pool.drop(columns=["row", "held"]).to_csv(path, index=False)
    policy = tmp_path / "p.toml"
    policy.write_text(
        policy_text(
            **{
                "applicants = \"'省级智能工厂' in smart_manufacturing\"": (
                    "applicants = \"'省级智能工厂' in smart_manufactoring\""
                )
            }
        ),
        encoding="utf-8",
    )
    done = liangye(
        "allocate", "--policy", str(policy), "--candidates", str(path),
        "--chance", "national=0.3", "--chance", "provincial=0.5", "--budget", "600",
    )  # fmt: skip
    # Said in Chinese (the reader's language): the programme by its name, the missing column.
    assert "不参与本次分配" in done.stdout and "smart_manufactoring" in done.stdout
    assert "takes no part" not in done.stdout
    assert "smart_manufactoring" in done.stdout


def test_applications_naming_unknown_things_are_refused_row_by_row():
    """Each bad application row is named with what it names that does not exist."""
    import pandas as pd

    from liangye.model.errors import InputError
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    policy = make_policy([programme("P", {"municipal": 20})], years=[2024, 2025])
    candidates = make_candidates([{"id": "A", "score": 80}])
    apps = pd.DataFrame(
        {
            "candidate_id": ["A", "Z", "A", "A", "A"],
            "programme": ["P", "P", "Q", "P", "P"],
            "level": ["municipal", "municipal", "municipal", "national", "municipal"],
            "year": [2024, 2024, 2024, 2024, 2031],
            "score": [80.0] * 5,
            "row": [f"row {i}" for i in range(2, 7)],
        }
    )
    apps.attrs["source"] = "apps.csv"
    with pytest.raises(InputError) as caught:
        build_problem(policy, candidates, Budget(), AllocationSettings(), [2024, 2025], apps)
    said = [str(p) for p in caught.value.problems]
    assert said == [
        "apps.csv row 3: candidate_id 'Z' is not in the candidate table",
        "apps.csv row 4: programme 'Q' is not in policy test (its programmes: P)",
        "apps.csv row 5: programme 'P' has no level 'national'",
        "apps.csv row 6: year 2031 is outside the years [2024, 2025]",
    ]


def test_a_table_past_what_one_allocation_handles_is_refused_at_once(monkeypatch):
    """More options than MAX_OPTIONS (100,000 candidates under Jiaxing made 1.8 million and
    took 158 s and 4.9 GiB): refused before any option is made, with the size and the way
    out. Checked with a lowered limit so that the test stays small."""
    from decimal import Decimal

    from liangye.model.errors import InputError
    from liangye.model.options import build_problem
    from liangye.model.settings import AllocationSettings, Budget

    monkeypatch.setattr("liangye.model.problem_checks.MAX_OPTIONS", 50)
    policy = make_policy([programme("P", {"municipal": 20, "provincial": 50})], years=[2024, 2026])
    candidates = make_candidates([{"id": f"C{i}", "score": 80} for i in range(10)])
    budget = Budget(per_year={t: Decimal(100) for t in (2024, 2025, 2026)})
    with pytest.raises(InputError, match=r"10 candidates make about 60 options.*more than the 50"):
        build_problem(policy, candidates, budget, AllocationSettings(), [2024, 2025, 2026])
    monkeypatch.setattr("liangye.model.problem_checks.MAX_OPTIONS", 60)
    assert build_problem(policy, candidates, budget, AllocationSettings(), [2024, 2025, 2026]).size


def test_a_quota_or_balance_over_a_level_its_programmes_lack_is_refused():
    """A quota over district titles of programmes that have none counted nothing: the
    allocation said infeasible where the policy file was at fault (fuzzing)."""
    with pytest.raises(InputError) as raised:
        make_policy(
            [programme("P", {"municipal": 20, "provincial": 50}), programme("Q", {"national": 9})],
            quotas=[
                {"programmes": ["P"], "levels": ["national"], "min": 1, "per": "year"},
                {"levels": ["national"], "max": 3, "per": "year"},  # Q has it: fine
            ],
            balance=[{"by": "district", "levels": ["district"], "max_count": 2, "per": "year"}],
        )
    said = [(p.where, p.message, p.chinese) for p in raised.value.problems]
    assert [w for w, _, _ in said] == ["quotas[0].levels", "balance[0].levels"]
    assert said[0][1] == (
        "'national' is a level none of its programmes has (they have: provincial, municipal)"
    )
    assert said[0][2] == "国家级不是其所含项目的任何级别（已有：省级、市级）"


@pytest.mark.parametrize(
    ("levels", "extra", "where"),
    [
        (
            [{"level": "provincial", "amount": 50, "decision": "discretionary"}],
            {},
            "programmes[0].levels[0].decision",
        ),
        (
            [{"level": "national", "amount": 150}, {"level": "municipal", "amount": 20}],
            {"decision": "discretionary"},
            "programmes[0].decision",
        ),
    ],
)
def test_a_discretionary_tier_conferred_above_the_city_is_refused(levels, extra, where):
    """A tier the province or the nation confers cannot be the city's own choice: priced with
    their chance of conferral it was budgeted as uncertain (25% overrun chance) where the
    city, having "decided", would pay for sure. Refused, naming the key and both ways out."""
    with pytest.raises(InputError) as raised:
        make_policy([{"id": "P", "name": "P", "reference": "t", "levels": levels, **extra}])
    (problem,) = raised.value.problems
    assert problem.where == where
    assert "nomination" in problem.message and "conferred_by" in problem.message
    assert "本级不能自行认定" in problem.zh


def test_a_discretionary_tier_the_city_confers_itself_is_accepted():
    """The same tier conferred by the deciding level itself is the city's choice."""
    levels = [
        {
            "level": "provincial",
            "amount": 50,
            "decision": "discretionary",
            "conferred_by": "municipal",
        }
    ]
    policy = make_policy([{"id": "P", "name": "P", "reference": "t", "levels": levels}])
    assert policy.decision(policy.programmes[0], policy.programmes[0].levels[0]) == (
        "discretionary"
    )


def test_a_policy_saved_with_a_byte_order_mark_and_one_year_is_read(tmp_path):
    """Notepad saves UTF-8 with a byte-order mark (refused as 'invalid statement at line 1,
    column 1'); ``years = [2024]`` is that year alone, as in a scenario (refused as
    'years[1]: is required')."""
    from liangye.model.policy import load_policy

    path = tmp_path / "p.toml"
    text = (
        'id = "bom"\ntitle = "带BOM的政策"\nyears = [2024]\n\n[[programmes]]\nid = "P"\n'
        'name = "示范"\nreference = "t"\nlevels = [{ level = "municipal", amount = 20 }]\n'
    )
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    policy = load_policy(path)
    assert policy.title == "带BOM的政策" and policy.year_range == [2024]


def test_a_problem_found_when_the_policy_meets_the_table_names_the_policy_file(tmp_path):
    """A rule naming a column the candidate table lacks is the policy file's problem: named
    by the file (it was named by the id inside it, which a reader with several policy
    files cannot find)."""
    from liangye.model.policy import load_policy
    from liangye.model.settings import AllocationSettings, Budget

    path = tmp_path / "my-policy.toml"
    path.write_text(
        'id = "base"\ntitle = "t"\nyears = [2024]\n\n[[programmes]]\nid = "P"\nname = "示范"\n'
        'reference = "t"\neligibility = ["profit >= 500"]\n'
        'levels = [{ level = "municipal", amount = 20 }]\n',
        encoding="utf-8",
    )
    from liangye.model.options import build_problem

    with pytest.raises(InputError) as raised:
        build_problem(
            load_policy(path),
            make_candidates([{"id": "A", "score": 80}]),
            Budget(),
            AllocationSettings(),
        )
    (problem,) = raised.value.problems
    assert problem.source == "my-policy.toml" and "profit" in problem.message
