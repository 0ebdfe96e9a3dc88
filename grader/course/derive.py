"""Every case of a short-form spec (grader.course.spec), derived from the spec and the trusted
reference: what an instructor would otherwise write as case builders.

For each graded function, in the spec's order:
- value cases at three sizes (the first public), every named dimension a different size in a
  case (N = 5, D = 4, H = 6, C = 3...), so a factor N or H in a wrong value can be named;
- edge cases (hidden): each dimension of size 1 in turn, float32 inputs, integer inputs (never
  0, where a kink's side is a convention), large inputs (float arrays' rows shifted by +1000
  and −1000 in turn: exp must not overflow, numpy must not warn), and the function called
  twice (a backward twice on one cache: a cache or an input changed in place shows);
- a gradient check (public) of each backward against the student's own paired forward, and of
  each function that returns its own loss and gradients against that loss: along random unit
  directions, central differences (step 1e-5) of the student's forward against the slope of the
  student's gradient, on the condition that the forward's value is right.
Every call sends its array inputs back, so an input changed in place is caught in any case.

A backward is always called on the cache the student's own forward returned (it stays in the
sandbox); the forward's other outputs are compared in those cases too. Expected values are the
reference's on the same inputs in float64.

Tolerances come from the inputs' dtype: relative error 1e-9 for float64 and integer inputs (any
order of float64 arithmetic agrees to ~1e-13; float32 arithmetic, ~1e-7, does not pass),
1e-5 for float32 inputs; 1e-5 for gradient checks. [defaults] in the spec may change them.
Points: a function's `points` are shared among its cases in quarter points, value cases and
gradient checks weighing twice an edge case.

Test names, descriptions and labels are the grader's templates (N_(), in its catalogue) with the
function names, sizes and numbers as values (i18n.phrase): a derived test is named in every
language without an entry of its own in the assignment's catalogue.
"""
from __future__ import annotations

import zlib
from dataclasses import replace

import numpy as np

from grader.i18n import N_, phrase

from grader.course.cases import Call, Case, Expect, GradCheck, Ref, perturbed_calls, \
    random_directions
from grader.course.inputs import INTEGERS, Variant, copy, float64, inputs
from grader.course.spec import Function, Spec, SpecError, dimension_of, gradient_of

#: the sizes of the three value cases: each dimension takes the next value not yet taken
POOLS = ((5, 4, 6, 3, 7, 8, 9, 10), (7, 3, 5, 4, 8, 6, 9, 10), (9, 6, 8, 5, 7, 4, 10, 11))


def derive(spec: Spec, reference, hypotheses=None) -> list[Case]:
    """Every case of every function of `spec`, with names, points and visibility set;
    `hypotheses(function, label, inputs, value) -> [Hypothesis]`, from an assignment's cases.py,
    adds the mistakes it knows to each compared value (inputs in float64)."""
    check_reference(spec, reference)
    order = dimension_order(spec)
    cases = []
    for function in spec.functions:
        made = _function_cases(spec, function, reference, order, hypotheses)
        if function.points * 4 < len(made):
            raise SpecError(f"{spec.path}, function {function.name}: {function.points:g} points "
                            f"for {len(made)} derived cases; give it at least "
                            f"{len(made) / 4:g} (a quarter point a case)")
        shares = allocate(function.points, [weight for _, weight in made])
        for (case, _), points in zip(made, shares):
            case.points = points
            case.timeout = float(spec.defaults["timeout"])
            cases.append(case)
    return cases


def check_reference(spec: Spec, reference) -> None:
    """Every function of the spec is in the reference, its inputs named as its parameters."""
    for function in spec.functions:
        found = getattr(reference, function.name, None)
        if not callable(found):
            raise SpecError(f"{spec.path}: the reference has no function {function.name!r}")
        code = found.__code__
        names = list(code.co_varnames[:code.co_argcount])
        if names != [arg.name for arg in function.inputs]:
            raise SpecError(f"{spec.path}, function {function.name}: inputs "
                            f"{[a.name for a in function.inputs]} are not the reference's "
                            f"parameters {names} (same names, same order)")


def dimension_order(spec: Spec) -> list:
    """The declared dimensions in the order the functions' inputs first use them."""
    seen = []
    for function in spec.functions:
        for dim in _dimensions(function):
            if dim not in seen:
                seen.append(dim)
    return seen + [d for d in spec.dimensions if d not in seen]


def _dimensions(function: Function) -> list:
    """The dimensions a function's inputs use, in order."""
    tokens = [t for arg in function.inputs for t in (
        *arg.dims, *([arg.classes] if arg.classes else []),
        *(d for _, dims in arg.entries for d in dims))]
    return list(dict.fromkeys(dimension_of(t) for t in tokens))


