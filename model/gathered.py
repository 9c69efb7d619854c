"""Table columns gathered block by block and framed as pandas would frame them, and text
columns factorised once and looked up by their distinct values.

The options table of a simulated round is built a dozen times a replication from a few
thousand rows; framing, taking and looking up pyarrow-backed texts through pandas cost more
than the rules themselves. What is here returns exactly what the plain pandas operation
would (``tests/test_options_speed_equivalence.py`` holds them to it), only cheaper.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.extensions import ExtensionArray


class GatheredColumns:
    """Columns of a table gathered block by block: scalars repeat over their block. Framed
    whole, or only the rows some step keeps (``join_applications`` takes the pairs so)."""

    def __init__(self, names: list[str]):
        self.names = names
        # per column, its blocks: an array, or (scalar, size) for a scalar repeated
        self.blocks: dict[str, list[np.ndarray | tuple[object, int]]] = {n: [] for n in names}
        self.rows = 0
        self._blocks_of: np.ndarray | None = None
        self._text_dtype = None

    def add(self, **values: object) -> None:
        size = len(values[self.names[0]])  # the first column is always an array
        for name in self.names:
            value = values[name]
            self.blocks[name].append(value if isinstance(value, np.ndarray) else (value, size))
        self.rows += size
        self._blocks_of = None

    def __len__(self) -> int:
        return self.rows

    def frame(self, rows: np.ndarray | None = None) -> pd.DataFrame:
        """One DataFrame (of the rows at ``rows``, or all); numeric columns get numeric
        dtypes (as pandas infers them from the values: a column of scalars is inferred from
        its distinct blocks' values, then repeated, which gives what inferring the repeated
        values gives). Rows taken here are typed as in the whole frame, and taken once."""
        index = pd.RangeIndex(self.rows if rows is None else len(rows))
        # Framed from arrays over one index: framing Series aligned their indexes (0.3 ms).
        return pd.DataFrame(self.columns_at(rows, index), index=index, copy=False)

    def columns_at(self, rows: np.ndarray | None, index: pd.RangeIndex) -> dict[str, object]:
        """Each column's values at ``rows`` (None: all), to frame over ``index``."""
        return {name: self._column(name, rows, index) for name in self.names}

    def codes(self, name: str) -> _Codes:
        """Column ``name`` factorised as ``pd.factorize`` factorises the framed column (the
        same rows equal): a column of scalars by its blocks' values, the rest as framed."""
        filled = self._filled(name)
        if filled is None:
            return _Codes(self._column(name, None, pd.RangeIndex(self.rows)))
        values = [v for v, _ in filled]
        if all(type(v) is str for v in values):
            # Texts numbered in plain Python: a handful of tiers (pandas' factorize of
            # Arrow texts was 0.1 ms a key).
            number: dict[str, int] = {}
            codes = np.array([number.setdefault(v, len(number)) for v in values], dtype=np.intp)
            distinct = np.empty(len(number), dtype=object)
            distinct[:] = list(number)
        else:
            per_block = _repeated(
                values, np.arange(len(filled)), self._text(), pd.RangeIndex(len(filled))
            )
            codes, distinct = pd.factorize(per_block, use_na_sentinel=False)
        return _Codes(None, codes[self._block_of(filled)], distinct)

    def _filled(self, name: str) -> list[tuple[object, int]] | None:
        """The column's nonempty blocks when all are scalars (None otherwise)."""
        filled = [b for b in self.blocks[name] if not isinstance(b, tuple) or b[1] > 0]
        return filled if filled and all(isinstance(b, tuple) for b in filled) else None

    def _block_of(self, filled: list[tuple[object, int]]) -> np.ndarray:
        """Each row's block among the nonempty ones (the same for every column)."""
        if self.__dict__.get("_blocks_of") is None:
            self._blocks_of = np.repeat(np.arange(len(filled)), [b[1] for b in filled])
        return self._blocks_of

    def _text(self):
        """What pandas infers for texts ("str", or object without its string inference)."""
        if self.__dict__.get("_text_dtype") is None:
            self._text_dtype = pd.Series(["a"], dtype=object).infer_objects().dtype
        return self._text_dtype

    def _column(self, name: str, rows: np.ndarray | None, index: pd.RangeIndex) -> object:
        filled = self._filled(name)
        if filled is not None:
            block_of = self._block_of(filled)
            at = block_of if rows is None else block_of[rows]
            return _repeated([v for v, _ in filled], at, self._text(), index)
        column = _concatenated(self.blocks[name], self._text(), pd.RangeIndex(self.rows))
        return column if rows is None else column_at(column, rows, index)


