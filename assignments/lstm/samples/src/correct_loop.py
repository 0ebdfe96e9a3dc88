# Correct: a straightforward loop over time with one dictionary per step in the cache.

# %% [todo] lstm_forward
def lstm_forward(X, W, b, use_state=False):
    N, T, D = X.shape
    H = W.shape[1] // 4
    h_prev = np.zeros((N, H))
    c_prev = np.zeros((N, H))
    out = np.zeros((N, T, H))
    history = []
    for t in range(T):
        z = np.concatenate([X[:, t, :], h_prev], axis=1)
        a = z @ W + b
        f_gate = sigmoid(a[:, 0:H])
        i_gate = sigmoid(a[:, H:2 * H])
        o_gate = sigmoid(a[:, 2 * H:3 * H])
        g_block = np.tanh(a[:, 3 * H:4 * H])
        c_new = f_gate * c_prev + i_gate * g_block
        h_new = o_gate * np.tanh(c_new)
        out[:, t, :] = c_new if use_state else h_new
        history.append(dict(z=z, f=f_gate, i=i_gate, o=o_gate, g=g_block,
                            c_prev=c_prev, c=c_new))
        h_prev, c_prev = h_new, c_new
    return out, {"W": W, "D": D, "use_state": use_state, "history": history}

# %% [todo] lstm_backward
def lstm_backward(dout, cache):
    W, D, use_state = cache["W"], cache["D"], cache["use_state"]
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros_like(W, dtype=float)
    db = np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        st = cache["history"][t]
        if use_state:
            dh = dh_next
            dc = dc_next + dout[:, t, :]
        else:
            dh = dh_next + dout[:, t, :]
            dc = dc_next.copy()
        tanh_c = np.tanh(st["c"])
        dc = dc + dh * st["o"] * (1 - tanh_c ** 2)
        d_f = dc * st["c_prev"] * st["f"] * (1 - st["f"])
        d_i = dc * st["g"] * st["i"] * (1 - st["i"])
        d_o = dh * tanh_c * st["o"] * (1 - st["o"])
        d_g = dc * st["i"] * (1 - st["g"] ** 2)
        da = np.hstack([d_f, d_i, d_o, d_g])
        dW += st["z"].T @ da
        db += da.sum(axis=0)
        dz = da @ W.T
        dX[:, t, :] = dz[:, :D]
        dh_next = dz[:, D:]
        dc_next = dc * st["f"]
    return dX, dW, db
