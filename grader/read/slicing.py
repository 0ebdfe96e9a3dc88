"""The slice of a notebook the graded functions need: what "Restart & Run All" would bind.

Starting from the graded functions, as bound at the end of the notebook, keep every top-level
statement that binds a name the kept code reads, transitively: a name read while a statement
runs is looked up before that statement, a name read inside a function when that function may
be called (at the end of the notebook, or while a statement that reads the function runs, as
`W = init_weights()` or a decorator does). Looking back from a point, every statement that may
bind the name is kept, up to the first that surely binds it.

One leniency: a definition or an import read before it appears (a decorator defined in a
later cell, as after running cells out of order) is moved up with a note, since Jupyter would
stop there although the student's kernel had it.
"""
from __future__ import annotations

import builtins
import re
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from grader.read.statements import WILDCARD, Effects, Reads

#: a position after every statement: the end of the notebook, when the graded calls are made
END = -1
_DUNDER = re.compile(r"^__\w+__$")


@dataclass
class Slice:
    """Which statements to keep and in what order, with what the notes need to know."""
    order: list[int]
    #: per kept statement, the names it was kept for
    kept_for: dict[int, set[str]]
    #: (name, reader) for names read but bound nowhere; reader is a statement index
    unbound: list[tuple[str, int]] = field(default_factory=list)
    #: (name, reader, binder, moved): read before the statement that binds it
    early: list[tuple[str, int, int, bool]] = field(default_factory=list)
    #: roots bound nowhere
    missing: list[str] = field(default_factory=list)


def slice_statements(effects: Sequence[Effects], reads: Callable[[int], Reads | None],
                     roots: Sequence[str], text_of: Callable[[int], str]) -> Slice:
    """The slice of the statements (their `effects`, their `reads` on demand: only kept ones
    are asked) that binds `roots` at the end. `text_of(i)` is statement i's text, searched for
    the names of functions that assign globals."""
    n = len(effects)
    modules = {name for e in effects if e.imports for name in e.binds}
    binders: dict[str, list[int]] = {}
    wildcards = [i for i, e in enumerate(effects) if WILDCARD in e.binds]
    for i, e in enumerate(effects):
        for name in e.binds | (e.changes - modules):
            if name != WILDCARD:
                binders.setdefault(name, []).append(i)
    _add_global_writers(effects, reads, text_of, binders)
    state = _State(effects, reads, binders, wildcards, n)
    for root in roots:
        if not binders.get(root):
            state.result.missing.append(root)
        state.need(root, END, frozenset([END]), None)
    try:
        state.run(budget=_BUDGET_PER_STATEMENT * n + 2000)
    except _TooIntricate:
        return _coarse_slice(effects, reads, binders, wildcards, roots, state.result.missing)
    return state.finish()


#: look-ups a slice may take per statement before it is worked out the coarse way: ordinary
#: notebooks take a few; chains of calls at top level through hundreds of statements could
#: take the square of their number
_BUDGET_PER_STATEMENT = 40


class _TooIntricate(Exception):
    pass


def _coarse_slice(effects, reads, binders, wildcards, roots, missing) -> Slice:
    """A slice that keeps every binding of every name the kept code may read, wherever it is:
    more than needed, in time linear in the notebook, for notebooks too intricate to follow
    point by point."""
    kept: dict[int, set[str]] = {}
    todo, seen = list(roots), set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for i in binders.get(name, []) + wildcards:
            first = i not in kept
            kept.setdefault(i, set()).add(name)
            found = reads(i) if first else None
            if found is not None:
                todo += found.now | found.later
    return Slice(sorted(kept), kept, missing=missing)


def _add_global_writers(effects, reads, text_of, binders) -> None:
    """A function that assigns a global (`global W` in its body) binds it where it is called:
    `init_params()` at top level binds W. Only statements that name such a function are
    analysed for the call."""
    writers: dict[str, frozenset] = {}
    for i, e in enumerate(effects):
        if e.defines and "global" in text_of(i):
            found = reads(i)
            for function, names in (found.writes.items() if found else ()):
                if function in e.defines:
                    writers[function] = writers.get(function, frozenset()) | names
    for function, names in writers.items():
        word = re.compile(rf"\b{re.escape(function)}\b")
        for i in range(len(effects)):
            if function in effects[i].defines or not word.search(text_of(i)):
                continue
            found = reads(i)
            if found is not None and function in found.now:
                for name in names:
                    where = binders.setdefault(name, [])
                    if i not in where:
                        where.append(i)
                        where.sort()


class _State:
    """The work list of the slice: `need` a name at a point, `use` a statement for names that
    may be called at some points."""

    def __init__(self, effects, reads, binders, wildcards, n):
        self.effects, self.reads, self.binders, self.wildcards, self.n = \
            effects, reads, binders, wildcards, n
        self.calls: dict[int, set[int]] = {}  # kept statement -> points its functions may be called
        self.result = Slice([], {})
        self.work: list = []
        self.moves: list[tuple[int, int]] = []  # (binder, reader): binder runs before reader
        self.seen_needs: set = set()

    def need(self, name: str, at: int, calls: frozenset, reader: int | None) -> None:
        self.work.append((name, at, calls, reader))

    def run(self, budget: int) -> None:
        while self.work:
            budget -= 1
            if budget < 0:
                raise _TooIntricate
            self._resolve(*self.work.pop())

    def _resolve(self, name, at, calls, reader) -> None:
        key = (name, at, calls)
        if key in self.seen_needs:
            return
        self.seen_needs.add(key)
        limit = self.n if at == END else at
        candidates = self.binders.get(name, [])
        before = candidates[:bisect_left(candidates, limit)]
        stars = [i for i in self.wildcards if i < limit]
        found = False
        for i in sorted(set(before) | set(stars), reverse=True):
            self._use(i, name, calls)
            found = True
            if name in self.effects[i].kills:
                return
        if found or reader is None:
            return
        later = [i for i in candidates if i >= limit]
        if later:
            binder = later[-1]
            movable = self.effects[binder].movable
            self.result.early.append((name, reader, binder, movable))
            if movable:
                self.moves.append((binder, reader))
                self._use(binder, name, calls)
        elif not (hasattr(builtins, name) or _DUNDER.match(name)):
            self.result.unbound.append((name, reader))

    def _use(self, i: int, name: str, calls: frozenset) -> None:
        """Keep statement i (for `name`); what its functions read is needed wherever they may
        be called: where it runs, and wherever what it binds may call them."""
        self.result.kept_for.setdefault(i, set()).add(name)
        known = self.calls.get(i)
        new = calls - known if known is not None else calls
        if known is not None and not new:
            return
        self.calls[i] = (known or set()) | new
        found = self.reads(i)
        if found is None:
            return
        # what it reads while it runs is looked up before it, and may be called there (on its
        # first use) and wherever what it binds may be called
        points = frozenset(new) | ({i} if known is None else set())
        for read in found.now:
            self.need(read, i, points, i)
        for point in new:
            for read in found.later:
                self.need(read, point, frozenset([point]), i)

    def finish(self) -> Slice:
        order = sorted(self.result.kept_for)
        for binder, reader in self.moves:
            if order.index(binder) > order.index(reader):
                order.remove(binder)
                order.insert(order.index(reader), binder)
        self.result.order = order
        return self.result
