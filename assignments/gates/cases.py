"""Case builders for the gates assignment (trusted: they call the reference).

Each builder takes a seeded numpy Generator and the test's params from spec.toml and returns a
Case with the inputs to send and the reference's answers. Inputs of every dtype are sent as
they are (integer, float32, float64); the expected values are the reference's on the same
values in float64.

Forward/backward pairs are graded through the student's own cache: the backward test calls the
student's forward, then the student's backward on the cache that forward returned (a Ref, so
the cache never leaves the sandbox), and compares both with the reference. The gradient-check
tests compare the student's backward with central differences of the student's own forward.

The mistakes students actually make are Hypotheses: the value that mistake produces on the
inputs sent, computed here by small trusted variants of the reference, with the message that
explains it. They are tried before the generic diagnoses (sign, scale, swapped outputs).
"""
import numpy as np

from grader.course.cases import (Call, Case, Expect, GradCheck, Hypothesis, Ref, call_case,
                                 distinct_hypotheses, perturbed_calls, random_directions)
from grader.i18n import N_
from grader.judge.diagnose import relative_error
from reference import gates as ref

#: a hypothesis closer than this (relative) to the reference, or to an earlier hypothesis,
#: could be confused with it and is left out.
DISTINCT = 1e-3
STEP = 1e-5  # central-difference step of the gradient checks
CACHE = Ref(0, (1,))  # the cache returned by the forward call (call 0) of a backward case


def _inputs(rng, shape, dtype="float64", scale=1.0, low=-3, high=3):
    """Random inputs of a dtype: normal × scale for floats, integers in [low, high] otherwise.
    shape () gives a Python number (a scalar argument)."""
    shape = tuple(shape)
    if dtype in ("int64", "int32"):
        values = rng.integers(low, high + 1, shape).astype(dtype)
    else:
        values = (scale * rng.standard_normal(shape)).astype(dtype)
    return values.item() if shape == () else values


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _hypotheses(reference, candidates) -> list:
    return distinct_hypotheses(reference, candidates, DISTINCT)


# ---- sigmoid ------------------------------------------------------------------------------

LARGE = (1e4, 1e3, 800.0, 100.0, 40.0, 1.0, 1e-3)


def sigmoid_case(rng, shape=(7,), dtype="float64", large=False):
    """sigmoid on random values; with large=True on ±1e4, ±1e3, ±800, … (both signs, where
    1 / (1 + e^(−x)) overflows for x < 0) and no numpy warning is allowed."""
    if large:
        magnitudes = np.array(LARGE)
        x = np.concatenate([magnitudes, -magnitudes, [0.0]])
        x = rng.permutation(x).astype(dtype)
    else:
        x = _inputs(rng, shape, dtype, scale=3.0, low=-6, high=6)
    expected = ref.sigmoid(x)
    flipped = (N_("your sigmoid(x) is σ(−x) = 1 − σ(x): check the sign of the exponent. For "
                  "x ≥ 0 use 1 / (1 + e^(−x)); for x < 0 use e^x / (1 + e^x)."),
               ref.sigmoid(-_f64(x)), "sigmoid:flipped")
    case = call_case("sigmoid", (x,), ("x",),
                     [("sigmoid(x)", (), expected,
                       {"hypotheses": _hypotheses(expected, [flipped])})],
                     signature=N_("an array of σ(x), the shape of x"))
    case.no_fp_warnings = large
    return case


