"""Running the reference and its generated mutants on an assignment's cases, in the grading
process: they are trusted code (the reference's, edited by the grader), never a student's.

A mutant's outcome on a case is judged exactly as a student's would be (the same call plans,
the same decoding, the same verdicts), so "killed" means what it means for a student: a test
takes points. Equivalent mutants (the reference's values on every case) and mutants that do not
run are set apart: the first may reveal a weak case, the second name no value.
"""
from __future__ import annotations

import functools
import importlib
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader.course.references import load_reference
from grader.judge.mutants import Mutant, Shapes, generate
from grader.judge.verdicts import Context, judge
from grader.sandbox import harness
from grader.sandbox.messages import _case_outcome, plan

#: how close a mutant's value must be to the reference's to count as the same value
SAME = 1e-12


def reference_module(course: Path, name: str):
    """The assignment's reference module (reference/<name>.py of the course; imported by its
    path where this process imported another course's `reference` package first)."""
    if str(course) not in sys.path:
        sys.path.insert(0, str(course))
    path = (Path(course) / "reference" / f"{name}.py").resolve()
    try:
        module = importlib.import_module(f"reference.{name}")
    except ImportError:
        module = None
    if module is None or Path(module.__file__).resolve() != path:
        return load_reference(course, name)
    return module


def graded_functions(assignment) -> tuple[str, ...]:
    return tuple(dict.fromkeys(assignment.functions))


def namespace_of(module) -> dict:
    """The functions the cases may call, taken from the reference module."""
    return {k: v for k, v in vars(module).items() if callable(v)}


def mutant_namespace(mutant: Mutant, module) -> dict:
    """A fresh copy of the reference module's functions with the mutated one defined in place
    of its own. They share one namespace, as a student's notebook functions do: a function that
    calls the mutated one (a loss calling its forward) finds the mutant, so a mistake in a
    forward shows wherever the student's own code would use it."""
    namespace = {"__name__": f"{module.__name__}.mutant"}
    exec(_module_code(module), namespace)
    exec(mutant.code(), namespace)
    return namespace


@functools.lru_cache(maxsize=None)
def _module_code(module):
    """The reference module's source, compiled once."""
    return compile(Path(module.__file__).read_text(), module.__file__, "exec")


def run_case(namespace: dict, case):
    """The case's outcome when its calls are made on `namespace`'s functions."""
    with np.errstate(all="ignore"):
        replies, arrays = harness.run_case(namespace, plan(case.calls))
    return _case_outcome({"calls": replies, "seconds": 0.0}, case.calls, arrays)


def trace_shapes(namespace: dict, cases: Iterable, functions: tuple[str, ...]) -> Shapes:
    """Each graded function's locals and the shapes they took, from running the reference on
    the cases (the first _TRACED that call each function)."""
    seen: dict[str, dict[str, set]] = {f: {} for f in functions}
    codes = {namespace[f].__code__: f for f in functions if f in namespace}

    def tracer(frame, event, arg):
        function = codes.get(frame.f_code)
        if function is None:
            return None
        if event in ("line", "return"):
            record = seen[function]
            for name, value in frame.f_locals.items():
                record.setdefault(name, set()).add(_kind(value))
        return tracer

    counted = {f: 0 for f in functions}
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        for case in cases:
            if counted.get(case.function, _TRACED) < _TRACED:
                counted[case.function] += 1
                run_case(namespace, case)
    finally:
        sys.settrace(previous)
    arguments = {f: namespace[f].__code__.co_varnames[:namespace[f].__code__.co_argcount]
                 for f in functions if f in namespace}
    return Shapes({f: {name: frozenset(kinds) for name, kinds in locals_.items()}
                   for f, locals_ in seen.items()}, arguments)


#: cases traced per function (each a different size: shapes that coincide on one do not on all)
_TRACED = 8


def _kind(value):
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub":
        return value.shape
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return "int"  # a size or an index: a scalar, but one a student may divide by
    if isinstance(value, (float, np.floating)):
        return ()
    return None


@dataclass
class Evaluated:
    """One mutant on every case: which cases it fails (public and all), whether it ran and
    whether its values are the reference's."""
    mutant: Mutant
    runs: bool = True
    equivalent: bool = False
    #: every case's returned parts (None where the case does not call the mutated function)
    values: list = field(default_factory=list, repr=False)
    failed_public: list = field(default_factory=list)
    failed: list = field(default_factory=list)
    #: each failing case's first message: what a student with this mistake reads
    messages: dict = field(default_factory=dict)
    #: each case's outcome (None where the case does not call the mutated function)
    outcomes: list = field(default_factory=list, repr=False)

    @property
    def killed(self) -> bool:
        return bool(self.failed)


