"""Grading the gates assignment: correct code in several styles scores full marks; each classic
mistake loses points and is named; hidden tests reveal nothing."""
import dataclasses
import tomllib

import numpy as np
import pytest

from grader.results import results_json as results
from reference import gates as ref
from tests.grading import (COURSE, assignment, grade_source, lost, messages, reference_source,
                           said, verdicts_for)

FUNCTIONS = ("sigmoid", "sigmoid_backward", "neuron_forward", "neuron_backward",
             "staged_forward", "staged_backward", "matmul_backward")
IMPORTS = "import numpy as np\n"
CORRECT = IMPORTS + reference_source(ref, *FUNCTIONS)

# A second correct style: masked sigmoid, loops and dict caches, one helper per gate, np.dot.
HELPERS = IMPORTS + '''
def sigmoid(x):
    arr = np.array(x, dtype=np.float64)
    result = np.empty_like(arr)
    positive = arr >= 0
    result[positive] = 1.0 / (1.0 + np.exp(-arr[positive]))
    exp_neg = np.exp(arr[~positive])
    result[~positive] = exp_neg / (1.0 + exp_neg)
    return result


def sigmoid_backward(dout, out):
    return np.multiply(dout, out * (1.0 - out))


def neuron_forward(w, x):
    total = w[-1]
    for weight, value in zip(w[:-1], x):
        total = total + weight * value
    act = sigmoid(total)
    return float(act), {"w": np.array(w, dtype=float), "x": np.array(x, dtype=float), "act": act}


def neuron_backward(dout, cache):
    w, x, act = cache["w"], cache["x"], cache["act"]
    grad_z = sigmoid_backward(dout, act)
    grad_w = np.zeros_like(w)
    grad_x = np.zeros_like(x)
    for j in range(len(x)):
        grad_w[j] = grad_z * x[j]
        grad_x[j] = grad_z * w[j]
    grad_w[-1] = grad_z
    return grad_w, grad_x


def mul_backward(g, a, b):
    return g * b, g * a


def staged_forward(x, y):
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    sig_y = sigmoid(y)
    top = x + sig_y
    sig_x = sigmoid(x)
    x_plus_y = x + y
    bottom = sig_x + x_plus_y * x_plus_y
    inv_bottom = 1.0 / bottom
    return top * inv_bottom, dict(x_plus_y=x_plus_y, top=top, sig_x=sig_x, sig_y=sig_y,
                                  bottom=bottom, inv_bottom=inv_bottom)


def staged_backward(dout, cache):
    c = cache
    d_top, d_inv = mul_backward(dout, c["top"], c["inv_bottom"])
    d_bottom = -d_inv / c["bottom"] ** 2
    d_xpy = 2 * c["x_plus_y"] * d_bottom
    d_x = d_xpy + sigmoid_backward(d_bottom, c["sig_x"]) + d_top
    d_y = d_xpy + sigmoid_backward(d_top, c["sig_y"])
    return d_x, d_y


def matmul_backward(dD, W, X):
    return np.dot(dD, np.transpose(X)), np.dot(np.transpose(W), dD)
'''

# A third: computes in the dtype it is given (float32 stays float32), log-sum-exp sigmoid,
# einsum, a cache of the pre-activation and stages kept in one tuple.
DTYPE_KEEPING = IMPORTS + '''
def sigmoid(x):
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype(np.float64)
    return np.exp(-np.logaddexp(np.zeros_like(x), -x))


def sigmoid_backward(dout, out):
    return dout * out * (1 - out)


def neuron_forward(w, x):
    z = np.einsum("i,i->", w[:-1], x) + w[-1]
    return float(sigmoid(z)), (w, x, z)


def neuron_backward(dout, cache):
    w, x, z = cache
    s = sigmoid(z)
    dz = dout * s * (1 - s)
    return dz * np.concatenate([x, np.ones(1, dtype=np.asarray(x).dtype)]), dz * w[:-1]


def staged_forward(x, y):
    x, y = np.asarray(x), np.asarray(y)
    sy, sx = sigmoid(y), sigmoid(x)
    q = x + y
    den = sx + q * q
    return (x + sy) / den, (sx, sy, q, x + sy, den)


def staged_backward(dout, cache):
    sx, sy, q, num, den = cache
    dnum = dout / den
    dden = -dout * num / (den * den)
    dq = 2 * q * dden
    return dq + dden * sx * (1 - sx) + dnum, dq + dnum * sy * (1 - sy)


def matmul_backward(dD, W, X):
    return np.einsum("nm,km->nk", dD, X), np.einsum("nk,nm->km", W, dD)
'''


