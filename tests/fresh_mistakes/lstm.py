"""Fresh mistakes for the LSTM layer (lstm_forward, lstm_backward)."""
from tests.fresh_mistakes import Mistake, Solution, edit

GIVEN = '''import numpy as np


def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)
'''

# One fused product a step, a dict per step in the cache.
DICT = GIVEN + '''

def lstm_forward(X, W, b, use_state=False):
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    N, T, D = X.shape
    H = b.size // 4
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    out = np.empty((N, T, H))
    memo = []
    for t in range(T):
        z = np.hstack([X[:, t, :], h])
        a = z @ W + b
        f, i, o = (sigmoid(a[:, k * H:(k + 1) * H]) for k in (0, 1, 2))
        g = np.tanh(a[:, 3 * H:4 * H])
        c_old = c
        c = c_old * f + g * i
        tc = np.tanh(c)
        h = tc * o
        out[:, t, :] = c if use_state else h
        memo.append(dict(z=z, a=a, f=f, i=i, o=o, g=g, c_old=c_old, c=c, tc=tc))
    return out, {"W": W, "D": D, "use_state": use_state, "steps": memo}


def lstm_backward(dout, cache):
    W, D, use_state, memo = cache["W"], cache["D"], cache["use_state"], cache["steps"]
    dout = np.asarray(dout, dtype=np.float64)
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros_like(W)
    db = np.zeros(4 * H)
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        m = memo[t]
        if use_state:
            dh = dh_next
            dc = dc_next + dout[:, t] + dh * m["o"] * (1 - m["tc"] ** 2)
        else:
            dh = dh_next + dout[:, t]
            dc = dc_next + dh * m["o"] * (1 - m["tc"] ** 2)
        df = dc * m["c_old"]
        di = dc * m["g"]
        dg = dc * m["i"]
        do = dh * m["tc"]
        dc_next = dc * m["f"]
        da = np.hstack([df * m["f"] * (1 - m["f"]), di * m["i"] * (1 - m["i"]),
                        do * m["o"] * (1 - m["o"]), dg * (1 - m["g"] ** 2)])
        dW += m["z"].T @ da
        db += da.sum(axis=0)
        dz = da @ W.T
        dX[:, t] = dz[:, :D]
        dh_next = dz[:, D:]
    return dX, dW, db
'''

# The fused weight split into its input rows and hidden rows, one product per gate.
SPLIT = GIVEN + '''

def lstm_forward(X, W, b, use_state=False):
    X = np.array(X, dtype=float)
    W = np.array(W, dtype=float)
    b = np.array(b, dtype=float)
    N, T, D = X.shape
    H = W.shape[1] // 4
    Wx, Wh = W[:D], W[D:]
    gates = {}
    for name, k in (("f", 0), ("i", 1), ("o", 2), ("g", 3)):
        gates[name] = (Wx[:, k * H:(k + 1) * H], Wh[:, k * H:(k + 1) * H], b[k * H:(k + 1) * H])
    h_prev = np.zeros((N, H))
    c_prev = np.zeros((N, H))
    outs, saved = [], []
    for t in range(T):
        x = X[:, t]
        pre = {n: x @ wx + h_prev @ wh + bb for n, (wx, wh, bb) in gates.items()}
        f, i, o = sigmoid(pre["f"]), sigmoid(pre["i"]), sigmoid(pre["o"])
        g = np.tanh(pre["g"])
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        outs.append(c if use_state else h)
        saved.append((x, h_prev, c_prev, f, i, o, g, c))
        h_prev, c_prev = h, c
    return np.stack(outs, axis=1), (W, D, H, use_state, saved)


def lstm_backward(dout, cache):
    W, D, H, use_state, saved = cache
    N, T, _ = dout.shape
    Wx, Wh = W[:D], W[D:]
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(4 * H)
    dX = np.zeros((N, T, D))
    carry_h = np.zeros((N, H))
    carry_c = np.zeros((N, H))
    for t in reversed(range(T)):
        x, h_prev, c_prev, f, i, o, g, c = saved[t]
        tanh_c = np.tanh(c)
        dh = carry_h + (0 if use_state else dout[:, t])
        dc = carry_c + dh * o * (1 - tanh_c ** 2) + (dout[:, t] if use_state else 0)
        d_f = dc * c_prev * f * (1 - f)
        d_i = dc * g * i * (1 - i)
        d_o = dh * tanh_c * o * (1 - o)
        d_g = dc * i * (1 - g * g)
        da = np.concatenate([d_f, d_i, d_o, d_g], axis=1)
        dWx += x.T @ da
        dWh += h_prev.T @ da
        db += np.sum(da, axis=0)
        dX[:, t] = da @ Wx.T
        carry_h = da @ Wh.T
        carry_c = dc * f
    return dX, np.vstack([dWx, dWh]), db
'''

