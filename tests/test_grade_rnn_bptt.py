"""Grading the tanh-RNN / BPTT assignment: correct code in several styles scores full marks;
each classic mistake loses points and is named; hidden tests reveal nothing."""
import importlib.util

import numpy as np
import pytest

from grader.results import results_json as results
from reference import rnn_bptt as ref
from tests.grading import (COURSE, assignment, grade_source, lost, messages, reference_source,
                           said, verdicts_for)

IMPORTS = "import numpy as np\n"
PROVIDED = reference_source(ref, "softmax")
CORRECT = IMPORTS + PROVIDED + "\n" + reference_source(ref, "rnn_forward", "rnn_loss", "bptt")

# Explicit loops, one step of the recurrence at a time, outputs per step.
LOOPS = IMPORTS + PROVIDED + '''

def rnn_forward(x, U, W, V):
    T = x.shape[0]
    s = np.zeros((T, W.shape[0]))
    y_hat = np.zeros((T, V.shape[0]))
    h = np.zeros(W.shape[0])
    for t in range(T):
        h = np.tanh(U.dot(x[t]) + W.dot(h))
        s[t] = h
        y_hat[t] = softmax(V.dot(h))
    return s, y_hat


def rnn_loss(y_hat, y):
    total = 0.0
    for t, label in enumerate(y):
        total -= np.log(y_hat[t, label])
    return float(total)


def bptt(x, y, U, W, V, truncate=None):
    T = len(y)
    s, y_hat = rnn_forward(x, U, W, V)
    dU, dW, dV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    for t in reversed(range(T)):
        d_out = y_hat[t].copy()
        d_out[y[t]] -= 1
        dV += np.outer(d_out, s[t])
        d_a = V.T.dot(d_out) * (1 - s[t] ** 2)
        oldest = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, oldest - 1, -1):
            s_before = s[k - 1] if k > 0 else np.zeros(W.shape[0])
            dW += np.outer(d_a, s_before)
            dU += np.outer(d_a, x[k])
            d_a = W.T.dot(d_a) * (1 - s_before ** 2)
    return dU, dW, dV
'''

# einsum, the input's dtype kept throughout (float32 stays float32), the outputs' error
# computed for all steps at once, and a depth counter instead of a lower bound.
DTYPE_KEEPING = IMPORTS + PROVIDED + '''

def rnn_forward(x, U, W, V):
    dtype = np.result_type(x, U, W, V)
    states = []
    prev = np.zeros(W.shape[0], dtype=dtype)
    for x_t in x:
        prev = np.tanh(np.einsum("hd,d->h", U, x_t) + np.einsum("hj,j->h", W, prev))
        states.append(prev)
    s = np.array(states)
    return s, softmax(np.einsum("kh,th->tk", V, s))


def rnn_loss(y_hat, y):
    return -float(np.log(np.take_along_axis(y_hat, np.asarray(y)[:, None], axis=1)).sum())


def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T = s.shape[0]
    prev = np.concatenate([np.zeros_like(s[:1]), s[:-1]], axis=0)
    err = y_hat - np.eye(V.shape[0], dtype=y_hat.dtype)[y]
    dV = np.einsum("tk,th->kh", err, s)
    dU = np.zeros_like(U, dtype=s.dtype)
    dW = np.zeros_like(W, dtype=s.dtype)
    depth = T if truncate is None else truncate + 1
    for t in range(T):
        delta = np.einsum("kh,k->h", V, err[t]) * (1 - s[t] * s[t])
        for k in range(t, max(t - depth, -1), -1):
            dW += np.einsum("i,j->ij", delta, prev[k])
            dU += np.einsum("i,j->ij", delta, x[k])
            delta = np.einsum("ij,i->j", W, delta) * (1 - prev[k] * prev[k])
    return dU, dW, dV
'''

