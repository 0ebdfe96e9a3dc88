"""The gradebook's SQLite schema and its migrations.

The schema version lives in the database header (`PRAGMA user_version`). `MIGRATIONS` is the
ordered list of steps; step k (1-based) brings a database from version k − 1 to k. Opening a
gradebook applies the missing steps, each in its own write transaction together with the version
bump, so a crash leaves the database at a known version and two graders opening an old file at
once migrate it exactly once. Released steps are never edited: a change is a new step.

Connections use WAL (readers never block the writer, so `grader gradebook list` works while a
batch is recorded), a busy timeout (a second writer waits instead of failing with "database is
locked") and explicit BEGIN IMMEDIATE transactions (a writer takes the write lock up front, so it
never has to upgrade a read lock, the one case where SQLite gives up without waiting).
"""
import sqlite3
import time
from pathlib import Path

#: seconds a connection waits for another writer before giving up.
BUSY_TIMEOUT = 60.0


class GradebookError(Exception):
    """A gradebook that cannot be opened or written; str(e) names the file and the problem."""


def _v1(db: sqlite3.Connection) -> None:
    """The first schema: one row per grading run, one row per test of that run."""
    db.execute("""
        CREATE TABLE runs (
            id             INTEGER PRIMARY KEY AUTOINCREMENT,
            assignment     TEXT NOT NULL,
            student        TEXT NOT NULL,   -- the submission id (file stem or folder name)
            graded_at      TEXT NOT NULL,   -- UTC, ISO 8601, e.g. 2024-05-01T12:00:00Z
            content_hash   TEXT,            -- sha256 of the notebook's bytes; NULL: no file read
            grader_version TEXT NOT NULL,
            score          REAL NOT NULL,
            max_score      REAL NOT NULL,
            error          TEXT             -- why the submission could not be graded at all
        )""")
    db.execute("""
        CREATE TABLE results (
            run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            test       TEXT NOT NULL,
            function   TEXT NOT NULL,
            visibility TEXT NOT NULL,       -- public | hidden
            points     REAL NOT NULL,
            score      REAL NOT NULL,
            passed     INTEGER NOT NULL,    -- 0 | 1
            PRIMARY KEY (run_id, test)
        )""")


def _v2(db: sqlite3.Connection) -> None:
    """Where each run's notebook came from (regrading finds it again), how it ran, the feedback
    of each test, the assignments' titles (for LMS column names), and indexes for the per-student
    queries."""
    db.execute("ALTER TABLE runs ADD COLUMN path TEXT")         # the notebook, absolute
    db.execute("ALTER TABLE runs ADD COLUMN submissions TEXT")  # the folder or file graded
    db.execute("ALTER TABLE runs ADD COLUMN seconds REAL")
    db.execute("ALTER TABLE runs ADD COLUMN isolation TEXT")
    db.execute("ALTER TABLE results ADD COLUMN feedback TEXT")  # every message, hidden tests too
    db.execute("ALTER TABLE results ADD COLUMN codes TEXT")     # diagnosis codes, space-separated
    db.execute("""
        CREATE TABLE assignments (
            name       TEXT PRIMARY KEY,
            title      TEXT NOT NULL,
            max_score  REAL NOT NULL,
            updated_at TEXT NOT NULL
        )""")
    db.execute("""
        INSERT INTO assignments (name, title, max_score, updated_at)
        SELECT assignment, assignment, max_score, graded_at FROM runs r
        WHERE id = (SELECT MAX(id) FROM runs WHERE assignment = r.assignment)""")
    db.execute("CREATE INDEX runs_by_student ON runs (assignment, student, id)")
    db.execute("CREATE INDEX runs_by_name ON runs (student, assignment, id)")


def _v3(db: sqlite3.Connection) -> None:
    """Who the students are as an LMS's download named them (the roster a grade export needs
    to match them in the LMS), and each run's attempt: whether the LMS marked it late, and
    when it was made."""
    db.execute("ALTER TABLE runs ADD COLUMN late INTEGER")        # 1 | 0; NULL: not said
    db.execute("ALTER TABLE runs ADD COLUMN submitted_at TEXT")   # as the LMS gave it, ISO 8601
    db.execute("""
        CREATE TABLE roster (
            student      TEXT PRIMARY KEY,             -- the submission id: the LMS's id
            name         TEXT NOT NULL DEFAULT '',     -- as the LMS writes it, Unicode NFC
            lms          TEXT NOT NULL DEFAULT '',     -- canvas | moodle | blackboard | ...
            email        TEXT NOT NULL DEFAULT '',
            canvas_id    TEXT NOT NULL DEFAULT '',     -- the columns of Canvas's grade import
            sis_user_id  TEXT NOT NULL DEFAULT '',
            sis_login_id TEXT NOT NULL DEFAULT '',
            updated_at   TEXT NOT NULL
        )""")


#: Ordered: MIGRATIONS[k] brings a database from version k to k + 1.
MIGRATIONS = [_v1, _v2, _v3]
SCHEMA_VERSION = len(MIGRATIONS)


def version(db: sqlite3.Connection) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION, where: str = "") -> int:
    """Apply the missing migrations up to `target`; returns the version reached. The connection
    must be in autocommit mode (isolation_level=None)."""
    current = version(db)
    if current > SCHEMA_VERSION:
        raise GradebookError(f"{where or 'gradebook'}: schema version {current} was written by a "
                             f"newer grader (this one knows up to {SCHEMA_VERSION}); upgrade grader")
    while current < target:
        db.execute("BEGIN IMMEDIATE")
        try:
            current = version(db)  # another process may have migrated while we waited
            if current < target:
                MIGRATIONS[current](db)
                current += 1
                db.execute(f"PRAGMA user_version = {current}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return current


def connect(path: Path, *, create: bool = True, timeout: float = BUSY_TIMEOUT,
            target: int = SCHEMA_VERSION) -> sqlite3.Connection:
    """A connection to the gradebook at `path`, in WAL mode, migrated to `target`."""
    path = Path(path)
    if not create and not path.is_file():
        raise GradebookError(f"{path}: no gradebook here (grading creates it; see --gradebook)")
    if create and not path.parent.is_dir():
        raise GradebookError(f"{path}: folder {path.parent} does not exist")
    try:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        raise GradebookError(f"{path}: cannot be opened ({exc})") from None
    try:
        db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        _wal(db, timeout)
        db.execute("PRAGMA foreign_keys = ON")
        db.execute("PRAGMA synchronous = NORMAL")  # safe with WAL: a power cut may lose only the last runs
        migrate(db, target, str(path))
    except sqlite3.OperationalError as exc:  # locked past the timeout, read-only, disk full
        db.close()
        raise GradebookError(f"{path}: cannot be opened ({exc})") from None
    except sqlite3.DatabaseError as exc:  # "file is not a database"
        db.close()
        raise GradebookError(f"{path}: not a gradebook ({exc})") from None
    except BaseException:
        db.close()
        raise
    return db


def _wal(db: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL. Switching needs a moment alone with the file; SQLite does not always call
    the busy handler for it, so retry until the timeout. A file system without shared memory
    (some network mounts) keeps the rollback journal: slower, still correct."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL").fetchone()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
