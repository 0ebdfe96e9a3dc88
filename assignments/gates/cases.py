"""What the gates spec (spec.toml) cannot say (trusted: it calls the reference).

`hypotheses(function, label, inputs, value)` gives, for a value a derived case compares, the
classic mistakes that can be told from the reference's `value`, each with the explanation the
feedback gives. Generated mutants (grader/judge) name most of these mistakes only in the
reference's own terms ("it computes out where dout ⊙ out belongs"); these say why (out, not x,
goes into sigmoid_backward; dx sums three paths), the catalogue (mutants.py) expects those words,
and some mistakes no edit of the reference makes at all (noted where they are).
The builders make the cases the derived sizes cannot: a scalar and a 2-D sigmoid, float32
inputs beyond −89, square matrices for matmul_backward (its missing transposes only run there).
"""
import numpy as np

from grader.course.cases import Hypothesis, call_case, distinct_hypotheses
from grader.i18n import N_
from grader.judge.diagnose import relative_error
from reference import gates as ref

#: a hypothesis closer than this (relative) to the reference, or to an earlier one, is left out
DISTINCT = 1e-3


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _hypotheses(reference, candidates) -> list:
    return distinct_hypotheses(reference, candidates, DISTINCT)


def hypotheses(function, label, given, value) -> list:
    """The classic mistakes of `function` for its compared value `label` (the reference's
    `value`) on inputs `given`, those that can be told from it."""
    if function == "matmul_backward":  # exchanged gradients: no edit of one expression makes it
        return _matmul(label, given["dD"], given["W"], given["X"])
    if function == "sigmoid":  # σ(−x): a mutant says only "a branch taken whatever x"
        found = _sigmoid(given["x"])
    elif function == "sigmoid_backward":  # why out, not x: the reference never calls σ there
        found = _sigmoid_backward(given["dout"], given["out"])
    elif function == "neuron_forward":  # which entry of w is the bias
        found = _neuron_f(given["w"], given["x"])
    elif function == "neuron_backward":  # no mutant: dz without f(1 − f), w and x swapped
        found = _neuron_backward_variants(given["w"], given["x"], given["dout"])[label == "dx"]
    elif function == "staged_backward":  # the stage a path comes from; dx and dy one array
        found = _staged_candidates(given["x"], given["y"], given["dout"])[label == "dy"]
    else:
        return []
    return _hypotheses(value, found)


def _sigmoid(x):
    return [(N_("your sigmoid(x) is σ(−x) = 1 − σ(x): check the sign of the exponent. For "
                "x ≥ 0 use 1 / (1 + e^(−x)); for x < 0 use e^x / (1 + e^x)."),
             ref.sigmoid(-_f64(x)), "sigmoid:flipped")]


def _sigmoid_backward(dout, out):
    s_of_out = ref.sigmoid(out)
    return [
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


def _neuron_f(w, x):
    w, x = _f64(w), _f64(x)
    z = np.dot(w[:-1], x) + w[-1]
    return [
        (N_("your f leaves out the bias: the last entry of w is the bias, "
            "f = σ(w[:-1]·x + w[-1])."), ref.sigmoid(np.dot(w[:-1], x)), "neuron:no_bias"),
        (N_("your f takes the bias from w[0]: the bias is the *last* entry of w, "
            "f = σ(w[:-1]·x + w[-1])."), ref.sigmoid(np.dot(w[1:], x) + w[0]),
         "neuron:bias_first"),
        (N_("your f is z = w[:-1]·x + w[-1] itself: the neuron's output goes through the "
            "sigmoid, f = σ(z)."), z, "neuron:no_sigmoid"),
    ]


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


def sigmoid_case(rng, shape=(7,), dtype="float64", large=False):
    """sigmoid on a scalar or a 2-D array, shapes a spec's dimensions do not give; with
    large=True on ±1e4 … ±1e−3 in float32, where e^(−x) overflows from x < −89 (the derived
    large case, ±1000 in float64, only from −710), and no numpy warning is allowed."""
    x = (3.0 * rng.standard_normal(tuple(shape))).astype(dtype)
    if large:
        magnitudes = np.array((1e4, 1e3, 800.0, 100.0, 40.0, 1.0, 1e-3))
        x = rng.permutation(np.concatenate([magnitudes, -magnitudes, [0.0]])).astype(dtype)
    x = x.item() if tuple(shape) == () else x
    expected = ref.sigmoid(x)
    case = call_case("sigmoid", (x,), ("x",), [("sigmoid(x)", (), expected,
                     {"hypotheses": _hypotheses(expected, _sigmoid(x))})],
                     signature=N_("an array of σ(x), the shape of x"))
    case.no_fp_warnings = large
    return case


def matmul_backward_case(rng, n=3, k=3, m=3):
    """matmul_backward(dD, W, X) for D = W·X with W (n, k), X (k, m): square ones (n = k = m)
    let a missing transpose run."""
    dD, W, X = (rng.standard_normal(shape) for shape in ((n, m), (n, k), (k, m)))
    dW, dX = ref.matmul_backward(dD, W, X)
    return call_case("matmul_backward", (dD, W, X), ("dD", "W", "X"),
                     [("dW", (0,), dW, {"hypotheses": _matmul("dW", dD, W, X)}),
                      ("dX", (1,), dX, {"hypotheses": _matmul("dX", dD, W, X)})],
                     signature="(dW, dX)")


def _matmul(label, dD, W, X) -> list:
    """The two gradients exchanged (named whatever the shapes), and a missing transpose where
    the shapes let it run; other transposes are named by the generic diagnoses."""
    dD, W, X = _f64(dD), _f64(W), _f64(X)
    (n, k), m = W.shape, X.shape[1]
    value, other = ref.matmul_backward(dD, W, X)[::1 if label == "dW" else -1]
    found = []
    if np.shape(value) != np.shape(other) or relative_error(other, value) >= DISTINCT:
        found.append(Hypothesis(N_(
            "your dW and dX are exchanged: your dW is Wᵀ·dD, the gradient of X, and your dX is "
            "dD·Xᵀ, the gradient of W. Let the shapes decide: dW = dD·Xᵀ has the shape of W "
            "({n}, {k}), dX = Wᵀ·dD the shape of X ({k}, {m}); return (dW, dX) in that order."),
            other, "matmul:swapped", values={"n": n, "k": k, "m": m}))
    left, right, formula = (dD, X, "dD·Xᵀ") if label == "dW" else (W, dD, "Wᵀ·dD")
    if left.shape[1] == right.shape[0]:
        found += _hypotheses(value, [((N_(
            "your {label} is missing a transpose: {label} = {formula} (let the shapes decide: "
            "{label} has the shape of {of})."), {"label": label, "formula": formula,
                                                  "of": label[1:]}),
            left @ right, "matmul:no_transpose")])
    return found
