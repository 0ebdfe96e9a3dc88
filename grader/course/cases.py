"""Test cases as plain data: which student functions to call with which inputs, and what the
answers must be.

A `Case` is built in the trusted parent from a seeded generator and the reference. Its `calls`
go to the sandbox (inputs only); its `expects` and `gradchecks` (the answers) never leave the
parent. Public cases are also stored for students by `save_cases`.
"""
from dataclasses import dataclass, field, fields

import numpy as np

from grader import i18n

from grader import wire


@dataclass(frozen=True)
class Ref:
    """A part of an earlier call's result used as an argument. It stays inside the child, so a
    student's cache object is passed from their forward to their backward without crossing.

    path items: an int indexes a tuple or list; ("col", k) takes column k of an array
    (x[..., k]).
    """
    call: int
    path: tuple = ()


@dataclass
class Call:
    """One call of a student function inside the child."""
    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    #: parts of the return value sent back, as index paths; () is the whole value.
    returns: tuple = ((),)
    #: how the return value should look, for messages: "((wx_grad, wRec_grad), grad_over_time)".
    signature: str = ""
    #: send the array arguments back after the call, to detect in-place modification.
    check_inputs: bool = False
    #: the parameter names of the positional arguments, for messages.
    arg_names: tuple = ()


@dataclass
class Hypothesis:
    """A known mistake, as the value that mistake would produce, and its explanation: a
    template of the assignment's catalogue (English; always formatted, {{ for a brace) and the
    values of its {named} placeholders, put into words in the current language by `words()`."""
    message: str
    value: np.ndarray
    #: a short stable name for statistics, e.g. "grad_over_time:1/N".
    code: str = "known"
    values: dict = field(default_factory=dict)

    def words(self) -> str:
        return i18n.text(self.message, **self.values)


@dataclass
class Expect:
    """One returned value that must equal the reference's within tolerance.

    The relative error is max|student − reference| / max|reference| (the reference's scale, so
    entries near zero do not blow it up); the value passes when that is at most `rtol`, or when
    the absolute difference is at most `atol` everywhere.
    """
    label: str
    call: int
    part: int
    value: np.ndarray
    rtol: float = 1e-7
    atol: float = 1e-12
    #: axis of time steps in value, for "first diverging step" diagnoses.
    time_axis: int | None = None
    #: axis split into equal named blocks (LSTM gates), for "which block is wrong".
    block_axis: int | None = None
    blocks: tuple = ()
    hypotheses: list = field(default_factory=list)
    #: a probe helps diagnose (e.g. prefixes of a sequence) and is not scored.
    probe: bool = False
    #: for probes: the time step this probe isolates.
    step: int | None = None
    #: a precondition, not scored: when it fails the whole case scores zero (a gradient check
    #: of a forward that computes the wrong thing proves nothing).
    required: bool = False


@dataclass
class GradCheck:
    """A numeric gradient check of the student's backward against the student's own forward.

    Along each direction d (unit norm), the central difference
    (L(p + h·d) − L(p − h·d)) / 2h must match ⟨analytic gradient, d⟩. L is the forward's
    returned value projected on `weights` (sum(weights · out)), or the value itself when it is a
    scalar. The cost is 2 forward calls per direction, whatever the parameter's size.
    """
    label: str
    analytic_call: int
    analytic_part: int
    directions: np.ndarray       # (k, *parameter shape)
    plus_calls: tuple            # call indices evaluating L(p + h·d_j), returns part 0
    minus_calls: tuple
    step: float
    weights: np.ndarray | None = None
    rtol: float = 1e-5


@dataclass
class Case:
    """One graded test: calls to make, values to expect, gradients to check."""
    name: str
    function: str
    calls: list
    expects: list = field(default_factory=list)
    gradchecks: list = field(default_factory=list)
    #: sizes that explain scale mistakes, e.g. {"N": 7, "T": 5}; names as in messages.
    dims: dict = field(default_factory=dict)
    points: float = 1.0
    visibility: str = "public"
    timeout: float = 5.0
    #: what the test checks, in a sentence shown with the result.
    description: str = ""
    #: the student's functions must not produce floating-point overflow/invalid warnings.
    no_fp_warnings: bool = False


_CLASSES = {cls.__name__: cls for cls in (Ref, Call, Hypothesis, Expect, GradCheck, Case)}


