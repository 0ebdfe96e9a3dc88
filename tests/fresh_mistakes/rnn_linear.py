"""Fresh mistakes for the linear RNN (output_gradient, backward_gradient)."""
from tests.fresh_mistakes import Mistake, Solution, edit

# The notebook's given cells and data, in a student's copy.
GIVEN = '''import numpy as np


def update_state(xk, sk, wx, wRec):
    return sk * wRec + xk * wx


def forward_states(X, wx, wRec):
    X = np.asarray(X, dtype=float)
    S = np.zeros((X.shape[0], X.shape[1] + 1))
    for k in range(1, X.shape[1] + 1):
        S[:, k] = update_state(X[:, k - 1], S[:, k - 1], wx, wRec)
    return S


def loss(y, t):
    return float(np.mean((np.asarray(t, dtype=float) - np.asarray(y, dtype=float)) ** 2))


n_samples = 20
seq_len = 10
rng = np.random.default_rng(seed=2021)
X = rng.integers(0, 2, size=(n_samples, seq_len)).astype(np.float64)
t = X.sum(axis=1)
'''

# From the last state back, np.dot over the batch, 1/N at the end.
LOOP = GIVEN + '''

def output_gradient(y, t):
    return 2.0 * (np.asarray(y, dtype=float) - np.asarray(t, dtype=float))


def backward_gradient(X, S, grad_out, wRec):
    X = np.asarray(X, dtype=float)
    S = np.asarray(S, dtype=float)
    N, n = X.shape
    g = np.zeros((N, n + 1))
    g[:, n] = grad_out
    gx = 0.0
    gr = 0.0
    for k in range(n, 0, -1):
        gx += np.dot(g[:, k], X[:, k - 1])
        gr += np.dot(g[:, k], S[:, k - 1])
        g[:, k - 1] = g[:, k] * wRec
    return (gx / N, gr / N), g
'''

# The mean over samples taken inside the loop, step by step (zero-based step index).
MEAN_INSIDE = GIVEN + '''

def output_gradient(y, t):
    return -2 * (np.array(t, dtype=np.float64) - np.array(y, dtype=np.float64))


def backward_gradient(X, S, grad_out, wRec):
    steps = X.shape[1]
    grad_over_time = np.zeros((X.shape[0], steps + 1))
    grad_over_time[:, -1] = grad_out
    wx_grad, wRec_grad = 0.0, 0.0
    for j in reversed(range(steps)):
        wx_grad += np.mean(grad_over_time[:, j + 1] * X[:, j])
        wRec_grad += np.mean(grad_over_time[:, j + 1] * S[:, j])
        grad_over_time[:, j] = wRec * grad_over_time[:, j + 1]
    return (float(wx_grad), float(wRec_grad)), grad_over_time
'''

# Closed form: ∂ξ_i/∂S_k = grad_out · wRec^(n − k), no loop.
CLOSED = GIVEN + '''

def output_gradient(y, t):
    diff = np.subtract(y, t, dtype=np.float64)
    return diff + diff


def backward_gradient(X, S, grad_out, wRec):
    X = np.asarray(X, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    N, n = X.shape
    powers = float(wRec) ** (n - np.arange(n + 1))
    grad_over_time = np.asarray(grad_out, dtype=np.float64)[:, None] * powers[None, :]
    dS = grad_over_time[:, 1:]
    wx_grad = np.sum(dS * X) / N
    wRec_grad = np.sum(dS * S[:, :-1]) / N
    return (wx_grad, wRec_grad), grad_over_time
'''

CORRECT = [Solution("loop", LOOP), Solution("mean-inside", MEAN_INSIDE),
           Solution("closed-form", CLOSED)]

