"""A submission's code: the slice of its notebook the graded functions need, ready to run.

Students delete, reorder and re-run cells, leave training loops, plots and magics behind, bind
helpers and constants in every way Python allows, and break cells they were not asked to touch.
We keep every top-level statement the graded functions need (grader.read.slicing), whatever
its kind, each in the student's own text (so tracebacks show their lines), compiled one by one
with a map from every line back to its cell. Nothing here runs any of it: the kept statements
run only in the sandbox.
"""
from __future__ import annotations

import __future__
import ast
import copy
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from grader.i18n import _, ngettext
from grader.read import cells as cellmod
from grader.read.slicing import slice_statements
from grader.read.statements import Reads, Statement, bound_name, effects, first_line, reads

#: the file name of the submission's code in tracebacks (the sandbox harness uses the same)
SOURCE_NAME = "<submission>"
_SIMPLE = (int, float, bool, str, type(None))
_POSTPONED = __future__.annotations.compiler_flag


@dataclass(frozen=True)
class Submission:
    """The kept statements of one submission, as source ready for exec, and where they came from."""

    id: str
    path: Path | None
    source: str
    line_origin: tuple[tuple[int, int], ...]
    functions: frozenset[str]
    constants: Mapping[str, object] = field(hash=False)
    notes: tuple[str, ...]
    #: the kept statements of `source` compiled one by one (code objects, lines as in `source`),
    #: so the sandboxed child need not parse and compile them again; None when one of them does
    #: not compile alone (the child then compiles `source` itself and reports the error)
    statements: tuple[types.CodeType, ...] | None = field(default=None, compare=False, repr=False)
    #: each code cell's first line, as the student sees it (cell n is heads[n - 1])
    heads: tuple[str, ...] = ()
    #: why a graded function is not defined, when the notebook says more than "nowhere"
    missing: Mapping[str, str] = field(default_factory=dict, hash=False)
    #: (cell, line) of the kept statements that do more than define or import: the code that
    #: runs before any graded call
    computes: tuple[tuple[int, int], ...] = ()
    #: the language the notebook asks its feedback in (its metadata.grader.lang), or None
    lang: str | None = None

    def running(self, most: int = 3) -> str:
        """Where the kept code that computes something at top level is, for a student told that
        it failed: 'line 2 of cell 3 (“W = init()”), line 5 of cell 4 (…)'."""
        places = ", ".join(place(cell, line, self.heads) for cell, line in self.computes[:most])
        more = len(self.computes) - most
        return _("{places} and {more} more", places=places, more=more) if more > 0 else places

    def describe_line(self, lineno: int) -> str:
        """Where line `lineno` (1-based) of `source` came from: 'line 3 of cell 7 (“def f(x):”)'."""
        if 1 <= lineno <= len(self.line_origin):
            return place(*self.line_origin[lineno - 1], self.heads)
        return _("line {line} (not from the notebook)", line=lineno)


def place(cell: int, line: int, heads: Sequence[str]) -> str:
    """'line 3 of cell 7 (“def lstm_forward(X, W, b):”)': the cell by its position and its
    first line, which is how a student finds it."""
    head = heads[cell - 1] if 1 <= cell <= len(heads) else ""
    if head:
        return _("line {line} of cell {cell} (“{head}”)", line=line, cell=cell, head=head)
    return _("line {line} of cell {cell}", line=line, cell=cell)


#: statements of the handout's cells (by id; their trees live in grader.read.cells): their
#: effects, reads and code, worked out once for every submission that keeps them unchanged
_HANDOUT: set[int] = set()
_EFFECTS: dict[int, object] = {}
_READS: dict[tuple[int, bool], Reads | None] = {}
_CODE: dict[tuple[int, bool], types.CodeType | None] = {}


def remember_cells(code_cells: list[str]) -> None:
    """Parse the handout's cells now, so that a submission holding one of them unchanged takes
    the result instead of parsing, analysing and compiling it again."""
    for parsed in cellmod.remember_cells(code_cells):
        for node in (parsed.tree.body if parsed.tree is not None else []):
            _HANDOUT.add(id(node))


