"""Reference LSTM layer with one fused weight matrix.

At each step the input and the previous hidden state are concatenated, input first, and one
matrix product computes all four gates at once:

    a_t = [x_t, h_{t−1}] · W + b            W: (D + H, 4H), b: (4H,)
    f = σ(a[:, 0:H])      forget gate
    i = σ(a[:, H:2H])     input gate
    o = σ(a[:, 2H:3H])    output gate
    g = tanh(a[:, 3H:4H]) block input
    c_t = f ⊙ c_{t−1} + i ⊙ g
    h_t = o ⊙ tanh(c_t)                     h_0 = c_0 = 0

The layer outputs h_t at every step, or the cell state c_t when use_state is true.
"""
import numpy as np

from reference.gates import sigmoid

#: Column blocks of the fused weight, in order.
GATES = ("forget", "input", "output", "block input")


def lstm_forward(X, W, b, use_state=False):
    """Run the layer over a batch of sequences.

    X: (N, T, D), W: (D + H, 4H), b: (4H,). Returns (out, cache) with out: (N, T, H) holding
    h_t, or c_t when use_state is true.
    """
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    N, T, D = X.shape
    H = W.shape[1] // 4
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    steps = []
    out = np.zeros((N, T, H))
    for t in range(T):
        xh = np.concatenate([X[:, t], h], axis=1)  # (N, D + H), input first
        a = xh @ W + b
        f = sigmoid(a[:, :H])
        i = sigmoid(a[:, H:2 * H])
        o = sigmoid(a[:, 2 * H:3 * H])
        g = np.tanh(a[:, 3 * H:])
        c_prev = c
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        out[:, t] = c if use_state else h
        steps.append((xh, f, i, o, g, c_prev, tanh_c))
    return out, (W, D, bool(use_state), steps)


def lstm_backward(dout, cache):
    """Backward of lstm_forward.

    dout: (N, T, H), the gradient of the loss with respect to out. Returns (dX, dW, db) with
    the shapes of X, W and b. The gradients of h_{t−1} and c_{t−1} are carried from each step
    to the one before it.
    """
    W, D, use_state, steps = cache
    dout = np.asarray(dout, dtype=np.float64)
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros_like(W)
    db = np.zeros(W.shape[1])
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        xh, f, i, o, g, c_prev, tanh_c = steps[t]
        dh = dh_next if use_state else dh_next + dout[:, t]
        # h = o ⊙ tanh(c): the cell gets gradient from h, from the next step, and from out
        dc = dc_next + dh * o * (1.0 - tanh_c ** 2)
        if use_state:
            dc = dc + dout[:, t]
        do = dh * tanh_c
        # c = f ⊙ c_prev + i ⊙ g
        df = dc * c_prev
        di = dc * g
        dg = dc * i
        dc_next = dc * f
        # back through the gate nonlinearities: σ' = σ(1 − σ), tanh' = 1 − tanh²
        da = np.concatenate(
            [df * f * (1 - f), di * i * (1 - i), do * o * (1 - o), dg * (1 - g ** 2)], axis=1)
        dW += xh.T @ da
        db += da.sum(axis=0)
        dxh = da @ W.T
        dX[:, t] = dxh[:, :D]
        dh_next = dxh[:, D:]
    return dX, dW, db
