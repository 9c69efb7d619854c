"""``liangye validate``: recognise what a file is and report every problem in it."""

from __future__ import annotations

from pathlib import Path

from liangye.model.candidates import parse_applications, parse_candidates
from liangye.model.errors import InputError, Problem
from liangye.model.policy import policy_from_dict, read_toml
from liangye.model.tables import read_raw_table

from .loader import load_policy_reference, scenario_from_dict

APPLICATION_MARKERS = {"candidate_id", "programme", "项目", "申报项目", "level", "级别", "申报级别"}


def validate_file(path: Path) -> tuple[str, list[Problem]]:
    """(what the file is, every problem found). Never raises for a bad file."""
    try:
        if path.suffix.lower() == ".toml":
            data = read_toml(path)
            if "programmes" in data:
                policy_from_dict(data, path.name)
                return "policy", []
            scenario = scenario_from_dict(data, path.name)
            load_policy_reference(scenario.policy, path.parent)
            return "scenario", []
        raw = read_raw_table(path)
        headers = {str(c).split("（")[0].split("(")[0].strip() for c in raw.columns}
        if len(headers & APPLICATION_MARKERS) >= 2:
            parse_applications(raw, path.name)
            return "applications", []
        parse_candidates(raw, path.name)
        return "candidates", []
    except InputError as error:
        kind = "policy or scenario" if path.suffix.lower() == ".toml" else "table"
        return kind, error.problems
