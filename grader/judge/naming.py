"""Naming a wrong value by the generated mutant that returns it: "your dX matches a specific
mistake in `lstm_backward`: it uses c_t where c_{t−1} belongs (df = dc ⊙ c_{t−1})".

Consulted only for a value that no generic or assignment rule explains. The mutants of the
function that returned the value are run on that case once per grading process (trusted code,
in this process) and their values kept, so the cost does not grow with the submissions; only
failing values are compared. Words use the handout's notation from the assignment's glossary
(`[glossary]` in spec.toml); a change whose names the glossary does not cover is described
without code, so no reference code reaches a student.
"""
from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import numpy as np

from grader.course.spec import glossary as short_glossary
from grader.course.spec import is_short_form
from grader.judge.diagnose import FIT, Diagnosis, fits
from grader import i18n
from grader.i18n import N_, _
from grader.judge.fingerprints import (graded_functions, mutant_namespace, namespace_of,
                                       reference_module, run_case, trace_shapes)
from grader.judge.mutant_store import MutantStore
from grader.judge.mutants import Mutant, generate

#: names every handout uses as they are (numpy's own, and σ)
_KNOWN_NAMES = {"np": "np", "sigmoid": "σ", "len": "len"}
#: what each kind of change means, where its code cannot be shown
_PLAIN = {
    "substitute": N_("a variable is used where another of the same shape belongs"),
    "swap-operands": N_("two operands are exchanged"),
    "drop-term": N_("a term of a sum is left out"),
    "flip-operator": N_("a + and a − are exchanged"),
    "drop-factor": N_("a factor of a product is left out (a local derivative or a carried gradient)"),
    "drop-divisor": N_("a division is left out"),
    "extra-divisor": N_("it divides by a size it should not divide by"),
    "divisor": N_("it divides by the wrong size"),
    "transpose": N_("a transpose is missing or extra"),
    "drop-power": N_("a square is missing"),
    "sign": N_("a sign is flipped"),
    "constant": N_("a constant is wrong"),
    "activation": N_("the wrong nonlinearity (tanh for σ or the reverse) is used, or one is left out"),
    "reduction": N_("a mean is taken where a sum belongs, or the reverse"),
    "axis": N_("a sum or mean runs over the wrong axis"),
    "loop-bound": N_("a loop over the steps starts or stops one step off"),
    "loop-order": N_("a loop over the steps runs the wrong way"),
    "index-shift": N_("an index is one step off"),
    "block": N_("one column block of the fused matrix is read in place of another"),
    "overwrite": N_("a gradient is overwritten at each step instead of accumulated (= where += belongs)"),
    "swap-targets": N_("two values are assigned to each other's names"),
    "swap-outputs": N_("two returned values are exchanged"),
    "float32": N_("some arithmetic is done in float32 instead of float64"),
    "condition": N_("a choice (an `if`) is ignored: one branch is taken whatever the condition"),
    "order": N_("two consecutive steps are done in the other order (a value is used before it is "
             "updated, or updated before it is used)"),
    "derivative": N_("a local derivative is taken of the wrong quantity (σ' or tanh' applied to "
                  "a value that already is the σ or the tanh)"),
    "drop-accumulation": N_("one contribution to an accumulated gradient is left out (a path "
                         "through the graph is missing)"),
    "drop-update": N_("a value carried from step to step is never updated (it keeps its first "
                   "value)"),
    "float32-storage": N_("an array is allocated as float32, so what is stored in it loses "
                       "precision"),
    "float32-accumulator": N_("gradients are accumulated in float32 arrays, so their sums lose "
                           "precision"),
    "drop-call": N_("a helper function's call is left out: its input is used as it is"),
    "other-end": N_("an index or slice is taken from the wrong end (the first entry where the "
                 "last belongs)"),
    "count-shift": N_("a count or bound is one off"),
    "in-place": N_("a result is computed in place in one of its operands, which changes that "
                "array (a cached value or the caller's input)"),
    "clip": N_("the gradients are clipped before they are returned, which changes every entry "
            "larger than the bound"),
    "block-swap": N_("two blocks are exchanged (the gate blocks of a fused matrix, or the parts "
                  "of a concatenation, in another order)"),
    "textbook": N_("an activation is written in its textbook form, which overflows for large "
                "inputs (σ as 1 / (1 + e^(−z)), softmax without subtracting the maximum)"),
    "pair": N_("the same slip is made in the forward and in the backward alike (the gate "
            "blocks in another order, or an option ignored in both)"),
}