def replace(source, *cells):
    """Grade the correct submission with some functions redefined by later cells."""
    return grade_source("gates", source, *[IMPORTS + c for c in cells])


def public(graded, function):
    return [v for v in verdicts_for(graded, function) if v.case.visibility == "public"]


@pytest.mark.parametrize("source", [CORRECT, HELPERS, DTYPE_KEEPING],
                         ids=["reference", "helpers-and-loops", "dtype-keeping-einsum"])
def test_correct_styles_score_full_marks(source):
    graded = grade_source("gates", source)
    assert graded.error is None and not graded.notes
    assert all(v.passed for v in graded.verdicts), messages(graded)
    assert graded.score == assignment("gates").max_score


def test_a_stable_sigmoid_underflowing_to_zero_is_not_flagged():
    # e^(−|x|) underflows to 0 for |x| = 1e4: that is not a floating-point error
    graded = grade_source("gates", CORRECT)
    large = [v for v in verdicts_for(graded, "sigmoid") if v.case.no_fp_warnings]
    assert len(large) == 2 and all(v.passed and not v.codes for v in large)


def test_naive_sigmoid_overflows_on_large_inputs():
    graded = replace(CORRECT, "def sigmoid(x):\n    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))\n")
    for verdict in verdicts_for(graded, "sigmoid"):
        assert verdict.passed != verdict.case.no_fp_warnings, verdict.case.name
    large = [v for v in public(graded, "sigmoid") if v.case.no_fp_warnings][0]
    assert large.score == 0 and large.codes == ["overflow"]
    assert said("use a numerically stable form", large.messages)
    assert lost(graded, "sigmoid") == 2


def test_both_branches_of_np_where_must_be_safe():
    cell = ("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
            "    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))\n")
    graded = replace(CORRECT, cell)
    assert said("overflowed or produced an invalid value", graded, "sigmoid")
    assert lost(graded, "sigmoid") == 2


def test_sigmoid_with_the_wrong_sign_in_the_exponent():
    graded = replace(CORRECT, "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
                              "    z = np.exp(-np.abs(x))\n"
                              "    return np.where(x >= 0, z / (1 + z), 1 / (1 + z))\n")
    assert said("your sigmoid(x) is σ(−x) = 1 − σ(x): check the sign of the exponent",
                graded, "sigmoid")
    assert lost(graded, "sigmoid") == 7


def test_sigmoid_backward_from_x_is_named():
    graded = replace(CORRECT, "def sigmoid_backward(dout, out):\n    s = sigmoid(out)\n"
                              "    return dout * s * (1 - s)\n")
    verdict = public(graded, "sigmoid_backward")[0]
    assert verdict.score == 0
    assert verdict.codes == ["sigmoid_backward:from_x"]
    assert said("your dx recomputes σ from its second argument: sigmoid_backward receives "
                "out = σ(x), the gate's output, not x", verdict.messages)
    assert lost(graded, "sigmoid_backward") == 5
    # the reference's neuron and staged backwards call sigmoid_backward with outputs: they fail too
    assert said("your dx and dy have σ applied again to the cached sigmoid outputs", graded,
                "staged_backward")
    assert said("your dw and dx have σ(f)·(1 − σ(f)) as the sigmoid's local gradient", graded,
                "neuron_backward")


def test_sigmoid_backward_sign_error():
    graded = replace(CORRECT, "def sigmoid_backward(dout, out):\n    return -dout * out * (1 - out)\n")
    assert said("your dx has the wrong sign", graded, "sigmoid_backward")
    assert lost(graded, "sigmoid_backward") == 5


