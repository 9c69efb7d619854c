"""Input problems collected and reported together, in the user's terms."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input: where it is and what was expected, in English and,
    for the reader, in Chinese."""

    source: str  # file name, e.g. "candidates.csv"
    where: str  # row, key or column, e.g. "row 17" or "programmes[2].levels[0].amount"
    message: str
    # The Chinese the site words itself; "" leaves it to the patterns of ``_ZH``.
    chinese: str = ""

    def __str__(self) -> str:
        where = f" {self.where}" if self.where else ""
        return f"{self.source}{where}: {self.message}"

    @property
    def zh(self) -> str:
        """The message in Chinese: the site's own (``chinese``), else the pattern of ``_ZH``
        its English matches, else "" (the English, which names the file, row and key,
        stands alone)."""
        return self.chinese or message_zh(self.message)

    def located_zh(self) -> str:
        """The Chinese with where it is, for a reader of the Chinese line alone:
        ``bad.csv 第3行：“约一亿”不是数字`` ("" when there is no Chinese)."""
        if not self.zh:
            return ""
        where = re.sub(r"^row (\d+)", r"第\1行", self.where)
        where = {"header": "表头"}.get(where, where)
        place = " ".join(part for part in (self.source, where) if part)
        return f"{place}：{self.zh}" if place else self.zh


def message_zh(message: str) -> str:
    """The Chinese of an English ``message`` by the first pattern of ``_ZH`` it matches,
    else "" (a sentence of the parsers, e.g. "'abc' is not a number", reaches problems
    through several sites; its Chinese is kept here once)."""
    for pattern, chinese in _ZH:
        found = pattern.search(message)
        if found:
            return found.expand(chinese)
    return ""


