"""Case builders for the tanh RNN and BPTT assignment (trusted: they call the reference).

Each builder takes a seeded numpy Generator and the test's params from spec.toml and returns a
Case with the inputs to send and the reference's answers. Sizes (T, D, H, K) are all different
from each other, from 2 and from the notebook's own example (T, D, H, K = 5, 3, 4, 6) in the
public cases, so a scale diagnosis can name the size and a function reading a notebook global
instead of the arguments' shapes fails where the student sees it.

The mistakes students make in bptt are reproduced by `bptt_variant`, a small trusted
re-implementation that keeps every (t, k) term of the gradient apart; each mistake is a choice
of terms or a change of one formula, and becomes a Hypothesis with its explanation.

Why these stay beside the mistakes generated from the reference (grader/judge): a generated
mutant says which expression changed, in the reference's terms; a hypothesis says which terms
of the sum over (t, k) the student kept (a truncation one step short, no carry through W), in
the handout's words the catalogue (mutants.py) expects, and several are no single edit of the
reference (s[k − 1] for s_{k−1}, which wraps at k = 0).
"""
import numpy as np

from grader.course.cases import (Call, Case, Expect, GradCheck, Ref, call_case,
                                 distinct_hypotheses, perturbed_calls, random_directions)
from grader.i18n import N_
from reference import rnn_bptt as ref

#: a hypothesis closer than this (relative) to the reference, or to an earlier hypothesis,
#: could be confused with it and is left out.
DISTINCT = 1e-3
STEP = 1e-5  # central-difference step of the gradient check
ARGS = ("x", "y", "U", "W", "V")
SIGNATURE = "(dU, dW, dV)"
LABELS = ("dU", "dW", "dV")


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _hypotheses(reference, candidates) -> list:
    return distinct_hypotheses(reference, candidates, DISTINCT)


def _data(rng, T, D, H, K, dtype="float64", scale=0.6, large=False):
    """x (T, D), labels y (T,), U (H, D), W (H, H), V (K, H).

    dtype "int64" gives integer inputs x (the parameters stay float: they are trained);
    "float32" gives float32 x, U, W and V. large=True makes U, W and V entries hundreds or
    thousands: every hidden unit but the first saturates (tanh = ±1 exactly) and the scores
    V s_t reach thousands, where softmax overflows without its max shift; the first unit keeps
    small weights so the gradients through the recurrence are not all zero.
    """
    x = rng.standard_normal((T, D))
    if dtype == "int64":
        x = rng.integers(-2, 3, (T, D))
    y = rng.integers(0, K, T)
    U = scale * rng.standard_normal((H, D))
    W = scale * rng.standard_normal((H, H))
    V = scale * rng.standard_normal((K, H))
    if large:
        U, W, V = 300.0 * U / scale, 300.0 * W / scale, 1000.0 * V / scale
        U[0] = 0.3 * rng.standard_normal(D)
        W[0] = 0.3 * rng.standard_normal(H) / max(H, 1)
    if dtype == "float32":
        x, U, W, V = (a.astype(np.float32) for a in (x, U, W, V))
    return x.astype(dtype) if dtype == "int64" else x, y, U, W, V


# ---- rnn_forward ----------------------------------------------------------------------------

def _softmax_over_time(o):
    e = np.exp(o - np.max(o, axis=0, keepdims=True))
    return e / np.sum(e, axis=0, keepdims=True)


