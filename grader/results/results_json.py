"""Results in Gradescope's results.json format, the class's grades.csv, and the plain-text
feedback shown by `grader check`. Consumes verdicts; never calls back into judging.

Hidden tests show only their name and whether they passed: no inputs, no expected values, no
diagnosis.
"""
import csv
import json
from pathlib import Path

from grader import __version__, i18n
from grader.i18n import _

VISIBILITY = {"public": "visible", "hidden": "after_published"}


def _status(verdict) -> str:
    return "passed" if verdict.passed else "failed"


def test_output(verdict) -> str:
    """What a student reads for one test."""
    if verdict.case.visibility == "hidden":
        return _("Passed.") if verdict.passed else _("Failed (hidden test: no details are "
                                                     "shown).")
    if verdict.passed:
        description = verdict.case.description
        return _("Passed.") + (f" {i18n.text(description)}" if description else "")
    head = _("Partly correct.") + " " if verdict.fraction > 0 else ""
    if len(verdict.messages) > 1:  # one Markdown item per mistake, as the feedback page shows
        return (head.strip() + "\n\n" if head else "") + "\n".join(
            f"- {m}" for m in verdict.messages)
    return head + " ".join(verdict.messages)


def summary(graded, assignment) -> str:
    """A few lines at the top of the results: score per function, notes, the cause of failure."""
    lines = []
    if graded.error:
        lines.append(_("Your submission could not be graded: {error}", error=graded.error))
    lines.append(_("Score: {score} / {max_score}", score=format(graded.score, "g"),
                   max_score=format(assignment.max_score, "g")))
    for function in assignment.functions:
        mine = [v for v in graded.verdicts if v.case.function == function]
        if mine:
            got = round(sum(v.case.points * v.fraction for v in mine), 4)
            of = sum(v.case.points for v in mine)
            lines.append(f"- `{function}`: {got:g} / {of:g}")
    for note in graded.notes:
        lines.append(_("Note: {note}", note=note))
    return "\n".join(lines)


def to_gradescope(graded, assignment, origin: dict | None = None) -> dict:
    """One submission's results.json content; `origin`, what an LMS's download said of the
    submission (student, name, lateness, attempt time, file: grader/intake/lms.py), goes into
    extra_data["lms"]."""
    content = {
        "score": graded.score,
        "execution_time": round(graded.seconds, 3),
        "output": summary(graded, assignment),
        "output_format": "md",
        "test_output_format": "md",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{
            "name": i18n.text(v.case.name),
            "score": v.score,
            "max_score": v.case.points,
            "status": _status(v),
            "output": test_output(v),
            "visibility": VISIBILITY[v.case.visibility],
            "tags": [v.case.function] + ([] if v.case.visibility == "hidden" else sorted(
                {c for c in v.codes})),
        } for v in graded.verdicts],
        "extra_data": {
            "assignment": assignment.name,
            "submission": graded.id,
            "grader_version": __version__,
            "isolation": graded.isolation,
            "max_score": assignment.max_score,
            "lang": i18n.language(),
        },
    }
    if origin:
        content["extra_data"]["lms"] = origin
    return content


def write_results(out: Path, graded, assignment, origin: dict | None = None) -> Path:
    folder = out / graded.id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "results.json"
    # no indent: json's C encoder then writes it (indenting falls back to the Python one, ~0.5 ms
    # a submission); `python -m json.tool results.json` shows it indented
    path.write_text(json.dumps(to_gradescope(graded, assignment, origin), ensure_ascii=False) +
                    "\n")
    return path


def write_grades_csv(out: Path, graded_list, assignment) -> Path:
    """One row per submission, sorted by id: its score and which tests it failed."""
    path = out / "grades.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "score", "max_score", "failed_tests", "error"])
        for graded in sorted(graded_list, key=lambda g: g.id):
            failed = [v.case.name for v in graded.verdicts if not v.passed]
            writer.writerow([graded.id, f"{graded.score:g}", f"{assignment.max_score:g}",
                             "; ".join(failed), graded.error or ""])
    return path


def report_text(graded, assignment) -> str:
    """The readable report of `grader check`: per function, each test and why it failed."""
    lines = [summary(graded, assignment), ""]
    for function in assignment.functions:
        mine = [v for v in graded.verdicts if v.case.function == function]
        if not mine:
            continue
        lines.append(f"{function}")
        for v in mine:
            mark = _("PASS") if v.passed else _("FAIL")
            lines.append(f"  [{mark}] {i18n.text(v.case.name)} ({v.score:g}/{v.case.points:g})")
            if not v.passed:
                lines.extend(f"         {m}" for m in (v.messages if v.case.visibility ==
                                                        "public" else [_("(hidden test)")]))
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