def sigmoid_backward_case(rng, shape=(7,), dtype="float64"):
    """sigmoid_backward(dout, out) with out = σ(x) of random x (as sent by a forward pass).
    dtype="int64" sends integer upstream gradients (out is always a probability)."""
    shape = tuple(shape)
    x = 2.0 * rng.standard_normal(shape)
    out = ref.sigmoid(x)
    if dtype == "float32":
        out = out.astype(np.float32)
    dout = _inputs(rng, shape, dtype, low=-3, high=3)
    if shape == ():
        out = float(out)
    expected = ref.sigmoid_backward(dout, out)
    s_of_out = ref.sigmoid(out)
    candidates = [
        (N_("your dx recomputes σ from its second argument: sigmoid_backward receives "
            "out = σ(x), the gate's output, not x. The local gradient is out·(1 − out), so "
            "dx = dout·out·(1 − out), with no call to sigmoid."),
         _f64(dout) * s_of_out * (1 - s_of_out), "sigmoid_backward:from_x"),
        (N_("your dx is missing the upstream gradient dout: the chain rule multiplies it by the "
            "local gradient, dx = dout·out·(1 − out)."), _f64(out) * (1 - _f64(out)),
         "sigmoid_backward:no_dout"),
        (N_("your dx uses 1 − out², the derivative of tanh written with its output: for the "
            "sigmoid it is out·(1 − out), so dx = dout·out·(1 − out)."),
         _f64(dout) * (1 - _f64(out) ** 2), "sigmoid_backward:tanh"),
        (N_("your dx is missing the factor out of the local gradient: dσ/dx = σ(x)(1 − σ(x)), "
            "so dx = dout·out·(1 − out), not dout·(1 − out)."), _f64(dout) * (1 - _f64(out)),
         "sigmoid_backward:half"),
    ]
    return call_case("sigmoid_backward", (dout, out), ("dout", "out"),
                     [("dx", (), expected, {"hypotheses": _hypotheses(expected, candidates)})],
                     signature=N_("dx, the shape of out"))


# ---- a sigmoid neuron -----------------------------------------------------------------------

def _neuron_data(rng, d, dtype):
    w = _inputs(rng, (d + 1,), dtype, low=-2, high=2)
    x = _inputs(rng, (d,), dtype, low=-2, high=2)
    if dtype == "int64":  # not 0 or ±1, where forgetting dout would go unnoticed
        return w, x, int(rng.choice([-3, -2, 2, 3]))
    dout = _inputs(rng, (), dtype, scale=1.5)
    return w, x, (np.float32(dout) if dtype == "float32" else dout)


def _neuron_f(w, x):
    """(f, hypotheses for f): the reference's f and the classic neuron_forward mistakes."""
    w, x = _f64(w), _f64(x)
    f, _ = ref.neuron_forward(w, x)
    z = np.dot(w[:-1], x) + w[-1]
    candidates = [
        (N_("your f leaves out the bias: the last entry of w is the bias, "
            "f = σ(w[:-1]·x + w[-1])."), ref.sigmoid(np.dot(w[:-1], x)), "neuron:no_bias"),
        (N_("your f takes the bias from w[0]: the bias is the *last* entry of w, "
            "f = σ(w[:-1]·x + w[-1])."), ref.sigmoid(np.dot(w[1:], x) + w[0]),
         "neuron:bias_first"),
        (N_("your f is z = w[:-1]·x + w[-1] itself: the neuron's output goes through the "
            "sigmoid, f = σ(z)."), z, "neuron:no_sigmoid"),
    ]
    return _f64(f), _hypotheses(f, candidates)


def neuron_forward_case(rng, d=3, dtype="float64"):
    """neuron_forward(w, x) with D inputs; only f is compared (the cache is yours)."""
    w, x, _ = _neuron_data(rng, d, dtype)
    f, hypotheses = _neuron_f(w, x)
    return call_case("neuron_forward", (w, x), ("w", "x"),
                     [("f", (0,), f, {"hypotheses": hypotheses})],
                     signature="(f, cache)", dims={"D": d})


