"""Finding the submissions in what the instructor points the grader at.

A zip (an LMS's download) is unpacked first (grader/intake/archive.py) and its folder surveyed.
A folder an LMS wrote, or one named as --id-pattern says, is read by its naming
(grader/intake/lms.py): students are known by the LMS's id, with one notebook chosen each.
Any other folder is surveyed plainly:

A notebook file is one submission; in a folder, each `*.ipynb` directly inside is one (id =
file stem) and each subfolder holding notebooks is one (id = folder name). Everything else in
the folder is *left out*, each with the reason, so nothing is skipped silently: a `.py` file, an
archive, a folder without a notebook, a folder holding several notebooks (unless the instructor
says which to take with a Pick: the grader does not guess). Only hidden entries (`.DS_Store`,
`.ipynb_checkpoints`, `.git`) and those the folder's own `.graderignore` names (a glob per line
matched against names directly inside, `name/` for folders only, `#` comments) are passed over
without a word. Symlinks leading outside the folder are reported, never followed.

Knows nothing about grading; reads no notebook (only names, types and modification times).
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

from grader.intake import archive, download, lms
from grader.intake.lms import ARCHIVES, PICK_SYNTAX
from grader.read.notebook import SubmissionError

#: a file in a submissions folder naming what in it is not a submission (see above)
IGNORE_FILE = ".graderignore"
#: where, in an output folder, downloads are unpacked (kept for regrading)
UNPACKED = ".unpacked"


@dataclass(frozen=True)
class Found:
    """One submission: its id, notebook path or error (it then scores zero with that message),
    notes (e.g. which notebook of a folder was picked), and for an LMS's download who the
    student is and the graded file's name in their submission."""

    id: str
    path: Path | None
    error: str | None
    notes: tuple[str, ...] = ()
    who: lms.Identity | None = None
    file: str = ""


@dataclass(frozen=True)
class LeftOut:
    """Something in the submissions folder that is not graded: `id` (a folder's or file's
    name, for --student and grades.csv) and `reason`, which names it ("hw.py: not a notebook")."""

    id: str
    reason: str


@dataclass
class Survey:
    """What a path holds: the submissions to grade, sorted by id, and what is left out; for an
    LMS's download, a line saying whose it is and what it holds."""

    found: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    download: str = ""

    def only(self, ids) -> "Survey":
        """The named submissions and the left-out entries of those names."""
        return Survey([f for f in self.found if f.id in ids],
                      [x for x in self.left_out if x.id in ids], self.download)

    @property
    def notes(self) -> list:
        return [note for f in self.found for note in f.notes]


@dataclass(frozen=True)
class Pick:
    """Which notebook of a folder holding several to grade: the newest (modification time), or
    the one whose name matches a glob pattern (case-insensitive)."""

    rule: str                   # "newest" or "name"
    pattern: str = ""

    @classmethod
    def parse(cls, text: str) -> "Pick":
        """A Pick from `newest` or `name=PATTERN`; ValueError otherwise."""
        if text == "newest":
            return cls("newest")
        key, sep, pattern = text.partition("=")
        if key == "name" and sep and pattern:
            return cls("name", pattern)
        raise ValueError(f"{text!r}: expected {PICK_SYNTAX}")

    def __str__(self) -> str:
        return "newest" if self.rule == "newest" else f"name={self.pattern}"

    def choose(self, folder: Path, names: list) -> tuple[str | None, str]:
        """(the chosen name, or None and why none could be chosen)."""
        if self.rule == "name":
            matches = [n for n in names if fnmatch.fnmatchcase(n.lower(), self.pattern.lower())]
            if len(matches) == 1:
                return matches[0], ""
            return None, f"--pick {self} matches {len(matches) or 'none'} of them"
        times = {n: _mtime(folder / n) for n in names}
        newest = max(times.values())
        latest = [n for n in names if times[n] == newest]
        if len(latest) == 1:
            return latest[0], ""
        return None, f"--pick newest: {' and '.join(latest)} are equally new"