def _repeated(values: list, block_of: np.ndarray, text, index: pd.RangeIndex) -> object:
    """The column of ``values[block_of]``, typed as pandas infers it from ``values``.

    Plain Python ints (within int64), floats, bools and texts are typed directly: inferring
    through a Series, then taking, was 0.1 ms a column, a dozen columns a round. Others as
    before: inferred from the distinct values, then taken."""
    kinds = {type(v) for v in values}
    if kinds == {int} and all(-(2**63) <= v < 2**63 for v in values):
        return np.array(values, dtype=np.int64)[block_of]
    if kinds == {float}:
        return np.array(values, dtype=np.float64)[block_of]
    if kinds == {bool}:
        return np.array(values, dtype=bool)[block_of]
    if kinds == {str} and isinstance(text, pd.StringDtype):
        return pd.array(values, dtype=text).take(block_of)
    objects = np.empty(len(values), dtype=object)
    objects[:] = values
    distinct = pd.Series(objects).infer_objects()
    if distinct.dtype.kind in "biuf":
        return distinct.to_numpy()[block_of]
    if isinstance(distinct.dtype, pd.api.extensions.ExtensionDtype):
        return distinct.array.take(block_of)
    return pd.Series(distinct.to_numpy()[block_of], index=index, dtype=distinct.dtype, copy=False)


def _concatenated(
    blocks: list[np.ndarray | tuple[object, int]], text, index: pd.RangeIndex
) -> object:
    """The blocks one after the other (scalars repeated as objects), typed as pandas infers
    them. Arrays of one numeric dtype need no inference; texts (nothing missing) are made
    "str" at once (a round's reasons: 0.4 → 0.25 ms)."""
    if blocks and all(isinstance(b, np.ndarray) for b in blocks):
        kinds = {b.dtype for b in blocks}
        if len(kinds) == 1 and next(iter(kinds)).kind in "biuf":
            return np.concatenate(blocks)
    arrays = []
    for block in blocks:
        if isinstance(block, tuple):
            value, size = block
            block = np.empty(size, dtype=object)
            block[:] = [value] * size
        arrays.append(block)
    column = np.concatenate(arrays) if arrays else np.empty(0)
    if (
        column.dtype == object
        and isinstance(text, pd.StringDtype)
        and pd.api.types.infer_dtype(column, skipna=False) == "string"
    ):
        return pd.array(column, dtype=text)
    series = pd.Series(column, index=index).infer_objects()
    return series if series.dtype == object else series.array


def positions_in(index: pd.Index | np.ndarray, values: pd.Series | np.ndarray) -> np.ndarray:
    """``index.get_indexer(values)`` (``index`` unique), looked up once per distinct value:
    factorising a column of thousands of texts and looking up its few values is a quarter of
    what hashing every cell into the index costs (a few texts in a few: by a dict)."""
    return _Codes(values).positions_in(index)


_FEW = 64  # distinct texts looked up in plain Python (programmes, levels)


class _Codes:
    """A column factorised once, then looked up in any index by its distinct values."""

    def __init__(self, values: pd.Series | np.ndarray | None, codes=None, distinct=None):
        if values is not None:
            codes, distinct = pd.factorize(values, use_na_sentinel=False)
        self.codes, self.distinct = codes, distinct

    def positions_in(self, index: pd.Index | np.ndarray | ExtensionArray) -> np.ndarray:
        """``positions_in(index, values)``: each value's position in ``index`` (unique;
        -1: none). A few distinct texts looked up in a few texts by a dict: pandas' lookup
        of Arrow texts was 0.1 ms a column (programmes and levels, several times a round)."""
        if len(index) <= _FEW and len(self.distinct) <= _FEW:
            theirs, mine = index.tolist(), self._texts()
            if mine is not None and all(type(v) is str for v in theirs):
                where = {value: k for k, value in enumerate(theirs)}
                if len(where) == len(theirs):  # unique, as get_indexer requires
                    found = np.array([where.get(v, -1) for v in mine], dtype=np.intp)
                    return found[self.codes]
        if not isinstance(index, pd.Index):
            index = pd.Index(index)
        return index.get_indexer(self.distinct)[self.codes]

    def _texts(self) -> list[str] | None:
        """The distinct values as a list when all are texts (None otherwise), made once."""
        if self.__dict__.get("_text_list") is None:
            values = list(self.distinct)
            self._text_list = values if all(type(v) is str for v in values) else False
        return self._text_list or None

    def at(self, rows: np.ndarray) -> _Codes:
        """The codes of the values at ``rows`` (same distinct values)."""
        codes = _Codes(None, self.codes[rows], self.distinct)
        codes._text_list = self.__dict__.get("_text_list")
        return codes


def column_at(
    column: pd.Series | np.ndarray | ExtensionArray, rows: np.ndarray | None, index: pd.Index
) -> object:
    """``column``'s values (at ``rows``, or all) to frame over ``index`` with the column's
    dtype: an object column stays object (framed from a bare array, texts became "str").
    Taking a column's array costs less than taking the frame (``iloc``) or framing Series."""
    if isinstance(column, ExtensionArray):
        return column if rows is None else column.take(rows)
    if isinstance(column, np.ndarray):
        if column.dtype == object:
            column = pd.Series(column, dtype=object, copy=False)
        else:
            return column if rows is None else column[rows]
    if not isinstance(column.dtype, np.dtype):
        return column.array if rows is None else column.array.take(rows)
    values = column.to_numpy() if rows is None else column.to_numpy()[rows]
    if values.dtype == object:
        return pd.Series(values, index=index, dtype=object, copy=False)
    return values
