"""First-order mutants of a reference: the mistakes backpropagation code is made of, generated
from the reference's own syntax tree instead of listed by hand.

Each operator models one way gradient code goes wrong: a variable used in place of another of
the same shape (c_prev for c, a gate's output for its pre-activation, S[:, k] for S[:, k−1]),
operands or targets exchanged (y − t for t − y, di for dg, X @ W for W @ X, returned values in
another order), a term or factor left out (an addend, `+=` made `=`, a local derivative, a
carry), a derivative or activation of the wrong kind (tanh for σ), a reduction changed (sum
for mean, another axis, 1/N missing or extra), a loop bound or index off by one or a loop run
the other way, a transpose missing or extra, a constant changed or a sign flipped. Operators
know nothing about any assignment: they see names, operators, shapes and calls.

The operators themselves are in grader.judge.operators. A mutant is a reference function with
one change, run in a copy of the reference module's
namespace; it is trusted code (the reference's, edited by the grader) and runs in the grading
process only (grader.judge.fingerprints).
"""
from __future__ import annotations

import ast
import contextlib
from dataclasses import dataclass, field

from grader.judge.operators import Operators

#: operators whose every site is the same slip, whatever the names (each `+=` made `=`)
_SAME_SLIP = {"overwrite", "float32", "drop-power"}
#: at most this many mutants per function (first order; generation order is deterministic)
MAX_PER_FUNCTION = 1500


@dataclass(eq=False)
class Mutant:
    """One change of one reference function (or the same change at several places). `what`
    says what changed, in the reference's own names (`uses c where c_prev belongs`); `before`
    and `after` are the changed expression or statement as source, for words in the handout's
    notation. The change is kept as a recipe on the reference's tree, made and undone on
    demand: generating a thousand mutants copies nothing."""
    id: str
    function: str
    operator: str
    line: int
    what: str
    before: str
    after: str
    _edit: "_Edit" = field(repr=False)
    _code: object = field(default=None, repr=False)
    #: the other functions changed with it (the same slip in a forward and its backward)
    also: tuple = ()

    @property
    def functions(self) -> tuple:
        return (self.function,) + self.also

    def code(self):
        """The mutated functions' definitions compiled as a module (run it in a copy of the
        reference module's namespace to get the mutant)."""
        if self._code is None:
            with self._edit.made() as functions:
                self._code = compile(ast.Module(functions, []), f"<mutant {self.id}>", "exec")
        return self._code

    def source(self) -> str:
        """The mutated functions' source."""
        with self._edit.made() as functions:
            return "\n\n".join(ast.unparse(function) for function in functions)


class _Edit:
    """Replacements of nodes of one function, made in place and undone."""

    def __init__(self, function: ast.FunctionDef, where: list, replacements: list):
        self.function, self.where, self.replacements = function, where, replacements

    @contextlib.contextmanager
    def made(self):
        """The change made (the function, in a list), undone on leaving."""
        undo = []
        try:
            for (parent, name, index), new in zip(self.where, self.replacements):
                if index is None:
                    undo.append((parent, name, index, getattr(parent, name)))
                    setattr(parent, name, new)
                else:
                    items = getattr(parent, name)
                    undo.append((parent, name, index, items[index]))
                    items[index] = new
            yield [self.function]
        finally:
            for parent, name, index, old in reversed(undo):
                if index is None:
                    setattr(parent, name, old)
                else:
                    getattr(parent, name)[index] = old


@dataclass(frozen=True)
class Shapes:
    """What a traced run of the reference saw: each local's shapes ("()" for a Python or
    numpy number, None for anything else) in each function."""
    of: dict  # function -> {local name: frozenset of shape tuples}
    arguments: dict = None  # function -> its parameters' names

    def __post_init__(self):
        if self.arguments is None:
            object.__setattr__(self, "arguments", {})

    def same_kind(self, function: str, a: str, b: str) -> bool:
        locals_ = self.of.get(function, {})
        if a not in locals_ or b not in locals_:
            return False
        # the same shapes on every traced case: two arrays whose sizes only coincide on a
        # small case (H = D = 3) are not a mistake a student makes
        return locals_[a] == locals_[b] and None not in locals_[a]


class _Both:
    """The edits of two functions, made together."""

    def __init__(self, first: _Edit, second: _Edit):
        self.first, self.second = first, second

    @contextlib.contextmanager
    def made(self):
        with self.first.made() as one, self.second.made() as other:
            yield one + other


