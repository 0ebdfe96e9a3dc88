"""The operators of the generated mistakes (grader.judge.mutants): for each node of a
reference function, the changes that model how backpropagation code goes wrong. They see
names, operators, shapes and calls, never an assignment.
"""
from __future__ import annotations

import ast
import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING

from grader.judge.statement_operators import StatementOperators

if TYPE_CHECKING:
    from grader.judge.mutants import Shapes

#: non-commutative binary operators whose operands a student may exchange
_ORDERED = {ast.Sub: "−", ast.Div: "/", ast.MatMult: "@"}
_ACTIVATIONS = {"tanh": "sigmoid", "sigmoid": "tanh"}
_REDUCTIONS = {"sum": "mean", "mean": "sum"}


class Operators(StatementOperators):
    """The candidate changes of each node of one function: (operator, replacement, what), a
    replacement being a node, or (first, second, [new first, new second]) for two statements
    changed together."""

    def __init__(self, function: str, shapes: Shapes, loop_vars: set, slices: list):
        self.function, self.shapes, self.loop_vars, self.slices = \
            function, shapes, loop_vars, slices
        self.locals = sorted(shapes.of.get(function, {}))
        #: the sizes a student may divide by: the function's integer locals (N, T, n_samples)
        self.dims = [name for name, kinds in sorted(shapes.of.get(function, {}).items())
                     if kinds == frozenset({"int"})]
        #: len(a) of each array argument: the batch size where no local holds it
        self.lengths = [f"len({name})" for name, kinds in sorted(shapes.of.get(function, {}).items())
                        if name in shapes.arguments.get(function, ()) and kinds
                        and all(isinstance(k, tuple) and len(k) >= 1 for k in kinds)]

    def candidates(self, node) -> Iterator[tuple[str, ast.AST | None, str]]:
        kind = type(node).__name__
        yield from getattr(self, f"_{kind}", lambda n: ())(node)

    # ---- names: a variable for another of the same shape
    def _Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            return
        yield from self._negated_everywhere(node)
        for other in self.locals:
            if other != node.id and self.shapes.same_kind(self.function, node.id, other):
                yield "substitute", ast.Name(other, ast.Load()), f"uses {other} where {node.id} belongs"

    # ---- binary operators: exchanged operands, a dropped term or factor, a transpose
    def _BinOp(self, node):
        yield from self._derivative(node)
        yield from self._derivative_form(node)
        yield from self._count_shift(node)
        for side in ("left", "right"):  # g * (x > 0), a gate's 0/1 mask, made g * x * (x > 0)
            mask = getattr(node, side)
            if isinstance(node.op, ast.Mult) and isinstance(mask, ast.Compare) \
                    and len(mask.ops) == 1:
                changed = copy.deepcopy(node)
                setattr(changed, side, ast.BinOp(copy.deepcopy(mask.left), ast.Mult(),
                                                 copy.deepcopy(mask)))
                yield "mask-value", changed, \
                    f"the masked value {ast.unparse(mask.left)} where the mask {ast.unparse(mask)} belongs"
        symbol = _ORDERED.get(type(node.op))
        if symbol is not None and ast.dump(node.left) != ast.dump(node.right):
            swapped = ast.BinOp(copy.deepcopy(node.right), node.op, copy.deepcopy(node.left))
            yield "swap-operands", swapped, f"the operands of {symbol} exchanged"
        if isinstance(node.op, (ast.Add, ast.Sub)):
            yield "drop-term", copy.deepcopy(node.left), f"leaves out the term {ast.unparse(node.right)}"
            if isinstance(node.op, ast.Add):
                yield "drop-term", copy.deepcopy(node.right), f"leaves out the term {ast.unparse(node.left)}"
            yield "flip-operator", ast.BinOp(copy.deepcopy(node.left),
                                             ast.Sub() if isinstance(node.op, ast.Add) else ast.Add(),
                                             copy.deepcopy(node.right)), "+ and − exchanged"
        elif isinstance(node.op, ast.Mult):
            yield "drop-factor", copy.deepcopy(node.left), f"leaves out the factor {ast.unparse(node.right)}"
            yield "drop-factor", copy.deepcopy(node.right), f"leaves out the factor {ast.unparse(node.left)}"
            first = node.left
            while isinstance(first, ast.BinOp) and isinstance(first.op, ast.Mult):
                first = first.left
            if first is not node.left:  # g * f * (1 - f): the whole local derivative left out
                yield "drop-factor", copy.deepcopy(first), f"only {ast.unparse(first)}: the local derivative left out"
        elif isinstance(node.op, ast.Div):
            yield "drop-divisor", copy.deepcopy(node.left), f"does not divide by {ast.unparse(node.right)}"
            twice = ast.BinOp(copy.deepcopy(node.left), ast.Div(),
                              ast.BinOp(copy.deepcopy(node.right), ast.Mult(), copy.deepcopy(node.right)))
            yield "extra-divisor", twice, f"divides by {ast.unparse(node.right)} twice"
            for dim in self.dims:
                if dim != ast.unparse(node.right):
                    more = ast.BinOp(copy.deepcopy(node.left), ast.Div(), ast.BinOp(
                        copy.deepcopy(node.right), ast.Mult(), ast.parse(dim, mode="eval").body))
                    yield "extra-divisor", more, f"divides by {dim} as well"
                    other = ast.BinOp(copy.deepcopy(node.left), ast.Div(), ast.parse(dim, mode="eval").body)
                    yield "divisor", other, f"divides by {dim} instead of {ast.unparse(node.right)}"
        elif isinstance(node.op, ast.MatMult):
            yield "drop-factor", copy.deepcopy(node.right), f"leaves out the product with {ast.unparse(node.left)}"
            yield "drop-factor", copy.deepcopy(node.left), f"leaves out the product with {ast.unparse(node.right)}"
            for side in ("left", "right"):
                changed = copy.deepcopy(node)
                operand = getattr(changed, side)
                if isinstance(operand, ast.Attribute) and operand.attr == "T":
                    setattr(changed, side, operand.value)
                    yield "transpose", changed, f"without the transpose of {ast.unparse(operand.value)}"
                else:
                    setattr(changed, side, ast.Attribute(operand, "T", ast.Load()))
                    yield "transpose", changed, f"with {ast.unparse(operand)} transposed"
        elif isinstance(node.op, ast.Pow) and isinstance(node.right, ast.Constant):
            yield "drop-power", copy.deepcopy(node.left), f"{ast.unparse(node.left)} not raised to {node.right.value}"

    def _derivative(self, node):
        """σ' or tanh' of the wrong quantity: 1 − tanh(s)² where s already is a tanh,
        σ(s)(1 − σ(s)) where s already is a σ (the derivative taken of the pre-activation's
        formula on the activation, or the reverse)."""
        right = node.right
        if isinstance(node.op, ast.Sub) and isinstance(node.left, ast.Constant) \
                and node.left.value == 1 and isinstance(right, ast.BinOp) \
                and isinstance(right.op, ast.Pow):
            again = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "tanh", ast.Load()),
                             [copy.deepcopy(right.left)], [])
            yield "derivative", ast.BinOp(copy.deepcopy(node.left), ast.Sub(),
                                          ast.BinOp(again, ast.Pow(), copy.deepcopy(right.right))), \
                f"tanh' of tanh({ast.unparse(right.left)}) where {ast.unparse(right.left)} is the tanh already", \
                "tanh' of tanh again"
            before = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), "arctanh", ast.Load()),
                              [copy.deepcopy(right.left)], [])
            yield "derivative", ast.BinOp(copy.deepcopy(node.left), ast.Sub(),
                                          ast.BinOp(before, ast.Pow(), copy.deepcopy(right.right))), \
                f"tanh' written with the pre-activation (1 − a²) where the tanh {ast.unparse(right.left)} belongs", \
                "tanh' of the pre-activation"
        if isinstance(node.op, ast.Mult) and isinstance(right, ast.BinOp) \
                and isinstance(right.op, ast.Sub) and isinstance(right.left, ast.Constant) \
                and right.left.value == 1:
            x = right.right
            left = node.left
            outer = None  # g * x * (1 − x): the upstream factor in front
            if isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
                    and ast.dump(left.right) == ast.dump(x):
                outer = left.left
            elif ast.dump(left) != ast.dump(x):
                return
            again = ast.Call(ast.Name("sigmoid", ast.Load()), [copy.deepcopy(x)], [])
            yield "derivative", _sigma_prime(outer, again), \
                f"σ' of σ({ast.unparse(x)}) where {ast.unparse(x)} is the σ already", "σ' of σ again"
            pre = ast.parse(f"np.log(({ast.unparse(x)}) / (1 - ({ast.unparse(x)})))", mode="eval").body
            yield "derivative", _sigma_prime(outer, pre), \
                f"σ' written with the pre-activation where the σ {ast.unparse(x)} belongs", \
                "σ' of the pre-activation"

    def _IfExp(self, node):
        test = ast.unparse(node.test)
        yield "condition", copy.deepcopy(node.body), f"always {ast.unparse(node.body)}, whatever {test}", \
            f"pair:{test} taken as true"
        yield "condition", copy.deepcopy(node.orelse), f"always {ast.unparse(node.orelse)}, whatever {test}", \
            f"pair:{test} taken as false"
        yield from self._in_place_choice(node)

    def _UnaryOp(self, node):
        if isinstance(node.op, ast.USub):
            yield "sign", copy.deepcopy(node.operand), "the sign flipped"

    def _Constant(self, node):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return
        changes = {2: (1,), 1: (2, 0)} if isinstance(value, int) else \
            {0.5: (1.0,), 1.0: (2.0, 0.0), 2.0: (1.0,)}
        for other in changes.get(value, ()):
            yield "constant", ast.Constant(other), f"{other} where {value} belongs"

    # ---- calls: activation, reduction, axis, loop bounds
    def _Call(self, node):
        name = node.func.attr if isinstance(node.func, ast.Attribute) else \
            node.func.id if isinstance(node.func, ast.Name) else None
        if name in _ACTIVATIONS and len(node.args) == 1:
            yield "activation", copy.deepcopy(node.args[0]), f"without the {name}"
        if name in _ACTIVATIONS:
            other = _ACTIVATIONS[name]
            changed = copy.deepcopy(node)
            changed.func = ast.Attribute(ast.Name("np", ast.Load()), "tanh", ast.Load()) \
                if other == "tanh" else ast.Name("sigmoid", ast.Load())
            yield "activation", changed, f"{other} where {name} belongs"
        if name in _REDUCTIONS:
            changed = copy.deepcopy(node)
            if isinstance(changed.func, ast.Attribute):
                changed.func.attr = _REDUCTIONS[name]
                yield "reduction", changed, f"{_REDUCTIONS[name]} where {name} belongs"
        for i, keyword in enumerate(node.keywords):
            if keyword.arg == "axis" and isinstance(keyword.value, ast.Constant) \
                    and isinstance(keyword.value.value, int):
                for axis in (0, 1, 2):
                    if axis != keyword.value.value:
                        changed = copy.deepcopy(node)
                        changed.keywords[i].value = ast.Constant(axis)
                        yield "axis", changed, f"along axis {axis} instead of {keyword.value.value}"
        if name == "range":
            yield from self._range(node)
        yield from self._helper_call(node)
        yield from self._branches(node)
        yield from self._list_swap(node)
        yield from self._copy_dropped(node)
        yield from self._textbook(node, name)

    def _range(self, node):
        args = node.args
        for i, arg in enumerate(args[:2]):
            for delta in (1, -1):
                changed = copy.deepcopy(node)
                changed.args[i] = _plus(arg, delta)
                yield "loop-bound", changed, "a loop bound off by one"
        if len(args) == 3 and isinstance(args[2], ast.UnaryOp):  # range(a, b, -1): a backward loop
            clamped = copy.deepcopy(node)
            clamped.args[1] = ast.parse(f"max({ast.unparse(args[1])}, 0)", mode="eval").body
            yield "loop-bound", clamped, "the loop back stops before index 0 (for fear of index −1)"
            forward = ast.Call(ast.Name("range", ast.Load()),
                               [_plus(copy.deepcopy(args[1]), 1), _plus(copy.deepcopy(args[0]), 1)], [])
            yield "loop-order", forward, "the loop runs forward where it should run backward"

    def _Attribute(self, node):
        if node.attr == "float64" and isinstance(node.ctx, ast.Load):
            yield "float32", ast.Attribute(copy.deepcopy(node.value), "float32", ast.Load()), \
                "float32 where float64 belongs"
        if node.attr == "T" and isinstance(node.ctx, ast.Load):
            yield "transpose", copy.deepcopy(node.value), f"without the transpose of {ast.unparse(node.value)}"

    # ---- indices: a step off by one, another column block
    def _Subscript(self, node):
        yield from self._other_end(node)
        yield from self._whole(node)
        index = node.slice
        items = list(index.elts) if isinstance(index, ast.Tuple) else [index]
        for i, item in enumerate(items):
            if _steps_with(item, self.loop_vars):
                for delta in (1, -1):
                    shifted = _plus(item, delta)
                    yield "index-shift", _with_item(node, i, shifted), \
                        f"step {ast.unparse(shifted)} where step {ast.unparse(item)} belongs"
            if isinstance(item, ast.Call) and isinstance(item.func, ast.Attribute) \
                    and item.func.attr == "arange" and isinstance(index, ast.Tuple):
                # p[np.arange(N), y], one entry per row, read as p[:, y]: whole columns
                yield "every-row", _with_item(node, i, ast.Slice()), \
                    f"every row where one entry per row ({ast.unparse(item)}) belongs"
            if isinstance(item, ast.Slice):
                yield from self._block_swap(node, i, item)
                for other in self.slices:
                    if other != ast.unparse(item):
                        new = ast.parse(f"x[{other}]", mode="eval").body.slice
                        yield "block", _with_item(node, i, new), f"the block [{other}] where [{ast.unparse(item)}] belongs"


