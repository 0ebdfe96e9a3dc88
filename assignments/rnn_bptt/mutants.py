"""Mutation catalogue of rnn_bptt: realistic mistakes (edits of the reference, each with the
diagnosis the feedback must give) and correct solutions written differently (full marks).
`grader mutants rnn_bptt` grades them all; tests/test_mutants.py asserts the figures."""
import numpy as np

from grader.authoring.catalogue import Mistake, Variant, mutate, reference_source
from reference import rnn_bptt as ref

GRADED = ("rnn_forward", "rnn_loss", "bptt")
REFERENCE = reference_source(ref, GRADED, ("softmax",))

# the reference's lines that the mistakes edit
STATE = "np.tanh(U @ x[t] + W @ prev)"
OUTPUT = "    return s, softmax(s @ V.T)\n"
LOSS = "return float(-np.sum(np.log(y_hat[np.arange(len(y)), y])))"
ONEHOT = "    delta_o[np.arange(T), y] -= 1.0\n"
STEPS = "for t in range(T - 1, -1, -1):"
DV = "dV += np.outer(delta_o[t], s[t])"
ENTRY = "delta = (V.T @ delta_o[t]) * (1.0 - s[t] ** 2)"
FIRST = "first = 0 if truncate is None else max(0, t - truncate)"
TERMS = "for k in range(t, first - 1, -1):"
DW = "dW += np.outer(delta, s_prev[k])"
DU = "dU += np.outer(delta, x[k])"
BACK = "delta = (W.T @ delta) * (1.0 - s_prev[k] ** 2)"
ZEROS = "dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)"
RETURN = "    return dU, dW, dV\n"


def _mistake(id, description, expect, *edits, equivalent=None):
    return Mistake(id, description, expect, mutate(REFERENCE, *edits), equivalent)