BPTT = '''
def bptt(x, y, U, W, V, truncate=None):
    T = len(y)
    s, y_hat = rnn_forward(x, U, W, V)
    s_prev = np.vstack([np.zeros((1, W.shape[0])), s[:-1]])
    dU, dW, dV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    delta_o = y_hat.copy()
    delta_o[np.arange(T), y] -= 1.0
    for t in range(T - 1, -1, -1):
        dV += np.outer(delta_o[t], s[t])
        delta = (V.T @ delta_o[t]) * (1 - s[t] ** 2)
        first = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, first - 1, -1):
            dW += np.outer(delta, s_prev[k])
            dU += np.outer(delta, x[k])
            delta = (W.T @ delta) * (1 - s_prev[k] ** 2)
    return dU, dW, dV
'''


def bptt_with(*edits):
    """The correct submission whose bptt is BPTT with (old, new) text replacements."""
    source = BPTT
    for old, new in edits:
        assert old in source, old
        source = source.replace(old, new)
    return grade_source("rnn_bptt", CORRECT, IMPORTS + source)


def named(graded, name):
    return next(v for v in graded.verdicts if v.case.name == name)


FULL = "bptt, full: T=6 steps, D=4, H=3, K=5"
TRUNCATED = "bptt, truncate=2: T=7 steps, D=3, H=5, K=4"
CHECK = "bptt agrees with your rnn_forward and rnn_loss (gradient check)"


def test_the_bptt_template_is_the_reference():
    graded = grade_source("rnn_bptt", CORRECT, IMPORTS + BPTT)
    assert graded.score == assignment("rnn_bptt").max_score, messages(graded)


@pytest.mark.parametrize("source", [CORRECT, LOOPS, DTYPE_KEEPING],
                         ids=["reference", "loops", "dtype-keeping-einsum"])
def test_correct_styles_score_full_marks(source):
    graded = grade_source("rnn_bptt", source)
    assert graded.error is None and not graded.notes
    assert all(v.passed for v in graded.verdicts), messages(graded)
    assert graded.score == assignment("rnn_bptt").max_score


def test_variants_without_a_mistake_are_the_reference():
    spec = importlib.util.spec_from_file_location("rnn_bptt_cases",
                                                  COURSE / "assignments/rnn_bptt/cases.py")
    cases = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cases)
    rng = np.random.default_rng(0)
    x, y, U, W, V = cases._data(rng, 6, 3, 4, 5)
    for truncate in (None, 0, 1, 3, 9):
        for got, want in zip(cases.bptt_variant(x, y, U, W, V, truncate=truncate),
                             ref.bptt(x, y, U, W, V, truncate=truncate)):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_truncation_one_step_too_long():
    graded = bptt_with(("max(0, t - truncate)", "max(0, t - truncate - 1)"))
    verdict = named(graded, TRUNCATED)
    assert set(verdict.codes) == {"trunc:long"} and 0 < verdict.fraction < 1  # dV is right
    assert said("your truncation goes one step too far back: with truncate=2 the error made at "
                "step t flows back through steps t, t−1, …, max(0, t−2) only (3 steps, both "
                "ends included); yours reaches step t−3.", verdict.messages)
    assert named(graded, FULL).passed and named(graded, CHECK).passed
    assert lost(graded, "bptt") > 0


def test_truncation_one_step_too_short():
    graded = bptt_with(("max(0, t - truncate)", "max(0, t - truncate + 1)"))
    verdict = named(graded, TRUNCATED)
    assert set(verdict.codes) == {"trunc:short"}
    assert said("your truncation stops one step too early", verdict.messages)
    assert "yours stops one step before max(0, t−2)" in verdict.messages[0]
    assert named(graded, FULL).passed


def test_truncate_ignored():
    graded = bptt_with(("first = 0 if truncate is None else max(0, t - truncate)", "first = 0"))
    verdict = named(graded, TRUNCATED)
    assert said("your bptt ignores truncate", verdict.messages)
    assert named(graded, FULL).passed