def rnn_forward_case(rng, T=6, D=4, H=3, K=5, dtype="float64", large=False):
    """rnn_forward(x, U, W, V): the states s and the distributions y_hat."""
    x, y, U, W, V = _data(rng, T, D, H, K, dtype, large=large)
    s, y_hat = ref.rnn_forward(x, U, W, V)
    xf, Uf, Wf, Vf = (_f64(a) for a in (x, U, W, V))
    no_state = np.tanh(xf @ Uf.T)
    no_tanh = np.zeros_like(s)
    prev = np.zeros(H)
    for t in range(T):
        prev = no_tanh[t] = Uf @ xf[t] + Wf @ prev
    state_message = N_("your rnn_forward ignores the previous state: s_t = tanh(U x_t + "
                       "W s_{{t−1}}) with s_{{−1}} = 0; keep the state from one step for the "
                       "next.")
    tanh_message = N_("your states are missing the tanh: s_t = tanh(U x_t + W s_{{t−1}}).")
    row_W = np.zeros_like(s)
    prev = np.zeros(H)
    for t in range(T):
        prev = row_W[t] = np.tanh(Uf @ xf[t] + prev @ Wf)
    row_message = N_("your states use s_{{t−1}}·W, that is Wᵀ s_{{t−1}}: with s_t a column "
                     "vector, s_t = tanh(U x_t + W s_{{t−1}}), i.e. W @ s_prev (or "
                     "s_prev @ W.T).")
    s_candidates = [(state_message, no_state, "forward:no_recurrence"),
                    (tanh_message, no_tanh, "forward:no_tanh"),
                    (row_message, row_W, "forward:W_transposed")]
    y_candidates = [
        (N_("your y_hat is normalized over time instead of over the classes: each row "
            "y_hat[t] is a distribution over the K classes and sums to 1; apply softmax to the "
            "(T, K) scores s @ V.T."), _softmax_over_time(s @ Vf.T), "forward:softmax_axis"),
        (N_("your y_hat is the scores V s_t without the softmax: y_hat[t] = softmax(V s_t)."),
         s @ Vf.T, "forward:no_softmax"),
        (state_message, ref.softmax(no_state @ Vf.T), "forward:no_recurrence"),
        (tanh_message, ref.softmax(no_tanh @ Vf.T), "forward:no_tanh"),
        (row_message, ref.softmax(row_W @ Vf.T), "forward:W_transposed"),
    ]
    case = call_case("rnn_forward", (x, U, W, V), ("x", "U", "W", "V"),
                     [("s", (0,), s, {"time_axis": 0,
                                      "hypotheses": _hypotheses(s, s_candidates)}),
                      ("y_hat", (1,), y_hat, {"time_axis": 0,
                                              "hypotheses": _hypotheses(y_hat, y_candidates)})],
                     signature="(s, y_hat)", dims={"T": T, "D": D, "H": H, "K": K})
    case.no_fp_warnings = large
    return case


# ---- rnn_loss -------------------------------------------------------------------------------

def rnn_loss_case(rng, T=6, K=5, dtype="float64"):
    """rnn_loss(y_hat, y) on random distributions over the K classes: positive weights
    divided by their sum per step, exact arithmetic, so the inputs are the same bits on every
    CPU (a softmax's exp is not: numpy's SIMD kernels differ in the last bits)."""
    y = rng.integers(0, K, T)
    weights = rng.uniform(0.05, 1.0, (T, K))
    y_hat = weights / np.sum(weights, axis=1, keepdims=True)
    if dtype == "float32":
        y_hat = y_hat.astype(np.float32)
    loss = ref.rnn_loss(y_hat, y)
    yh = _f64(y_hat)
    candidates = [
        (N_("your loss picks y_hat[:, y], a T×T block of probabilities: pick one entry per "
            "row, y_hat[np.arange(T), y], the probability of the correct class at each step."),
         -np.sum(np.log(yh[:, y])), "loss:block"),
        (N_("your loss sums −log over every class: only the probability of the correct class "
            "counts, E_t = −log y_hat[t, y[t]]."), -np.sum(np.log(yh)), "loss:all_classes"),
    ]
    return call_case("rnn_loss", (y_hat, y), ("y_hat", "y"),
                     [("loss", (), loss, {"hypotheses": _hypotheses(loss, candidates)})],
                     signature=N_("the loss, a float"), dims={"T": T, "K": K})


# ---- bptt -----------------------------------------------------------------------------------

