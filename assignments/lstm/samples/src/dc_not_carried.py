# Mistake: the backward pass carries dh to the previous step but forgets dc: the gradient of
# c_{t-1} through c_t = f ⊙ c_{t-1} + i ⊙ g is never passed back. The forward pass is right.

# %% [todo] lstm_forward
def lstm_forward(X, W, b, use_state=False):
    N, T, D = X.shape
    H = W.shape[1] // 4
    h, c = np.zeros((N, H)), np.zeros((N, H))
    outputs = []
    saved = []
    for t in range(T):
        inp = np.concatenate([X[:, t], h], axis=1)
        a = inp @ W + b
        f, i, o = (sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
        g = np.tanh(a[:, 3 * H:])
        saved.append((inp, f, i, o, g, c))
        c = f * c + i * g
        h = o * np.tanh(c)
        outputs.append(c if use_state else h)
    return np.stack(outputs, axis=1), (W, use_state, saved)

# %% [todo] lstm_backward
def lstm_backward(dout, cache):
    W, use_state, saved = cache
    N, T, H = dout.shape
    D = W.shape[0] - H
    dX = np.zeros((N, T, D))
    dW = np.zeros(W.shape)
    db = np.zeros(W.shape[1])
    dh_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        inp, f, i, o, g, c_prev = saved[t]
        c = f * c_prev + i * g
        dh = dh_next if use_state else dh_next + dout[:, t]
        dc = dh * o * (1 - np.tanh(c) ** 2)
        if use_state:
            dc += dout[:, t]
        da = np.concatenate([dc * c_prev * f * (1 - f),
                             dc * g * i * (1 - i),
                             dh * np.tanh(c) * o * (1 - o),
                             dc * i * (1 - g ** 2)], axis=1)
        dW += inp.T @ da
        db += da.sum(axis=0)
        dinp = da @ W.T
        dX[:, t] = dinp[:, :D]
        dh_next = dinp[:, D:]
    return dX, dW, db
