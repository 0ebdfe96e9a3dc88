"""Recording grading runs and asking the gradebook about them.

Every run is kept: a student's latest and best scores are queries over their runs, never
overwritten values, so a regrade adds a run and the history stays.
"""
import hashlib
import os
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from grader import __version__
from grader.gradebook.schema import GradebookError, connect

FILENAME = "gradebook.sqlite"
#: names the gradebook used where none is given (the test suite points it at its own folder)
ENVIRONMENT = "GRADER_GRADEBOOK"


def default_path(course: Path) -> Path:
    """The gradebook of a course: a file in the folder holding assignments/ and reference/, or
    the file $GRADER_GRADEBOOK names."""
    chosen = os.environ.get(ENVIRONMENT)
    return Path(chosen) if chosen else Path(course) / FILENAME


def content_hash(path) -> str | None:
    """sha256 (hex) of a notebook file's bytes, whether or not it parses as a notebook; None when
    there is no file to read (missing, a folder, permission denied)."""
    if path is None:
        return None
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Run:
    """One recorded grading run of one student's submission."""
    id: int
    assignment: str
    student: str
    graded_at: str
    content_hash: str | None
    grader_version: str
    score: float
    max_score: float
    error: str | None
    path: str | None = None
    submissions: str | None = None
    seconds: float | None = None
    isolation: str | None = None
    #: names of the tests this run did not pass, in the assignment's order
    failed: list = field(default_factory=list)
    #: 1 late, 0 on time, None: the LMS did not say
    late: int | None = None
    #: when the attempt graded was made, as the LMS gave it (ISO 8601)
    submitted_at: str | None = None


@dataclass
class Standing:
    """A student's place in one assignment: latest and best scores over their runs."""
    assignment: str
    student: str
    latest: float
    best: float
    attempts: int
    max_score: float
    graded_at: str
    error: str | None


_RUN_COLUMNS = ("id, assignment, student, graded_at, content_hash, grader_version, score, "
                "max_score, error, path, submissions, seconds, isolation, late, submitted_at")
ROSTER_COLUMNS = ("student", "name", "lms", "email", "canvas_id", "sis_user_id", "sis_login_id")


def _run(row) -> "Run":
    """A Run of a row of _RUN_COLUMNS (whose last two follow Run's list of failed tests)."""
    *columns, late, submitted_at = row
    return Run(*columns, late=late, submitted_at=submitted_at)


