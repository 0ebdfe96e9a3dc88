"""Extracting a student's definitions from code cells, without running any of them.

Students delete, reorder and re-run cells, leave training loops, plots and magics behind, and
break cells they were not asked to touch. We keep only what a grader may execute: functions,
classes, lambdas bound to names, simple literal constants, and the imports those need, each
in the student's own text (so tracebacks show their lines), with a map from every generated
line back to (code cell number, line in that cell).
"""
from __future__ import annotations

import ast
import builtins
import copy
import re
import symtable
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

#: the file name of the submission's code in tracebacks (the sandbox harness uses the same)
SOURCE_NAME = "<submission>"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_SIMPLE = (int, float, bool, str, type(None))
_DUNDER = re.compile(r"^__\w+__$")
_KEPT_CELL_MAGICS = {"time", "timeit", "capture"}  # run the cell's Python: drop only the magic line
_MAGIC_ASSIGN = re.compile(r"[A-Za-z_][\w.]*(\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*[%!]")  # x = !ls, t = %time f()
_HELP = re.compile(r"(\?{1,2}[\w.]+|[\w.]+\?{1,2})\s*$")  # np.dot?  ?np.dot


@dataclass(frozen=True)
class Submission:
    """The kept definitions of one submission, as source ready for exec, and where they came from."""

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

    def describe_line(self, lineno: int) -> str:
        """Where line `lineno` (1-based) of `source` came from: "cell 7, line 3"."""
        if 1 <= lineno <= len(self.line_origin):
            cell, line = self.line_origin[lineno - 1]
            return f"cell {cell}, line {line}"
        return f"line {lineno} (not from the notebook)"


@dataclass
class _Stmt:
    cell: int
    node: ast.stmt
    lines: list[str]  # the whole cell, split on "\n"
    kind: str  # "future", "import", "const", "def"
    names: tuple[str, ...] = ()
    values: dict = field(default_factory=dict)  # constants bound: name -> value

    def text(self) -> tuple[list[str], list[tuple[int, int]]]:
        """The student's own text of the statement (from its first decorator) and its origins."""
        node = self.node
        first = _first_line(node)
        col = 0 if first < node.lineno else node.col_offset
        chunk = self.lines[first - 1: node.end_lineno]
        chunk[-1] = _cut(chunk[-1], node.end_col_offset)
        chunk[0] = chunk[0][len(_cut(chunk[0], col)):] if col else chunk[0]
        return chunk, [(self.cell, first + i) for i in range(len(chunk))]


def _first_line(node) -> int:
    """The statement's first line in its cell: its first decorator's, if it has any."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _cut(line: str, byte_col: int) -> str:
    """line[:byte_col] with ast's UTF-8 byte column turned into characters."""
    return line.encode("utf-8")[:byte_col].decode("utf-8", "replace")


#: the handout's own code cells, parsed once: most students leave most of them as they are
#: (the provided code around their TODO cells: half to four fifths of a submission's code)
_KNOWN_CELLS: dict = {}
#: their top-level statements, compiled once, each as if it began at line 1 (so that placing
#: one in a submission's kept source only ever moves it down); by id: the trees above keep
#: them alive
_KNOWN_CODE: dict = {}
#: their scope analyses (`_statement_reads`), by id, made when a submission first keeps one
_KNOWN_READS: dict = {}


def remember_cells(code_cells: list[str]) -> None:
    """Parse and compile these cells now (the handout's), so that a submission holding one of
    them unchanged takes the result instead of parsing and compiling it again. Nothing a
    submission writes is remembered. The trees are shared: nothing may change them."""
    for src in code_cells:
        if isinstance(src, str) and src not in _KNOWN_CELLS:
            text = _normalized(src)
            found = _strip_and_parse(text)
            _KNOWN_CELLS[src] = found
            for node in (found[3].body if found[3] is not None else []):
                at_line_1 = ast.increment_lineno(copy.deepcopy(node), 1 - _first_line(node))
                _KNOWN_CODE[id(node)] = (node, _compiled(at_line_1))


def _normalized(src: str) -> str:
    return src.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def extract_source(code_cells: list[str], submission_id: str) -> Submission:
    """Extract from raw code cell sources (cell i is cell number i + 1)."""
    return extract_cells(code_cells, submission_id)


