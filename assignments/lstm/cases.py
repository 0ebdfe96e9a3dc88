"""Case builders for the LSTM layer (trusted: they call the reference).

Each builder takes a seeded numpy Generator and the test's params from spec.toml and returns a
Case with the inputs to send and the reference's answers. Sizes are chosen so that N, T, H and
D differ from each other where the test allows it (a factor that equals one of them is named
by the scale diagnosis), and D ≠ H somewhere (a wrong split of [x_t, h_{t−1}] then shows as a
shape error there, and as wrong values everywhere).

The student's cache never leaves the child: the backward tests call the student's own
lstm_forward and hand part 1 of its result (the cache) to the student's lstm_backward with a
Ref; only out, dX, dW and db come back.

Known mistakes are explained by Hypotheses: the value that mistake produces, computed here by
`variant_forward` / `variant_backward`, a small LSTM with switches for each mistake (with every
switch at its default it is the reference; tests/test_grade_lstm.py checks that). A hypothesis
whose value cannot be told apart from the reference's for a case (dropping dc_next changes
nothing when T = 1) is left out of that case.

Why these stay beside the mistakes generated from the reference (grader/judge): a generated
mutant says which expression changed, in the reference's terms; a hypothesis names the gate,
the cell state or the carried gradient in the handout's words (the forget gate's gradient taken
with c_t instead of c_{t−1}; the gate blocks in cs231n's or PyTorch's order), which the
catalogue (mutants.py) expects, and some are no single edit of the reference (two pairs of
gate blocks exchanged at once, [h, x] concatenated and split at H).
"""
import numpy as np

from grader.course.cases import Call, Case, Expect, GradCheck, Hypothesis, Ref, perturbed_calls, \
    random_directions
from grader.i18n import N_
from grader.judge.diagnose import relative_error
from reference import lstm as ref
from reference.gates import sigmoid

GATES = ref.GATES
FORWARD_SIGNATURE = "(out, cache)"
BACKWARD_SIGNATURE = "(dX, dW, db)"
CACHE = (1,)
#: a hypothesis closer than this to the reference (relative) cannot be told from it.
DISTINCT = 1e-4
#: the order of the column blocks, one letter per gate: forget, input, output, block input (g).
ORDER = "fiog"


# ---- an LSTM that can make the known mistakes ------------------------------------------------

def variant_forward(X, W, b, use_state=False, *, order=ORDER, forget="sigmoid", concat="xh",
                    dtype=np.float64, tanh_c=True, inplace_c=False):
    """lstm_forward with switches: `order` names the gate of each column block ("ifog": the
    first block is the input gate); forget="tanh" squashes the forget gate with tanh;
    concat="hx" puts h_{t−1} before x_t; dtype=np.float32 computes in float32;
    tanh_c=False outputs h_t = o ⊙ c_t; inplace_c=True updates one cell-state array in place
    (c *= f; c += i ⊙ g), so every step's cached c_{t−1} is the last c_T."""
    tanh_c_on = tanh_c
    X, W, b = (np.asarray(v, dtype=dtype) for v in (X, W, b))
    N, T, D = X.shape
    H = W.shape[1] // 4
    h = np.zeros((N, H), dtype=dtype)
    c = np.zeros((N, H), dtype=dtype)
    out = np.zeros((N, T, H), dtype=dtype)
    steps = []
    for t in range(T):
        z = np.concatenate([X[:, t], h] if concat == "xh" else [h, X[:, t]], axis=1)
        a = z @ W + b
        block = {gate: a[:, k * H:(k + 1) * H] for k, gate in enumerate(order)}
        f = np.tanh(block["f"]) if forget == "tanh" else sigmoid(block["f"]).astype(dtype)
        i = sigmoid(block["i"]).astype(dtype)
        o = sigmoid(block["o"]).astype(dtype)
        g = np.tanh(block["g"])
        c_prev = c
        c = f * c_prev + i * g
        tanh_c = np.tanh(c) if tanh_c_on else c
        h = o * tanh_c
        out[:, t] = c if use_state else h
        steps.append((z, f, i, o, g, c_prev, tanh_c))
    if inplace_c:
        steps = [(z, f, i, o, g, c, tanh) for z, f, i, o, g, _, tanh in steps]
    return out, {"W": W, "D": D, "use_state": bool(use_state), "steps": steps, "order": order,
                 "forget": forget, "concat": concat, "dtype": dtype}


