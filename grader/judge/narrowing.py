"""Narrowing a wrong value down to the time step where it first goes wrong.

When a public case over a sequence fails and its diagnosis says only how far off a value is (no
rule and no generated mistake fits), the same inputs cut to their first k steps (k = 1 … T − 1)
run once more in the student's own child, and the first prefix whose values go wrong says
where the mistake first shows: "your result first differs when step t=2 is included". The
answers for the prefixes come from the reference, here in the trusted grading process; the
child gets inputs only, as for every case. Hidden cases are never narrowed: they keep showing
their name and pass/fail only.

A case is cut along the dimension its `dims` call "T": an array argument's first axis of
length T is cut to k, one of length T + 1 (states S_0 … S_T) to k + 1; other arguments and the
references to earlier calls' results stay as they are (those calls are cut the same way).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from grader.course.cases import Call, Case, Expect, Ref
from grader.judge.fingerprints import run_case
from grader.judge.verdicts import judge

#: the diagnoses that say only that, or where, a value is wrong: narrowing can add to them
_NARROWABLE = {"other", "steps"}
#: the longest sequence narrowed (each prefix is one more run of the case's calls)
MAX_STEPS = 12


def prefixed(case: Case, reference: dict) -> Case | None:
    """The case with its calls repeated on every prefix of the sequence, each prefix's values
    expected as probes (not scored) at the step it adds; None when the case has no sequence
    to cut, already has probes, or the reference cannot run a prefix."""
    steps = case.dims.get("T")
    if not isinstance(steps, int) or not 2 <= steps <= MAX_STEPS \
            or any(e.probe for e in case.expects):
        return None
    scored = [e for e in case.expects if not e.required]
    if not scored or not any(_cuttable(a, steps) for c in case.calls for a in c.args):
        return None
    calls, expects = list(case.calls), list(case.expects)
    for length in range(1, steps):
        offset = len(calls)
        alone = [_cut_call(call, steps, length, 0) for call in case.calls]
        result = run_case(reference, Case(name="", function=case.function, calls=alone))
        if result.failure is not None or not all(c.ok for c in result.calls):
            return None
        calls += [_cut_call(call, steps, length, offset) for call in case.calls]
        for expect in scored:
            value = result.calls[expect.call].parts[expect.part]
            if isinstance(value, str):
                return None
            expects.append(_probe(expect, offset + expect.call, value, length - 1))
    expects += [_probe(e, e.call, e.value, steps - 1) for e in scored]
    return replace(case, calls=calls, expects=expects)


def narrow(prefixed_case, verdicts: list, context, run) -> None:
    """Add where it first goes wrong to each public verdict over a sequence whose every
    diagnosis is vague. `prefixed_case(index)` gives the prefixed case of the verdict at that
    index (or None), built only when first asked; `run(cases)` runs cases in the submission's
    child and returns their outcomes. The score and the codes stay as judged; the judge runs
    again without naming mistakes (it named none the first time, and its memory of this
    submission's names is settled already)."""
    wanted = []
    for index, verdict in enumerate(verdicts):
        if not verdict.passed and verdict.case.visibility == "public" and verdict.codes \
                and set(verdict.codes) <= _NARROWABLE:
            longer = prefixed_case(index)
            if longer is not None:
                wanted.append((verdict, longer))
    if not wanted:
        return
    outcomes = run([longer for _, longer in wanted])
    plain = replace(context, name_mistake=None)
    for (verdict, longer), outcome in zip(wanted, outcomes):
        if outcome.failure is not None:
            continue
        again = judge(longer, outcome, plain)
        if again.fraction == verdict.fraction and again.messages != verdict.messages:
            verdict.messages = again.messages


def _probe(expect: Expect, call: int, value, step: int) -> Expect:
    return Expect(expect.label, call, expect.part, np.asarray(value), rtol=expect.rtol,
                  atol=expect.atol, time_axis=expect.time_axis, block_axis=expect.block_axis,
                  blocks=expect.blocks, probe=True, step=step)


def _cuttable(value, steps: int) -> bool:
    return isinstance(value, np.ndarray) and (steps in value.shape or steps + 1 in value.shape)


def _cut_call(call: Call, steps: int, length: int, offset: int) -> Call:
    return replace(call, args=tuple(_cut(a, steps, length, offset) for a in call.args),
                   kwargs={k: _cut(v, steps, length, offset) for k, v in call.kwargs.items()},
                   check_inputs=False)


def _cut(value, steps: int, length: int, offset: int):
    """An argument on the first `length` steps: an array cut along its first axis of T (or
    T + 1) entries, a reference moved to the cut call it refers to."""
    if isinstance(value, Ref):
        return Ref(value.call + offset, value.path)
    if not isinstance(value, np.ndarray):
        return value
    for size, keep in ((steps, length), (steps + 1, length + 1)):
        if size in value.shape:
            axis = value.shape.index(size)
            return value[(slice(None),) * axis + (slice(0, keep),)]
    return value
