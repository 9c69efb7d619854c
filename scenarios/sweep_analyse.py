"""``liangye analyse``'s inputs: the sweep folder, targets and setting checked, then analysed."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from liangye.model.errors import InputError, Problem, validation_problems
from liangye.results.sweep_analysis import SweepAnalysis, analyse_sweep
from liangye.results.sweep_data import AnalysisInputError, Target
from liangye.results.sweep_store import read_manifest

from .sweep_schema import Sweep, outcome_names, parse_target


def parse_setting(text: str) -> dict[str, str]:
    """``"tier_design=wuhan,budget_scale=1"`` as {lever: value text}; raise InputError
    naming --setting when an item is not LEVER=VALUE or a lever is given twice."""
    wanted: dict[str, str] = {}
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value or name in wanted:
            raise InputError(
                [
                    Problem(
                        "--setting",
                        text,
                        "expected LEVER=VALUE[,LEVER=VALUE...], each lever once, "
                        "e.g. tier_design=wuhan,budget_scale=1",
                        "应写作“变量=取值”，多个以逗号隔开，每个变量只给一次，"
                        "如 tier_design=wuhan,budget_scale=1",
                    )
                ]
            )
        wanted[name] = value
    return wanted


# What a run folder's manifest says it is (results/store.py): never a sweep to analyse.
RUN_KINDS = frozenset({"allocation", "simulation", "frontier", "compare"})


def analysis_inputs(folder: Path, targets: list[str], setting: str | None) -> SweepAnalysis:
    """Analyse the sweep in ``folder`` against the sweep file's ``[analysis]`` targets (as
    stored in its manifest) and ``targets`` given on the command line. Raises InputError
    naming every bad target (the file's key or --target and the text) and a bad --setting,
    before anything is computed."""
    manifest = read_manifest(folder)
    if not manifest or manifest.get("kind") in RUN_KINDS:
        said = (
            f"is the folder of a single run ({manifest['kind']}), not of a sweep: liangye "
            "report makes its report"
            if manifest
            else "is not a sweep folder (no manifest.json)"
        )
        said_zh = (
            "是单次运行的文件夹，不是批量情景文件夹：其报告请用 liangye report"
            if manifest
            else "不是批量情景文件夹（没有 manifest.json）"
        )
        raise InputError([Problem(str(folder), "", said, said_zh)])
    source = Path(str(manifest.get("sweep_file") or "manifest.json")).name
    try:
        sweep = Sweep.model_validate(manifest.get("sweep", {}))
    except ValidationError as error:
        raise InputError(validation_problems(error, f"{folder}/manifest.json")) from None
    outcomes = outcome_names(sweep)
    parsed: list[Target] = []
    problems: list[Problem] = []
    given = [(source, f"analysis.targets[{i}]", t) for i, t in enumerate(sweep.analysis.targets)]
    given += [("--target", repr(t), t) for t in targets]
    for where, key, text in given:
        try:
            target = parse_target(text, outcomes)
        except ValueError as error:
            problems.append(
                Problem(
                    where,
                    "" if where == "--target" else key,
                    str(error),
                    getattr(error, "zh", ""),  # parse_target says it in Chinese too
                )
            )
            continue
        if target not in parsed:
            parsed.append(target)
    wanted = parse_setting(setting) if setting is not None else None
    if problems:
        raise InputError(problems)
    try:
        return analyse_sweep(
            folder, parsed, dict(sweep.analysis.better), wanted, lever_value_names()
        )
    except AnalysisInputError as error:
        raise InputError([Problem(error.where, "", error.message, error.zh)]) from None


def lever_value_names() -> dict[str, dict[str, str]]:
    """Lever values people know by a name: a tier design by its title in the library."""
    from .tiers import load_tier_library

    return {"tier_design": {k: d.title for k, d in load_tier_library().designs.items()}}
