"""CSV exports of the gradebook: one row per student, one column per assignment.

- `wide`: `student` then one column per assignment (its grader name).
- `canvas`: the columns Canvas's gradebook import reads: Student, ID, SIS User ID, SIS Login ID,
  Section, then one column per assignment named "Title (canvas id)". Canvas matches a row to a
  student by ID, SIS User ID or SIS Login ID; without a roster, a student an LMS's download
  named has the identities it gave (Canvas's user id in ID, Gradescope's SID in SIS User ID,
  Blackboard's username in SIS Login ID: the gradebook's roster), anyone else the submission
  id in SIS Login ID. A column whose name carries no id makes Canvas create a new assignment.
- `moodle`: "Email address" and "ID number", then one column per assignment, for Moodle's
  "Import grades → CSV file": map one identity column to the matching user field, each
  assignment column to its grade item.

Scores are points as recorded (not percentages); a student without a run of an assignment gets
an empty cell, which both LMSs leave unchanged.

A roster (CSV with a header) maps the grader's student ids (the submission ids: file stems or
folder names) to LMS identities: column `student` is required; `name`, `email`, `canvas_id`,
`sis_user_id`, `sis_login_id`, `section` are optional. With a roster, rows follow its order and
include its students without runs; students with runs missing from the roster come last.
"""
import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

FORMATS = ("wide", "canvas", "moodle")
ROSTER_FIELDS = ("student", "name", "email", "canvas_id", "sis_user_id", "sis_login_id",
                 "section")


class RosterError(Exception):
    """A roster that cannot be used; str(e) names the file and the problem."""


@dataclass
class Person:
    student: str
    name: str = ""
    email: str = ""
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""


@dataclass
class Export:
    text: str
    #: students with runs who are not in the roster (empty without a roster)
    unmatched: list = field(default_factory=list)
    #: students a download named without any id Canvas matches (anonymous grading's anon_…)
    unidentified: list = field(default_factory=list)


def read_roster(path: Path) -> list:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"{path}: cannot be read ({exc})") from None
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    if "student" not in header:
        raise RosterError(f"{path}: no 'student' column (the submission id); columns: "
                          f"{', '.join(ROSTER_FIELDS)}")
    people, seen = [], set()
    for number, row in enumerate(reader, 2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}
        person = Person(**{k: row.get(k, "") for k in ROSTER_FIELDS})
        if not person.student:
            raise RosterError(f"{path}, line {number}: empty 'student'")
        if person.student in seen:
            raise RosterError(f"{path}, line {number}: student {person.student!r} listed twice")
        seen.add(person.student)
        people.append(person)
    return people


def _number(score) -> str:
    return "" if score is None else f"{score:g}"


def known_people(rows) -> list:
    """Persons of the gradebook's roster rows (dicts with the roster's columns, and more)."""
    return [Person(**{k: row.get(k) or "" for k in ROSTER_FIELDS}) for row in rows]


def export_csv(scores: dict, assignments: list, fmt: str = "wide", roster: list | None = None,
               lms_ids: dict | None = None, known: list | None = None) -> Export:
    """CSV text. `scores`: {(student, assignment): score}; `assignments`: (name, title,
    max_score) in column order; `lms_ids`: {assignment name: LMS assignment id}; `known`: the
    Persons LMS downloads named (the gradebook's roster), used when there is no `roster`."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    lms_ids = lms_ids or {}
    graded = sorted({student for student, _ in scores})
    unidentified = []
    if roster is None:
        named = {p.student: p for p in known or []}
        people = [named.get(s) or Person(s, sis_login_id=s) for s in graded]
        unidentified = [p.student for p in people if p.student in named
                        and not (p.canvas_id or p.sis_user_id or p.sis_login_id)]
        unmatched = []
    else:
        known = {p.student for p in roster}
        unmatched = [s for s in graded if s not in known]
        people = list(roster) + [Person(s) for s in unmatched]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    names = [a[0] for a in assignments]
    if fmt == "wide":
        writer.writerow(["student", *names])
        for p in people:
            writer.writerow([p.student, *(_number(scores.get((p.student, a))) for a in names)])
    elif fmt == "canvas":
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                         *(f"{title} ({lms_ids[name]})" if name in lms_ids else title
                           for name, title, _ in assignments)])
        for p in people:
            writer.writerow([p.name or p.student, p.canvas_id, p.sis_user_id, p.sis_login_id,
                             p.section, *(_number(scores.get((p.student, a))) for a in names)])
    else:
        writer.writerow(["Email address", "ID number", *(title for _, title, _ in assignments)])
        for p in people:
            writer.writerow([p.email, p.sis_user_id or p.student,
                             *(_number(scores.get((p.student, a))) for a in names)])
    return Export(out.getvalue(), unmatched, unidentified if fmt == "canvas" else [])
