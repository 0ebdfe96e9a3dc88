"""Case builders for the linear RNN (trusted: they call the reference).

Each builder takes a seeded numpy Generator and the test's params from spec.toml and returns a
Case with the inputs to send and the reference's answers. Batch sizes differ from the notebook's
global n_samples = 20, so a function that reads that global instead of X.shape[0] is caught
(and named) by the scale diagnosis.

Why hypotheses stay here beside the mistakes generated from the reference (grader/judge): a
generated mutant names a mistake in the reference's own terms ("it uses S_k where S_{k−1}
belongs"); the hypotheses say what the student did and why it is wrong in the handout's words
(the 1/N of the loss's mean taken once too often, the output gradient of ξ = (t − y)² without
its 2), which the catalogue (mutants.py) expects, and some mistakes here are no single edit of
the reference (the 1/N moved into grad_over_time, a notebook global read for the batch size).
"""
import numpy as np

from grader.course.cases import (Call, Case, Expect, GradCheck, Hypothesis, Ref, call_case,
                                 distinct_hypotheses, perturbed_calls)
from grader.i18n import N_
from reference import rnn_linear as ref

#: a hypothesis closer than this (relative) to the reference, or to an earlier hypothesis,
#: could be confused with it and is left out.
DISTINCT = 1e-3

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
            N_("your output_gradient is divided by N = {n}: return the per-sample derivative "
               "2(y − t); the mean over samples (1/N) belongs in backward_gradient only."),
            expected / n, values={"n": n})]})],
        dims={"N": n_samples})


def backward_variant(X, S, grad_out, wRec, ks=None, state_offset=1, factor=True,
                     overwrite=()):
    """backward_gradient of the reference with one mistake, for hypotheses (trusted).

    ks: the steps k the loop visits (default range(seq_len, 0, −1)); negative indices wrap
    around as numpy does; state_offset=0 takes S_k instead of S_{k−1} as wRec's local gradient;
    factor=False carries the gradient back without ·wRec; overwrite names the sums assigned
    instead of added ("wx", "wRec"). Returns (wx_grad, wRec_grad, grad_over_time).
    """
    X, S = np.asarray(X, dtype=np.float64), np.asarray(S, dtype=np.float64)
    n, steps = X.shape
    got = np.zeros((n, steps + 1))
    got[:, -1] = grad_out
    wx = wr = 0.0
    for k in (range(steps, 0, -1) if ks is None else ks):
        term_x = np.sum(got[:, k] * X[:, k - 1])
        term_r = np.sum(got[:, k] * S[:, k - state_offset])
        wx = term_x if "wx" in overwrite else wx + term_x
        wr = term_r if "wRec" in overwrite else wr + term_r
        got[:, k - 1] = got[:, k] * (wRec if factor else 1.0)
    return wx / n, wr / n, got


def backward_candidates(X, S, grad_out, wRec) -> list:
    """[(message, (wx_grad, wRec_grad, grad_over_time), code)]: the classic loop mistakes.
    The messages name the mistake, not an output, so one covers every output it spoils."""
    steps = np.shape(X)[1]
    args = (X, S, grad_out, wRec)
    overwrite = N_("your gradients keep the contribution of only one step: wx and wRec are "
                   "shared by every step, so add each step's term (wx_grad += …) instead of "
                   "assigning it (wx_grad = …).")
    return [
        (N_("your loop over time stops before k = 1, so the first step's contribution (X_1 and "
            "S_0) is missing and grad_over_time[:, 0] is never set: range(seq_len, 0, −1) "
            "visits k = seq_len, …, 1."), backward_variant(*args, ks=range(steps, 1, -1)),
         "loop:stops_early"),
        (N_("your grad_over_time holds grad_out in its last column only: the gradient is never "
            "carried back into it (a loop starting at k = seq_len − 1, or values carried back "
            "without being stored in grad_over_time[:, k − 1]). range(seq_len, 0, −1) visits "
            "k = seq_len, …, 1."), backward_variant(*args, ks=range(steps - 1, 0, -1)),
         "loop:not_carried"),
        (N_("your loop over time goes on to k = 0, where X[:, k − 1] and S[:, k − 1] are "
            "X[:, −1] and S[:, −1]: numpy wraps around to the last step (and overwrites "
            "grad_over_time[:, −1]). Stop at k = 1: range(seq_len, 0, −1)."),
         backward_variant(*args, ks=range(steps, -1, -1)), "loop:wraps"),
        (N_("your loop runs forward in time (k = 1, 2, …), so each step reads "
            "grad_over_time[:, k] before it has been carried back from step k + 1: go from the "
            "last step to the first, range(seq_len, 0, −1)."),
         backward_variant(*args, ks=range(1, steps + 1)), "loop:forward"),
        (N_("your wRec_grad takes S_k as the local gradient of wRec: in S_k = S_{{k−1}}·wRec + "
            "X_k·wx the factor multiplying wRec is S_{{k−1}}, i.e. S[:, k − 1]."),
         backward_variant(*args, state_offset=0), "local:state"),
        (N_("your gradient is not multiplied by wRec when it is carried back a step: "
            "∂S_k/∂S_{{k−1}} = wRec, so grad_over_time[:, k − 1] = grad_over_time[:, k]·wRec."),
         backward_variant(*args, factor=False), "local:no_wRec"),
        (overwrite, backward_variant(*args, overwrite=("wx", "wRec")), "overwrite"),
    ]


def _hypotheses(reference, candidates) -> list:
    return distinct_hypotheses(reference, candidates, DISTINCT)


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
        N_("your grad_over_time is divided by N = {n}: it should hold the per-sample gradients "
           "∂ξ_i/∂S_k, starting from grad_out as given; apply the 1/N only to wx_grad and "
           "wRec_grad."), grad_over_time / n, values={"n": n})
    candidates = backward_candidates(X, S, grad_out, wRec)
    copied = N_("your {mine} equals the correct {other}: it is computed with {used} where its "
                "local gradient is {local} (a line copied from {other}'s), or the two are "
                "returned in swapped order, ((wx_grad, wRec_grad), grad_over_time).")
    candidates.append(((copied, {"mine": "wRec_grad", "other": "wx_grad", "used": "X_k",
                                 "local": "S_{k−1}"}), (None, wx_grad, None), "copied:wRec"))
    candidates.append(((copied, {"mine": "wx_grad", "other": "wRec_grad", "used": "S_{k−1}",
                                 "local": "X_k"}), (wRec_grad, None, None), "copied:wx"))

    def hypotheses(part, reference):
        return _hypotheses(reference, [(m, v[part], c) for m, v, c in candidates
                                       if v[part] is not None])
    return call_case(
        "backward_gradient", (X, S, grad_out, wRec), ("X", "S", "grad_out", "wRec"),
        [("wx_grad", (0, 0), wx_grad, {"hypotheses": hypotheses(0, wx_grad)}),
         ("wRec_grad", (0, 1), wRec_grad, {"hypotheses": hypotheses(1, wRec_grad)}),
         ("grad_over_time", (1,), grad_over_time,
          {"time_axis": 1, "hypotheses": [per_sample] + hypotheses(2, grad_over_time)})],
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
    base = len(calls)
    calls.extend(objective(0)(wx, base))  # your loss at the point checked
    loss = Expect("loss(forward_states(...)[:, -1], t)", base + 1, 0,
                  np.asarray(ref.loss(ref.forward_states(X, wx, wRec)[:, -1], t)), required=True)
    return Case(name="", function="backward_gradient", calls=calls, expects=[loss],
                gradchecks=checks, dims={"N": n_samples, "T": seq_len})
