"""The operators of generated mistakes on indices, slices and blocks (a base of
grader.judge.operators): an index from the other end, a count one off, two blocks of a fused
matrix exchanged (in one function, and alike in a forward and its backward: "pair:" slips).
"""
from __future__ import annotations

import ast
import copy
import operator
from itertools import combinations

#: numpy's functions that join arrays in the order they are listed
_JOINS = {"concatenate", "hstack", "vstack", "stack", "column_stack"}
#: the operators a size expression may use (2 * H, 4 * H // 4, H + 1)
_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.FloorDiv: operator.floordiv}


class BlockOperators:
    """Candidates on indices and blocks; `blocks` ({slice text: (rank, count)}) comes from
    `partitions` of the function."""

    blocks: dict = {}

    def _other_end(self, node):
        """An index or slice taken from the other end (w[0] for w[-1], w[1:] for w[:-1]);
        made at every such place of the function at once as well."""
        index = node.slice
        flipped = None
        if _is_int(index, -1):
            flipped = ast.Constant(0)
        elif _is_int(index, 0):
            flipped = ast.UnaryOp(ast.USub(), ast.Constant(1))
        elif isinstance(index, ast.Slice) and index.step is None:
            if index.lower is None and _is_int(index.upper, -1):
                flipped = ast.Slice(ast.Constant(1), None, None)
            elif _is_int(index.lower, 1) and index.upper is None:
                flipped = ast.Slice(None, ast.UnaryOp(ast.USub(), ast.Constant(1)), None)
        if flipped is not None:
            changed = copy.deepcopy(node)
            changed.slice = flipped
            yield "other-end", changed, \
                f"{ast.unparse(changed)} where {ast.unparse(node)} belongs (the other end)", "other-end"

    def _whole(self, node):
        """Every entry where one per row belongs: p[np.arange(N), y] read as p itself (a loss
        summed over every class)."""
        index = node.slice
        if isinstance(node.ctx, ast.Load) and isinstance(index, ast.Tuple) and any(
                isinstance(item, ast.Call) and isinstance(item.func, ast.Attribute)
                and item.func.attr == "arange" for item in index.elts):
            yield "every-row", copy.deepcopy(node.value), \
                f"all of {ast.unparse(node.value)} where {ast.unparse(node)} belongs"

    def _copy_dropped(self, node):
        """An array's copy left out (dy = dxpy for dxpy.copy()): the two names are then one
        array, and updating one updates the other."""
        if isinstance(node.func, ast.Attribute) and node.func.attr == "copy" and not node.args:
            yield "in-place", copy.deepcopy(node.func.value), \
                f"{ast.unparse(node.func.value)} without .copy(): one array under two names"

    def _block_swap(self, node, i: int, item: ast.Slice):
        """Two blocks of a partitioned axis exchanged (a fused matrix's gates in another
        order): this slice replaced by another of its partition, made together with the
        reverse replacement, and with the same exchange in another function (pair:)."""
        mine = self.blocks.get(ast.unparse(item))
        if mine is None:
            return
        for text, (rank, count) in self.blocks.items():
            if count == mine[1] and rank != mine[0]:
                changed = copy.deepcopy(node)
                new = ast.parse(f"x[{text}]", mode="eval").body.slice
                if isinstance(changed.slice, ast.Tuple):
                    changed.slice.elts[i] = new
                else:
                    changed.slice = new
                low, high = sorted((rank, mine[0]))
                yield "block-swap", changed, f"blocks {low} and {high} of {count} exchanged", \
                    f"pair:blocks {low} and {high} of {count} exchanged"

    def _list_swap(self, node):
        """Two of the arrays np.concatenate joins given in the other order ([h, x] for
        [x, h]; the gate blocks of a backward in another order)."""
        if not (isinstance(node.func, ast.Attribute) and node.func.attr in _JOINS and node.args
                and isinstance(node.args[0], ast.List) and 2 <= len(node.args[0].elts) <= 6):
            return
        count = len(node.args[0].elts)
        for low, high in combinations(range(count), 2):
            changed = copy.deepcopy(node)
            items = changed.args[0].elts
            items[low], items[high] = items[high], items[low]
            yield "block-swap", changed, f"blocks {low} and {high} of {count} exchanged", \
                f"pair:blocks {low} and {high} of {count} exchanged"

    def _count_shift(self, node):
        """A count or bound computed one off (t − truncate for t − truncate − 1): a sum or
        difference of integer locals, shifted by one."""
        if not isinstance(node.op, (ast.Add, ast.Sub)):
            return
        ints = [self._int(side) for side in (node.left, node.right)]
        if all(ints) and any(isinstance(side, ast.Name) for side in (node.left, node.right)):
            for delta in (1, -1):
                shifted = ast.BinOp(copy.deepcopy(node), ast.Add() if delta > 0 else ast.Sub(), ast.Constant(1))
                yield "count-shift", shifted, f"{ast.unparse(shifted)} where {ast.unparse(node)} belongs"

    def _int(self, node) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, int) and not isinstance(node.value, bool)
        kinds = self.shapes.of.get(self.function, {}).get(node.id, frozenset()) \
            if isinstance(node, ast.Name) else frozenset()
        return "int" in kinds and kinds <= {"int", None}  # a count, or None for "no limit"


def partitions(function: ast.FunctionDef) -> dict:
    """{slice text: (rank, count)} for the slices of a function that cut one axis into
    adjacent blocks (:H, H:2 * H, 2 * H:3 * H, 3 * H:), their bounds read with every size 1."""
    bounds = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Slice) and node.step is None:
            names = {n.id for part in (node.lower, node.upper) if part is not None
                     for n in ast.walk(part) if isinstance(n, ast.Name)}
            if names:
                try:
                    low = 0 if node.lower is None else _at_one(node.lower)
                    high = float("inf") if node.upper is None else _at_one(node.upper)
                except (ValueError, ZeroDivisionError):
                    continue
                bounds[ast.unparse(node)] = (low, high, frozenset(names))
    found = {}
    for names in {b[2] for b in bounds.values()}:
        family = sorted((low, high, text) for text, (low, high, n) in bounds.items() if n == names)
        starts_at_zero = family and family[0][0] == 0
        adjacent = all(a[1] == b[0] for a, b in zip(family, family[1:]))
        if starts_at_zero and adjacent and len(family) >= 2:
            found.update({text: (rank, len(family)) for rank, (_, _, text) in enumerate(family)})
    return found


def _at_one(node: ast.expr) -> float:
    """An integer expression of sizes, every size taken as 1 (2 * H -> 2)."""
    if isinstance(node, ast.Name):
        return 1
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_at_one(node.operand)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_at_one(node.left), _at_one(node.right))
    raise ValueError(ast.unparse(node))


def _is_int(node, value: int) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return _is_int(node.operand, -value)
    return isinstance(node, ast.Constant) and type(node.value) is int and node.value == value
