"""A small, safe expression language for eligibility rules; parsed, never ``eval``-ed.

Grammar (keywords are case-insensitive)::

    rule     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | compare
    compare  := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum
                     | "in" list | "not" "in" list | "in" NAME | "not" "in" NAME)?
    sum      := product (("+" | "-") product)*
    product  := unary (("*" | "/") unary)*
    unary    := "-" unary | atom
    atom     := NUMBER | STRING | NAME | "true" | "false" | "(" or ")"
    list     := "[" (literal ("," literal)*)? "]"

NUMBER may carry a unit suffix, so ``revenue >= 5亿`` reads as 50000 (万元) and
``service_input_share >= 20%`` as 0.2. NAME is a candidate column. A rule evaluates over a
whole candidate table at once; a missing value makes the comparison false, never true, and
so does a division by a zero cell (a division by the number 0 is refused as written).

``'省级智能工厂' in smart_manufacturing`` asks whether a *multi-valued* cell holds a value: a
cell lists several values separated by ``;``, ``；``, ``、``, ``,`` or ``，`` (a firm in the
running for two titles of one matter, say), and a single value is a list of one.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .yes_no import is_yes

__all__ = ["Rule", "RuleSyntaxError", "parse_rule"]


class RuleSyntaxError(ValueError):
    """A rule that does not parse; the message says where and what was expected."""


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>\d+(?:\.\d+)?(?:亿|万)?%?)
  | (?P<string>"[^"]*"|'[^']*'|“[^”]*”)
  | (?P<op><=|>=|==|!=|<|>|\+|-|\*|/|\(|\)|\[|\]|,)
  | (?P<name>[A-Za-z_\u4e00-\u9fff][A-Za-z0-9_\u4e00-\u9fff]*)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "true", "false"}
_COMPARE: dict[str, Callable] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITH: dict[str, Callable] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, op, name, keyword, end
    text: str
    position: int


def _number_value(text: str) -> float:
    percent = text.endswith("%")
    text = text.rstrip("%")
    scale = 1.0
    if text.endswith("亿"):
        scale, text = 10000.0, text[:-1]
    elif text.endswith("万"):
        scale, text = 1.0, text[:-1]
    value = float(text) * scale
    return value / 100 if percent else value


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(source):
        match = _TOKEN.match(source, position)
        if not match:
            raise RuleSyntaxError(f"unexpected character '{source[position]}' at {position + 1}")
        kind = match.lastgroup or ""
        text = match.group()
        if kind == "name" and text.lower() in _KEYWORDS:
            kind, text = "keyword", text.lower()
        if kind != "space":
            tokens.append(_Token(kind, text, position))
        position = match.end()
    tokens.append(_Token("end", "", len(source)))
    return tokens


# --- the syntax tree: each node evaluates over a table and lists the columns it reads ---


@dataclass(frozen=True)
class _Literal:
    value: object

    def evaluate(self, table: pd.DataFrame) -> object:
        return self.value

    def names(self) -> set[str]:
        return set()


@dataclass(frozen=True)
class _Column:
    name: str

    def evaluate(self, table: pd.DataFrame) -> object:
        return table[self.name]

    def names(self) -> set[str]:
        return {self.name}


@dataclass(frozen=True)
class _Arithmetic:
    op: str
    left: object
    right: object

    def evaluate(self, table: pd.DataFrame) -> object:
        left = _as_numeric(self.left.evaluate(table))
        right = _as_numeric(self.right.evaluate(table))
        with np.errstate(divide="ignore", invalid="ignore"):
            value = _ARITH[self.op](left, right)
        if self.op == "/":
            # A row whose divisor is zero has no value (as a missing one): its comparisons
            # fail, where the infinity made ``revenue / employees > 1`` hold for it.
            if isinstance(value, pd.Series):
                return value.where(np.isfinite(value.astype(float)))
            if isinstance(value, float) and not np.isfinite(value):
                return float("nan")
        return value

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()


@dataclass(frozen=True)
class _Negate:
    operand: object

    def evaluate(self, table: pd.DataFrame) -> object:
        return -_as_numeric(self.operand.evaluate(table))

    def names(self) -> set[str]:
        return self.operand.names()


@dataclass(frozen=True)
class _Compare:
    op: str
    left: object
    right: object

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        left = self.left.evaluate(table)
        right = self.right.evaluate(table)
        if self.op in ("==", "!="):
            result = _COMPARE[self.op](_broadcast(left, table), right)
            missing = _broadcast(left, table).isna()
        else:
            left_n, right_n = _as_numeric(left), _as_numeric(right)
            result = _COMPARE[self.op](_broadcast(left_n, table), right_n)
            missing = _broadcast(left_n, table).isna() | _broadcast(right_n, table).isna()
        return _broadcast(result, table).astype(bool) & ~missing

    def names(self) -> set[str]:
        return self.left.names() | self.right.names()


@dataclass(frozen=True)
class _Membership:
    operand: object
    values: tuple
    negate: bool

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        series = _broadcast(self.operand.evaluate(table), table)
        inside = series.isin(list(self.values))
        return (~inside if self.negate else inside) & series.notna()

    def names(self) -> set[str]:
        return self.operand.names()


MULTI_VALUE_SEPARATORS = re.compile(r"[;；、,，]")


def cell_values(cell: object) -> frozenset[str]:
    """The values a multi-valued cell lists (empty for a missing cell)."""
    if cell is None or (isinstance(cell, float) and np.isnan(cell)):
        return frozenset()
    if isinstance(cell, bool | np.bool_):
        return frozenset()  # a yes/no column lists no values
    parts = MULTI_VALUE_SEPARATORS.split(str(cell))
    return frozenset(part.strip() for part in parts if part.strip())


@dataclass(frozen=True)
class _Contains:
    value: object
    column: _Column
    negate: bool

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        wanted = self.value.evaluate(table)
        if isinstance(wanted, float) and wanted.is_integer():
            wanted = int(wanted)
        text = str(wanted)
        cells = table[self.column.name]
        inside = cells.map(lambda cell: text in cell_values(cell)).astype(bool)
        return (~inside if self.negate else inside) & cells.notna()

    def names(self) -> set[str]:
        return self.column.names()


@dataclass(frozen=True)
class _Logical:
    op: str  # "and" / "or"
    parts: tuple

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        values = [_as_bool(p.evaluate(table), table) for p in self.parts]
        combine = operator.and_ if self.op == "and" else operator.or_
        result = values[0]
        for value in values[1:]:
            result = combine(result, value)
        return result

    def names(self) -> set[str]:
        return set().union(*(p.names() for p in self.parts))


@dataclass(frozen=True)
class _Not:
    operand: object

    def evaluate(self, table: pd.DataFrame) -> pd.Series:
        # Unknown stays unknown: "not revenue < 2000" is false, not true, when revenue is missing.
        known = pd.Series(True, index=table.index)
        for name in self.operand.names():
            known &= table[name].notna()
        return ~_as_bool(self.operand.evaluate(table), table) & known

    def names(self) -> set[str]:
        return self.operand.names()


def _broadcast(value: object, table: pd.DataFrame) -> pd.Series:
    if isinstance(value, pd.Series):
        return value
    return pd.Series([value] * len(table), index=table.index, dtype=object)


def _as_numeric(value: object) -> object:
    if isinstance(value, pd.Series):
        return pd.to_numeric(value, errors="coerce")
    if isinstance(value, str):
        return float("nan")
    return value


def _as_bool(value: object, table: pd.DataFrame) -> pd.Series:
    series = _broadcast(value, table)
    if series.dtype == bool:
        return series
    # A bare column used as a condition: a yes word (是, Y, √, true, 1) holds; anything
    # else, or missing, fails. Candidate tables reach here already read as yes/no
    # (``eligibility.read_as_conditions`` refuses other cells); this is the same reading.
    return series.map(is_yes).astype(bool)


def _bare_conditions(node: object) -> set[str]:
    """Columns that ``node`` uses as a condition on their own (``design_prize``, ``not x``,
    ``a and b``), not inside a comparison or a sum."""
    if isinstance(node, _Column):
        return {node.name}
    if isinstance(node, _Logical):
        return set().union(*(_bare_conditions(part) for part in node.parts))
    if isinstance(node, _Not):
        return _bare_conditions(node.operand)
    return set()


# Limits that keep parsing and evaluation far from Python's recursion limit: no document's
# rule comes near them (the longest bundled rule has 27 symbols and one level of brackets).
MAX_SYMBOLS = 500
MAX_NESTING = 40


class _Parser:
    def __init__(self, source: str):
        self.tokens = _tokenize(source)
        self.index = 0
        _check_size(self.tokens)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def accept(self, text: str) -> bool:
        if self.peek().text == text and self.peek().kind in ("op", "keyword"):
            self.index += 1
            return True
        return False

    def expect(self, text: str) -> None:
        if not self.accept(text):
            token = self.peek()
            found = f"'{token.text}'" if token.kind != "end" else "the end of the rule"
            raise RuleSyntaxError(f"expected '{text}' at {token.position + 1}, found {found}")

    def parse(self) -> object:
        node = self.parse_or()
        token = self.peek()
        if token.kind != "end":
            raise RuleSyntaxError(f"unexpected '{token.text}' at {token.position + 1}")
        return node

    def parse_or(self) -> object:
        parts = [self.parse_and()]
        while self.accept("or"):
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else _Logical("or", tuple(parts))

    def parse_and(self) -> object:
        parts = [self.parse_not()]
        while self.accept("and"):
            parts.append(self.parse_not())
        return parts[0] if len(parts) == 1 else _Logical("and", tuple(parts))

    def parse_not(self) -> object:
        if self.peek().text == "not" and self.tokens[self.index + 1].text != "in":
            self.take()
            return _Not(self.parse_not())
        return self.parse_compare()

    def parse_compare(self) -> object:
        left = self.parse_sum()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARE:
            self.take()
            return _Compare(token.text, left, self.parse_sum())
        negate = token.text == "not" and self.tokens[self.index + 1].text == "in"
        if negate:
            self.take()
        if self.accept("in"):
            if self.peek().kind == "name":
                if not isinstance(left, _Literal):
                    raise RuleSyntaxError(
                        f"'in {self.peek().text}' tests a quoted value or a number against a "
                        f"multi-valued column, e.g. '省级智能工厂' in {self.peek().text}"
                    )
                return _Contains(left, _Column(self.take().text), negate=negate)
            return _Membership(left, self.parse_list(), negate=negate)
        return left

    def parse_sum(self) -> object:
        node = self.parse_product()
        while self.peek().text in ("+", "-") and self.peek().kind == "op":
            op = self.take().text
            node = _Arithmetic(op, node, self.parse_product())
        return node

    def parse_product(self) -> object:
        node = self.parse_unary()
        while self.peek().text in ("*", "/") and self.peek().kind == "op":
            op = self.take().text
            divisor = self.parse_unary()
            if op == "/" and isinstance(divisor, _Literal) and divisor.value == 0:
                raise RuleSyntaxError("divides by zero")
            node = _Arithmetic(op, node, divisor)
        return node

    def parse_unary(self) -> object:
        if self.accept("-"):
            return _Negate(self.parse_unary())
        return self.parse_atom()

    def parse_atom(self) -> object:
        token = self.take()
        if token.kind == "number":
            return _Literal(_number_value(token.text))
        if token.kind == "string":
            return _Literal(token.text[1:-1])
        if token.kind == "keyword" and token.text in ("true", "false"):
            return _Literal(token.text == "true")
        if token.kind == "name":
            return _Column(token.text)
        if token.text == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        found = f"'{token.text}'" if token.kind != "end" else "the end of the rule"
        raise RuleSyntaxError(f"expected a value at {token.position + 1}, found {found}")

    def parse_list(self) -> tuple:
        self.expect("[")
        values: list[object] = []
        if not self.accept("]"):
            while True:
                atom = self.parse_unary()
                if not isinstance(atom, _Literal):
                    raise RuleSyntaxError("lists may hold only numbers and quoted text")
                values.append(atom.value)
                if self.accept("]"):
                    break
                self.expect(",")
        return tuple(values)


@dataclass(frozen=True)
class Rule:
    """A parsed eligibility rule: its source text, the columns it reads, and its test."""

    source: str
    tree: object

    @property
    def columns(self) -> set[str]:
        """Every candidate column the rule reads."""
        return self.tree.names()

    @functools.cached_property
    def conditions(self) -> set[str]:
        """The columns the rule reads as yes/no conditions on their own (``design_prize``
        in ``design_prize and revenue > 2000``): their cells must be yes or no."""
        return _bare_conditions(self.tree)

    def holds(self, table: pd.DataFrame) -> pd.Series:
        """A boolean Series over ``table``'s rows: True where the rule holds.

        The caller guarantees every name in ``columns`` is a column of ``table``.
        """
        return _as_bool(self.tree.evaluate(table), table).reindex(table.index, fill_value=False)

    def __str__(self) -> str:
        return self.source


def _check_size(tokens: list[_Token]) -> None:
    """Refuse rules too long or too deeply nested to be a document's condition."""
    if len(tokens) - 1 > MAX_SYMBOLS:
        raise RuleSyntaxError(
            f"has {len(tokens) - 1} symbols, more than the {MAX_SYMBOLS} a rule may have"
        )
    depth = deepest = run = 0
    for token in tokens:
        if token.kind == "op" and token.text == "(":
            depth += 1
        elif token.kind == "op" and token.text == ")":
            depth -= 1
        run = run + 1 if token.text == "not" else 0
        deepest = max(deepest, depth, run)
    if deepest > MAX_NESTING:
        raise RuleSyntaxError(
            f"is nested {deepest} deep (brackets or 'not's), more than the {MAX_NESTING} allowed"
        )


def parse_rule(source: str) -> Rule:
    """Parse ``source`` into a Rule, or raise RuleSyntaxError saying what is wrong."""
    if not isinstance(source, str) or not source.strip():
        raise RuleSyntaxError("a rule must be a non-empty text")
    return _parse_text(source.strip())


@functools.lru_cache(maxsize=4096)
def _parse_text(source: str) -> Rule:
    """Cached: rules are immutable, and the simulation's yearly rounds and sweeps parse the
    same few dozen rule texts thousands of times."""
    return Rule(source, _Parser(source).parse())