def _neuron_backward_variants(w, x, dout):
    """(label, candidates) for dw and dx: the classic mistakes of neuron_backward."""
    w, x, dout = _f64(w), _f64(x), float(dout)
    f, _ = ref.neuron_forward(w, x)
    with_one = np.append(x, 1.0)
    sf = ref.sigmoid(f)
    dz = {"no_local": dout,
          "sigmoid_of_output": dout * sf * (1 - sf),
          "no_dout": f * (1 - f)}
    right = dout * f * (1 - f)

    def both(label):
        def value(g):
            return g * with_one if label == "dw" else g * w[:-1]
        named = {"label": label}
        return [
            ((N_("your {label} is missing the sigmoid's local gradient: the gradient reaching "
                 "z = w[:-1]·x + w[-1] is dz = dout·f·(1 − f); multiply by it before the "
                 "multiply gates (dw = dz·[x, 1], dx = dz·w[:-1])."), named),
             value(dz["no_local"]), "neuron:no_sigmoid_grad"),
            ((N_("your {label} has σ(f)·(1 − σ(f)) as the sigmoid's local gradient: f is "
                 "already σ(z), so the local gradient is f·(1 − f) (if you call your "
                 "sigmoid_backward, pass it f, and make sure it does not apply σ again)."),
              named), value(dz["sigmoid_of_output"]), "neuron:sigmoid_of_output"),
            ((N_("your {label} is missing the upstream gradient dout: multiply the local "
                 "gradient by it, dz = dout·f·(1 − f)."), named),
             value(dz["no_dout"]), "neuron:no_dout"),
        ]
    swapped = N_("your {label} has the multiply gate's local gradients exchanged: in z = w·x "
                 "the gradient of a weight is its input (dw = dz·[x, 1]) and the gradient of "
                 "an input is its weight (dx = dz·w[:-1]).")
    dw_candidates = both("dw") + [
        ((swapped, {"label": "dw"}), right * np.append(w[:-1], 1.0), "neuron:swapped_inputs"),
        (N_("your dw has no gradient for the bias (its last entry): the bias's input is the "
            "constant 1, so dw[-1] = dz."), np.append(right * x, 0.0), "neuron:no_bias_grad"),
        (N_("your dw gives the bias w[-1]·dz: the bias's input is the constant 1, so "
            "dw[-1] = dz."), np.append(right * x, right * w[-1]), "neuron:bias_grad"),
    ]
    return dw_candidates, both("dx") + [
        ((swapped, {"label": "dx"}), right * x, "neuron:swapped_inputs")]


def neuron_backward_case(rng, d=3, dtype="float64"):
    """Your neuron_forward, then your neuron_backward on your cache: f, dw and dx against the
    reference."""
    w, x, dout = _neuron_data(rng, d, dtype)
    dw, dx = ref.neuron_backward(float(dout), ref.neuron_forward(w, x)[1])
    dw_candidates, dx_candidates = _neuron_backward_variants(w, x, dout)
    calls = [
        Call("neuron_forward", (w, x), returns=((0,),), signature="(f, cache)",
             check_inputs=True, arg_names=("w", "x")),
        Call("neuron_backward", (dout, CACHE), returns=((0,), (1,)), signature="(dw, dx)",
             check_inputs=True, arg_names=("dout", "cache")),
    ]
    f, f_hypotheses = _neuron_f(w, x)
    expects = [
        Expect("f", 0, 0, f, hypotheses=f_hypotheses),
        Expect("dw", 1, 0, dw, hypotheses=_hypotheses(dw, dw_candidates)),
        Expect("dx", 1, 1, dx, hypotheses=_hypotheses(dx, dx_candidates)),
    ]
    return Case(name="", function="neuron_backward", calls=calls, expects=expects,
                dims={"D": d})


def neuron_gradient_check_case(rng, d=3, directions=2, step=STEP):
    """Your neuron_backward against central differences of your own neuron_forward:
    L(w, x) = dout · f(w, x), along random directions of w and of x."""
    w, x, dout = _neuron_data(rng, d, "float64")
    calls = [
        Call("neuron_forward", (w, x), returns=((0,),), signature="(f, cache)",
             check_inputs=True, arg_names=("w", "x")),
        Call("neuron_backward", (dout, CACHE), returns=((0,), (1,)), signature="(dw, dx)",
             check_inputs=True, arg_names=("dout", "cache")),
    ]

    def objective(position):
        def chain(value, first):
            args = [w, x]
            args[position] = value
            return [Call("neuron_forward", tuple(args), returns=((0,),),
                         signature="(f, cache)", check_inputs=True, arg_names=("w", "x"))]
        return chain

    checks = []
    for position, (label, base) in enumerate((("dw", w), ("dx", x))):
        dirs = random_directions(rng, np.shape(base), directions)
        plus, minus = perturbed_calls(calls, objective(position), base, dirs, step)
        checks.append(GradCheck(label, 1, position, dirs, plus, minus, step,
                                weights=np.asarray(dout, dtype=np.float64)))
    forward = Expect(N_("neuron_forward's f"), 0, 0, np.asarray(ref.neuron_forward(w, x)[0]),
                     required=True)
    return Case(name="", function="neuron_backward", calls=calls, expects=[forward],
                gradchecks=checks, dims={"D": d})


