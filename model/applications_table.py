"""The applications table (who applies to which programme, at which level, with which
score, in which year), read and checked, and the candidate and applications files read
together so that both files' problems are said in one pass."""

from __future__ import annotations

import pandas as pd

from .applications import application_problems
from .candidates import (
    APPLICATION_HEADERS,
    canonical_columns,
    cell_text,
    cell_zh,
    convert_column,
    empty_cells,
    header_problem,
    in_row_order,
    missing_columns,
    parse_candidates,
    parse_held_cells,
    parse_score,
    read_partly,
)
from .errors import InputError, Problem
from .policy import Policy
from .problem_checks import applications_by_id, check_held, held_by_id
from .table_readings import readings_of, row_zh, score_warning, with_readings
from .tables import read_raw_table, spreadsheet_rows
from .units import parse_level, parse_number


def parse_applications(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Turn a raw applications frame into canonical columns, or raise InputError with every problem.

    ``attrs["warnings"]`` carries ``read_raw_table``'s warnings (which sheet was read, …).
    """
    frame, problems = parse_applications_partly(raw, source)
    if problems:
        raise InputError(problems)
    return frame  # type: ignore[return-value]


def parse_applications_partly(
    raw: pd.DataFrame, source: str
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """``parse_applications`` that does not raise: the table and no problems, or the rows
    that read without a problem (None when the columns themselves are wrong) and every
    problem, in row order. The rows that read are what the checks across files (unknown
    candidates, programmes, levels: ``applications.application_problems``) can still ask
    about, so that one bad cell does not hide the rest."""
    rows = spreadsheet_rows(raw)
    frame, _, _, problems = canonical_columns(raw, APPLICATION_HEADERS, source)
    frame = frame.reset_index(drop=True)
    problems += missing_columns(
        frame, ("candidate_id", "programme", "level", "score"), APPLICATION_HEADERS, source
    )
    if problems:
        missing = any(p.message.startswith("missing column") for p in problems)
        return None, (header_problem(raw, source) if missing else []) + problems
    if frame.empty:
        # Read as "nobody applied", every candidate would be ineligible and the allocation
        # infeasible for a reason that is not the policy's (a header without rows is a file
        # not filled in, as an empty candidate table is).
        return None, [
            Problem(
                source,
                "",
                "has a header but no applications: expected one row per candidate and "
                "programme applied for (or give no applications table)",
                "只有表头，没有申报记录：每位候选每申报一个项目一行（或不给申报表）",
            )
        ]
    problems += empty_cells(frame, ("candidate_id", "programme"), rows, source)
    frame["candidate_id"] = [cell_text(v) for v in frame["candidate_id"]]
    levels: list[str | None] = []
    for position, value in enumerate(frame["level"].tolist()):
        try:
            levels.append(parse_level(value).value)
        except (ValueError, AttributeError) as error:
            problems.append(
                Problem(source, rows[position], f"level {error}", cell_zh("level", error))
            )
            levels.append(None)
    frame["level"] = levels
    convert_column(frame, "score", parse_score, source, problems, True, rows)
    if "year" in frame.columns:

        def parse_year(value: object) -> float:
            # "2024年" is how many Chinese tables write a year (it read "is not a number").
            if isinstance(value, str) and value.strip().endswith("年"):
                value = value.strip()[:-1]
            number = parse_number(value)
            if number != int(number) or not 1990 <= number <= 2100:
                raise ValueError(f"'{value}' is not a year")
            return number

        convert_column(frame, "year", parse_year, source, problems, False, rows)
    keys = ["candidate_id", "programme", "level"] + (["year"] if "year" in frame.columns else [])
    duplicated = frame.duplicated(subset=keys, keep="first")
    if duplicated.any():
        # The row it repeats named, as the candidate table names a repeated id's (review 23).
        first_of = {}
        for position, key in zip(frame.index, frame[keys].itertuples(index=False), strict=True):
            first_of.setdefault(tuple(key), position)
        for position in frame.index[duplicated]:
            first = rows[first_of[tuple(frame.loc[position, keys])]]
            problems.append(
                Problem(
                    source,
                    rows[position],
                    f"repeats the application of {first}",
                    f"与{row_zh(first)}的申报重复（候选、项目、级别及年份都相同）",
                )
            )
    frame["row"] = rows
    frame.attrs["source"] = source
    if problems:
        named = {problem.where for problem in problems}
        good = frame[~frame["row"].isin(named)].copy()
        good.attrs["source"] = source
        return good, in_row_order(problems)
    with_readings(frame, readings_of(raw) + score_warning(frame["score"], rows, source))
    return frame, []


def load_applications(path: str) -> pd.DataFrame:
    """Read and check an applications file (CSV or XLSX); warnings in ``attrs["warnings"]``."""
    raw = read_raw_table(path)
    return parse_applications(raw, raw.attrs["source"])


def load_tables(
    candidates: str,
    applications: str | None = None,
    policy: Policy | None = None,
    years: list[int] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Read and check a candidate file and, if given, its applications file: every problem
    of both in one InputError (the candidates' first), so a user fixes both files in one
    pass. Scores must be on the candidate table when there is no applications file.

    Given the ``policy`` (and the ``years`` allocated), an applications file with problems
    of its own is also checked against the candidates and the policy on the rows that read,
    and those problems are said with the others (an unknown level in row 3 hid an unknown
    programme in row 2 and an unknown candidate in row 4, one run at a time); so is a
    candidate table's ``held`` column when the table has problems of its own."""
    problems: list[Problem] = []
    apps = partial = None
    if applications is not None:
        try:
            raw = read_raw_table(applications)
            partial, apps_problems = parse_applications_partly(raw, raw.attrs["source"])
            if apps_problems:
                problems += apps_problems
            else:
                apps = partial
        except InputError as error:
            problems += error.problems
    raw_candidates = table = None
    own: list[Problem] = []  # the candidate table's problems
    try:
        raw_candidates = read_raw_table(candidates)
        source = raw_candidates.attrs["source"]
        table = parse_candidates(raw_candidates, source, needs_score=applications is None)
    except InputError as error:
        own = error.problems
    if (own or problems) and policy is not None and raw_candidates is not None:
        # What only shows across files, said with each file's own problems in the rows that
        # read: a bad level in row 3 hid an unknown programme in row 2, and a faulty
        # candidate table hid an unknown candidate in the applications (build_problem says
        # these when nothing else is wrong).
        read = table if table is not None else read_partly(raw_candidates, source)
        # (not against a table none of whose ids read: one "has no candidates" became one
        # problem per application, review 21)
        ids_read = "id" in read.columns and read["id"].notna().any()
        if partial is not None and len(partial) and ids_read:
            # Programmes written by their Chinese names read as ids first, as build_problem
            # reads them: else every such row was "not in policy" (190 of them for one bad
            # score, review 20).
            named = applications_by_id(partial, policy)
            across = application_problems(named, read, policy, years or policy.year_range)
            problems = in_row_order(problems + across)
        own = in_row_order(own + _held_problems(read, policy, parsed=table is not None))
    if own or problems:
        raise InputError(own + problems)
    assert table is not None  # parsed, as no problem was found
    return table, apps


def _held_problems(candidates: pd.DataFrame, policy: Policy, parsed: bool) -> list[Problem]:
    """``check_held`` of a candidate table, parsed or ``read_partly`` (whose held column
    already holds the entries read)."""
    if "held" not in candidates.columns:
        return []
    # A parsed table's column is text, read by the cached reader build_problem uses;
    # read_partly's already holds the entries.
    cells = candidates["held"]
    held_at = parse_held_cells(cells) if parsed else cells.tolist()
    source = candidates.attrs.get("source", "candidates")
    return check_held(policy, held_by_id(held_at, policy), candidates["row"].tolist(), source)