def sizes_from(pool: tuple, order: list, spec: Spec) -> dict:
    """Each dimension the next value of `pool` that is not taken and not below its minimum."""
    sizes, taken = {}, set()
    for dim in order:
        least = spec.dimensions[dim][1]
        value = next((v for v in pool if v not in taken and v >= least), None)
        if value is None:
            value = max(max(taken, default=0), least) + 1
        sizes[dim] = value
        taken.add(value)
    return sizes


def allocate(total: float, weights: list) -> list:
    """`total` points shared among cases in proportion to their weights, in quarter points
    (exact in binary floating point, so the shares add up to the total exactly)."""
    quarters = round(total * 4)
    whole = sum(weights)
    raw = [1 + (quarters - len(weights)) * w / whole for w in weights]  # a quarter each first
    shares = [int(r) for r in raw]
    largest = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))  # remainders
    for i in largest[:quarters - sum(shares)]:
        shares[i] += 1
    return [s / 4 for s in shares]


def _used(spec: Spec, function: Function) -> list:
    """The dimensions a function's cases have, the paired forward's included."""
    functions = [function] + ([spec.function(function.forward)] if function.forward else [])
    return list(dict.fromkeys(d for f in functions for d in _dimensions(f)))


def _function_cases(spec: Spec, function: Function, reference, order: list,
                    hypotheses=None) -> list:
    """[(case, weight)] of one function."""
    used = _used(spec, function)
    base = [{d: v for d, v in sizes_from(pool, order, spec).items() if d in used}
            for pool in POOLS]
    edges = {edge: function.edges.get(edge, True) for edge in
             ("size_one", "float32", "integer", "large", "repeated")}
    arrays = _has_float_arrays(spec, function)
    name, offset = function.name, format(spec.defaults["offset"], "g")
    plans = [(_title(function, sizes), "public" if i == 0 else "hidden",
              2 if i < 2 else 1, Variant(sizes, flag=i == 1)) for i, sizes in enumerate(base)]
    if edges["size_one"]:
        for dim in used:
            if spec.dimensions[dim][1] <= 1:
                plans.append((phrase(N_("{function}: {dim} = 1 ({meaning})"), ("meaning",),
                                     function=name, dim=dim, meaning=spec.dimensions[dim][0]),
                              function.visibility, 1, Variant({**base[0], dim: 1})))
    if edges["float32"] and arrays:
        plans.append((phrase(N_("{function}: float32 inputs"), function=name),
                      function.visibility, 1, Variant(base[1], dtype="float32")))
    if edges["integer"] and arrays:
        plans.append((phrase(N_("{function}: integer inputs"), function=name),
                      function.visibility, 1, Variant(base[2], dtype="int64")))
    if edges["large"] and arrays:
        plans.append((phrase(N_("{function}: large inputs (±{offset}), no overflow"),
                             function=name, offset=offset),
                      function.visibility, 1, Variant(base[1], large=True)))
    if edges["repeated"]:
        again = N_("{function}: called twice on one cache") if function.forward \
            else N_("{function}: called twice")
        plans.append((phrase(again, function=name), function.visibility, 1,
                      Variant(base[2], repeated=True)))
    seed = int(spec.defaults["seed"]) * 1_000_003 + zlib.crc32(function.name.encode())
    made = []
    for number, (title, visibility, weight, variant) in enumerate(plans):
        rng = np.random.default_rng([seed, number])
        case = _value_case(spec, function, reference, variant, rng, hypotheses)
        case.name, case.visibility = title, visibility
        if variant.large:
            case.description = phrase(N_("Float inputs shifted by ±{offset}: nothing may "
                                         "overflow or make numpy warn."), offset=offset)
        made.append((case, weight))
    if function.forward is not None or function.loss is not None:
        rng = np.random.default_rng([seed, len(plans)])
        case = _gradient_check(spec, function, reference, Variant(base[0]), rng)
        made.insert(1, (case, 2))
    return made


def _title(function: Function, sizes: dict) -> str:
    """A value case's name: the function (a backward on the student's forward's cache) and its
    sizes ("N = 5, D = 4, H = 6")."""
    shown = ", ".join(f"{d} = {v}" for d, v in sizes.items())
    if function.forward:
        return phrase(N_("{function} on your {forward}'s cache: {sizes}"),
                      function=function.name, forward=function.forward, sizes=shown)
    return phrase(N_("{function}: {sizes}"), function=function.name, sizes=shown)


def _part_of(function: str, part: str) -> str:
    """The label of a forward's returned part where its backward is tested ("relu_forward's
    out")."""
    return phrase(N_("{function}'s {part}"), function=function, part=part)


