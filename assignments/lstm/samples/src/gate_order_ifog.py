# Mistake: reads the gate blocks in the order input, forget, output, block input (a common
# textbook order) instead of forget, input, output, block input, consistently in the forward
# and the backward pass.

# %% [todo] lstm_forward
def lstm_forward(X, W, b, use_state=False):
    N, T, D = X.shape
    H = b.shape[0] // 4
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    out = np.empty((N, T, H))
    cache = []
    for t in range(T):
        xh = np.concatenate((X[:, t], h), axis=1)
        gates = xh @ W + b
        i = sigmoid(gates[:, :H])
        f = sigmoid(gates[:, H:2 * H])
        o = sigmoid(gates[:, 2 * H:3 * H])
        g = np.tanh(gates[:, 3 * H:])
        c_old = c
        c = f * c + i * g
        h = o * np.tanh(c)
        out[:, t] = c if use_state else h
        cache.append((xh, i, f, o, g, c_old, c))
    return out, (W, D, use_state, cache)

# %% [todo] lstm_backward
def lstm_backward(dout, cache):
    W, D, use_state, steps = cache
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros_like(W)
    db = np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        xh, i, f, o, g, c_old, c = steps[t]
        dh = dh_next + (0 if use_state else dout[:, t])
        tc = np.tanh(c)
        dc = dc_next + dh * o * (1 - tc ** 2) + (dout[:, t] if use_state else 0)
        di = dc * g * i * (1 - i)
        df = dc * c_old * f * (1 - f)
        do = dh * tc * o * (1 - o)
        dg = dc * i * (1 - g ** 2)
        dgates = np.concatenate([di, df, do, dg], axis=1)
        dW += xh.T @ dgates
        db += dgates.sum(0)
        dxh = dgates @ W.T
        dX[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        dc_next = dc * f
    return dX, dW, db
