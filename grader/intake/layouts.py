"""How Canvas, Moodle and Blackboard name the files of a "download all submissions", and an
instructor's regular expression for any other naming (Gradescope: grader/intake/gradescope.py).

Canvas ("Download Submissions"; lib/content_zipper.rb): one flat level of files
    <sortable name>[_LATE]_<user id>_<attachment id>_<display name>
    <sortable name>[_LATE]_<user id>_text.html      an online text entry
    <sortable name>[_LATE]_<user id>_link.html      a website URL
  The sortable name ("Hong, Gildong", "홍, 길동") is lower-cased and stripped of every
  character that is not a word character of any script: `honggildong`, `홍길동`; a `_<digits>_`
  inside it loses its underscores, so the first `_<digits>_<digits>_` are the ids. `LATE` is
  there when Canvas marked the submission late (older versions lower-cased it: `late`). With
  anonymous grading there is no name and `anon_<anonymous id>` replaces the user id:
  `[LATE_]anon_Gx9Zk_<attachment id>_<display name>`. The display name is the file's name as
  uploaded, with `\\/:*?"<>|` replaced by `_`; a re-upload of a name the student already has is
  renamed by Canvas with `-N` before the extension (`rnn_linear-1.ipynb`). Only the latest
  submission's files are in the download; attachment ids grow with each upload, so the larger
  is the newer file. Students are known by their Canvas user id, the ID column of Canvas's
  grade import.

Moodle ("Download all submissions"; mod/assign): one folder per student and plugin
    <Full Name>_<participant id>_assignsubmission_file[_]/<path>/<file>
    <Full Name>_<participant id>_assignsubmission_onlinetext[_]/onlinetext.html
  (Moodle 3.1 to 3.x end the folder name with `_`, 4.x do not), or with "Download submissions
  in folders" off (and before 3.1) one flat level:
    <Full Name>_<participant id>_assignsubmission_file_<file>
  Underscores in the full name become spaces; the name is the site's full-name format
  ("Emily Chen", "김민준"); with blind marking it is "Participant" (taken as no name). The id is
  the assignment's participant id (the grading worksheet's "Participant 123456"); team
  submissions put the group's name and id in their place. The download says neither when nor
  whether a submission was late; the files keep their upload time, which decides the newest.

Blackboard Learn ("Assignment File Download" of the Grade Centre): one flat level, per attempt
    <assignment>_<username>_attempt_<YYYY-MM-DD-hh-mm-ss>.txt              the receipt
    <assignment>_<username>_attempt_<YYYY-MM-DD-hh-mm-ss>_<original name>  each file
  The receipt (text, UTF-8) names the student and lists the files:
    Name: <Full Name> (<username>)
    Assignment: <assignment>
    Date Submitted: <weekday, month day, year h:mm:ss AM/PM zone>
    ...
    Files:
    	Original filename: <original name>
    	Filename: <the file's name in the download>
  Every attempt is in the download; the latest one is graded. The username may hold `_`: the
  receipt's says where the assignment's name ends. Students are known by their username (a
  Canvas SIS Login ID, where both come from the same directory); the attempt time is the file
  name's (the server's local time). No lateness: the receipt does not say it.

--id-pattern REGEX, for anything else: matched (re.match, so from the start) against each
entry of the download's top folder, a file or a folder (whose files are then the student's);
named groups `student` (required), `name` and `timestamp` (optional; the latest timestamp of a
student is their attempt graded, compared by its numbers).
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from grader.intake.lms import (Identity, Piece, Roll, Submitter, attempt_key, files_under,
                               mtime, nfc)

_CANVAS = re.compile(
    r"(?:(?P<name>.*?)_)??(?:(?P<late>LATE|late)_)?(?P<user>anon_[A-Za-z0-9]+|\d+)_"
    r"(?:(?P<attachment>\d+)_(?P<file>.+)|(?P<entry>text|link)\.html)", re.S)
_MOODLE = re.compile(r"(?P<name>.*?)_(?P<user>\d+)_assign(?:submission|feedback)_"
                     r"(?P<plugin>[a-z0-9]+)(?:_(?P<file>.*))?", re.S)
_BLACKBOARD = re.compile(r"(?P<prefix>.+)_attempt_(?P<stamp>\d{4}(?:-\d\d){5})"
                         r"(?:_(?P<file>.+)|(?P<receipt>\.txt))", re.S)
_RECEIPT_NAME = re.compile(r"^Name:[ \t]*(?P<name>.*?)[ \t]*\((?P<user>[^()\n]+)\)[ \t]*$",
                           re.M)
_RECEIPT_FILE = re.compile(r"^[ \t]*Original filename:[ \t]*(?P<original>.*?)[ \t]*\r?\n"
                           r"[ \t]*Filename:[ \t]*(?P<stored>.*?)[ \t]*$", re.M)
#: Moodle's word for an anonymous student under blind marking
_PARTICIPANT = "Participant"


def kind_of(entry: Path) -> str | None:
    """Which LMS's naming an entry of a download's top folder follows, if any."""
    name = nfc(entry.name)
    if _MOODLE.fullmatch(name) and (entry.is_dir() or _MOODLE.fullmatch(name)["file"]):
        return "moodle"
    if entry.is_dir():
        return None
    if _BLACKBOARD.fullmatch(name):
        return "blackboard"
    if _CANVAS.fullmatch(name):
        return "canvas"
    return None


def read(lms: str, root: Path, entries: list) -> Roll:
    """The Roll of a download in `lms`'s naming (a key of lms.TITLES but gradescope)."""
    return {"canvas": _canvas, "moodle": _moodle, "blackboard": _blackboard}[lms](root, entries)


