"""Narrowing a vague failure down to a time step (grader.judge.narrowing): the public case runs
again on every prefix of its sequences in the student's child, and the message says where the
values first go wrong. Hidden cases are never narrowed, the score never changes, and a
submission whose failures are already named (or that fails nothing) runs only once."""
from pathlib import Path

import numpy as np
import pytest

from grader.judge import narrowing
from grader.judge.fingerprints import namespace_of, reference_module, run_case
from grader.read.submission import extract_source
from grader.results.grade import called_functions, judged, run_submission
from tests.grading import assignment, worker

ROOT = Path(__file__).resolve().parents[1]
WHERE = "first differs when step"
#: the notebook's provided σ, as the handout gives it
SIGMOID = "import numpy as np\ndef sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n"


def _lstm(change: tuple[str, str]) -> str:
    source = (ROOT / "reference" / "lstm.py").read_text()
    source = source.replace("from reference.gates import sigmoid", "")
    assert change[0] in source
    return source.replace(*change)


#: a carry that is wrong: right on a sequence of one step, wrong from the second step on
CARRY_HALVED = ("dh_next = dxh[:, D:]", "dh_next = 0.5 * dxh[:, D:] + 0.01")


class Counting:
    """A worker that counts the submission's runs."""

    def __init__(self, inner):
        self.inner, self.runs = inner, 0

    def run(self, *args, **kwargs):
        self.runs += 1
        return self.inner.run(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _graded(name: str, *cells, narrowed=True):
    spec = assignment(name)
    submission = extract_source(list(cells), "narrow", called_functions(spec))
    counting = Counting(worker())
    ran = run_submission(spec, submission, counting)
    graded = judged(spec, submission, ran, counting if narrowed else None)
    return graded, counting.runs


def test_a_wrong_carry_is_placed_at_the_step_it_first_shows():
    graded, runs = _graded("lstm", SIGMOID, _lstm(CARRY_HALVED))
    public = [v for v in graded.verdicts if v.case.visibility == "public"
              and v.case.function == "lstm_backward" and not v.passed
              and "gradient check" not in v.case.name]
    assert public, [v.messages for v in graded.verdicts]
    for verdict in public:
        assert any(f"{WHERE} t=1 is included" in m for m in verdict.messages), verdict.messages
    assert runs == 2  # the batch's run, then the prefixes of the vague public cases


def test_hidden_cases_and_scores_stay_as_they_were():
    narrowed, _ = _graded("lstm", SIGMOID, _lstm(CARRY_HALVED))
    plain, runs = _graded("lstm", SIGMOID, _lstm(CARRY_HALVED), narrowed=False)
    assert runs == 1
    assert narrowed.score == plain.score
    for a, b in zip(narrowed.verdicts, plain.verdicts):
        assert (a.fraction, a.codes) == (b.fraction, b.codes)
        if a.case.visibility != "public":
            assert a.messages == b.messages
            assert not any(WHERE in m for m in a.messages)
    assert any(a.messages != b.messages for a, b in zip(narrowed.verdicts, plain.verdicts))


def test_a_correct_submission_and_a_named_mistake_run_once():
    _, runs = _graded("lstm", SIGMOID, _lstm(("return dX, dW, db", "return dX, dW, db")))
    assert runs == 1
    # a mistake the judge names (the batch summed, not averaged, is a scale: named by rule)
    graded, runs = _graded("rnn_linear", (ROOT / "reference" / "rnn_linear.py").read_text()
                           .replace("return (wx_grad / n_samples, wRec_grad / n_samples)",
                                    "return (wx_grad, wRec_grad)"))
    assert not all(v.passed for v in graded.verdicts)
    assert runs == 1
    assert not any(WHERE in m for v in graded.verdicts for m in v.messages)


def test_narrowing_is_deterministic():
    first, _ = _graded("lstm", SIGMOID, _lstm(CARRY_HALVED))
    second, _ = _graded("lstm", SIGMOID, _lstm(CARRY_HALVED))
    assert [v.messages for v in first.verdicts] == [v.messages for v in second.verdicts]


def test_prefixes_are_the_reference_on_the_first_steps():
    spec = assignment("lstm")
    reference = namespace_of(reference_module(ROOT, "lstm"))
    case = next(c for c in spec.cases if c.visibility == "public" and c.function == "lstm_backward"
                and not c.gradchecks)
    longer = narrowing.prefixed(case, reference)
    steps = case.dims["T"]
    assert longer is not None and len(longer.calls) == steps * len(case.calls)
    probes = [e for e in longer.expects if e.probe]
    assert sorted({e.step for e in probes}) == list(range(steps))
    scored = [e for e in longer.expects if not e.probe]
    assert [(e.label, e.call) for e in scored] == [(e.label, e.call) for e in case.expects]
    # the probes' answers are the reference's own on the cut inputs
    outcome = run_case(reference, longer)
    for probe in probes:
        value = outcome.calls[probe.call].parts[probe.part]
        assert np.allclose(value, probe.value, rtol=1e-12, atol=0)
        if probe.step < steps - 1 and probe.label == "dX":
            assert value.shape[1] == probe.step + 1  # dX of the first step + 1 steps


@pytest.mark.parametrize("name", ["gates", "two_layer"])
def test_cases_without_a_sequence_are_not_prefixed(name):
    spec = assignment(name)
    reference = namespace_of(reference_module(ROOT, name))
    assert all(narrowing.prefixed(c, reference) is None for c in spec.cases)
