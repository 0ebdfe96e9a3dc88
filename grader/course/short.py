"""Loading an assignment whose spec.toml is in the short form (grader.course.spec): its cases
are derived from the spec and the reference (grader.course.derive), not built by a cases.py."""
from __future__ import annotations

from pathlib import Path

from grader.course.derive import derive
from grader.course.references import load_reference
from grader.course.spec import SpecError, parse


def derived(course: Path, name: str, data: dict, path: Path,
            hypotheses=None) -> tuple[str, list, list]:
    """(title, cases, graded functions) of the short-form spec `data` read from `path`, with the
    known mistakes `hypotheses` adds (an assignment's cases.py, where it has one)."""
    spec = parse(data, path)
    try:
        reference = load_reference(course, name)
    except FileNotFoundError as exc:
        raise SpecError(str(exc)) from None
    return spec.title, derive(spec, reference, hypotheses), [f.name for f in spec.functions]