class InvalidValue(ValueError):
    """A ValueError a validator raises with its sentence in Chinese too: pydantic keeps the
    exception in the error's context, and ``validation_problems`` gives the reader ``zh``."""

    def __init__(self, message: str, zh: str):
        super().__init__(message)
        self.zh = zh

    def __reduce__(self) -> tuple[type[InvalidValue], tuple[str, str]]:
        # Rebuilt with both sentences (the default would call __init__ with the English only).
        return (InvalidValue, (str(self), self.zh))


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
    (
        re.compile(r"'(.*)' is above the largest score, ([\d,]+)"),
        r"“\1”超过评分上限 \2：评分应为专家打分（如百分制），请检查数值",
    ),
    (re.compile(r"is not yes or no"), "应为是或否"),
    (re.compile(r"missing column '([^']*)'"), r"缺少“\1”一列"),
    (re.compile(r"^is required but missing"), "缺少此项（必填）"),
    (re.compile(r"^is not a known key"), "不是可识别的键（请检查拼写）"),
    (re.compile(r"is not text in UTF-8"), "文件编码无法识别（应为 UTF-8 或 GB18030）"),
    (re.compile(r"^is empty: expected a header row"), "是空表：应有表头和数据行"),
    (re.compile(r"^does not exist or is not a file"), "文件不存在"),
    (re.compile(r"^cannot be read"), "无法读取"),
    (re.compile(r"candidate_id '(.*)' is not in the candidate table"), r"候选“\1”不在候选名单中"),
    (re.compile(r"column '(.*)' is not in the candidate table"), r"候选名单中没有“\1”一列"),
    (re.compile(r"programme '(.*)' is not in policy (\S+)"), r"项目“\1”不在政策 \2 中"),
    (re.compile(r"programme '(.*)' has no level '(.*)'"), r"项目“\1”没有“\2”这一级别"),
    (re.compile(r"year (\d+) is outside the years"), r"\1年不在本次分配的年份之内"),
    (re.compile(r"rule '(.*)' needs column\(s\) (.*) that"), r"条件“\1”需要候选名单中的列：\2"),
    (re.compile(r"^is not a sweep folder"), "不是批量情景文件夹"),
    (re.compile(r"^is not readable JSON"), "不是完整有效的 JSON 文件（可能被截断或改动过）"),
    (re.compile(r"^is given twice"), "重复给出：每个文件夹只需给一次"),
    (re.compile(r"'(.*)' is not 'programme:level'"), r"“\1”应写作“项目:级别”，多项以分号隔开"),
    (
        re.compile(r"is above [\d,]+万元 \(10万亿元\)"),
        "超过10万亿元，多于任何奖励、预算或企业收入：请检查单位（金额以万元计）",
    ),
    (re.compile(r"^'(.*)' is a duplicate"), r"“\1”重复出现：每个编号只能用一次"),
    (re.compile(r"^file not found"), "文件不存在"),
    (re.compile(r"^is not UTF-8 text"), "不是 UTF-8 编码的文本文件"),
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
    """A pydantic error location as the key path a user wrote (``levers.budget[0]``). A tagged
    union puts its tag in the location before the field: a tag named after its only field
    (a sweep factor's ``values``) is said once, not as ``values.values``."""
    text = ""
    previous = None
    for part in loc:
        if isinstance(part, str) and part == previous:
            continue
        previous = part
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _message(error: dict) -> str:
    if error["type"] == "extra_forbidden":
        return "is not a known key (check its spelling against docs/reference.md)"
    if error["type"] == "missing":
        return "is required but missing"
    message = error["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return f"{message}{_got(error)}"


def _got(error: dict) -> str:
    """ " (got VALUE)" for the value a validation error refused, when it is one a reader can
    use: not a whole table (a check of the whole sweep file repeated all of it), and cut
    short past a line."""
    if "input" not in error or error["input"] is None or isinstance(error["input"], dict):
        return ""  # (None: the key was left out, a default no file can write)
    shown = repr(error["input"])
    return f" (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


# The sentence of a pydantic error type that needs nothing from its context.
_TYPE_ZH = {
    "missing": "缺少此项（必填）",
    "extra_forbidden": "不是可识别的键（请对照 docs/reference.md 检查拼写）",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数，不能有小数部分",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "finite_number": "应为有限的数",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "string_type": "应为加引号的文字",
    "list_type": "应为数组 [..]",
    "tuple_type": "应为数组 [..]",
    "set_type": "应为数组 [..]",
    "dict_type": "应为表 { 键 = 值 }",
    "model_type": "应为表 { 键 = 值 }",
    "model_attributes_type": "应为表 { 键 = 值 }",
    "date_type": "应为日期，如 2024-01-31",
    "date_parsing": "应为日期，如 2024-01-31",
    "date_from_datetime_parsing": "应为日期，如 2024-01-31",
    "date_from_datetime_inexact": "应为日期（不含时刻），如 2024-01-31",
    "decimal_parsing": "应为金额（数字）",
    "decimal_type": "应为金额（数字）",
    "none_required": "此项不应有值",
    # A sweep factor of no known form (scenarios/sweep_schema.py's custom_error_type).
    "factor": "应为取值列表、{ low, high } 或 { dist = 'normal', mean, sd }",
    "union_tag_invalid": "应为取值列表、{ low, high } 或 { dist = 'normal', mean, sd }",
}

# The name patterns of the schemas (ids, candidate columns, dotted keys), said in words.
_PATTERN_ZH = {
    r"^[A-Za-z0-9_\-]+$": "只能由英文字母、数字、下划线和连字符组成",
    r"^[A-Za-z_][A-Za-z0-9_]*$": "应为列名：以英文字母或下划线开头，只含英文字母、数字和下划线",
    r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$": "应为以点分隔的键名，只含英文字母、数字、下划线和连字符",
}

# The sentence when no other fits: a validator's ValueError that brings no Chinese.
GENERIC_ZH = "取值不符合要求"


def _number(value: object) -> str:
    """A bound as a person writes it: 0 rather than 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choices(expected: str) -> str:
    """pydantic's "'merit', 'count' or 'min_cost'" as 'merit'、'count'、'min_cost'."""
    return "、".join(part for part in re.split(r", | or ", expected) if part)


# pydantic's range errors and the key of their bound in the error's context.
_BOUND_KEYS = {
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than": "lt",
    "less_than_equal": "le",
}


def error_bound(error: dict) -> tuple[str, object] | None:
    """(gt | ge | lt | le, the bound) of a pydantic range error, else None: what both the
    English (``scenarios.loader``) and the Chinese (``validation_zh``) say it expects."""
    key = _BOUND_KEYS.get(str(error["type"]))
    ctx = error.get("ctx") or {}
    return (key, ctx[key]) if key is not None and key in ctx else None


def validation_zh(error: dict) -> str:
    """What a pydantic error (one of ``ValidationError.errors()``) says, in Chinese, by its
    ``type`` and ``ctx``: never "" (an error of a type not foreseen, or a validator's
    ValueError without Chinese, gets ``GENERIC_ZH``). Without the value given; see
    ``given_zh``."""
    kind = str(error["type"])
    ctx = error.get("ctx") or {}
    if kind in ("value_error", "assertion_error"):
        raised = ctx.get("error")
        said = getattr(raised, "zh", "")
        # A parser's sentence ("'abc' is not an amount") has its Chinese among the patterns.
        return said or (message_zh(str(raised)) if raised is not None else "") or GENERIC_ZH
    if kind in _TYPE_ZH:
        return _TYPE_ZH[kind]
    bound = error_bound(error)
    if bound is not None:
        words = {"gt": "应大于 {}", "ge": "应不小于 {}", "lt": "应小于 {}", "le": "应不大于 {}"}
        return words[bound[0]].format(_number(bound[1]))
    if kind in ("literal_error", "enum") and "expected" in ctx:
        return f"应为以下之一：{_choices(str(ctx['expected']))}"
    if kind in ("too_short", "too_long") and {"min_length", "max_length"} & set(ctx):
        if kind == "too_short":
            return f"至少应有 {ctx['min_length']} 项"
        return f"至多只能有 {ctx['max_length']} 项"
    if kind == "string_too_short" and "min_length" in ctx:
        return f"至少应有 {ctx['min_length']} 个字符"
    if kind == "string_too_long" and "max_length" in ctx:
        return f"至多只能有 {ctx['max_length']} 个字符"
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        return _PATTERN_ZH.get(pattern, f"格式不符（应符合 {pattern}）")
    return GENERIC_ZH


def given_zh(value: object, said: str = "") -> str:
    """ "（填写的是 X）" for a value short enough to show, else "" (a whole table given to a
    validator of the table is not worth repeating to the reader; the English keeps it), and
    "" when ``said`` already quotes it (“abc”不是金额)."""
    if value is None or isinstance(value, dict):
        return ""
    if isinstance(value, bool):
        shown = str(value).lower()
    elif isinstance(value, str):
        shown = f"“{value}”"
    else:
        shown = repr(value)
    if len(shown) > 40 or shown in said:
        return ""
    return f"（填写的是{shown}）" if shown.startswith("“") else f"（填写的是 {shown}）"


def _message_zh(error: dict) -> str:
    """The Chinese of one pydantic error, with the value given when the English names it."""
    said = validation_zh(error)
    if error["type"] in ("extra_forbidden", "missing") or "input" not in error:
        return said
    # A validator's own sentence may quote the value already (“abc”不是金额); a bound's
    # ("应大于 0") names the bound, not the value, and is always followed by it.
    own = error["type"] in ("value_error", "assertion_error")
    return said + given_zh(error["input"], said if own else "")


def validation_problems(error: ValidationError, source: str) -> list[Problem]:
    """A pydantic ValidationError as Problems naming the file and the dotted key, each with
    its Chinese (``validation_zh``)."""
    return [
        Problem(source, _location(e["loc"]), _message(e), _message_zh(e)) for e in error.errors()
    ]
