"""Reference linear RNN: one scalar state per sample, S_k = S_{k−1}·wRec + X_k·wx.

The output is the last state, y = S_n, and the loss is the mean over samples of (t − y)².
Backpropagation through time walks the states from the last to the first; both weights are
shared by every step, so their gradients are sums over time. The mean over samples (the 1/N)
is applied once, inside `backward_gradient`, which therefore returns the exact gradient of
`loss`; `output_gradient` is the per-sample derivative 2(y − t) without the 1/N.
"""
import numpy as np


def update_state(xk, sk, wx, wRec):
    """One step: S_k = S_{k−1}·wRec + X_k·wx. xk, sk: (n_samples,)."""
    return xk * wx + sk * wRec


def forward_states(X, wx, wRec):
    """All states. X: (n_samples, seq_len). Returns S: (n_samples, seq_len + 1), S[:, 0] = 0."""
    X = np.asarray(X, dtype=np.float64)
    S = np.zeros((X.shape[0], X.shape[1] + 1))
    for k in range(X.shape[1]):
        S[:, k + 1] = update_state(X[:, k], S[:, k], wx, wRec)
    return S


def loss(y, t):
    """Mean squared error over samples: mean((t − y)²). y, t: (n_samples,). Returns a float."""
    y = np.asarray(y, dtype=np.float64)
    return float(np.mean((np.asarray(t, dtype=np.float64) - y) ** 2))


def output_gradient(y, t):
    """∂(t − y)²/∂y = 2(y − t) per sample (the 1/N of the mean is left to backward_gradient)."""
    return 2.0 * (np.asarray(y, dtype=np.float64) - np.asarray(t, dtype=np.float64))


def backward_gradient(X, S, grad_out, wRec):
    """Backpropagation through time for the linear RNN.

    X: (n_samples, seq_len); S: (n_samples, seq_len + 1) from forward_states;
    grad_out: (n_samples,), the per-sample gradient at the output S[:, -1];
    wRec: the recurrent weight.
    Returns ((wx_grad, wRec_grad), grad_over_time):
      grad_over_time[:, k] = ∂ξ_i/∂S_k per sample (ξ_i = (t_i − y_i)², no 1/N), shape
      (n_samples, seq_len + 1), from grad_over_time[:, -1] = grad_out back through
      ∂S_k/∂S_{k−1} = wRec;
      wx_grad = (1/N) Σ_i Σ_k grad_over_time[i, k]·X[i, k−1] and
      wRec_grad = (1/N) Σ_i Σ_k grad_over_time[i, k]·S[i, k−1], the gradient of `loss`.
    """
    X = np.asarray(X, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    n_samples, seq_len = X.shape
    grad_over_time = np.zeros((n_samples, seq_len + 1))
    grad_over_time[:, -1] = grad_out
    wx_grad = 0.0
    wRec_grad = 0.0
    for k in range(seq_len, 0, -1):
        # S_k = S_{k-1}·wRec + X_k·wx: the local gradients are X_k, S_{k-1} and wRec
        wx_grad += np.sum(grad_over_time[:, k] * X[:, k - 1])
        wRec_grad += np.sum(grad_over_time[:, k] * S[:, k - 1])
        grad_over_time[:, k - 1] = grad_over_time[:, k] * wRec
    return (wx_grad / n_samples, wRec_grad / n_samples), grad_over_time
