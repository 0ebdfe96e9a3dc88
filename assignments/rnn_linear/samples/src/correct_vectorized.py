# Correct: no loop at all. ∂ξ_i/∂S_k = grad_out_i · wRec^(n−k), then one weighted mean.

# %% [todo] output_gradient
def output_gradient(y, t):
    y = np.asarray(y, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    return -2.0 * (t - y)

# %% [todo] backward_gradient
def backward_gradient(X, S, grad_out, wRec):
    X = np.asarray(X, dtype=np.float64)
    S = np.asarray(S, dtype=np.float64)
    seq_len = X.shape[1]
    powers = float(wRec) ** np.arange(seq_len, -1, -1)      # wRec^n, ..., wRec^0
    grad_over_time = np.outer(grad_out, powers)             # (N, n + 1)
    per_sample_wx = np.einsum("ik,ik->i", grad_over_time[:, 1:], X)
    per_sample_wrec = np.einsum("ik,ik->i", grad_over_time[:, 1:], S[:, :-1])
    return (per_sample_wx.mean(), per_sample_wrec.mean()), grad_over_time
