"""Reading notebook files (finding them in a folder: grader.intake.discovery).

Students hand in whatever their editor wrote: old formats, byte-order marks, CRLF, half-saved
files, folders of notebooks. Everything here turns that into either a v4 NotebookNode or a
one-line SubmissionError naming the file, so one bad file never stops a grading run.
Nothing here knows about grading.
"""
from __future__ import annotations

import contextlib
import copy
import json
import logging
import os
import re
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from grader.i18n import N_, _
from grader.read import notebook_schema

if TYPE_CHECKING:
    import nbformat

READ_NOTES_ATTR = "_grader_read_notes"  # instance attribute (not a JSON key) carrying read notes
_BOM = b"\xef\xbb\xbf"


class SubmissionError(Exception):
    """A file that cannot be graded; str(e) is a one-line message naming the file and the problem."""


#: Most characters of code (all code cells together) a notebook may hold. The course's notebooks
#: hold 3-5 thousand; outputs and markdown do not count. Extraction time grows with the square of
#: the number of definitions (64 KiB of one-line functions: ~3 s), so a notebook of megabytes
#: of code could stall a whole grading run.
MAX_CODE_CHARS = 64 * 2**10


def read_notebook(path: Path, max_bytes: int = 64 * 2**20,
                  max_code: int = MAX_CODE_CHARS) -> nbformat.NotebookNode:
    """Read `path` as a notebook upgraded to the current v4 format, or raise SubmissionError.

    Notebooks that are JSON notebooks but fail strict validation are still returned (their
    code cells are what matters), with a note in `read_notes(nb)`.
    """
    nb, notes = _read(Path(path), max_bytes, max_code, as_node=True)
    object.__setattr__(nb, READ_NOTES_ATTR, tuple(notes))
    return nb


def read_code_cells(path: Path, max_bytes: int = 64 * 2**20,
                    max_code: int = MAX_CODE_CHARS) -> tuple[list[str], list[str]]:
    """What grading needs of a notebook file: its code cells' sources and the notes on reading
    it (as `code_cells(read_notebook(path))` with `read_notes` first), or SubmissionError.

    A current-format notebook is validated as the JSON it is, without being turned into a
    NotebookNode (a third of the reading time, outputs and all)."""
    return read_cells_and_language(path, max_bytes, max_code)[:2]


def read_cells_and_language(path: Path, max_bytes: int = 64 * 2**20,
                            max_code: int = MAX_CODE_CHARS) -> tuple[list[str], list[str], str | None]:
    """read_code_cells, and the language the notebook asks its feedback in (`language`)."""
    nb, notes = _read(Path(path), max_bytes, max_code, as_node=False)
    sources, cell_notes = code_cells(nb)
    return sources, notes + cell_notes, language(nb)


def language(nb) -> str | None:
    """The notebook's metadata.grader.lang ("ko"): the language of its feedback, which the
    handouts `grader build` makes in another language carry. None when it names none (nbformat
    has no field for a notebook's natural language; metadata.language_info is the kernel's)."""
    metadata = nb.get("metadata") if isinstance(nb, dict) else None
    grader = metadata.get("grader") if isinstance(metadata, dict) else None
    lang = grader.get("lang") if isinstance(grader, dict) else None
    return lang if isinstance(lang, str) and lang else None


def _read(path: Path, max_bytes: int, max_code: int, as_node: bool):
    name = path.name
    if path.is_dir():
        raise SubmissionError(_("{name}: is a directory, not a notebook file", name=name))
    if not path.is_file():
        raise SubmissionError(_("{name}: no such file", name=name) if not path.exists()
                              else _("{name}: not a regular file", name=name))
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SubmissionError(_("{name}: cannot be read ({problem})", name=name,
                                problem=e.strerror or e)) from None
    if len(data) > max_bytes:
        raise SubmissionError(_("{name}: file too large (over {limit} bytes)", name=name,
                                limit=max_bytes))
    notes: list[str] = []
    nb = _parse(name, _decode(name, data), notes, as_node)
    code = sum(len(source) for source in code_cells(nb)[0])
    if code > max_code:
        raise SubmissionError(_("{name}: too much code ({code} characters in its code cells; "
                                "at most {limit})", name=name, code=code, limit=max_code))
    return nb, notes


#: below this many notebooks, nbformat validating each with the pure-Python jsonschema (~6 ms
#: each, nothing to prepare) beats its default fastjsonschema (~0.3 ms each, after compiling the
#: schema into a validator: ~50-100 ms per process). It validates only what the compiled
#: validator of the current format (`grader.read.notebook_schema`) does not pass: older formats and
#: notebooks with problems.
FEW_NOTEBOOKS = 12