def extract_cells(code_cells: list, submission_id: str, path: Path | None = None,
                  notes: tuple[str, ...] | list[str] = ()) -> Submission:
    """Extract from code cell sources; `notes` (e.g. from reading the file) come first."""
    notes = list(notes)
    stmts: list[_Stmt] = []
    dropped: dict[str, tuple[int, int]] = {}  # name -> where it was last bound by code we drop
    magic_cells: dict[int, int] = {}
    for number, src in enumerate(code_cells, start=1):
        if not isinstance(src, str):
            notes.append(f"cell {number}: source is not text; cell ignored")
            continue
        known = _KNOWN_CELLS.get(src)
        text, stripped, skip, tree = known or _strip_and_parse(_normalized(src))
        if skip:
            notes.append(f"cell {number} skipped: {skip}")
            continue
        try:
            tree = tree or ast.parse(text)  # parsed already unless magics were stripped
        except (SyntaxError, ValueError, MemoryError, RecursionError) as e:
            where = f" at line {e.lineno}" if getattr(e, "lineno", None) else ""
            msg = getattr(e, "msg", None) or str(e) or type(e).__name__
            notes.append(f"cell {number} skipped: syntax error{where} ({msg})")
            continue
        if stripped:
            magic_cells[number] = stripped
        lines = text.split("\n")
        for node in tree.body:
            stmt = _classify(node, number, lines, dropped, notes)
            if stmt is not None:
                stmts.append(stmt)
    if magic_cells:
        count = sum(magic_cells.values())
        notes.append(f"stripped {count} IPython magic/shell line{'s' * (count != 1)} "
                     f"(cell{'s' * (len(magic_cells) != 1)} {', '.join(map(str, magic_cells))})")
    return _assemble(stmts, dropped, submission_id, path, notes)


def _classify(node, cell, lines, dropped, notes) -> _Stmt | None:
    """A candidate statement, or None; records names bound by top-level code we do not keep."""
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if isinstance(node, ast.ImportFrom) and node.level:
            notes.append(f"cell {cell}, line {node.lineno}: relative import dropped")
            return None
        future = isinstance(node, ast.ImportFrom) and node.module == "__future__"
        return _Stmt(cell, node, lines, "future" if future else "import")
    if isinstance(node, _DEFS):
        return _Stmt(cell, node, lines, "def", (node.name,))
    targets, value = [], None
    if isinstance(node, ast.Assign):
        targets, value = node.targets, node.value
    elif isinstance(node, ast.AnnAssign) and node.value is not None and node.simple:
        targets, value = [node.target], node.value
    if value is not None and len(targets) == 1 and isinstance(targets[0], ast.Name) \
            and isinstance(value, ast.Lambda):
        stmt = _Stmt(cell, node, lines, "def", (targets[0].id,))
    else:
        values = _constant_values(targets, value) if value is not None else None
        stmt = None if values is None else _Stmt(cell, node, lines, "const", tuple(values), values)
    if stmt is None:
        for name, line in _stores(node):
            dropped[name] = (cell, line)
        return None
    bad = [n for n in stmt.names if _DUNDER.match(n)]
    if bad:
        notes.append(f"cell {cell}, line {node.lineno}: assignment to {', '.join(bad)} dropped")
        return None
    for name in stmt.names:
        dropped.pop(name, None)
    return stmt


