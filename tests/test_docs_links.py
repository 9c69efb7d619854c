"""The repository stands alone: every relative link of the README and docs/ names a file it
has, and nothing points outside it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# What the repository must not point at: the team's folder beside it, and its design card
# (the design lives in docs/design.md). Spelt in parts so that this file names neither.
OUTSIDE = ("../" + "shared", "DES" + "IGN.md")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def test_every_relative_link_names_a_file_of_the_repository():
    broken = []
    for document in _documents():
        for target in LINK.findall(document.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            resolved = (document.parent / target).resolve()
            if not resolved.exists() or ROOT not in resolved.parents:
                broken.append(f"{document.relative_to(ROOT)} → {target}")
    assert broken == []
    assert len(_documents()) >= 5  # README and docs/ were found


def test_nothing_points_outside_the_repository():
    outside = [
        f"{document.relative_to(ROOT)}: {line.strip()[:60]}"
        for document in _documents()
        for line in document.read_text(encoding="utf-8").splitlines()
        if any(outside in line for outside in OUTSIDE)
    ]
    assert outside == []


def test_the_reference_of_the_input_files_is_what_their_schemas_accept():
    """docs/reference.md is generated from the schemas; a key added, renamed or given another
    default without regenerating it fails here (python -m liangye.scenarios.reference >
    docs/reference.md)."""
    from liangye.scenarios.reference import reference

    written = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    assert written == reference()
    assert "`programmes[].levels[].amount`" in written and "`budget.per_year`" in written
    assert "`simulation`" in written and "`sampler.kind`" in written