class _Students:
    """Submitters by id, as their files are met."""

    def __init__(self):
        self.by_id: dict = {}

    def add(self, who: Identity, piece: Piece | None = None, empty: str = "",
            attempt: str = "") -> None:
        known = self.by_id.get(who.student)
        if known is None:
            known = self.by_id[who.student] = Submitter(who)
        elif not known.who.name and who.name:
            known.who = who
        if piece is not None:
            known.pieces.append(piece)
        if empty:
            known.empty = empty
        if attempt:
            known.attempts.add(attempt)

    def roll(self, lms: str, stray: list) -> Roll:
        return Roll(lms, [self.by_id[k] for k in sorted(self.by_id)], stray)


def _not_named(entry: Path, lms: str) -> tuple:
    title = {"canvas": "Canvas", "moodle": "Moodle", "blackboard": "Blackboard"}[lms]
    what = "a folder not named" if entry.is_dir() else "not named"
    return nfc(entry.name), f"{what} as {title} names submissions (not graded; see --id-pattern)"


def _canvas(root: Path, entries: list) -> Roll:
    students, stray = _Students(), []
    for entry in entries:
        name = nfc(entry.name)
        match = _CANVAS.fullmatch(name) if entry.is_file() else None
        if match is None:
            stray.append(_not_named(entry, "canvas"))
            continue
        late = match["late"] is not None
        user = match["user"]
        anonymous = user.startswith("anon_")
        who = Identity(user, "" if anonymous else match["name"] or "", "canvas", late=late,
                       canvas_id="" if anonymous else user)
        if match["entry"]:
            piece = Piece(entry, name, f"{match['entry']}.html", "", (0, mtime(entry)))
        else:
            piece = Piece(entry, name, match["file"], "", (int(match["attachment"]),
                                                            mtime(entry)))
        students.add(who, piece)
    return students.roll("canvas", stray)


