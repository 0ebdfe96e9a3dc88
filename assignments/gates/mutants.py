"""Mutation catalogue of gates: realistic mistakes (edits of the reference, each with the
diagnosis the feedback must give) and correct solutions written differently (full marks).
`grader mutants gates` grades them all; tests/test_mutants.py asserts the figures."""
import numpy as np

from grader.authoring.catalogue import Mistake, Variant, mutate, reference_source
from reference import gates as ref

GRADED = ("sigmoid", "sigmoid_backward", "neuron_forward", "neuron_backward", "staged_forward",
          "staged_backward", "matmul_backward")
REFERENCE = reference_source(ref, GRADED)

# the reference's lines that the mistakes edit
SIG_IN = "x = np.asarray(x, dtype=np.float64)\n    z = np.exp(-np.abs(x))"
SIG_BODY = ("    z = np.exp(-np.abs(x))  # in (0, 1]: no overflow\n"
            "    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n")
SB_IN = "    out = np.asarray(out, dtype=np.float64)\n    return np.asarray(dout"
SB_OUT = "return np.asarray(dout, dtype=np.float64) * out * (1.0 - out)"
NEURON_F = "f = sigmoid(np.dot(w[:-1], x) + w[-1])"
DZ = "dz = sigmoid_backward(dout, f)"
DW = "dw = dz * np.append(x, 1.0)"
DX = "dx = dz * w[:-1]"
MULTIPLY = "dnum = invden * dout\n    dinvden = num * dout"
DDEN = "dden = (-1.0 / den ** 2) * dinvden"
DXPY = "dxpy = 2.0 * xpy * dxpysqr"
DY_COPY = "dy = dxpy.copy()"
DX_SIGX = "    dx = dx + sigmoid_backward(dsigx, sigx)\n"
DX_NUM = "    dx = dx + dnum\n"
DY_SIGY = "    dy = dy + sigmoid_backward(dsigy, sigy)\n"
MATMUL = ("return dD @ np.asarray(X, dtype=np.float64).T, "
          "np.asarray(W, dtype=np.float64).T @ dD")


def _mistake(id, description, expect, *edits, equivalent=None):
    return Mistake(id, description, expect, mutate(REFERENCE, *edits), equivalent)