def extract_source(code_cells: list[str], submission_id: str,
                   roots: Sequence[str] | None = None) -> Submission:
    """Extract from raw code cell sources (cell i is cell number i + 1)."""
    return extract_cells(code_cells, submission_id, roots=roots)


def extract_cells(code_cells: list, submission_id: str, path: Path | None = None,
                  notes: tuple[str, ...] | list[str] = (),
                  roots: Sequence[str] | None = None) -> Submission:
    """Extract from code cell sources the slice that binds `roots` (the graded functions; by
    default every function and class the notebook defines); `notes` (e.g. from reading the
    file) come first."""
    notes = list(notes)
    stmts: list[Statement] = []
    heads: list[str] = []
    broken: dict[int, tuple[str, object]] = {}  # cell -> (text, syntax error)
    magic_cells: dict[int, int] = {}
    for number, src in enumerate(code_cells, start=1):
        if not isinstance(src, str):
            heads.append("")
            notes.append(_("cell {number}: source is not text; cell ignored", number=number))
            continue
        parsed = cellmod.cell(src)
        heads.append(cellmod.head(parsed.text if parsed.text else src))
        if parsed.skip:
            notes.append(_("cell {number} skipped: {reason}", number=number, reason=parsed.skip))
            continue
        if parsed.tree is None:
            broken[number] = (parsed.text, parsed.error)
            notes.append(_("cell {number} (“{head}”) has {error}: none of it runs",
                           number=number, head=heads[-1],
                           error=cellmod.syntax_error_words(parsed.error)))
            continue
        if parsed.stripped:
            magic_cells[number] = parsed.stripped
        lines = parsed.text.split("\n")
        for node in parsed.tree.body:
            stmts.append(Statement(number, node, lines, _effects_of(node)))
    if magic_cells:
        count = sum(magic_cells.values())
        cells = ", ".join(map(str, magic_cells))
        notes.append(ngettext("stripped {count} IPython magic/shell line ({cells})",
                              "stripped {count} IPython magic/shell lines ({cells})", count,
                              cells=ngettext("cell {numbers}", "cells {numbers}",
                                             len(magic_cells), numbers=cells)))
    return _assemble(stmts, roots, heads, broken, submission_id, path, notes)


def _effects_of(node):
    if id(node) in _HANDOUT:
        found = _EFFECTS.get(id(node))
        if found is None:
            found = _EFFECTS[id(node)] = effects(node)
        return found
    return effects(node)


def _assemble(stmts, roots, heads, broken, submission_id, path, notes) -> Submission:
    futures = [i for i, s in enumerate(stmts) if s.effects.future]
    postponed_from = next((i for i in futures if _is_annotations(stmts[i].node)), len(stmts))
    texts: dict[int, str] = {}

    def text_of(i: int) -> str:
        if i not in texts:
            texts[i] = "\n".join(stmts[i].text()[0]) + "\n"
        return texts[i]

    analysed: dict[int, Reads | None] = {}

    def reads_of(i: int) -> Reads:
        if i not in analysed:
            analysed[i] = _reads(stmts[i], text_of, i, i > postponed_from)
        return analysed[i]

    if roots is None:
        roots = sorted({name for s in stmts for name in s.effects.defines})
    sliced = slice_statements([s.effects for s in stmts], reads_of, list(roots), text_of)
    order = futures + [i for i in sliced.order if i not in futures]
    lines, origin, statements = [], [], []
    for i in order:
        s = stmts[i]
        node, text, where = _trimmed(s, sliced.kept_for.get(i, set()))
        code = _code(s, node, i > postponed_from, node is s.node)
        statements.append(_placed(node, code, len(lines) + 1 - where[0][1], node is s.node))
        lines += text
        origin += where
    source = "".join(line + "\n" for line in lines)
    functions = frozenset(name for i in order for name in stmts[i].effects.defines)
    notes += _reading_notes(sliced, stmts, heads, broken)
    missing = {root: _broken_definition(root, broken, heads) for root in sliced.missing}
    if not functions:
        notes.append("no function or class definitions found")
    return Submission(submission_id, Path(path) if path is not None else None, source,
                      tuple(origin), functions, MappingProxyType(_constants(stmts, order)),
                      tuple(notes), None if None in statements else tuple(statements),
                      tuple(heads), MappingProxyType({k: v for k, v in missing.items() if v}),
                      tuple((stmts[i].cell, first_line(stmts[i].node)) for i in order
                            if not (stmts[i].effects.movable or stmts[i].effects.defines
                                    or stmts[i].effects.future)))