def variant_backward(dout, cache, *, dout_at=None, forget_derivative=None, carry_dc=True,
                     carry_dh=True, missing=None, accumulate=True, linear=(),
                     sigma_again=False, carry_f=True, steps_from=None):
    """lstm_backward of variant_forward's cache, with switches: dout_at ("h" or "c") is where
    the upstream gradient enters (by default where the output is taken); forget_derivative
    ("sigmoid" or "tanh") is the local gradient used for the forget gate (by default the one
    of its forward); carry_dc / carry_dh pass dc_next / dh_next to the step before; missing
    ("f", "i", "o", "g" or "c") leaves out that gate's local gradient (σ' or tanh'), or
    tanh'(c_t) for "c"; accumulate=False overwrites dW and db at every step; linear names
    where 1 − s replaces tanh's 1 − s² ("c": tanh(c_t), "g": the block input); sigma_again
    takes σ(s)(1 − σ(s)) of the cached gate outputs s; carry_f=False carries dc_next = dc
    without ⊙ f; steps_from is the backward loop's range over t (default T − 1, …, 0)."""
    W, D, steps, order, dtype = (cache[k] for k in ("W", "D", "steps", "order", "dtype"))
    dout_at = dout_at or ("c" if cache["use_state"] else "h")
    forget_derivative = forget_derivative or cache["forget"]
    dout = np.asarray(dout, dtype=dtype)
    N, T, H = dout.shape
    dX = np.zeros((N, T, D), dtype=dtype)
    dW = np.zeros_like(W)
    db = np.zeros(W.shape[1], dtype=dtype)
    dh_next = np.zeros((N, H), dtype=dtype)
    dc_next = np.zeros((N, H), dtype=dtype)
    for t in (range(T - 1, -1, -1) if steps_from is None else steps_from(T)):
        z, f, i, o, g, c_prev, tanh_c = steps[t]
        dh = dh_next + dout[:, t] if dout_at == "h" else dh_next
        tanh_local = 1.0 - (tanh_c if "c" in linear else tanh_c ** 2)
        dc = dc_next + dh * o * (1.0 if missing == "c" else tanh_local)
        if dout_at == "c":
            dc = dc + dout[:, t]
        def dsig(s):
            s = sigmoid(s) if sigma_again else s
            return s * (1 - s)
        local = {"f": dsig(f) if forget_derivative == "sigmoid" else 1 - f ** 2,
                 "i": dsig(i), "o": dsig(o), "g": 1 - (g if "g" in linear else g ** 2)}
        if missing in local:
            local[missing] = 1.0
        upstream = {"f": dc * c_prev, "i": dc * g, "o": dh * tanh_c, "g": dc * i}
        da = np.concatenate([upstream[gate] * local[gate] for gate in order], axis=1)
        if accumulate:
            dW += z.T @ da
            db += da.sum(axis=0)
        else:
            dW, db = z.T @ da, da.sum(axis=0)
        dz = da @ W.T
        if cache["concat"] == "xh":
            dX[:, t], dh_next = dz[:, :D], dz[:, D:]
        else:
            dh_next, dX[:, t] = dz[:, :H], dz[:, H:]
        dh_next = dh_next if carry_dh else np.zeros_like(dh_next)
        dc_next = (dc * f if carry_f else dc) if carry_dc else np.zeros_like(dc)
    return dX, dW, db


# ---- what each mistake looks like, and what to say about it ----------------------------------

#: the gate orders students bring from elsewhere (cs231n's i, f, o, g; PyTorch's and Keras'
#: i, f, g, o), each with what taking it gives
ORDER_MESSAGES = {
    "ifog": N_("your {label} is what taking the gate blocks in the order input, forget, output, "
               "block input gives: in this assignment the column blocks of W, b and "
               "a = [x_t, h_{{t−1}}]·W + b are, in order, forget, input, output, block input "
               "(f = σ(a[:, 0:H]), i = σ(a[:, H:2H]), o = σ(a[:, 2H:3H]), "
               "g = tanh(a[:, 3H:4H]))."),
    "ifgo": N_("your {label} is what taking the gate blocks in the order input, forget, block "
               "input, output (PyTorch's and Keras' order) gives: in this assignment the column "
               "blocks of W, b and a = [x_t, h_{{t−1}}]·W + b are, in order, forget, input, "
               "output, block input (f = σ(a[:, 0:H]), i = σ(a[:, H:2H]), o = σ(a[:, 2H:3H]), "
               "g = tanh(a[:, 3H:4H]))."),
}
#: the gate blocks as the diagnoses name them ("the forget block"): ref.GATES, in words
GATE_WORDS = (N_("forget"), N_("input"), N_("output"), N_("block input"))

