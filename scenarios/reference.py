"""Every key of the policy, scenario and sweep files, read from their schemas: the reference
``docs/reference.md`` holds (``python -m liangye.scenarios.reference > docs/reference.md``;
a test fails when the two differ, so the document cannot drift from what the files accept).
"""

from __future__ import annotations

import enum
import json
import types
import typing
from collections.abc import Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from liangye.agents.params import SimulationParameters
from liangye.model.policy import Policy

from .schema import Scenario
from .sweep_schema import Sweep

FILES: list[tuple[str, type[BaseModel], str]] = [
    (
        "Policy files (`scenarios/policies/*.toml`)",
        Policy,
        "What a policy document awards, to whom, how often and under which rules. What the "
        "keys mean and how the allocation reads them: docs/policy-format.md; the bundled "
        "files are worked examples, every number citing its clause.",
    ),
    (
        "Scenario files (`scenarios/*.toml`, `scenarios/examples/*.toml`)",
        Scenario,
        "A policy, years, budgets, a candidate pool and the allocation's settings; "
        "`--set KEY=VALUE` changes any key below (`--set budget.2025=2500` is short for "
        "`budget.per_year.2025`), `--set KEY=none` removes one. The `simulation` table is "
        "listed apart, below.",
    ),
    (
        "The simulation (`[simulation]` of a scenario)",
        SimulationParameters,
        "Where each default comes from: docs/calibration.md. Keys are written under "
        "`[simulation]` (`simulation.award_scale` with `--set`).",
    ),
    (
        "Sweep files (`scenarios/sweeps/*.toml`)",
        Sweep,
        "Levers × uncertainties × replications over a base scenario (docs/sweeps.md). A "
        "lever or uncertainty is keyed by the scenario key it sets (`budget_scale` and "
        "`tier_design` are named levers); an uncertainty is a `Range` (`low`, `high`, "
        "`dist`, `points`, `integer`: with `integer = true` a uniform range samples each "
        'whole number in it alike), a `Normal` (`dist = "normal"`, `mean`, `sd`, optional '
        "`low`/`high`: the law truncated to them, not clipped onto them) or a list of values.",
    ),
]