# ---- staged computation --------------------------------------------------------------------

def staged_variant(x, y, dout, drop=(), alias=False, inverse="square", square=2.0,
                   sigmoid_local="output", multiply="other"):
    """staged_backward of the reference with one mistake, for hypotheses (trusted).

    drop: paths left out, among "x:num", "x:sigx", "x:xpy", "y:sigy", "y:xpy";
    alias: dx and dy are one array (`dx = dxpy; dy = dxpy; dx += …; dy += …`);
    inverse: "linear" takes −1/d as the local gradient of 1/d (instead of −1/d²), "positive"
    takes +1/d²;
    multiply: "self" gives each input of the multiply gate f = n·v its own value as local
    gradient (dn = v·dout is right: "other");
    square: the factor in the local gradient 2q of q²;
    sigmoid_local: "sigma_again" uses σ(s)(1 − σ(s)) of the cached σ output s.
    Returns (dx, dy).
    """
    x, y, dout = _f64(x), _f64(y), _f64(dout)
    sigy, sigx = ref.sigmoid(y), ref.sigmoid(x)
    num, q = x + sigy, x + y
    den = sigx + q ** 2
    local_inverse = {"square": -1.0 / den ** 2, "linear": -1.0 / den, "positive": 1.0 / den ** 2}
    dnum, dinv = (dout / den, num * dout) if multiply == "other" else (num * dout, dout / den)
    dden = local_inverse[inverse] * dinv
    dq = square * q * dden

    def local(s):
        s = ref.sigmoid(s) if sigmoid_local == "sigma_again" else s
        return s * (1 - s)

    paths_x = {"x:num": dnum, "x:sigx": local(sigx) * dden, "x:xpy": dq}
    paths_y = {"y:sigy": local(sigy) * dnum, "y:xpy": dq}
    dx = sum(v for k, v in paths_x.items() if k not in drop)
    dy = sum(v for k, v in paths_y.items() if k not in drop)
    if alias:  # one array collects every path of x and of y, except the shared x + y once
        dx = dy = dq + paths_x["x:sigx"] + paths_x["x:num"] + paths_y["y:sigy"]
    return dx, dy


#: leaving out the gradient through one path: what it gives, per path
MISSING_PATH = {
    "x:sigx": N_("your dx misses the gradient through σ(x) (stage 3): x feeds three stages "
                 "(n = x + σ(y), σ(x) and q = x + y), and dx is the sum of the three "
                 "contributions. Add each one (dx = dx + …) instead of assigning it."),
    "x:num": N_("your dx misses the gradient through n = x + σ(y) (stage 2): x feeds three "
                "stages (n = x + σ(y), σ(x) and q = x + y), and dx is the sum of the three "
                "contributions. Add each one (dx = dx + …) instead of assigning it."),
    "x:xpy": N_("your dx misses the gradient through q = x + y (stage 4): x feeds three stages "
                "(n = x + σ(y), σ(x) and q = x + y), and dx is the sum of the three "
                "contributions. Add each one (dx = dx + …) instead of assigning it."),
    "y:sigy": N_("your dy misses the gradient through σ(y) (stage 1): y feeds two stages (σ(y) "
                 "and q = x + y), and dy is the sum of the two contributions. Add each one "
                 "(dy = dy + …) instead of assigning it."),
    "y:xpy": N_("your dy misses the gradient through q = x + y (stage 4): y feeds two stages "
                "(σ(y) and q = x + y), and dy is the sum of the two contributions. Add each one "
                "(dy = dy + …) instead of assigning it."),
}