def test_sigmoid_backward_in_place_on_dout_scores_zero():
    graded = replace(CORRECT, "def sigmoid_backward(dout, out):\n    dout *= out * (1 - out)\n"
                              "    return dout\n")
    verdict = public(graded, "sigmoid_backward")[0]
    assert verdict.score == 0
    assert said("`sigmoid_backward` modified its input `dout` in place", verdict.messages)


def _square_and_rectangular(verdicts):
    """The public matmul_backward verdicts on square matrices (spec.toml's own test) and on
    W of shape (n, k) with n ≠ k (derived), and that (n, k)."""
    square = next(v for v in verdicts if v.case.name == "matmul_backward: square 3×3 matrices")
    rectangular = next(v for v in verdicts if v is not square)
    n, k = np.shape(rectangular.case.calls[0].args[1])
    assert n != k
    return square, rectangular, (n, k)


def test_matmul_swapped_on_square_matrices_and_on_different_shapes():
    # the formulas with W and X exchanged: dW = Wᵀ·dD is the correct dX and vice versa
    graded = replace(CORRECT, "def matmul_backward(dD, W, X):\n    return W.T @ dD, dD @ X.T\n")
    square, rectangular, (n, k) = _square_and_rectangular(public(graded, "matmul_backward"))
    assert square.score == 0 and square.codes == ["matmul:swapped", "matmul:swapped"]
    assert square.messages == [
        "Your dW and dX are exchanged: your dW is Wᵀ·dD, the gradient of X, and your dX is "
        "dD·Xᵀ, the gradient of W. Let the shapes decide: dW = dD·Xᵀ has the shape of W (3, 3), "
        "dX = Wᵀ·dD the shape of X (3, 3); return (dW, dX) in that order."]
    # with W n×k and X k×m the shapes differ, and the message still says what happened
    assert rectangular.score == 0 and rectangular.codes == ["matmul:swapped", "matmul:swapped"]
    assert said("your dW and dX are exchanged", rectangular.messages)
    assert f"({n}, {k})" in rectangular.messages[0] and "has shape" not in rectangular.messages[0]


def test_matmul_results_returned_in_the_wrong_order():
    graded = replace(CORRECT, "def matmul_backward(dD, W, X):\n    return W.T @ dD, dD @ X.T\n")
    graded_order = replace(CORRECT, "def matmul_backward(dD, W, X):\n    dW, dX = dD @ X.T, W.T @ dD\n"
                                    "    return dX, dW\n")
    assert [v.messages for v in graded.verdicts] == [v.messages for v in graded_order.verdicts]
    assert lost(graded_order, "matmul_backward") == 7


def test_generic_swap_diagnosis_without_the_hypothesis():
    # the generic check (a value equal to another output's answer) needs no hypothesis
    from grader.judge.diagnose import explain
    case = next(c for c in assignment("gates").cases if c.function == "matmul_backward"
                and len(set(np.shape(c.calls[0].args[1]))) == 2)  # W n×k, n ≠ k
    dW, dX = case.expects
    diagnosis = explain(dX.value, dataclasses.replace(dW, hypotheses=[]),
                        [("dX", dX.value)], {}, {})
    assert diagnosis.code == "swap"
    assert diagnosis.message == "your dW equals the correct dX: the returned values are swapped."


def test_matmul_transposed_gradient():
    graded = replace(CORRECT, "def matmul_backward(dD, W, X):\n    return X @ dD.T, W.T @ dD\n")
    _, rectangular, (n, k) = _square_and_rectangular(public(graded, "matmul_backward"))
    assert rectangular.fraction == 0.5
    assert said(f"your dW is the transpose of the correct one (shape ({k}, {n}) instead of "
                f"({n}, {k}))", rectangular.messages)


def test_neuron_forward_bias_mistakes():
    graded = replace(CORRECT, "def neuron_forward(w, x):\n    f = float(sigmoid(np.dot(w[1:], x) + w[0]))\n"
                              "    return f, (np.asarray(w, float), np.asarray(x, float), f)\n")
    verdict = public(graded, "neuron_forward")[0]
    assert verdict.score == 0 and verdict.codes == ["neuron:bias_first"]
    assert said("your f takes the bias from w[0]: the bias is the *last* entry of w",
                verdict.messages)
    graded = replace(CORRECT, "def neuron_forward(w, x):\n    z = np.dot(w[:-1], x)\n"
                              "    return float(sigmoid(z)), (np.asarray(w, float), np.asarray(x, float), sigmoid(z))\n")
    assert said("your f leaves out the bias", graded, "neuron_forward")