# What a key means where its schema says nothing (the keys found in many tables first).
GENERIC = {
    "reference": "the document's clause it comes from",
    "note": "a remark kept with the file (not read by the allocation)",
    "name": "its name, as the document writes it",
    "title": "its title, as the document or the bureau writes it",
    "description": "a longer description, shown in reports",
    "programmes": "programme ids it covers (absent: every programme)",
    "levels": "levels it covers (absent: every level)",
}
NOTES = {
    # policies
    "id": "a short id (letters, digits, _ and -): how commands and other files name it",
    "issuer": "the issuing body",
    "issued": "the date of issue",
    "valid_until": "the last date in force",
    "years": "[FIRST, LAST] years in force; [YEAR] is that year alone",
    "stacking": "highest: one award per matter, the highest (就高不重复); all: tiers stack",
    "upgrade": "how a holder promoted to a higher tier is paid: the difference, the full "
    "amount, or no upgrade",
    "cap_per_candidate_per_year": "the most designations one candidate gets in a year",
    "source": "the source document's file (docs/sources/)",
    "programmes": "the award programmes ([[programmes]] tables)",
    "programmes[].id": "a short id (letters, digits, _): applications and held cells name "
    "the programme by it (or by its Chinese name)",
    "programmes[].name": "the programme's Chinese name",
    "programmes[].matter": "the matter for 就高不重复: programmes sharing one pay a candidate "
    "once, the highest (absent: the programme's own id)",
    "programmes[].kinds": "who may apply: enterprises, parks or both",
    "programmes[].eligibility": "rules over candidate columns every tier needs, e.g. "
    "'revenue >= 2000万' (docs/policy-format.md, \"Rules\")",
    "programmes[].levels": "the tiers ([[programmes.levels]] or an inline list)",
    "programmes[].term": "how long a designation lasts",
    "programmes[].term.years": "years a designation lasts",
    "programmes[].revocation": "when a designation is withdrawn (the simulation applies it)",
    "programmes[].selection": "how the conferring body chooses",
    "programmes[].selection.text": "the document's words",
    "programmes[].levels[].level": "the tier's level",
    "programmes[].levels[].conferred_by": "the government that confers the tier (absent: "
    "its own level); above deciding_level it is a nomination",
    "programmes[].levels[].bands[].amount": "万元 paid in this band",
    "programmes[].levels[].payouts[].amount": "万元 paid in each of those years",
    "programmes[].levels[].payouts[].share": "or a share of the column `of`, per year",
    "programmes[].levels[].payouts[].of": "the candidate column (万元) `share` is taken of",
    "quotas": "counts of designations the document sets ([[quotas]])",
    "quotas[].name": "the quota's Chinese name",
    "quotas[].per": "counted per year or over the horizon",
    "quotas[].min": "at least this many (a target: 培育…家)",
    "quotas[].max": "at most this many",
    "balance": "spread rules: no district or sector takes more than a share or count",
    "balance[].max_share": "the most any one value of `by` takes, as a share",
    "balance[].max_count": "the most any one value of `by` takes, as a count",
    "balance[].per": "counted per year or over the horizon",
    "reserves": "reserve pools (后备库): eligible candidates not selected, ranked by score",
    "reserves[].name": "the reserve's Chinese name",
    "reserves[].per": "per year or over the horizon",
    "targets": "the document's goals (主要目标), reported against the plan",
    "targets[].name": "the target's Chinese name",
    "targets[].value": "the number to reach",
    "targets[].unit": "its unit (家, 个, 亿元, ...)",
    "targets[].op": "how the plan's figure compares with the value",
    "targets[].year": "the year it is due",
    "targets[].quota": "the name of the quota that models it, if any",
    "lists": "named lists the rules refer to (sectors, service modes)",
    "lists[].id": "the list's id (`sector_list` names it)",
    "lists[].name": "the list's Chinese name",
    "lists[].of": "what the list enumerates",
    "lists[].items": "its entries",
    "lists[].items[].name": "an entry, as the document writes it",
    "provisions": "rules the document states that the allocation records but does not compute with",
    "provisions[].kind": "what kind of provision",
    "provisions[].text": "the document's words",
    # scenarios
    "policy": "a bundled policy id, or a path relative to the scenario file",
    "budget": "the award budget in 万元",
    "budget.per_year": "万元 per year, e.g. { 2024 = 3000, 2025 = 3000 }",
    "budget.total": "万元 over the whole horizon (with or without yearly budgets)",
    "budget.carry_over": "true: money left in a year may be spent in later years",
    "candidates": "where the candidates come from: a file, or a synthetic pool",
    "candidates.file": "a candidate table (CSV or XLSX), relative to the scenario file",
    "candidates.applications": "an applications table (CSV or XLSX): who applies for which "
    "programme, level and year, with a score",
    "candidates.synthetic": "a synthetic pool (Jiaxing's districts and sectors) instead of a file",
    "candidates.synthetic.enterprises": "firms in the pool",
    "candidates.synthetic.parks": "industrial parks in the pool",
    "candidates.synthetic.seed": "the pool's random seed",
    "candidates.synthetic.held_share": "share of candidates already holding a designation",
    "allocation": "how the plan is chosen",
    "allocation.objective": "merit: weighted scores; count: designations; min_cost: spend",
    "allocation.threads": "HiGHS threads (fixed, so that a plan does not depend on the machine)",
    "allocation.cap_per_candidate_per_year": "the most designations one candidate gets in a "
    "year (over the policy's own)",
    "simulation": "the simulation's settings: the next table",
    "outputs": "the files a run writes",
    "population": "the simulated firms",
    # sweeps
    "scenario": "a bundled scenario name or a path relative to the sweep file",
    "levers": "what the user controls: key -> list of values, or a range table",
    "uncertainties": "what is not known: key -> list of values, a range or a normal law",
    "sampler": "how the design is drawn",
    "sampler.kind": "grid: every combination; lhs: Latin hypercube; sobol: SALib's "
    "Saltelli design (for Sobol indices)",
    "sampler.samples": "base samples (lhs; sobol: a power of two)",
    "sampler.combine": "cross: every lever setting × the uncertainty samples; joint: levers "
    "sampled with the uncertainties",
    "replications": "seeds per design point (the same seeds for every lever setting)",
    "root_seed": "the root of numpy.random.SeedSequence the replication seeds are spawned from",
    "outcomes": "the outcomes each run keeps (e.g. spend.paid, additionality.20.net_additional)",
    "analysis": "what `liangye analyse` judges by",
    "analysis.better": "per outcome, whether higher or lower is better",
}
# Types said in words where the schema's are a union of table kinds.
TYPES = {
    "levers": "table: key -> list, or range table",
    "uncertainties": "table: key -> list, range or normal table",
}

