"""Realistic mistakes in the two-layer net, written by hand from the handout (issue 20), and
correct solutions written differently: the assignment has no cases.py and no mutants.py, so
these check that what the grader derives from its spec alone catches every mistake, names at
least 90% of them (a failing verdict of the mistaken function says what is wrong, not only
that or where a value is off), and gives every correct variant full marks without naming a
mistake. The catalogue was written before the spec's defaults were tuned.
"""
import pytest

from tests.fresh_mistakes import Mistake, Solution, edit, outcome
from tests.grading import assignment, grade_source, messages

NAME = "two_layer"

#: a correct student solution, in a style of its own (not the reference's)
BASE = '''import numpy as np

def affine_forward(x, w, b):
    out = x.dot(w) + b
    return out, (x, w, b)

def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout.dot(w.T)
    dw = x.T.dot(dout)
    db = dout.sum(axis=0)
    return dx, dw, db

def relu_forward(x):
    out = x * (x > 0)
    return out, x

def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx

def softmax_loss(scores, y):
    N = scores.shape[0]
    z = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(z)
    probs = exp / exp.sum(axis=1, keepdims=True)
    loss = -np.log(probs[np.arange(N), y]).sum() / N
    dscores = probs.copy()
    dscores[np.arange(N), y] -= 1
    dscores /= N
    return loss, dscores

def two_layer_loss(X, y, params, reg):
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    h, cache1 = affine_forward(X, W1, b1)
    a, cache_relu = relu_forward(h)
    scores, cache2 = affine_forward(a, W2, b2)
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    grads = {}
    da, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
    dh = relu_backward(da, cache_relu)
    _, grads["W1"], grads["b1"] = affine_backward(dh, cache1)
    grads["W2"] += reg * W2
    grads["W1"] += reg * W1
    return loss, grads
'''

#: the same functions written another way: einsum, np.where, log-sum-exp, no helpers
COMPACT = '''import numpy as np

def affine_forward(x, w, b):
    return np.einsum("nd,dh->nh", x, w) + b[None, :], {"x": x, "w": w}

def affine_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    return np.einsum("nh,dh->nd", dout, w), np.einsum("nd,nh->dh", x, dout), np.einsum("nh->h", dout)

def relu_forward(x):
    return np.where(x > 0, x, 0.0), x > 0

def relu_backward(dout, cache):
    return np.where(cache, dout, 0.0)

def softmax_loss(scores, y):
    scores = np.asarray(scores, dtype=float)
    n = len(scores)
    top = scores.max(axis=1, keepdims=True)
    log_z = np.log(np.exp(scores - top).sum(axis=1)) + top[:, 0]
    loss = np.mean(log_z - scores[np.arange(n), y])
    onehot = np.zeros_like(scores)
    onehot[np.arange(n), y] = 1.0
    return loss, (np.exp(scores - log_z[:, None]) - onehot) / n

def two_layer_loss(X, y, params, reg):
    h = X @ params["W1"] + params["b1"]
    a = np.maximum(h, 0)
    loss, ds = softmax_loss(a @ params["W2"] + params["b2"], y)
    loss = loss + reg / 2 * sum(np.sum(params[k] * params[k]) for k in ("W1", "W2"))
    dh = (ds @ params["W2"].T) * (h > 0)
    return loss, {"W1": X.T @ dh + reg * params["W1"], "b1": dh.sum(0),
                  "W2": a.T @ ds + reg * params["W2"], "b2": ds.sum(0)}
'''