MISTAKES = [
    # ---- sigmoid ----
    _mistake("sigmoid_naive", "the textbook 1 / (1 + e^(−x)), which overflows for x ≪ 0",
             "numerically stable", SIG_BODY, "    return 1.0 / (1.0 + np.exp(-x))\n"),
    _mistake("sigmoid_flipped", "the two branches of the stable sigmoid exchanged: σ(−x)",
             "σ(−x)", "np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))",
             "np.where(x >= 0, z / (1.0 + z), 1.0 / (1.0 + z))"),
    _mistake("sigmoid_float32", "computes in float32 (np.asarray(x, dtype=np.float32))",
             "float32 precision", SIG_IN,
             "x = np.asarray(x, dtype=np.float32)\n    z = np.exp(-np.abs(x))"),
    _mistake("sigmoid_zeros_like", "a masked sigmoid filling np.zeros_like(x): integer inputs "
             "give an integer array, σ truncated to 0", "array of integers",
             (SIG_IN, "x = np.asarray(x)\n    z = np.exp(-np.abs(x))"),
             ("    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n",
              "    out = np.zeros_like(x)\n"
              "    out[...] = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))\n"
              "    return out\n")),
    # ---- sigmoid_backward ----
    _mistake("sigmoid_backward_from_x", "σ'(x) computed as if out were x: σ(out)(1 − σ(out))",
             "recomputes σ from its second argument", SB_IN,
             "    out = sigmoid(out)\n    return np.asarray(dout"),
    _mistake("sigmoid_backward_no_dout", "local gradient only, the upstream dout forgotten",
             "missing the upstream gradient dout", SB_OUT, "return out * (1.0 - out)"),
    _mistake("sigmoid_backward_tanh", "tanh's derivative 1 − out² used for the sigmoid",
             "derivative of tanh", SB_OUT,
             "return np.asarray(dout, dtype=np.float64) * (1.0 - out ** 2)"),
    _mistake("sigmoid_backward_half", "a missing local-gradient factor: dout·(1 − out)",
             "missing the factor out", SB_OUT,
             "return np.asarray(dout, dtype=np.float64) * (1.0 - out)"),
    # ---- neuron_forward ----
    _mistake("neuron_no_bias", "the bias w[-1] left out", "leaves out the bias",
             NEURON_F, "f = sigmoid(np.dot(w[:-1], x))"),
    _mistake("neuron_bias_first", "the bias taken from w[0]", "takes the bias from w[0]",
             NEURON_F, "f = sigmoid(np.dot(w[1:], x) + w[0])"),
    _mistake("neuron_no_sigmoid", "the neuron returns z, without the sigmoid",
             "goes through the sigmoid", NEURON_F, "f = np.dot(w[:-1], x) + w[-1]"),
    # ---- neuron_backward ----
    _mistake("neuron_backward_no_local", "a missing local-gradient factor: dz = dout, the "
             "sigmoid's f(1 − f) forgotten", "missing the sigmoid's local gradient",
             DZ, "dz = dout"),
    _mistake("neuron_backward_no_dout", "the upstream gradient forgotten: "
             "sigmoid_backward(1.0, f)", "missing the upstream gradient dout",
             DZ, "dz = sigmoid_backward(1.0, f)"),
    _mistake("neuron_backward_no_bias_grad", "the bias's input taken as 0: dw[-1] = 0",
             "no gradient for the bias", DW, "dw = dz * np.append(x, 0.0)"),
    _mistake("neuron_backward_bias_w", "the bias's gradient taken as w[-1]·dz",
             "gives the bias w[-1]·dz", DW, "dw = dz * np.append(x, w[-1])"),
    _mistake("neuron_backward_swapped_locals", "dW and dX swapped in the multiply gate: "
             "dw = dz·[w, 1], dx = dz·x", "local gradients exchanged",
             (DW, "dw = dz * np.append(w[:-1], 1.0)"), (DX, "dx = dz * x")),
    _mistake("neuron_backward_return_order", "returns (dx, dw)", "swapped",
             "    return dw, dx\n", "    return dx, dw\n"),
    _mistake("neuron_backward_cache_in_place", "the cache modified in place: dx = w[:-1]; "
             "dx *= dz changes the cached (and the caller's) w", "modified in place",
             DX, "dx = w[:-1]\n    dx *= dz"),
    # ---- staged_backward ----
    _mistake("staged_missing_num", "the path through n = x + σ(y) forgotten in dx",
             "misses the gradient through n = x + σ(y)", DX_NUM, ""),
    _mistake("staged_missing_sigx", "the path through σ(x) forgotten in dx",
             "misses the gradient through σ(x)", DX_SIGX, ""),
    _mistake("staged_overwrite_x", "gradients not accumulated: dx = (σ(x) path) overwrites the "
             "path through x + y", "misses the gradient through q = x + y",
             DX_SIGX, "    dx = sigmoid_backward(dsigx, sigx)\n"),
    _mistake("staged_missing_sigy", "the path through σ(y) forgotten in dy",
             "misses the gradient through σ(y)", DY_SIGY, ""),
    _mistake("staged_overwrite_y", "gradients not accumulated: dy = (σ(y) path) overwrites the "
             "path through x + y", "misses the gradient through q = x + y",
             DY_SIGY, "    dy = sigmoid_backward(dsigy, sigy)\n"),
    _mistake("staged_aliased", "dx and dy one array (dy = dxpy without .copy()) updated with "
             "+=", "one and the same array",
             (DY_COPY, "dy = dxpy"),
             (DX_SIGX, "    dx += sigmoid_backward(dsigx, sigx)\n"),
             (DX_NUM, "    dx += dnum\n"),
             (DY_SIGY, "    dy += sigmoid_backward(dsigy, sigy)\n")),
    _mistake("staged_alias_harmless", "dy = dxpy without .copy()", "", DY_COPY, "dy = dxpy",
             equivalent="every later update is dx = dx + … or dy = dy + …, which makes a new "
                        "array, so sharing dxpy changes nothing"),
    _mistake("staged_inverse_linear", "d(1/d)/dd taken as −1/d", "−1/d as the local gradient",
             DDEN, "dden = (-1.0 / den) * dinvden"),
    _mistake("staged_inverse_sign", "wrong sign: d(1/d)/dd taken as +1/d²", "the sign is wrong",
             DDEN, "dden = (1.0 / den ** 2) * dinvden"),
    _mistake("staged_square_factor", "the 2 of d(q²)/dq = 2q forgotten", "missing the factor 2",
             DXPY, "dxpy = xpy * dxpysqr"),
    _mistake("staged_multiply_self", "the multiply gate scales each input by itself instead of "
             "by the other input", "scales by the *other* input",
             MULTIPLY, "dnum = num * dout\n    dinvden = invden * dout"),
    # ---- matmul_backward ----
    _mistake("matmul_swapped", "dW and dX swapped (dW = Wᵀ·dD, dX = dD·Xᵀ)", "exchanged",
             MATMUL, "return np.asarray(W, dtype=np.float64).T @ dD, "
                     "dD @ np.asarray(X, dtype=np.float64).T"),
    _mistake("matmul_no_transpose", "a missing transpose: dW = dD·X", "missing a transpose",
             MATMUL, "return dD @ np.asarray(X, dtype=np.float64), "
                     "np.asarray(W, dtype=np.float64).T @ dD"),
    _mistake("matmul_transposed", "dW computed as X·dDᵀ, the transpose of dD·Xᵀ",
             "transpose of the correct one",
             MATMUL, "return np.asarray(X, dtype=np.float64) @ dD.T, "
                     "np.asarray(W, dtype=np.float64).T @ dD"),
    _mistake("matmul_dX_no_transpose", "a missing transpose: dX = W·dD", "missing a transpose",
             MATMUL, "return dD @ np.asarray(X, dtype=np.float64).T, "
                     "np.asarray(W, dtype=np.float64) @ dD"),
]


