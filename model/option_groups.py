"""Options grouped by key columns and selected by scope, in numpy: the builder's groups
(one row per group of options, ``index_groups``), payment tags (``group_numbers``) and the scopes
of quotas, balance rules and reserve pools (``scope_mask``, ``Scopes``)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def index_groups(options: pd.DataFrame, keys: list[str]) -> dict[tuple, np.ndarray]:
    """Option indices grouped by ``keys``, as arrays, in key order."""
    if options.empty:
        return {}
    grouped = sorted_groups(options, keys)
    if grouped is not None:
        names, order, bounds = grouped
        return {
            name: order[start:end]
            for name, start, end in zip(names, bounds[:-1], bounds[1:], strict=True)
        }
    grouped = options.groupby(keys, sort=True).indices
    return {k if isinstance(k, tuple) else (k,): v for k, v in grouped.items()}


def sorted_groups(
    options: pd.DataFrame, keys: list[str]
) -> tuple[list[tuple], np.ndarray, list[int]] | None:
    """``options.groupby(keys, sort=True).indices`` as (the keys in order, the option indices
    group after group, each in ascending order, and where each group starts, then the end),
    for two or more key columns of integers or texts without missing values; else (or for
    no options) None.

    Sorted and split in numpy: pandas' grouping of a 7,000-option round's (candidate,
    matter) took 2.7 ms of the round's 26 ms build, most of it making the dict of arrays.
    """
    if len(keys) < 2 or options.empty:
        return None
    codes, uniques = [], []
    for key in keys:
        column = options[key]
        plain_int = pd.api.types.is_integer_dtype(column.dtype) and isinstance(
            column.dtype, np.dtype
        )
        if not (plain_int or pd.api.types.is_string_dtype(column.dtype)):
            return None
        code, unique = pd.factorize(column, sort=True)
        unique = unique.tolist()
        if (code < 0).any() or not all(type(v) in (int, str) for v in unique):
            return None  # missing values (pandas leaves them out), or other objects
        codes.append(code)
        uniques.append(unique)
    order, starts = group_runs(codes)
    names = list(
        zip(
            *[
                [unique[c] for c in code[order[starts]].tolist()]
                for unique, code in zip(uniques, codes, strict=True)
            ],
            strict=True,
        )
    )
    return names, order, [*starts.tolist(), len(order)]


def group_runs(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The rows in the order of their codes (stable: equal rows stay in ascending order) and
    where, in that order, each run of equal rows begins. At least one row."""
    order = np.lexsort(codes[::-1])
    change = np.zeros(len(order), dtype=bool)
    change[0] = True
    for code in codes:
        ordered = code[order]
        change[1:] |= ordered[1:] != ordered[:-1]
    return order, np.flatnonzero(change)


def group_numbers(columns: list[np.ndarray]) -> np.ndarray | None:
    """Each row's group number among the distinct rows of ``columns``, numbered in sorted
    order: ``groupby(sort=True).ngroup()``, which numbers the same way (each key factorised
    in sorted order, groups in the order of their codes), in numpy. None when a value is
    missing (pandas numbers those -1)."""
    codes = []
    for values in columns:
        code, _ = pd.factorize(values, sort=True)
        if (code < 0).any():
            return None
        codes.append(code)
    if not codes or not len(codes[0]):
        return None
    order, starts = group_runs(codes)
    group = np.zeros(len(order), dtype=np.int64)
    group[starts[1:]] = 1
    numbers = np.empty(len(order), dtype=np.int64)
    numbers[order] = np.cumsum(group)
    return numbers


def scope_mask(
    options: pd.DataFrame, programmes: list[str] | None, levels: list | None
) -> np.ndarray:
    """Options whose programme is in ``programmes`` and level in ``levels`` (None: any):
    the scope of a quota, balance rule or reserve pool."""
    return Scopes(options).mask(programmes, levels)


class Scopes:
    """``scope_mask`` for many scopes over one table: its programme and level columns are
    coded once (one hashing pass each), and each scope is then a test on small integers.
    A round's quotas asked eleven scopes of the same designations table, each hashing
    its 7,000-14,000 texts again."""

    def __init__(self, options: pd.DataFrame) -> None:
        self.size = len(options)
        self._options = options
        self._codes: dict[str, tuple[np.ndarray, dict[object, int]]] = {}

    def _coded(self, column: str) -> tuple[np.ndarray, dict[object, int]]:
        if column not in self._codes:
            codes, uniques = pd.factorize(self._options[column])
            self._codes[column] = (codes, {value: k for k, value in enumerate(uniques)})
        return self._codes[column]

    def _within(self, column: str, values: list) -> np.ndarray:
        codes, number = self._coded(column)
        wanted = [number[v] for v in values if v in number]
        return np.isin(codes, np.asarray(wanted, dtype=codes.dtype))

    def mask(self, programmes: list[str] | None, levels: list | None) -> np.ndarray:
        """Rows whose programme is in ``programmes`` and level in ``levels`` (None: any)."""
        mask = np.ones(self.size, dtype=bool)
        if programmes is not None:
            mask &= self._within("programme", list(programmes))
        if levels is not None:
            mask &= self._within("level", [getattr(lv, "value", lv) for lv in levels])
        return mask
