"""What one top-level statement does to a notebook's global names, found without running it.

Binding is read from the syntax tree: the names a statement surely binds (an assignment to a
name, a definition, an import: earlier bindings no longer matter after it), the names it may
bind or change (inside an `if`, `try`, `for` or `with` block; an item or attribute assigned;
a method called on an object, as `TIMINGS[k].append(t)` or `cache.update(d)` do). Reading
comes from the compiler's own scope analysis (symtable), split by when it happens: while the
statement runs (its top level, class bodies, decorators, default values, annotations unless
postponed) or later, when a function it defines is called.
"""
from __future__ import annotations

import ast
import symtable
from dataclasses import dataclass, field

#: the name a star import binds: it may bind any name
WILDCARD = "*"
_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BLOCKS = ("body", "orelse", "finalbody", "handlers", "cases")
_FUTURE_ANNOTATIONS = "from __future__ import annotations\n"
_COMPREHENSIONS = ("listcomp", "setcomp", "dictcomp", "genexpr")


@dataclass(frozen=True)
class Effects:
    """How a statement binds names. `binds` holds every name it may bind (`kills` among them:
    those it surely binds), `changes` the names of objects it may change without rebinding
    them, `defines` the names of the functions and classes it defines."""
    binds: frozenset
    kills: frozenset = frozenset()
    changes: frozenset = frozenset()
    defines: frozenset = frozenset()
    #: a definition or an import, which does nothing when it runs but bind its names, so it may
    #: run earlier than its place in the notebook
    movable: bool = False
    future: bool = False  # `from __future__ import ...`
    imports: bool = False  # binds modules (or names from them): calling them changes no global


@dataclass(frozen=True)
class Reads:
    """The global names a statement reads: `now`, while it runs; `later`, when a function or
    method it defines is called; `writes`, per function it defines, the globals that function
    assigns (a `global` statement)."""
    now: frozenset
    later: frozenset
    writes: dict = field(default_factory=dict)


@dataclass
class Statement:
    """A top-level statement of a code cell, in notebook order."""
    cell: int
    node: ast.stmt
    lines: list[str]  # the whole cell, split on "\n"
    effects: Effects

    def text(self) -> tuple[list[str], list[tuple[int, int]]]:
        """The student's own text of the statement (from its first decorator) and the (cell,
        line) each of its lines comes from."""
        node = self.node
        first = first_line(node)
        col = 0 if first < node.lineno else node.col_offset
        chunk = self.lines[first - 1: node.end_lineno]
        chunk[-1] = _cut(chunk[-1], node.end_col_offset)
        chunk[0] = chunk[0][len(_cut(chunk[0], col)):] if col else chunk[0]
        return chunk, [(self.cell, first + i) for i in range(len(chunk))]

    def first_read(self, name: str) -> int:
        """The line of the cell where the statement first reads `name` (its first line if the
        name does not show up as a plain name)."""
        lines = [n.lineno for n in ast.walk(self.node) if isinstance(n, ast.Name) and n.id == name]
        return min(lines) if lines else first_line(self.node)


def first_line(node) -> int:
    """The statement's first line in its cell: its first decorator's, if it has any."""
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _cut(line: str, byte_col: int) -> str:
    """line[:byte_col] with ast's UTF-8 byte column turned into characters."""
    return line.encode("utf-8")[:byte_col].decode("utf-8", "replace")


def effects(node: ast.stmt) -> Effects:
    """How the top-level statement `node` binds names."""
    if isinstance(node, _DEFS):
        names = frozenset([node.name])
        return Effects(names, names, defines=names, movable=True)
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        if isinstance(node, ast.ImportFrom) and node.module == "__future__" and not node.level:
            return Effects(frozenset(), future=True)
        names = frozenset(bound_name(a) for a in node.names)
        return Effects(names, names - {WILDCARD}, movable=True, imports=True)
    binds, kills, changes = set(), set(), set()
    if isinstance(node, (ast.Assign, ast.Delete)):
        for target in node.targets:
            _target(target, binds, kills, changes)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) \
                and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            return Effects(frozenset(binds), frozenset(kills), defines=frozenset(binds))
        if isinstance(node, ast.Assign) and not changes and _literal(node.value):
            return Effects(frozenset(binds), frozenset(kills), movable=True)
    elif isinstance(node, ast.AnnAssign):
        if node.value is not None:  # a bare annotation `x: int` binds nothing
            _target(node.target, binds, kills, changes)
    elif isinstance(node, ast.AugAssign):
        _target(node.target, binds, set(), changes)  # x += 1 reads x first: no earlier binding dies
    elif isinstance(node, ast.Expr):
        _changed_by_call(node.value, changes)
    else:
        defines = set()
        _block(node, binds, changes, defines)
        return Effects(frozenset(binds), changes=frozenset(changes), defines=frozenset(defines))
    return Effects(frozenset(binds), frozenset(kills), frozenset(changes))