def _staged_candidates(x, y, dout) -> tuple[list, list]:
    """(dx candidates, dy candidates) of the classic staged_backward mistakes."""
    variants = []
    for path, message in MISSING_PATH.items():
        variants.append((path[0], message, staged_variant(x, y, dout, drop=(path,)),
                         f"staged:missing_{path.replace(':', '_')}"))
    alias = staged_variant(x, y, dout, alias=True)
    alias_message = N_("your dx and dy are one and the same array: after `dx = dq` and "
                       "`dy = dq` both names point at a single array, so `dx += …` also changes "
                       "dy (and `dy += …` changes dx). Write dx = dq + … or start from "
                       "dq.copy().")
    variants += [("x", alias_message, alias, "staged:aliased"),
                 ("y", alias_message, alias, "staged:aliased")]
    for var in "xy":
        named = {"label": f"d{var}"}
        variants += [
            (var, (N_("your {label} has −1/d as the local gradient of v = 1/d (stage 7); it is "
                      "d(1/d)/dd = −1/d²."), named),
             staged_variant(x, y, dout, inverse="linear"), "staged:inverse"),
            (var, (N_("your {label} is missing the factor 2 of d(q²)/dq = 2q (stage 5)."),
                   named),
             staged_variant(x, y, dout, square=1.0), "staged:square"),
            (var, (N_("your {label} has σ applied again to the cached sigmoid outputs: with "
                      "s = σ(·) already computed, the local gradient is s·(1 − s), not "
                      "σ(s)·(1 − σ(s)) (check your sigmoid_backward too)."), named),
             staged_variant(x, y, dout, sigmoid_local="sigma_again"), "staged:sigma_again"),
            (var, (N_("your {label} has +1/d² as the local gradient of v = 1/d (stage 7): the "
                      "sign is wrong, d(1/d)/dd = −1/d²."), named),
             staged_variant(x, y, dout, inverse="positive"), "staged:inverse_sign"),
            (var, (N_("your {label} has each input of the multiply gate f = n·v scaled by its "
                      "own value (stage 8): the multiply gate scales by the *other* input, "
                      "dn = v·dout and dv = n·dout."), named),
             staged_variant(x, y, dout, multiply="self"), "staged:multiply_self"),
        ]
    dx_candidates = [(m, v[0], c) for var, m, v, c in variants if var == "x"]
    dy_candidates = [(m, v[1], c) for var, m, v, c in variants if var == "y"]
    return dx_candidates, dy_candidates


def _staged_data(rng, shape, dtype):
    x = _inputs(rng, shape, dtype, low=-3, high=3)
    y = _inputs(rng, shape, dtype, low=-3, high=3)
    dout = _inputs(rng, shape, dtype, low=-2, high=2)
    return x, y, dout


def staged_forward_case(rng, shape=(6,), dtype="float64"):
    """staged_forward(x, y): f against the reference (the cache is yours)."""
    x, y, _ = _staged_data(rng, shape, dtype)
    f, _ = ref.staged_forward(x, y)
    return call_case("staged_forward", (x, y), ("x", "y"), [("f", (0,), f, {})],
                     signature="(f, cache)")


def staged_backward_case(rng, shape=(6,), dtype="float64"):
    """Your staged_forward, then your staged_backward on your cache: f, dx and dy against the
    reference."""
    x, y, dout = _staged_data(rng, shape, dtype)
    f, cache = ref.staged_forward(x, y)
    dx, dy = ref.staged_backward(dout, cache)
    dx_candidates, dy_candidates = _staged_candidates(x, y, dout)
    calls = [
        Call("staged_forward", (x, y), returns=((0,),), signature="(f, cache)",
             check_inputs=True, arg_names=("x", "y")),
        Call("staged_backward", (dout, CACHE), returns=((0,), (1,)), signature="(dx, dy)",
             check_inputs=True, arg_names=("dout", "cache")),
    ]
    expects = [
        Expect("f", 0, 0, _f64(f)),
        Expect("dx", 1, 0, _f64(dx), hypotheses=_hypotheses(dx, dx_candidates)),
        Expect("dy", 1, 1, _f64(dy), hypotheses=_hypotheses(dy, dy_candidates)),
    ]
    return Case(name="", function="staged_backward", calls=calls, expects=expects)