def test_full_bptt_without_the_recurrence():
    graded = bptt_with(("first = 0 if truncate", "first = t if truncate"))
    verdict = named(graded, FULL)
    assert set(verdict.codes) == {"bptt:no_recurrence"}
    assert said("your gradients have only the immediate term of each step (what truncate=0 "
                "gives)", verdict.messages)
    assert len(verdict.messages) == 1  # one sentence for dU and dW
    assert not named(graded, CHECK).passed
    assert named(graded, TRUNCATED).passed


def test_tanh_derivative_without_the_square():
    graded = bptt_with(("(1 - s[t] ** 2)", "(1 - s[t])"), ("(1 - s_prev[k] ** 2)", "(1 - s_prev[k])"))
    verdict = named(graded, FULL)
    assert set(verdict.codes) == {"bptt:tanh"}
    assert said("your bptt uses 1 − s as the derivative of tanh: written with its output "
                "s = tanh(a) it is 1 − s²", verdict.messages)
    assert verdict.fraction == pytest.approx(1 / 3)  # dV is right
    graded = bptt_with(("(1 - s_prev[k] ** 2)", "(1 - s_prev[k])"))
    assert said("your bptt uses 1 − s as the derivative of tanh when stepping back",
                named(graded, FULL).messages)


def test_softmax_gradient_without_the_one_hot_target():
    graded = bptt_with(("    delta_o[np.arange(T), y] -= 1.0\n", ""))
    verdict = named(graded, FULL)
    assert verdict.score == 0 and set(verdict.codes) == {"bptt:no_onehot"}
    assert said("your bptt starts from ŷ_t instead of ŷ_t − 1_{y_t}", verdict.messages)
    assert len(verdict.messages) == 1
    assert lost(graded, "bptt") > 10


@pytest.mark.parametrize("loop, code, text", [
    ("range(T - 1, 0, -1)", "loop:skip_first", "your loop over time skips t = 0"),
    ("range(T - 2, -1, -1)", "loop:skip_last",
     "your loop over time skips the last step t = T − 1 = 5"),
])
def test_loop_over_time_off_by_one(loop, code, text):
    graded = bptt_with(("range(T - 1, -1, -1)", loop))
    verdict = named(graded, FULL)
    assert code in verdict.codes and verdict.fraction < 1
    assert said(text, verdict.messages)


def test_loop_back_in_time_stops_before_zero():
    graded = bptt_with(("range(t, first - 1, -1)", "range(t, first, -1)"))
    full = named(graded, FULL)
    assert "loop:skip_k0" in full.codes
    assert said("your loop going back in time stops before step k = 0", full.messages)
    # the same slip in a truncated run is a truncation one step too short, in one sentence
    truncated = named(graded, TRUNCATED)
    assert set(truncated.codes) == {"trunc:short"}
    assert len(truncated.messages) == 1
    assert said("your truncation stops one step too early", truncated.messages)
    assert "range(t, first, −1) never reaches first" in truncated.messages[0]


def test_gradients_overwritten_instead_of_accumulated():
    graded = bptt_with(("dV += np.outer", "dV = np.outer"))
    verdict = named(graded, FULL)
    assert verdict.codes == ["bptt:overwrite"] and verdict.fraction == pytest.approx(2 / 3)
    assert said("your gradients keep the contribution of only one step", verdict.messages)
    assert "(dW += …) instead of assigning it (dW = …)" in verdict.messages[0]
    graded = bptt_with(("dV += np.outer", "dV = np.outer"), ("dW += np.outer", "dW = np.outer"),
                       ("dU += np.outer", "dU = np.outer"))
    verdict = named(graded, FULL)
    assert verdict.score == 0 and set(verdict.codes) == {"bptt:overwrite"}
    assert len(verdict.messages) == 1  # dW (= 0 here) is explained too
    assert said("your gradients keep the contribution of only one step", verdict.messages)


def test_w_not_transposed_when_stepping_back():
    graded = bptt_with(("(W.T @ delta)", "(W @ delta)"))
    verdict = named(graded, FULL)
    assert set(verdict.codes) == {"bptt:W_not_transposed"}
    assert said("your bptt steps back through W with W δ", verdict.messages)