@contextlib.contextmanager
def validation_for(notebooks: int):
    """While reading this many notebooks: the current format's compiled validator loaded now,
    so that processes forked later share it, and nbformat's validator that suits (chosen by
    the NBFORMAT_VALIDATOR variable nbformat reads, unless the user set it; compiled only if
    a notebook needs it)."""
    notebook_schema.validator()
    chosen = "NBFORMAT_VALIDATOR" in os.environ
    if not chosen and notebooks < FEW_NOTEBOOKS:
        os.environ["NBFORMAT_VALIDATOR"] = "jsonschema"
    try:
        yield
    finally:
        if not chosen:
            os.environ.pop("NBFORMAT_VALIDATOR", None)


def read_notes(nb) -> tuple[str, ...]:
    """Notes left by read_notebook on `nb` (empty for notebooks built any other way)."""
    return tuple(getattr(nb, "__dict__", {}).get(READ_NOTES_ATTR, ()))


def code_cells(nb) -> tuple[list[str], list[str]]:
    """The sources of the code cells of a v3 or v4 notebook, in order, and notes on odd cells.

    Every code cell keeps its place (its index + 1 is the cell number the student is told),
    even one whose source is unusable; that one becomes "".
    """
    if "cells" not in nb and "worksheets" in nb:  # a v3 node, not from read_notebook
        nbformat = _nbformat()
        with _quiet():
            nb = nbformat.convert(copy.deepcopy(nb), 4)
    sources, notes = [], []
    for cell in nb.get("cells") or []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = _text(cell.get("source", ""))
        if source is None:
            notes.append(_("cell {number}: source is not text; cell ignored",
                           number=len(sources) + 1))
            source = ""
        sources.append(source)
    return sources, notes


def _text(source) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(s, str) for s in source):
        return "".join(source)
    return None


def _decode(name: str, data: bytes) -> str:
    if not data.strip():
        raise SubmissionError(_("{name}: empty file", name=name))
    skipped = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skipped:].decode("utf-8")
    except UnicodeDecodeError as e:
        at = e.start + skipped
        raise SubmissionError(_("{name}: not UTF-8 text (invalid byte 0x{byte} at offset {at})",
                                name=name, byte=format(data[at], "02x"), at=at)) from None
    if "\x00" in text:
        raise SubmissionError(_("{name}: binary data, not a notebook (NUL byte at offset {at})",
                                name=name, at=text.index(chr(0))))
    return text


def _parse(name: str, text: str, notes: list[str], as_node: bool = True):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        end = len(text.rstrip())
        rest = text[e.pos:end]
        # the text ran out: at its end, inside a string, or inside a final number or true/false/null
        if e.msg.startswith("Unterminated string") or (len(rest) < 6 and re.fullmatch(r"[\w.+-]*", rest)):
            line, column = text.count("\n", 0, end) + 1, end - text.rfind("\n", 0, end)
            raise SubmissionError(_("{name}: not valid JSON (truncated at line {line}, column "
                                    "{column})", name=name, line=line, column=column)) from None
        msg = e.msg.removesuffix(" at")
        raise SubmissionError(_("{name}: not valid JSON ({problem} at line {line}, column "
                                "{column})", name=name, problem=msg, line=e.lineno,
                                column=e.colno)) from None
    except RecursionError:
        raise SubmissionError(_("{name}: not valid JSON (nested too deeply)", name=name)) from None
    if not isinstance(data, dict):
        kind = _({list: N_("a list"), str: N_("a string"), bool: N_("a boolean"),
                  type(None): N_("null")}.get(type(data), N_("a number")))
        raise SubmissionError(_("{name}: JSON but not a notebook (top level is {kind}, not an "
                                "object with 'cells')", name=name, kind=kind))
    if not isinstance(data.get("cells"), list) and not isinstance(data.get("worksheets"), list):
        raise SubmissionError(_("{name}: JSON but not a notebook (no 'cells' list)", name=name))
    major = data.get("nbformat")
    if major in (3, 4) or (major in (1, 2) and "worksheets" in data):
        if not as_node and _current(data) and _valid_as_is(data):
            return data
        nb, problem = _strict(data)
        if nb is not None:
            if problem:
                notes.append(_("{name}: does not pass strict notebook validation ({problem}); "
                               "code cells read anyway", name=name, problem=problem))
            return nb
        notes.append(_("{name}: not a well-formed nbformat {major} notebook ({problem}); code "
                       "cells salvaged", name=name, major=major, problem=problem))
    elif major is None:
        notes.append(_("{name}: no 'nbformat' version field; code cells read as v4", name=name))
    else:
        notes.append(_("{name}: unknown notebook format version {major}; code cells read as v4",
                       name=name, major=repr(major)))
    return _salvage(data, notes)


