"""Judging one case: compare the raw outputs that came back from the sandbox with the
reference's answers, run the numeric gradient checks, and explain every disagreement.

Trusted side only. Knows nothing about notebooks or processes: a case, its outcome, the
student's top-level constants and a way to name source lines come in; a Verdict goes out.
"""
import re
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from grader.course.cases import Case, Ref
from grader.judge.diagnose import Diagnosis, explain, relative_error, scale_words
from grader.i18n import _, translated
from grader.judge.sentences import join, merge

MAX_MESSAGES = 6
#: diagnoses that say where a value is wrong but not why: a generated mistake may say more
VAGUE = ("other", "steps", "blocks")
#: numpy's words for operands of a matrix product whose shapes do not fit.
SHAPE_ERRORS = ("mismatch in its core dimension", "not aligned")


@dataclass
class Verdict:
    """The judgement of one case. `fraction` of its points were earned."""
    case: Case
    fraction: float
    messages: list = field(default_factory=list)
    #: diagnosis codes, for class statistics ("scale:N", "timeout", ...)
    codes: list = field(default_factory=list)
    #: where wrong values differ, for pictures (one Evidence per wrong returned array)
    evidence: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.fraction >= 1.0

    @property
    def score(self) -> float:
        return round(self.case.points * self.fraction, 4)


@dataclass
class Evidence:
    """Where a returned array differs from the reference: (yours − reference) / max|reference|,
    with the axes that carry meaning, for a heatmap per time step or gate block."""
    label: str
    difference: np.ndarray
    time_axis: int | None = None
    block_axis: int | None = None
    blocks: tuple = ()


MAX_EVIDENCE = 4096  # entries; larger arrays get no picture


@dataclass
class Context:
    """What the judge may know about the submission besides its outputs."""
    constants: dict = field(default_factory=dict)
    describe_line: Callable[[int], str] = lambda n: f"line {n}"
    #: why a function is not defined, where the notebook says more than "nowhere"
    missing: dict = field(default_factory=dict)
    #: where the top-level code that runs before any call is ("line 2 of cell 3 (“W = …”)"):
    #: asked only when that code stopped the submission
    running: Callable[[], str] = lambda: ""
    #: (case, expect, value) -> a Diagnosis naming the generated mistake that gives this value,
    #: or None; asked only when no rule explains a wrong value (grader.judge.naming)
    name_mistake: Callable | None = None


def _call_failure(case: Case, outcome, index: int, context: Context) -> tuple[str, str]:
    """Why a needed call produced nothing: (message, code)."""
    call, result = case.calls[index], outcome.calls[index]
    name = call.function
    if result.missing:
        why = context.missing.get(name)
        if why:
            return _("`{name}` is not defined: {why}.", name=name, why=why), "missing"
        return _("`{name}` is not defined in your notebook.", name=name), "missing"
    if result.skipped is not None:
        return _call_failure(case, outcome, result.skipped, context)
    error = result.error or {}
    kind, message = error.get("type", "Error"), error.get("message", "")
    if kind == "NotImplementedError":
        return _("`{name}` still raises NotImplementedError: fill in its TODO cell.",
                 name=name), "todo"
    where = ""
    if error.get("lines"):
        line, function = error["lines"][-1]
        where = _(" at {line}, in `{function}`", line=context.describe_line(line),
                  function=function)
    text = f": {message}" if message else ""
    hint = ""
    if kind == "ValueError" and any(s in message for s in SHAPE_ERRORS):
        hint = _(" The shapes of a matrix product do not fit: check each operand's shape; a "
                 "transpose (.T) may be missing or extra, or two operands exchanged.")
    elif kind == "ValueError" and "could not be broadcast" in message:
        shapes = set(re.findall(r"\((\d+),(\d+)\)", message))
        if any(a != b and (b, a) in shapes for a, b in shapes):
            hint = _(" Two of these shapes are each other's transpose: one operand is "
                     "transposed (np.outer(a, b) has the shape (len(a), len(b)); a gradient "
                     "has the shape of its parameter).")
    return _("`{name}` raised {kind}{text}{where}.{hint}", name=name, kind=kind, text=text,
             where=where, hint=hint), "exception"