def survey(path: Path, pick: Pick | None = None, *, assignment: str = "", id_pattern=None,
           unpack_to: Path | None = None) -> Survey:
    """The submissions in `path` (one notebook, a folder, or a zip unpacked into `unpack_to`)
    and what it holds besides; `assignment` names the notebooks an LMS student's are chosen by,
    `id_pattern` (a compiled --id-pattern) how a download names its students. Raises
    SubmissionError when `path` is missing, a file that is not a notebook, or a zip that cannot
    be unpacked."""
    path = Path(path)
    if not path.exists():
        raise SubmissionError(f"{path}: no such file or folder")
    refused, unwrap = [], False
    if path.is_file() and path.name.lower().endswith(".zip") and unpack_to is not None:
        try:
            unpacked = archive.unpack(path, unpack_to)
        except archive.ArchiveError as exc:
            raise SubmissionError(str(exc)) from None
        refused = [LeftOut(name, f"{name}: {why}") for name, why in unpacked.refused]
        path, unwrap = unpacked.folder, True
    if not path.is_dir():
        if not _is_notebook_name(path.name):
            raise SubmissionError(f"{path}: {_not_notebook(path.name, given=True)}")
        return Survey([Found(path.stem, path, None)])
    path = download.top(path, unwrap)
    roll = download.recognise(path, id_pattern)
    found = _folder_survey(path, pick) if roll is None else _download(roll, assignment, pick)
    found.left_out[:0] = refused
    return found


def unpack_folder(out: Path, zipped: Path) -> Path:
    """Where in the output folder `out` the zip `zipped` is unpacked."""
    return Path(out) / UNPACKED / lms.nfc(Path(zipped).stem)


def _download(roll: lms.Roll, assignment: str, pick: Pick | None) -> Survey:
    """The survey of an LMS's download: one submission a student, everything else left out."""
    found, left_out, listed = [], [], set()

    def leave(ident: str, reason: str) -> None:
        if ident not in listed:
            listed.add(ident)
            left_out.append(LeftOut(ident, reason))

    for name, why in roll.stray:
        leave(name, f"{name}: {why}")
    late = 0
    for student in roll.students:
        choice = lms.choose(student, assignment, pick)
        for piece, why in choice.not_graded:
            leave(piece.shown, why)
        if choice.piece is None:
            leave(student.who.student, choice.problem)
            continue
        late += bool(student.who.late)
        found.append(Found(student.who.student, choice.piece.path, None, tuple(choice.notes),
                           student.who, choice.piece.name))
    count = len(roll.students)
    line = f"{roll.title}: {count} student{'' if count == 1 else 's'}" + \
        (f", {late} late" if late else "") + \
        (f"; {len(roll.stray)} follow{'s' if len(roll.stray) == 1 else ''} no naming"
         if roll.stray else "")
    return Survey(sorted(found, key=lambda f: f.id), left_out, line)


def _folder_survey(path: Path, pick: Pick | None) -> Survey:
    """A folder in no LMS's naming: see the module's docstring."""
    root = path.resolve()
    found: list[tuple[int, str, Found]] = []  # (0 file / 1 folder, shown name, entry): files first
    left_out = []
    try:
        entries = sorted(path.iterdir(), key=lambda p: p.name)
    except OSError as e:
        raise SubmissionError(f"{path}: cannot be listed ({e.strerror or e})") from None
    ignored = _ignored(path)
    for entry in entries:
        if entry.name.startswith(".") or ignored(entry):
            continue
        if _is_notebook_name(entry.name):
            error = _notebook_problem(entry, root)
            found.append((0, entry.name, Found(entry.stem, None if error else entry,
                                               error and f"{entry.name}: {error}")))
        elif entry.is_symlink() and not _inside(entry, root) and entry.is_dir():
            found.append((1, entry.name + "/", Found(
                entry.name, None,
                f"{entry.name}: symlink leading outside the submissions folder (not followed)")))
        elif entry.is_dir():
            one = _folder_submission(entry, root, pick)
            if isinstance(one, LeftOut):
                left_out.append(one)
            else:
                found.append((1, entry.name + "/", one))
        else:
            left_out.append(LeftOut(entry.name, f"{entry.name}: {_not_notebook(entry.name)}"))
    return Survey(_unique(found), left_out)


def discover_found(path: Path, pick: Pick | None = None) -> list[Found]:
    """The submissions survey finds, what it leaves out aside. Without a pick, a folder holding
    several notebooks is graded from the first by name, with a note (a guess: the command line
    uses survey, which refuses to guess)."""
    return survey(path, pick or _FIRST).found


