# Mistake: uses 1 − s for the derivative of tanh instead of 1 − s² (both when entering the
# recurrence and at every step back).

# %% [todo] rnn_forward
def rnn_forward(x, U, W, V):
    hidden = []
    state = np.zeros(len(W))
    for xt in x:
        state = np.tanh(U @ xt + W @ state)
        hidden.append(state)
    hidden = np.stack(hidden)
    return hidden, softmax(hidden @ V.T)

# %% [todo] rnn_loss
def rnn_loss(y_hat, y):
    probs = [y_hat[i, c] for i, c in enumerate(y)]
    return -float(np.sum(np.log(probs)))

# %% [todo] bptt
def bptt(x, y, U, W, V, truncate=None):
    s, y_hat = rnn_forward(x, U, W, V)
    T = len(x)
    zero = np.zeros(len(W))
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    for t in range(T - 1, -1, -1):
        g = y_hat[t].copy()
        g[y[t]] -= 1
        dV += np.outer(g, s[t])
        d = (V.T @ g) * (1 - s[t])
        low = 0 if truncate is None else max(0, t - truncate)
        for k in range(t, low - 1, -1):
            s_prev = s[k - 1] if k > 0 else zero
            dW += np.outer(d, s_prev)
            dU += np.outer(d, x[k])
            d = (W.T @ d) * (1 - s_prev)
    return dU, dW, dV
