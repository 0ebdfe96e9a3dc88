# Mistake: the use_state option is accepted but ignored: the layer always outputs h_t and the
# backward pass always feeds dout into dh. Correct for use_state=False only.

# %% [todo] lstm_forward
def lstm_forward(X, W, b, use_state=False):
    N, T, D = X.shape
    H = W.shape[1] // 4
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    hs = []
    cache = []
    for t in range(T):
        xh = np.column_stack([X[:, t, :], h])
        a = np.dot(xh, W) + b
        f = sigmoid(a[:, :H])
        i = sigmoid(a[:, H:2*H])
        o = sigmoid(a[:, 2*H:3*H])
        g = np.tanh(a[:, 3*H:])
        cache.append((xh, f, i, o, g, c))
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
    return np.transpose(np.array(hs), (1, 0, 2)), (W, D, cache)

# %% [todo] lstm_backward
def lstm_backward(dout, cache):
    W, D, steps = cache
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros_like(W)
    db = np.zeros_like(W[0])
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        xh, f, i, o, g, c_prev = steps[t]
        c = f * c_prev + i * g
        tc = np.tanh(c)
        dh = dout[:, t] + dh_next
        dc = dc_next + dh * o * (1 - tc ** 2)
        da = np.column_stack([dc * c_prev * f * (1 - f), dc * g * i * (1 - i),
                              dh * tc * o * (1 - o), dc * i * (1 - g ** 2)])
        dW += xh.T @ da
        db += da.sum(axis=0)
        dxh = da @ W.T
        dX[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
        dc_next = dc * f
    return dX, dW, db