def _stores(node) -> list[tuple[str, int]]:
    """(name, line) of the global names a dropped top-level statement may bind: assignment,
    loop, with and except targets, definitions, imports, down through compound statements
    (expressions are not walked: they bind nothing global but for a rare walrus)."""
    found, stack = [], [node]
    while stack:
        n = stack.pop()
        if isinstance(n, _DEFS):
            found.append((n.name, n.lineno))
            continue  # their insides are local
        targets = []
        if isinstance(n, ast.Assign):
            targets = n.targets
        elif isinstance(n, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [n.target]
        elif isinstance(n, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in n.items if i.optional_vars is not None]
        elif isinstance(n, (ast.Import, ast.ImportFrom)):
            found += [((a.asname or a.name).split(".")[0], n.lineno) for a in n.names
                      if a.name != "*"]
        elif isinstance(n, ast.ExceptHandler) and n.name:
            found.append((n.name, n.lineno))
        while targets:
            t = targets.pop()
            if isinstance(t, ast.Name):
                found.append((t.id, t.lineno))
            elif isinstance(t, (ast.Tuple, ast.List)):
                targets += t.elts
            elif isinstance(t, ast.Starred):
                targets.append(t.value)
        for block in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack += getattr(n, block, ())
    return sorted(found, key=lambda nl: nl[1])


def _constant_values(targets, value) -> dict | None:
    """{name: value} if every target is a name (or a tuple of names) bound to a simple literal."""
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


def _assemble(stmts, dropped, submission_id, path, notes) -> Submission:
    last: dict[str, _Stmt] = {}
    for s in stmts:
        if s.kind in ("const", "def"):
            for name in s.names:
                last[name] = s
    kept = [s for s in stmts if s.kind in ("const", "def") and any(last[n] is s for n in s.names)]
    defined = set(last)
    codes = {id(s): _code_of(s.node) for s in kept}
    needed = _names_used([(s.node, codes[id(s)]) for s in kept]) - defined
    pieces, futures, seen = [], [], set()  # (text, origins, code)
    for s in stmts:
        if s.kind not in ("import", "future"):
            continue
        node, piece = _trim_import(s, needed) if s.kind == "import" else (s.node, s.text())
        if node is None or ast.dump(node) in seen:
            continue
        seen.add(ast.dump(node))  # without positions: the same import in two cells is kept once
        if node is not s.node:  # a trimmed import: one line of its own
            node = ast.fix_missing_locations(ast.copy_location(node, s.node))
            node.end_lineno = node.lineno
        (futures if s.kind == "future" else pieces).append(piece + (node, _code_of(node)))
    consts = [s for s in kept if s.kind == "const"]
    defs = _definition_order([s for s in kept if s.kind == "def"])
    lines, origin, statements, texts = [], [], [], []
    for text, where, node, code in futures + pieces + [s.text() + (s.node, codes[id(s)])
                                                       for s in consts + defs]:
        statements.append(_placed(node, code, len(lines) + 1 - where[0][1]))
        texts.append((node, "\n".join(text) + "\n"))
        lines += text
        origin += where
    source = "".join(text for _, text in texts)
    constants = {n: v for s in consts for n, v in s.values.items() if last[n] is s}
    functions = frozenset(n for s in defs for n in s.names)
    star = any(a.name == "*" for s in stmts if s.kind == "import" for a in s.node.names)
    notes += _globals_notes(texts, last, functions, dropped, star)
    if not functions:
        notes.append("no function or class definitions found")
    return Submission(submission_id, Path(path) if path is not None else None, source, tuple(origin),
                      functions, MappingProxyType(constants), tuple(notes),
                      None if None in statements else tuple(statements))


def _compiled(node) -> types.CodeType | None:
    """One top-level statement compiled alone (as the child executes them), or None."""
    try:  # dont_inherit: this module's own `from __future__` must not apply to student code
        return compile(ast.Module(body=[node], type_ignores=[]), SOURCE_NAME, "exec",
                       dont_inherit=True)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None


def _placed(node, code, delta: int) -> types.CodeType | None:
    """The statement's code (compiled at its lines in its cell) with its lines moved by delta
    to where it sits in the kept source."""
    if code is None:
        return None
    if id(node) in _KNOWN_CODE:  # compiled at line 1: it only ever moves down
        return _moved(code, delta + _first_line(node) - 1)
    if delta >= 0:
        return _moved(code, delta)
    # a module's code always starts at line 1, so it cannot move up: compile it there again
    # (the tree is this submission's own: moved for that, and back)
    ast.increment_lineno(node, delta)
    try:
        return _compiled(node)
    finally:
        ast.increment_lineno(node, -delta)


def _code_of(node) -> types.CodeType | None:
    """The statement compiled alone: a remembered handout statement's code (compiled once,
    at line 1), or compiled now at its lines in its cell."""
    known = _KNOWN_CODE.get(id(node))
    return known[1] if known is not None else _compiled(node)


def _moved(code: types.CodeType, delta: int) -> types.CodeType:
    """The code object with every line number moved by delta (line tables are relative to
    co_firstlineno, in nested code objects too)."""
    consts = tuple(_moved(c, delta) if isinstance(c, types.CodeType) else c
                   for c in code.co_consts)
    return code.replace(co_firstlineno=code.co_firstlineno + delta, co_consts=consts)


def _names_used(compiled: list) -> set[str]:
    """Every name the kept statements may read (a superset: attribute names come along).

    Reading the names of their code objects is several times faster than walking the syntax
    trees in Python; a tree walk remains for a statement that does not compile alone.
    """
    used, stack = set(), []
    for node, code in compiled:  # (statement, its code object or None)
        if code is not None:
            stack.append(code)
            continue
        for n in ast.walk(node):
            if isinstance(n, ast.Name):
                used.add(n.id)
            elif isinstance(n, (ast.Global, ast.Nonlocal)):
                used.update(n.names)
    while stack:
        c = stack.pop()
        used.update(c.co_names, c.co_freevars)
        stack += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return used


def _trim_import(s: _Stmt, needed: set[str]):
    """(node, text) of the import keeping only aliases bound to needed names, or (None, None)."""
    node = s.node
    keep = [a for a in node.names if a.name == "*" or (a.asname or a.name.split(".")[0]) in needed
            or (isinstance(node, ast.Import) and a.name == "numpy" and a.asname == "np")]
    if not keep:
        return None, None
    if len(keep) == len(node.names):
        return node, s.text()
    trimmed = type(node)(names=keep) if isinstance(node, ast.Import) else \
        ast.ImportFrom(module=node.module, names=keep, level=node.level)
    return trimmed, ([ast.unparse(trimmed)], [(s.cell, node.lineno)])


def _definition_order(defs: list[_Stmt]) -> list[_Stmt]:
    """Notebook order, except that a definition goes after those it needs while being defined
    (decorators, default values, base classes, class bodies), as after a student's re-runs."""
    needs = {id(s): _definition_time_names(s.node) for s in defs}
    order, remaining = [], list(defs)
    while remaining:
        pending = {n for s in remaining for n in s.names}
        ready = next((s for s in remaining if not (needs[id(s)] - set(s.names)) & pending), remaining[0])
        remaining.remove(ready)
        order.append(ready)
    return order


def _definition_time_names(node) -> set[str]:
    if isinstance(node, (ast.Assign, ast.AnnAssign)):
        node = node.value  # a lambda
    parts = list(getattr(node, "decorator_list", []))
    if isinstance(node, ast.ClassDef):
        parts += node.bases + [k.value for k in node.keywords] + node.body
    else:
        args = node.args
        parts += args.defaults + [d for d in args.kw_defaults if d is not None]
    names = set()
    stack = parts
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            names.add(n.id)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack += list(getattr(n, "decorator_list", [])) + n.args.defaults
            continue
        stack += list(ast.iter_child_nodes(n))
    return names


def _global_reads(texts: list) -> tuple[dict[str, set[str]], set[str]] | None:
    """({global name read: names of the functions/classes reading it}, names bound at top level)
    of the kept source, given as its statements (node, text); None when one does not compile.

    Each top-level statement is analysed alone (a remembered handout statement once for all
    submissions): a name read at top level is global only if no statement binds it there."""
    reads: dict[str, set[str]] = {}
    bound: set[str] = set()
    for node, text in texts:
        analysis = _KNOWN_READS.get(id(node))
        if analysis is None:
            analysis = _statement_reads(text)
            if id(node) in _KNOWN_CODE:
                _KNOWN_READS[id(node)] = analysis
        if analysis is None:
            return None
        for name, owners in analysis[0].items():
            reads.setdefault(name, set()).update(owners)
        bound |= analysis[1]
    for name in bound.intersection(reads):
        reads[name].discard(_TOP_LEVEL)
        if not reads[name]:
            del reads[name]
    return reads, bound


_TOP_LEVEL = "top-level code"


def _statement_reads(text: str):
    """({global name read: frozenset of readers}, frozenset of names bound at top level) of one
    top-level statement's text, or None when it does not compile."""
    try:
        top = symtable.symtable(text, SOURCE_NAME, "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    bound = frozenset(s.get_name() for s in top.get_symbols() if s.is_assigned() or s.is_imported())
    reads: dict[str, set[str]] = {}
    stack = [(top, _TOP_LEVEL)]
    while stack:
        table, owner = stack.pop()
        for sym in table.get_symbols():
            if sym.is_global() and sym.is_referenced():
                reads.setdefault(sym.get_name(), set()).add(owner)
        for child in table.get_children():
            comprehension = child.get_name() in ("listcomp", "setcomp", "dictcomp", "genexpr")
            stack.append((child, owner if comprehension else child.get_name()))
    return {name: frozenset(owners) for name, owners in reads.items()}, bound


def _globals_notes(texts, last, functions, dropped, star) -> list[str]:
    """Notes on globals the kept code reads: rebound later by dropped code, or never defined."""
    analysis = _global_reads(texts)
    if analysis is None:
        return ["the kept code does not compile as a whole"]
    reads, bound = analysis
    notes = []
    for name, (cell, line) in sorted(dropped.items()):
        if name in last and (name in functions or name in reads):  # after the last kept binding
            notes.append(f"cell {cell}, line {line}: {name} is reassigned by code that is not kept; "
                         f"the definition from cell {last[name].cell} is used")
    if star:
        return notes  # a star import may define anything
    for name in sorted(reads):
        if name in bound or hasattr(builtins, name) or _DUNDER.match(name):
            continue
        where = ""
        if name in dropped:
            where = "; it is assigned in cell {}, line {} by code that is not kept".format(*dropped[name])
        notes.append(f"{name} is read by {', '.join(sorted(reads[name]))} but defined nowhere "
                     f"in the kept code{where}")
    return notes


def strip_magics(src: str) -> tuple[str, int, str | None]:
    text, count, skip, _ = _strip_and_parse(src)
    return text, count, skip


def _strip_and_parse(src: str):
    """(text, lines stripped, reason to skip the whole cell or None) for IPython syntax.

    Line numbers are preserved: stripped lines become empty. A cell that parses as it is has no
    magics at statement level, so it is left alone (a "%" or "!" line may be inside a string).
    """
    lines = src.split("\n")
    count = 0
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is not None and lines[first].lstrip().startswith("%%"):
        name = re.match(r"%%(\S*)", lines[first].lstrip()).group(1)
        if name not in _KEPT_CELL_MAGICS:
            return "", 0, f"%%{name} cell magic (not Python)", None
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
