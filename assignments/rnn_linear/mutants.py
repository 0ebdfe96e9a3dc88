"""Mutation catalogue of rnn_linear: realistic mistakes (edits of the reference, each with the
diagnosis the feedback must give) and correct solutions written differently (full marks).
`grader mutants rnn_linear` grades them all; tests/test_mutants.py asserts the figures."""
import numpy as np

from grader.authoring.catalogue import Mistake, Variant, mutate, reference_source
from reference import rnn_linear as ref

PROVIDED = ("update_state", "forward_states", "loss")
GRADED = ("output_gradient", "backward_gradient")
REFERENCE = reference_source(ref, GRADED, PROVIDED)

# the reference's lines that the mistakes edit
OUTPUT = "return 2.0 * (np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))"
RETURN = "return (wx_grad / n_samples, wRec_grad / n_samples), grad_over_time"
LOOP = "for k in range(seq_len, 0, -1):"
WX = "wx_grad += np.sum(grad_over_time[:, k] * X[:, k - 1])"
WREC = "wRec_grad += np.sum(grad_over_time[:, k] * S[:, k - 1])"
STEP_BACK = "grad_over_time[:, k - 1] = grad_over_time[:, k] * wRec"
START = "    grad_over_time[:, -1] = grad_out\n"
ALLOC = "grad_over_time = np.zeros((n_samples, seq_len + 1))"
SIZES = "n_samples, seq_len = X.shape"


def _mistake(id, description, expect, *edits, equivalent=None, prefix=""):
    return Mistake(id, description, expect, prefix + mutate(REFERENCE, *edits), equivalent)


