# Correct: explicit loops, one step of the recurrence at a time, outputs computed per step.

# %% [todo] rnn_forward
def rnn_forward(x, U, W, V):
    T = x.shape[0]
    H = W.shape[0]
    K = V.shape[0]
    s = np.zeros((T, H))
    y_hat = np.zeros((T, K))
    h = np.zeros(H)
    for t in range(T):
        h = np.tanh(U.dot(x[t]) + W.dot(h))
        s[t] = h
        y_hat[t] = softmax(V.dot(h))
    return s, y_hat

# %% [todo] rnn_loss
def rnn_loss(y_hat, y):
    total = 0.0
    for t, label in enumerate(y):
        total -= np.log(y_hat[t, label])
    return float(total)

# %% [todo] bptt
def bptt(x, y, U, W, V, truncate=None):
    T = len(y)
    s, y_hat = rnn_forward(x, U, W, V)
    dU = np.zeros(U.shape)
    dW = np.zeros(W.shape)
    dV = np.zeros(V.shape)
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