def _as_value(part, expected: np.ndarray, signature: str, label: str, function: str):
    """The student's returned part as float64 of the expected shape, or a message."""
    if isinstance(part, str):  # (the signature and label in words, only now: it is rare)
        hint = _(" (it should return {signature})", signature=translated(signature)) \
            if signature else ""
        return None, _("`{function}` returned {part} where {label} should be{hint}.",
                       function=function, part=part, label=translated(label), hint=hint)
    value = np.asarray(part, dtype=np.float64)
    if expected.shape == () and value.size == 1:
        value = value.reshape(())
    return value, None


def _gradcheck(check, case, outcome, context) -> tuple[bool, str]:
    call = case.calls[check.analytic_call]
    analytic, problem = _as_value(outcome.calls[check.analytic_call].parts[check.analytic_part],
                                  np.asarray(check.directions[0]), call.signature, check.label,
                                  call.function)
    if problem:
        return False, problem
    if analytic.shape != np.shape(check.directions[0]):
        return False, _("your {label} has shape {shape}; it should have shape {expected}.",
                        label=check.label, shape=str(analytic.shape),
                        expected=str(np.shape(check.directions[0])))
    slopes = []
    for plus, minus, direction in zip(check.plus_calls, check.minus_calls, check.directions):
        values = []
        for index in (plus, minus):
            result = outcome.calls[index]
            if not result.ok or isinstance(result.parts[0], str):
                return False, _("your forward could not be evaluated at a perturbed {label} "
                                "for the gradient check.", label=check.label)
            kind = np.asarray(result.parts[0]).dtype
            if kind.kind == "f" and kind.itemsize < 8:
                # its rounding swamps the central difference: the backward is not to blame
                return False, _("your forward returns {kind} values for float64 inputs: a "
                                "central difference of step {step} cannot be resolved in "
                                "{kind}, so your {label} cannot be checked; compute in "
                                "float64.", kind=str(kind), step=format(check.step, "g"),
                                label=check.label)
            out = np.asarray(result.parts[0], dtype=np.float64)
            weights = check.weights
            if weights is None:
                if out.size != 1:
                    return False, _("your forward returned an array where a scalar loss "
                                    "belongs.")
                values.append(float(out.reshape(())))
            elif out.shape != np.shape(weights):
                return False, _("your forward's output has shape {shape} at a perturbed "
                                "{label}; expected {expected}.", shape=str(out.shape),
                                label=check.label, expected=str(np.shape(weights)))
            else:
                values.append(float(np.sum(weights * out)))
        numeric = (values[0] - values[1]) / (2 * check.step)
        exact = float(np.sum(analytic * direction))
        slopes.append((numeric, exact))
    worst = max(slopes, key=lambda s: abs(s[0] - s[1]) / max(abs(s[0]), abs(s[1]), 1e-8))
    error = abs(worst[0] - worst[1]) / max(abs(worst[0]), abs(worst[1]), 1e-8)
    if error <= check.rtol and np.isfinite(error):
        return True, ""
    ratios = [exact / numeric for numeric, exact in slopes if numeric != 0]
    if len(ratios) == len(slopes) and np.all(np.isfinite(ratios)) and ratios[0] != 0 \
            and max(abs(r / ratios[0] - 1) for r in ratios) <= 10 * check.rtol:
        diagnosis = scale_words(ratios[0], check.label, case.dims, context.constants,
                                against=_("the slope of your own forward"))
        if diagnosis.code != "scale" or len(ratios) > 1:  # one slope always has "a factor"
            return False, diagnosis.message
    return False, _("your {label} disagrees with your own forward: along a random direction "
                    "your backward gives a slope of {exact}, central differences of your "
                    "forward give {numeric} (relative error {error}, tolerance {rtol}).",
                    label=check.label, exact=format(worst[1], ".6g"),
                    numeric=format(worst[0], ".6g"), error=format(error, ".2g"),
                    rtol=format(check.rtol, "g"))


