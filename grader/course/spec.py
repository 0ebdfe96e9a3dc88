"""The short form of an assignment's spec.toml: the graded functions, their inputs by name with
shapes in named dimensions ("N D", "D+1", "4*H") and kinds, which backward pairs with which
forward, points, and the
overrides where the grader's defaults do not fit. From it grader.course.derive builds every
case, so an instructor writes no case builder.

    title = "A two-layer net"
    [dimensions]                       # every size a case varies, with what it means
    N = "the batch size"
    C = { means = "the number of classes", min = 2 }
    [[function]]
    name = "affine_forward"
    points = 4
    inputs = { x = "float N D", w = "float D H", b = "float H" }
    returns = ["out", "cache"]         # a part named "cache" is the cache (not compared)
    [[function]]
    name = "affine_backward"
    forward = "affine_forward"         # called on the cache of the student's own forward
    inputs = { dout = "upstream out", cache = "cache" }
    returns = ["dx", "dw", "db"]       # d<input>: the gradient of the forward's input

Kinds of input: "float <dims>" (normal values), "int <dims>" (small integers), "labels <dims>
<classes>" (integers in [0, classes)), "flag" (True and False in turn), "scalar" (a float in
[0.2, 0.9), or { kind = "scalar", low = .., high = .. }), "upstream <part>" (an upstream
gradient shaped like the forward's returned part), "cache" (the forward's cache), and
{ kind = "params", W1 = "D H", ... } (a dict of float arrays). A function whose returned
`loss` is a scalar and whose other parts are gradients of its own inputs (`loss = "loss"`,
`gradients = { grads = "params" }` where a name is not d<input>) is checked against itself.

Parsing only: nothing here runs the reference. Errors name the file, the function and the key.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("float", "int", "labels", "flag", "scalar", "upstream", "cache", "params")
#: the edge cases a function gets unless its `edges` table turns one off
EDGES = ("size_one", "float32", "integer", "large", "repeated")
#: the numbers every derived case uses unless [defaults] says otherwise (see derive.py)
DEFAULTS = {
    "rtol": 1e-9,            # float64 and integer inputs: any order of float64 arithmetic
    "rtol_float32": 1e-5,    # float32 inputs: float32's precision over a few dozen operations
    "gradcheck_rtol": 1e-5,  # slope of your backward vs central differences of your forward
    "step": 1e-5,            # central-difference step of the gradient checks
    "directions": 2,         # random directions per checked gradient
    "offset": 1000.0,        # added to float inputs in the large-magnitude case
    "timeout": 5.0,
    "seed": 20,
}


#: a size in a shape: a dimension, optionally times a number or plus or minus one ("4*H", "D+1")
_SIZE = re.compile(r"^(?:(\d+)\*)?([A-Za-z_]\w*?)(?:([+-])(\d+))?$")


def dimension_of(token: str) -> str:
    """The dimension a size token names: "D+1" -> "D", "4*H" -> "H"."""
    match = _SIZE.match(token)
    return match.group(2) if match else token


def size_of(token: str, sizes: dict) -> int:
    """The size a token stands for, given each dimension's size."""
    times, name, sign, plus = _SIZE.match(token).groups()
    value = int(times or 1) * sizes[name]
    return value + (int(plus) if sign == "+" else -int(plus) if sign == "-" else 0)


class SpecError(Exception):
    """A spec that cannot be read; str(e) names the file and what is wrong."""


@dataclass(frozen=True)
class Input:
    name: str
    kind: str
    dims: tuple = ()            # named dimensions of its shape
    classes: str | None = None  # labels: the dimension that bounds them
    part: str | None = None     # upstream: the forward's returned part it is shaped like
    entries: tuple = ()         # params: ((key, dims), ...)
    low: float = 0.2            # scalar
    high: float = 0.9

    @property
    def differentiable(self) -> bool:
        return self.kind in ("float", "params")


@dataclass
class Function:
    name: str
    points: float
    inputs: list
    returns: list
    forward: str | None = None      # the paired forward of a backward
    cache: str = "cache"            # the forward's returned part passed to its backward
    loss: str | None = None         # a self-checked function's scalar loss part
    gradients: dict = field(default_factory=dict)  # returned part -> input it is d of
    edges: dict = field(default_factory=dict)      # edge case -> False to turn it off
    visibility: str = "hidden"      # of the edge cases (the first value case is public)

    def input(self, name: str) -> Input | None:
        return next((i for i in self.inputs if i.name == name), None)


@dataclass
class Spec:
    title: str
    dimensions: dict            # name -> (what it means, smallest size)
    functions: list
    glossary: dict
    defaults: dict
    path: Path | None = None

    def function(self, name: str) -> Function:
        return next(f for f in self.functions if f.name == name)


def glossary(data: dict) -> dict:
    """{reference name: the handout's notation} of a short-form spec: every dimension, input,
    params entry and returned part stands for itself unless [glossary] says otherwise."""
    words = {name: name for name in data.get("dimensions", {})}
    for table in data.get("function", []):
        for name, value in {**table.get("inputs", {})}.items():
            words[name] = name
            if isinstance(value, dict) and value.get("kind") == "params":
                words.update((key, key) for key in value if key != "kind")
        returns = table.get("returns", [])
        words.update((name, name) for name in ([returns] if isinstance(returns, str) else returns))
    return {**words, **data.get("glossary", {})}


def is_short_form(data: dict) -> bool:
    """Whether a parsed spec.toml is this form (its functions as [[function]] tables) rather
    than a list of [[test]] tables with case builders."""
    return "function" in data