PRECISION = N_("your {label} is right to about 7 significant digits only, the precision of "
               "float32: some of your arithmetic or storage is float32 (an array made with "
               "dtype=np.float32, or .astype(np.float32)). Compute in float64: with float64 "
               "inputs the expected result is exact to about 15 digits.")


def _forward_variants():
    """(message, code, variant_forward options) of the forward's known mistakes (the messages
    are templates of {label})."""
    variants = [(message, f"gate-order:{o}", {"order": o}) for o, message in ORDER_MESSAGES.items()]
    variants += [
        (N_("your {label} is what a forget gate f = tanh(a[:, 0:H]) gives: f is a gate, "
            "f = σ(a[:, 0:H]) in (0, 1), like i and o; only the block input g uses tanh."),
         "forget-tanh", {"forget": "tanh"}),
        (N_("your {label} is what concatenating [h_{{t−1}}, x_t] gives: the input comes first, "
            "[x_t, h_{{t−1}}], so the first D rows of W multiply x_t and the last H rows "
            "h_{{t−1}} (and in the backward, dX_t is the first D columns of da·Wᵀ, dh_next the "
            "last H)."), "concat-hx", {"concat": "hx"}),
        (N_("your {label} is what h_t = o ⊙ c_t gives: the hidden state squashes the cell "
            "state, h_t = o ⊙ tanh(c_t)."), "h-no-tanh", {"tanh_c": False})]
    return variants


def _distinct(hypotheses, reference, label):
    """Leave out hypotheses indistinguishable from the reference, then add the float32 one: a
    value that fails the float64 tolerance yet lies within the fit (1e-6) of the reference."""
    reference = np.asarray(reference, dtype=np.float64)
    kept = []
    for h in hypotheses:  # (also leave out one that repeats an earlier, e.g. all zeros at T = 1)
        if (h.value.shape != reference.shape or relative_error(h.value, reference) > DISTINCT) \
                and not any(k.value.shape == h.value.shape
                            and relative_error(h.value, k.value) <= DISTINCT for k in kept):
            kept.append(h)
    return kept + [Hypothesis(PRECISION, reference, "float32", values={"label": label})]


def forward_hypotheses(X, W, b, use_state, out):
    hypotheses = [Hypothesis(message, variant_forward(X, W, b, use_state, **options)[0], code,
                             values={"label": "out"})
                  for message, code, options in _forward_variants()]
    other = variant_forward(X, W, b, not use_state)[0]
    if use_state:
        hypotheses.append(Hypothesis(
            N_("with use_state=True your out holds the hidden state h_t; it should hold the "
               "cell state c_t (use_state changes what the layer outputs, not the "
               "recurrence)."), other, "use-state:h"))
    else:
        hypotheses.append(Hypothesis(
            N_("with use_state=False (the default) your out holds the cell state c_t; it "
               "should hold the hidden state h_t."), other, "use-state:c"))
    return _distinct(hypotheses, out, "out")


#: what leaving out each local gradient (missing=...) gives
MISSING_LOCAL = {
    "f": N_("your {label} is what leaving out a local gradient gives: the forget gate's local "
            "gradient f(1 − f) (σ' in terms of its output) is missing: the forget block of da "
            "is df ⊙ f(1 − f)."),
    "i": N_("your {label} is what leaving out a local gradient gives: the input gate's local "
            "gradient i(1 − i) (σ' in terms of its output) is missing: the input block of da "
            "is di ⊙ i(1 − i)."),
    "o": N_("your {label} is what leaving out a local gradient gives: the output gate's local "
            "gradient o(1 − o) (σ' in terms of its output) is missing: the output block of da "
            "is do ⊙ o(1 − o)."),
    "g": N_("your {label} is what leaving out a local gradient gives: the block input's local "
            "gradient 1 − g² (tanh' in terms of its output) is missing: the block input block "
            "of da is dg ⊙ (1 − g²)."),
    "c": N_("your {label} is what leaving out a local gradient gives: the local gradient of "
            "tanh(c_t) is missing: dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))."),
}


