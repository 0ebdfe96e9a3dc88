"""Case builders for the linear RNN (trusted: they call the reference).

Each builder takes a seeded numpy Generator and the test's params from spec.toml and returns a
Case with the inputs to send and the reference's answers. Batch sizes differ from the notebook's
global n_samples = 20, so a function that reads that global instead of X.shape[0] is caught
(and named) by the scale diagnosis.
"""
import numpy as np

from grader.cases import (Call, Case, Expect, GradCheck, Hypothesis, Ref, call_case,
                          perturbed_calls)
from reference import rnn_linear as ref

SIGNATURE = "((wx_grad, wRec_grad), grad_over_time)"
LAST_STATE = (("col", -1),)


def _data(rng, n_samples, seq_len, dtype="float64"):
    X = rng.uniform(-1.0, 1.0, (n_samples, seq_len))
    if dtype == "int64":
        X = rng.integers(0, 2, (n_samples, seq_len))
    t = np.sum(X, axis=1).astype(np.float64)
    wx, wRec = rng.uniform(0.5, 1.5, 2)
    return X.astype(dtype), t, float(wx), float(wRec)


def output_gradient_case(rng, n_samples):
    y, t = rng.standard_normal(n_samples), rng.standard_normal(n_samples)
    expected = ref.output_gradient(y, t)
    n = n_samples
    return call_case(
        "output_gradient", (y, t), ("y", "t"),
        [("output_gradient", (), expected, {"hypotheses": [Hypothesis(
            f"your output_gradient is divided by N = {n}: return the per-sample derivative "
            "2(y − t); the mean over samples (1/N) belongs in backward_gradient only.",
            expected / n)]})],
        dims={"N": n_samples})


def backward_gradient_case(rng, n_samples, seq_len, dtype="float64"):
    """backward_gradient on states and output gradient computed by the reference."""
    X, t, wx, wRec = _data(rng, n_samples, seq_len, dtype)
    S = ref.forward_states(X, wx, wRec)
    grad_out = ref.output_gradient(S[:, -1], t)
    if dtype == "float32":
        S, grad_out = S.astype(np.float32), grad_out.astype(np.float32)
    (wx_grad, wRec_grad), grad_over_time = ref.backward_gradient(X, S, grad_out, wRec)
    n = n_samples
    per_sample = Hypothesis(
        f"your grad_over_time is divided by N = {n}: it should hold the per-sample gradients "
        "∂ξ_i/∂S_k, starting from grad_out as given; apply the 1/N only to wx_grad and "
        "wRec_grad.", grad_over_time / n)
    return call_case(
        "backward_gradient", (X, S, grad_out, wRec), ("X", "S", "grad_out", "wRec"),
        [("wx_grad", (0, 0), wx_grad, {}),
         ("wRec_grad", (0, 1), wRec_grad, {}),
         ("grad_over_time", (1,), grad_over_time, {"time_axis": 1, "hypotheses": [per_sample]})],
        signature=SIGNATURE, dims={"N": n_samples, "T": seq_len})


def gradient_check_case(rng, n_samples, seq_len, directions=1, step=1e-5):
    """Your backward_gradient against central differences of your own forward and loss:
    L(wx, wRec) = loss(forward_states(X, wx, wRec)[:, -1], t)."""
    X, t, wx, wRec = _data(rng, n_samples, seq_len)
    calls = [
        Call("forward_states", (X, wx, wRec), returns=()),
        Call("output_gradient", (Ref(0, LAST_STATE), t), returns=()),
        Call("backward_gradient", (X, Ref(0), Ref(1), wRec), returns=((0, 0), (0, 1)),
             signature=SIGNATURE),
    ]

    def objective(position):
        def chain(value, first):
            weights = [wx, wRec]
            weights[position] = float(value)
            return [Call("forward_states", (X, *weights), returns=()),
                    Call("loss", (Ref(first, LAST_STATE), t), returns=((),))]
        return chain

    checks = []
    for position, label in enumerate(("wx_grad", "wRec_grad")):
        dirs = np.ones((directions,))  # a scalar parameter has one direction
        plus, minus = perturbed_calls(calls, objective(position), (wx, wRec)[position], dirs, step)
        checks.append(GradCheck(label, 2, position, dirs, plus, minus, step))
    return Case(name="", function="backward_gradient", calls=calls, gradchecks=checks,
                dims={"N": n_samples, "T": seq_len})
