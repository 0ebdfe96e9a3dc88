"""Mutation catalogue of lstm: realistic mistakes (edits of the reference, each with the
diagnosis the feedback must give) and correct solutions written differently (full marks).
`grader mutants lstm` grades them all; tests/test_mutants.py asserts the figures."""
import numpy as np

from grader.authoring.catalogue import Mistake, Variant, mutate, reference_source
from reference import gates
from reference import lstm as ref

GRADED = ("lstm_forward", "lstm_backward")
REFERENCE = reference_source(ref, GRADED, (gates.sigmoid,))

# the reference's lines that the mistakes edit
GATES_F = "        f = sigmoid(a[:, :H])\n        i = sigmoid(a[:, H:2 * H])\n"
SIGMOIDS = GATES_F + "        o = sigmoid(a[:, 2 * H:3 * H])\n"
CONCAT = "xh = np.concatenate([X[:, t], h], axis=1)"
CELL = "        c_prev = c\n        c = f * c_prev + i * g\n"
TANH_C = "tanh_c = np.tanh(c)"
OUT = "out[:, t] = c if use_state else h"
DH = "        dh = dh_next if use_state else dh_next + dout[:, t]\n"
DC = "dc = dc_next + dh * o * (1.0 - tanh_c ** 2)"
DC_OUT = "        if use_state:\n            dc = dc + dout[:, t]\n"
CARRY = "dc_next = dc * f"
DA = "[df * f * (1 - f), di * i * (1 - i), do * o * (1 - o), dg * (1 - g ** 2)]"
DW = "dW += xh.T @ da"
DB = "db += da.sum(axis=0)"
DXH = "dxh = da @ W.T"
SPLIT = "dX[:, t] = dxh[:, :D]\n        dh_next = dxh[:, D:]"
STEPS = "    for t in range(T - 1, -1, -1):\n"
ZEROS_W = "dW = np.zeros_like(W)"
RETURN = "    return dX, dW, db\n"


def _mistake(id, description, expect, *edits, equivalent=None):
    return Mistake(id, description, expect, mutate(REFERENCE, *edits), equivalent)


