"""Grading the LSTM assignment: correct code, in the reference's style or another, scores full
marks; each classic mistake loses points and is named.

Every mistake is the reference with one small edit (see `edit`), so the submission makes exactly
that mistake and nothing else.
"""
import importlib.util

import numpy as np
import pytest

from grader.results import results_json as results
from reference import gates
from reference import lstm as ref
from tests.grading import COURSE, assignment, grade_source, messages, reference_source

IMPORTS = "import numpy as np\n"
# the notebook provides this sigmoid; a submission cannot import reference.gates
SIGMOID = reference_source(gates, "sigmoid")
FORWARD = reference_source(ref, "lstm_forward")
BACKWARD = reference_source(ref, "lstm_backward")
CORRECT = IMPORTS + SIGMOID + "\n" + FORWARD + "\n" + BACKWARD


def edit(source, old, new):
    """`source` with `old` replaced by `new`; `old` must occur (exactly once)."""
    assert source.count(old) == 1, f"{old!r} not found once in the reference"
    return source.replace(old, new)


def submission(forward=(), backward=()):
    """The reference with edits [(old, new)] applied to its forward and backward."""
    f, b = FORWARD, BACKWARD
    for old, new in forward:
        f = edit(f, old, new)
    for old, new in backward:
        b = edit(b, old, new)
    return IMPORTS + SIGMOID + "\n" + f + "\n" + b


def by_name(graded):
    return {v.case.name: v for v in graded.verdicts}


def failed(graded):
    return sorted(v.case.name for v in graded.verdicts if not v.passed)


def lost(graded):
    """Points lost, to 3 decimals (verdict scores are rounded to 4)."""
    return round(assignment("lstm").max_score - graded.score, 3)


def names(keep):
    """Names of the assignment's tests whose case satisfies keep(case), in spec order."""
    return [c.name for c in assignment("lstm").cases if keep(c)]


def use_state(case):
    return case.calls[0].kwargs["use_state"]


def steps(case):
    return case.dims["T"]


def float32(case):
    return case.calls[0].args[0].dtype == np.float32


FORWARD_TESTS = names(lambda c: c.function == "lstm_forward")
BACKWARD_VALUE_TESTS = names(lambda c: c.function == "lstm_backward" and not c.gradchecks)
GRADIENT_CHECKS = names(lambda c: bool(c.gradchecks))
MULTI_STEP = names(lambda c: c.name in BACKWARD_VALUE_TESTS and steps(c) > 1)
ONE_STEP = names(lambda c: c.name in FORWARD_TESTS + BACKWARD_VALUE_TESTS and steps(c) == 1)
USE_STATE = names(use_state)
FLOAT64_VALUE_TESTS = names(lambda c: c.name in FORWARD_TESTS + BACKWARD_VALUE_TESTS
                            and not float32(c))


def points(names):
    cases = {c.name: c for c in assignment("lstm").cases}
    return sum(cases[n].points for n in names)


# ---- the case builders ------------------------------------------------------------------------