def bptt_variant(x, y, U, W, V, truncate=None, keep_step=None, keep_term=None, onehot=True,
                 entry="square", back="square", overwrite=None, transpose=True, wrap=False,
                 back_state="previous", input_at="k"):
    """The reference BPTT with one mistake, for hypotheses (trusted).

    keep_step(t): whether the error made at step t is used at all (loop bounds over t);
    keep_term(t, k): whether the error of step t reaches step k (default: the truncation);
    onehot=False forgets to subtract the one-hot target from ŷ_t; onehot="columns" subtracts 1
    in every row at every target class (delta_o[:, y] −= 1);
    entry / back: "linear" uses 1 − s instead of 1 − s² for tanh' where the error enters s_t,
    and at each step back through W;
    overwrite: "steps" keeps only the last step t visited by a loop t = T−1, …, 0 (or
    "steps_up" for t = 0, …, T−1), "terms" only the last single term (t, k) visited;
    transpose=False steps back with W δ instead of Wᵀ δ;
    wrap=True takes s[k − 1] for s_{k−1} also at k = 0, where numpy wraps around to s[T − 1];
    back_state="current" steps back with 1 − s_k² instead of 1 − s_{k−1}²;
    input_at="t" adds δ x_tᵀ to dU for every term k (instead of δ x_kᵀ).
    Returns (dU, dW, dV).
    """
    x, U, W, V = (_f64(a) for a in (x, U, W, V))
    y = np.asarray(y, dtype=np.intp)
    T = x.shape[0]
    s, y_hat = ref.rnn_forward(x, U, W, V)
    s_prev = np.vstack([np.zeros((1, W.shape[0])), s[:-1]])
    if wrap:
        s_prev[0] = s[-1]
    back_W = W.T if transpose else W
    delta_o = y_hat.copy()
    if onehot == "columns":
        delta_o[:, y] -= 1.0
    elif onehot:
        delta_o[np.arange(T), y] -= 1.0
    tanh_grad = {"square": lambda a: 1.0 - a ** 2, "linear": lambda a: 1.0 - a}
    if keep_term is None:
        def keep_term(t, k):
            return truncate is None or k >= t - truncate
    order = range(T) if overwrite == "steps_up" else range(T - 1, -1, -1)
    dU, dW, dV = np.zeros_like(U), np.zeros_like(W), np.zeros_like(V)
    for t in order:
        if keep_step is not None and not keep_step(t):
            continue
        step_dU, step_dW = np.zeros_like(U), np.zeros_like(W)
        delta = (V.T @ delta_o[t]) * tanh_grad[entry](s[t])
        for k in range(t, -1, -1):
            if not keep_term(t, k):
                break
            term_dU = np.outer(delta, x[t if input_at == "t" else k])
            term_dW = np.outer(delta, s_prev[k])
            if overwrite == "terms":
                step_dU, step_dW = term_dU, term_dW
            else:
                step_dU, step_dW = step_dU + term_dU, step_dW + term_dW
            state = s[k] if back_state == "current" else s_prev[k]
            delta = (back_W @ delta) * tanh_grad[back](state)
        if overwrite in ("steps", "steps_up", "terms"):
            dU, dW, dV = step_dU, step_dW, np.outer(delta_o[t], s[t])
        else:
            dU, dW, dV = dU + step_dU, dW + step_dW, dV + np.outer(delta_o[t], s[t])
    return dU, dW, dV


