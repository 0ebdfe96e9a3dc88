"""Fresh mistakes for the tanh RNN and BPTT (rnn_forward, rnn_loss, bptt)."""
from tests.fresh_mistakes import Mistake, Solution, edit

GIVEN = '''import numpy as np


def softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    ez = np.exp(z)
    return ez / ez.sum(axis=-1, keepdims=True)
'''

# The handout's recipe: for every t, a delta walked back over k = t, t − 1, ...
NESTED = GIVEN + '''

def rnn_forward(x, U, W, V):
    x = np.asarray(x, dtype=float)
    U, W, V = (np.asarray(m, dtype=float) for m in (U, W, V))
    T, H = len(x), W.shape[0]
    s = np.zeros((T, H))
    h = np.zeros(H)
    for t in range(T):
        h = np.tanh(U @ x[t] + W @ h)
        s[t] = h
    y_hat = softmax(s @ V.T)
    return s, y_hat


def rnn_loss(y_hat, y):
    y_hat = np.asarray(y_hat, dtype=float)
    picked = y_hat[np.arange(len(y)), y]
    return float(-np.log(picked).sum())


def bptt(x, y, U, W, V, truncate=None):
    x = np.asarray(x, dtype=float)
    U, W, V = (np.asarray(m, dtype=float) for m in (U, W, V))
    y = np.asarray(y, dtype=int)
    T = len(y)
    s, y_hat = rnn_forward(x, U, W, V)
    dU, dW, dV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    do = y_hat.copy()
    do[np.arange(T), y] -= 1
    for t in reversed(range(T)):
        dV += np.outer(do[t], s[t])
        delta = V.T @ do[t] * (1 - s[t] ** 2)
        lo = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, lo - 1, -1):
            prev = s[k - 1] if k > 0 else np.zeros_like(s[0])
            dW += np.outer(delta, prev)
            dU += np.outer(delta, x[k])
            delta = W.T @ delta * (1 - prev ** 2)
    return dU, dW, dV
'''

# Full BPTT in one backward sweep carrying dh; the truncated case walks each t separately.
CARRY = GIVEN + '''

def rnn_forward(x, U, W, V):
    T = x.shape[0]
    states, outputs = [], []
    h = np.zeros(W.shape[0])
    for t in range(T):
        h = np.tanh(np.dot(U, x[t]) + np.dot(W, h))
        states.append(h)
        outputs.append(softmax(np.dot(V, h)))
    return np.array(states, dtype=np.float64), np.array(outputs, dtype=np.float64)


def rnn_loss(y_hat, y):
    total = 0.0
    for t, label in enumerate(y):
        total += -np.log(float(y_hat[t][label]))
    return total


def tanh_grad(state):
    return 1.0 - state * state


def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T, H = s.shape
    s_before = np.concatenate([np.zeros((1, H)), s[:-1]])
    dU = np.zeros_like(U, dtype=np.float64)
    dW = np.zeros_like(W, dtype=np.float64)
    dV = np.zeros_like(V, dtype=np.float64)
    err = y_hat.copy()
    for t in range(T):
        err[t, y[t]] -= 1.0
    for t in range(T):
        dV += np.outer(err[t], s[t])
    if truncate is None:
        dh_next = np.zeros(H)
        for t in range(T - 1, -1, -1):
            da = (np.dot(V.T, err[t]) + dh_next) * tanh_grad(s[t])
            dW += np.outer(da, s_before[t])
            dU += np.outer(da, x[t])
            dh_next = np.dot(W.T, da)
        return dU, dW, dV
    for t in range(T):
        da = np.dot(V.T, err[t]) * tanh_grad(s[t])
        k = t
        while k >= max(0, t - truncate):
            dW += np.outer(da, s_before[k])
            dU += np.outer(da, x[k])
            da = np.dot(W.T, da) * tanh_grad(s_before[k])
            k -= 1
    return dU, dW, dV
'''

# States kept with a leading zero row, one-hot targets from np.eye, matrix products.
PADDED = GIVEN + '''

def rnn_forward(x, U, W, V):
    x = np.array(x, dtype=np.float64)
    U, W, V = np.array(U, dtype=np.float64), np.array(W, dtype=np.float64), np.array(V, dtype=np.float64)
    S = np.zeros((len(x) + 1, W.shape[0]))
    for t in range(1, len(x) + 1):
        S[t] = np.tanh(x[t - 1] @ U.T + S[t - 1] @ W.T)
    s = S[1:]
    return s, softmax(s @ V.T)


def rnn_loss(y_hat, y):
    onehot = np.eye(np.shape(y_hat)[1])[np.asarray(y)]
    return float(-np.sum(onehot * np.log(np.asarray(y_hat, dtype=np.float64))))


def bptt(x, y, U, W, V, truncate=None):
    x = np.array(x, dtype=np.float64)
    U, W, V = np.array(U, dtype=np.float64), np.array(W, dtype=np.float64), np.array(V, dtype=np.float64)
    s, y_hat = rnn_forward(x, U, W, V)
    T = len(x)
    S = np.vstack([np.zeros((1, s.shape[1])), s])
    dO = y_hat - np.eye(V.shape[0])[np.asarray(y)]
    dV = dO.T @ s
    dU, dW = np.zeros_like(U), np.zeros_like(W)
    depth = T if truncate is None else truncate + 1
    for t in range(T):
        g = (V.T @ dO[t]) * (1 - S[t + 1] ** 2)
        for k in range(t, max(-1, t - depth), -1):
            dW += np.outer(g, S[k])
            dU += np.outer(g, x[k])
            g = (W.T @ g) * (1 - S[k] ** 2)
    return dU, dW, dV
'''