def backward_hypotheses(X, W, b, use_state, dout, grads):
    """For each of dX, dW, db: the hypotheses list, in the order they are tried."""
    labels = ("dX", "dW", "db")
    _, cache = variant_forward(X, W, b, use_state)
    found = {label: [] for label in labels}

    def add(message, code, values):
        for label, value in zip(labels, values):
            found[label].append(Hypothesis(message, np.asarray(value, np.float64), code,
                                           values={"label": label}))

    for message, code, options in _forward_variants():
        _, variant_cache = variant_forward(X, W, b, use_state, **options)
        add(message, code, variant_backward(dout, variant_cache))
        if options.get("forget") == "tanh":  # tanh in the forward, σ' still in the backward
            add(message, "forget-tanh:sigmoid-derivative",
                variant_backward(dout, variant_cache, forget_derivative="sigmoid"))
    add(N_("your {label} is what dropping the cell-state gradient between steps gives: "
           "c_{{t−1}} also receives gradient through c_t = f ⊙ c_{{t−1}} + i ⊙ g, so carry "
           "dc_next = dc ⊙ f back to step t − 1 and add it there: "
           "dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))."),
        "dc-not-carried", variant_backward(dout, cache, carry_dc=False))
    add(N_("your {label} is what dropping the hidden-state gradient between steps gives: "
           "h_{{t−1}} feeds every gate of step t, so the last H columns of da·Wᵀ are dh_next, "
           "to be added to dh at step t − 1."),
        "dh-not-carried", variant_backward(dout, cache, carry_dh=False))
    if use_state:
        add(N_("your {label} is what adding dout_t to dh gives, but with use_state=True the "
               "output is the cell state c_t: add dout_t to dc (dc = dc_next + dout_t + "
               "dh ⊙ o ⊙ (1 − tanh²(c_t))) and take dh = dh_next only."),
            "use-state:dout-at-h", variant_backward(dout, cache, dout_at="h"))
    else:
        add(N_("your {label} is what adding dout_t to dc gives, but with use_state=False (the "
               "default) the output is the hidden state h_t: dh = dh_next + dout_t."),
            "use-state:dout-at-c", variant_backward(dout, cache, dout_at="c"))
    for gate, message in MISSING_LOCAL.items():
        add(message, f"missing-local:{gate}", variant_backward(dout, cache, missing=gate))
    add(N_("your {label} is what a cell state updated in place gives (c *= f; c += i * g): the "
           "c_{{t−1}} your cache keeps is that same array, so at the end every step's cached "
           "c_{{t−1}} holds the last cell state c_T. Make a new array each step, "
           "c = f * c_prev + i * g."), "inplace-c",
        variant_backward(dout, variant_forward(X, W, b, use_state, inplace_c=True)[1]))
    add(N_("your {label} is what 1 − tanh(c_t) as the derivative of tanh gives: written with "
           "its output it is 1 − tanh²(c_t), so dc = dc_next + dh ⊙ o ⊙ (1 − tanh²(c_t))."),
        "tanh-linear:c", variant_backward(dout, cache, linear=("c",)))
    add(N_("your {label} is what 1 − g as the block input's local gradient gives: g = tanh(·), "
           "whose derivative written with its output is 1 − g²."),
        "tanh-linear:g", variant_backward(dout, cache, linear=("g",)))
    add(N_("your {label} is what σ applied again to the gate outputs gives: f, i and o are "
           "already σ(a), so their local gradients are f(1 − f), i(1 − i), o(1 − o), not "
           "σ(f)(1 − σ(f)), …"), "sigma-again", variant_backward(dout, cache, sigma_again=True))
    add(N_("your {label} is what carrying dc_next = dc to the step before gives: c_{{t−1}} "
           "reaches c_t through the forget gate, c_t = f ⊙ c_{{t−1}} + i ⊙ g, so "
           "dc_next = dc ⊙ f."),
        "carry-without-f", variant_backward(dout, cache, carry_f=False))
    add(N_("your {label} is what a backward loop that skips t = 0 gives (range(T − 1, 0, −1)): "
           "the loop must visit every step down to 0, range(T − 1, −1, −1)."),
        "loop:skip-first", variant_backward(dout, cache, steps_from=lambda T: range(T - 1, 0, -1)))
    add(N_("your {label} is what a backward loop that skips the last step gives (range(T − 2, "
           "−1, −1)): it must start at t = T − 1, range(T − 1, −1, −1)."),
        "loop:skip-last", variant_backward(dout, cache, steps_from=lambda T: range(T - 2, -1, -1)))
    add(N_("your {label} is what assigning instead of accumulating gives: only the contribution "
           "of t = 0, the last step a backward loop visits, is left. W and b are shared by all "
           "steps, so their gradients are sums over t: dW += …, db += …."),
        "overwritten", variant_backward(dout, cache, accumulate=False))
    return [_distinct(found[label], reference, label) for label, reference in zip(labels, grads)]


