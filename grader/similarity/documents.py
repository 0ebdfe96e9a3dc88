"""What is compared: for each submission the slice of its notebook that the graded functions
need (what grading runs, not the student's scratch cells), for each published solution given
with --reference the same slice of a notebook or the whole of a .py file, and the handout's code,
whose fingerprints count as boilerplate. Fingerprinting runs in worker processes, one per core;
what crosses back is plain data (text, numbers, arrays), as the fingerprints are."""
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.intake.discovery import survey
from grader.similarity.fingerprint import Fingerprint, fingerprint
from grader.read.notebook import read_code_cells
from grader.read.extract import extract_cells
from grader.read.submission import SubmissionError, load_submission

#: the id prefix of published solutions
REFERENCE = "reference:"


@dataclass
class Document:
    """One piece of code compared: `id` (a submission's, or `reference:NAME`), its `code`, where
    each line of it came from (`origin`: (cell, line); cell 1 for a .py file) and its
    fingerprints."""

    id: str
    code: str
    origin: tuple = ()
    fp: Fingerprint | None = None

    @property
    def is_reference(self) -> bool:
        return self.id.startswith(REFERENCE)


@dataclass
class Collection:
    """Every document fingerprinted, the handout's fingerprints, and what could not be read
    ((id, reason) pairs, in the order found)."""

    documents: list
    boilerplate: np.ndarray
    not_compared: list = field(default_factory=list)


def _read(task):
    """(id, code, origin, fingerprint) or (id, None, None, reason): one notebook or .py file."""
    ident, path, functions = task
    try:
        if path.suffix == ".py":  # cut as a notebook of one cell is, so the joins match
            text = path.read_text(encoding="utf-8", errors="replace")
            submission = extract_cells([text], ident, path, (), roots=functions)
        else:
            submission = load_submission(path, ident, roots=functions)
        code, origin = submission.source, submission.line_origin
    except SubmissionError as exc:
        return ident, None, None, str(exc)
    except (OSError, ValueError, SyntaxError) as exc:  # an unreadable reference file
        return ident, None, None, f"{path.name}: cannot be read ({exc})"
    return ident, code, origin, fingerprint(code)


def handout_fingerprints(handout: Path | None, functions) -> np.ndarray:
    """The fingerprints of what students were handed, which are never evidence: of its code
    cells one by one and together, and of the slice its graded functions need, as a
    submission's code is cut (so that k-grams across the slice's joins match too)."""
    if handout is None:
        return np.zeros(0, dtype=np.int64)
    try:
        cells = read_code_cells(handout)[0]
        pieces = cells + ["\n".join(cells),
                          load_submission(handout, "handout", roots=functions).source]
    except SubmissionError:
        return np.zeros(0, dtype=np.int64)
    return np.unique(np.concatenate([fingerprint(p).hashes for p in pieces]))


def references(folder: Path) -> list:
    """(id, path) of the published solutions in a folder: notebooks and Python files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise SubmissionError(f"--reference {folder}: no such folder")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix in (".ipynb", ".py")
                   and not any(part.startswith(".") for part in p.relative_to(folder).parts))
    if not found:
        raise SubmissionError(f"--reference {folder}: no notebook (.ipynb) or Python file in it")
    return [(REFERENCE + p.relative_to(folder).with_suffix("").as_posix(), p) for p in found]


def collect(submissions: Path, functions: list, handout: Path | None,
            reference: Path | None = None, jobs: int | None = None) -> Collection:
    """Read and fingerprint every submission in `submissions` (as `grader grade` finds them) and
    every published solution in `reference`; a submission that cannot be read is listed in
    `not_compared` with the reason, never dropped silently."""
    found = survey(submissions)
    tasks, not_compared = [], []
    for entry in found.found:
        if entry.path is None:
            not_compared.append((entry.id, entry.error or "no notebook"))
        else:
            tasks.append((entry.id, entry.path, tuple(functions)))
    not_compared += [(left.id, left.reason) for left in found.left_out]
    if reference is not None:
        tasks += [(ident, path, tuple(functions)) for ident, path in references(reference)]
    jobs = jobs or len(os.sched_getaffinity(0))
    if jobs > 1 and len(tasks) > 50:
        with ProcessPoolExecutor(jobs) as pool:
            read = list(pool.map(_read, tasks, chunksize=max(1, len(tasks) // (jobs * 8))))
    else:
        read = [_read(task) for task in tasks]
    documents = []
    for ident, code, origin, result in read:
        if code is None:
            not_compared.append((ident, result))
        else:
            documents.append(Document(ident, code, tuple(origin), result))
    return Collection(documents, handout_fingerprints(handout, tuple(functions)), not_compared)