MISTAKES = [
    # ---- output_gradient ----
    _mistake("output_sign", "output gradient 2(t − y) instead of 2(y − t)", "wrong sign",
             OUTPUT, OUTPUT.replace("2.0 * (np.asarray(y, dtype=np.float64) - np.asarray(t, "
                                    "dtype=np.float64))",
                                    "2.0 * (np.asarray(t, dtype=np.float64) - "
                                    "np.asarray(y, dtype=np.float64))")),
    _mistake("output_no_two", "the factor 2 of d(u²)/du forgotten: y − t", "factor 2",
             OUTPUT, OUTPUT.replace("2.0 * ", "")),
    _mistake("output_mean", "the 1/N put in output_gradient too (so it is applied twice)",
             "is divided by N", OUTPUT, OUTPUT + " / np.shape(y)[0]"),
    _mistake("output_mean_scalar", "output gradient averaged to one number: np.mean(2(y − t))",
             "should have shape", OUTPUT,
             "return np.mean(2.0 * (np.asarray(y, dtype=np.float64) - np.asarray(t)))"),
    # ---- backward_gradient: the mean over samples ----
    _mistake("sum_not_mean", "summed over the batch: the 1/N of the mean forgotten",
             "summed over the batch", RETURN, "return (wx_grad, wRec_grad), grad_over_time"),
    _mistake("global_n_samples", "divides by the notebook global n_samples (= 20) instead of "
             "X.shape[0]", "notebook global `n_samples`",
             (SIZES, "seq_len = X.shape[1]"),
             (ALLOC, "grad_over_time = np.zeros((X.shape[0], seq_len + 1))"),
             prefix="n_samples = 20\n"),
    _mistake("divide_by_seq_len", "divides by the sequence length instead of the batch size",
             "where the mean is over the batch", RETURN,
             "return (wx_grad / seq_len, wRec_grad / seq_len), grad_over_time"),
    _mistake("mean_twice", "the 1/N applied twice in backward_gradient", "1/N is applied twice",
             RETURN, "return (wx_grad / n_samples ** 2, wRec_grad / n_samples ** 2), "
                     "grad_over_time"),
    _mistake("mean_in_grad_over_time", "the 1/N applied to grad_out at the start (so "
             "grad_over_time is divided by N) instead of to the weight gradients",
             "grad_over_time is divided by N",
             (START, "    grad_over_time[:, -1] = grad_out / n_samples\n"),
             (RETURN, "return (wx_grad, wRec_grad), grad_over_time")),
    _mistake("mean_over_time_too", "averaged over time as well: divides by N·seq_len",
             "averaged over the sequence length",
             RETURN, "return (wx_grad / (n_samples * seq_len), wRec_grad / (n_samples * "
                     "seq_len)), grad_over_time"),
    # ---- the loop over time ----
    _mistake("loop_stops_early", "loop over time stops before k = 1 (range(seq_len, 1, −1)): "
             "the first step's contribution is missing", "stops before k = 1",
             LOOP, "for k in range(seq_len, 1, -1):"),
    _mistake("loop_starts_late", "loop over time starts at seq_len − 1 (range(seq_len − 1, 0, "
             "−1)): the output's gradient is never carried back", "never carried back",
             LOOP, "for k in range(seq_len - 1, 0, -1):"),
    _mistake("loop_one_too_far", "loop over time runs to k = 0 (range(seq_len, −1, −1)): "
             "X[:, −1] and S[:, −1] wrap around to the last step", "wraps around",
             LOOP, "for k in range(seq_len, -1, -1):"),
    _mistake("loop_forward", "loop runs forward in time (range(1, seq_len + 1)) so each step "
             "reads a gradient not computed yet", "runs forward in time",
             LOOP, "for k in range(1, seq_len + 1):"),
    _mistake("state_not_previous", "wRec's local gradient taken as S_k instead of S_{k−1}",
             "factor multiplying wRec is S_{k−1}", WREC, WREC.replace("S[:, k - 1]", "S[:, k]")),
    _mistake("no_wRec_factor", "a missing local-gradient factor: the step back forgets ·wRec",
             "∂S_k/∂S_{k−1} = wRec", STEP_BACK, "grad_over_time[:, k - 1] = grad_over_time[:, k]"),
    _mistake("overwrite_sums", "gradients overwritten at each step instead of added "
             "(wx_grad = … instead of +=)", "instead of assigning it",
             (WX, WX.replace("+=", "=")), (WREC, WREC.replace("+=", "="))),
    _mistake("wx_overwritten", "only wx_grad overwritten at each step (=, not +=)",
             "instead of assigning it", WX, WX.replace("+=", "=")),
    _mistake("wRec_copied_line", "wRec_grad's line copied from wx_grad's: X[:, k − 1] where "
             "S[:, k − 1] belongs", "computed with X_k", WREC,
             WREC.replace("S[:, k - 1]", "X[:, k - 1]")),
    _mistake("no_start", "grad_over_time never seeded with grad_out (the line forgotten)",
             "all zeros", START, ""),
    _mistake("swapped_outputs", "returns (wRec_grad, wx_grad): the pair swapped",
             "swapped", RETURN, "return (wRec_grad / n_samples, wx_grad / n_samples), "
                                "grad_over_time"),
    _mistake("wrong_sign_start", "starts from −grad_out", "wrong sign",
             START, "    grad_over_time[:, -1] = -grad_out\n"),
    _mistake("grad_over_time_transposed", "grad_over_time built as (seq_len + 1, n_samples)",
             "transpose of the correct one",
             (ALLOC, "grad_over_time = np.zeros((seq_len + 1, n_samples))"),
             (START, "    grad_over_time[-1] = grad_out\n"),
             (WX, "wx_grad += np.sum(grad_over_time[k] * X[:, k - 1])"),
             (WREC, "wRec_grad += np.sum(grad_over_time[k] * S[:, k - 1])"),
             (STEP_BACK, "grad_over_time[k - 1] = grad_over_time[k] * wRec")),
    _mistake("grad_over_time_not_stored", "the gradient carried back in a separate variable; "
             "grad_over_time keeps only its last column",
             "never carried back",
             (START, START + "    g = np.array(grad_out, dtype=np.float64)\n"),
             (WX, "wx_grad += np.sum(g * X[:, k - 1])"),
             (WREC, "wRec_grad += np.sum(g * S[:, k - 1])"),
             (STEP_BACK, "g = g * wRec")),
    _mistake("grad_out_in_place", "carries the gradient back in grad_out itself (g = grad_out; "
             "g *= wRec): the caller's array is changed", "modified its input `grad_out` in "
             "place",
             (START, START + "    g = grad_out\n"),
             (STEP_BACK, "g *= wRec\n        grad_over_time[:, k - 1] = g")),
    _mistake("float32_storage", "grad_over_time stored in float32 (np.zeros(..., "
             "dtype=np.float32))", "float32",
             ALLOC, "grad_over_time = np.zeros((n_samples, seq_len + 1), dtype=np.float32)"),
    _mistake("x_from_current_step", "wx's local gradient taken from the next input X[:, k] "
             "(an index error at the last step)", "IndexError",
             WX, WX.replace("X[:, k - 1]", "X[:, k]")),
    _mistake("step_back_first", "grad_over_time[:, k − 1] computed before the sums of step k",
             "", (WX + "\n        " + WREC + "\n        " + STEP_BACK,
                  STEP_BACK + "\n        " + WX + "\n        " + WREC),
             equivalent="the step back writes column k − 1 and the sums read column k, so their "
                        "order does not matter"),
]


