# Mistake: the gradient of softmax + cross-entropy is taken as ŷ_t, without subtracting the
# one-hot target, so dV, dW and dU are all wrong.

# %% [todo] rnn_forward
def rnn_forward(x, U, W, V):
    x = np.asarray(x, dtype=np.float64)
    s = np.zeros((x.shape[0], W.shape[0]))
    for t in range(x.shape[0]):
        prev = s[t - 1] if t > 0 else np.zeros(W.shape[0])
        s[t] = np.tanh(U @ x[t] + W @ prev)
    return s, softmax(s @ V.T)

# %% [todo] rnn_loss
def rnn_loss(y_hat, y):
    return -np.log(y_hat[range(len(y)), y]).sum().item()

# %% [todo] bptt
def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T, H = s.shape
    s_prev = np.vstack([np.zeros(H), s[:-1]])
    dU, dW, dV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    for t in range(T - 1, -1, -1):
        grad_scores = y_hat[t]            # dE_t / d(V s_t)
        dV += np.outer(grad_scores, s[t])
        delta = (V.T @ grad_scores) * (1 - s[t] ** 2)
        stop = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, stop - 1, -1):
            dW += np.outer(delta, s_prev[k])
            dU += np.outer(delta, x[k])
            delta = (W.T @ delta) * (1 - s_prev[k] ** 2)
    return dU, dW, dV
