"""SQL over a sweep store with DuckDB: the view ``runs``, one row per finished run."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from liangye.model.errors import InputError, Problem
from liangye.results.sweep_store import DESIGN, read_manifest, sweep_parquet_files

if TYPE_CHECKING:
    import duckdb
    import pandas as pd


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with the view ``runs`` over the finished parts of the
    sweep in ``folder``, one row per run (empty, with the design's columns, before any run
    finished)."""
    import duckdb

    if not read_manifest(folder):
        raise InputError([Problem(str(folder), "", "is not a sweep folder (no manifest.json)")])
    connection = duckdb.connect()
    parts = sweep_parquet_files(folder)
    if parts:
        listed = ", ".join("'" + p.replace("'", "''") + "'" for p in parts)
        # A failed run retried (--retry-failed) has two rows: the run is its ok row, if any.
        source = (
            f"read_parquet([{listed}], union_by_name = true) qualify row_number() over "
            "(partition by run_id order by status = 'ok' desc, seconds) = 1"
        )
    else:
        design = str(folder / DESIGN).replace("'", "''")
        source = f"read_parquet('{design}') where false"
    connection.execute(f"create view runs as select * from {source}")
    return connection


def run_query(folder: Path, sql: str) -> pd.DataFrame:
    """The answer to ``sql`` over the view ``runs`` as a table; a bad query is an InputError
    naming the query and DuckDB's message."""
    import duckdb

    connection = connect(folder)
    try:
        return connection.execute(sql).fetchdf()
    except duckdb.Error as error:
        raise InputError([Problem("query", "", str(error).splitlines()[0])]) from None
    finally:
        connection.close()
