"""Build the student notebooks and the bundled sample submissions from one source.

A notebook is generated from ``assignments/<name>/template.py`` (a "percent" format script)
plus the trusted reference ``reference/<name>.py``, so the code students are given and the
stubs they fill in can never drift from the reference. Cell headers of a template:

``# %% [markdown]``
    The following comment lines, with their leading ``# `` (or ``#``) removed, form a
    markdown cell.
``# %%``
    A plain code cell, copied as is.
``# %% [provided] f g``
    A code cell holding the reference source of ``f`` and ``g`` (helpers students are given).
    Names the reference module imports (e.g. ``sigmoid`` in ``reference/lstm.py``) work too.
``# %% [todo] f``
    The stub of ``f``: the reference signature and docstring, a ``# YOUR CODE HERE`` comment
    and ``raise NotImplementedError``; never any solution code. Tagged ``["todo", "f"]``.
``# %% [check] f``
    The self-check cell ``grader.check("f")``, tagged ``["check"]``.

A sample submission ``assignments/<name>/samples/src/<id>.py`` is a percent script of edits
applied to the student notebook, as a student would make them:

``# %% [todo] f``   the source of f's todo cell is replaced by the cell's code;
``# %% [drop] f``   f's todo cell is deleted;
``# %% [first]``    a code cell is inserted at the very start;
``# %% [extra]``    a code cell is appended at the end.

The result is written to ``assignments/<name>/samples/<id>.ipynb``. Notebooks in ``samples/``
without a source script (hand-written broken files) are never touched.

Where the assignment has a catalogue of its words in another language
(``assignments/<name>/locale/<lang>/``), the handout is also built in that language,
``assignments/<name>/<name>.<lang>.ipynb``, from the same template: its markdown paragraphs and
code comments translated (grader/authoring/translation.py), its code as it is, its self-check
cells ``grader.check("f", lang="<lang>")``, and ``metadata.grader.lang`` saying its language, so
that grading it gives feedback in that language.

Output is deterministic byte for byte: fixed cell ids and fixed metadata. In both kinds of
script, comment and blank lines before the first cell header are ignored (author notes).
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from pathlib import Path
from types import ModuleType

import nbformat
from nbformat import NotebookNode
from nbformat import v4

from grader import i18n
from grader.authoring import translation

from grader.course.references import load_reference as course_reference

__all__ = [
    "AuthoringError",
    "load_reference",
    "stub_source",
    "build_notebook",
    "build_sample",
    "write_assignment",
    "stale_files",
    "render",
    "notebook_path",
    "sample_sources",
]

#: Notebook-level metadata of every generated notebook (and "grader": {"assignment": name},
#: which `grader check` compares with the public case file's assignment).
METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
    "language_info": {"name": "python"},
}

TEMPLATE_DIRECTIVES = ("markdown", "provided", "todo", "check")
SAMPLE_DIRECTIVES = ("todo", "drop", "first", "extra")

_HEADER = re.compile(r"^# %%(?P<rest>.*)$")
_DIRECTIVE = re.compile(r"^\s+\[(?P<directive>[A-Za-z_]+)\](?P<args>(\s+\S+)*)\s*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class AuthoringError(ValueError):
    """A malformed template or sample script; the message starts with ``file:line:``."""

    def __init__(self, path: Path, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


# --------------------------------------------------------------------------------------------
# Percent-format parsing


class _Cell:
    """One parsed cell: its directive (None for plain code), arguments, body and header line."""

    def __init__(self, directive: str | None, args: list[str], line: int):
        self.directive = directive
        self.args = args
        self.line = line
        self.body: list[str] = []

    def source(self) -> str:
        """The body without leading and trailing blank lines."""
        lines = list(self.body)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines)


def _parse_percent(path: Path, allowed: tuple[str, ...]) -> list[_Cell]:
    """Split a percent-format script into cells, checking every header against `allowed`."""
    cells: list[_Cell] = []
    text = path.read_text(encoding="utf-8")
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header is None:
            if cells:
                cells[-1].body.append(line)
            elif line.strip() and not line.lstrip().startswith("#"):
                raise AuthoringError(path, number, "code before the first '# %%' cell header")
            continue
        rest = header.group("rest")
        if not rest.strip():
            cells.append(_Cell(None, [], number))
            continue
        match = _DIRECTIVE.match(rest)
        if match is None:
            raise AuthoringError(path, number, f"malformed cell header {line!r}")
        directive = match.group("directive")
        if directive not in allowed:
            raise AuthoringError(
                path, number,
                f"unknown directive [{directive}] (expected one of {', '.join(allowed)})")
        args = match.group("args").split()
        for arg in args:
            if not _IDENTIFIER.match(arg):
                raise AuthoringError(path, number, f"{arg!r} is not a function name")
        cells.append(_Cell(directive, args, number))
    if not cells:
        raise AuthoringError(path, 1, "no '# %%' cell header")
    return cells


def _markdown_source(path: Path, cell: _Cell) -> str:
    """Strip the comment markers of a markdown cell's body."""
    out = []
    for offset, line in enumerate(cell.body, start=1):
        stripped = line.strip()
        if not stripped:
            out.append("")
        elif line.startswith("# "):
            out.append(line[2:])
        elif line.startswith("#"):
            out.append(line[1:])
        else:
            raise AuthoringError(path, cell.line + offset,
                                 "markdown cells hold only '#' comment lines")
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# --------------------------------------------------------------------------------------------
# The reference module