def _sigma_prime(outer: ast.expr | None, s: ast.expr) -> ast.expr:
    """[outer ·] s · (1 − s): σ's derivative written with s, times the upstream factor."""
    local = ast.BinOp(ast.Constant(1), ast.Sub(), copy.deepcopy(s))
    if outer is None:
        return ast.BinOp(copy.deepcopy(s), ast.Mult(), local)
    return ast.BinOp(ast.BinOp(copy.deepcopy(outer), ast.Mult(), copy.deepcopy(s)), ast.Mult(), local)


def _steps_with(item, loop_vars: set) -> bool:
    """Whether an index is a loop variable, or one plus or minus a constant (t, k − 1)."""
    if isinstance(item, ast.Name):
        return item.id in loop_vars
    return isinstance(item, ast.BinOp) and isinstance(item.op, (ast.Add, ast.Sub)) \
        and isinstance(item.left, ast.Name) and item.left.id in loop_vars \
        and isinstance(item.right, ast.Constant) and isinstance(item.right.value, int)


def _plus(node: ast.expr, delta: int) -> ast.expr:
    """node + delta, folded when node is a constant or already ends in ± a constant."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return ast.Constant(node.value + delta)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)) \
            and isinstance(node.right, ast.Constant) and isinstance(node.right.value, int):
        offset = (node.right.value if isinstance(node.op, ast.Add) else -node.right.value) + delta
        if offset == 0:
            return copy.deepcopy(node.left)
        return ast.BinOp(copy.deepcopy(node.left), ast.Add() if offset > 0 else ast.Sub(),
                         ast.Constant(abs(offset)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) \
            and isinstance(node.operand, ast.Constant):
        return ast.Constant(-node.operand.value + delta)
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(copy.deepcopy(node), op, ast.Constant(abs(delta)))


def _with_item(node: ast.Subscript, i: int, item: ast.expr) -> ast.Subscript:
    changed = copy.deepcopy(node)
    if isinstance(changed.slice, ast.Tuple):
        changed.slice.elts[i] = item
    else:
        changed.slice = item
    return changed