MISTAKES = [
    # ---- rnn_forward ----
    _mistake("forward_no_recurrence", "the previous state left out: s_t = tanh(U x_t)",
             "ignores the previous state", STATE, "np.tanh(U @ x[t])"),
    _mistake("forward_no_tanh", "the tanh forgotten: s_t = U x_t + W s_{t−1}",
             "missing the tanh", STATE, "U @ x[t] + W @ prev"),
    _mistake("forward_row_vector_W", "row-vector habit: s_{t−1}·W, i.e. Wᵀ s_{t−1}",
             "Wᵀ s_{t−1}", STATE, "np.tanh(U @ x[t] + prev @ W)"),
    _mistake("forward_softmax_over_time", "softmax normalized over axis 0 (time) instead of "
             "over the classes", "normalized over time", OUTPUT,
             "    o = s @ V.T\n    e = np.exp(o - o.max(axis=0))\n"
             "    return s, e / e.sum(axis=0)\n"),
    _mistake("forward_naive_softmax", "softmax without the max shift: exp overflows for large "
             "scores", "numerically stable", OUTPUT,
             "    e = np.exp(s @ V.T)\n    return s, e / e.sum(axis=1, keepdims=True)\n"),
    _mistake("forward_no_softmax", "returns the scores V s_t without the softmax",
             "without the softmax", OUTPUT, "    return s, s @ V.T\n"),
    # ---- rnn_loss ----
    _mistake("loss_block", "y_hat[:, y] picks a T×T block", "T×T block",
             LOSS, "return float(-np.sum(np.log(y_hat[:, y])))"),
    _mistake("loss_mean", "mean over time instead of the sum", "averaged over",
             LOSS, "return float(-np.mean(np.log(y_hat[np.arange(len(y)), y])))"),
    _mistake("loss_sign", "the minus sign of the cross-entropy forgotten", "wrong sign",
             LOSS, "return float(np.sum(np.log(y_hat[np.arange(len(y)), y])))"),
    _mistake("loss_all_classes", "−log summed over every class", "sums −log over every class",
             LOSS, "return float(-np.sum(np.log(y_hat)))"),
    # ---- bptt: the output error ----
    _mistake("no_onehot", "the softmax/cross-entropy gradient without subtracting the one-hot "
             "target", "instead of ŷ_t − 1_{y_t}", ONEHOT, ""),
    _mistake("onehot_columns", "delta_o[:, y] −= 1: the one-hot subtracted in every row",
             "in every row", ONEHOT, "    delta_o[:, y] -= 1.0\n"),
    _mistake("target_minus_prediction", "wrong sign: 1_{y_t} − ŷ_t", "wrong sign",
             ("delta_o = y_hat.copy()", "delta_o = -y_hat"),
             (ONEHOT, "    delta_o[np.arange(T), y] += 1.0\n")),
    # ---- bptt: tanh and the step back ----
    _mistake("tanh_linear", "the tanh derivative 1 − s² replaced by 1 − s everywhere",
             "both where the error enters s_t and at every step back",
             (ENTRY, ENTRY.replace("s[t] ** 2", "s[t]")),
             (BACK, BACK.replace("s_prev[k] ** 2", "s_prev[k]"))),
    _mistake("tanh_linear_entry", "1 − s instead of 1 − s² where the error enters s_t",
             "where the error enters s_t: it is", ENTRY, ENTRY.replace("s[t] ** 2", "s[t]")),
    _mistake("tanh_linear_back", "1 − s instead of 1 − s² at each step back",
             "as the derivative of tanh when stepping back",
             BACK, BACK.replace("s_prev[k] ** 2", "s_prev[k]")),
    _mistake("back_with_current_state", "σ'(x)-style slip: the step back uses 1 − s_k² of the "
             "current state instead of 1 − s_{k−1}²", "steps back from step k with 1 − s_k²",
             BACK, BACK.replace("s_prev[k] ** 2", "s[k] ** 2")),
    _mistake("W_not_transposed", "a missing transpose: the step back with W δ instead of Wᵀ δ",
             "steps back through W with W δ", BACK, BACK.replace("W.T @ delta", "W @ delta")),
    _mistake("s_minus_one_wraps", "s[k − 1] for s_{k−1}, which wraps to the last state at "
             "k = 0", "reads as the *last* state",
             (DW, DW.replace("s_prev[k]", "s[k - 1]")),
             (BACK, BACK.replace("s_prev[k]", "s[k - 1]"))),
    _mistake("input_at_t", "dU adds δ x_tᵀ for every term instead of δ x_kᵀ",
             "at step k the input is x_k", DU, DU.replace("x[k]", "x[t]")),
    # ---- bptt: the loops over time ----
    _mistake("truncate_too_long", "truncation one step too long: back to t − truncate − 1",
             "one step too far back", FIRST, FIRST.replace("t - truncate", "t - truncate - 1")),
    _mistake("truncate_too_short", "truncation one step short: range(t, first, −1) excludes "
             "first", "stops one step too early", TERMS, "for k in range(t, first, -1):"),
    _mistake("truncate_ignored", "truncate ignored: always full BPTT", "ignores truncate",
             FIRST, "first = 0"),
    _mistake("no_recurrence", "the error never carried back through W (only the k = t term)",
             "only the immediate term", FIRST, "first = t"),
    _mistake("skip_first_step", "BPTT loop off by one at the start: range(T − 1, 0, −1) skips "
             "t = 0", "skips t = 0", STEPS, "for t in range(T - 1, 0, -1):"),
    _mistake("skip_last_step", "BPTT loop off by one at the end: range(T − 2, −1, −1) skips "
             "t = T − 1", "skips the last step", STEPS, "for t in range(T - 2, -1, -1):"),
    _mistake("stop_before_k0", "the loop back stops before k = 0 (worried about s[−1])",
             "stops before step k = 0", TERMS, "for k in range(t, max(first - 1, 0), -1):"),
    _mistake("dW_overwritten", "gradients not accumulated across time: dW = … instead of +=",
             "keep the contribution of only one step", DW, DW.replace("+=", "=")),
    _mistake("dV_overwritten", "gradients not accumulated across time: dV = … instead of +=",
             "keep the contribution of only one step", DV, DV.replace("+=", "=")),
    _mistake("dV_transposed", "np.outer(s_t, δ) for dV: its transpose",
             "each other's transpose", DV, "dV += np.outer(s[t], delta_o[t])"),
    # ---- bptt: the result ----
    _mistake("mean_over_time", "gradients divided by T (a mean where the loss sums)",
             "averaged over", RETURN, "    return dU / T, dW / T, dV / T\n"),
    _mistake("clipped", "gradient clipping (np.clip to ±5, as in min-char-rnn) applied before "
             "returning", "clipped to ±5", RETURN,
             "    for d in (dU, dW, dV):\n        np.clip(d, -5, 5, out=d)\n"
             "    return dU, dW, dV\n"),
    _mistake("float32_accumulation", "gradients accumulated in float32 arrays", "float32",
             ZEROS, "dU, dW, dV = (np.zeros(a.shape, dtype=np.float32) for a in (U, W, V))"),
    _mistake("y_hat_in_place", "delta_o = y_hat without .copy(): y_hat changed in place", "",
             "delta_o = y_hat.copy()", "delta_o = y_hat",
             equivalent="y_hat is bptt's own forward result, not an argument, and nothing "
                        "reads it after delta_o is made"),
]