def load_reference(course_root: Path, name: str) -> ModuleType:
    """Import ``reference/<name>.py`` of `course_root` by file path, leaving the import state
    as it was (grader.course.references)."""
    return course_reference(course_root, name)


def _function(module: ModuleType, fname: str, path: Path, line: int):
    """The function `fname` of the reference module, or an error naming the template line."""
    func = getattr(module, fname, None)
    if not inspect.isfunction(func):
        raise AuthoringError(path, line,
                             f"reference {module.__file__} has no function {fname!r}")
    return func


def stub_source(func) -> str:
    """The student stub of `func`: its signature and docstring, then only a comment and a raise."""
    source = textwrap.dedent(inspect.getsource(func))
    lines = source.splitlines()
    node = ast.parse(source).body[0]
    if not isinstance(node, ast.FunctionDef) or node.body[0].lineno <= node.lineno:
        raise ValueError(f"cannot make a stub of {func.__name__}: expected a multi-line def")
    first = node.body[0]
    stub = lines[: first.lineno - 1]  # the def line(s)
    indent = " " * first.col_offset
    if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
            and isinstance(first.value.value, str)):
        stub += lines[first.lineno - 1: first.end_lineno]  # the docstring, verbatim
    stub.append(f"{indent}# YOUR CODE HERE")
    stub.append(f'{indent}raise NotImplementedError("{func.__name__}: not implemented yet")')
    return "\n".join(stub)


# --------------------------------------------------------------------------------------------
# Notebooks


def template_path(course_root: Path, name: str) -> Path:
    """Where the template of `name` lives: ``assignments/<name>/template.py``."""
    return Path(course_root) / "assignments" / name / "template.py"


def notebook_path(course_root: Path, name: str, lang: str | None = None) -> Path:
    """Where the student notebook of `name` lives: ``assignments/<name>/<name>.ipynb``, and in
    another language ``<name>.<lang>.ipynb``."""
    suffix = f".{lang}" if lang and lang != i18n.DEFAULT else ""
    return Path(course_root) / "assignments" / name / f"{name}{suffix}.ipynb"


def languages(course_root: Path, name: str) -> list[str]:
    """The other languages the assignment's words are translated into (a handout each)."""
    locale = Path(course_root) / "assignments" / name / "locale"
    return [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT
            and (locale / lang / "LC_MESSAGES" / f"{i18n.ASSIGNMENT_DOMAIN}.mo").is_file()]


def sample_sources(course_root: Path, name: str) -> list[Path]:
    """The sample source scripts of `name`, sorted by id."""
    return sorted((Path(course_root) / "assignments" / name / "samples" / "src").glob("*.py"))


def sample_path(course_root: Path, name: str, sample_src: Path) -> Path:
    """The notebook generated from `sample_src`: ``assignments/<name>/samples/<id>.ipynb``."""
    return Path(course_root) / "assignments" / name / "samples" / f"{Path(sample_src).stem}.ipynb"


def _new_notebook(cells: list[NotebookNode], name: str, lang: str | None = None) -> NotebookNode:
    """A validated v4 notebook of `cells` with the fixed metadata, naming assignment `name` (and
    the language of its words, when it is not the default)."""
    grader = {"assignment": name, **({"lang": lang} if lang and lang != i18n.DEFAULT else {})}
    nb = v4.new_notebook(cells=cells, metadata={**METADATA, "grader": grader})
    nbformat.validate(nb)
    return nb


