"""Unpacking a downloaded zip (an LMS's "download all submissions") into a folder, safely.

A download is untrusted input like the notebooks in it, so unpacking refuses, member by member
and with the reason, what could write outside the folder or fill the disk:

- paths that leave the folder (`../x`, `/etc/x`, `C:\\x`, a NUL byte), symbolic links and
  other non-regular members, encrypted members: not written;
- more than `Limits.members` members, more than `Limits.total` bytes in all or `Limits.member`
  in one (as the zip declares them; reading stops at the declared size, and a member whose
  bytes do not match it fails its CRC check): the whole zip is refused before anything is
  written, or the member is skipped;
- a zip inside the zip is written as a file, not opened: the survey lists it.

Names are decoded as the writer meant them: UTF-8 when the zip says so; otherwise UTF-8 if the
bytes are valid UTF-8 (rubyzip, which Canvas uses, and macOS write UTF-8 without saying so),
else CP949 if that gives Hangul (Korean Windows), else CP437 (the zip standard). They are then
put in Unicode NFC, so that a name typed on macOS (NFD) and one typed elsewhere compare equal.
Each file keeps the modification time the zip records (local time), which decides which of a
student's files is the newest.

Knows nothing about LMSs or grading.
"""
from __future__ import annotations

import os
import shutil
import stat
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath


@dataclass(frozen=True)
class Limits:
    """What one download may hold at most."""

    members: int = 50_000
    total: int = 8 << 30         # bytes, all members together (uncompressed)
    member: int = 1 << 30        # bytes, one member


class ArchiveError(Exception):
    """A zip that cannot be unpacked at all; str(e) names it and says why."""


@dataclass
class Unpacked:
    """Where a zip was unpacked, and each member not written: (its name, why)."""

    folder: Path
    refused: list = field(default_factory=list)


def is_zip(path: Path) -> bool:
    """Whether `path` is a file that is a zip archive (by its content, not its name)."""
    path = Path(path)
    return path.is_file() and zipfile.is_zipfile(path)


def unpack(archive: Path, into: Path, limits: Limits = Limits()) -> Unpacked:
    """Unpack `archive` into the folder `into` (made anew: what an earlier unpacking left there
    is replaced once this one succeeds). Raises ArchiveError for a zip that cannot be read or
    is over the limits as a whole."""
    archive, into = Path(archive), Path(into)
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = zipped.infolist()
            _check_totals(archive, members, limits)
            into.parent.mkdir(parents=True, exist_ok=True)
            partial = into.with_name(f"{into.name}.partial-{os.getpid()}")
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            refused = _write_members(zipped, members, partial, limits)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ArchiveError(f"{archive}: cannot be unpacked ({exc})") from None
    shutil.rmtree(into, ignore_errors=True)
    partial.rename(into)
    return Unpacked(into, refused)


def _check_totals(archive: Path, members: list, limits: Limits) -> None:
    if len(members) > limits.members:
        raise ArchiveError(f"{archive}: {len(members)} members, more than the "
                           f"{limits.members} a download may hold; unpack it yourself and "
                           "grade the folder")
    total = sum(m.file_size for m in members)
    if total > limits.total:
        raise ArchiveError(f"{archive}: {_size(total)} unpacked, more than the "
                           f"{_size(limits.total)} a download may hold; unpack it yourself "
                           "and grade the folder")


def _write_members(zipped, members: list, root: Path, limits: Limits) -> list:
    refused, written = [], set()
    for info in members:
        name = member_name(info)
        parts, why = _safe_parts(name)
        if why is None:
            why = _unwritable(info, limits)
        if why is None and "/".join(parts) in written and not info.is_dir():
            why = "a second member of this name (after Unicode normalisation); not written"
        if why:
            refused.append((name, why))
            continue
        written.add("/".join(parts))
        target = root.joinpath(*parts)
        try:
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as source, open(target, "wb") as sink:
                shutil.copyfileobj(source, sink, 1 << 20)
        except (zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError) as exc:
            if target.is_file():
                target.unlink()
            refused.append((name, f"cannot be unpacked ({exc}); not written"))
            continue
        stamp = time.mktime(info.date_time + (0, 0, -1))
        os.utime(target, (stamp, stamp))
    return refused


def member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its writer meant it (see the module's docstring), in NFC."""
    name = info.filename
    if not info.flag_bits & 0x800:
        raw = name.encode("cp437")
        try:
            name = raw.decode("utf-8")
        except UnicodeDecodeError:
            try:
                korean = raw.decode("cp949")
                name = korean if any("\uac00" <= c <= "\ud7a3" for c in korean) else name
            except UnicodeDecodeError:
                pass
    return unicodedata.normalize("NFC", name)


def _safe_parts(name: str) -> tuple[list, str | None]:
    """The path parts to write `name` at inside the folder, or why it may not be written."""
    if "\0" in name:
        return [], "a NUL byte in its name; not written"
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return [], "an absolute path, outside the download's folder; not written"
    parts = [p for p in PurePosixPath(path).parts if p not in ("", ".")]
    if ".." in parts:
        return [], "a path leading outside the download's folder (..); not written"
    if not parts:
        return [], "an empty name; not written"
    return parts, None


def _unwritable(info: zipfile.ZipInfo, limits: Limits) -> str | None:
    kind = stat.S_IFMT(info.external_attr >> 16)  # 0: the writer did not say (Windows)
    if kind == stat.S_IFLNK:
        return "a symbolic link; not followed, not written"
    if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
        return "not a regular file; not written"
    if info.flag_bits & 0x1:
        return "encrypted; not written"
    if info.file_size > limits.member:
        return f"{_size(info.file_size)}, more than the {_size(limits.member)} one file may " \
               "have; not written"
    return None


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    power = min(3, (count.bit_length() - 1) // 10)
    return f"{count / (1 << 10 * power):.1f} {('KiB', 'MiB', 'GiB')[power - 1]}"