_SOFTMAX = '''
import numpy as np

def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)
'''

CORRECT = [
    Variant("reference", "the reference itself", REFERENCE),
    Variant("loops", "explicit loops, outputs per step, the state before step 0 built "
            "inside the loop", _SOFTMAX + '''
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
'''),
    Variant("einsum_depth", "einsum, the outputs' error for all steps at once, a depth "
            "counter instead of a lower bound, float32 inputs converted to float64", _SOFTMAX + '''
def rnn_forward(x, U, W, V):
    x, U, W, V = (np.asarray(a, dtype=np.float64) for a in (x, U, W, V))
    states = []
    prev = np.zeros(W.shape[0])
    for x_t in x:
        prev = np.tanh(np.einsum("hd,d->h", U, x_t) + np.einsum("hj,j->h", W, prev))
        states.append(prev)
    s = np.array(states)
    return s, softmax(np.einsum("kh,th->tk", V, s))


def rnn_loss(y_hat, y):
    picked = np.take_along_axis(np.asarray(y_hat, dtype=np.float64), np.asarray(y)[:, None], 1)
    return -float(np.log(picked).sum())


def bptt(x, y, U, W, V, truncate=None):
    x, U, W, V = (np.asarray(a, dtype=np.float64) for a in (x, U, W, V))
    s, y_hat = rnn_forward(x, U, W, V)
    T = s.shape[0]
    prev = np.concatenate([np.zeros_like(s[:1]), s[:-1]], axis=0)
    err = y_hat - np.eye(V.shape[0])[y]
    dV = np.einsum("tk,th->kh", err, s)
    dU, dW = np.zeros_like(U), np.zeros_like(W)
    depth = T if truncate is None else truncate + 1
    for t in range(T):
        delta = (V.T @ err[t]) * (1 - s[t] ** 2)
        k, steps = t, 0
        while k >= 0 and steps < depth:
            dU += np.einsum("h,d->hd", delta, x[k])
            dW += np.einsum("h,j->hj", delta, prev[k])
            delta = (W.T @ delta) * (1 - prev[k] ** 2)
            k, steps = k - 1, steps + 1
    return dU, dW, dV
'''),
    Variant("per_step_lists", "the backward error of every step stored in a dict keyed by "
            "(t, k), summed at the end; a helper for the softmax gradient", _SOFTMAX + '''
def rnn_forward(x, U, W, V):
    s = []
    h = np.zeros(len(W))
    for t in range(len(x)):
        h = np.tanh(U @ x[t] + W @ h)
        s.append(h)
    s = np.stack(s)
    return s, softmax(s @ V.T)


def rnn_loss(y_hat, y):
    return float(np.sum(-np.log(y_hat[range(len(y)), y])))


def output_error(y_hat_t, label):
    onehot = np.zeros_like(y_hat_t)
    onehot[label] = 1.0
    return y_hat_t - onehot


def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T, H = s.shape
    deltas = {}
    dV = sum(np.outer(output_error(y_hat[t], y[t]), s[t]) for t in range(T))
    for t in range(T):
        delta = V.T @ output_error(y_hat[t], y[t]) * (1 - s[t] * s[t])
        lowest = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, lowest - 1, -1):
            deltas[t, k] = delta
            before = s[k - 1] if k else np.zeros(H)
            delta = W.T @ delta * (1 - before * before)
    dU = sum(np.outer(d, x[k]) for (t, k), d in deltas.items())
    dW = sum(np.outer(d, s[k - 1] if k else np.zeros(H)) for (t, k), d in deltas.items())
    return dU + np.zeros_like(U, dtype=float), dW + np.zeros_like(W, dtype=float), dV
'''),
    Variant("stable_sigmoid_style_softmax", "own log-sum-exp softmax, the loss from "
            "log-probabilities, gradients gathered per step k (truncation as a window)", '''
import numpy as np

def softmax(z):
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_forward(x, U, W, V):
    T = len(x)
    H = W.shape[0]
    s = np.empty((T, H))
    for t in range(T):
        a = U @ x[t] + (W @ s[t - 1] if t > 0 else 0.0)
        s[t] = np.tanh(a)
    o = s @ V.T
    log_p = o - (o.max(axis=1, keepdims=True)
                 + np.log(np.exp(o - o.max(axis=1, keepdims=True)).sum(axis=1, keepdims=True)))
    return s, np.exp(log_p)


def rnn_loss(y_hat, y):
    y = np.asarray(y)
    return -np.log(y_hat[np.arange(y.size), y]).sum().item()


def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T = len(x)
    window = T if truncate is None else truncate
    err = y_hat.copy()
    err[np.arange(T), y] -= 1
    dV = err.T @ s
    dU = np.zeros(U.shape)
    dW = np.zeros(W.shape)
    for t in range(T - 1, -1, -1):
        g = (V.T @ err[t]) * (1 - s[t] ** 2)
        for k in range(t, -1, -1):
            if t - k > window:
                break
            dU += g[:, None] * x[k][None, :]
            if k > 0:
                dW += g[:, None] * s[k - 1][None, :]
                g = (W.T @ g) * (1 - s[k - 1] ** 2)
    return dU, dW, dV
'''),
]


def single_check(namespace, rng):
    """What the notebook's own check does: one random sequence of the notebook's sizes
    (T, D, H, K = 5, 3, 4, 6), each graded function called once (full BPTT), compared with
    the reference."""
    T, D, H, K = 5, 3, 4, 6
    x = rng.normal(size=(T, D))
    y = rng.integers(0, K, size=T)
    U, W, V = (rng.normal(scale=0.5, size=shape) for shape in [(H, D), (H, H), (K, H)])
    s, y_hat = ref.rnn_forward(x, U, W, V)
    loss = ref.rnn_loss(y_hat, y)
    grads = ref.bptt(x, y, U, W, V)
    your_s, your_y_hat = namespace["rnn_forward"](x.copy(), U.copy(), W.copy(), V.copy())
    checks = [("s", your_s, s), ("y_hat", your_y_hat, y_hat),
              ("loss", namespace["rnn_loss"](y_hat.copy(), y.copy()), loss)]
    yours = namespace["bptt"](x.copy(), y.copy(), U.copy(), W.copy(), V.copy())
    checks += [(label, mine, theirs) for label, mine, theirs in zip("dU dW dV".split(), yours,
                                                                    grads)]
    return checks