#: loops and float conversions, as a student who distrusts broadcasting writes it
LOOPS = '''import numpy as np

def affine_forward(x, w, b):
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros((x.shape[0], w.shape[1]))
    for n in range(x.shape[0]):
        out[n] = x[n] @ w + b
    cache = (x, w, b)
    return out, cache

def affine_backward(dout, cache):
    x, w, b = cache
    db = np.zeros(w.shape[1])
    for n in range(dout.shape[0]):
        db = db + dout[n]
    return np.matmul(dout, np.transpose(w)), np.matmul(np.transpose(x), dout), db

def relu_forward(x):
    cache = np.array(x, dtype=np.float64)
    return np.maximum(cache, 0.0), cache

def relu_backward(dout, cache):
    mask = (cache > 0).astype(np.float64)
    return mask * dout

def softmax_loss(scores, y):
    N, C = scores.shape
    loss = 0.0
    dscores = np.zeros((N, C))
    for n in range(N):
        row = scores[n] - np.max(scores[n])
        p = np.exp(row) / np.sum(np.exp(row))
        loss += -row[y[n]] + np.log(np.sum(np.exp(row)))
        p[y[n]] -= 1.0
        dscores[n] = p
    return loss / N, dscores / N

def two_layer_loss(X, y, params, reg):
    hidden, c1 = affine_forward(X, params["W1"], params["b1"])
    act, c2 = relu_forward(hidden)
    scores, c3 = affine_forward(act, params["W2"], params["b2"])
    data_loss, dscores = softmax_loss(scores, y)
    reg_loss = 0.0
    for key in ("W1", "W2"):
        reg_loss += 0.5 * reg * np.sum(params[key] * params[key])
    dact, dW2, db2 = affine_backward(dscores, c3)
    dW1_, db1 = affine_backward(relu_backward(dact, c2), c1)[1:]
    grads = {"W1": dW1_ + reg * params["W1"], "b1": db1, "W2": dW2 + reg * params["W2"],
             "b2": db2}
    return data_loss + reg_loss, grads
'''

CORRECT = [Solution("base", BASE), Solution("compact", COMPACT), Solution("loops", LOOPS)]


def _slip(id, function, description, old, new, base=BASE):
    return Mistake(id, edit(base, old, new), function, description)