def build_notebook(course_root: Path, name: str, lang: str | None = None) -> NotebookNode:
    """The student notebook of assignment `name`, from its template and reference (its words
    in `lang`, from the assignment's catalogue, when given)."""
    course_root = Path(course_root)
    lang = None if lang == i18n.DEFAULT else lang
    if lang:
        i18n.add_catalogues(course_root / "assignments" / name / "locale")

    def words(text: str) -> str:
        return i18n.translated(text, lang) if lang else text

    path = template_path(course_root, name)
    parsed = _parse_percent(path, TEMPLATE_DIRECTIVES)
    module = load_reference(course_root, name)
    cells: list[NotebookNode] = []
    todos: set[str] = set()
    for cell in parsed:
        cell_id = f"{name}-{len(cells):02d}"
        if cell.directive == "markdown":
            if cell.args:
                raise AuthoringError(path, cell.line, "[markdown] takes no arguments")
            cells.append(v4.new_markdown_cell(
                translation.translated_markdown(_markdown_source(path, cell), words)
                if lang else _markdown_source(path, cell), id=cell_id))
            continue
        if cell.directive is None:
            cells.append(v4.new_code_cell(translation.translated_code(cell.source(), words)
                                          if lang else cell.source(), id=cell_id))
            continue
        if cell.source():
            raise AuthoringError(path, cell.line,
                                 f"a [{cell.directive}] cell is generated; it takes no body")
        if not cell.args:
            raise AuthoringError(path, cell.line, f"[{cell.directive}] needs a function name")
        funcs = [_function(module, fname, path, cell.line) for fname in cell.args]
        if cell.directive == "provided":
            source = "\n\n\n".join(textwrap.dedent(inspect.getsource(f)).rstrip()
                                   for f in funcs)
            cells.append(v4.new_code_cell(source, id=cell_id))
            continue
        if len(cell.args) != 1:
            raise AuthoringError(path, cell.line,
                                 f"[{cell.directive}] takes exactly one function name")
        fname = cell.args[0]
        if cell.directive == "todo":
            if fname in todos:
                raise AuthoringError(path, cell.line, f"second [todo] cell for {fname!r}")
            todos.add(fname)
            cells.append(v4.new_code_cell(stub_source(funcs[0]), id=cell_id,
                                          metadata={"tags": ["todo", fname]}))
        else:  # check
            check = f'grader.check("{fname}", lang="{lang}")' if lang \
                else f'grader.check("{fname}")'
            cells.append(v4.new_code_cell(check, id=cell_id, metadata={"tags": ["check"]}))
    return _new_notebook(cells, name, lang)


def _todo_index(cells: list[NotebookNode], fname: str) -> int | None:
    """Index of the cell tagged ["todo", fname], or None."""
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and cell.metadata.get("tags", [])[:1] == ["todo"] \
                and fname in cell.metadata["tags"][1:]:
            return index
    return None


def build_sample(course_root: Path, name: str, sample_src: Path) -> NotebookNode:
    """The student notebook of `name` with the edits of the sample script `sample_src`."""
    sample_src = Path(sample_src)
    student = build_notebook(course_root, name)
    cells = [NotebookNode(dict(c)) for c in student.cells]
    first: list[NotebookNode] = []
    extra: list[NotebookNode] = []
    seen: set[str] = set()
    for cell in _parse_percent(sample_src, SAMPLE_DIRECTIVES):
        if cell.directive is None:
            raise AuthoringError(sample_src, cell.line,
                                 "sample cells need a directive: [todo] f, [drop] f, "
                                 "[first] or [extra]")
        if cell.directive in ("first", "extra"):
            if cell.args:
                raise AuthoringError(sample_src, cell.line,
                                     f"[{cell.directive}] takes no arguments")
            target, prefix = (first, "first") if cell.directive == "first" else (extra, "extra")
            target.append(v4.new_code_cell(cell.source(),
                                           id=f"{name}-{prefix}-{len(target):02d}"))
            continue
        if len(cell.args) != 1:
            raise AuthoringError(sample_src, cell.line,
                                 f"[{cell.directive}] takes exactly one function name")
        fname = cell.args[0]
        if fname in seen:
            raise AuthoringError(sample_src, cell.line, f"{fname!r} is edited twice")
        seen.add(fname)
        index = _todo_index(cells, fname)
        if index is None:
            raise AuthoringError(sample_src, cell.line,
                                 f"the notebook of {name!r} has no todo cell for {fname!r}")
        if cell.directive == "drop":
            if cell.source():
                raise AuthoringError(sample_src, cell.line, "[drop] takes no body")
            del cells[index]
        else:
            edited = NotebookNode(dict(cells[index]))
            edited.source = cell.source()
            cells[index] = edited
    return _new_notebook(first + cells + extra, name)


def render(nb: NotebookNode) -> str:
    """The exact text ``nbformat.write`` puts in a file for `nb`."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def _expected(course_root: Path, name: str) -> list[tuple[Path, NotebookNode]]:
    """Every generated file of `name` with the notebook it must hold."""
    course_root = Path(course_root)
    out = [(notebook_path(course_root, name), build_notebook(course_root, name))]
    out += [(notebook_path(course_root, name, lang), build_notebook(course_root, name, lang))
            for lang in languages(course_root, name)]
    for src in sample_sources(course_root, name):
        out.append((sample_path(course_root, name, src), build_sample(course_root, name, src)))
    return out


def write_assignment(course_root: Path, name: str) -> list[Path]:
    """Write the student notebook and every generated sample of `name`; return their paths."""
    written = []
    for path, nb in _expected(course_root, name):
        nbformat.validate(nb)
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(path))
        written.append(path)
    return written


def stale_files(course_root: Path, name: str) -> list[Path]:
    """Generated files of `name` that are missing or differ from what would be written now."""
    stale = []
    for path, nb in _expected(course_root, name):
        if not path.is_file() or path.read_text(encoding="utf-8") != render(nb):
            stale.append(path)
    return stale
