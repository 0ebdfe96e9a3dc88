# Mistake: truncated BPTT goes one step too far back (truncate + 2 steps instead of
# truncate + 1). Full BPTT (truncate=None) is right.

# %% [todo] rnn_forward
def rnn_forward(x, U, W, V):
    T, H = x.shape[0], U.shape[0]
    s = np.zeros((T + 1, H))          # s[-1] is the zero initial state
    for t in range(T):
        s[t] = np.tanh(U @ x[t] + W @ s[t - 1])
    s = s[:-1]
    return s, softmax(s @ V.T)

# %% [todo] rnn_loss
def rnn_loss(y_hat, y):
    return float(-np.sum(np.log(y_hat[np.arange(len(y)), y])))

# %% [todo] bptt
def bptt(x, y, U, W, V, truncate=None):
    T = len(y)
    s, o = rnn_forward(x, U, W, V)
    delta_o = o
    delta_o[np.arange(T), y] -= 1.0
    dLdU, dLdW, dLdV = np.zeros(U.shape), np.zeros(W.shape), np.zeros(V.shape)
    for t in np.arange(T)[::-1]:
        dLdV += np.outer(delta_o[t], s[t])
        delta_t = V.T @ delta_o[t] * (1 - s[t] ** 2)
        start = 0 if truncate is None else max(0, t - truncate - 1)
        for step in np.arange(start, t + 1)[::-1]:
            prev = s[step - 1] if step >= 1 else np.zeros_like(s[0])
            dLdW += np.outer(delta_t, prev)
            dLdU += np.outer(delta_t, x[step])
            delta_t = W.T @ delta_t * (1 - prev ** 2)
    return dLdU, dLdW, dLdV
