"""Code cells as Python: IPython's magics and shell lines stripped, each cell parsed alone.

A cell that does not parse is skipped whole, as Jupyter would fail it whole; the words that
tell a student so name the cell by its position and its first line, which is how they find it.
The handout's own cells are parsed once per batch (`remember_cells`): most students leave most
of them as they are.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.i18n import _

_KEPT_CELL_MAGICS = {"time", "timeit", "capture"}  # run the cell's Python: drop only the magic line
_MAGIC_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")  # x = !ls, t = %time f()
_HELP = re.compile(r"(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")  # np.dot?  ?np.dot
HEAD_CHARS = 40


@dataclass(frozen=True)
class Parsed:
    """One code cell: its text as parsed (magic lines emptied, so line numbers hold), how many
    lines were stripped, why the whole cell is skipped (or None), and its syntax tree (None when
    it is skipped or does not parse: `error` then says why)."""
    text: str
    stripped: int
    skip: str | None
    tree: ast.Module | None
    error: SyntaxError | ValueError | None = None


#: the handout's code cells, parsed once (their trees are shared: nothing may change them)
_KNOWN: dict[str, Parsed] = {}


def remember_cells(code_cells: list[str]) -> list[Parsed]:
    """Parse these cells now (the handout's) and keep them, so that a submission holding one of
    them unchanged takes the result. Nothing a submission writes is remembered."""
    found = []
    for src in code_cells:
        if isinstance(src, str):
            if src not in _KNOWN:
                _KNOWN[src] = parse_cell(src)
            found.append(_KNOWN[src])
    return found


def cell(src: str) -> Parsed:
    """The parsed cell: the remembered one when the handout holds exactly this text."""
    return _KNOWN.get(src) or parse_cell(src)


def parse_cell(src: str) -> Parsed:
    text, stripped, skip, tree = _strip_and_parse(normalized(src))
    if skip or tree is not None:
        return Parsed(text, stripped, skip, tree)
    try:
        return Parsed(text, stripped, None, ast.parse(text))
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        error = exc if isinstance(exc, (SyntaxError, ValueError)) else ValueError(type(exc).__name__)
        return Parsed(text, stripped, None, None, error)


def normalized(src: str) -> str:
    return src.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def head(text: str) -> str:
    """The cell's first line that is not blank, as a student sees it at the top of the cell,
    shortened to HEAD_CHARS characters."""
    line = next((line.strip() for line in text.split("\n") if line.strip()), "")
    return line if len(line) <= HEAD_CHARS else line[:HEAD_CHARS - 1].rstrip() + "…"


def syntax_error_words(error) -> str:
    """"a syntax error at line 3 (expected ':')", in the current language (Python's own words
    in the parentheses)."""
    message = getattr(error, "msg", None) or str(error) or type(error).__name__
    if getattr(error, "lineno", None):
        return _("a syntax error at line {line} ({message})", line=error.lineno, message=message)
    return _("a syntax error ({message})", message=message)


def strip_magics(src: str) -> tuple[str, int, str | None]:
    text, count, skip, _ = _strip_and_parse(src)
    return text, count, skip


def _strip_and_parse(src: str):
    """(text, lines stripped, reason to skip the whole cell or None, tree or None) for IPython
    syntax. Line numbers are preserved: stripped lines become empty. A cell that parses as it
    is has no magics at statement level, so it is left alone (a "%" or "!" line may be inside
    a string)."""
    lines = src.split("\n")
    count = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = re.match(r"%%(\S*)", lines[first].lstrip()).group(1)
        if name not in _KEPT_CELL_MAGICS:
            return "", 0, _("%%{name} cell magic (not Python)", name=name), None
        lines[first], count = "", 1
    text = "\n".join(lines)
    try:
        return text, count, None, ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    magic = _magic_lines(lines)
    for i in magic:
        lines[i] = ""
    return "\n".join(lines), count + len(magic), None, None


def _magic_lines(lines: list[str]) -> list[int]:
    """Indices of lines starting a logical line with IPython syntax (not inside strings or brackets)."""
    found, depth, quote, continued = [], 0, None, False
    for i, line in enumerate(lines):
        if quote is None and depth == 0 and not continued and _is_magic(line):
            found.append(i)
            continue
        continued, j = False, 0
        while j < len(line):
            c = line[j]
            if quote:
                if c == "\\":
                    j += 2
                    continue
                if line.startswith(quote, j):
                    j, quote = j + len(quote), None
                    continue
            elif c == "#":
                break
            elif c in "\"'":
                quote = c * 3 if line.startswith(c * 3, j) else c
                j += len(quote)
                continue
            elif c in "([{":
                depth += 1
            elif c in ")]}":
                depth = max(0, depth - 1)
            elif c == "\\" and j == len(line) - 1:
                continued = True
            j += 1
        if quote in ("'", '"') and not line.endswith("\\"):
            quote = None  # an unterminated one-line string ends with its line
    return found


def _is_magic(line: str) -> bool:
    s = line.lstrip()
    return bool(s) and (s[0] in "%!" or bool(_MAGIC_ASSIGN.match(s)) or bool(_HELP.match(s)))
