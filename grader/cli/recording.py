"""Grading a batch as a command does it: which submissions (--student), what to say when there
are none, the runs recorded in the gradebook as they arrive, and grades.csv merged with earlier
runs'."""
import csv
import sys
from pathlib import Path

import click

from grader.gradebook.schema import GradebookError
from grader.gradebook.store import Gradebook
from grader.intake.discovery import survey, unpack_folder
from grader.read.submission import SubmissionError


def _fail(message: str):
    click.echo(f"grader: {message}", err=True)
    sys.exit(2)


class Recorder:
    """Records each graded submission of a batch as it arrives (call it with the Graded). If
    the gradebook stops accepting runs, grading goes on: the failure is reported once, and
    `close` reports it again and makes the command exit 1."""

    def __init__(self, path: Path, assignment, entries, submissions, who=None):
        """`entries`: (id, notebook path or None, error) as discovered; `submissions`: what was
        graded, one path for all, or {id: path}; `who`: {id: lms.Identity} of the students an
        LMS's download named, put into the gradebook's roster."""
        self.book = Gradebook(path)
        self.path, self.assignment = Path(path), assignment
        self.paths = {sid: notebook for sid, notebook, _ in entries}
        self.sources = submissions if isinstance(submissions, dict) else \
            dict.fromkeys(self.paths, submissions)
        self.who = who or {}
        self.book.enrol(identity.roster_row() for identity in self.who.values())
        self.recorded, self.error = 0, None

    def __call__(self, graded) -> None:
        if self.error:
            return
        who = self.who.get(graded.id)
        try:
            self.book.record(self.assignment, graded, path=self.paths.get(graded.id),
                             submissions=self.sources.get(graded.id),
                             late=who and who.late, submitted_at=who and who.submitted_at)
            self.recorded += 1
        except GradebookError as exc:
            self.error = str(exc)
            click.echo(f"warning: gradebook: {exc}; later submissions are not recorded "
                       "(results.json and grades.csv are complete)", err=True)

    def close(self) -> None:
        self.book.close()
        runs = f"{self.recorded} run{'' if self.recorded == 1 else 's'}"
        if self.error:
            click.echo(f"grader: gradebook: recorded {runs}, then failed: {self.error}", err=True)
            sys.exit(1)
        click.echo(f"gradebook: recorded {runs} in {self.path}")


def open_recorder(path: Path, assignment, entries, submissions, who=None) -> Recorder:
    try:
        return Recorder(path, assignment, entries, submissions, who)
    except GradebookError as exc:
        _fail(f"{exc} (pass --gradebook PATH, or --no-gradebook)")


def survey_of(submissions: Path, pick, assignment: str, id_pattern, out: Path):
    """The survey of what `grade` or `regrade --submissions` was given; a zip is unpacked into
    the output folder (kept there, so that a regrade finds its notebooks)."""
    return survey(submissions, pick, assignment=assignment, id_pattern=id_pattern,
                  unpack_to=unpack_folder(out, submissions))


def identities(found) -> dict:
    """{id: lms.Identity} of the submissions of a survey that an LMS's download named."""
    return {f.id: f.who for f in found.found if f.who is not None}


def origins(found) -> dict:
    """{id: what results.json says of its origin} of a survey's submissions from a download."""
    if found is None:
        return {}
    return {f.id: f.who.as_json(f.file) for f in found.found if f.who is not None}


def select_students(survey, students, where):
    """The survey's submissions and left-out entries of the named students (all without
    names); a name found nowhere is an error."""
    if not students:
        return survey
    found = {f.id for f in survey.found} | {x.id for x in survey.left_out}
    missing = [s for s in students if s not in found]
    if missing:
        raise SubmissionError(f"no submission {', '.join(map(repr, missing))} in {where} "
                              f"(found: {', '.join(sorted(found)) or 'none'})")
    return survey.only(set(students))


def entries_of(survey) -> list:
    """(id, notebook path or None, error or None) of each submission to grade."""
    return [(f.id, f.path, f.error) for f in survey.found]


def read_grades(out: Path) -> list:
    """The rows of an earlier OUT/grades.csv (none if there is none), before a partial regrade
    overwrites it."""
    path = Path(out) / "grades.csv"
    try:
        with path.open(newline="") as f:
            return [list(row) for row in csv.reader(f)]
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def merge_grades(out: Path, previous: list, left_out=(), max_score: float = 0.0) -> None:
    """Put back the rows of the submissions a partial regrade did not grade, so OUT/grades.csv
    still lists the whole class, and add a row for each entry left out (no score, the reason
    in the error column); sorted by id, like a full run."""
    if not previous and not left_out:
        return
    path = Path(out) / "grades.csv"
    with path.open(newline="") as f:
        header, *rows = list(csv.reader(f))
    rows += [[x.id, "", f"{max_score:g}", "", x.reason] for x in left_out]
    done = {row[0] for row in rows}
    if previous and previous[0] == header:
        rows += [row for row in previous[1:] if row and row[0] not in done]
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(sorted(rows, key=lambda row: row[0]))


def nothing_to_grade(found, where) -> None:
    """Stop (exit 2) when a survey holds no submission to grade, saying what it holds."""
    if found.found:
        return
    if found.left_out:
        _fail(f"no notebook to grade in {where}: " + "; ".join(x.reason for x in found.left_out))
    _fail(f"no notebooks found in {where}")
