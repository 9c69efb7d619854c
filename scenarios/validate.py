"""``liangye validate``: recognise what a file is and report every problem in it, with the
same code the commands run (a scenario is followed to its policy and candidate files and
its whole problem built, as ``allocate`` would)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from liangye.model.errors import InputError, Problem

APPLICATION_MARKERS = {"candidate_id", "programme", "项目", "申报项目", "level", "级别", "申报级别"}


@dataclass
class Checked:
    """What a file was read as, its problems (it would be refused) and its warnings (it
    is accepted, with the reading said)."""

    kind: str
    problems: list[Problem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def validate_file(path: Path) -> tuple[str, list[Problem]]:
    """(what the file is, every problem found). Never raises for a bad file."""
    checked = check_file(path)
    return checked.kind, checked.problems


def _toml_kind(path: Path) -> str:
    """What a TOML file looks like before it is read (so that one that does not parse is
    named as what it is: a sweep file with a syntax error read "policy or scenario")."""
    import re

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "policy or scenario"
    if re.search(r"^\s*\[\[programmes\]\]", text, re.M):
        return "policy"
    if re.search(r"^\s*(\[(levers|uncertainties|sampler)\b|outcomes\s*=)", text, re.M):
        return "sweep"
    if re.search(r"^\s*(\[(candidates|budget|allocation|simulation)\b|policy\s*=)", text, re.M):
        return "scenario"
    return "policy or scenario"


def check_file(path: Path) -> Checked:
    """Read ``path`` as the commands would; never raises for a bad or unreadable file."""
    from liangye.model.applications_table import parse_applications
    from liangye.model.candidates import parse_candidates
    from liangye.model.policy import policy_from_dict, read_toml
    from liangye.model.tables import read_raw_table

    from .loader import scenario_from_dict
    from .runner import readings, scenario_problem_and_readings
    from .simulate import check_simulation

    is_toml = path.suffix.lower() == ".toml"
    kind = _toml_kind(path) if is_toml else "table"  # until the file says which
    try:
        if not path.is_file():
            return Checked("file", [Problem(str(path), "file", "does not exist or is not a file")])
        if is_toml:
            data = read_toml(path)
            if "programmes" in data:
                from liangye.model.policy_checks import implausible_amounts

                kind = "policy"
                policy = policy_from_dict(data, path.name)
                said = implausible_amounts(policy)
                return Checked("policy", warnings=[f"{en}\n    → {zh}" for en, zh in said])
            from .sweep_schema import SWEEP_KEYS

            if SWEEP_KEYS & set(data):
                from .sweep_run import prepare

                kind = "sweep"
                prepared = prepare(path)  # what ``liangye sweep`` checks before its first run
                return Checked("sweep", warnings=prepared.warnings)
            # What ``allocate SCENARIO`` does: policy, tables, the whole problem.
            kind = "scenario"
            scenario = scenario_from_dict(data, path.name)
            problem, said = scenario_problem_and_readings(scenario, path.parent)
            # What ``simulate`` and ``run`` refuse before their first quarter (a rule of
            # simulation.application_rules reading a column the firms lack): validate said
            # nothing, and the run stopped after writing its allocation.
            # What the setup warns of (budget years no round reaches, a policy the firms
            # cannot take part in) is said as the file's warnings, not as bare log lines.
            with logged_warnings() as simulated:
                check_simulation(scenario, path.parent)
            # What allocate says of the problem too (a balance rule recorded but not enforced,
            # a programme whose column the table lacks): validate said nothing of it.
            notes = [f"{note.en}\n    → {note.zh}" for note in problem.notes]
            return Checked("scenario", warnings=[*said, *notes, *simulated])
        raw = read_raw_table(path)
        headers = {str(c).split("（")[0].split("(")[0].strip() for c in raw.columns}
        if len(headers & APPLICATION_MARKERS) >= 2:
            kind = "applications"  # what it is read as, said with its problems too
            table = parse_applications(raw, path.name)
            return Checked("applications", warnings=readings(table))
        kind = "candidates"
        table = parse_candidates(raw, path.name)
        return Checked("candidates", warnings=readings(table))
    except InputError as error:
        return Checked(kind, error.problems)
    except OSError as error:  # unreadable: say so and let the other files be checked
        return Checked("file", [Problem(str(path), "file", f"cannot be read: {error.strerror}")])


def check_together(paths: list[Path], checked: list[Checked]) -> Checked | None:
    """One policy, one candidate table and at most one applications table given together,
    each fine on its own, put together as ``allocate --policy --candidates --applications``
    would: what only shows across files (an application naming a candidate, programme,
    level or year the others do not have; a rule reading a column the table lacks).
    None when the files are not such a set. Money is not asked for: no budget, and every
    level's chance of conferral taken as known (``allocate`` asks for them as options)."""
    from liangye.model.applications_table import load_tables
    from liangye.model.options import build_problem
    from liangye.model.policy import policy_from_dict, read_toml
    from liangye.model.settings import AllocationSettings, Budget
    from liangye.model.units import Level

    by_kind: dict[str, list[Path]] = {}
    faulty: set[str] = set()
    for path, one in zip(paths, checked, strict=True):
        if one.problems:
            faulty.add(one.kind)
        by_kind.setdefault(one.kind, []).append(path)
    policies, tables = by_kind.get("policy", []), by_kind.get("candidates", [])
    applications = by_kind.get("applications", [])
    if len(policies) != 1 or len(tables) != 1 or len(applications) > 1:
        return None
    # A candidate or applications file with problems of its own is still checked against
    # the others on the rows that read (its own problems are said with the file): one bad
    # cell hid an unknown candidate, programme or held designation in the next row. A
    # policy with problems: no.
    tabular = {"applications", "candidates"}
    if faulty - tabular:
        return None
    kind = "policy + candidates" + (" + applications" if applications else "")
    try:
        policy = policy_from_dict(read_toml(policies[0]), policies[0].name)
        if faulty:
            # load_tables checks the rows that read against the policy; what it says beyond
            # the files' own problems is what only shows together. Only those rows were
            # checked: no "no problems together" until the files' own are fixed.
            own = [p for c in checked if c.kind in tabular for p in c.problems]
            try:
                load_tables(
                    str(tables[0]),
                    str(applications[0]) if applications else None,
                    policy,
                    policy.year_range,
                )
            except InputError as error:
                across = [p for p in error.problems if p not in own]
                return Checked(kind, across) if across else None
            return None
        table, apps = load_tables(str(tables[0]), str(applications[0]) if applications else None)
        settings = AllocationSettings(success_probability={level: 0.5 for level in Level})
        problem = build_problem(policy, table, Budget(), settings, policy.year_range, apps)
    except InputError as error:
        return Checked(kind, error.problems)
    # A rule no candidate meets is most often a unit mistaken (a share written 15 for 15%):
    # allocate says so, and so does validate now (review 23).
    return Checked(kind, warnings=[note.zh for note in problem.notes if NOBODY in note.en])


# What ``eligibility`` says of a rule that holds for no candidate (its English note).
NOBODY = "holds for none of the"


@contextmanager
def logged_warnings() -> Iterator[list[str]]:
    """Within, liangye's warnings are kept in the list yielded (in order) instead of being
    printed as bare log lines."""
    kept: list[str] = []

    class _Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            kept.append(record.getMessage())

    logger = logging.getLogger("liangye")
    handler, propagate = _Keep(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield kept
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate
