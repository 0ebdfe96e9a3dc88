"""Gradescope's "Export Submissions" of an assignment: whose each submission folder is.

The export (a zip holding `assignment_<id>_export/`) has one folder per submission,
`submission_<id>/`, with the files as the student uploaded them (folders kept), and
`submission_metadata.yml`, written by Gradescope's Ruby code (so its inner keys are Ruby
symbols, `:name`):

    submission_123456789:
      :submitters:
      - :name: 김지우
        :sid: '20231234'
        :email: jiwoo@school.example
      :created_at: 2024-05-01 17:42:09.512000000 -07:00
      :score: 10.0
      :status: graded
      ...

A group submission lists every member; each is graded from the one folder. Students are known
by their SID (the roster's student id: a Canvas SIS User ID where both come from the same
registry), else by email, else by the folder's name; the attempt time is `:created_at`. The
export holds each student's active submission only and says nothing of lateness. Tags the
YAML may carry (`!ruby/object:...`) are read as plain values.
"""
from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path

import yaml

from grader.intake.lms import Identity, Piece, Roll, Submitter, files_under, mtime, nfc

METADATA = "submission_metadata.yml"


class _Loader(yaml.SafeLoader):
    """Safe YAML, with any tag read as the plain mapping, list or text it tags."""


def _untagged(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_multi_constructor("!", _untagged)


def read(root: Path, entries: list) -> Roll:
    """The Roll of the export whose top folder is `root` (holding METADATA)."""
    metadata, problem = _metadata(root / METADATA)
    folders = {nfc(e.name): e for e in entries if e.name != METADATA}
    if problem:
        return Roll("gradescope", [], [(name, f"{METADATA} {problem}: whose it is is unknown "
                                              "(not graded)") for name in folders])
    students, stray = [], []
    for name, entry in folders.items():
        record = metadata.get(name)
        if not entry.is_dir() or not isinstance(record, dict):
            what = "not in" if record is None else "not described in"
            stray.append((name, f"{what} {METADATA} (not graded)") if entry.is_dir() else
                         (name, "not a submission folder of the export (not graded)"))
            continue
        files, odd = files_under(entry, root)
        stray += odd
        pieces = [Piece(path, nfc(path.relative_to(root).as_posix()),
                        nfc(path.relative_to(entry).as_posix()), "", (mtime(path),))
                  for path in files]
        members = _submitters(record, name)
        group = tuple(m.student for m in members) if len(members) > 1 else ()
        when = _when(record.get("created_at"))
        for member in members:
            who = replace(member, submitted_at=when, group=group)
            students.append(Submitter(who, list(pieces), "an empty folder"))
    for name in sorted(set(metadata) - set(folders)):
        stray.append((name, f"listed in {METADATA}, but its folder is not in the export"))
    students.sort(key=lambda s: s.who.student)
    return Roll("gradescope", students, stray)


def _metadata(path: Path) -> tuple[dict, str]:
    """({submission folder: its record, keys without the leading ':'}, why it is unusable)."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8-sig"), Loader=_Loader)
    except (OSError, UnicodeDecodeError) as exc:
        return {}, f"cannot be read ({exc})"
    except yaml.YAMLError as exc:
        return {}, f"is not valid YAML ({str(exc).splitlines()[0]})"
    if not isinstance(data, dict):
        return {}, "does not map submission folders to their submitters"
    return {nfc(str(k).lstrip(":")): _plain(v) for k, v in data.items()}, ""


def _plain(value):
    """`value` with every mapping's keys stripped of Ruby's leading ':'."""
    if isinstance(value, dict):
        return {str(k).lstrip(":"): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _submitters(record: dict, folder: str) -> list:
    """Each submitter's Identity (id, name, email) of a submission record."""
    found, seen = [], set()
    for person in record.get("submitters") or []:
        if not isinstance(person, dict):
            continue
        sid, email = _text(person.get("sid")), _text(person.get("email"))
        ident = sid or email or folder
        if ident in seen:
            continue
        seen.add(ident)
        found.append(Identity(ident, _text(person.get("name")), "gradescope", email=email,
                              sis_user_id=sid))
    return found or [Identity(folder, "", "gradescope")]


def _text(value) -> str:
    return "" if value is None else nfc(str(value)).strip()


def _when(value) -> str | None:
    """`:created_at` as ISO 8601, to the second."""
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).isoformat()
    return _text(value) or None