def generate(source: str, functions: tuple[str, ...], shapes: Shapes) -> list[Mutant]:
    """The first-order mutants of `functions` in the reference module `source`, and the same
    slip made in two of them alike (the gate blocks of a fused matrix in another order in the
    forward and the backward; an option ignored in both)."""
    module = ast.parse(source)
    helpers = {node.name for node in module.body if isinstance(node, ast.FunctionDef)}
    helpers |= {alias.asname or alias.name for node in module.body
                if isinstance(node, ast.ImportFrom) for alias in node.names}  # a shared σ
    found: list[Mutant] = []
    shared: dict[str, list] = {}  # a slip two functions may share -> [(function, edit, batch)]
    for node in module.body:
        if isinstance(node, ast.FunctionDef) and node.name in functions:
            mutants, slips = _mutants_of(node, shapes, helpers)
            found += mutants[:MAX_PER_FUNCTION]
            for slip, made in slips.items():
                shared.setdefault(slip, []).append((node, *made))
    for slip, made in sorted(shared.items()):
        for (first, edit, batch), (second, other, _) in zip(made, made[1:]):
            node, _, replacement, _ = batch[0]
            found.append(Mutant(
                f"{second.name}+{first.name}:pair:{len(found)}", second.name, "pair",
                getattr(node, "lineno", second.lineno),
                f"{slip.removeprefix('pair:')}, in {first.name} and {second.name} alike",
                ast.unparse(node), ast.unparse(replacement), _Both(edit, other),
                also=(first.name,)))
    return found


def _mutants_of(function: ast.FunctionDef, shapes: Shapes, helpers=()) -> tuple[list, dict]:
    """Every single change, then each change made at every place it applies at once (the
    same slip made throughout: every `+=` made `=`, 1 − s² made 1 − s everywhere); and the
    edits of the slips another function may share ("pair:…" slips: {slip: (edit, batch)})."""
    nodes = list(ast.walk(function))
    places = _places(function)
    loop_vars = {n.target.id for n in nodes if isinstance(n, ast.For)
                 and isinstance(n.target, ast.Name)}
    site = Operators(function.name, shapes, loop_vars,
                 sorted({ast.unparse(n) for n in nodes if isinstance(n, ast.Slice)}))
    site.learn(function, helpers)
    changes, pairs, slips = [], [], []
    for node in nodes:
        for operator, replacement, what, *slip in site.candidates(node):
            if isinstance(replacement, tuple):  # two statements changed together
                first, second, (new_first, new_second) = replacement
                pairs.append([(first, operator, _located(new_first, first), what),
                              (second, operator, _located(new_second, second), what)])
            elif id(node) in places:
                changes.append((node, operator, _located(replacement, node), what))
                slips.append(slip[0] if slip else operator if operator in _SAME_SLIP else what)
    groups: dict[tuple, list] = {}
    for change, slip in zip(changes, slips):
        groups.setdefault((change[1], slip), []).append(change)
    alone = [change for change, slip in zip(changes, slips)
             if not str(slip).startswith("only-everywhere")]
    found, seen, shared = [], set(), {}
    for (_, slip), group in groups.items():
        if str(slip).startswith("pair:"):
            shared[slip] = (_Edit(function, [places[id(c[0])][:3] for c in group],
                                  [c[2] for c in group]), group)
    batches = [[change] for change in alone] + pairs + \
        [group for (_, slip), group in groups.items()
         if len({id(c[0]) for c in group}) > 1 or str(slip).startswith("only-everywhere")]
    for batch in batches:
        targets = {id(c[0]) for c in batch}
        if any(id(a) in targets for c in batch for a in places[id(c[0])][3]):
            continue  # one change inside another: not one slip
        edit = _Edit(function, [places[id(c[0])][:3] for c in batch], [c[2] for c in batch])
        with edit.made():  # what the changed statements read (a replaced one: its replacement)
            key = tuple((c[0].lineno, ast.dump(c[2])) if isinstance(c[0], ast.stmt)
                        else (places[id(c[0])][4].lineno, ast.dump(places[id(c[0])][4]))
                        for c in batch)
        if key in seen:  # two changes that read the same: one mutant
            continue
        seen.add(key)
        node, operator, replacement, what = batch[0]
        line = getattr(node, "lineno", function.lineno)
        if any(batch is pair for pair in pairs):
            pass  # a pair of statements, one slip
        elif len(batch) > 1:
            operator, what = f"{operator}-everywhere", _everywhere(batch)
        found.append(Mutant(f"{function.name}:{operator}:{line}:{len(found)}", function.name,
                            operator, line, what, ast.unparse(node), ast.unparse(replacement),
                            edit))
    return found, shared


def _everywhere(batch: list) -> str:
    """What a change made at several places at once did: the one slip, where it was made."""
    whats = list(dict.fromkeys(change[3] for change in batch))
    if len(whats) == 1:
        return f"{whats[0]}, at each of its {len(batch)} places"
    return "; ".join(whats)


def _places(function: ast.FunctionDef) -> dict:
    """For every node under the function (but its own): (parent, field, index in the field's
    list or None, its ancestors, the statement holding it)."""
    found = {}
    stack = [(function, (), function)]
    while stack:
        parent, ancestors, statement = stack.pop()
        for name, value in ast.iter_fields(parent):
            items = value if isinstance(value, list) else [value]
            for index, child in enumerate(items):
                if not isinstance(child, ast.AST):
                    continue
                holder = child if isinstance(child, ast.stmt) else statement
                above = ancestors + (parent,)
                found[id(child)] = (parent, name, index if isinstance(value, list) else None,
                                    above, holder)
                stack.append((child, above, holder))
    return found


def _located(new: ast.AST, old: ast.AST) -> ast.AST:
    """The replacement with the replaced node's position (statements need one to be written)."""
    return ast.fix_missing_locations(ast.copy_location(new, old))