MISTAKES = [
    # ---- the forward pass ----
    _mistake("gate_order_ifog", "gate blocks in cs231n's order i, f, o, g (forward and "
             "backward alike)", "in the order input, forget, output, block input",
             (GATES_F, "        i = sigmoid(a[:, :H])\n        f = sigmoid(a[:, H:2 * H])\n"),
             (DA, "[di * i * (1 - i), df * f * (1 - f), do * o * (1 - o), dg * (1 - g ** 2)]")),
    _mistake("gate_order_ifgo", "gate blocks in PyTorch's order i, f, g, o",
             "in the order input, forget, block input, output",
             (SIGMOIDS + "        g = np.tanh(a[:, 3 * H:])\n",
              "        i = sigmoid(a[:, :H])\n        f = sigmoid(a[:, H:2 * H])\n"
              "        g = np.tanh(a[:, 2 * H:3 * H])\n        o = sigmoid(a[:, 3 * H:])\n"),
             (DA, "[di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)]")),
    _mistake("forget_tanh", "the forget gate through tanh instead of σ", "forget gate f = tanh",
             "f = sigmoid(a[:, :H])", "f = np.tanh(a[:, :H])"),
    _mistake("concat_h_first", "[h_{t−1}, x_t] concatenated: the hidden state first",
             "concatenating [h_{t−1}, x_t]",
             (CONCAT, "xh = np.concatenate([h, X[:, t]], axis=1)"),
             (SPLIT, "dX[:, t] = dxh[:, H:]\n        dh_next = dxh[:, :H]")),
    _mistake("h_without_tanh", "h_t = o ⊙ c_t: the tanh of the cell state forgotten",
             "h_t = o ⊙ tanh(c_t)", TANH_C, "tanh_c = c"),
    _mistake("use_state_ignored", "the c_t-as-output option ignored: always h_t, in the forward "
             "and the backward", "your out holds the hidden state h_t",
             (OUT, "out[:, t] = h"), (DH, "        dh = dh_next + dout[:, t]\n"),
             (DC_OUT, "")),
    _mistake("naive_sigmoid", "the gates through 1 / (1 + e^(−a)), which overflows for large "
             "weights", "numerically stable",
             (SIGMOIDS, "        f = 1 / (1 + np.exp(-a[:, :H]))\n"
                        "        i = 1 / (1 + np.exp(-a[:, H:2 * H]))\n"
                        "        o = 1 / (1 + np.exp(-a[:, 2 * H:3 * H]))\n")),
    _mistake("cell_in_place", "the cache modified in place: c *= f; c += i·g updates the "
             "array cached as c_{t−1}", "updated in place",
             CELL, "        c_prev = c\n        c *= f\n        c += i * g\n"),
    # ---- the backward pass: what is carried between steps ----
    _mistake("use_state_backward", "the c_t-as-output option ignored in the backward: dout "
             "always added to dh", "adding dout_t to dh gives, but with use_state=True",
             (DH, "        dh = dh_next + dout[:, t]\n"), (DC_OUT, "")),
    _mistake("dc_not_carried", "dc not carried to the previous step", "dropping the cell-state "
             "gradient", DC, "dc = dh * o * (1.0 - tanh_c ** 2)"),
    _mistake("dh_not_carried", "dh_next computed but never used: dh not carried back",
             "dropping the hidden-state gradient", "        dh_next = dxh[:, D:]\n",
             "        dh_prev = dxh[:, D:]\n"),
    _mistake("carry_without_f", "a missing local-gradient factor: dc_next = dc (without ⊙ f)",
             "dc_next = dc ⊙ f", CARRY, "dc_next = dc"),
    _mistake("skip_first_step", "the BPTT loop off by one at the end: range(T − 1, 0, −1) "
             "never reaches t = 0", "skips t = 0", STEPS,
             "    for t in range(T - 1, 0, -1):\n"),
    _mistake("skip_last_step", "the BPTT loop off by one at the start: range(T − 2, −1, −1)",
             "skips the last step", STEPS, "    for t in range(T - 2, -1, -1):\n"),
    # ---- the backward pass: local gradients ----
    _mistake("no_local_f", "the forget gate's σ' forgotten", "forget gate's local gradient",
             DA, DA.replace("df * f * (1 - f)", "df")),
    _mistake("no_local_i", "the input gate's σ' forgotten", "input gate's local gradient",
             DA, DA.replace("di * i * (1 - i)", "di")),
    _mistake("no_local_o", "the output gate's σ' forgotten", "output gate's local gradient",
             DA, DA.replace("do * o * (1 - o)", "do")),
    _mistake("no_local_g", "the block input's tanh' forgotten", "block input's local gradient",
             DA, DA.replace("dg * (1 - g ** 2)", "dg")),
    _mistake("no_local_c", "tanh'(c_t) forgotten in dc", "local gradient of tanh(c_t) is "
             "missing", DC, "dc = dc_next + dh * o"),
    _mistake("tanh_linear_c", "the tanh derivative 1 − s² replaced by 1 − s for tanh(c_t)",
             "1 − tanh(c_t) as the derivative", DC, "dc = dc_next + dh * o * (1.0 - tanh_c)"),
    _mistake("tanh_linear_g", "the tanh derivative 1 − g² replaced by 1 − g",
             "1 − g as the block input's local gradient", DA, DA.replace("(1 - g ** 2)",
                                                                          "(1 - g)")),
    _mistake("sigma_again", "σ'(x) computed from x instead of from σ(x): σ applied to the "
             "cached gate outputs", "σ applied again",
             (DA, "[df * dsig(f), di * dsig(i), do * dsig(o), dg * (1 - g ** 2)]"),
             ("    W, D, use_state, steps = cache\n",
              "    W, D, use_state, steps = cache\n"
              "    dsig = lambda a: sigmoid(a) * (1 - sigmoid(a))  # noqa: E731\n")),
    # ---- the backward pass: sums and shapes ----
    _mistake("overwritten", "gradients not accumulated across time steps: dW = …, db = …",
             "assigning instead of accumulating", (DW, "dW = xh.T @ da"),
             (DB, "db = da.sum(axis=0)")),
    _mistake("batch_mean", "dW and db averaged over the batch (a mean where the loss sums)",
             "divided by N once too often",
             (RETURN, "    return dX, dW / N, db / N\n")),
    _mistake("dW_transposed", "dW built as daᵀ·xh, the transpose", "transpose of the correct one",
             (ZEROS_W, "dW = np.zeros_like(W.T)"), (DW, "dW += da.T @ xh")),
    _mistake("dxh_no_transpose", "a missing transpose: da @ W instead of da @ Wᵀ",
             "a transpose (.T) may be missing", DXH, "dxh = da @ W"),
    _mistake("dout_in_place", "dh = dout[:, t]; dh += dh_next changes the caller's dout",
             "modified its input `dout` in place",
             DH, "        if use_state:\n            dh = dh_next\n        else:\n"
                 "            dh = dout[:, t]\n            dh += dh_next\n"),
    _mistake("float32", "dW and db accumulated in float32", "float32",
             (ZEROS_W, "dW = np.zeros(W.shape, dtype=np.float32)"),
             ("db = np.zeros(W.shape[1])", "db = np.zeros(W.shape[1], dtype=np.float32)")),
    _mistake("clipped", "gradient clipping (np.clip to ±5) applied before returning",
             "clipped to ±5", RETURN,
             "    for grad in (dX, dW, db):\n        np.clip(grad, -5, 5, out=grad)\n"
             "    return dX, dW, db\n"),
    _mistake("cell_copy_kept", "c_prev = c.copy() before the update (a needless copy)", "",
             "        c_prev = c\n", "        c_prev = c.copy()\n",
             equivalent="the update c = f * c_prev + i * g makes a new array anyway, so the "
                        "copy changes nothing"),
]