def _integer_dtype(part, reference: np.ndarray, label: str) -> Diagnosis | None:
    """An integer array where the answer has fractions: floats were truncated on the way."""
    if not (isinstance(part, np.ndarray) and part.dtype.kind in "iub"
            and part.shape == reference.shape and np.any(reference != np.round(reference))):
        return None
    return Diagnosis(_("your {label} is an array of integers (dtype {dtype}), so fractions "
                       "were cut off: an array made with np.zeros_like(x) or np.empty_like(x) "
                       "takes the dtype of integer inputs, and floats stored into it are "
                       "truncated. Make float arrays (np.zeros(x.shape), or convert the inputs "
                       "first with np.asarray(x, dtype=float)).", label=label,
                       dtype=str(part.dtype)), "dtype:int")


def _later_users(case: Case, index: int) -> list:
    """The functions of later calls that receive part of call `index`'s result (its cache)."""
    def refers(arg):
        return isinstance(arg, Ref) and arg.call == index
    return list(dict.fromkeys(
        call.function for call in case.calls[index + 1:]
        if any(refers(a) for a in (*call.args, *call.kwargs.values()))))


def _conditions(case: Case, outcome) -> list:
    """Conditions on every value test: inputs unchanged, no floating-point warnings."""
    problems = []
    for index, (call, result) in enumerate(zip(case.calls, outcome.calls)):
        if not result.ok:
            continue
        if result.inputs_changed is not None:
            for position, (sent, changed) in enumerate(zip(call.args, result.inputs_changed)):
                if isinstance(sent, np.ndarray) and changed is True:
                    names = call.arg_names
                    name = names[position] if position < len(names) \
                        else _("argument {number}", number=position + 1)
                    users = [f for f in _later_users(case, index) if f != call.function]
                    if users:  # the inputs are checked after the whole case
                        problems.append((
                            _("the input `{name}` of `{function}` was modified in place, by "
                              "`{function}` or later through what it returned (its cache) by "
                              "`{user}`: the cache holds that same array, so changing it (or a "
                              "view of it, such as w[:-1], with *= or +=) changes the caller's "
                              "array too; compute into a new array instead.", name=name,
                              function=call.function, user=users[0]), "inplace"))
                        continue
                    problems.append((_("`{function}` modified its input `{name}` in place; "
                                       "compute into a new array instead.",
                                       function=call.function, name=name), "inplace"))
        if case.no_fp_warnings and result.fp_warnings:
            problems.append((_("`{function}` overflowed or produced an invalid value (numpy "
                               "warned) on large inputs: use a numerically stable form.",
                               function=call.function), "overflow"))
    return problems


@dataclass
class _Known:
    """What judging a case needs of the case alone, worked out once for a whole batch."""
    needed: list      # the calls whose results are compared, in order
    labels: list      # every compared output's and gradient check's label
    references: list  # (label, reference as float64) of each compared, non-probe output
    #: (expect, its reference as float64, max|reference|, whether it is only a condition)
    compared: list


_KNOWN: dict = {}


def _known(case: Case) -> _Known:
    known = _KNOWN.get(id(case))
    if known is not None and known[0] is case:
        return known[1]
    # A reference that is exactly zero (wRec_grad when S_0 = 0 is all there is) is matched by a
    # function that computes nothing: such values are conditions, never points on their own.
    scored = [e for e in case.expects if not e.probe and not e.required
              and np.any(np.asarray(e.value) != 0)]
    if not scored:
        scored = [e for e in case.expects if not e.probe and not e.required]
    compared = []
    for expect in case.expects:
        if not expect.probe:
            reference = np.asarray(expect.value, dtype=np.float64)
            compared.append((expect, reference,
                             float(np.abs(reference).max()) if reference.size else 0.0,
                             all(expect is not e for e in scored)))
    known = _Known(
        needed=sorted({e.call for e in case.expects} | {g.analytic_call for g in case.gradchecks}),
        labels=[e.label for e in case.expects] + [g.label for g in case.gradchecks],
        references=[(e.label, reference) for e, reference, _, _ in compared],
        compared=compared)
    _KNOWN[id(case)] = (case, known)  # the case is kept: its id is never another's
    return known