class Gradebook:
    """A SQLite gradebook file. Open one per process (or thread); several processes may record
    into the same file at once."""

    def __init__(self, path, *, create: bool = True, timeout: float | None = None):
        self.path = Path(path)
        kwargs = {} if timeout is None else {"timeout": timeout}
        self.db = connect(self.path, create=create, **kwargs)

    def close(self) -> None:
        self.db.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _write(self):
        return _Transaction(self.db, self.path)

    # -- recording ---------------------------------------------------------------------------

    def record(self, assignment, graded, *, path=None, submissions=None, digest=None,
               graded_at: str | None = None, grader_version: str = __version__,
               late: bool | None = None, submitted_at: str | None = None) -> int:
        """Record one grading run (a Graded of `assignment`); returns its run id. `path` is the
        notebook graded (hashed here unless `digest` is given), `submissions` what was asked to
        be graded (a folder, a zip or the notebook), for regrading; `late` and `submitted_at`
        what the LMS said of the attempt."""
        if digest is None:
            digest = content_hash(path)
        when = graded_at or now()
        rows = [(v.case.name, v.case.function, v.case.visibility, v.case.points, v.score,
                 int(v.passed), "\n".join(v.messages), " ".join(v.codes))
                for v in graded.verdicts]
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO runs (assignment, student, graded_at, content_hash, grader_version, "
                "score, max_score, error, path, submissions, seconds, isolation, late, "
                "submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (assignment.name, graded.id, when, digest, grader_version, graded.score,
                 assignment.max_score, graded.error, _absolute(path), _absolute(submissions),
                 round(graded.seconds, 3), graded.isolation,
                 None if late is None else int(late), submitted_at))
            run_id = cursor.lastrowid
            db.executemany(
                "INSERT INTO results (run_id, test, function, visibility, points, score, passed, "
                "feedback, codes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(run_id, *row) for row in rows])
            db.execute(
                "INSERT INTO assignments (name, title, max_score, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET title = excluded.title, "
                "max_score = excluded.max_score, updated_at = excluded.updated_at",
                (assignment.name, assignment.title, assignment.max_score, when))
        return run_id

    def enrol(self, people) -> None:
        """Put students into the roster (dicts of ROSTER_COLUMNS, as an LMS's download names
        them), replacing what an earlier download said of them."""
        rows = [tuple(person.get(c) or "" for c in ROSTER_COLUMNS) for person in people]
        if not rows:
            return
        with self._write() as db:
            db.executemany(
                f"INSERT INTO roster ({', '.join(ROSTER_COLUMNS)}, updated_at) "
                f"VALUES ({', '.join('?' * len(ROSTER_COLUMNS))}, ?) ON CONFLICT (student) DO "
                "UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in ROSTER_COLUMNS[1:]) +
                ", updated_at = excluded.updated_at", [(*row, now()) for row in rows])

    # -- queries -----------------------------------------------------------------------------

    def roster(self) -> list:
        """Every student the downloads graded named, by id: dicts of ROSTER_COLUMNS."""
        return [dict(zip(ROSTER_COLUMNS, row)) for row in self.db.execute(
            f"SELECT {', '.join(ROSTER_COLUMNS)} FROM roster ORDER BY student")]

    def assignments(self) -> list:
        """(name, title, max_score) of every assignment with a recorded run, by name."""
        return [tuple(r) for r in self.db.execute(
            "SELECT name, title, max_score FROM assignments "
            "WHERE name IN (SELECT DISTINCT assignment FROM runs) ORDER BY name")]

    def standings(self, assignment: str | None = None) -> list:
        """Latest and best score and attempts per (assignment, student), sorted."""
        query = """
            SELECT s.assignment, s.student, r.score, s.best, s.attempts, r.max_score,
                   r.graded_at, r.error
            FROM (SELECT assignment, student, MAX(score) AS best, COUNT(*) AS attempts,
                         MAX(id) AS last
                  FROM runs {where} GROUP BY assignment, student) AS s
            JOIN runs AS r ON r.id = s.last
            ORDER BY s.assignment, s.student"""
        where, args = ("WHERE assignment = ?", (assignment,)) if assignment else ("", ())
        return [Standing(*row) for row in self.db.execute(query.format(where=where), args)]

    def history(self, student: str, assignment: str | None = None) -> list:
        """Every run of a student (of one assignment), oldest first, with the failed tests."""
        where, args = "student = ?", [student]
        if assignment:
            where += " AND assignment = ?"
            args.append(assignment)
        runs = [_run(row) for row in self.db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} ORDER BY assignment, id", args)]
        for run in runs:
            run.failed = [name for (name,) in self.db.execute(
                "SELECT test FROM results WHERE run_id = ? AND NOT passed ORDER BY rowid",
                (run.id,))]
        return runs

    def run(self, run_id: int) -> Run | None:
        row = self.db.execute(f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?",
                              (run_id,)).fetchone()
        return _run(row) if row else None

    def results(self, run_id: int) -> list:
        """(test, function, visibility, points, score, passed, feedback, codes) of a run."""
        return [tuple(r) for r in self.db.execute(
            "SELECT test, function, visibility, points, score, passed, feedback, codes "
            "FROM results WHERE run_id = ? ORDER BY rowid", (run_id,))]

    def scores(self, which: str = "latest") -> dict:
        """{(student, assignment): score}: the latest or the best score of every student."""
        if which not in ("latest", "best"):
            raise ValueError(f"which must be 'latest' or 'best', not {which!r}")
        return {(s.student, s.assignment): (s.latest if which == "latest" else s.best)
                for s in self.standings()}

    def latest_runs(self, assignment: str, students=()) -> list:
        """The latest run of each student of an assignment (only the named ones, if any)."""
        runs = [_run(row) for row in self.db.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id IN (SELECT MAX(id) FROM runs "
            "WHERE assignment = ? GROUP BY student) ORDER BY student", (assignment,))]
        return [run for run in runs if not students or run.student in students]


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK on an exception; SQLite errors become
    GradebookError naming the file."""

    def __init__(self, db, path):
        self.db, self.path = db, path

    def __enter__(self):
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise GradebookError(f"{self.path}: cannot write ({exc})") from None
        return self.db

    def __exit__(self, kind, exc, tb):
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return False
            except sqlite3.Error as error:
                exc = error
        if self.db.in_transaction:
            self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise GradebookError(f"{self.path}: cannot write ({exc})") from None
        return False


def _absolute(path) -> str | None:
    return None if path is None else str(Path(path).absolute())