def glossary(course: Path, name: str) -> dict:
    """{reference variable name: the handout's notation} from the assignment's spec."""
    path = course / "assignments" / name / "spec.toml"
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    return short_glossary(data) if is_short_form(data) else dict(data.get("glossary", {}))


class MutantNamer:
    """Names wrong values of one assignment's cases by its generated mutants."""

    def __init__(self, assignment, course: Path):
        self.assignment, self.course = assignment, course
        self._mutants: dict[str, list[Mutant]] | None = None
        self._module = None
        self._values: dict = {}  # (case id, call index) -> [(mutant, parts)]
        self._pending: list = []  # this submission's named values, until `settle`
        self._shapes = None
        self._source = ""
        self._stacks: dict = {}  # (case id, call, part, shape) -> (mutants, values stacked)
        self._store = None
        self.words = glossary(course, assignment.name)

    def prefill(self, module, evaluated: list) -> None:
        """Take the mutants and their outcomes on every case from an evaluation already made
        (grader.judge.fingerprints.evaluate), instead of running them again."""
        self._module, self._mutants = module, {}
        for item in evaluated:
            for function in item.mutant.functions:
                self._mutants.setdefault(function, []).append(item.mutant)
        for index, case in enumerate(self.assignment.cases):
            for call, _ in enumerate(case.calls):
                function = case.calls[call].function
                found = []
                for item in evaluated:
                    if function not in item.mutant.functions:
                        continue
                    result = item.outcomes[index] if index < len(item.outcomes) else None
                    ok = result is not None and result.failure is None and result.calls[call].ok
                    found.append((item.mutant, result.calls[call].parts if ok else None))
                self._values[(id(case), call)] = found

    def _load(self) -> None:
        self._module = reference_module(self.course, self.assignment.name)
        self._store = MutantStore.of(self.course, self.assignment.name)
        functions = graded_functions(self.assignment)
        self._shapes = trace_shapes(namespace_of(self._module), self.assignment.cases, functions)
        self._source = Path(self._module.__file__).read_text()
        self._mutants = {}

    def _mutants_of(self, function: str) -> list[Mutant]:
        """The function's mutants, generated when first needed (the same ones, with the same
        ids, as generating every function's at once: the shapes come from all cases). A slip
        made alike in two functions (grader mutants counts those) is named here by its half in
        each function: generating every function to pair them would cost each grading process
        more than a batch's naming does."""
        if function not in self._mutants:
            self._mutants[function] = generate(self._source, (function,), self._shapes) \
                if self._shapes is not None else []
        return self._mutants[function]

    def explain(self, case, expect, value: np.ndarray) -> Diagnosis | None:
        """The first generated mistake whose value on this case is the student's, in words."""
        function = case.calls[expect.call].function
        if self._mutants is None:
            try:
                self._load()
            except Exception:  # no reference here (a public case file): nothing to name
                self._mutants = {}
        mutants, stack = self._stack(case, expect, function, value.shape)
        if not mutants or stack.shape[1:] != value.shape:
            return None
        # fits(value, theirs) for every mutant at once: max|value − theirs| ≤ FIT·max|theirs|
        axes = tuple(range(1, stack.ndim))
        with np.errstate(invalid="ignore", over="ignore"):
            differ = np.abs(stack - value).max(axis=axes, initial=0.0)
            scale = np.abs(stack).max(axis=axes, initial=0.0)
        close = np.where(scale > 0, differ <= FIT * scale, differ <= FIT)
        matches = [mutants[i] for i in np.flatnonzero(close)]
        if not matches:
            return None
        diagnosis = self._diagnosis(function, expect.label, matches[0])
        self._pending.append((case, function, expect.label, matches, diagnosis.message))
        return diagnosis

    def _stack(self, case, expect, function: str, shape: tuple) -> tuple[list, np.ndarray]:
        """The mutants whose value for this output differs from the reference's and has the
        given shape (the reference's, or another for a value of a wrong shape: a sum over the
        wrong axis), and those values stacked in one array (so a student's value is compared
        with all at once)."""
        key = (id(case), expect.call, expect.part, shape)
        if key not in self._stacks:
            reference = np.asarray(expect.value, dtype=np.float64)
            mutants, values = [], []
            for mutant, parts in self._values_of(case, expect.call, function):
                if parts is None or expect.part >= len(parts) or isinstance(parts[expect.part], str):
                    continue
                theirs = np.asarray(parts[expect.part], dtype=np.float64)
                if theirs.shape == shape and np.all(np.isfinite(theirs)) \
                        and (shape != reference.shape or not fits(theirs, reference)):
                    mutants.append(mutant)
                    values.append(theirs)
            stack = np.stack(values) if values else np.zeros((0,) + shape)
            self._stacks[key] = (mutants, stack)
        return self._stacks[key]

    def _diagnosis(self, function: str, label: str, mutant: Mutant) -> Diagnosis:
        return Diagnosis(_("a specific mistake in `{function}` gives exactly your {label} "
                           "({mistake}).", function=function, label=i18n.translated(label),
                           mistake=self.describe(mutant)), f"mutant:{mutant.operator}")

    def settle(self, verdicts: list) -> None:
        """After a submission's cases are judged: where several generated mistakes give a wrong
        value, name the one that gives the most of the submission's wrong values of that
        function (a small case can make two mistakes look alike: with c_{t−1} = 0 at the first
        step, anything multiplied by it vanishes)."""
        pending, self._pending = self._pending, []
        count: dict[tuple, int] = {}
        for _case, function, _label, matches, _said in pending:
            for mutant in matches:
                count[(function, mutant.id)] = count.get((function, mutant.id), 0) + 1
        by_case = {id(v.case): v for v in verdicts}
        for case, function, label, matches, said in pending:
            best = max(matches, key=lambda m: (count[(function, m.id)], -matches.index(m)))
            if best is matches[0]:
                continue
            verdict = by_case.get(id(case))
            if verdict is None:
                continue
            # the words of the mistake, wherever the verdict put them (messages of several
            # outputs wrong the same way are merged into one sentence)
            old, new = self.describe(matches[0]), self.describe(best)
            verdict.messages = [m.replace(old, new) if f"`{function}`" in m else m
                                for m in verdict.messages]
            codes = list(verdict.codes)
            if f"mutant:{matches[0].operator}" in codes:
                codes[codes.index(f"mutant:{matches[0].operator}")] = f"mutant:{best.operator}"
            verdict.codes = codes

    def _values_of(self, case, call: int, function: str) -> list:
        key = (id(case), call)
        if key not in self._values:
            mutants = self._mutants_of(function)
            stored = self._store.load(case, call, len(mutants)) if self._store else None
            if stored is None:
                prefix = _Prefix(case, call)
                stored = []
                for mutant in mutants:
                    try:
                        outcome = run_case(mutant_namespace(mutant, self._module), prefix)
                        result = outcome.calls[call]
                        stored.append(result.parts if result.ok else None)
                    except Exception:
                        stored.append(None)
                if self._store:
                    self._store.save(case, call, stored)
            self._values[key] = list(zip(mutants, stored))
        return self._values[key]

    def describe(self, mutant: Mutant) -> str:
        """The change in the handout's notation, or in plain words."""
        if mutant.operator.startswith("substitute"):
            used, meant = mutant.after, mutant.before
            if used in self.words and meant in self.words:
                if mutant.operator.endswith("everywhere"):
                    return _("it uses {used} where {meant} belongs (everywhere)",
                             used=self.words[used], meant=self.words[meant])
                return _("it uses {used} where {meant} belongs", used=self.words[used],
                         meant=self.words[meant])
        pair = re.match(r"^(\w+) and (\w+) computed into each other's names$", mutant.what)
        if pair and all(name in self.words for name in pair.groups()):
            a, b = (self.words[name] for name in pair.groups())
            return _("{a} and {b} are exchanged: each is computed with the other's formula",
                     a=a, b=b)
        before, after = self.render(mutant.before), self.render(mutant.after)
        if before is not None and after is not None and before != after:
            return _("it computes {after} where {before} belongs", after=after, before=before)
        return _("here {what}", what=_(_PLAIN.get(mutant.operator.removesuffix("-everywhere"),
                                                  N_("a step of the computation differs"))))

    def render(self, code: str) -> str | None:
        """An expression in the handout's notation, or None when one of its names has none."""
        try:
            tree = ast.parse(code, mode="eval") if "\n" not in code else None
        except SyntaxError:
            return None
        if tree is None:
            return None
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                if node.id not in self.words and node.id not in _KNOWN_NAMES:
                    return None
                node.id = self.words.get(node.id, _KNOWN_NAMES.get(node.id))
        text = ast.unparse(tree).replace("np.", "").replace(" ** 2", "²")
        return text.replace(" * ", " ⊙ ").replace(" - ", " − ")


class _Prefix:
    """A case cut after one call: only what that call needs runs."""

    def __init__(self, case, call: int):
        self.calls = case.calls[:call + 1]
