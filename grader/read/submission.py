"""The "read" stage: student notebook files in, Submission objects (source ready for exec) out.

This module is the public face; the work is split between `grader.read.notebook` (reading files)
and the slice of the notebook the graded functions need (`grader.read.extract`). Finding the
submissions in a folder comes before, in `grader.intake`.
It knows nothing about grading.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from grader import i18n
from grader.read.cells import strip_magics
from grader.read.extract import Submission, extract_cells, extract_source, remember_cells
from grader.read.notebook import (SubmissionError, code_cells, read_cells_and_language,
                                  read_code_cells, read_notebook, read_notes)

__all__ = ["Submission", "SubmissionError", "read_notebook", "extract", "extract_source",
           "load_submission", "strip_magics",
           "remember_handout"]


def extract(nb, submission_id: str, path: Path | None = None,
            roots: Sequence[str] | None = None) -> Submission:
    """Extract the slice of a notebook node (from read_notebook or nbformat) that binds
    `roots`, the graded functions (by default every function and class it defines)."""
    sources, notes = code_cells(nb)
    return extract_cells(sources, submission_id, path, list(read_notes(nb)) + notes, roots)


def load_submission(path: Path, submission_id: str | None = None,
                    roots: Sequence[str] | None = None) -> Submission:
    """Read and extract one notebook file (the slice that binds `roots`, as `extract`); the id
    defaults to the file stem. Raises SubmissionError."""
    path = Path(path)
    sources, notes, lang = read_cells_and_language(path)
    with i18n.notebook(lang):  # its notes in the language it asks for (unless --lang chose)
        submission = extract_cells(sources, submission_id or path.stem, path, notes, roots)
    return dataclasses.replace(submission, lang=lang)


def remember_handout(path: Path | None) -> None:
    """Parse and compile the code cells of the notebook handed out once, before a batch: the
    cells a submission left unchanged then cost nothing to extract (see remember_cells)."""
    if path is not None:
        try:
            remember_cells(read_code_cells(path)[0])
        except SubmissionError:
            pass  # a broken handout is the instructor's to fix; grading goes on without it