def bptt_candidates(x, y, U, W, V, truncate=None) -> list:
    """[(message, (dU, dW, dV), code)]: the classic bptt mistakes, most telling first. The
    messages name the mistake, not an output, so one message covers every output it spoils (a
    message with values is a (template, values) pair)."""
    T = np.shape(x)[0]
    args = (x, y, U, W, V)
    out = []
    if truncate is not None:
        k = {"k": truncate, "steps": truncate + 1}
        out += [
            ((N_("your truncation goes one step too far back: with truncate={k} the error made "
                 "at step t flows back through steps t, t−1, …, max(0, t−{k}) only ({steps} "
                 "steps, both ends included); yours reaches step t−{steps}. Check where your "
                 "loop going back in time stops."), k),
             bptt_variant(*args, truncate=truncate + 1), "trunc:long"),
        ]
        short = (N_("your truncation stops one step too early: with truncate={k} the error made "
                    "at step t flows back through steps t, t−1, …, max(0, t−{k}) only ({steps} "
                    "steps, both ends included); yours stops one step before max(0, t−{k}). "
                    "Check where your loop going back in time stops: range(t, first, −1) never "
                    "reaches first, range(t, first − 1, −1) does."), k)
        # the lower bound itself one too high, or excluded by range (k = 0 included or not)
        out.append((short, bptt_variant(*args, keep_term=lambda t, k: k > max(0, t - truncate)),
                    "trunc:short"))
        if truncate >= 1:
            out.append((short, bptt_variant(*args, truncate=truncate - 1), "trunc:short"))
        out.append(
            ((N_("your bptt ignores truncate (it returns the full-BPTT gradient): with "
                 "truncate={k} the error made at step t flows back through steps t, t−1, …, "
                 "max(0, t−{k}) only ({steps} steps, both ends included)."), k),
             bptt_variant(*args), "trunc:ignored"))
    else:
        out.append(
            (N_("your gradients have only the immediate term of each step (what truncate=0 "
                "gives): with truncate=None the error made at step t must also be carried back "
                "through W to every earlier step k = t−1, …, 0 (δ ← (Wᵀδ) ⊙ (1 − s_{{k−1}}²)), "
                "and each of those steps adds δ s_{{k−1}}ᵀ to dW and δ x_kᵀ to dU."),
             bptt_variant(*args, truncate=0), "bptt:no_recurrence"))
    out += [
        (N_("your bptt uses 1 − s as the derivative of tanh: written with its output "
            "s = tanh(a) it is 1 − s², both where the error enters s_t and at every step back."),
         bptt_variant(*args, truncate=truncate, entry="linear", back="linear"), "bptt:tanh"),
        (N_("your bptt uses 1 − s as the derivative of tanh where the error enters s_t: it is "
            "1 − s² (δ = (Vᵀ(ŷ_t − 1_{{y_t}})) ⊙ (1 − s_t²))."),
         bptt_variant(*args, truncate=truncate, entry="linear"), "bptt:tanh_entry"),
        (N_("your bptt uses 1 − s as the derivative of tanh when stepping back: it is 1 − s² "
            "(δ ← (Wᵀδ) ⊙ (1 − s_{{k−1}}²))."),
         bptt_variant(*args, truncate=truncate, back="linear"), "bptt:tanh_back"),
        (N_("your bptt steps back from step k with 1 − s_k²: going from a_k back to a_{{k−1}} "
            "passes through s_{{k−1}} = tanh(a_{{k−1}}), so the factor is 1 − s_{{k−1}}² "
            "(δ ← (Wᵀδ) ⊙ (1 − s_{{k−1}}²))."),
         bptt_variant(*args, truncate=truncate, back_state="current"), "bptt:back_state"),
        (N_("your bptt steps back through W with W δ: the error goes back through the "
            "transpose, δ ← (Wᵀδ) ⊙ (1 − s_{{k−1}}²) (let the shapes decide: dE/ds_{{k−1}} = "
            "Wᵀ dE/da_k)."), bptt_variant(*args, truncate=truncate, transpose=False),
         "bptt:W_not_transposed"),
        (N_("your s_{{k−1}} at k = 0 is s[−1], which numpy reads as the *last* state s_{{T−1}}: "
            "the state before the first step is s_{{−1}} = 0 (use a zeros vector, or a shifted "
            "copy of s with a row of zeros on top)."),
         bptt_variant(*args, truncate=truncate, wrap=True), "bptt:wrap"),
        (N_("your bptt starts from ŷ_t instead of ŷ_t − 1_{{y_t}}: the gradient of softmax + "
            "cross-entropy with respect to the scores V s_t subtracts the one-hot target, 1 at "
            "the target class (delta_o[t, y[t]] −= 1)."),
         bptt_variant(*args, truncate=truncate, onehot=False), "bptt:no_onehot"),
        (N_("your bptt subtracts 1 at the target classes of every step in every row "
            "(delta_o[:, y] −= 1): subtract the one-hot target of step t from row t only, "
            "delta_o[np.arange(T), y] −= 1."),
         bptt_variant(*args, truncate=truncate, onehot="columns"), "bptt:onehot_columns"),
        (N_("your dU adds δ x_tᵀ for every step k the error goes back through: at step k the "
            "input is x_k, so add δ x_kᵀ (and δ s_{{k−1}}ᵀ to dW)."),
         bptt_variant(*args, truncate=truncate, input_at="t"), "bptt:input_at_t"),
        (N_("your loop over time skips t = 0, so the error made at the first step is missing: "
            "use range(T − 1, −1, −1) or reversed(range(T))."),
         bptt_variant(*args, truncate=truncate, keep_step=lambda t: t >= 1), "loop:skip_first"),
        ((N_("your loop over time skips the last step t = T − 1 = {last}, so the error made "
             "there is missing: use range(T − 1, −1, −1) or reversed(range(T))."),
          {"last": T - 1}),
         bptt_variant(*args, truncate=truncate, keep_step=lambda t: t <= T - 2),
         "loop:skip_last"),
    ]
    if truncate is None:
        out.append(
            (N_("your loop going back in time stops before step k = 0: it must include k = 0 "
                "(where s_{{−1}} = 0, so dW gets nothing but dU still gets δ x_0ᵀ)."),
             bptt_variant(*args, keep_term=lambda t, k: k >= 1), "loop:skip_k0"))
    overwrite = N_("your gradients keep the contribution of only one step: U, W and V are "
                   "shared by every step, so add each step's contribution (dW += …) instead of "
                   "assigning it (dW = …).")
    for mode in ("steps", "steps_up", "terms"):
        # (the last term visited going back to k = 0 gives dW = δ s_{−1}ᵀ = 0: still this slip)
        out.append((overwrite, bptt_variant(*args, truncate=truncate, overwrite=mode),
                    "bptt:overwrite", mode == "terms"))
    return out