def test_previous_state_wrapping_around_at_k_0():
    graded = bptt_with(("dW += np.outer(delta, s_prev[k])", "dW += np.outer(delta, s[k - 1])"))
    verdict = named(graded, FULL)
    assert verdict.codes == ["bptt:wrap"]
    assert said("your s_{k−1} at k = 0 is s[−1], which numpy reads as the *last* state",
                verdict.messages)


def test_step_back_with_the_current_state():
    graded = bptt_with(("(1 - s_prev[k] ** 2)", "(1 - s[k] ** 2)"))
    verdict = named(graded, FULL)
    assert set(verdict.codes) == {"bptt:back_state"} and len(verdict.messages) == 1
    assert said("your bptt steps back from step k with 1 − s_k²", verdict.messages)


def test_a_step_index_mixed_up_is_named_by_a_generated_mistake():
    # dW takes s_{t−1} where s_{k−1} belongs: no hand-written hypothesis says so, a mistake
    # generated from the reference does
    graded = bptt_with(("np.outer(delta, s_prev[k])", "np.outer(delta, s_prev[t])"))
    verdict = named(graded, FULL)
    assert verdict.codes == ["mutant:substitute"] and verdict.fraction == pytest.approx(2 / 3)
    assert verdict.messages == ["A specific mistake in `bptt` gives exactly your dW (it uses t "
                                "where k belongs)."]


def test_unexplained_mistake_says_where_it_first_appears():
    # dW's terms scaled by 1.5 once the error is carried back a step (k < t): nothing
    # generated gives that, and the prefixes of the sequence say where it starts (the first
    # prefix with a step carried back from t = 2 is where it shows)
    graded = bptt_with(("np.outer(delta, s_prev[k])",
                        "np.outer(delta, s_prev[k]) * (1.5 if k < t else 1.0)"))
    verdict = named(graded, FULL)
    assert verdict.codes == ["other"] and verdict.fraction == pytest.approx(2 / 3)
    assert verdict.messages[0].startswith("Your dW is off by a relative error of")
    assert verdict.messages[0].endswith("Cutting the sequence short shows where: your result "
                                        "first differs when step t=2 is included.")


def test_loss_averaged_over_time():
    cell = IMPORTS + "def rnn_loss(y_hat, y):\n    return float(-np.mean(np.log(y_hat[np.arange(len(y)), y])))\n"
    graded = grade_source("rnn_bptt", CORRECT, cell)
    verdict = [v for v in verdicts_for(graded, "rnn_loss") if v.case.visibility == "public"][0]
    assert verdict.codes == ["scale:1/T"] and verdict.score == 0
    assert said("your loss is exactly 1/6 of the reference (T = 6, the sequence length): it is "
                "averaged over the sequence length where the loss sums.", verdict.messages)
    # bptt (the reference's) now disagrees with the student's own loss by the factor T
    check = named(graded, CHECK)
    assert not check.passed
    assert said("the sequence length", check.messages)
    assert lost(graded, "rnn_loss") == 3  # the one-step sequence still passes


def test_loss_picking_a_block_instead_of_one_entry_per_row():
    cell = IMPORTS + "def rnn_loss(y_hat, y):\n    return float(-np.sum(np.log(y_hat[:, y])))\n"
    graded = grade_source("rnn_bptt", CORRECT, cell)
    assert said("your loss picks y_hat[:, y], a T×T block of probabilities", graded, "rnn_loss")


def test_forward_without_the_recurrence():
    cell = IMPORTS + ("def rnn_forward(x, U, W, V):\n    s = np.tanh(x @ U.T)\n"
                      "    return s, softmax(s @ V.T)\n")
    graded = grade_source("rnn_bptt", CORRECT, cell)
    verdict = [v for v in verdicts_for(graded, "rnn_forward") if v.case.visibility == "public"][0]
    assert verdict.score == 0 and verdict.codes == ["forward:no_recurrence"] * 2
    assert said("your rnn_forward ignores the previous state", verdict.messages)
    assert len(verdict.messages) == 1


