"""Command-line usage errors (an unknown option, a missing argument, a value that cannot be
read) said in the user's words: English as click words it, made plainer, and Chinese."""

from __future__ import annotations

import re

# What typer (through pydantic) says of a value it cannot read, in plainer English.
_EXPECTED_EN = {
    "a valid integer": "a whole number",
    "a valid number": "a number",
    "a valid boolean": "true or false",
}

# The same, and click's own range wording, in Chinese.
_EXPECTED_ZH = {
    "a whole number": "整数",
    "a number": "数字",
    "true or false": "true 或 false",
}


def plain_usage(message: str) -> str:
    """A usage error in the user's words: typer's "Input should be a valid integer, unable
    to parse string as an integer" for a value it cannot read becomes "expected a whole
    number" (the option is named before it); other messages are kept."""
    match = re.search(r"Input should be (.+?)(?:,|$)", message)
    if match is None:
        return message
    return message[: match.start()] + "expected " + _EXPECTED_EN.get(match.group(1), match.group(1))


def _names(text: str) -> str:
    """Click's list of names ("--out, --verbose", "(b c d)") kept as written."""
    return text.strip().strip("()")


def _value_zh(reason: str) -> str:
    """Why a value was refused (the part after "Invalid value for '--x': "), in Chinese;
    empty when the wording is not one liangye knows."""
    reason = reason.strip().rstrip(".")
    match = re.fullmatch(r"expected (.+)", reason)
    if match:
        wanted = match.group(1)
        bound = re.fullmatch(r"(greater|less) than( or equal to)? (\S+)", wanted)
        if bound:
            side = "大于" if bound.group(1) == "greater" else "小于"
            return f"应{side}{'或等于' if bound.group(2) else ''} {bound.group(3)}"
        if wanted in _EXPECTED_ZH:
            return f"应为{_EXPECTED_ZH[wanted]}"
    match = re.fullmatch(r"(.+?) is not in the range (.+)", reason)
    if match:
        return f"{match.group(1)} 不在允许范围 {match.group(2)} 内"
    match = re.fullmatch(r"(.+?) is not one of (.+)", reason)
    if match:
        return f"{match.group(1)} 不是可选值之一（可选：{match.group(2)}）"
    match = re.fullmatch(r"(.+?) is not a valid (integer|float|boolean)(?:\b.*)?", reason)
    if match:
        kind = {"integer": "整数", "float": "数字", "boolean": "true 或 false"}[match.group(2)]
        return f"{match.group(1)} 不是有效的{kind}"
    match = re.fullmatch(r"(File|Directory|Path|file|directory|path) (.+?) does not exist", reason)
    if match:
        return f"{match.group(2)} 不存在"
    match = re.fullmatch(r"(File|Directory|Path) (.+?) is a (file|directory)", reason)
    if match:
        return f"{match.group(2)} 是{'文件' if match.group(3) == 'file' else '文件夹'}，此处不适用"
    return ""


def usage_zh(message: str) -> str:
    """A usage error (its plain English ``message``, ``plain_usage``) in Chinese: names the
    option, argument or command and what was expected. Read from click's wording, which
    typer vendors in a private module whose classes are no interface to rely on; a message
    liangye does not know gets the general sentence."""
    match = re.match(r"No such option: (\S+)(?: \(Possible options: (.+)\))?", message)
    if match:
        possible = f"（可用的选项：{match.group(2)}）" if match.group(2) else ""
        return f"没有选项 {match.group(1)}{possible}"
    match = re.match(r"No such command '(.+?)'", message)
    if match:
        return f"没有命令 {match.group(1)}；用 liangye --help 查看全部命令"
    match = re.match(r"Missing (argument|option|parameter) (.+?)\.?$", message)
    if match:
        kind = {"argument": "参数", "option": "选项"}.get(match.group(1), "参数")
        return f"缺少{kind} {match.group(2)}"
    match = re.match(r"Option '(.+?)' requires an argument", message)
    if match:
        return f"选项 {match.group(1)} 后面需要给出一个值"
    match = re.match(r"Got unexpected extra arguments?(?:\(s\))? \((.+)\)", message)
    if match:
        return f"多出了参数：{_names(match.group(1))}"
    match = re.match(r"Invalid value for (.+?): (.+)", message, flags=re.DOTALL)
    if match:
        reason = _value_zh(match.group(2))
        return f"{match.group(1)} 的取值有误" + (f"：{reason}" if reason else "")
    if message.startswith("Missing command"):
        return "缺少子命令；用 --help 查看可用的子命令"
    return "命令行参数有误，请用 --help 查看该命令的用法"
