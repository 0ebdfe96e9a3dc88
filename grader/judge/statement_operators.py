"""The operators of generated mistakes that change a statement, what a function returns or how
it calls a helper (grader.judge.operators has those of single expressions; this is its base
class). Each candidate is (operator, replacement, what) or, when the same slip may be made at
several places at once, (operator, replacement, what, slip): changes sharing a slip are also
made together (every σ' taken of σ again, every accumulator kept in float32).
"""
from __future__ import annotations

import ast
import copy
from itertools import combinations

from grader.judge.block_operators import BlockOperators, partitions

#: numpy allocations a student fills in a loop: kept in float32 when given dtype=np.float32
_ALLOCATIONS = {"zeros", "zeros_like", "ones", "ones_like", "empty", "empty_like", "full"}
#: operators a student may apply in place (t = b; t *= a)
_IN_PLACE = {ast.Add: "+=", ast.Sub: "-=", ast.Mult: "*=", ast.Div: "/="}
#: the ufunc of an operator, for a result written into one operand (out=)
_UFUNCS = {ast.Add: "add", ast.Mult: "multiply"}
#: returned tuples longer than this get no mutants that divide two of their parts at once
_PAIRS_UP_TO = 4


class StatementOperators(BlockOperators):
    """Statement-level and call-level candidates; `learn` tells them the function's layout
    (which names accumulate, which statements update an earlier value, the module's helpers)."""

    accumulated: frozenset = frozenset()
    updates: frozenset = frozenset()
    helpers: frozenset = frozenset()
    #: reads of local arrays (not the base of an item assignment), for "negated everywhere"
    reads: frozenset = frozenset()

    def learn(self, function: ast.FunctionDef, helpers) -> None:
        """What the operators need to know of the whole function: names updated with `+=`
        (accumulators), the assignments that update a name assigned before (the carry of a
        loop), and the other functions of the module it may call."""
        assigned, updates, accumulated = set(), set(), set()
        for node in _in_order(function):
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                accumulated.add(node.target.id)
            target = _single_target(node)
            if target is not None:
                if target in assigned:
                    updates.add(id(node))
                assigned.add(target)
        self.accumulated, self.updates = frozenset(accumulated), frozenset(updates)
        self.helpers = frozenset(helpers) - {function.name}
        self.blocks = partitions(function)
        stored = {id(n.value) for n in ast.walk(function)
                  if isinstance(n, ast.Subscript) and not isinstance(n.ctx, ast.Load)}
        arguments = {a.arg for a in function.args.args}
        self.reads = frozenset(id(n) for n in ast.walk(function) if isinstance(n, ast.Name)
                               and isinstance(n.ctx, ast.Load) and id(n) not in stored
                               and n.id in assigned and n.id not in arguments)

    # ---- statements: accumulation, exchanged targets or results
    def _block(self, node):
        """Two consecutive assignments of same-shape names with their targets exchanged
        (di = dc ⊙ i; dg = dc ⊙ g: each computed into the other's name)."""
        for name in ("body", "orelse"):
            block = getattr(node, name, None)
            if not isinstance(block, list):
                continue
            for first, second in zip(block, block[1:]):
                a, b = _single_target(first), _single_target(second)
                if isinstance(first, (ast.Assign, ast.AugAssign)) and \
                        isinstance(second, (ast.Assign, ast.AugAssign)):
                    yield "order", (first, second, [copy.deepcopy(second), copy.deepcopy(first)]), \
                        "two consecutive steps done in the other order"
                if a and b and a != b and self.shapes.same_kind(self.function, a, b):
                    changed = [copy.deepcopy(first), copy.deepcopy(second)]
                    changed[0].targets, changed[1].targets = \
                        [ast.Name(b, ast.Store())], [ast.Name(a, ast.Store())]
                    yield "swap-targets", (first, second, changed), \
                        f"{a} and {b} computed into each other's names"

    _For = _FunctionDef = _While = _With = _block

    def _If(self, node):
        """A choice ignored: one branch always taken (with the same test taken so at every
        place at once: an option ignored throughout the function)."""
        yield from self._block(node)
        test = ast.unparse(node.test)
        for taken, branch in ((True, node.body), (False, node.orelse)):
            replacement = ast.If(ast.Constant(True), copy.deepcopy(branch) or [ast.Pass()], [])
            yield "condition", replacement, f"{test} always taken as {str(taken).lower()}", \
                f"pair:{test} taken as {str(taken).lower()}"

    def _AugAssign(self, node):
        if isinstance(node.op, ast.Add):
            target = ast.unparse(node.target)
            yield "overwrite", ast.Assign([copy.deepcopy(node.target)], copy.deepcopy(node.value)), \
                f"{target} overwritten instead of accumulated"
            yield "drop-accumulation", ast.Pass(), \
                f"leaves out the contribution {ast.unparse(node.value)} to {target}"

    def _Assign(self, node):
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Tuple):
            yield from self._swaps(node, node.targets[0], "swap-targets", "the values assigned to {} and {} exchanged")
        elif len(node.targets) == 1 and isinstance(node.value, (ast.Name, ast.BinOp, ast.Subscript)):
            changed = copy.deepcopy(node)
            changed.value = ast.UnaryOp(ast.USub(), changed.value)
            yield "sign", changed, f"{ast.unparse(node.targets[0])} assigned with its sign flipped"
        if id(node) in self.updates:  # dh_next = dxh[:, D:] computed, never carried
            name = node.targets[0].id
            yield "drop-update", ast.Pass(), f"{name} is never updated: {ast.unparse(node)} is left out"
        yield from self._float32_storage(node)
        yield from self._in_place(node)

    def _in_place(self, node):
        """t = a ⊙ b (+ c) computed in place in one of its operands' arrays: t = b; t *= a;
        t += c, which changes b itself (a cached array, or the caller's) when b is an array."""
        target = _single_target(node)
        spine, ops = [], []
        value = node.value
        while isinstance(value, ast.BinOp) and type(value.op) in _IN_PLACE:
            spine.append(value.right)
            ops.append(value.op)
            value = value.left
        if target is None or not ops:
            return
        spine, ops = [value] + spine[::-1], ops[::-1]
        bases = [0] + ([1] if isinstance(ops[0], (ast.Add, ast.Mult)) else [])
        for base in bases:
            first = spine[base]
            if not isinstance(first, (ast.Name, ast.Subscript)):
                continue
            rest = [spine[1 - base]] + spine[2:]
            body = [ast.Assign([ast.Name(target, ast.Store())], copy.deepcopy(first))]
            body += [ast.AugAssign(ast.Name(target, ast.Store()), type(op)(), copy.deepcopy(e))
                     for op, e in zip(ops, rest)]
            yield "in-place", ast.If(ast.Constant(True), body, []), \
                f"{target} computed in place in the array of {ast.unparse(first)}, which changes it"

    def _float32_storage(self, node):
        """Arrays allocated without a dtype (np.zeros(...)) kept in float32: each alone, and
        (one change per statement, so that they combine) every accumulator of the function at
        once and every allocation at once; dW, db = np.zeros(…), np.zeros(…) included."""
        if len(node.targets) != 1:
            return
        target, value = node.targets[0], node.value
        pairs = [(target, value, None)]
        if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) \
                and len(target.elts) == len(value.elts):
            pairs = [(t, v, i) for i, (t, v) in enumerate(zip(target.elts, value.elts))]
        made = [(name.id, i) for name, call, i in pairs
                if isinstance(name, ast.Name) and _allocation(call)]

        def stored(chosen):
            changed = copy.deepcopy(node)
            for _, i in chosen:
                call = changed.value if i is None else changed.value.elts[i]
                call.keywords.append(ast.keyword("dtype", ast.parse("np.float32", mode="eval").body))
            return changed, " and ".join(name for name, _ in chosen) + " stored in float32"

        for one in made:
            changed, what = stored([one])
            yield "float32-storage", changed, what, what if len(made) > 1 else "float32-storage"
        if len(made) > 1:
            yield "float32-storage", *stored(made), "float32-storage"
        accumulators = [m for m in made if m[0] in self.accumulated]
        if accumulators:
            yield "float32-accumulator", *stored(accumulators), "float32-accumulator"

    def _in_place_choice(self, node):
        """One branch of a conditional value computed in place in the array an operand views
        (dh = dout[:, t]; dh += dh_next where dh_next + dout[:, t] belongs, which changes dout):
        np.add(dout[:, t], dh_next, out=dout[:, t]) says the same as one expression."""
        for name in ("body", "orelse"):
            branch = getattr(node, name)
            if not isinstance(branch, ast.BinOp) or type(branch.op) not in _UFUNCS:
                continue
            for base, other in ((branch.right, branch.left), (branch.left, branch.right)):
                if isinstance(base, ast.Subscript):
                    changed = copy.deepcopy(node)
                    setattr(changed, name, ast.parse(
                        f"np.{_UFUNCS[type(branch.op)]}({ast.unparse(base)}, {ast.unparse(other)}, "
                        f"out={ast.unparse(base)})", mode="eval").body)
                    yield "in-place", changed, \
                        f"{ast.unparse(branch)} computed in place in {ast.unparse(base)}, which changes it"

    def _negated_everywhere(self, node):
        """A local array used with its sign flipped at every read (δ built as 1 − ŷ where
        ŷ − 1 belongs): only at every place at once."""
        if id(node) in self.reads:
            yield "sign", ast.UnaryOp(ast.USub(), copy.deepcopy(node)), \
                f"{node.id} used with its sign flipped", f"only-everywhere: -{node.id}"

    def _Return(self, node):
        if isinstance(node.value, ast.Tuple):
            yield from self._swaps(node, node.value, "swap-outputs", "{} and {} returned in each other's place")
            for k, inner in enumerate(node.value.elts):
                if isinstance(inner, ast.Tuple):
                    for i in range(len(inner.elts)):
                        for j in range(i + 1, len(inner.elts)):
                            changed = copy.deepcopy(node)
                            elts = changed.value.elts[k].elts
                            elts[i], elts[j] = elts[j], elts[i]
                            yield "swap-outputs", changed, (f"{ast.unparse(inner.elts[i])} and "
                                                            f"{ast.unparse(inner.elts[j])} returned in each other's place")
            for i, element in enumerate(node.value.elts):
                if not isinstance(element, ast.Tuple):
                    changed = copy.deepcopy(node)
                    changed.value.elts[i] = ast.UnaryOp(ast.USub(), changed.value.elts[i])
                    yield "sign", changed, f"{ast.unparse(element)} returned with its sign flipped"
            yield from self._returned_scaled(node)
            yield from self._returned_transposed(node)
            yield from self._returned_clipped(node)
        elif node.value is not None:
            for reduction in ("mean", "sum"):  # np.mean(2 * (y − t)): one number, not an array
                changed = copy.deepcopy(node)
                changed.value = ast.Call(ast.Attribute(ast.Name("np", ast.Load()), reduction, ast.Load()),
                                         [changed.value], [])
                yield "reduction", changed, f"what it returns reduced to one number (np.{reduction})"
            for dim in self.dims + self.lengths:
                changed = copy.deepcopy(node)
                changed.value = ast.BinOp(changed.value, ast.Div(), ast.parse(dim, mode="eval").body)
                yield "extra-divisor", changed, f"divides what it returns by {dim}"

    def _returned_scaled(self, node):
        """Returned parts divided by a size (a mean where the loss sums): one part, two, or
        all of them."""
        parts = [i for i, e in enumerate(node.value.elts) if not isinstance(e, ast.Tuple)]
        groups = [(i,) for i in parts]
        if len(parts) <= _PAIRS_UP_TO:
            groups += list(combinations(parts, 2))
        if len(parts) > 2:
            groups.append(tuple(parts))
        for dim in self.dims + self.lengths:
            for group in groups:
                changed = copy.deepcopy(node)
                for i in group:
                    changed.value.elts[i] = ast.BinOp(changed.value.elts[i], ast.Div(),
                                                      ast.parse(dim, mode="eval").body)
                names = " and ".join(ast.unparse(node.value.elts[i]) for i in group)
                yield "extra-divisor", changed, f"{names} divided by {dim} before returning"

    def _returned_clipped(self, node):
        """Gradients clipped before they are returned (np.clip to ±5: min-char-rnn's habit,
        which changes any gradient larger than that)."""
        parts = [i for i, e in enumerate(node.value.elts) if not isinstance(e, ast.Tuple)]
        if len(parts) < 2:
            return
        changed = copy.deepcopy(node)
        for i in parts:
            changed.value.elts[i] = ast.parse(f"np.clip({ast.unparse(changed.value.elts[i])}, -5, 5)",
                                              mode="eval").body
        yield "clip", changed, "the gradients clipped to ±5 before they are returned"

    def _returned_transposed(self, node):
        """A returned matrix built as its transpose (dW computed as daᵀ·x)."""
        for i, element in enumerate(node.value.elts):
            if isinstance(element, ast.Name) and self._matrix(element.id) or \
                    isinstance(element, ast.BinOp) and isinstance(element.op, ast.MatMult):
                changed = copy.deepcopy(node)
                changed.value.elts[i] = ast.Attribute(changed.value.elts[i], "T", ast.Load())
                yield "transpose", changed, f"{ast.unparse(element)} returned as its transpose"

    def _matrix(self, name: str) -> bool:
        kinds = self.shapes.of.get(self.function, {}).get(name, frozenset())
        return bool(kinds) and all(isinstance(k, tuple) and len(k) == 2 for k in kinds) \
            and any(k[0] != k[1] for k in kinds)

    def _swaps(self, node, pair: ast.Tuple, operator: str, words: str):
        elements = pair.elts
        for i in range(len(elements)):
            for j in range(i + 1, len(elements)):
                changed = copy.deepcopy(node)
                target = changed.targets[0] if isinstance(changed, ast.Assign) else changed.value
                target.elts[i], target.elts[j] = target.elts[j], target.elts[i]
                yield operator, changed, words.format(ast.unparse(elements[i]), ast.unparse(elements[j]))

    # ---- calls of the module's own helpers, branches, ends, derivative forms, counts
    def _helper_call(self, node):
        """A helper's call left out (softmax(z) → z, sigmoid_backward(g, f) → g) or one of its
        arguments dropped (the upstream gradient: sigmoid_backward(1.0, f))."""
        if not isinstance(node.func, ast.Name) or node.func.id not in self.helpers:
            return
        name = node.func.id
        for i, arg in enumerate(node.args):
            yield "drop-call", copy.deepcopy(arg), f"{name}(…) left out: {ast.unparse(arg)} used as it is"
            if not isinstance(arg, ast.Constant):
                changed = copy.deepcopy(node)
                changed.args[i] = ast.Constant(1.0)
                yield "drop-factor", changed, f"{ast.unparse(arg)} left out of {name}(…) (1 in its place)"

    def _textbook(self, node, name):
        """A helper activation written out in its textbook form, which overflows (σ as
        1 / (1 + e^(−z)); softmax without the shift by the row's maximum), or a softmax
        normalized over the wrong axis; made at every call at once as well."""
        if not isinstance(node.func, ast.Name) or name not in self.helpers or len(node.args) != 1:
            return
        z = f"({ast.unparse(node.args[0])})"
        if name == "sigmoid":
            yield "textbook", ast.parse(f"1 / (1 + np.exp(-{z}))", mode="eval").body, \
                "σ written as 1 / (1 + e^(−z)), which overflows for large −z", "textbook σ"
        elif name == "softmax":
            yield "textbook", ast.parse(f"np.exp({z}) / np.exp({z}).sum(axis=-1, keepdims=True)",
                                        mode="eval").body, \
                "softmax without the shift by the maximum, which overflows", "textbook softmax"
            shifted = f"np.exp({z} - {z}.max(axis=0))"
            yield "axis", ast.parse(f"{shifted} / {shifted}.sum(axis=0)", mode="eval").body, \
                "softmax normalized over the first axis (time, or the batch) instead of the classes"

    def _branches(self, node):
        """The two branches of np.where exchanged (σ(−x) from a stable σ's cases)."""
        if isinstance(node.func, ast.Attribute) and node.func.attr == "where" and len(node.args) == 3:
            changed = copy.deepcopy(node)
            changed.args[1], changed.args[2] = changed.args[2], changed.args[1]
            yield "condition", changed, f"the branches of np.where({ast.unparse(node.args[0])}, …) exchanged"

    def _derivative_form(self, node):
        """σ's derivative written in tanh's form (1 − s²) or tanh's in σ's (s(1 − s))."""
        if isinstance(node.op, ast.Sub) and _is_number(node.left, 1) and isinstance(node.right, ast.BinOp) \
                and isinstance(node.right.op, ast.Pow) and _is_number(node.right.right, 2):
            s = node.right.left
            sigma = ast.BinOp(copy.deepcopy(s), ast.Mult(),
                              ast.BinOp(ast.Constant(1), ast.Sub(), copy.deepcopy(s)))
            yield "derivative", sigma, f"σ's derivative s(1 − s) where tanh's 1 − s² belongs (s = {ast.unparse(s)})", \
                "tanh' as σ'"
        if isinstance(node.op, ast.Mult) and isinstance(node.right, ast.BinOp) \
                and isinstance(node.right.op, ast.Sub) and _is_number(node.right.left, 1):
            s, left = node.right.right, node.left
            tanh = ast.BinOp(ast.Constant(1), ast.Sub(), ast.BinOp(copy.deepcopy(s), ast.Pow(), ast.Constant(2)))
            if ast.dump(left) == ast.dump(s):
                replacement = tanh
            elif isinstance(left, ast.BinOp) and isinstance(left.op, ast.Mult) \
                    and ast.dump(left.right) == ast.dump(s):
                replacement = ast.BinOp(copy.deepcopy(left.left), ast.Mult(), tanh)
            else:
                return
            yield "derivative", replacement, \
                f"tanh's derivative 1 − s² where σ's s(1 − s) belongs (s = {ast.unparse(s)})", "σ' as tanh'"


def _allocation(call) -> bool:
    """np.zeros(…) and the like, without a dtype."""
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) \
        and call.func.attr in _ALLOCATIONS and not any(k.arg == "dtype" for k in call.keywords)


def _in_order(function: ast.FunctionDef):
    """The function's nodes in source order (ast.walk goes breadth first)."""
    return sorted((n for n in ast.walk(function) if hasattr(n, "lineno")),
                  key=lambda n: (n.lineno, n.col_offset))


def _is_number(node, value: float) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
        and not isinstance(node.value, bool) and node.value == value


def _single_target(node) -> str | None:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 \
            and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    return None
