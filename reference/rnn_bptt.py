"""Reference tanh/softmax RNN and backpropagation through time (BPTT).

    s_t = tanh(U x_t + W s_{t−1}),  s_{−1} = 0
    ŷ_t = softmax(V s_t)
    E   = −Σ_t log ŷ_t[y_t]          (summed over time, no mean)

Shapes: x (T, D), labels y (T,) integers in [0, K), U (H, D), W (H, H), V (K, H).
Because U, W and V are shared by all steps, the error at step t reaches W and U through every
earlier state: ∂E_t/∂W = Σ_{k ≤ t} (∂E_t/∂s_t)(Π_{j=k+1..t} ∂s_j/∂s_{j−1}) ∂s_k/∂W.
Truncated BPTT keeps only the terms k = t, t − 1, …, max(0, t − truncate).
"""
import numpy as np


def softmax(z):
    """Row-wise softmax of z (..., K), shifted by the row maximum so exp never overflows."""
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def rnn_forward(x, U, W, V):
    """Run the RNN over one sequence.

    x: (T, D). Returns (s, y_hat): hidden states s (T, H) and output distributions y_hat (T, K).
    """
    x = np.asarray(x, dtype=np.float64)
    U, W, V = (np.asarray(a, dtype=np.float64) for a in (U, W, V))
    T = x.shape[0]
    s = np.zeros((T, W.shape[0]))
    prev = np.zeros(W.shape[0])
    for t in range(T):
        prev = s[t] = np.tanh(U @ x[t] + W @ prev)
    return s, softmax(s @ V.T)


def rnn_loss(y_hat, y):
    """Cross-entropy summed over time: −Σ_t log y_hat[t, y[t]]. Returns a float."""
    y_hat = np.asarray(y_hat, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    return float(-np.sum(np.log(y_hat[np.arange(len(y)), y])))


def bptt(x, y, U, W, V, truncate=None):
    """Gradients of rnn_loss(rnn_forward(x, U, W, V)[1], y) with respect to U, W and V.

    truncate: None for full BPTT; an integer k ≥ 0 lets the error made at step t flow back
    through steps t, t − 1, …, max(0, t − k) only.
    Returns (dU, dW, dV) with the shapes of U, W and V.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.intp)
    U, W, V = (np.asarray(a, dtype=np.float64) for a in (U, W, V))
    T = x.shape[0]
    s, y_hat = rnn_forward(x, U, W, V)
    s_prev = np.vstack([np.zeros((1, W.shape[0])), s[:-1]])  # s_prev[t] = s_{t−1}
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    # softmax followed by cross-entropy: ∂E_t/∂(V s_t) = ŷ_t − onehot(y_t)
    delta_o = y_hat.copy()
    delta_o[np.arange(T), y] -= 1.0
    for t in range(T - 1, -1, -1):
        dV += np.outer(delta_o[t], s[t])
        # through V, then through tanh: tanh' = 1 − s²
        delta = (V.T @ delta_o[t]) * (1.0 - s[t] ** 2)
        first = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, first - 1, -1):
            dW += np.outer(delta, s_prev[k])
            dU += np.outer(delta, x[k])
            # one step further back: ∂s_k/∂s_{k−1} = diag(1 − s_{k−1}²) W
            delta = (W.T @ delta) * (1.0 - s_prev[k] ** 2)
    return dU, dW, dV
