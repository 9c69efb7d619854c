"""``liangye validate``: recognise what a file is and report every problem in it, with the
same code the commands run (a scenario is followed to its policy and candidate files and
its whole problem built, as ``allocate`` would)."""

from __future__ import annotations

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


def check_file(path: Path) -> Checked:
    """Read ``path`` as the commands would; never raises for a bad or unreadable file."""
    from liangye.model.candidates import parse_applications, parse_candidates
    from liangye.model.policy import policy_from_dict, read_toml
    from liangye.model.tables import read_raw_table

    from .loader import scenario_from_dict
    from .runner import readings, scenario_problem_and_readings

    is_toml = path.suffix.lower() == ".toml"
    try:
        if not path.is_file():
            return Checked("file", [Problem(str(path), "file", "does not exist or is not a file")])
        if is_toml:
            data = read_toml(path)
            if "programmes" in data:
                policy_from_dict(data, path.name)
                return Checked("policy")
            # What ``allocate SCENARIO`` does: policy, tables, the whole problem.
            scenario = scenario_from_dict(data, path.name)
            _, said = scenario_problem_and_readings(scenario, path.parent)
            return Checked("scenario", warnings=said)
        raw = read_raw_table(path)
        headers = {str(c).split("（")[0].split("(")[0].strip() for c in raw.columns}
        if len(headers & APPLICATION_MARKERS) >= 2:
            table = parse_applications(raw, path.name)
            return Checked("applications", warnings=readings(table))
        table = parse_candidates(raw, path.name)
        return Checked("candidates", warnings=readings(table))
    except InputError as error:
        return Checked("policy or scenario" if is_toml else "table", error.problems)
    except OSError as error:  # unreadable: say so and let the other files be checked
        return Checked("file", [Problem(str(path), "file", f"cannot be read: {error.strerror}")])