CORRECT = [
    Variant("reference", "the reference itself", REFERENCE),
    Variant("tanh_form_dict_cache", "σ(x) = (1 + tanh(x/2)) / 2, caches as dicts, one helper "
            "per gate, einsum for the matrix product", """
import numpy as np

def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=float)))

def sigmoid_backward(dout, out):
    return dout * out * (1 - out)

def mul_backward(dout, a, b):
    return dout * b, dout * a

def neuron_forward(w, x):
    w = np.asarray(w, dtype=float)
    x = np.asarray(x, dtype=float)
    z = w[:-1] @ x + w[-1]
    f = sigmoid(z)
    return float(f), {"w": w, "x": x, "f": f}

def neuron_backward(dout, cache):
    dz = sigmoid_backward(dout, cache["f"])
    dw = np.concatenate([dz * cache["x"], [dz]])
    dx = dz * cache["w"][:-1]
    return dw, dx

def staged_forward(x, y):
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    cache = {"x": x, "y": y, "sy": sigmoid(y), "sx": sigmoid(x), "q": x + y}
    cache["num"] = x + cache["sy"]
    cache["den"] = cache["sx"] + cache["q"] ** 2
    cache["inv"] = 1.0 / cache["den"]
    return cache["num"] * cache["inv"], cache

def staged_backward(dout, cache):
    dnum, dinv = mul_backward(dout, cache["num"], cache["inv"])
    dden = -dinv / cache["den"] ** 2
    dq = 2 * cache["q"] * dden
    dx = dnum + sigmoid_backward(dden, cache["sx"]) + dq
    dy = sigmoid_backward(dnum, cache["sy"]) + dq
    return dx, dy

def matmul_backward(dD, W, X):
    return np.einsum("nm,km->nk", dD, X), np.einsum("nk,nm->km", W, dD)
"""),
    Variant("masked_recompute", "a masked stable sigmoid into a float array, a cache of the "
            "inputs only (stages recomputed in the backward), np.dot", """
import numpy as np

def sigmoid(x):
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    pos = x >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-x[pos]))
    e = np.exp(x[~pos])
    out[~pos] = e / (1.0 + e)
    return out

def sigmoid_backward(dout, out):
    return np.multiply(dout, np.multiply(out, 1.0 - np.asarray(out, dtype=np.float64)))

def neuron_forward(w, x):
    f = sigmoid(np.dot(w[:-1], x) + w[-1])
    return f.item(), (np.array(w, dtype=float), np.array(x, dtype=float))

def neuron_backward(dout, cache):
    w, x = cache
    f = sigmoid(np.dot(w[:-1], x) + w[-1])
    dz = dout * f * (1 - f)
    dw = np.empty_like(w)
    dw[:-1] = dz * x
    dw[-1] = dz
    return dw, dz * w[:-1]

def staged_forward(x, y):
    x = np.array(x, dtype=float)
    y = np.array(y, dtype=float)
    f = (x + sigmoid(y)) / (sigmoid(x) + (x + y) ** 2)
    return f, (x, y)

def staged_backward(dout, cache):
    x, y = cache
    sx, sy = sigmoid(x), sigmoid(y)
    num = x + sy
    den = sx + (x + y) ** 2
    dnum = dout / den
    dden = -dout * num / den ** 2
    dxpy = 2 * (x + y) * dden
    dx = dnum + dden * sx * (1 - sx) + dxpy
    dy = dnum * sy * (1 - sy) + dxpy
    return dx, dy

def matmul_backward(dD, W, X):
    dD, W, X = (np.asarray(a, dtype=float) for a in (dD, W, X))
    return np.dot(dD, X.T), np.dot(W.T, dD)
"""),
    Variant("logaddexp_loops", "σ(x) = exp(−log(1 + e^(−x))) with np.logaddexp, Python loops "
            "in the neuron and the matrix product", """
import numpy as np

def sigmoid(x):
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))

def sigmoid_backward(dout, out):
    local = out * (1.0 - out)
    return local * dout

def neuron_forward(w, x):
    z = float(w[-1])
    for i in range(len(x)):
        z += float(w[i]) * float(x[i])
    f = float(sigmoid(z))
    return f, (list(map(float, w)), list(map(float, x)), f)

def neuron_backward(dout, cache):
    w, x, f = cache
    dz = dout * f * (1.0 - f)
    dw = np.array([dz * xi for xi in x] + [dz])
    dx = np.array([dz * wi for wi in w[:-1]])
    return dw, dx

def staged_forward(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    sigy = sigmoid(y)
    num = x + sigy
    sigx = sigmoid(x)
    xpy = x + y
    den = sigx + xpy * xpy
    invden = 1.0 / den
    return num * invden, (sigy, num, sigx, xpy, invden)

def staged_backward(dout, cache):
    sigy, num, sigx, xpy, invden = cache
    dnum = invden * dout
    dinvden = num * dout
    dden = -invden * invden * dinvden
    dxpy = 2.0 * xpy * dden
    dx = dxpy + sigx * (1 - sigx) * dden + dnum
    dy = dxpy + sigy * (1 - sigy) * dnum
    return dx, dy

def matmul_backward(dD, W, X):
    dD, W, X = (np.asarray(a, dtype=np.float64) for a in (dD, W, X))
    n, m = dD.shape
    dW = np.zeros(W.shape)
    dX = np.zeros(X.shape)
    for i in range(n):
        for j in range(m):
            dW[i, :] += dD[i, j] * X[:, j]
            dX[:, j] += dD[i, j] * W[i, :]
    return dW, dX
"""),
    Variant("float32_inputs_in_float64", "every input converted with np.array(..., float); "
            "helpers for add and multiply gates; matmul through np.matmul and swapaxes", """
import numpy as np

def _f(a):
    return np.array(a, dtype=np.float64)

def sigmoid(x):
    x = _f(x)
    return np.where(x < 0, np.exp(np.minimum(x, 0)) / (1 + np.exp(np.minimum(x, 0))),
                    1 / (1 + np.exp(-np.maximum(x, 0))))

def sigmoid_backward(dout, out):
    out = _f(out)
    return _f(dout) * (out - out * out)

def add_backward(dout):
    return dout, dout

def mul_backward(dout, a, b):
    return dout * b, dout * a

def neuron_forward(w, x):
    w, x = _f(w), _f(x)
    f = sigmoid(np.sum(w[:-1] * x) + w[-1])
    return float(f), (w, x, float(f))

def neuron_backward(dout, cache):
    w, x, f = cache
    dz = float(sigmoid_backward(float(dout), f))
    dwx, dx = mul_backward(dz, w[:-1], x)
    dw = np.append(dx * 0 + dz * x, dz)
    return dw, dz * w[:-1]

def staged_forward(x, y):
    x, y = _f(x), _f(y)
    sy, sx = sigmoid(y), sigmoid(x)
    q = x + y
    num, den = x + sy, sx + q ** 2
    return num / den, (num, den, sx, sy, q)

def staged_backward(dout, cache):
    num, den, sx, sy, q = cache
    dout = _f(dout)
    dnum, dinv = mul_backward(dout, num, 1.0 / den)
    dden = dinv * (-1.0) / den ** 2
    dsx, dq2 = add_backward(dden)
    dq = 2 * q * dq2
    dx_q, dy_q = add_backward(dq)
    dx_num, dsy = add_backward(dnum)
    dx = dx_q + dx_num + sigmoid_backward(dsx, sx)
    dy = dy_q + sigmoid_backward(dsy, sy)
    return dx, dy

def matmul_backward(dD, W, X):
    dD, W, X = _f(dD), _f(W), _f(X)
    return np.matmul(dD, np.swapaxes(X, 0, 1)), np.matmul(np.swapaxes(W, 0, 1), dD)
"""),
    Variant("vectorize_scalar_sigmoid", "a scalar stable sigmoid (math) vectorized with "
            "np.vectorize, sigmoid_backward reused everywhere, in-place updates on fresh "
            "arrays", """
import math
import numpy as np

def _sigmoid_scalar(v):
    if v >= 0:
        return 1.0 / (1.0 + math.exp(-v))
    e = math.exp(v)
    return e / (1.0 + e)

def sigmoid(x):
    return np.vectorize(_sigmoid_scalar, otypes=[np.float64])(np.asarray(x, dtype=np.float64))

def sigmoid_backward(dout, out):
    return np.asarray(dout, dtype=np.float64) * out * (1 - out)

def neuron_forward(w, x):
    w = np.asarray(w, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    f = float(sigmoid(w[:-1].dot(x) + w[-1]))
    return f, (w.copy(), x.copy(), f)

def neuron_backward(dout, cache):
    w, x, f = cache
    dz = sigmoid_backward(dout, f)
    dw = np.ones(len(w))
    dw[:-1] = x
    dw *= dz
    dx = w[:-1].copy()
    dx *= dz
    return dw, dx

def staged_forward(x, y):
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    s_y, s_x = sigmoid(y), sigmoid(x)
    q = x + y
    d = s_x + q ** 2
    return (x + s_y) / d, (x, y, s_x, s_y, q, d)

def staged_backward(dout, cache):
    x, y, s_x, s_y, q, d = cache
    dout = np.asarray(dout, dtype=np.float64)
    dnum = dout / d
    dd = -dout * (x + s_y) / (d * d)
    dq = 2 * q * dd
    dx = np.array(dq, dtype=np.float64)
    dx += dnum
    dx += sigmoid_backward(dd, s_x)
    dy = np.array(dq, dtype=np.float64)
    dy += sigmoid_backward(dnum, s_y)
    return dx, dy

def matmul_backward(dD, W, X):
    dD = np.asarray(dD, dtype=np.float64)
    return dD @ np.transpose(X).astype(np.float64), np.transpose(W).astype(np.float64) @ dD
"""),
]