def discover(path: Path) -> list[tuple[str, Path | None, str | None]]:
    """(id, notebook path or None, error or None) for each submission in `path`, sorted by id."""
    return [(f.id, f.path, f.error) for f in discover_found(path)]


def _ignored(folder: Path):
    """Whether an entry of `folder` is named by its .graderignore (none: nothing is)."""
    try:
        lines = (folder / IGNORE_FILE).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        lines = []
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]

    def ignored(entry: Path) -> bool:
        for pattern in patterns:
            if pattern.endswith("/") and not entry.is_dir():
                continue
            if fnmatch.fnmatchcase(entry.name, pattern.rstrip("/")):
                return True
        return False
    return ignored


def _unique(found: list) -> list[Found]:
    """Sorted by id; a second submission of an id fails, naming the first."""
    found.sort(key=lambda k: (k[2].id, k[0], k[1]))
    result: list[Found] = []
    first: dict[str, str] = {}
    for _, shown, f in found:
        if f.id in first:
            f = Found(f.id, None, f"{shown}: duplicate submission id {f.id!r}, already used by "
                                  f"{first[f.id]}; rename one of them")
        first.setdefault(f.id, shown)
        result.append(f)
    return result


def _not_notebook(name: str, given: bool = False) -> str:
    if name.lower().endswith(".zip") and given:
        return "a zip archive: the command grading it unpacks it (grader grade, regrade)"
    if name.lower().endswith(ARCHIVES):
        where = "grade the folder" if given else "grade that folder"
        return (f"an archive, not graded: unpack it into a folder of its own and {where}" +
                (" (of archives, only a zip is unpacked by the grader)" if given else ""))
    if given:
        return "not a notebook: give a .ipynb file or a folder of submissions"
    return "not a notebook (not graded)"


def _is_notebook_name(name: str) -> bool:
    return name.lower().endswith(".ipynb") and not name.startswith(".")


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _inside(entry: Path, root: Path) -> bool:
    try:
        return entry.resolve().is_relative_to(root)
    except (OSError, RuntimeError):  # symlink loops
        return False


def _notebook_problem(entry: Path, root: Path) -> str | None:
    if entry.is_symlink():
        if not _inside(entry, root):
            return "symlink leading outside the submissions folder (not followed)"
        if not entry.exists():
            return "broken symlink"
    if entry.is_dir():
        return "is a directory, not a notebook file"
    if not entry.is_file():
        return "not a regular file"
    return None


class _First(Pick):
    """The first notebook by name: discover's old rule, for callers that accept a guess."""

    def choose(self, folder: Path, names: list) -> tuple[str | None, str]:
        return names[0], ""

    def __str__(self) -> str:
        return "first by name"


_FIRST = _First("first")


def _folder_submission(folder: Path, root: Path, pick: Pick | None) -> Found | LeftOut:
    """A subfolder as one submission, or left out (no notebook, several and no pick)."""
    shown = folder.name + "/"
    try:
        children = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except OSError as e:
        return Found(folder.name, None, f"{shown}: cannot be listed ({e.strerror or e})")
    names = [n for n in children if _is_notebook_name(n)]
    if not names:
        held = f" (holds {', '.join(children[:5])}{', ...' if len(children) > 5 else ''})" \
            if children else " (empty)"
        return LeftOut(folder.name, f"{shown}: no notebook inside{held}")
    problems = {n: _notebook_problem(folder / n, root) for n in names}
    good = [n for n in names if problems[n] is None]
    if not good:
        return Found(folder.name, None, f"{shown}{names[0]}: {problems[names[0]]}")
    if len(names) == 1:
        return Found(folder.name, folder / good[0], None)
    listed = f"{len(names)} notebooks ({', '.join(names)})"
    if pick is None:
        return LeftOut(folder.name, f"{shown}: {listed}: pick one with --pick {PICK_SYNTAX}")
    chosen, why = pick.choose(folder, good)
    if chosen is None:
        return LeftOut(folder.name, f"{shown}: {listed}: {why}")
    how = "" if isinstance(pick, _First) else f" (--pick {pick})"
    return Found(folder.name, folder / chosen, None,
                 (f"folder {shown} holds {listed}; graded {chosen}{how}",))