MISTAKES = [
    _slip("affine_no_bias", "affine_forward", "the bias is never added: out = x·w",
          "out = x.dot(w) + b", "out = x.dot(w)"),
    _slip("affine_dx_no_transpose", "affine_backward", "dx = dout·w, the transpose of w missing",
          "dx = dout.dot(w.T)", "dx = dout.dot(w)"),
    _slip("affine_dw_transposed", "affine_backward", "dw = doutᵀ·x, the transpose of the right dw",
          "dw = x.T.dot(dout)", "dw = dout.T.dot(x)"),
    _slip("affine_db_wrong_axis", "affine_backward", "db summed over the wrong axis (axis=1)",
          "db = dout.sum(axis=0)", "db = dout.sum(axis=1)"),
    _slip("affine_db_mean", "affine_backward", "db averaged over the batch instead of summed",
          "db = dout.sum(axis=0)", "db = dout.mean(axis=0)"),
    _slip("affine_returns_out_of_order", "affine_backward", "returns (dw, dx, db)",
          "return dx, dw, db", "return dw, dx, db"),
    _slip("relu_mask_from_dout", "relu_backward", "the ReLU mask taken from the upstream "
          "gradient (dout > 0) instead of the layer's input", "dx[x <= 0] = 0", "dx[dout <= 0] = 0"),
    _slip("relu_times_input", "relu_backward", "multiplies dout by the input instead of by the "
          "mask [x > 0]", "    dx = dout.copy()\n    dx[x <= 0] = 0\n",
          "    dx = dout * np.maximum(x, 0)\n"),
    _slip("relu_backward_in_place", "relu_backward", "zeroes dout in place (dx = dout, no copy)",
          "dx = dout.copy()", "dx = dout"),
    _slip("relu_forward_in_place", "relu_forward", "clamps x in place: x[x < 0] = 0",
          "    out = x * (x > 0)\n    return out, x",
          "    x[x < 0] = 0\n    return x, x"),
    _slip("softmax_summed", "softmax_loss", "loss and gradient summed over the batch (no 1/N)",
          "    loss = -np.log(probs[np.arange(N), y]).sum() / N\n",
          "    loss = -np.log(probs[np.arange(N), y]).sum()\n"),
    _slip("softmax_dscores_not_averaged", "softmax_loss", "the 1/N forgotten in dscores only",
          "    dscores /= N\n", ""),
    _slip("softmax_label_not_subtracted", "softmax_loss", "dscores is p/N: the 1 at the label "
          "is never subtracted", "    dscores[np.arange(N), y] -= 1\n", ""),
    _slip("softmax_label_column", "softmax_loss", "subtracts 1 in the label's column for every "
          "row: dscores[:, y] -= 1", "dscores[np.arange(N), y] -= 1", "dscores[:, y] -= 1"),
    _slip("softmax_not_shifted", "softmax_loss", "exp of the raw scores (no max shift): "
          "overflows on large scores", "z = scores - scores.max(axis=1, keepdims=True)", "z = scores"),
    _slip("softmax_shift_per_column", "softmax_loss", "shifts by the maximum of each column "
          "(axis=0), which changes the probabilities", "scores.max(axis=1, keepdims=True)",
          "scores.max(axis=0, keepdims=True)"),
    _slip("softmax_loss_sign", "softmax_loss", "the loss without its minus sign",
          "loss = -np.log(", "loss = np.log("),
    _slip("reg_grad_twice", "two_layer_loss", "the regularisation gradient 2·reg·W: the 0.5 of "
          "the convention forgotten in the gradient only", "    grads[\"W2\"] += reg * W2\n"
          "    grads[\"W1\"] += reg * W1\n", "    grads[\"W2\"] += 2 * reg * W2\n"
          "    grads[\"W1\"] += 2 * reg * W1\n"),
    _slip("reg_loss_no_half", "two_layer_loss", "the loss's regularisation term without the 0.5",
          "loss += 0.5 * reg * (", "loss += reg * ("),
    _slip("reg_grad_missing", "two_layer_loss", "the regularisation left out of the gradients",
          "    grads[\"W2\"] += reg * W2\n    grads[\"W1\"] += reg * W1\n", ""),
    _slip("reg_loss_W1_only", "two_layer_loss", "only W1 regularised in the loss",
          "(np.sum(W1 ** 2) + np.sum(W2 ** 2))", "np.sum(W1 ** 2)"),
    _slip("relu_skipped_in_backward", "two_layer_loss", "the backward pass skips the ReLU: "
          "dh = da", "dh = relu_backward(da, cache_relu)", "dh = da"),
    _slip("backward_uses_scores_cache", "two_layer_loss", "backpropagates into the first layer "
          "with the second layer's cache", "affine_backward(dh, cache1)",
          "affine_backward(dh, cache2)"),
    _slip("reg_on_biases_too", "two_layer_loss", "regularises the biases as well",
          "    grads[\"W1\"] += reg * W1\n",
          "    grads[\"W1\"] += reg * W1\n    grads[\"b1\"] += reg * b1\n"
          "    grads[\"b2\"] += reg * b2\n"),
]


def test_the_catalogue_is_big_enough_and_every_slip_is_one_edit():
    assert len(MISTAKES) >= 15 and len(CORRECT) >= 3
    assert {m.function for m in MISTAKES} == set(assignment(NAME).functions)
    assert len({m.id for m in MISTAKES}) == len(MISTAKES)


@pytest.mark.parametrize("solution", CORRECT, ids=[s.id for s in CORRECT])
def test_a_correct_variant_gets_full_marks_and_no_mistake_named(solution):
    graded = grade_source(NAME, solution.source)
    assert graded.error is None
    assert graded.score == assignment(NAME).max_score, messages(graded)
    assert not [c for v in graded.verdicts for c in v.codes if c.startswith("mutant:")]


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_every_mistake_loses_points_in_its_function(mistake):
    found = outcome(NAME, mistake)
    assert found.caught, f"{mistake.description}: full marks in `{mistake.function}`"
    assert found.first_message


def test_at_least_90_percent_of_the_mistakes_are_named():
    outcomes = [outcome(NAME, m) for m in MISTAKES]
    unnamed = [(o.mistake.id, o.codes, o.first_message[:120]) for o in outcomes if not o.named]
    assert sum(o.named for o in outcomes) >= 0.9 * len(outcomes), unnamed
