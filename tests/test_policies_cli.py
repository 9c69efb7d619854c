"""``liangye policy list`` and ``liangye policy show``: every number with its clause, in Chinese."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from liangye.scenarios.cli import app
from liangye.scenarios.loader import bundled_policies

from conftest import liangye

runner = CliRunner()


def invoke(*args: str) -> str:
    result = runner.invoke(app, ["policy", *args], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    return result.output


def test_list_shows_every_bundled_policy():
    text = invoke("list")
    assert "政策文件" in text
    for policy_id in bundled_policies():
        assert policy_id in text
    rows = {row["id"]: row for row in json.loads(invoke("list", "--json"))}
    assert set(rows) == set(bundled_policies())
    assert rows["wuhan-service-manufacturing"]["levels"] == 9
    assert rows["zhongshan-pilots-2021-2023"]["quotas"] == 3


def test_list_keeps_each_title_whole_at_80_columns():
    """A table of eight columns folded the titles two characters a line (review 15): each
    document's title is now a line of its own."""
    result = runner.invoke(app, ["policy", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  武汉市促进服务型制造高质量发展的实施意见（征求意见稿）" in lines
    assert "  第三批江苏省两业深度融合试点申报指南" in lines


def test_show_json_has_amounts_rules_quotas_and_references():
    data = json.loads(invoke("show", "jiaxing-2024-2026", "--json"))
    programmes = {p["id"]: p for p in data["programmes"]}
    demo = programmes["service_manufacturing_demo"]["levels"]
    assert [(lv["level"], lv["amount"]) for lv in demo] == [
        ("national", 150),
        ("provincial", 50),
        ("municipal", 20),
    ]
    spin = programmes["service_spin_off"]["levels"][0]
    assert [b["amount"] for b in spin["bands"]] == [50, 20, 10, 50, 20, 10]
    assert spin["payouts"][0]["share"] == 0.5 and spin["payouts"][0]["years_after"] == [1, 2, 3]
    assert programmes["cross_border_platform"]["levels"][0]["cap"] == 60
    assert "amount" not in programmes["cross_border_platform"]["levels"][0]
    assert data["valid_until"] == "2026-12-31"
    assert all(q["reference"] for q in data["quotas"])
    assert {q["min"] for q in data["quotas"]} == {5, 6, 8, 10, 18}


def test_show_readable_in_chinese():
    text = invoke("show", "jiaxing-2024-2026")
    for expected in (
        "奖励项目与级别",
        "就高不重复",
        "有效期至：2026-12-31",
        "数量指标",
        "每年培育市级数字化“设计+营销”示范企业10家以上",
        "文件未规定金额",
        "最高不超过 60",
        "四（一）1",
        "目标",
    ):
        assert expected in text, expected
    zhongshan = invoke("show", "zhongshan-pilots-2021-2023")
    for expected in ("后备库", "按综合得分择优", "文件约数：20左右", "至2023年"):
        assert expected in zhongshan, expected
    jiangsu = invoke("show", "jiangsu-pilots-batch3")
    assert "撤销认定" in jiangsu and "文件未量化（不参与约束）" in jiangsu and "3年" in jiangsu


def test_show_says_rules_and_notes_in_chinese(tmp_path):
    """The conditions were shown in the files' rule language ('x' in smart_manufacturing) and
    the notes in English; a note's Chinese (note_zh) is shown in its place."""
    text = invoke("show", "jiaxing-2024-2026")
    assert "' in smart_manufacturing" not in text and "智能制造称号含“" in text
    assert "no award stated" not in text and "文件未规定奖励金额" in text
    source = (bundled_policies()["wuhan-service-manufacturing"]).read_text(encoding="utf-8")
    copy = tmp_path / "p.toml"
    # the policy's own note is in English; its Chinese is shown in its place
    assert "note_zh" in source
    assert "to let tiers stack" in source and "tolettiersstack" not in text_of(
        invoke("show", "wuhan-service-manufacturing")
    )
    copy.write_text(source.replace('note_zh = """', 'note_zh = """中文说明。', 1), encoding="utf-8")
    assert "说明：中文说明。" in text_of(invoke("show", str(copy)))


def text_of(shown: str) -> str:
    """The terminal's text without its line breaks (a table wraps long cells)."""
    return "".join(shown.split())


def test_every_note_of_the_bundled_policies_has_its_chinese():
    """A note without note_zh would be shown in English to a bureau that reads Chinese."""
    import tomllib

    def missing(node, where: str) -> list[str]:
        if isinstance(node, dict):
            here = [where] if "note" in node and "note_zh" not in node else []
            return here + [m for k, v in node.items() for m in missing(v, f"{where}.{k}")]
        if isinstance(node, list):
            return [m for i, v in enumerate(node) for m in missing(v, f"{where}[{i}]")]
        return []

    for policy_id, path in bundled_policies().items():
        assert not missing(tomllib.loads(path.read_text(encoding="utf-8")), policy_id)


def test_show_unknown_policy_exits_2():
    done = liangye("policy", "show", "nowhere")
    assert done.returncode == 2
    assert "bundled policy" in done.stderr and "Traceback" not in done.stderr
