# Correct: small helper functions, np.split for the gate blocks, the per-step cache kept as
# tuples, and the steps stored in arrays.

# %% [todo] lstm_forward
def lstm_step(x_t, h_prev, c_prev, W, b):
    xh = np.hstack((x_t, h_prev))
    a_f, a_i, a_o, a_g = np.split(xh.dot(W) + b, 4, axis=1)
    f, i, o, g = sigmoid(a_f), sigmoid(a_i), sigmoid(a_o), np.tanh(a_g)
    c = f * c_prev + i * g
    h = o * np.tanh(c)
    return h, c, (xh, f, i, o, g, c_prev, c)


def lstm_forward(X, W, b, use_state=False):
    X = np.asarray(X, dtype=float)
    N, T, _ = X.shape
    H = W.shape[1] // 4
    hs = np.zeros((N, T, H))
    cs = np.zeros((N, T, H))
    h = c = np.zeros((N, H))
    steps = []
    for t in range(T):
        h, c, step = lstm_step(X[:, t], h, c, W, b)
        hs[:, t], cs[:, t] = h, c
        steps.append(step)
    out = cs if use_state else hs
    return out, (X.shape, W, use_state, steps)

# %% [todo] lstm_backward
def dsigmoid(s):
    return s * (1 - s)


def lstm_step_backward(dh, dc, W, step):
    xh, f, i, o, g, c_prev, c = step
    tc = np.tanh(c)
    dc = dc + dh * o * (1 - tc * tc)
    da = np.concatenate([dc * c_prev * dsigmoid(f),
                         dc * g * dsigmoid(i),
                         dh * tc * dsigmoid(o),
                         dc * i * (1 - g * g)], axis=1)
    return da, dc * f


def lstm_backward(dout, cache):
    shape, W, use_state, steps = cache
    N, T, D = shape
    H = dout.shape[2]
    dX = np.zeros(shape)
    dW = np.zeros(W.shape)
    db = np.zeros(W.shape[1])
    dh_carry = np.zeros((N, H))
    dc_carry = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        dh = dh_carry + (0 if use_state else dout[:, t])
        dc = dc_carry + (dout[:, t] if use_state else 0)
        da, dc_carry = lstm_step_backward(dh, dc, W, steps[t])
        dW += steps[t][0].T.dot(da)
        db += np.sum(da, axis=0)
        dxh = da.dot(W.T)
        dX[:, t], dh_carry = dxh[:, :D], dxh[:, D:]
    return dX, dW, db