# ---- inputs ---------------------------------------------------------------------------------

def _data(rng, n, t, h, d, scale=0.5, dtype="float64"):
    """X (N, T, D), W (D + H, 4H), b (4H,) and an upstream gradient dout (N, T, H)."""
    X = rng.standard_normal((n, t, d))
    W = rng.normal(0.0, scale, (d + h, 4 * h))
    b = rng.normal(0.0, scale, 4 * h)
    dout = rng.standard_normal((n, t, h))
    return tuple(v.astype(dtype) for v in (X, W, b, dout))


def _dims(n, t, h, d):
    return {"N": n, "T": t, "H": h, "D": d}


def _forward_call(X, W, b, use_state, check_inputs=False):
    return Call("lstm_forward", (X, W, b), {"use_state": bool(use_state)}, returns=((0,),),
                signature=FORWARD_SIGNATURE, check_inputs=check_inputs,
                arg_names=("X", "W", "b"))


def _backward_call(dout):
    return Call("lstm_backward", (dout, Ref(0, CACHE)), returns=((0,), (1,), (2,)),
                signature=BACKWARD_SIGNATURE, check_inputs=True, arg_names=("dout", "cache"))


# ---- builders -------------------------------------------------------------------------------

def forward_case(rng, n, t, h, d, use_state=False, scale=0.5, dtype="float64"):
    """lstm_forward's out against the reference's. scale is the spread of W and b: at 300
    about a third of the pre-activations lie beyond ±709 (down to about −2000), where e^(−x)
    overflows; the gates saturate and only a numerically stable sigmoid stays silent."""
    X, W, b, _ = _data(rng, n, t, h, d, scale, dtype)
    out, _ = ref.lstm_forward(X, W, b, use_state=use_state)
    expect = Expect("out", 0, 0, out, time_axis=1,
                    hypotheses=forward_hypotheses(X, W, b, use_state, out))
    return Case(name="", function="lstm_forward", calls=[_forward_call(X, W, b, use_state, True)],
                expects=[expect], dims=_dims(n, t, h, d), no_fp_warnings=scale > 10)


def backward_case(rng, n, t, h, d, use_state=False, dtype="float64"):
    """Your lstm_forward, then your lstm_backward on its cache: dX, dW and db against the
    reference's. A wrong forward shows here too, named when it is a known mistake."""
    X, W, b, dout = _data(rng, n, t, h, d, dtype=dtype)
    _, cache = ref.lstm_forward(X, W, b, use_state=use_state)
    grads = ref.lstm_backward(dout, cache)
    hyps = backward_hypotheses(X, W, b, use_state, dout, grads)
    options = ({"time_axis": 1}, {"block_axis": 1, "blocks": GATES},
               {"block_axis": 0, "blocks": GATES})
    expects = [Expect(label, 1, part, np.asarray(value, np.float64), hypotheses=hyp, **option)
               for part, (label, value, hyp, option)
               in enumerate(zip(("dX", "dW", "db"), grads, hyps, options))]
    return Case(name="", function="lstm_backward",
                calls=[_forward_call(X, W, b, use_state), _backward_call(dout)],
                expects=expects, dims=_dims(n, t, h, d))


def gradient_check_case(rng, n, t, h, d, use_state=False, directions=3, step=1e-5):
    """Your lstm_backward against central differences of your own lstm_forward, for
    L = sum(dout ⊙ out) (so ∂L/∂out = dout): along `directions` random unit directions per
    parameter tensor, whatever its size, 2 forward calls each."""
    X, W, b, dout = _data(rng, n, t, h, d)
    calls = [_forward_call(X, W, b, use_state), _backward_call(dout)]
    params = [X, W, b]

    def objective(position):
        def chain(value, first):
            args = list(params)
            args[position] = value
            return [_forward_call(*args, use_state)]
        return chain

    checks = []
    for position, label in enumerate(("dX", "dW", "db")):
        dirs = random_directions(rng, params[position].shape, directions)
        plus, minus = perturbed_calls(calls, objective(position), params[position], dirs, step)
        checks.append(GradCheck(label, 1, position, dirs, plus, minus, step, weights=dout))
    forward = Expect(N_("lstm_forward's out"), 0, 0, ref.lstm_forward(X, W, b, use_state)[0],
                     required=True)
    return Case(name="", function="lstm_backward", calls=calls, expects=[forward],
                gradchecks=checks, dims=_dims(n, t, h, d))