# Gate derivatives kept per step, the parameter gradients summed with einsum at the end.
EINSUM = GIVEN + '''

def lstm_forward(X, W, b, use_state=False):
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    N, T, D = X.shape
    H = W.shape[1] // 4
    xw = np.einsum("ntd,dk->ntk", X, W[:D]) + np.asarray(b, dtype=np.float64)
    hs = np.zeros((N, T + 1, H))
    cs = np.zeros((N, T + 1, H))
    acts = np.zeros((N, T, 4 * H))
    for t in range(T):
        a = xw[:, t] + hs[:, t] @ W[D:]
        acts[:, t, :3 * H] = sigmoid(a[:, :3 * H])
        acts[:, t, 3 * H:] = np.tanh(a[:, 3 * H:])
        f, i, o, g = np.split(acts[:, t], 4, axis=1)
        cs[:, t + 1] = f * cs[:, t] + i * g
        hs[:, t + 1] = o * np.tanh(cs[:, t + 1])
    out = cs[:, 1:] if use_state else hs[:, 1:]
    return out.copy(), (X, W, hs, cs, acts, use_state)


def lstm_backward(dout, cache):
    X, W, hs, cs, acts, use_state = cache
    N, T, D = X.shape
    H = hs.shape[2]
    das = np.zeros((N, T, 4 * H))
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        f, i, o, g = np.split(acts[:, t], 4, axis=1)
        th = np.tanh(cs[:, t + 1])
        dh = dh_next if use_state else dh_next + dout[:, t]
        dc = dc_next + dh * o * (1 - th ** 2)
        if use_state:
            dc = dc + dout[:, t]
        das[:, t] = np.concatenate([dc * cs[:, t] * f * (1 - f), dc * g * i * (1 - i),
                                    dh * th * o * (1 - o), dc * i * (1 - g ** 2)], axis=1)
        dh_next = das[:, t] @ W[D:].T
        dc_next = dc * f
    dW = np.vstack([np.einsum("ntd,ntk->dk", X, das), np.einsum("nth,ntk->hk", hs[:, :-1], das)])
    db = das.sum(axis=(0, 1))
    dX = das @ W[:D].T
    return dX, dW, db
'''

CORRECT = [Solution("dict", DICT), Solution("split", SPLIT), Solution("einsum", EINSUM)]

MISTAKES = [
    Mistake("gate-order-ifog", edit(DICT, "f, i, o = (sigmoid", "i, f, o = (sigmoid"),
            "lstm_forward", "reads the gates in cs231n's order i, f, o, g: the forget and input "
                            "blocks are exchanged"),
    Mistake("hidden-first", edit(DICT, "z = np.hstack([X[:, t, :], h])", "z = np.hstack([h, X[:, t, :]])"),
            "lstm_forward", "concatenates [h_{t−1}, x_t], hidden state first"),
    Mistake("state-squashed", edit(EINSUM, "out = cs[:, 1:] if use_state else hs[:, 1:]",
                                   "out = np.tanh(cs[:, 1:]) if use_state else hs[:, 1:]"),
            "lstm_forward", "with use_state outputs tanh(c_t) instead of c_t"),
    Mistake("forget-with-c-t", edit(DICT, 'df = dc * m["c_old"]', 'df = dc * m["c"]'),
            "lstm_backward", "the forget gate's gradient taken with c_t instead of c_{t−1}"),
    Mistake("di-dg-swapped", edit(DICT, '''        di = dc * m["g"]
        dg = dc * m["i"]''', '''        di = dc * m["i"]
        dg = dc * m["g"]'''),
            "lstm_backward", "the input gate's and the block input's gradients exchanged "
                             "(di = dc·i, dg = dc·g)"),
    Mistake("sigma-of-preactivation", edit(DICT, '''        da = np.hstack([df * m["f"] * (1 - m["f"]), di * m["i"] * (1 - m["i"]),
                        do * m["o"] * (1 - m["o"]), dg * (1 - m["g"] ** 2)])''', '''        a = m["a"]
        af, ai, ao = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H]
        da = np.hstack([df * af * (1 - af), di * ai * (1 - ai),
                        do * ao * (1 - ao), dg * (1 - m["g"] ** 2)])'''),
            "lstm_backward", "σ' evaluated on the gates' pre-activations instead of the gate "
                             "outputs"),
    Mistake("tanh-prime-of-c", edit(SPLIT, "dc = carry_c + dh * o * (1 - tanh_c ** 2)",
                                    "dc = carry_c + dh * o * (1 - c ** 2)"),
            "lstm_backward", "tanh' of the cell written 1 − c_t² instead of 1 − tanh²(c_t)"),
    Mistake("no-dc-next", edit(EINSUM, "dc = dc_next + dh * o * (1 - th ** 2)",
                               "dc = dh * o * (1 - th ** 2)"),
            "lstm_backward", "drops dc_next: the cell state's gradient from the next step is "
                             "not added"),
    Mistake("dc-next-no-f", edit(DICT, 'dc_next = dc * m["f"]', "dc_next = dc"),
            "lstm_backward", "passes dc back to c_{t−1} without multiplying by the forget gate"),
    Mistake("use-state-both", edit(SPLIT, "dh = carry_h + (0 if use_state else dout[:, t])",
                                   "dh = carry_h + dout[:, t]"),
            "lstm_backward", "with use_state adds dout to dh as well as to dc"),
    Mistake("db-mean", edit(DICT, "db += da.sum(axis=0)", "db += da.mean(axis=0)"),
            "lstm_backward", "db averages over the batch instead of summing"),
    Mistake("dw-not-accumulated", edit(DICT, 'dW += m["z"].T @ da', 'dW = m["z"].T @ da'),
            "lstm_backward", "dW is assigned at every step instead of summed over time"),
    Mistake("dh-next-wrong-slice", edit(DICT, "dh_next = dz[:, D:]", "dh_next = dz[:, :H]"),
            "lstm_backward", "takes the first H columns of d[x, h] as dh_next instead of the last H"),
    Mistake("do-with-o", edit(SPLIT, "d_o = dh * tanh_c * o * (1 - o)", "d_o = dh * o * o * (1 - o)"),
            "lstm_backward", "the output gate's gradient uses o instead of tanh(c_t): do = dh·o"),
    Mistake("g-prime-no-square", edit(EINSUM, "dc * i * (1 - g ** 2)", "dc * i * (1 - g)"),
            "lstm_backward", "tanh' of the block input written 1 − g instead of 1 − g²"),
    Mistake("time-forward", edit(DICT, "for t in range(T - 1, -1, -1):", "for t in range(T):"),
            "lstm_backward", "walks the steps first to last, carrying dh_next and dc_next the "
                             "wrong way"),
]