def read(path: Path) -> Spec:
    """The spec at `path`, checked: every dimension declared, every reference resolvable."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SpecError(f"{path}: {exc}") from None
    return parse(data, path)


def parse(data: dict, path: Path | None = None) -> Spec:
    where = str(path or "spec.toml")
    dimensions = {}
    for name, value in data.get("dimensions", {}).items():
        if isinstance(value, str):
            value = {"means": value}
        if not isinstance(value, dict):
            raise SpecError(f"{where}: [dimensions] {name} must be a text or a table")
        dimensions[name] = (str(value.get("means", name)), int(value.get("min", 1)))
    defaults = {**DEFAULTS, **data.get("defaults", {})}
    unknown = set(defaults) - set(DEFAULTS)
    if unknown:
        raise SpecError(f"{where}: unknown [defaults] {', '.join(sorted(unknown))} (known: "
                        f"{', '.join(DEFAULTS)})")
    functions = [_function(table, where, dimensions) for table in data.get("function", [])]
    if not functions:
        raise SpecError(f"{where}: no [[function]] table")
    spec = Spec(str(data.get("title", Path(where).parent.name)), dimensions, functions,
                dict(data.get("glossary", {})), defaults, path)
    _check_pairs(spec, where)
    return spec


def _function(table: dict, where: str, dimensions: dict) -> Function:
    name = table.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        raise SpecError(f"{where}: a [[function]] needs a name (a Python identifier)")
    here = f"{where}, function {name}"
    for key in ("inputs", "returns"):
        if key not in table:
            raise SpecError(f"{here}: missing key {key!r}")
    inputs = [_input(arg, value, here, dimensions) for arg, value in table["inputs"].items()]
    returns = table["returns"]
    if isinstance(returns, str):
        returns = [returns]
    edges = dict(table.get("edges", {}))
    bad = set(edges) - set(EDGES)
    if bad:
        raise SpecError(f"{here}: unknown edges {', '.join(sorted(bad))} (known: "
                        f"{', '.join(EDGES)})")
    gradients = dict(table.get("gradients", {}))
    function = Function(name, float(table.get("points", 1)), inputs, list(returns),
                        table.get("forward"), table.get("cache", "cache"), table.get("loss"),
                        gradients, edges, table.get("visibility", "hidden"))
    if function.loss is not None and function.loss not in function.returns:
        raise SpecError(f"{here}: loss {function.loss!r} is not one of returns {returns}")
    return function


def _input(name: str, value, here: str, dimensions: dict) -> Input:
    if isinstance(value, str):
        words = value.split()
        table = {"kind": words[0] if words else ""}
        rest = words[1:]
    elif isinstance(value, dict):
        table, rest = dict(value), str(value.get("shape", "")).split()
    else:
        raise SpecError(f"{here}: input {name!r} must be a text (\"float N D\") or a table")
    kind = table.get("kind")
    if kind not in KINDS:
        raise SpecError(f"{here}: input {name!r} has kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "params":
        entries = tuple((key, tuple(str(shape).split())) for key, shape in table.items()
                        if key != "kind")
        for _key, dims in entries:
            _known_dims(dims, name, here, dimensions)
        return Input(name, kind, entries=entries)
    if kind == "upstream":
        if len(rest) != 1:
            raise SpecError(f"{here}: input {name!r}: \"upstream <returned part of the "
                            "forward>\"")
        return Input(name, kind, part=rest[0])
    if kind == "labels":
        if len(rest) < 2:
            raise SpecError(f"{here}: input {name!r}: \"labels <dims> <classes>\"")
        _known_dims(rest, name, here, dimensions)
        return Input(name, kind, tuple(rest[:-1]), classes=rest[-1])
    if kind in ("flag", "cache", "scalar"):
        return Input(name, kind, low=float(table.get("low", 0.2)),
                     high=float(table.get("high", 0.9)))
    _known_dims(rest, name, here, dimensions)
    return Input(name, kind, tuple(rest))


def _known_dims(dims, name: str, here: str, dimensions: dict) -> None:
    for token in dims:
        dim = dimension_of(token)
        if not _SIZE.match(token) or dim not in dimensions:
            raise SpecError(f"{here}: input {name!r} uses dimension {token!r}, which [dimensions] "
                            "does not declare (a size is a dimension, \"4*H\" or \"D+1\")")


def _check_pairs(spec: Spec, where: str) -> None:
    names = [f.name for f in spec.functions]
    for function in spec.functions:
        here = f"{where}, function {function.name}"
        if function.forward is not None:
            if function.forward not in names:
                raise SpecError(f"{here}: forward {function.forward!r} is not a [[function]]")
            forward = spec.function(function.forward)
            if function.cache not in forward.returns:
                raise SpecError(f"{here}: {function.forward} returns {forward.returns}, with "
                                f"no part {function.cache!r} to use as the cache")
            for arg in function.inputs:
                if arg.kind == "upstream" and arg.part not in forward.returns:
                    raise SpecError(f"{here}: input {arg.name!r} is shaped like "
                                    f"{function.forward}'s {arg.part!r}, which it does not "
                                    "return")
        target = spec.function(function.forward) if function.forward else function
        for part in function.returns:
            wrt = gradient_of(function, part, target)
            if part in function.gradients and wrt is None:
                raise SpecError(f"{here}: gradients: {part!r} is the gradient of "
                                f"{function.gradients[part]!r}, which is not an input of "
                                f"{target.name}")


def gradient_of(function: Function, part: str, target: Function) -> Input | None:
    """The input of `target` (the paired forward, or the function itself when it returns its
    own loss) whose gradient the returned `part` is: the `gradients` table's, else d<input>."""
    if function.forward is None and function.loss is None:
        return None
    name = function.gradients.get(part)
    if name is None and part.startswith("d"):
        name = part[1:]
    found = target.input(name) if name else None
    return found if found is not None and found.differentiable else None