CORRECT = [Solution("nested", NESTED), Solution("carry", CARRY), Solution("padded", PADDED)]

MISTAKES = [
    Mistake("softmax-over-time", edit(NESTED, "y_hat = softmax(s @ V.T)", '''o = s @ V.T
    e = np.exp(o - o.max())
    y_hat = e / e.sum(axis=0)'''),
            "rnn_forward", "normalises the softmax over time (axis 0) instead of over classes"),
    Mistake("cached-preactivation", edit(NESTED, '''        h = np.tanh(U @ x[t] + W @ h)
        s[t] = h''', '''        a = U @ x[t] + W @ h
        s[t] = a
        h = np.tanh(a)'''),
            "rnn_forward", "stores the pre-activation U x_t + W s_{t−1} in s instead of the state"),
    Mistake("output-before-update", edit(CARRY, '''        h = np.tanh(np.dot(U, x[t]) + np.dot(W, h))
        states.append(h)
        outputs.append(softmax(np.dot(V, h)))''', '''        outputs.append(softmax(np.dot(V, h)))
        h = np.tanh(np.dot(U, x[t]) + np.dot(W, h))
        states.append(h)'''),
            "rnn_forward", "computes ŷ_t from s_{t−1}: the output is taken before the state is "
                           "updated"),
    Mistake("loss-mean", edit(NESTED, "return float(-np.log(picked).sum())",
                              "return float(-np.log(picked).mean())"),
            "rnn_loss", "averages the cross-entropy over time where it is summed"),
    Mistake("loss-fancy-index", edit(NESTED, "picked = y_hat[np.arange(len(y)), y]",
                                     "picked = y_hat[:, y]"),
            "rnn_loss", "indexes y_hat[:, y], a T×T block, instead of one entry per row"),
    Mistake("no-onehot", edit(NESTED, "    do[np.arange(T), y] -= 1\n", ""),
            "bptt", "the softmax gradient taken as ŷ_t without subtracting the one-hot target"),
    Mistake("tanh-no-square", edit(CARRY, "return 1.0 - state * state", "return 1.0 - state"),
            "bptt", "tanh' written as 1 − s instead of 1 − s²"),
    Mistake("tanh-of-preactivation", edit(NESTED, '''        delta = V.T @ do[t] * (1 - s[t] ** 2)''', '''        a = U @ x[t] + W @ (s[t - 1] if t > 0 else np.zeros_like(s[0]))
        delta = V.T @ do[t] * (1 - a ** 2)'''),
            "bptt", "tanh' at step t written with the pre-activation a_t (1 − a²) instead of "
                    "the state (1 − s²)"),
    Mistake("no-wt-step", edit(NESTED, "delta = W.T @ delta * (1 - prev ** 2)",
                               "delta = delta * (1 - prev ** 2)"),
            "bptt", "steps delta back through time without multiplying by Wᵀ"),
    Mistake("w-not-transposed", edit(PADDED, "g = (W.T @ g) * (1 - S[k] ** 2)",
                                     "g = (W @ g) * (1 - S[k] ** 2)"),
            "bptt", "steps back with W instead of Wᵀ"),
    Mistake("tanh-wrong-step", edit(NESTED, "delta = W.T @ delta * (1 - prev ** 2)",
                                    "delta = W.T @ delta * (1 - s[k] ** 2)"),
            "bptt", "the step back uses tanh' of s_k instead of s_{k−1}"),
    Mistake("dw-transposed", edit(NESTED, "dW += np.outer(delta, prev)", "dW += np.outer(prev, delta)"),
            "bptt", "dW accumulates s_{k−1} δᵀ, the transpose of δ s_{k−1}ᵀ"),
    Mistake("truncate-short", edit(NESTED, "for k in range(t, lo - 1, -1):",
                                   "for k in range(t, lo, -1):"),
            "bptt", "the inner loop stops one step before max(0, t − truncate) (and never "
                    "reaches step 0)"),
    Mistake("truncate-zero-falsy", edit(CARRY, "if truncate is None:", "if not truncate:"),
            "bptt", "`if not truncate` treats truncate = 0 as full BPTT"),
    Mistake("du-current-input", edit(NESTED, "dU += np.outer(delta, x[k])", "dU += np.outer(delta, x[t])"),
            "bptt", "dU uses x_t, the input of the step the error was made at, at every step k"),
    Mistake("dv-overwritten", edit(CARRY, "dV += np.outer(err[t], s[t])", "dV = np.outer(err[t], s[t])"),
            "bptt", "dV is assigned instead of summed over time: only the last step's term"),
    Mistake("truncate-long", edit(PADDED, "depth = T if truncate is None else truncate + 1",
                                  "depth = T if truncate is None else truncate + 2"),
            "bptt", "truncation lets the error flow one step further back than truncate allows"),
]