def to_plain(obj):
    """Turn cases into wire-encodable data (dataclasses become tagged dicts)."""
    if type(obj).__name__ in _CLASSES and hasattr(obj, "__dataclass_fields__"):
        return {"__case__": type(obj).__name__,
                **{f.name: to_plain(getattr(obj, f.name)) for f in fields(obj)}}
    if isinstance(obj, tuple):
        return tuple(to_plain(x) for x in obj)
    if isinstance(obj, list):
        return [to_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    return obj


def from_plain(obj):
    """Inverse of to_plain; only the case classes above can be built."""
    if isinstance(obj, dict):
        kind = obj.get("__case__")
        items = {k: from_plain(v) for k, v in obj.items() if k != "__case__"}
        return _CLASSES[kind](**items) if kind else items
    if isinstance(obj, tuple):
        return tuple(from_plain(x) for x in obj)
    if isinstance(obj, list):
        return [from_plain(x) for x in obj]
    return obj


def _templates(cases: list) -> list:
    """The assignment's words the cases hold: test names, descriptions, hypotheses, labels."""
    found = []
    for case in cases:
        found += [case.name, case.description]
        found += [call.signature for call in case.calls]
        for expect in case.expects:
            found.append(expect.label)
            found += [h.message for h in expect.hypotheses]
    return found


def save_cases(path, assignment: str, cases: list) -> None:
    """Store cases (public ones, for students) in the wire format, with the translations of
    their words (the student's grader has the grader's catalogue, not the assignment's)."""
    payload = wire.encode({"assignment": assignment, "cases": to_plain(cases),
                           "translations": i18n.translations_of(_templates(cases))})
    with open(path, "wb") as f:
        f.write(payload)


def load_cases(path) -> tuple[str, list]:
    """Load what save_cases stored: (assignment name, cases); the translations it carries are
    looked up from now on."""
    with open(path, "rb") as f:
        data = wire.decode(f.read())
    i18n.add_messages(data.get("translations") or {})
    return data["assignment"], from_plain(data["cases"])


# ---- helpers for assignment case builders ----------------------------------------------------

def random_directions(rng, shape, count):
    """`count` random unit-norm directions of the given shape (for GradCheck)."""
    d = rng.standard_normal((count, *shape))
    norms = np.sqrt(np.sum(d.reshape(count, -1) ** 2, axis=1)).reshape((count,) + (1,) * len(shape))
    return d / norms


def perturbed_calls(calls, objective, base, directions, step):
    """Append, for each direction d, the calls that evaluate L at base ± step·d; return the
    (plus, minus) tuples of the calls whose returned part 0 is L, for a GradCheck.

    objective(value, first) -> list of Calls evaluating L at the parameter value `value`; the
    list will start at index `first` of `calls`, so Refs inside it can point at its own calls.
    """
    base = np.asarray(base, dtype=np.float64)
    plus, minus = [], []
    for d in directions:
        for sign, out in ((1.0, plus), (-1.0, minus)):
            chain = objective(base + sign * step * d, len(calls))
            calls.extend(chain)
            out.append(len(calls) - 1)
    return tuple(plus), tuple(minus)


def relative_error(student: np.ndarray, reference: np.ndarray, scale: float | None = None) -> float:
    """max|student − reference| / max|reference| (absolute difference when the reference is 0);
    `scale`: max|reference|, when the caller knows it already."""
    # (array methods: np.max's Python-level wrapper costs more than the work on small arrays)
    diff = float(np.abs(student - reference).max()) if student.size else 0.0
    if scale is None:
        scale = float(np.abs(reference).max()) if reference.size else 0.0
    return diff / scale if scale > 0 else diff


def distinct_hypotheses(reference, candidates, distinct: float = 1e-3) -> list:
    """The (message, value, code[, zero_ok]) candidates that can be told apart from the
    reference and from each other on a case's inputs (relative error above `distinct`), as
    Hypotheses in the given order of priority. A message is a template, or a (template, values)
    pair. An all-zero value explains too much (an untouched array) unless zero_ok; a non-finite
    one or one of another shape explains nothing."""
    reference = np.asarray(reference, dtype=np.float64)
    kept = []
    for message, value, code, *zero_ok in candidates:
        value = np.asarray(value, dtype=np.float64)
        if value.shape != reference.shape or not np.all(np.isfinite(value)) \
                or not (np.any(value) or zero_ok == [True]):
            continue
        if relative_error(value, reference) < distinct:
            continue
        if any(relative_error(value, h.value) < distinct for h in kept):
            continue
        template, values = message if isinstance(message, tuple) else (message, {})
        kept.append(Hypothesis(template, value, code, dict(values)))
    return kept


def call_case(function: str, args: tuple, arg_names: tuple, outputs: list, signature: str = "",
              dims: dict | None = None, **case_fields) -> Case:
    """The common case: one call of `function`, inputs checked for in-place changes, and
    outputs [(label, path, reference value, Expect options)] compared with the reference."""
    paths = tuple(path for _, path, _, _ in outputs)
    call = Call(function, tuple(args), returns=paths, signature=signature, check_inputs=True,
                arg_names=tuple(arg_names))
    expects = [Expect(label, 0, part, np.asarray(value, dtype=np.float64), **options)
               for part, (label, _, value, options) in enumerate(outputs)]
    return Case(name="", function=function, calls=[call], expects=expects, dims=dims or {},
                **case_fields)