def _is_annotations(node) -> bool:
    return any(alias.name == "annotations" for alias in node.names)


def _reads(s: Statement, text_of, i: int, postponed: bool) -> Reads:
    """What statement i reads; every plain name in it, read now and later, when it does not
    compile alone (the child will say why)."""
    key = (id(s.node), postponed)
    if id(s.node) in _HANDOUT and key in _READS:
        found = _READS[key]
    else:
        found = reads(text_of(i), postponed)
        if id(s.node) in _HANDOUT:
            _READS[key] = found
    if found is None:
        names = frozenset(n.id for n in ast.walk(s.node) if isinstance(n, ast.Name))
        found = Reads(names, names)
    return found


def _trimmed(s: Statement, kept_for: set):
    """(node, text lines, origins) of the kept statement: an import keeps only the names the
    kept code needs (importing a plotting library the graded code never uses only costs)."""
    node = s.node
    if isinstance(node, (ast.Import, ast.ImportFrom)) and not s.effects.future:
        keep = [a for a in node.names if a.name == "*" or bound_name(a) in kept_for]
        if keep and len(keep) < len(node.names):
            trimmed = type(node)(names=keep) if isinstance(node, ast.Import) else \
                ast.ImportFrom(module=node.module, names=keep, level=node.level)
            trimmed = ast.fix_missing_locations(ast.copy_location(trimmed, node))
            trimmed.end_lineno = trimmed.lineno
            return trimmed, [ast.unparse(trimmed)], [(s.cell, node.lineno)]
    text, where = s.text()
    return node, text, where