HEADER = """# Reference: every key of the input files

Generated from the files' schemas by `python -m liangye.scenarios.reference > docs/reference.md`
(a test fails when this file and the schemas differ). A key is written as TOML writes it:
`a.b` is key `b` of table `[a]`; `a[].b` is key `b` of each entry of the array of tables
`[[a]]` (or of an inline list of tables). "required" marks a key without a default.
Bad keys and values are refused with exit 2, naming the file and key.
"""


def _type_name(annotation: object) -> str:
    """A field's type as a reader of a TOML file needs it: text, number, list of ..."""
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in args)
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin in (list, tuple, set, frozenset):
        inner = _type_name(args[0]) if args else "value"
        if origin is tuple and len(args) == 2 and args[1] is not Ellipsis:
            return f"[{inner}, {_type_name(args[1])}]"
        return f"list of {inner}"
    if origin is dict:
        return f"table of {_type_name(args[1])}" if len(args) == 2 else "table"
    if isinstance(annotation, type):
        if issubclass(annotation, BaseModel):
            return "table"
        if issubclass(annotation, enum.Enum):
            return " \\| ".join(f"`{member.value}`" for member in annotation)
        if issubclass(annotation, bool):
            return "true/false"
        if issubclass(annotation, int):
            return "whole number"
        if issubclass(annotation, float):
            return "number"
        if issubclass(annotation, str):
            return "text"
        names = {"date": "date (2024-02-28)", "Decimal": "number (万元)"}
        return names.get(annotation.__name__, annotation.__name__)
    return str(annotation).replace("typing.", "")


def _default(info: FieldInfo) -> str:
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        value = info.get_default(call_default_factory=True)
        if isinstance(value, BaseModel):
            return "(table)"
    else:
        value = info.default
    if value is None or value is PydanticUndefined:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'`"{value}"`'
    if value in ({}, [], ()):
        return "empty"
    if isinstance(value, float) and value == float("inf"):
        return "none"
    if isinstance(value, list | tuple):
        return f"`{json.dumps(list(value), ensure_ascii=False)}`"
    return f"`{getattr(value, 'value', value)}`"


def _models_in(annotation: object) -> tuple[type[BaseModel], str] | None:
    """The model a field holds (itself, in a list or as a table's values) and how its keys
    are written under the field: ``.``, ``[].`` or ``.<key>.``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, "."
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) > 1:
        return None  # one of several kinds of table (a sweep's factor): said in words
    if origin in (typing.Union, types.UnionType, typing.Annotated) and args:
        return _models_in(args[0])
    if origin in (list, tuple) and args:
        found = _models_in(args[0])
        return (found[0], "[].") if found else None
    if origin is dict and len(args) == 2:
        found = _models_in(args[1])
        return (found[0], ".<key>.") if found else None
    return None


def _rows(model: type[BaseModel], prefix: str, seen: frozenset) -> Iterator[list[str]]:
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        text = info.description or NOTES.get(key) or GENERIC.get(name, "")
        description = text.replace("|", "\\|").replace("\n", " ")
        kind = TYPES.get(key) or _type_name(info.annotation)
        yield [f"`{key}`", kind, _default(info), description]
        inner = _models_in(info.annotation)
        if inner is not None and inner[0] not in seen and inner[0] is not SimulationParameters:
            yield from _rows(inner[0], f"{key}{inner[1]}", seen | {inner[0]})


def reference() -> str:
    """The whole reference, as Markdown."""
    parts = [HEADER]
    for title, model, about in FILES:
        parts.append(f"## {title}\n\n{about}\n")
        parts.append("| key | type | default | what |\n|---|---|---|---|")
        parts += ["| " + " | ".join(row) + " |" for row in _rows(model, "", frozenset({model}))]
        parts.append("")
    return "\n".join(parts)


if __name__ == "__main__":
    print(reference(), end="")
