"""Input problems collected and reported together, in the user's terms."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and what was expected."""

    source: str  # file name, e.g. "candidates.csv"
    where: str  # row, key or column, e.g. "row 17" or "programmes[2].levels[0].amount"
    message: str

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.source}{where}: {self.message}"

    @property
    def zh(self) -> str:
        """The message in Chinese for the common forms (``_ZH``), else "" (the English,
        which names the file, row and key, stands alone)."""
        for pattern, chinese in _ZH:
            found = pattern.search(self.message)
            if found:
                return found.expand(chinese)
        return ""


# (pattern, Chinese) for the forms of message a user meets most (tables, keys, options,
# folders); the first that matches is used. The English keeps the detail.
_ZH = [
    (re.compile(r"'(.*)' is not a finite (number|amount)"), r"“\1”不是有限的数"),
    (re.compile(r"'(.*)' is not a number"), r"“\1”不是数字"),
    (re.compile(r"'(.*)' is not an amount"), r"“\1”不是金额"),
    (re.compile(r"'(.*)' is not a year"), r"“\1”不是年份"),
    (re.compile(r"'(.*)' is not a share"), r"“\1”不是0到1之间的占比（百分数请写作“20%”）"),
    (re.compile(r"'(.*)' is not a percent"), r"“\1”不是0到100之间的百分数"),
    (re.compile(r"'(.*)' is not a level"), r"“\1”不是可识别的级别（国家级、省级、市级、区县级）"),
    (re.compile(r"kind '(.*)' is not enterprise/park"), r"类型“\1”应为企业或园区"),
    (re.compile(r"is negative"), "不能为负数"),
    (re.compile(r"is not yes or no"), "应为是或否"),
    (re.compile(r"missing column '([^']*)'"), r"缺少“\1”一列"),
    (re.compile(r"^is required but missing"), "缺少此项（必填）"),
    (re.compile(r"^is not a known key"), "不是可识别的键（请检查拼写）"),
    (re.compile(r"is not text in UTF-8"), "文件编码无法识别（应为 UTF-8 或 GB18030）"),
    (re.compile(r"^is empty: expected a header row"), "是空表：应有表头和数据行"),
    (re.compile(r"^does not exist or is not a file"), "文件不存在"),
    (re.compile(r"^cannot be read"), "无法读取"),
    (re.compile(r"candidate_id '(.*)' is not in the candidate table"), r"候选“\1”不在候选名单中"),
    (re.compile(r"programme '(.*)' is not in policy (\S+)"), r"项目“\1”不在政策 \2 中"),
    (re.compile(r"programme '(.*)' has no level '(.*)'"), r"项目“\1”没有“\2”这一级别"),
    (re.compile(r"year (\d+) is outside the years"), r"\1年不在本次分配的年份之内"),
    (re.compile(r"rule '(.*)' needs column\(s\) (.*) that"), r"条件“\1”需要候选名单中的列：\2"),
    (re.compile(r"^is not a sweep folder"), "不是批量情景文件夹"),
    (re.compile(r"^is not readable JSON"), "不是完整有效的 JSON 文件（可能被截断或改动过）"),
    (re.compile(r"^is given twice"), "重复给出：每个文件夹只需给一次"),
]


class InputError(Exception):
    """Raised when an input file is wrong; carries every problem found, not only the first."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[type[InputError], tuple[list[Problem]]]:
        # Pickled with its problems (a simulation in a second process sends it back whole);
        # the default would rebuild it from the joined message, one problem per character.
        return (InputError, (self.problems,))


def raise_if_any(problems: list[Problem]) -> None:
    """Raise an InputError holding ``problems`` if there are any."""
    if problems:
        raise InputError(problems)


def _location(loc: tuple) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "is not a known key (check its spelling against docs/policy-format.md and docs/design.md)"
    if error["type"] == "missing":
        return "is required but missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return f"{message} (got {error['input']!r})" if "input" in error else message


def validation_problems(error: ValidationError, source: str) -> list[Problem]:
    """A pydantic ValidationError as Problems naming the file and the dotted key."""
    return [Problem(source, _location(e["loc"]), _message(e)) for e in error.errors()]