def single_check(namespace, rng):
    """What a notebook's own check does: each graded function called once on one random input
    of the notebook's sizes (vectors of 3, a neuron with 3 inputs, 4×3 times 3×5), backward
    functions on the cache of the student's own forward, compared with the reference."""
    x, y = rng.standard_normal(3), rng.standard_normal(3)
    dout = rng.standard_normal(3)
    w, v = rng.standard_normal(4), rng.standard_normal(3)
    dD, W, X = rng.standard_normal((4, 5)), rng.standard_normal((4, 3)), rng.standard_normal((3, 5))
    out = ref.sigmoid(x)
    expected = {
        "sigmoid": ref.sigmoid(x),
        "sigmoid_backward": ref.sigmoid_backward(dout, out),
        "neuron": ref.neuron_forward(w, v)[0],
        "neuron_backward": ref.neuron_backward(1.5, ref.neuron_forward(w, v)[1]),
        "staged": ref.staged_forward(x, y)[0],
        "staged_backward": ref.staged_backward(dout, ref.staged_forward(x, y)[1]),
        "matmul": ref.matmul_backward(dD, W, X),
    }
    f, cache = namespace["neuron_forward"](w.copy(), v.copy())
    dw, dv = namespace["neuron_backward"](1.5, cache)
    g, staged_cache = namespace["staged_forward"](x.copy(), y.copy())
    dx, dy = namespace["staged_backward"](dout.copy(), staged_cache)
    dW, dX = namespace["matmul_backward"](dD, W, X)
    return [
        ("sigmoid", namespace["sigmoid"](x.copy()), expected["sigmoid"]),
        ("sigmoid_backward", namespace["sigmoid_backward"](dout.copy(), out.copy()),
         expected["sigmoid_backward"]),
        ("neuron f", f, expected["neuron"]),
        ("neuron dw", dw, expected["neuron_backward"][0]),
        ("neuron dx", dv, expected["neuron_backward"][1]),
        ("staged f", g, expected["staged"]),
        ("staged dx", dx, expected["staged_backward"][0]),
        ("staged dy", dy, expected["staged_backward"][1]),
        ("matmul dW", dW, expected["matmul"][0]),
        ("matmul dX", dX, expected["matmul"][1]),
    ]