def test_neuron_backward_without_the_sigmoid_gradient():
    graded = replace(CORRECT, "def neuron_backward(dout, cache):\n    w, x, f = cache\n"
                              "    return dout * np.append(x, 1.0), dout * w[:-1]\n")
    verdict = public(graded, "neuron_backward")[0]
    assert verdict.codes == ["neuron:no_sigmoid_grad", "neuron:no_sigmoid_grad"]
    assert said("your dw and dx are missing the sigmoid's local gradient", verdict.messages)
    assert 0 < verdict.fraction < 1  # f (the forward) is right
    check = public(graded, "neuron_backward")[1]
    assert check.score == 0 and check.codes == ["gradcheck", "gradcheck"]


def test_neuron_backward_without_the_bias_gradient():
    graded = replace(CORRECT, "def neuron_backward(dout, cache):\n    w, x, f = cache\n"
                              "    dz = dout * f * (1 - f)\n    return np.append(dz * x, 0.0), dz * w[:-1]\n")
    verdict = public(graded, "neuron_backward")[0]
    assert verdict.codes == ["neuron:no_bias_grad"]
    assert said("your dw has no gradient for the bias (its last entry)", verdict.messages)


def test_neuron_consistent_with_its_own_pre_activation_cache():
    # a student whose sigmoid_backward recomputes σ and whose neuron caches z (not f) is
    # consistent: neuron_backward is right, only sigmoid_backward is marked wrong
    graded = grade_source("gates", CORRECT, IMPORTS + '''
def sigmoid_backward(dout, out):
    s = sigmoid(out)
    return dout * s * (1 - s)


def neuron_forward(w, x):
    w, x = np.asarray(w, float), np.asarray(x, float)
    z = np.dot(w[:-1], x) + w[-1]
    return float(sigmoid(z)), (w, x, z)


def neuron_backward(dout, cache):
    w, x, z = cache
    dz = sigmoid_backward(dout, z)
    return dz * np.r_[x, 1.0], dz * w[:-1]
''')
    assert all(v.passed for v in verdicts_for(graded, "neuron_backward"))
    assert all(v.passed for v in verdicts_for(graded, "neuron_forward"))
    assert not any(v.passed for v in verdicts_for(graded, "sigmoid_backward"))


STAGED_HEAD = '''def staged_backward(dout, cache):
    x, y, sigy, num, sigx, xpy, xpysqr, den, invden = cache
    dnum = invden * dout
    dden = (-1.0 / den ** 2) * num * dout
    dxpy = 2.0 * xpy * dden
'''


@pytest.mark.parametrize("body, code, text", [
    ("    dx = dxpy + dnum\n    dy = dxpy + sigy * (1 - sigy) * dnum\n",
     "staged:missing_x_sigx", "your dx misses the gradient through σ(x) (stage 3)"),
    ("    dx = dxpy + sigx * (1 - sigx) * dden\n    dy = dxpy + sigy * (1 - sigy) * dnum\n",
     "staged:missing_x_num", "your dx misses the gradient through n = x + σ(y) (stage 2)"),
    ("    dx = dxpy + sigx * (1 - sigx) * dden + dnum\n    dy = dxpy\n",
     "staged:missing_y_sigy", "your dy misses the gradient through σ(y) (stage 1)"),
    ("    dx = dxpy\n    dy = dxpy\n    dx += sigx * (1 - sigx) * dden\n    dx += dnum\n"
     "    dy += sigy * (1 - sigy) * dnum\n",
     "staged:aliased", "your dx and dy are one and the same array"),
])
def test_staged_backward_path_mistakes(body, code, text):
    graded = replace(CORRECT, STAGED_HEAD + body + "    return dx, dy\n")
    verdict = public(graded, "staged_backward")[0]
    assert code in verdict.codes
    assert said(text, verdict.messages)
    assert verdict.fraction < 1
    assert not public(graded, "staged_backward")[1].passed  # the gradient check fails too
    assert lost(graded, "staged_backward") >= 3