_SIGMOID = '''
import numpy as np

def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
'''

CORRECT = [
    Variant("reference", "the reference itself", REFERENCE),
    Variant("split_helpers", "np.split for the gate blocks, one helper per step forward and "
            "backward, the cell state cached instead of tanh(c)", _SIGMOID + '''
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
    return (cs if use_state else hs), (X.shape, W, use_state, steps)


def lstm_step_backward(dh, dc, W, step):
    xh, f, i, o, g, c_prev, c = step
    tc = np.tanh(c)
    dc = dc + dh * o * (1 - tc * tc)
    da = np.concatenate([dc * c_prev * f * (1 - f), dc * g * i * (1 - i),
                         dh * tc * o * (1 - o), dc * i * (1 - g * g)], axis=1)
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
'''),
    Variant("separate_weights_einsum", "W split into Wx and Wh (no concatenation), einsum, a "
            "dict cache of stacked arrays, tanh-form sigmoid", '''
import numpy as np

def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


def lstm_forward(X, W, b, use_state=False):
    X = np.asarray(X, dtype=np.float64)
    N, T, D = X.shape
    H = W.shape[1] // 4
    Wx, Wh = W[:D], W[D:]
    h = np.zeros((N, H))
    c = np.zeros((N, H))
    keep = {k: [] for k in ("h_prev", "c_prev", "f", "i", "o", "g", "c")}
    for t in range(T):
        a = np.einsum("nd,dk->nk", X[:, t], Wx) + np.einsum("nh,hk->nk", h, Wh) + b
        f, i, o = (sigmoid(a[:, k * H:(k + 1) * H]) for k in range(3))
        g = np.tanh(a[:, 3 * H:])
        for key, value in (("h_prev", h), ("c_prev", c), ("f", f), ("i", i), ("o", o),
                           ("g", g)):
            keep[key].append(value)
        c = f * c + i * g
        h = o * np.tanh(c)
        keep["c"].append(c)
    cache = {k: np.stack(v, axis=1) for k, v in keep.items()}
    cache.update(X=X, Wx=Wx, Wh=Wh, use_state=use_state)
    out = cache["c"] if use_state else cache["o"] * np.tanh(cache["c"])
    return out, cache


def lstm_backward(dout, cache):
    X, Wx, Wh = cache["X"], cache["Wx"], cache["Wh"]
    N, T, D = X.shape
    H = Wh.shape[0]
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    db = np.zeros(4 * H)
    dX = np.zeros_like(X)
    dh_next = np.zeros((N, H))
    dc_next = np.zeros((N, H))
    for t in reversed(range(T)):
        f, i, o, g = (cache[k][:, t] for k in "fiog")
        c, c_prev, h_prev = cache["c"][:, t], cache["c_prev"][:, t], cache["h_prev"][:, t]
        tc = np.tanh(c)
        dh = dh_next + (0.0 if cache["use_state"] else dout[:, t])
        dc = dc_next + dh * o * (1 - tc ** 2) + (dout[:, t] if cache["use_state"] else 0.0)
        da = np.hstack([dc * c_prev * f * (1 - f), dc * g * i * (1 - i), dh * tc * o * (1 - o),
                        dc * i * (1 - g ** 2)])
        dWx += np.einsum("nd,nk->dk", X[:, t], da)
        dWh += np.einsum("nh,nk->hk", h_prev, da)
        db += da.sum(0)
        dX[:, t] = np.einsum("nk,dk->nd", da, Wx)
        dh_next = np.einsum("nk,hk->nh", da, Wh)
        dc_next = dc * f
    return dX, np.vstack([dWx, dWh]), db
'''),
    Variant("loop_per_sample", "a loop over the samples of the batch as well as over time, "
            "1-D vectors throughout, float32 inputs converted", _SIGMOID + '''
def lstm_forward(X, W, b, use_state=False):
    X = np.array(X, dtype=np.float64)
    W = np.array(W, dtype=np.float64)
    b = np.array(b, dtype=np.float64)
    N, T, D = X.shape
    H = W.shape[1] // 4
    out = np.zeros((N, T, H))
    cache = []
    for n in range(N):
        h = np.zeros(H)
        c = np.zeros(H)
        steps = []
        for t in range(T):
            z = np.concatenate([X[n, t], h])
            a = z @ W + b
            f, i, o = sigmoid(a[:H]), sigmoid(a[H:2 * H]), sigmoid(a[2 * H:3 * H])
            g = np.tanh(a[3 * H:])
            c_new = f * c + i * g
            h = o * np.tanh(c_new)
            steps.append((z, f, i, o, g, c, c_new))
            c = c_new
            out[n, t] = c if use_state else h
        cache.append(steps)
    return out, (W, D, use_state, cache)


def lstm_backward(dout, cache):
    W, D, use_state, per_sample = cache
    dout = np.array(dout, dtype=np.float64)
    N, T, H = dout.shape
    dX = np.zeros((N, T, D))
    dW = np.zeros(W.shape)
    db = np.zeros(W.shape[1])
    for n in range(N):
        dh_next = np.zeros(H)
        dc_next = np.zeros(H)
        for t in range(T - 1, -1, -1):
            z, f, i, o, g, c_prev, c = per_sample[n][t]
            tc = np.tanh(c)
            dh = dh_next + (0 if use_state else dout[n, t])
            dc = dc_next + dh * o * (1 - tc ** 2) + (dout[n, t] if use_state else 0)
            da = np.concatenate([dc * c_prev * f * (1 - f), dc * g * i * (1 - i),
                                 dh * tc * o * (1 - o), dc * i * (1 - g ** 2)])
            dW += np.outer(z, da)
            db += da
            dz = W @ da
            dX[n, t] = dz[:D]
            dh_next = dz[D:]
            dc_next = dc * f
    return dX, dW, db
'''),
    Variant("masked_sigmoid_preallocated", "a masked stable sigmoid, gate activations "
            "preallocated as (T, N, 4H) arrays, the transposes as .T properties of stacked "
            "inputs", '''
import numpy as np

def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty_like(x)
    pos = x >= 0
    out[pos] = 1 / (1 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1 + e)
    return out


def lstm_forward(X, W, b, use_state=False):
    X = np.asarray(X, dtype=np.float64)
    N, T, D = X.shape
    H = W.shape[1] // 4
    acts = np.zeros((T, N, 4 * H))
    inputs = np.zeros((T, N, D + H))
    cs = np.zeros((T + 1, N, H))
    hs = np.zeros((T + 1, N, H))
    for t in range(T):
        inputs[t, :, :D] = X[:, t]
        inputs[t, :, D:] = hs[t]
        a = inputs[t] @ W + b
        acts[t, :, :3 * H] = sigmoid(a[:, :3 * H])
        acts[t, :, 3 * H:] = np.tanh(a[:, 3 * H:])
        f, i, o, g = np.split(acts[t], 4, axis=1)
        cs[t + 1] = f * cs[t] + i * g
        hs[t + 1] = o * np.tanh(cs[t + 1])
    out = (cs if use_state else hs)[1:].transpose(1, 0, 2).copy()
    return out, {"acts": acts, "inputs": inputs, "cs": cs, "W": W, "D": D,
                 "use_state": use_state}


def lstm_backward(dout, cache):
    acts, inputs, cs, W, D = (cache[k] for k in ("acts", "inputs", "cs", "W", "D"))
    T, N, _ = acts.shape
    H = W.shape[1] // 4
    dacts = np.zeros_like(acts)
    dX = np.zeros((N, T, D))
    dh = np.zeros((N, H))
    dc = np.zeros((N, H))
    for t in range(T - 1, -1, -1):
        f, i, o, g = np.split(acts[t], 4, axis=1)
        tc = np.tanh(cs[t + 1])
        if cache["use_state"]:
            dc = dc + dout[:, t]
        else:
            dh = dh + dout[:, t]
        dc = dc + dh * o * (1 - tc ** 2)
        dacts[t] = np.hstack([dc * cs[t] * f * (1 - f), dc * g * i * (1 - i),
                              dh * tc * o * (1 - o), dc * i * (1 - g ** 2)])
        dxh = dacts[t] @ W.T
        dX[:, t] = dxh[:, :D]
        dh = dxh[:, D:]
        dc = dc * f
    dW = inputs.reshape(T * N, -1).T @ dacts.reshape(T * N, -1)
    db = dacts.sum(axis=(0, 1))
    return dX, dW, db
'''),
]


def single_check(namespace, rng):
    """What the notebook's own check does: one random batch of the notebook's sizes
    (N, T, D, H = 2, 4, 3, 2), lstm_forward then lstm_backward on its cache with the default
    use_state=False, compared with the reference."""
    N, T, D, H = 2, 4, 3, 2
    X = rng.normal(size=(N, T, D))
    W = rng.normal(scale=0.5, size=(D + H, 4 * H))
    b = rng.normal(scale=0.5, size=4 * H)
    dout = rng.normal(size=(N, T, H))
    out, cache = ref.lstm_forward(X, W, b)
    grads = ref.lstm_backward(dout, cache)
    your_out, your_cache = namespace["lstm_forward"](X.copy(), W.copy(), b.copy())
    yours = namespace["lstm_backward"](dout.copy(), your_cache)
    return [("out", your_out, out)] + [(label, mine, theirs) for label, mine, theirs
                                       in zip(("dX", "dW", "db"), yours, grads)]
