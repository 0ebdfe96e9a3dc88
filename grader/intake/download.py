"""Which LMS wrote a folder (an unpacked download), and where in it its entries are.

Gradescope's export is known by its submission_metadata.yml; Canvas, Moodle and Blackboard by
the names of the entries (grader/intake/layouts.py): the LMS most of them follow, when they are
more than the entries following none. A folder in no LMS's naming is left to the plain survey
(grader/intake/discovery.py).
"""
from __future__ import annotations

import re
from pathlib import Path

from grader.intake import gradescope, layouts, lms


def top(folder: Path, unwrap: bool) -> Path:
    """The folder a download's entries are in: `folder`, or with `unwrap` (a zip's content)
    the one folder it holds alone when that folder's name is no student's, as when a folder was
    zipped; Gradescope's `assignment_<id>_export` folder is entered either way."""
    while True:
        entries = lms.visible(folder)
        if len(entries) != 1 or not entries[0].is_dir() or entries[0].is_symlink():
            return folder
        inner = entries[0]
        if not ((inner / "submission_metadata.yml").is_file()
                or unwrap and layouts.kind_of(inner) is None):
            return folder
        folder = inner


def recognise(folder: Path, id_pattern: re.Pattern | None = None) -> lms.Roll | None:
    """The download in `folder` (see the module's docstring; with `id_pattern`, named as it
    says), or None if no LMS wrote it."""
    entries = lms.visible(folder)
    if id_pattern is not None:
        return layouts.by_pattern(folder, entries, id_pattern)
    if (folder / gradescope.METADATA).is_file():
        return gradescope.read(folder, entries)
    kinds = [layouts.kind_of(entry) for entry in entries]
    counted = {kind: kinds.count(kind) for kind in set(kinds) if kind}
    if not counted:
        return None
    kind = max(sorted(counted), key=counted.get)
    if counted[kind] <= len(entries) - counted[kind]:
        return None  # mostly other names: not this LMS's download
    return layouts.read(kind, folder, entries)