def _cases_module():
    spec = importlib.util.spec_from_file_location("lstm_cases_under_test",
                                                  COURSE / "assignments" / "lstm" / "cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("use_state", [False, True])
def test_variant_lstm_with_default_switches_is_the_reference(use_state):
    cases = _cases_module()
    rng = np.random.default_rng(5)
    X, W, b, dout = (rng.standard_normal(s) for s in ((3, 4, 2), (5, 12), (12,), (3, 4, 3)))
    out, cache = ref.lstm_forward(X, W, b, use_state)
    v_out, v_cache = cases.variant_forward(X, W, b, use_state)
    np.testing.assert_allclose(v_out, out, rtol=1e-14, atol=1e-15)
    for mine, theirs in zip(cases.variant_backward(dout, v_cache), ref.lstm_backward(dout, cache)):
        np.testing.assert_allclose(mine, theirs, rtol=1e-13, atol=1e-14)


def test_every_case_is_small_and_its_hypotheses_differ():
    for case in assignment("lstm").cases:
        assert case.dims.keys() == {"N", "T", "H", "D"}
        assert len(case.calls) <= 20
        for expect in case.expects:
            values = [h.value for h in expect.hypotheses]
            for i, first in enumerate(values):
                for second in values[i + 1:]:
                    assert np.max(np.abs(first - second)) > 1e-4 * np.max(np.abs(first)), \
                        (case.name, expect.label)


# ---- correct submissions ----------------------------------------------------------------------

def test_reference_scores_full_marks():
    graded = grade_source("lstm", CORRECT)
    assert graded.error is None and not graded.notes
    assert graded.score == assignment("lstm").max_score, messages(graded)
    assert all(v.passed for v in graded.verdicts)


def test_stable_sigmoid_is_not_flagged_on_large_weights():
    # the provided sigmoid's e^(−|x|) underflows to 0 for |x| > 745: underflow is no warning
    graded = grade_source("lstm", CORRECT)
    large = by_name(graded)["lstm_forward: large weights, saturated gates, no overflow"]
    assert large.passed and "overflow" not in large.codes


ALTERNATIVE = IMPORTS + '''
def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))   # stable without any exp


def lstm_forward(X, W, b, use_state=False):
    """Separate gate matrices sliced from W; all steps kept in arrays; einsum everywhere."""
    N, T, D = X.shape
    H = b.shape[0] // 4
    Wx = {gate: W[:D, k * H:(k + 1) * H] for k, gate in enumerate("fiog")}
    Wh = {gate: W[D:, k * H:(k + 1) * H] for k, gate in enumerate("fiog")}
    bias = {gate: b[k * H:(k + 1) * H] for k, gate in enumerate("fiog")}
    hs = np.zeros((T + 1, N, H))
    cs = np.zeros((T + 1, N, H))
    gate_values = {gate: np.zeros((T, N, H)) for gate in "fiog"}
    for t in range(T):
        for gate in "fiog":
            pre = np.einsum("nd,dh->nh", X[:, t], Wx[gate]) + hs[t] @ Wh[gate] + bias[gate]
            gate_values[gate][t] = np.tanh(pre) if gate == "g" else sigmoid(pre)
        f, i, o, g = (gate_values[k][t] for k in "fiog")
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    out = (cs[1:] if use_state else hs[1:]).transpose(1, 0, 2)
    return out, dict(X=X, W=W, hs=hs, cs=cs, gates=gate_values, use_state=use_state)


def lstm_backward(dout, cache):
    X, W, hs, cs, gv = cache["X"], cache["W"], cache["hs"], cache["cs"], cache["gates"]
    N, T, D = X.shape
    H = hs.shape[2]
    douts = dout.transpose(1, 0, 2)
    das = np.zeros((T, N, 4 * H))
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        f, i, o, g = (gv[k][t] for k in "fiog")
        tanh_c = np.tanh(cs[t + 1])
        dh = dh_next + (0 if cache["use_state"] else douts[t])
        dc = dc_next + dh * o * (1 - tanh_c * tanh_c) + (douts[t] if cache["use_state"] else 0)
        das[t] = np.hstack([dc * cs[t] * f * (1 - f), dc * g * i * (1 - i),
                            dh * tanh_c * o * (1 - o), dc * i * (1 - g * g)])
        dh_next = das[t] @ W[D:].T
        dc_next = dc * f
    dX = np.einsum("tnk,dk->ntd", das, W[:D])
    dW = np.vstack([np.einsum("ntd,tnk->dk", X, das), np.einsum("tnh,tnk->hk", hs[:-1], das)])
    db = das.sum(axis=(0, 1))
    return dX, dW, db
'''


def test_alternative_correct_style_scores_full_marks():
    graded = grade_source("lstm", ALTERNATIVE)
    assert graded.error is None
    assert graded.score == assignment("lstm").max_score, messages(graded)


# ---- mistakes in the forward pass --------------------------------------------------------------

def test_naive_sigmoid_overflow_is_flagged():
    naive_sigmoid = "def sigmoid(x):\n    return 1 / (1 + np.exp(-x))\n\n"
    naive = IMPORTS + naive_sigmoid + FORWARD + "\n" + BACKWARD
    graded = grade_source("lstm", naive)
    large = by_name(graded)["lstm_forward: large weights, saturated gates, no overflow"]
    assert large.score == 0 and "overflow" in large.codes
    assert "`lstm_forward` overflowed" in " ".join(large.messages)
    assert failed(graded) == [large.case.name]
    assert lost(graded) == large.case.points


GATE_ORDER_IFOG = submission(
    forward=[("f = sigmoid(a[:, :H])", "f = sigmoid(a[:, H:2 * H])"),
             ("i = sigmoid(a[:, H:2 * H])", "i = sigmoid(a[:, :H])")],
    backward=[("[df * f * (1 - f), di * i * (1 - i),", "[di * i * (1 - i), df * f * (1 - f),")])


def test_gate_order_ifog_is_named():
    graded = grade_source("lstm", GATE_ORDER_IFOG)
    for function in ("lstm_forward", "lstm_backward"):
        text = messages(graded, function)
        assert "taking the gate blocks in the order input, forget, output, block input gives" \
            in text
        assert "in order, forget, input, output, block input" in text
    verdicts = by_name(graded)
    assert all("gate-order:ifog" in verdicts[n].codes for n in FORWARD_TESTS + BACKWARD_VALUE_TESTS)
    # forward and backward agree with each other, but the gradient checks require a correct
    # forward first
    assert failed(graded) == sorted(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)
    assert lost(graded) == points(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)


def test_gate_order_pytorch_is_named():
    graded = grade_source("lstm", submission(
        forward=[("f = sigmoid(a[:, :H])", "f = sigmoid(a[:, H:2 * H])"),
                 ("i = sigmoid(a[:, H:2 * H])", "i = sigmoid(a[:, :H])"),
                 ("o = sigmoid(a[:, 2 * H:3 * H])", "o = sigmoid(a[:, 3 * H:])"),
                 ("g = np.tanh(a[:, 3 * H:])", "g = np.tanh(a[:, 2 * H:3 * H])")],
        backward=[("[df * f * (1 - f), di * i * (1 - i), do * o * (1 - o), dg * (1 - g ** 2)]",
                   "[di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)]")]))
    text = messages(graded)
    assert "in the order input, forget, block input, output (PyTorch's and Keras' order) gives" \
        in text
    assert lost(graded) == points(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)


FORGET_TANH = ("f = sigmoid(a[:, :H])", "f = np.tanh(a[:, :H])")


@pytest.mark.parametrize("backward_edit", [[], [("df * f * (1 - f)", "df * (1 - f ** 2)")]],
                         ids=["sigma-derivative-kept", "tanh-derivative"])
def test_forget_gate_through_tanh_is_named(backward_edit):
    graded = grade_source("lstm", submission(forward=[FORGET_TANH], backward=backward_edit))
    for function in ("lstm_forward", "lstm_backward"):
        assert "what a forget gate f = tanh(a[:, 0:H]) gives" in messages(graded, function)
    # with one step the forget gate multiplies c_0 = 0: those tests pass; the gradient checks
    # need a correct forward first, so they fail whether or not the backward matches it
    wrong = sorted(set(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS) - set(ONE_STEP))
    assert "needs a correct forward first" in messages(graded, "lstm_backward")
    if not backward_edit:  # the inconsistent pair (tanh forward, σ' backward) is also named
        assert "disagrees with your own forward" in messages(graded, "lstm_backward")
    assert failed(graded) == wrong
    assert lost(graded) == points(wrong)


def test_concat_order_h_first_is_named():
    graded = grade_source("lstm", submission(
        forward=[("np.concatenate([X[:, t], h], axis=1)", "np.concatenate([h, X[:, t]], axis=1)")],
        backward=[("dX[:, t] = dxh[:, :D]", "dX[:, t] = dxh[:, H:]"),
                  ("dh_next = dxh[:, D:]", "dh_next = dxh[:, :H]")]))
    for function in ("lstm_forward", "lstm_backward"):
        assert "what concatenating [h_{t−1}, x_t] gives: the input comes first" in \
            messages(graded, function)
    # a wrong forward also fails the gradient checks, which require your forward first
    assert failed(graded) == sorted(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)
    assert lost(graded) == points(FORWARD_TESTS + BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)


def test_use_state_ignored_in_forward_is_named():
    graded = grade_source("lstm", submission(
        forward=[("out[:, t] = c if use_state else h", "out[:, t] = h")]))
    text = messages(graded, "lstm_forward")
    assert "use_state=True your out holds the hidden state h_t; it should hold the cell state " \
           "c_t" in text
    wrong = [n for n in FORWARD_TESTS + GRADIENT_CHECKS if n in USE_STATE]
    # the cache is right, so the backward values are right; the gradient check sees that the
    # backward does not belong to this forward
    assert failed(graded) == sorted(wrong)
    assert lost(graded) == points(wrong)


def test_forward_returning_only_out_is_explained():
    graded = grade_source("lstm", submission(
        forward=[("return out, (W, D, bool(use_state), steps)", "return out")]))
    assert graded.score < assignment("lstm").max_score
    public = by_name(graded)["lstm_forward: 3 sequences of 5 steps, output h_t"]
    assert not public.passed and "shape" in " ".join(public.messages)


# ---- mistakes in the backward pass -------------------------------------------------------------

def test_use_state_ignored_in_backward_is_named():
    graded = grade_source("lstm", submission(backward=[
        ("dh = dh_next if use_state else dh_next + dout[:, t]", "dh = dh_next + dout[:, t]"),
        ("        if use_state:\n            dc = dc + dout[:, t]\n", "")]))
    text = messages(graded, "lstm_backward")
    assert "what adding dout_t to dh gives, but with use_state=True the output is the cell " \
           "state c_t: add dout_t to dc" in text
    wrong = [n for n in BACKWARD_VALUE_TESTS + GRADIENT_CHECKS if n in USE_STATE]
    assert failed(graded) == sorted(wrong)
    assert lost(graded) == points(wrong)


def test_dc_not_carried_is_named():
    graded = grade_source("lstm", submission(backward=[
        ("dc = dc_next + dh * o * (1.0 - tanh_c ** 2)", "dc = dh * o * (1.0 - tanh_c ** 2)")]))
    text = messages(graded, "lstm_backward")
    # one sentence for the three outputs wrong in the same way
    assert "Your dX, dW and db are what dropping the cell-state gradient between steps " \
           "gives" in text
    assert "carry dc_next = dc ⊙ f back to step t − 1" in text
    assert not messages(graded, "lstm_forward")
    # with one step there is nothing to carry: those pass
    wrong = sorted(MULTI_STEP + GRADIENT_CHECKS)
    assert failed(graded) == wrong
    assert lost(graded) == points(wrong)


def test_missing_output_gate_derivative_names_the_output_gate():
    graded = grade_source("lstm", submission(backward=[("do * o * (1 - o)", "do")]))
    text = messages(graded, "lstm_backward")
    assert "Your dX, dW and db are what leaving out a local gradient gives: the output gate's " \
           "local gradient o(1 − o) (σ' in terms of its output) is missing: the output block of " \
           "da is do ⊙ o(1 − o)." in text
    verdicts = by_name(graded)
    assert all("missing-local:o" in verdicts[n].codes for n in failed(graded) if n in MULTI_STEP)
    # with use_state=True and one step, no gradient reaches the output gate (dh = 0): it passes
    unaffected = set(USE_STATE) & set(ONE_STEP)
    assert unaffected
    wrong = sorted([n for n in BACKWARD_VALUE_TESTS if n not in unaffected] + GRADIENT_CHECKS)
    assert failed(graded) == wrong
    assert lost(graded) == points(wrong)


def test_wrong_output_gate_quantity_is_named_by_a_generated_mistake():
    # do = dh ⊙ c_{t−1} instead of dh ⊙ tanh(c_t): no hand-written hypothesis; a mistake
    # generated from the reference names it. On one step from zero states c_{t−1} = 0, where
    # dh → c_{t−1} gives the same values: the submission's other cases settle which it is
    graded = grade_source("lstm", submission(backward=[("do = dh * tanh_c", "do = dh * c_prev")]))
    one_step = by_name(graded)["lstm_backward: one sequence of one step, H = D = 1"]
    assert one_step.messages == [
        "A specific mistake in `lstm_backward` gives exactly your dX, dW and db (it uses "
        "c_{t−1} where tanh(c_t) belongs)."]
    assert one_step.codes == ["mutant:substitute"] * 3


def test_a_wrong_block_no_mistake_explains_is_localized():
    # the output gate's local gradient scaled by 1.5: nothing generated gives it, so the block
    # localization says where it is
    graded = grade_source("lstm", submission(backward=[("do * o * (1 - o)", "do * o * (1.5 - o)")]))
    one_step = by_name(graded)["lstm_backward: one sequence of one step, H = D = 1"]
    text = " ".join(one_step.messages)
    assert "your dW, the output block is wrong while the forget block, the input block and " \
           "the block input block are right." in text
    assert "blocks" in one_step.codes


def test_overwritten_gradients_are_named():
    graded = grade_source("lstm", submission(backward=[
        ("dW += xh.T @ da", "dW = xh.T @ da"), ("db += da.sum(axis=0)", "db = da.sum(axis=0)")]))
    text = messages(graded, "lstm_backward")
    assert "Your dW and db are what assigning instead of accumulating gives: only the " \
           "contribution of t = 0" in text
    assert "so their gradients are sums over t: dW += …, db += …" in text
    assert "your dX" not in text  # dX is right: partial credit
    verdicts = by_name(graded)
    for name in MULTI_STEP:
        assert verdicts[name].fraction == pytest.approx(1 / 3)
    wrong = sorted(MULTI_STEP + GRADIENT_CHECKS)
    assert failed(graded) == wrong
    checks_lost = sum(verdicts[n].case.points * (1 - verdicts[n].fraction) for n in GRADIENT_CHECKS)
    assert lost(graded) == round(points(MULTI_STEP) * 2 / 3 + checks_lost, 3)
    # dX is right, so the gradient checks give partial credit too
    assert all(verdicts[n].fraction == pytest.approx(1 / 3) for n in GRADIENT_CHECKS)


def test_float32_storage_fails_float64_tolerance():
    graded = grade_source("lstm", submission(
        forward=[("out = np.zeros((N, T, H))", "out = np.zeros((N, T, H), dtype=np.float32)")],
        backward=[("dW = np.zeros_like(W)", "dW = np.zeros(W.shape, dtype=np.float32)"),
                  ("db = np.zeros(W.shape[1])", "db = np.zeros(W.shape[1], dtype=np.float32)")]))
    forward64 = [n for n in FORWARD_TESTS if n in FLOAT64_VALUE_TESTS]
    backward64 = [n for n in BACKWARD_VALUE_TESTS if n in FLOAT64_VALUE_TESTS]
    # every float64 test fails, each with the precision message; the float32-input ones pass
    assert failed(graded) == sorted(forward64 + backward64 + GRADIENT_CHECKS)
    verdicts = by_name(graded)
    assert all(verdicts[n].codes == ["float32"] for n in forward64)
    assert all(verdicts[n].codes == ["float32", "float32"] for n in backward64)
    text = messages(graded)
    assert "Your out is right to about 7 significant digits only, the precision of float32" in text
    assert "Your dW and db are right to about 7 significant digits only" in text
    # a float32 forward cannot be gradient-checked; the message says so instead of blaming
    # the backward
    checks = " ".join(m for n in GRADIENT_CHECKS for m in verdicts[n].messages)
    assert "Your forward returns float32 values for float64 inputs" in checks
    assert "so your dX, dW and db cannot be checked; compute in float64" in checks
    assert "disagree" not in checks
    assert lost(graded) == round(points(forward64) + points(backward64) * 2 / 3
                                 + points(GRADIENT_CHECKS), 3)


def test_float32_accumulation_in_the_backward_only():
    graded = grade_source("lstm", submission(backward=[
        ("dW = np.zeros_like(W)", "dW = np.zeros(W.shape, dtype=np.float32)")]))
    backward64 = [n for n in BACKWARD_VALUE_TESTS if n in FLOAT64_VALUE_TESTS]
    assert failed(graded) == sorted(backward64)
    assert "Your dW is right to about 7 significant digits only" in messages(graded)
    assert lost(graded) == round(points(backward64) / 3, 3)


def test_unfilled_backward_scores_zero_there_only():
    graded = grade_source("lstm", submission(backward=[
        ("    W, D, use_state, steps = cache\n", "    raise NotImplementedError\n")]))
    assert "still raises NotImplementedError" in messages(graded, "lstm_backward")
    assert lost(graded) == points(BACKWARD_VALUE_TESTS + GRADIENT_CHECKS)


# ---- regrading and what students see ---------------------------------------------------------

def test_regrading_is_deterministic():
    first, second = grade_source("lstm", GATE_ORDER_IFOG), grade_source("lstm", GATE_ORDER_IFOG)
    assert [(v.score, v.messages, v.codes) for v in first.verdicts] == \
        [(v.score, v.messages, v.codes) for v in second.verdicts]


def test_hidden_tests_reveal_nothing():
    graded = grade_source("lstm", GATE_ORDER_IFOG)
    report = results.to_gradescope(graded, assignment("lstm"))
    text = results.report_text(graded, assignment("lstm"))
    hidden = [t for t in report["tests"] if t["visibility"] == "after_published"]
    assert hidden and any(t["status"] == "failed" for t in hidden)
    for test in hidden:
        assert test["output"] in ("Passed.", "Failed (hidden test: no details are shown).")
        assert test["tags"] in (["lstm_forward"], ["lstm_backward"])
    public = [t for t in report["tests"] if t["visibility"] == "visible"]
    assert any("input, forget, output, block input" in t["output"] for t in public)
    assert text.count("input, forget, output, block input gives") == \
        sum(t["output"].count("input, forget, output, block input gives") for t in public)
