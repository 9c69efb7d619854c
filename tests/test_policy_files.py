"""Policy files: loaded into typed objects; every kind of mistake named by file and key."""

from __future__ import annotations

from decimal import Decimal

import pytest

from liangye.model.errors import InputError
from liangye.model.policy import load_policy
from liangye.scenarios.loader import bundled_policies

GOOD = """
id = "p"
title = "测试"
years = [2024, 2026]
[[programmes]]
id = "sm"
name = "服务型制造示范"
reference = "四（一）3"
eligibility = ["revenue >= 2000"]
levels = [{ level = "国家级", amount = 150 }, { level = "municipal", amount = 20.5 }]
[[quotas]]
programmes = ["sm"]
per = "horizon"
min = 3
"""


def load_text(tmp_path, text: str):
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


def problems(tmp_path, text: str) -> str:
    with pytest.raises(InputError) as caught:
        load_text(tmp_path, text)
    return str(caught.value)


def test_good_policy_is_typed(tmp_path):
    policy = load_text(tmp_path, GOOD)
    award = policy.programmes[0].levels[1]
    assert award.amount == Decimal("20.5") and isinstance(award.amount, Decimal)
    assert policy.programmes[0].levels[0].level.value == "national"
    assert policy.stacking == "highest" and policy.upgrade == "top_up"
    assert policy.year_range == [2024, 2025, 2026]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ('reference = "四（一）3"', 'reference = "四（一）3"\nbonus = 5'),
            "policy.toml programmes[0].bonus: is not a known key",
        ),
        (("amount = 150", "amount = -150"), "policy.toml programmes[0].levels[0].amount"),
        (
            ('programmes = ["sm"]', 'programmes = ["smx"]'),
            "policy.toml quotas[0].programmes: 'smx' is not a programme",
        ),
        (
            ('"revenue >= 2000"', '"revenue >= "'),
            "policy.toml programmes[0].eligibility[0]: rule 'revenue >= ' does not parse",
        ),
        (('"revenue >= 2000"', "\"__import__('os')\""), "does not parse"),
        (("min = 3", "min = 3\nmax = 1"), "min 3 is above max 1"),
        (('level = "国家级"', 'level = "星际"'), "policy.toml programmes[0].levels[0].level"),
        (('title = "测试"', 'title = "测试"\ntitle = "again"'), "policy.toml: is not valid TOML"),
        (
            ("years = [2024, 2026]", "years = [2026, 2024]"),
            "first year 2026 is after last year 2024",
        ),
    ],
)
def test_bad_policy_files(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    assert expected in problems(tmp_path, GOOD.replace(old, new, 1))


def test_all_problems_reported_together(tmp_path):
    text = GOOD.replace("amount = 150", "amount = -150").replace(
        'programmes = ["sm"]', 'programmes = ["x"]'
    )
    message = problems(tmp_path, text)
    # Type errors are reported before cross-checks run; fix them and the next appear.
    assert "amount" in message
    message = problems(
        tmp_path,
        GOOD.replace('programmes = ["sm"]', 'programmes = ["x"]').replace(
            '"revenue >= 2000"', '"revenue >>"'
        ),
    )
    assert "'x' is not a programme" in message and "does not parse" in message


def test_bundled_policies_load():
    policies = bundled_policies()
    assert "jiaxing-2024-2026" in policies
    for path in policies.values():
        policy = load_policy(path)
        assert policy.programmes and all(p.reference for p in policy.programmes)


@pytest.mark.parametrize(
    ("text", "english", "chinese"),
    [
        (
            'levels = [{ level = "municipal", amount = 20,\n  payouts = [] }]\n',
            "an inline table { … } must stay on one line",
            "行内表 { … } 须写在同一行",
        ),
        ("[allocation]\nsuccess_probability = { 省级 = 0.4 }\n", '"省级" = …', '"省级" = …'),
        ("title = 测试\n", 'text is written in quotes: "测试"', '文字须加引号，如 "测试"'),
        # review 24: a missing comma, and a "{" inside a text, are no table broken over lines
        ("a = { x = 1 y = 2 }\n", "", ""),
        ('note = "a { b"\nc = = 2\n', "", ""),
        ("a = 1\nb = [1,\n", "", ""),
    ],
)
def test_a_toml_mistake_people_make_is_named_with_its_fix(tmp_path, text, english, chinese):
    """Review 23: an inline table broken over lines and a key in Chinese without quotes were
    said as "Invalid initial character for a key part" and a line and column; each now says
    what to write. Another mistake keeps the parser's words alone."""
    from liangye.model.policy import read_toml

    path = tmp_path / "x.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        read_toml(path)
    [problem] = caught.value.problems
    assert "is not valid TOML" in problem.message
    if english:
        assert english in problem.message and chinese in problem.zh
    else:
        assert "；" not in problem.zh.split("TOML 文件")[1]


def test_an_award_written_in_yuan_is_warned_of(tmp_path):
    """Review 23: amount = 1200000 (120万元 written in 元) was a 120亿元 award, accepted
    without a word. validate says so, and so does the allocation's notes; 10,000万元 is not."""
    from liangye.model.policy_checks import implausible_amounts

    def policy(amount: int):
        path = tmp_path / "p.toml"
        path.write_text(
            'id = "t"\ntitle = "t"\nyears = [2024]\n[[programmes]]\nid = "P"\nname = "P"\n'
            f'reference = "t"\nlevels = [{{ level = "municipal", amount = {amount} }}]\n',
            encoding="utf-8",
        )
        return load_policy(path)

    [(english, chinese)] = implausible_amounts(policy(1_200_000))
    assert "1,200,000万元 (120.0亿元)" in english and "如填写的是元，请除以 10,000" in chinese
    assert implausible_amounts(policy(10_000)) == []