def _moodle(root: Path, entries: list) -> Roll:
    students, stray = _Students(), []
    for entry in entries:
        name = nfc(entry.name)
        match = _MOODLE.fullmatch(name)
        if match is None or not (entry.is_dir() or match["file"]):
            stray.append(_not_named(entry, "moodle"))
            continue
        person = match["name"].strip()
        who = Identity(match["user"], "" if person == _PARTICIPANT else person, "moodle")
        if entry.is_dir():
            files, odd = files_under(entry, root)
            stray += odd
            for path in files:
                inside = nfc(path.relative_to(entry).as_posix())
                students.add(who, Piece(path, nfc(path.relative_to(root).as_posix()), inside,
                                        "", (mtime(path),)))
            students.add(who, empty="an empty folder" if not files else "")
        else:
            students.add(who, Piece(entry, name, match["file"], "", (mtime(entry),)))
    return students.roll("moodle", stray)


def _blackboard(root: Path, entries: list) -> Roll:
    students, stray = _Students(), []
    receipts = {}   # (prefix, stamp) -> (name, username, {stored: original})
    for entry in entries:
        match = _BLACKBOARD.fullmatch(nfc(entry.name))
        if match and match["receipt"] and entry.is_file():
            receipts[match["prefix"], match["stamp"]] = _receipt(entry)
    stored = {s: key for key, (_, _, files) in receipts.items() for s in files}
    for entry in entries:
        name = nfc(entry.name)
        match = _BLACKBOARD.fullmatch(name) if entry.is_file() else None
        key = (match["prefix"], match["stamp"]) if match else stored.get(name)
        if key is None:
            stray.append(_not_named(entry, "blackboard"))
            continue
        person, user, files = receipts.get(key, ("", "", {}))
        prefix, stamp = key
        if not (user and prefix.endswith("_" + user)):
            user = prefix.rsplit("_", 1)[-1]
        when = "{}-{}-{}T{}:{}:{}".format(*stamp.split("-"))
        who = Identity(user, person, "blackboard", submitted_at=when, sis_login_id=user)
        if match and match["receipt"]:
            students.add(who, empty="no file attached", attempt=when)
            continue
        original = files.get(name) or (match["file"] if match else name)
        students.add(who, Piece(entry, name, nfc(original), when, (mtime(entry),)))
    for student in students.by_id.values():  # the time of the attempt graded
        latest = max(student.attempts | {p.attempt for p in student.pieces}, key=attempt_key)
        student.who = replace(student.who, submitted_at=latest)
    return students.roll("blackboard", stray)


def _receipt(path: Path) -> tuple:
    """(full name, username, {file name in the download: original name}) of a receipt."""
    raw = path.read_bytes()[:1 << 20]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    name = _RECEIPT_NAME.search(text)
    files = {nfc(m["stored"]): m["original"] for m in _RECEIPT_FILE.finditer(text)}
    return (nfc(name["name"]), nfc(name["user"]), files) if name else ("", "", files)


def by_pattern(root: Path, entries: list, pattern: re.Pattern) -> Roll:
    """The Roll of a download named as `pattern` says (see the module's docstring)."""
    students, stray = _Students(), []
    for entry in entries:
        name = nfc(entry.name)
        match = pattern.match(name)
        if match is None or not match.group("student"):
            stray.append((name, "does not match --id-pattern (not graded)"))
            continue
        found = match.groupdict()
        stamp = nfc(found.get("timestamp") or "")
        who = Identity(nfc(match["student"]), nfc(found.get("name") or "").strip(), "pattern",
                       submitted_at=stamp or None)
        if entry.is_dir():
            files, odd = files_under(entry, root)
            stray += odd
            for path in files:
                students.add(who, Piece(path, nfc(path.relative_to(root).as_posix()),
                                        nfc(path.relative_to(entry).as_posix()), stamp,
                                        (mtime(path),)))
            students.add(who, empty="an empty folder" if not files else "")
        else:
            students.add(who, Piece(entry, name, name, stamp, (mtime(entry),)))
    for student in students.by_id.values():
        latest = max((p.attempt for p in student.pieces), key=attempt_key, default="")
        student.who = replace(student.who, submitted_at=latest or None)
    return students.roll("pattern", stray)