def staged_gradient_check_case(rng, shape=(6,), directions=2, step=STEP):
    """Your staged_backward against central differences of your own staged_forward:
    L(x, y) = Σ dout · f(x, y), along random directions of x and of y."""
    x, y, dout = _staged_data(rng, shape, "float64")
    calls = [
        Call("staged_forward", (x, y), returns=((0,),), signature="(f, cache)",
             check_inputs=True, arg_names=("x", "y")),
        Call("staged_backward", (dout, CACHE), returns=((0,), (1,)), signature="(dx, dy)",
             check_inputs=True, arg_names=("dout", "cache")),
    ]

    def objective(position):
        def chain(value, first):
            args = [x, y]
            args[position] = value
            return [Call("staged_forward", tuple(args), returns=((0,),),
                         signature="(f, cache)", check_inputs=True, arg_names=("x", "y"))]
        return chain

    checks = []
    for position, (label, base) in enumerate((("dx", x), ("dy", y))):
        dirs = random_directions(rng, np.shape(base), directions)
        plus, minus = perturbed_calls(calls, objective(position), base, dirs, step)
        checks.append(GradCheck(label, 1, position, dirs, plus, minus, step, weights=dout))
    forward = Expect(N_("staged_forward's f"), 0, 0, ref.staged_forward(x, y)[0], required=True)
    return Case(name="", function="staged_backward", calls=calls, expects=[forward],
                gradchecks=checks)


# ---- matrix product -------------------------------------------------------------------------

def matmul_backward_case(rng, n=3, k=3, m=3, dtype="float64"):
    """matmul_backward(dD, W, X) for D = W·X with W (n, k), X (k, m).

    The two gradients exchanged (the formulas with W and X swapped, or the return order) is a
    hypothesis whatever the shapes, so the message names the exchange even where the shapes
    differ; other transposes are named by the generic diagnoses."""
    dD = _inputs(rng, (n, m), dtype, low=-3, high=3)
    W = _inputs(rng, (n, k), dtype, low=-3, high=3)
    X = _inputs(rng, (k, m), dtype, low=-3, high=3)
    dW, dX = ref.matmul_backward(dD, W, X)
    swapped = N_("your dW and dX are exchanged: your dW is Wᵀ·dD, the gradient of X, and your "
                 "dX is dD·Xᵀ, the gradient of W. Let the shapes decide: dW = dD·Xᵀ has the "
                 "shape of W ({n}, {k}), dX = Wᵀ·dD the shape of X ({k}, {m}); return (dW, dX) "
                 "in that order.")

    def exchanged(value, other):
        if np.shape(value) == np.shape(other) and relative_error(_f64(other), _f64(value)) \
                < DISTINCT:
            return []
        return [Hypothesis(swapped, _f64(other), "matmul:swapped",
                           values={"n": n, "k": k, "m": m})]

    def untransposed(label, value, left, right, formula):
        """left·right without its transpose, where the shapes let it through."""
        left, right = _f64(left), _f64(right)
        if left.shape[1] != right.shape[0]:
            return []
        return _hypotheses(value, [(
            (N_("your {label} is missing a transpose: {label} = {formula} (let the shapes "
                "decide: {label} has the shape of {of})."),
             {"label": label, "formula": formula, "of": label[1:]}),
            left @ right, "matmul:no_transpose")])
    return call_case("matmul_backward", (dD, W, X), ("dD", "W", "X"),
                     [("dW", (0,), dW, {"hypotheses": exchanged(dW, dX) + untransposed(
                         "dW", dW, dD, X, "dD·Xᵀ")}),
                      ("dX", (1,), dX, {"hypotheses": exchanged(dX, dW) + untransposed(
                         "dX", dX, W, dD, "Wᵀ·dD")})],
                     signature="(dW, dX)")
