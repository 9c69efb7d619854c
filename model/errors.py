"""Input problems collected and reported together, in the user's terms."""

from __future__ import annotations

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