def bound_name(alias: ast.alias) -> str:
    """The name an import binds: `np` for `numpy as np`, `os` for `os.path`, WILDCARD for *."""
    return WILDCARD if alias.name == "*" else alias.asname or alias.name.split(".")[0]


def _target(target, binds: set, kills: set, changes: set) -> None:
    """Names an assignment (or `del`) target binds, and the objects whose items or attributes
    it sets."""
    stack = [target]
    while stack:
        t = stack.pop()
        if isinstance(t, ast.Name):
            binds.add(t.id)
            kills.add(t.id)
        elif isinstance(t, (ast.Tuple, ast.List)):
            stack += t.elts
        elif isinstance(t, ast.Starred):
            stack.append(t.value)
        elif isinstance(t, (ast.Subscript, ast.Attribute)):
            base = _base_name(t)
            if base is not None:
                changes.add(base)


def _literal(value, depth: int = 0) -> bool:
    """A plain literal (`2`, `-1e-8`, `(4, 5)`, `"rnn"`): binding it to a name has no other
    effect, so it may run earlier than its place."""
    if isinstance(value, ast.Constant):
        return True
    if isinstance(value, ast.UnaryOp) and isinstance(value.op, (ast.USub, ast.UAdd)):
        return isinstance(value.operand, ast.Constant)
    return isinstance(value, (ast.Tuple, ast.List)) and depth < 20 and \
        all(_literal(v, depth + 1) for v in value.elts)


def _base_name(node) -> str | None:
    """`x` of x.a[k].b, or None."""
    while isinstance(node, (ast.Subscript, ast.Attribute, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _changed_by_call(value, changes: set) -> None:
    """`obj.method(...)` as a statement may change obj (`TIMINGS["f"].append(t)`)."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        base = _base_name(value.func.value)
        if base is not None:
            changes.add(base)


def _block(node, binds: set, changes: set, defines: set) -> None:
    """Names a compound statement (if, for, while, try, with, match) may bind, down through
    its blocks; none surely (a branch or a loop may not run)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, _DEFS):
            binds.add(n.name)
            defines.add(n.name)
            continue  # its insides are its own
        if isinstance(n, (ast.Import, ast.ImportFrom)):
            binds.update(bound_name(a) for a in n.names)
        elif isinstance(n, (ast.Assign, ast.Delete)):
            for target in n.targets:
                _target(target, binds, set(), changes)
        elif isinstance(n, (ast.AugAssign, ast.For, ast.AsyncFor)) or \
                (isinstance(n, ast.AnnAssign) and n.value is not None):
            _target(n.target, binds, set(), changes)
        elif isinstance(n, (ast.With, ast.AsyncWith)):
            for item in n.items:
                if item.optional_vars is not None:
                    _target(item.optional_vars, binds, set(), changes)
        elif isinstance(n, ast.ExceptHandler) and n.name:
            binds.add(n.name)
        elif isinstance(n, ast.Expr):
            _changed_by_call(n.value, changes)
        for block in _BLOCKS:
            stack += getattr(n, block, ())


def reads(text: str, postponed: bool = False) -> Reads | None:
    """The global names the statement `text` reads, or None when it does not compile alone.
    `postponed`: `from __future__ import annotations` holds, so annotations are never read."""
    source = _FUTURE_ANNOTATIONS + text if postponed else text
    try:
        top = symtable.symtable(source, "<statement>", "exec")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    now, later, writes = set(), set(), {}
    stack = [(top, True, None)]
    while stack:
        table, running, owner = stack.pop()
        for sym in table.get_symbols():
            # a name declared global counts as read: `global N; N += 1` reads N, and the
            # compiler's table does not mark an augmented assignment's name as referenced
            if (sym.is_referenced() and (sym.is_global() or table is top)) or \
                    (table is not top and sym.is_declared_global()):
                (now if running else later).add(sym.get_name())
            if owner is not None and sym.is_declared_global() and sym.is_assigned():
                writes.setdefault(owner, set()).add(sym.get_name())
        for child in table.get_children():
            kind = child.get_type()
            if child.get_name() in _COMPREHENSIONS:
                stack.append((child, running, owner))  # runs where it stands
            elif kind == "class":
                stack.append((child, running, owner))  # a class body runs when it is defined
            elif kind == "function":
                stack.append((child, False, owner if owner is not None else child.get_name()))
    if postponed:
        now.discard("annotations")
    return Reads(frozenset(now), frozenset(later), {k: frozenset(v) for k, v in writes.items()})
