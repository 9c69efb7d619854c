"""Command-line usage errors are said in Chinese beside click's English (scenarios/usage.py)."""

from __future__ import annotations

import pytest

from liangye.scenarios.usage import plain_usage, usage_zh

from conftest import liangye


@pytest.mark.parametrize(
    ("english", "chinese"),
    [
        (
            "No such option: --bogus (Possible options: --out, --verbose)",
            "没有选项 --bogus（可用的选项：--out, --verbose）",
        ),
        ("No such option: --x", "没有选项 --x"),
        ("No such command 'nonsense'.", "没有命令 nonsense；用 liangye --help 查看全部命令"),
        ("Missing argument 'file'.", "缺少参数 'file'"),
        ("Missing option '--policy'.", "缺少选项 '--policy'"),
        ("Option '--out' requires an argument.", "选项 --out 后面需要给出一个值"),
        ("Got unexpected extra argument(s) (b c d)", "多出了参数：b c d"),
        ("Got unexpected extra argument (b)", "多出了参数：b"),
        (
            "Invalid value for '--workers': expected greater than or equal to 1",
            "'--workers' 的取值有误：应大于或等于 1",
        ),
        ("Invalid value for '--gap': expected less than 1", "'--gap' 的取值有误：应小于 1"),
        ("Invalid value for '--seed': expected a whole number", "'--seed' 的取值有误：应为整数"),
        (
            "Invalid value for '--mode': 'x' is not one of 'a', 'b'.",
            "'--mode' 的取值有误：'x' 不是可选值之一（可选：'a', 'b'）",
        ),
        (
            "Invalid value for 'FILE': Path 'x.toml' does not exist.",
            "'FILE' 的取值有误：'x.toml' 不存在",
        ),
        ("Invalid value for '--k': something new", "'--k' 的取值有误"),
        ("Missing command.", "缺少子命令；用 --help 查看可用的子命令"),
        ("Something click may say one day", "命令行参数有误，请用 --help 查看该命令的用法"),
    ],
)
def test_every_usage_error_has_a_chinese_sentence(english, chinese):
    assert usage_zh(english) == chinese


def test_plain_usage_replaces_pydantic_wording():
    said = plain_usage(
        "Invalid value for '--seed': Input should be a valid integer, unable to parse string"
    )
    assert said == "Invalid value for '--seed': expected a whole number"
    assert usage_zh(said) == "'--seed' 的取值有误：应为整数"


def test_an_unknown_command_is_named_in_both_languages():
    done = liangye("nonsense")
    said = " ".join((done.stderr + done.stdout).split())
    assert done.returncode == 2, said
    assert "No such command 'nonsense'" in said
    assert "没有命令 nonsense" in said


def _commands(group, path=()):
    """Every leaf command of a click group, with the words that name it."""
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def test_every_option_and_argument_is_explained_in_chinese_first():
    """A reader of Chinese understands every command's options: each help text begins with
    Chinese (the English follows), and none is left without help."""
    import re

    import typer.main

    from liangye.scenarios.cli import app

    chinese = re.compile(r"[\u4e00-\u9fff]")
    group = typer.main.get_command(app)
    missing = []
    seen = 0
    for words, command in _commands(group):
        for param in command.params:
            seen += 1
            text = getattr(param, "help", None) or ""
            if not chinese.search(text[:12]):
                missing.append(f"{' '.join(words)} {param.name}: {text[:40]!r}")
    assert seen > 50, seen  # every command was walked, not an empty group
    assert missing == []


def test_the_command_list_gives_each_command_a_chinese_line_and_an_english_sentence():
    """The list of commands shows, per command, its Chinese line and then one English
    sentence, wrapped at the terminal's width (not the docstring's line breaks)."""
    import re

    import typer.main

    from liangye.scenarios.cli import app

    chinese = re.compile(r"[\u4e00-\u9fff]")
    group = typer.main.get_command(app)
    seen = 0
    for words, command in _commands(group):
        seen += 1
        lines = command.short_help.splitlines()
        assert len(lines) == 2, (words, command.short_help)
        assert chinese.search(lines[0]), (words, lines)
        assert not chinese.search(lines[1]) and lines[1].endswith("."), (words, lines)
    assert seen > 10, seen


def test_a_bracketed_word_in_an_options_help_reaches_the_screen():
    """rich reads ``[analysis]`` as markup and drops it: every bracketed word an option's
    help names (a sweep file's ``[analysis]`` table) is shown."""
    import re

    import typer.main
    from typer.testing import CliRunner

    from liangye.scenarios.cli import app

    group = typer.main.get_command(app)
    runner = CliRunner()
    seen = 0
    for words, command in _commands(group):
        wanted = {
            word
            for param in command.params
            for word in re.findall(r"\[([a-z_.]+)\]", getattr(param, "help", None) or "")
        }
        if not wanted:
            continue
        shown = runner.invoke(app, [*words, "--help"], env={"COLUMNS": "400"}).output
        for word in wanted:
            seen += 1
            assert f"[{word}]" in shown, (words, word)
    assert seen >= 1