def _compiled(node, postponed: bool) -> types.CodeType | None:
    """One top-level statement compiled alone (as the child executes them), or None."""
    try:  # dont_inherit: this module's own `from __future__` must not apply to student code
        return compile(ast.Module(body=[node], type_ignores=[]), SOURCE_NAME, "exec",
                       flags=_POSTPONED if postponed else 0, dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def _code(s: Statement, node, postponed: bool, whole: bool) -> types.CodeType | None:
    """The statement's code: a handout statement's compiled once at line 1 (so placing it only
    ever moves it down), any other compiled now at its lines in its cell."""
    if whole and id(node) in _HANDOUT:
        key = (id(node), postponed)
        if key not in _CODE:
            at_line_1 = ast.increment_lineno(copy.deepcopy(node), 1 - first_line(node))
            _CODE[key] = _compiled(at_line_1, postponed)
        return _CODE[key]
    return _compiled(node, postponed)


def _placed(node, code, delta: int, whole: bool) -> types.CodeType | None:
    """The statement's code with its lines moved by delta to where it sits in the kept source."""
    if code is None:
        return None
    if whole and id(node) in _HANDOUT:  # compiled at line 1: it only ever moves down
        return _moved(code, delta + first_line(node) - 1)
    if delta >= 0:
        return _moved(code, delta)
    # a module's code always starts at line 1, so it cannot move up: compile it there again
    # (the tree is this submission's own: moved for that, and back)
    postponed = bool(code.co_flags & _POSTPONED)
    ast.increment_lineno(node, delta)
    try:
        return _compiled(node, postponed)
    finally:
        ast.increment_lineno(node, -delta)


def _moved(code: types.CodeType, delta: int) -> types.CodeType:
    """The code object with every line number moved by delta (line tables are relative to
    co_firstlineno, in nested code objects too)."""
    consts = tuple(_moved(c, delta) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def _constants(stmts, order) -> dict:
    """{name: value} of the kept plain literals (`n_samples = 20`) that nothing kept after
    them rebinds or changes: the diagnosis may name them ("you divided by n_samples")."""
    values: dict = {}
    for i in order:
        s = stmts[i]
        found = _literal_values(s.node)
        for name in s.effects.binds | s.effects.changes:
            values.pop(name, None)
        values.update(found or {})
    return values


def _literal_values(node) -> dict | None:
    """{name: value} if the statement binds only names (or tuples of names) to a plain literal."""
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None and node.simple:
        targets, value = [node.target], node.value
    else:
        return None
    try:
        literal = ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not _simple(literal):
        return None
    values = {}
    for target in targets:
        if isinstance(target, ast.Name):
            values[target.id] = literal
        elif isinstance(target, (ast.Tuple, ast.List)) and all(isinstance(e, ast.Name) for e in target.elts) \
                and isinstance(literal, (tuple, list)) and len(literal) == len(target.elts):
            values.update({e.id: v for e, v in zip(target.elts, literal)})
        else:
            return None
    return values


def _simple(value, depth=0) -> bool:
    if isinstance(value, _SIMPLE):
        return True
    return isinstance(value, (tuple, list)) and depth < 20 and all(_simple(v, depth + 1) for v in value)


def _reading_notes(sliced, stmts, heads, broken) -> list[str]:
    """Notes on names the kept code reads too early or that nothing binds, in the student's
    terms: the line and cell that reads them."""
    notes = []
    for name, reader, binder, moved in sorted(set(sliced.early), key=lambda e: (e[1], e[0])):
        r, b = stmts[reader], stmts[binder]
        where = place(r.cell, r.first_read(name), heads)
        if moved:
            there = place(b.cell, b.node.lineno, heads)
            if b.effects.defines or b.effects.imports:
                notes.append(_("{where} uses `{name}` before {there} defines it: run top to "
                               "bottom, the notebook would stop there; it is graded as if that "
                               "line had run first", where=where, name=name, there=there))
            else:
                notes.append(_("{where} uses `{name}` before {there} assigns it: run top to "
                               "bottom, the notebook would stop there; it is graded as if that "
                               "line had run first", where=where, name=name, there=there))
        else:
            notes.append(_("{where} reads `{name}` before {there} assigns it: run top to "
                           "bottom, it raises NameError there", where=where, name=name,
                           there=place(b.cell, b.node.lineno, heads)))
    for name, reader in sorted(set(sliced.unbound), key=lambda u: (u[1], u[0])):
        r = stmts[reader]
        also = _assigned_in_broken(name, broken)
        where = place(r.cell, r.first_read(name), heads)
        if also:
            notes.append(_("{where} reads `{name}`, which is never assigned in your notebook; "
                           "it is assigned only in cell {cell}, which has a syntax error",
                           where=where, name=name, cell=also))
        else:
            notes.append(_("{where} reads `{name}`, which is never assigned in your notebook",
                           where=where, name=name))
    return notes


def _definition_pattern(name: str) -> re.Pattern:
    return re.compile(rf"^(?:(?:async\s+)?def|class)\s+{re.escape(name)}\b|^{re.escape(name)}\s*[:=]",
                      re.M)


def _assigned_in_broken(name: str, broken) -> int | None:
    pattern = _definition_pattern(name)
    return next((cell for cell, (text, _) in sorted(broken.items()) if pattern.search(text)), None)


def _broken_definition(root: str, broken, heads) -> str:
    """Why `root` is not defined when a cell that cannot run defines it, or ''."""
    cell = _assigned_in_broken(root, broken)
    if cell is None:
        return ""
    error = broken[cell][1]
    return _("cell {cell} (“{head}”) defines it but has {error}, so none of that cell runs",
             cell=cell, head=heads[cell - 1], error=cellmod.syntax_error_words(error))