def evaluate(assignment, module) -> list[Evaluated]:
    """Generate every graded function's mutants and judge each on every case."""
    functions = graded_functions(assignment)
    base = namespace_of(module)
    shapes = trace_shapes(base, assignment.cases, functions)
    source = Path(module.__file__).read_text()
    reference = [run_case(base, case) for case in assignment.cases]
    found = []
    for mutant in generate(source, functions, shapes):
        found.append(_evaluate(mutant, module, assignment.cases, reference))
    return found


def _evaluate(mutant: Mutant, module, cases, reference) -> Evaluated:
    try:
        namespace = mutant_namespace(mutant, module)
    except Exception:
        return Evaluated(mutant, runs=False)
    outcome = Evaluated(mutant)
    same, ran = True, False
    for index, (case, expected) in enumerate(zip(cases, reference)):
        if not any(c.function in mutant.functions for c in case.calls):
            outcome.values.append(None)
            outcome.outcomes.append(None)
            continue
        result = run_case(namespace, case)
        outcome.outcomes.append(result)
        outcome.values.append(_parts(result))
        ran = ran or all(call.ok for call in result.calls)
        same = same and all(
            (mine is None) == (theirs is None) and len(mine or ()) == len(theirs or ()) and all(
                _same_part(a, b, SAME, 1.0) for a, b in zip(mine or (), theirs or ()))
            for mine, theirs in zip(_parts(result), _parts(expected)))
        verdict = judge(case, result, Context())
        if not verdict.passed:
            outcome.failed.append(index)
            if case.visibility == "public":
                outcome.failed_public.append(index)
            outcome.messages[index] = verdict.messages[0] if verdict.messages else ""
    outcome.runs, outcome.equivalent = ran, ran and same
    return outcome


def case_values(namespace: dict, cases) -> list:
    """Every case's returned parts when its calls are made on `namespace` (None for a call
    that failed), for comparing a hand-written mistake with the generated ones."""
    return [_parts(run_case(namespace, case)) for case in cases]


def _parts(result) -> list:
    """Each call's returned parts, None for a call that failed; what else a call did is said
    as more parts (the same values computed in the caller's arrays, or with numpy warning of
    an overflow, is another mistake)."""
    return [call.parts + _side_effects(call) if call.ok else None for call in result.calls]


def _side_effects(call) -> list:
    """What a call did besides returning its parts, as parts of its fingerprint: the array
    arguments it changed in place, and whether numpy warned (an overflow, a NaN made)."""
    found = [_changed(call.inputs_changed)] if any(call.inputs_changed or ()) else []
    return found + (["numpy warned"] if call.fp_warnings else [])


def _changed(flags) -> str:
    return "changed in place: " + ", ".join(str(i) for i, flag in enumerate(flags) if flag)


def _same_part(a, b, rtol: float, floor: float) -> bool:
    """Two returned parts are the same: the same text, or arrays of one shape with NaN and
    infinities at the same places, whose other entries differ by at most
    rtol · max(max|b|, floor) (a NaN or infinity against a number is a difference)."""
    if isinstance(a, str) or isinstance(b, str):
        return isinstance(a, str) and isinstance(b, str) and a == b
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        return False
    finite = np.isfinite(b)
    if not np.array_equal(np.isfinite(a), finite):
        return False
    if not finite.all():  # NaN where the other has NaN, the same infinity where it has one
        if not np.array_equal(np.isnan(a), np.isnan(b)) or \
                not np.array_equal(a[np.isinf(b)], b[np.isinf(b)]):
            return False
        a, b = a[finite], b[finite]
    if not b.size:
        return True
    return float(np.abs(a - b).max()) <= rtol * max(float(np.abs(b).max()), floor)


def same_everywhere(mine: list, theirs: list, rtol: float = 1e-9) -> bool:
    """Whether two runs over the cases returned the same values wherever both returned any
    (and both returned something at least once)."""
    compared = 0
    for a_case, b_case in zip(mine, theirs):
        if a_case is None or b_case is None:
            continue
        for a_call, b_call in zip(a_case, b_case):
            if (a_call is None) != (b_call is None):
                return False
            if a_call is None:  # both failed there: the same mistake may well raise the same way
                compared += 1
                continue
            if len(a_call) != len(b_call):  # one changed its inputs in place, the other not
                return False
            for a, b in zip(a_call, b_call):
                if not _same_part(a, b, rtol, 1e-300):
                    return False
                compared += not isinstance(a, str)
    return compared > 0
