"""The worker's warm-up: it runs the harness on every assignment's public plans without
failing, and leaves nothing behind that would change what a child computes or reports."""
from pathlib import Path

import numpy as np
import pytest

from grader.course.assignment import available, load
from grader.sandbox import harness, warmup
from grader.sandbox.messages import plan

COURSE = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", available(COURSE))
def test_warm_runs_every_public_plan_and_leaves_numpy_as_it_was(name):
    cases = [c for c in load(name, COURSE).cases if c.visibility == "public"]
    plans = [plan(c.calls) for c in cases]
    assert plans, f"{name} has no public case to warm with"
    before_err, before_call = np.geterr(), np.geterrcall()
    warmup.warm(plans)
    assert np.geterr() == before_err
    assert np.geterrcall() is before_call


def test_stand_ins_return_for_every_call_and_fail_when_asked():
    """Both stand-ins get through a real case: the returning one reaches the reply encoder,
    the failing one the error path (each is what a child does most)."""
    cases = [c for c in load("rnn_linear", COURSE).cases if c.visibility == "public"]
    calls = plan(cases[0].calls)
    for stand_in, ok in (("_stand_in", True), ("_failing", False)):
        names = {call["function"] for call in calls}
        source = warmup.STAND_INS + "".join(f"{n} = {stand_in}\n" for n in names)
        namespace, errors = harness.define(source)
        assert errors == []
        replies, _ = harness.run_case(namespace, calls)
        assert [reply["ok"] for reply in replies] == [ok] * len(calls)
        if not ok:
            assert {reply["error"]["type"] for reply in replies} == {"ValueError"}