def _strict(data: dict) -> tuple[nbformat.NotebookNode | None, str]:
    """nbformat's own reading (of the JSON parsed once already), conversion to v4, minor
    upgrade and validation, kept quiet."""
    nbformat = _nbformat()
    with _quiet():
        try:
            major, minor = nbformat.reader.get_version(data)
            nb = nbformat.convert(nbformat.versions[major].to_notebook_json(data, minor=minor), 4)
            minor = nb.get("nbformat_minor")
            if isinstance(minor, int) and minor < nbformat.v4.nbformat_minor:
                nb = nbformat.v4.upgrade(nb, 4, minor)
            if not isinstance(nb.get("cells"), list):
                return None, "no 'cells' list after conversion"
        except Exception as e:  # nbformat raises many kinds on malformed input
            return None, _short(e)
        try:
            nbformat.validate(nb)
        except Exception as e:
            return nb, _short(e)
    return nb, ""


def _current(data: dict) -> bool:
    """Whether raw notebook JSON claims the current format: nothing to convert or upgrade."""
    return data.get("nbformat") == 4 and data.get("nbformat_minor") == notebook_schema.minor()


#: notebook metadata nbformat's reader removes (never meant to be in a file)
_TRANSIENT = {"orig_nbformat", "orig_nbformat_minor", "signature"}


def _valid_as_is(data: dict) -> bool:
    """Whether a current-format notebook's JSON passes strict validation as it is (checked by
    the compiled validator of `grader.read.notebook_schema`). Then nbformat's conversion has nothing
    to change that grading reads, and cannot fail; a notebook that does not pass goes through
    `_strict`, for the same notes as ever."""
    metadata = data.get("metadata")
    if isinstance(metadata, dict) and _TRANSIENT.intersection(metadata):
        # nbformat's reader drops these before it validates (cells' "trusted" is unchecked)
        data = {**data, "metadata": {k: v for k, v in metadata.items() if k not in _TRANSIENT}}
    try:
        notebook_schema.validator()(data)
    except notebook_schema.Invalid:
        return False
    return True


def _salvage(data: dict, notes: list[str]) -> nbformat.NotebookNode:
    """A fresh v4 notebook holding the cells that can be recognised in raw notebook JSON."""
    nbformat = _nbformat()
    raw = data.get("cells")
    if not isinstance(raw, list):  # v3 layout: worksheets of cells, code in "input"
        raw = [c for ws in data["worksheets"] if isinstance(ws, dict) for c in (ws.get("cells") or [])]
    nb = nbformat.v4.new_notebook()
    for cell in raw:
        if not isinstance(cell, dict):
            continue
        source = _text(cell.get("source", cell.get("input", "")))
        if cell.get("cell_type") == "code":
            if source is None:
                notes.append(_("cell {number}: source is not text; cell ignored",
                               number=sum(c.cell_type == "code" for c in nb.cells) + 1))
            nb.cells.append(nbformat.v4.new_code_cell(source or ""))
        else:
            nb.cells.append(nbformat.v4.new_markdown_cell(source or ""))
    return nb


def _nbformat():
    """nbformat, imported when first needed: a current notebook that passes the schema is read
    without it (its import, jsonschema's included, is a fifth of `grader grade`'s start-up)."""
    import nbformat

    return nbformat


def _short(e: Exception) -> str:
    msg = getattr(e, "message", None) or str(e) or type(e).__name__
    msg = " ".join(str(msg).split())
    return msg if len(msg) <= 160 else msg[:157] + "..."


class _DropRecords(logging.Filter):
    def filter(self, record):
        return False


@contextlib.contextmanager
def _quiet():
    """Silence nbformat's validation warnings and logged errors: we report them as notes."""
    from traitlets.log import get_logger

    logger, drop = get_logger(), _DropRecords()
    logger.addFilter(drop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.removeFilter(drop)


def notebook_assignment(path: Path) -> str | None:
    """The assignment a notebook says it belongs to: its metadata's grader.assignment, which the
    notebooks `grader build` hands out carry. None for any other notebook or an unreadable file."""
    try:
        name = json.loads(Path(path).read_bytes().decode("utf-8-sig"))["metadata"]["grader"][
            "assignment"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return name if isinstance(name, str) else None