def judge(case: Case, outcome, context: Context) -> Verdict:
    """Score one case from its outcome: the fraction of its checks that hold, or zero when a
    condition fails or nothing came back."""
    if outcome.failure == "setup":  # stopped before any call: in the notebook's top-level code
        running = context.running()
        where = _(" at {places}", places=running) if running else ""
        return Verdict(case, 0.0, [_("Running your notebook's top-level code{where} {detail}, "
                                     "before `{function}` could be called.", where=where,
                                     detail=outcome.detail, function=case.function)],
                       [outcome.failure])
    if outcome.failure:
        return Verdict(case, 0.0, [_("`{function}` {detail}", function=case.function,
                                     detail=outcome.detail).rstrip()], [outcome.failure])
    messages, codes = [], []
    known = _known(case)
    for index in known.needed:
        if not outcome.calls[index].ok:
            message, code = _call_failure(case, outcome, index, context)
            return Verdict(case, 0.0, [message], [code])
    for message, code in _conditions(case, outcome):
        messages.append(message)
        codes.append(code)

    passed, total = 0, 0
    evidence = []
    failed_probes = sorted(e.step for e in case.expects if e.probe and not _probe_ok(e, outcome))
    unmet = []  # required expects (preconditions) that failed
    for expect, reference, scale, condition in known.compared:
        if not condition:
            total += 1
        call = case.calls[expect.call]
        value, problem = _as_value(outcome.calls[expect.call].parts[expect.part], reference,
                                   call.signature, expect.label, call.function)
        if problem:
            messages.append(problem)
            codes.append("type")
            if condition:
                unmet.append(expect.label)
            continue
        if value.shape == reference.shape and np.isfinite(value).all() and (
                relative_error(value, reference, scale) <= expect.rtol
                or float(np.abs(value - reference).max(initial=0.0)) <= expect.atol):
            passed += 0 if condition else 1
            continue
        others = [(label, ref) for label, ref in known.references if label != expect.label]
        diagnosis = (_integer_dtype(outcome.calls[expect.call].parts[expect.part], reference,
                                    expect.label)
                     or explain(value, expect, others, case.dims, context.constants))
        # a value of another shape but the same rank (a sum over the wrong axis) may be a
        # generated mistake's; one of another rank is said best by its shape
        if context.name_mistake is not None and (diagnosis.code in VAGUE or (
                diagnosis.code == "shape" and value.ndim == reference.ndim)):
            diagnosis = context.name_mistake(case, expect, value) or diagnosis
        if value.shape == reference.shape and 0 < value.size <= MAX_EVIDENCE:
            evidence.append(Evidence(expect.label, (value - reference) / (scale or 1.0),
                                     expect.time_axis, expect.block_axis, tuple(expect.blocks)))
        message = diagnosis.message
        if failed_probes and diagnosis.code in ("other", "steps"):
            message += _(" Cutting the sequence short shows where: your result first differs "
                         "when step t={step} is included.", step=failed_probes[0])
        messages.append(message)
        codes.append(diagnosis.code)
        if condition:
            unmet.append(expect.label)
    for check in case.gradchecks:
        total += 1
        ok, message = _gradcheck(check, case, outcome, context)
        if ok:
            passed += 1
        else:
            messages.append(message)
            codes.append("gradcheck")
    fraction = passed / total if total else 0.0
    if codes and any(c in ("inplace", "overflow") for c in codes):
        fraction = 0.0
    if unmet:
        fraction = 0.0
        required = [translated(e.label) for e in case.expects if e.required and e.label in unmet]
        if required:
            messages.insert(0, _("This test checks your backward against your own forward, "
                                 "so it needs a correct forward first: your {labels} is wrong.",
                                 labels=join(required)) if len(required) == 1 else
                            _("This test checks your backward against your own forward, so it "
                              "needs a correct forward first: your {labels} are wrong.",
                              labels=join(required)))
    return Verdict(case, fraction, merge(messages, known.labels)[:MAX_MESSAGES], codes,
                   evidence)


def _probe_ok(expect, outcome) -> bool:
    result = outcome.calls[expect.call]
    if not result.ok:
        return False
    reference = np.asarray(expect.value, dtype=np.float64)
    value, problem = _as_value(result.parts[expect.part], reference, "", expect.label, "")
    return problem is None and value.shape == reference.shape \
        and relative_error(value, reference) <= expect.rtol