#: the notebook's provided helpers, as a student's notebook holds them
PROVIDED = """def update_state(xk, sk, wx, wRec):
    return xk * wx + sk * wRec

def forward_states(X, wx, wRec):
    S = np.zeros((X.shape[0], X.shape[1] + 1))
    for k in range(X.shape[1]):
        S[:, k + 1] = update_state(X[:, k], S[:, k], wx, wRec)
    return S

def loss(y, t):
    return np.mean((t - y) ** 2)
"""


CORRECT = [
    Variant("reference", "the reference itself", REFERENCE),
    Variant("vectorized", "no loop: grad_over_time[:, k] = grad_out · wRec^(n − k), sums with "
            "np.sum over both axes", """
import numpy as np

""" + PROVIDED + """
def output_gradient(y, t):
    return 2 * (y - t)

def backward_gradient(X, S, grad_out, wRec):
    n, steps = X.shape
    powers = wRec ** np.arange(steps, -1, -1)          # wRec^(n-k) for k = 0..n
    grad_over_time = np.outer(grad_out, powers)
    wx_grad = np.sum(grad_over_time[:, 1:] * X) / n
    wRec_grad = np.sum(grad_over_time[:, 1:] * S[:, :-1]) / n
    return (wx_grad, wRec_grad), grad_over_time
"""),
    Variant("einsum_list", "a list of per-step gradients reversed at the end, einsum for the "
            "sums, float(...) results", """
import numpy as np

""" + PROVIDED + """
def output_gradient(y, t):
    return 2.0 * np.subtract(y, t, dtype=np.float64)

def backward_gradient(X, S, grad_out, wRec):
    X = X.astype(np.float64)
    grads = [np.asarray(grad_out, dtype=np.float64)]
    for _ in range(X.shape[1]):
        grads.append(grads[-1] * wRec)
    grad_over_time = np.stack(grads[::-1], axis=1)
    N = len(X)
    wx_grad = float(np.einsum("nk,nk->", grad_over_time[:, 1:], X)) / N
    wRec_grad = float(np.einsum("nk,nk->", grad_over_time[:, 1:], S[:, :-1])) / N
    return (wx_grad, wRec_grad), grad_over_time
"""),
    Variant("helpers_float32_inputs", "helper functions per step; float32 inputs converted to "
            "float64 first; the mean taken with np.mean over per-sample sums", """
import numpy as np

n_samples = 20
seq_len = 10

""" + PROVIDED + """
def output_gradient(y, t):
    y = np.asarray(y, dtype=float)
    t = np.asarray(t, dtype=float)
    return 2.0 * y - 2.0 * t

def step_back(grad, wRec):
    return grad * wRec

def local_gradients(grad, xk, s_prev):
    return grad * xk, grad * s_prev

def backward_gradient(X, S, grad_out, wRec):
    X = np.array(X, dtype=np.float64)
    S = np.array(S, dtype=np.float64)
    N, T = X.shape
    grad_over_time = np.zeros((N, T + 1))
    grad_over_time[:, T] = grad_out
    per_sample_wx = np.zeros(N)
    per_sample_wRec = np.zeros(N)
    for k in reversed(range(1, T + 1)):
        gx, gr = local_gradients(grad_over_time[:, k], X[:, k - 1], S[:, k - 1])
        per_sample_wx += gx
        per_sample_wRec += gr
        grad_over_time[:, k - 1] = step_back(grad_over_time[:, k], wRec)
    return (np.mean(per_sample_wx), np.mean(per_sample_wRec)), grad_over_time
"""),
    Variant("while_loop_tuple_cache", "a while loop, np.dot for the sums, the mean as a "
            "multiplication by 1/N", """
import numpy as np

""" + PROVIDED + """
def output_gradient(y, t):
    return (np.asarray(y) - np.asarray(t)) * 2

def backward_gradient(X, S, grad_out, wRec):
    inv_n = 1.0 / X.shape[0]
    k = X.shape[1]
    got = np.empty((X.shape[0], k + 1))
    got[:, k] = grad_out
    wx_grad = wRec_grad = 0.0
    while k > 0:
        wx_grad = wx_grad + np.dot(got[:, k], X[:, k - 1])
        wRec_grad = wRec_grad + np.dot(got[:, k], S[:, k - 1])
        got[:, k - 1] = wRec * got[:, k]
        k -= 1
    return (inv_n * wx_grad, inv_n * wRec_grad), got
"""),
    Variant("recursive", "a recursive helper carrying the gradient back, results collected in "
            "a dict", """
import numpy as np

""" + PROVIDED + """
def output_gradient(y, t):
    return -2.0 * (np.asarray(t, float) - np.asarray(y, float))

def _back(k, grad, X, S, wRec, acc):
    acc["grads"][k] = grad
    if k == 0:
        return
    acc["wx"] += np.sum(grad * X[:, k - 1])
    acc["wRec"] += np.sum(grad * S[:, k - 1])
    _back(k - 1, grad * wRec, X, S, wRec, acc)

def backward_gradient(X, S, grad_out, wRec):
    acc = {"wx": 0.0, "wRec": 0.0, "grads": {}}
    _back(X.shape[1], np.asarray(grad_out, float), X, S, wRec, acc)
    grad_over_time = np.column_stack([acc["grads"][k] for k in range(X.shape[1] + 1)])
    n = X.shape[0]
    return (acc["wx"] / n, acc["wRec"] / n), grad_over_time
"""),
]


def single_check(namespace, rng):
    """What the notebook's own check does: one call of each graded function on one random
    batch of the notebook's size (20 sequences of 10 steps), compared with the reference."""
    n_samples, seq_len = 20, 10
    X = rng.integers(0, 2, size=(n_samples, seq_len)).astype(np.float64)
    t = X.sum(axis=1)
    wx, wRec = rng.uniform(0.5, 1.5, 2)
    S = ref.forward_states(X, wx, wRec)
    y = S[:, -1]
    grad_out = ref.output_gradient(y, t)
    (rx, rr), rgot = ref.backward_gradient(X, S, grad_out, wRec)
    checks = [("output_gradient", namespace["output_gradient"](y, t), grad_out.copy())]
    (gx, gr), got = namespace["backward_gradient"](X, S, grad_out, wRec)
    checks += [("wx_grad", gx, rx), ("wRec_grad", gr, rr), ("grad_over_time", got, rgot)]
    return checks