MISTAKES = [
    Mistake("output-sign", edit(LOOP, "2.0 * (np.asarray(y, dtype=float) - np.asarray(t, dtype=float))",
                                "2.0 * (np.asarray(t, dtype=float) - np.asarray(y, dtype=float))"),
            "output_gradient", "differentiates (t − y)² as 2(t − y): the sign is wrong"),
    Mistake("output-no-two", edit(CLOSED, "return diff + diff", "return diff"),
            "output_gradient", "the derivative of (t − y)² without its factor 2"),
    Mistake("output-mean", edit(MEAN_INSIDE, "return -2 * (np.array(t, dtype=np.float64) - np.array(y, dtype=np.float64))",
                                "return -2 * (np.array(t, dtype=np.float64) - np.array(y, dtype=np.float64)) / len(y)"),
            "output_gradient", "puts the 1/N of the mean into the per-sample output gradient"),
    Mistake("global-n-samples", edit(LOOP, "return (gx / N, gr / N), g",
                                     "return (gx / n_samples, gr / n_samples), g"),
            "backward_gradient", "divides by the notebook's global n_samples instead of the "
                                 "batch size of the arguments"),
    Mistake("current-state", edit(LOOP, "gr += np.dot(g[:, k], S[:, k - 1])",
                                  "gr += np.dot(g[:, k], S[:, k])"),
            "backward_gradient", "wRec's local derivative taken as S_k instead of S_{k−1}"),
    Mistake("no-wrec-carry", edit(LOOP, "g[:, k - 1] = g[:, k] * wRec", "g[:, k - 1] = g[:, k]"),
            "backward_gradient", "steps back through the states without multiplying by wRec"),
    Mistake("loop-stops-early", edit(LOOP, "for k in range(n, 0, -1):", "for k in range(n, 1, -1):"),
            "backward_gradient", "the loop stops before the first step: S_1's terms and "
                                 "∂ξ/∂S_0 are never computed"),
    Mistake("assign-not-accumulate", edit(MEAN_INSIDE, "wx_grad += np.mean", "wx_grad = np.mean"),
            "backward_gradient", "wx_grad is assigned at every step instead of summed: only "
                                 "the first step's term is kept"),
    Mistake("carry-before-use", edit(LOOP, '''        gx += np.dot(g[:, k], X[:, k - 1])
        gr += np.dot(g[:, k], S[:, k - 1])
        g[:, k - 1] = g[:, k] * wRec''', '''        g[:, k - 1] = g[:, k] * wRec
        gx += np.dot(g[:, k - 1], X[:, k - 1])
        gr += np.dot(g[:, k - 1], S[:, k - 1])'''),
            "backward_gradient", "steps the state gradient back before using it: each step's "
                                 "weight terms use ∂ξ/∂S_{k−1} instead of ∂ξ/∂S_k"),
    Mistake("no-mean", edit(LOOP, "return (gx / N, gr / N), g", "return (gx, gr), g"),
            "backward_gradient", "sums over the batch and never divides by N"),
    Mistake("mean-over-time", edit(CLOSED, '''    wx_grad = np.sum(dS * X) / N
    wRec_grad = np.sum(dS * S[:, :-1]) / N''', '''    wx_grad = np.sum(dS * X) / n
    wRec_grad = np.sum(dS * S[:, :-1]) / n'''),
            "backward_gradient", "divides by the sequence length instead of the batch size"),
    Mistake("scaled-grad-over-time", edit(LOOP, '''    g[:, n] = grad_out
    gx = 0.0''', '''    g[:, n] = np.asarray(grad_out, dtype=float) / N
    gx = 0.0''').replace("return (gx / N, gr / N), g", "return (gx, gr), g"),
            "backward_gradient", "folds the 1/N into grad_over_time: the weight gradients are "
                                 "right but grad_over_time is not per sample"),
    Mistake("power-off-by-one", edit(CLOSED, "(n - np.arange(n + 1))", "(n + 1 - np.arange(n + 1))"),
            "backward_gradient", "∂ξ/∂S_k written as grad_out·wRec^(n−k+1): one power too many"),
    Mistake("returned-order", edit(MEAN_INSIDE, "return (float(wx_grad), float(wRec_grad))",
                                   "return (float(wRec_grad), float(wx_grad))"),
            "backward_gradient", "returns (wRec_grad, wx_grad) in the wrong order"),
    Mistake("input-shifted", edit(MEAN_INSIDE, "wx_grad += np.mean(grad_over_time[:, j + 1] * X[:, j])",
                                  "wx_grad += np.mean(grad_over_time[:, j] * X[:, j])"),
            "backward_gradient", "pairs X_k with ∂ξ/∂S_{k−1} (forgets that S has one column "
                                 "more than X), which is not yet filled in: wx_grad stays 0"),
]
