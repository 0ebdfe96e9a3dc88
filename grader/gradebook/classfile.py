"""OUT/class.json: what the class page needs of every submission graded into an output folder,
so that grading some students again (`grade --student`, `regrade --student`) rewrites the class
page and grades.csv for the whole class, not for those students alone.

Per submission it keeps the score, the error, and per test its fraction, diagnosis codes and
first message (hidden tests' too: like summary.html and grades.csv, the file is the
instructor's, never a student's). Verdicts are rebuilt against the assignment's cases by name;
a test the assignment no longer has is dropped.
"""
import json
from pathlib import Path

from grader.results.grade import Graded
from grader.judge import Verdict

FILENAME = "class.json"


def _plain(graded) -> dict:
    return {"score": graded.score, "error": graded.error,
            "tests": [[v.case.name, v.fraction, list(v.codes), v.messages[:1]]
                      for v in graded.verdicts]}


def _graded(ident: str, data: dict, cases: dict) -> Graded:
    verdicts = [Verdict(cases[name], float(fraction), list(messages), list(codes))
                for name, fraction, codes, messages in data.get("tests", []) if name in cases]
    return Graded(ident, verdicts, [], data.get("error"))


def read(out: Path, assignment) -> dict:
    """{id: Graded} of the class file in `out` (empty when there is none, it is unreadable, or
    it belongs to another assignment)."""
    try:
        data = json.loads((Path(out) / FILENAME).read_text(encoding="utf-8"))
        if data.get("assignment") != assignment.name:
            return {}
        cases = {case.name: case for case in assignment.cases}
        return {ident: _graded(ident, entry, cases)
                for ident, entry in data["submissions"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def update(out: Path, graded_list, assignment, keep: bool) -> list:
    """Write the class file for `graded_list` (with `keep`, also every submission of the file
    already there that was not graded again) and return the whole class, sorted by id."""
    known = read(out, assignment) if keep else {}
    known.update({graded.id: graded for graded in graded_list})
    submissions = {ident: _plain(known[ident]) for ident in sorted(known)}
    path = Path(out) / FILENAME
    path.write_text(json.dumps({"assignment": assignment.name, "submissions": submissions},
                               ensure_ascii=False) + "\n", encoding="utf-8")
    return [known[ident] for ident in sorted(known)]