def _bptt_expects(call, x, y, U, W, V, truncate, hypotheses=True) -> list:
    grads = ref.bptt(x, y, U, W, V, truncate=truncate)
    candidates = bptt_candidates(x, y, U, W, V, truncate) if hypotheses else []
    return [Expect(label, call, part, _f64(grads[part]),
                   hypotheses=_hypotheses(grads[part], [
                       (message, value[part], *rest)
                       for message, value, *rest in candidates]))
            for part, label in enumerate(LABELS)]


def _bptt_call(x, y, U, W, V, truncate):
    return Call("bptt", (x, y, U, W, V), kwargs={"truncate": truncate},
                returns=((0,), (1,), (2,)), signature=SIGNATURE, check_inputs=True,
                arg_names=ARGS)


def bptt_case(rng, T=6, D=4, H=3, K=5, truncate=None, dtype="float64", large=False,
              probes=False):
    """bptt(x, y, U, W, V, truncate) against the reference, with the classic mistakes as
    hypotheses. probes=True also runs your bptt on every prefix x[:k+1] of the sequence, so
    an unexplained mismatch can say at which step it first appears."""
    x, y, U, W, V = _data(rng, T, D, H, K, dtype, large=large)
    calls = [_bptt_call(x, y, U, W, V, truncate)]
    expects = _bptt_expects(0, x, y, U, W, V, truncate)
    if probes:
        for k in range(T):
            index = 0
            if k < T - 1:
                calls.append(_bptt_call(x[:k + 1], y[:k + 1], U, W, V, truncate))
                index = len(calls) - 1
            for expect in _bptt_expects(index, x[:k + 1], y[:k + 1], U, W, V, truncate,
                                        hypotheses=False):
                expect.probe, expect.step = True, k
                expects.append(expect)
    case = Case(name="", function="bptt", calls=calls, expects=expects,
                dims={"T": T, "D": D, "H": H, "K": K})
    case.no_fp_warnings = large
    return case


def bptt_gradient_check_case(rng, T=6, D=4, H=3, K=5, directions=2, step=STEP):
    """Your full-BPTT gradient against central differences of your own forward and loss,
    L(U, W, V) = rnn_loss(rnn_forward(x, U, W, V)[1], y), along a few random directions of
    each parameter (the cost does not grow with the number of parameters)."""
    x, y, U, W, V = _data(rng, T, D, H, K)
    calls = [_bptt_call(x, y, U, W, V, None)]

    def objective(position):
        def chain(value, first):
            params = [U, W, V]
            params[position] = value
            return [Call("rnn_forward", (x, *params), returns=(), check_inputs=True,
                         arg_names=("x", "U", "W", "V"), signature="(s, y_hat)"),
                    Call("rnn_loss", (Ref(first, (1,)), y), returns=((),),
                         check_inputs=True, arg_names=("y_hat", "y"),
                         signature=N_("the loss, a float"))]
        return chain

    checks = []
    for position, (label, base) in enumerate(zip(LABELS, (U, W, V))):
        dirs = random_directions(rng, base.shape, directions)
        plus, minus = perturbed_calls(calls, objective(position), base, dirs, step)
        checks.append(GradCheck(label, 0, position, dirs, plus, minus, step))
    base = len(calls)
    calls.extend(objective(0)(U, base))  # your loss at the point checked
    loss = Expect("rnn_loss(rnn_forward(...))", base + 1, 0,
                  np.asarray(ref.rnn_loss(ref.rnn_forward(x, U, W, V)[1], y)), required=True)
    return Case(name="", function="bptt", calls=calls, expects=[loss], gradchecks=checks,
                dims={"T": T, "D": D, "H": H, "K": K})