def _has_float_arrays(spec: Spec, function: Function) -> bool:
    target = spec.function(function.forward) if function.forward else function
    return any(a.kind in ("float", "params") for a in target.inputs)


# ---- what is compared --------------------------------------------------------------------------

def outputs(spec: Spec, function: Function, result) -> list:
    """[(label, path, reference value)] of the returned parts compared (not the cache); a dict
    of gradients of a params input is compared key by key."""
    parts = _parts(function, result)
    if len(parts) != len(function.returns):
        raise SpecError(f"{function.name} of the reference returns {len(parts)} values; the "
                        f"spec says {function.returns}")
    target = spec.function(function.forward) if function.forward else function
    found = []
    for index, (name, value) in enumerate(zip(function.returns, parts)):
        if name == "cache" or name in _caches_only(spec, function):
            continue
        path = _path(function, index)
        wrt = gradient_of(function, name, target)
        if wrt is not None and wrt.kind == "params":
            found += [(f'{name}["{key}"]', (*path, key), np.asarray(value[key], np.float64))
                      for key, _ in wrt.entries]
        else:
            found.append((name, path, np.asarray(value, dtype=np.float64)))
    return found


def _caches_only(spec: Spec, forward: Function) -> set:
    """The forward's returned parts that its backwards take as their cache and not as the part
    their upstream gradient is shaped like (sigmoid's `out` is both: it is compared)."""
    pairs = [f for f in spec.functions if f.forward == forward.name]
    shaped = {a.part for f in pairs for a in f.inputs if a.kind == "upstream"}
    return {f.cache for f in pairs} - shaped


def _path(function: Function, index: int) -> tuple:
    """The path of returned part `index` (the whole value when the function returns one)."""
    return (index,) if len(function.returns) > 1 else ()


def _parts(function: Function, result) -> list:
    return list(result) if len(function.returns) > 1 else [result]


def _signature(function: Function) -> str:
    names = function.returns
    return names[0] if len(names) == 1 else f"({', '.join(names)})"


def _call(function: Function, args: dict, returns: tuple, refs: dict | None = None) -> Call:
    values = tuple((refs or {}).get(arg.name, copy(args.get(arg.name))) for arg in function.inputs)
    return Call(function.name, values, returns=returns, signature=_signature(function),
                check_inputs=True, arg_names=tuple(a.name for a in function.inputs))


def _reference(reference, function: Function, args: dict, refs: dict | None = None):
    values = [(refs or {}).get(a.name, float64(args.get(a.name))) for a in function.inputs]
    with np.errstate(all="raise", under="ignore"):
        try:
            return getattr(reference, function.name)(*values)
        except FloatingPointError as exc:
            raise SpecError(f"the reference's {function.name} makes numpy warn ({exc}) on "
                            "these inputs: turn the edge case off in the spec (edges = "
                            "{ large = false })") from None


def _value_case(spec: Spec, function: Function, reference, variant: Variant, rng,
                hypotheses=None) -> Case:
    offset = float(spec.defaults["offset"])
    rtol = float(spec.defaults["rtol_float32" if variant.dtype == "float32" else "rtol"])
    calls, expects = [], []

    def compare(call: int, compared, again: bool = False, given=None):
        for part, (label, _, value) in enumerate(compared):
            shown = phrase(N_("{label} on a second call"), label=label) if again else label
            found = hypotheses(calls[call].function, label, given, value) if hypotheses else []
            expects.append(Expect(shown, call, part, value, rtol=rtol, hypotheses=found))

    if function.forward is None:
        args = inputs(function, variant, rng, offset)
        compared = outputs(spec, function, _reference(reference, function, args))
        paths = tuple(path for _, path, _ in compared)
        for repeat in range(2 if variant.repeated else 1):
            calls.append(_call(function, args, paths))
            compare(repeat, compared, repeat > 0, float64(args))
    else:
        forward = spec.function(function.forward)
        args = inputs(forward, variant, rng, offset)
        result = _reference(reference, forward, args)
        shown = [(_part_of(forward.name, label), path, value)
                 for label, path, value in outputs(spec, forward, result)]
        calls.append(_call(forward, args, tuple(path for _, path, _ in shown)))
        compare(0, shown, given=float64(args))
        own, refs, cache = _backward_inputs(function, forward, result, variant, rng)
        exact = {k: float64(v) for k, v in refs.items()}
        compared = outputs(spec, function, _reference(reference, function, own, {**exact, **cache}))
        paths = tuple(path for _, path, _ in compared)
        links = {**{k: copy(v) for k, v in refs.items()},
                 **{name: _cache_ref(forward, function) for name in cache}}
        for repeat in range(2 if variant.repeated else 1):
            calls.append(_call(function, own, paths, links))
            compare(1 + repeat, compared, repeat > 0, {**float64(args), **exact})
    return Case(name="", function=function.name, calls=calls, expects=expects,
                dims=dict(variant.sizes), no_fp_warnings=variant.large)


