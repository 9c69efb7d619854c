"""SQL over a sweep store with DuckDB: the view ``runs``, one row per finished run."""

from __future__ import annotations

import re
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

    manifest = read_manifest(folder)
    if manifest.get("kind") != "sweep":
        said = (
            "no manifest.json"
            if not manifest
            else f"it holds a run of kind '{manifest.get('kind')}'"
        )
        said_zh = "没有 manifest.json" if not manifest else f"其中是“{manifest.get('kind')}”类运行"
        raise InputError(
            [
                Problem(
                    str(folder),
                    "",
                    f"is not a sweep folder ({said})",
                    f"不是批量情景文件夹（{said_zh}）",
                )
            ]
        )
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
        # No run finished yet: the design's columns and, empty, those a finished run adds
        # (its outcomes, status, error, seconds), so that the query ``liangye sweep``
        # suggests for failures answers "no rows" instead of "column not found".
        design = str(folder / DESIGN).replace("'", "''")
        outcomes = [c["column"] for c in manifest.get("columns", []) if c.get("kind") == "outcome"]
        added = [f'NULL::DOUBLE AS "{c}"' for c in outcomes] + [
            "NULL::VARCHAR AS status",
            "NULL::VARCHAR AS error",
            "NULL::DOUBLE AS seconds",
        ]
        source = f"*, {', '.join(added)} from read_parquet('{design}') where false"
        connection.execute(f"create view runs as select {source}")
        return connection
    connection.execute(f"create view runs as select * from {source}")
    return connection


def run_query(folder: Path, sql: str) -> pd.DataFrame:
    """The answer to ``sql`` over the view ``runs`` as a table; a bad query is an InputError
    naming the query and DuckDB's message."""
    import duckdb

    if not sql.strip():
        raise InputError(
            [
                Problem(
                    "query",
                    "",
                    "is empty: give one SQL statement over `runs`",
                    "查询为空：请给出一条针对 `runs` 的 SQL 语句",
                )
            ]
        )
    connection = connect(folder)
    try:
        # One SELECT, nothing else: DuckDB's COPY ... TO, ATTACH or CREATE would let a
        # query write files (a fuzzer overwrote a sweep's manifest with COPY), and the
        # store is to be read, never changed, through this command.
        statements = duckdb.extract_statements(sql)
        if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
            kinds = ", ".join(str(s.type).rsplit(".", 1)[-1] for s in statements) or "none"
            raise InputError(
                [
                    Problem(
                        "query",
                        sql,
                        f"is not one SELECT statement (it is: {kinds}): liangye query reads "
                        "the store and never changes it; ask with one SELECT over `runs`",
                        f"不是单独一条 SELECT 语句（而是：{kinds}）：liangye query 只读取结果库、"
                        "从不改动它；请用一条针对 `runs` 的 SELECT 查询",
                    )
                ]
            )
        answer = connection.execute(sql)
        if answer is None or answer.description is None:  # a statement that returns no rows
            raise InputError(
                [
                    Problem(
                        "query",
                        sql,
                        "returns no table: ask with SELECT over `runs`",
                        "该语句不返回表格：请用针对 `runs` 的 SELECT 查询",
                    )
                ]
            )
        return answer.fetchdf()
    except duckdb.Error as error:
        # DuckDB's own words (which name the column or the syntax) stay in English.
        said = str(error).splitlines()[0]
        raise InputError([Problem("query", "", said, duckdb_zh(said))]) from None
    finally:
        connection.close()


# DuckDB's most common complaints about a query, in Chinese (its wording, as of DuckDB 1.x);
# any other keeps a general sentence pointing at the English above it.
_DUCKDB_ZH: list[tuple[str, str]] = [
    (
        r'Referenced column "(.+?)" not found',
        "找不到列 {0}：可用 select * from runs limit 1 查看列名",
    ),
    (r"Table with name (\S+) does not exist", "没有表 {0}：可查询的视图是 runs"),
    (r"(?:Scalar |Aggregate |Table )?Function with name (\S+) does not exist", "没有函数 {0}"),
    (r'syntax error at or near "(.+?)"', "SQL 语法有误（在 {0} 附近）"),
    (r"syntax error at end of input", "SQL 语法有误（语句不完整）"),
    (r"Could not convert string '(.*?)' to (\S+)", "无法把 '{0}' 转换为 {1} 类型"),
    (r"Could not choose a best candidate function", "运算的类型不匹配：请加上显式类型转换（CAST）"),
]


def duckdb_zh(message: str) -> str:
    """DuckDB's first line of an error in Chinese: the column, table, function or place in
    the query it names, or a general sentence for wording liangye does not know."""
    for pattern, chinese in _DUCKDB_ZH:
        match = re.search(pattern, message)
        if match:
            return chinese.format(*match.groups())
    return "SQL 查询有误（DuckDB 的说明见上行英文）"