def test_staged_backward_local_gradient_of_the_inverse():
    cell = STAGED_HEAD.replace("den ** 2", "den") + (
        "    dx = dxpy + sigx * (1 - sigx) * dden + dnum\n"
        "    dy = dxpy + sigy * (1 - sigy) * dnum\n    return dx, dy\n")
    graded = replace(CORRECT, cell)
    assert said("your dx and dy have −1/d as the local gradient of v = 1/d (stage 7)", graded,
                "staged_backward")


def test_gradient_check_catches_a_backward_that_disagrees_with_its_forward():
    # this student's forward computes (x + σ(y)) / (σ(x) + 2(x + y)²); the backward is the
    # reference's, so it matches the reference but not the student's own forward
    cell = reference_source(ref, "staged_forward").replace("xpy ** 2", "2 * xpy ** 2")
    graded = replace(CORRECT, cell)
    check = public(graded, "staged_backward")[1]
    assert check.score == 0
    assert said("your dx disagrees with your own forward", check.messages)
    assert said("your dy disagrees with your own forward", check.messages)


def test_hidden_tests_reveal_nothing():
    graded = replace(CORRECT, "def matmul_backward(dD, W, X):\n    return W.T @ dD, dD @ X.T\n")
    report = results.to_gradescope(graded, assignment("gates"))
    hidden = [t for t in report["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["output"] in ("Passed.", "Failed (hidden test: no details are shown).")
                          for t in hidden)
    assert all(t["tags"] == [t["tags"][0]] for t in hidden)
    assert any(t["status"] == "failed" for t in hidden)


def test_stub_left_unfilled():
    cell = "def staged_backward(dout, cache):\n    raise NotImplementedError\n"
    graded = replace(CORRECT, cell)
    assert said("`staged_backward` still raises NotImplementedError", graded, "staged_backward")
    assert all(v.score == 0 for v in verdicts_for(graded, "staged_backward"))
    assert all(v.passed for v in verdicts_for(graded, "staged_forward"))


def test_regrading_is_deterministic():
    cell = "def sigmoid_backward(dout, out):\n    return dout * out\n"
    first, second = replace(CORRECT, cell), replace(CORRECT, cell)
    assert [(v.score, v.messages) for v in first.verdicts] == \
        [(v.score, v.messages) for v in second.verdicts]


HAND_BUILT = {t["name"] for t in tomllib.loads(
    (COURSE / "assignments" / "gates" / "spec.toml").read_text())["test"]}


def test_cases_are_distinct_and_small():
    cases = assignment("gates").cases
    assert sum(c.points for c in cases) == assignment("gates").max_score
    publics = [c for c in cases if c.visibility == "public"]
    assert {c.function for c in publics} == set(FUNCTIONS)
    assert len(publics) < len(cases) / 2
    for case in cases:
        assert all(call.check_inputs and call.arg_names and call.signature for call in case.calls)
        sizes = [np.size(a) for call in case.calls for a in call.args if isinstance(a, np.ndarray)]
        # spec.toml's own tests are tiny; derived ones give each dimension its own size (≤ 10)
        assert max(sizes, default=0) <= (20 if case.name in HAND_BUILT else 100), case.name
        for expect in case.expects:  # every hypothesis can be told from the answer
            for hypothesis in expect.hypotheses:
                if hypothesis.value.shape != expect.value.shape:
                    continue
                assert np.max(np.abs(hypothesis.value - expect.value)) > 1e-4 * np.max(np.abs(expect.value))


def test_forward_without_a_cache_is_explained_in_both_tests():
    graded = replace(CORRECT, "def neuron_forward(w, x):\n    return float(sigmoid(np.dot(w[:-1], x) + w[-1]))\n")
    forward = public(graded, "neuron_forward")[0]
    assert forward.messages == ["`neuron_forward` returned float where f should be (it should "
                                "return (f, cache))."]
    for verdict in public(graded, "neuron_backward"):
        assert verdict.score == 0
        assert said("`neuron_backward` raised TypeError: it was not called: one of its arguments "
                    "is item [1] of what `neuron_forward` returned, and that is float",
                    verdict.messages)