def test_naive_softmax_overflows_on_large_weights():
    cell = IMPORTS + '''
def rnn_forward(x, U, W, V):
    s = np.zeros((x.shape[0], W.shape[0]))
    prev = np.zeros(W.shape[0])
    for t in range(x.shape[0]):
        prev = s[t] = np.tanh(U @ x[t] + W @ prev)
    e = np.exp(s @ V.T)
    return s, e / e.sum(axis=1, keepdims=True)
'''
    graded = grade_source("rnn_bptt", CORRECT, cell)
    for verdict in verdicts_for(graded, "rnn_forward"):
        assert verdict.passed != verdict.case.no_fp_warnings, verdict.case.name
    large = [v for v in verdicts_for(graded, "rnn_forward") if v.case.no_fp_warnings][0]
    assert large.score == 0 and "overflow" in large.codes
    assert said("`rnn_forward` overflowed or produced an invalid value (numpy warned) on large "
                "inputs: use a numerically stable form.", large.messages)


def test_shifted_softmax_and_saturated_tanh_are_not_flagged():
    graded = grade_source("rnn_bptt", CORRECT)
    large = [v for v in graded.verdicts if v.case.no_fp_warnings]
    assert {v.case.function for v in large} == {"rnn_forward", "bptt"}
    assert all(v.passed and not v.codes for v in large)


def test_hidden_tests_reveal_nothing():
    graded = bptt_with(("(1 - s[t] ** 2)", "(1 - s[t])"), ("(1 - s_prev[k] ** 2)", "(1 - s_prev[k])"))
    report = results.to_gradescope(graded, assignment("rnn_bptt"))
    hidden = [t for t in report["tests"] if t["visibility"] == "after_published"]
    assert any(t["status"] == "failed" for t in hidden)
    assert all(t["output"] in ("Passed.", "Failed (hidden test: no details are shown).")
               for t in hidden)
    assert all(t["tags"] == ["bptt"] for t in hidden if t["name"].startswith("bptt"))
    lines = results.report_text(graded, assignment("rnn_bptt")).splitlines()
    for verdict in graded.verdicts:
        if verdict.case.visibility == "hidden" and not verdict.passed:
            at = next(i for i, line in enumerate(lines) if verdict.case.name in line)
            assert lines[at + 1].strip() == "(hidden test)"


def test_stub_left_unfilled():
    graded = grade_source("rnn_bptt", CORRECT, IMPORTS + "def bptt(x, y, U, W, V, truncate=None):\n"
                                                         "    raise NotImplementedError\n")
    assert said("`bptt` still raises NotImplementedError", graded, "bptt")
    assert all(v.score == 0 for v in verdicts_for(graded, "bptt"))
    assert all(v.passed for v in verdicts_for(graded, "rnn_forward"))


def test_regrading_is_deterministic():
    edits = (("np.outer(delta, x[k])", "np.outer(delta, x[t])"),)
    first, second = bptt_with(*edits), bptt_with(*edits)
    assert [(v.score, v.messages) for v in first.verdicts] == \
        [(v.score, v.messages) for v in second.verdicts]


def test_cases_are_small_and_checked():
    cases = assignment("rnn_bptt").cases
    publics = [c for c in cases if c.visibility == "public"]
    assert {c.function for c in publics} == {"rnn_forward", "rnn_loss", "bptt"}
    assert len(publics) < len(cases) / 2
    assert any(e.probe for c in publics for e in c.expects)
    for case in cases:
        assert all(call.check_inputs and call.arg_names and call.signature for call in case.calls)
        assert len(case.calls) <= 30
        sizes = [np.size(a) for call in case.calls for a in call.args if isinstance(a, np.ndarray)]
        assert max(sizes, default=0) <= 50
        assert len(set(v for v in case.dims.values() if v > 1)) == \
            len([v for v in case.dims.values() if v > 1])  # sizes tell apart
