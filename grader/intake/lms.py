"""Whose is each file of an LMS download, and which one notebook of each student to grade.

An LMS's download, read by the naming of the LMS that wrote it (grader/intake/layouts.py:
Canvas, Moodle, Blackboard, a regular expression of the instructor's;
grader/intake/gradescope.py: Gradescope's export; grader/intake/download.py tells which), is a
Roll: each student with their Identity (the LMS's id, their name in Unicode NFC, lateness and
attempt time where the LMS says them) and their files, and every entry that follows no naming.

`choose` settles which file of a student is graded: their latest attempt's files only (the
earlier attempts are named in a note); of its notebooks, the one named after the assignment,
else the newest; several equally fit is a problem naming the files, which --pick resolves.
Every file not graded is said: a note for a student's other notebooks and earlier attempts, a
stray entry for anything that is not a notebook.

Reads names, folders and modification times only; never a notebook's content.
"""
from __future__ import annotations

import fnmatch
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

#: How each LMS's download is called in messages.
TITLES = {"canvas": "Canvas download", "moodle": "Moodle download",
          "blackboard": "Blackboard download", "gradescope": "Gradescope export",
          "pattern": "--id-pattern"}
#: OS clutter, passed over like hidden files: macOS's resource forks, Windows' thumbnails.
CLUTTER = ("__MACOSX", "Thumbs.db", "desktop.ini")
ARCHIVES = (".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".7z", ".rar", ".gz")
#: what --pick takes, for messages and help
PICK_SYNTAX = "newest|name=PATTERN"


@dataclass(frozen=True)
class Identity:
    """A student as the LMS knows them."""

    student: str                    # the LMS's id: Canvas user id, Moodle participant id, ...
    name: str = ""                  # as the LMS writes it, NFC; "" where it hides it
    lms: str = ""                   # a key of TITLES
    late: bool | None = None        # None: the LMS does not say
    submitted_at: str | None = None  # the graded attempt's time as the LMS gives it (ISO 8601)
    email: str = ""
    group: tuple = ()               # a group submission: every member's id
    # the student in Canvas's grade import's terms, where this LMS's ids are those
    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""

    @property
    def shown(self) -> str:
        return f"{self.student} ({self.name})" if self.name else self.student

    def roster_row(self) -> dict:
        """The gradebook roster's row (the roster CSV's columns, and the LMS)."""
        return {"student": self.student, "name": self.name, "lms": self.lms,
                "email": self.email, "canvas_id": self.canvas_id,
                "sis_user_id": self.sis_user_id, "sis_login_id": self.sis_login_id}

    def as_json(self, file: str) -> dict:
        """What results.json says of the submission's origin (`file`: the graded file)."""
        return {"lms": self.lms, "student": self.student, "name": self.name, "late": self.late,
                "submitted_at": self.submitted_at, "file": file, "group": list(self.group)}


@dataclass(frozen=True)
class Piece:
    """One file of a student's submission."""

    path: Path        # on disk
    shown: str        # its name in the download (relative to its top folder, NFC)
    name: str         # the name the student gave it (within their submission, NFC)
    attempt: str = ""  # the attempt it belongs to: a time, sortable by its digits
    order: tuple = ()  # within one attempt, larger is newer (Canvas attachment id, mtime)


@dataclass
class Submitter:
    """A student of a download and the files they submitted."""

    who: Identity
    pieces: list = field(default_factory=list)
    empty: str = "no file"          # what to say when there is no piece
    attempts: set = field(default_factory=set)  # attempts without a file count too


@dataclass
class Roll:
    """What `recognise` found: whose download, its students, and the entries following no
    naming, (name, reason)."""

    lms: str
    students: list = field(default_factory=list)
    stray: list = field(default_factory=list)

    @property
    def title(self) -> str:
        return TITLES[self.lms]


def visible(folder: Path) -> list:
    """A folder's entries, sorted, without hidden ones and OS clutter."""
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError:
        return []
    return [e for e in entries if not e.name.startswith(".") and e.name not in CLUTTER]


def files_under(folder: Path, root: Path) -> tuple[list, list]:
    """(files, stray) below `folder`, recursively and sorted, hidden ones and clutter passed
    over; a symbolic link leading outside `root` is stray, never followed."""
    files, stray = [], []
    for entry in visible(folder):
        if entry.is_symlink() and not _inside(entry, root):
            stray.append((nfc(entry.relative_to(root).as_posix()),
                          "symlink leading outside the download (not followed)"))
        elif entry.is_dir():
            more, odd = files_under(entry, root)
            files += more
            stray += odd
        elif entry.is_file():
            files.append(entry)
    return files, stray


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


# -- which file is graded -----------------------------------------------------------------------

@dataclass
class Choice:
    """What `choose` settled for one student: the piece to grade (or None and `problem`), notes
    on what else they submitted, and the pieces listed as not graded."""

    piece: Piece | None
    notes: list = field(default_factory=list)
    problem: str = ""
    not_graded: list = field(default_factory=list)   # (piece, reason)


def choose(student: Submitter, assignment: str, pick=None) -> Choice:
    """The notebook of `student` to grade for `assignment` (see the module's docstring);
    `pick` (a discovery.Pick) overrides the automatic choice among several notebooks."""
    who, pieces = student.who, student.pieces
    attempts = sorted({p.attempt for p in pieces} | student.attempts, key=attempt_key)
    notes = []
    if len(attempts) > 1:
        notes.append(f"{who.shown}: graded the latest of {len(attempts)} attempts "
                     f"({attempts[-1]}); not {', '.join(attempts[:-1])}")
        pieces = [p for p in pieces if p.attempt == attempts[-1]]
    notebooks = [p for p in pieces if is_notebook(p.name)]
    archives = [(p, f"{p.shown}: an archive inside the download, not opened (not graded; "
                    f"{who.shown}): unpack it and grade that folder")
                for p in pieces if is_archive(p.name)]
    if not notebooks:
        held = ", ".join(p.name for p in pieces)
        return Choice(None, notes, f"{who.shown}: no notebook "
                                   f"({'holds ' + held if held else student.empty})", archives)
    others = archives + [(p, f"{p.shown}: not a notebook (not graded; {who.shown})")
                         for p in pieces if not is_notebook(p.name) and not is_archive(p.name)]
    if len(notebooks) == 1:
        return Choice(notebooks[0], notes, "", others)
    chosen, why = _several(notebooks, assignment, pick)
    names = ", ".join(p.name for p in notebooks)
    if chosen is None:
        return Choice(None, notes, f"{who.shown}: {len(notebooks)} notebooks ({names}), {why}",
                      others)
    rest = ", ".join(p.name for p in notebooks if p is not chosen)
    notes.append(f"{who.shown}: graded {chosen.name} ({why}); not {rest}")
    return Choice(chosen, notes, "", others)


def _several(notebooks: list, assignment: str, pick) -> tuple[Piece | None, str]:
    """(the notebook to grade, why), or (None, why none could be chosen)."""
    if pick is not None and pick.rule == "name":
        matches = [p for p in notebooks
                   if fnmatch.fnmatchcase(Path(p.name).name.lower(), pick.pattern.lower())]
        if len(matches) == 1:
            return matches[0], f"--pick {pick}"
        return None, f"--pick {pick} matches {len(matches) or 'none'} of them"
    named = [p for p in notebooks if named_after(p.name, assignment)] if pick is None else []
    pool = named or notebooks
    if len(pool) == 1:
        return pool[0], f"named after {assignment}"
    newest = max(p.order for p in pool)
    latest = [p for p in pool if p.order == newest]
    among = f"of those named after {assignment}" if named else "of them"
    if len(latest) == 1:
        return latest[0], f"the newest {among}" if named else "the newest"
    said = f"{len(named)} named after {assignment}" if named else \
        f"none named after {assignment}"
    return None, f"{said}, equally new: pick one with --pick {PICK_SYNTAX}"


def named_after(name: str, assignment: str) -> bool:
    """Whether a file name carries the assignment's name: its words (letters and digits of any
    script, any case) hold the assignment's in a row, a Canvas re-upload's `-N` or a browser's
    ` (N)` aside: `RNN_Linear.ipynb`, `rnn_linear-1.ipynb`, `rnn-linear 홍길동.ipynb`."""
    stem = re.sub(r"(-\d+| \(\d+\))$", "", Path(name).stem)
    words, wanted = _words(stem), _words(assignment)
    return bool(wanted) and any(words[i:i + len(wanted)] == wanted
                                for i in range(len(words) - len(wanted) + 1))


def _words(text: str) -> list:
    return [w for w in re.split(r"[\W_]+", nfc(text).casefold()) if w]


def attempt_key(text: str) -> tuple:
    """An attempt's time sorted by its numbers (`2024-03-02T09:30:00`, `20240302T0930`)."""
    return tuple(int(n) for n in re.findall(r"\d+", text)), text


def is_notebook(name: str) -> bool:
    return name.lower().endswith(".ipynb")


def is_archive(name: str) -> bool:
    return name.lower().endswith(ARCHIVES)


def _inside(entry: Path, root: Path) -> bool:
    try:
        return entry.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError):
        return False