def _cache_ref(forward: Function, backward: Function) -> Ref:
    """The cache the student's forward (call 0) returned, as the backward's argument: it stays
    in the sandbox."""
    return Ref(0, _path(forward, forward.returns.index(backward.cache)))


def _backward_inputs(function: Function, forward: Function, result, variant: Variant, rng):
    """(the backward's own generated inputs, its upstream gradients, {cache input: the
    reference forward's cache}): upstream gradients are shaped like the forward's part."""
    own = inputs(function, replace(variant, large=False), rng, 0.0)
    parts = _parts(forward, result)
    upstream, cache = {}, {}
    for arg in function.inputs:
        if arg.kind == "upstream":
            shape = np.shape(parts[forward.returns.index(arg.part)])
            if variant.dtype == "int64":
                upstream[arg.name] = rng.choice(INTEGERS, shape).astype(np.int64)
            else:
                upstream[arg.name] = rng.standard_normal(shape).astype(variant.dtype)
        elif arg.kind == "cache":
            cache[arg.name] = parts[forward.returns.index(function.cache)]
    return own, upstream, cache


# ---- gradient checks ---------------------------------------------------------------------------

def _gradient_check(spec: Spec, function: Function, reference, variant: Variant, rng) -> Case:
    """The student's gradients against central differences of the student's own forward (or
    own loss), along random directions; the forward's value must be right first."""
    step, count = float(spec.defaults["step"]), int(spec.defaults["directions"])
    forward = spec.function(function.forward) if function.forward else function
    args = inputs(forward, variant, rng, 0.0)
    result = _reference(reference, forward, args)
    parts = _parts(forward, result)
    if function.forward:
        own, refs, cache = _backward_inputs(function, forward, result, variant, rng)
        upstream = next(a for a in function.inputs if a.kind == "upstream")
        measured = forward.returns.index(upstream.part)
        weights = np.asarray(refs[upstream.name], dtype=np.float64)
        links = {**refs, **{name: _cache_ref(forward, function) for name in cache}}
        compared = outputs(spec, function, _reference(reference, function, own,
                                                      {**refs, **cache}))
        calls = [_call(forward, args, (_path(forward, measured),)),
                 _call(function, own, tuple(p for _, p, _ in compared), links)]
        analytic_call, first = 1, 0
        label = _part_of(forward.name, upstream.part)
    else:
        measured = function.returns.index(function.loss)
        weights = None
        compared = [c for c in outputs(spec, function, result) if c[0] != function.loss]
        calls = [_call(function, args, (_path(function, measured),
                                        *(p for _, p, _ in compared)))]
        analytic_call, first = 0, 1
        label = function.loss
    value = np.asarray(parts[measured], dtype=np.float64)
    checks = []
    for part, (name, _, _) in enumerate(compared):
        wrt = gradient_of(function, function.returns[_top(compared[part][1])], forward)
        if wrt is None:
            continue
        key = compared[part][1][-1] if wrt.kind == "params" else None
        base = args[wrt.name][key] if key else args[wrt.name]
        directions = random_directions(rng, np.shape(base), count)
        plus, minus = perturbed_calls(calls, _objective(forward, args, wrt.name, key, measured),
                                      base, directions, step)
        checks.append(GradCheck(name, analytic_call, first + part, directions, plus, minus, step,
                                weights=weights, rtol=float(spec.defaults["gradcheck_rtol"])))
    required = Expect(label, 0, 0, value,
                      rtol=float(spec.defaults["rtol"]), required=True)
    title = (phrase(N_("{function} agrees with your {forward} (gradient check)"),
                    function=function.name, forward=function.forward)
             if function.forward else
             phrase(N_("{function}: its gradients agree with its {loss} (gradient check)"),
                    function=function.name, loss=function.loss))
    return Case(name=title, function=function.name, calls=calls, expects=[required],
                gradchecks=checks, dims=dict(variant.sizes), visibility="public")


def _top(path: tuple) -> int:
    return path[0] if path else 0


def _objective(forward: Function, args: dict, name: str, key, measured: int):
    """objective(value, first) -> the forward's call at the input moved to `value`."""
    def chain(value, first):
        moved = dict(args)
        if key is None:
            moved[name] = np.asarray(value)
        else:
            moved[name] = {**args[name], key: np.asarray(value)}
        return [_call(forward, moved, (_path(forward, measured),))]
    return chain
