# Template of the student notebook for the "lstm" assignment (see grader/authoring/notebooks.py).
# Regenerate the notebook and samples with `grader build lstm` after editing.

# %% [markdown]
# # An LSTM layer, forward and backward
#
# **How to work.** Fill in every cell marked `# YOUR CODE HERE` (delete the
# `raise NotImplementedError` line), run it, then run the self-check cell right below it.
# `grader.check("f")` runs the public test cases of `f` in a separate process and explains every
# mismatch it finds. Only the functions in the TODO cells are graded; keep their names and
# signatures. Add as many cells of your own as you like.
#
# **If `import grader` fails** (in Google Colab, or any new environment), run
# `%pip install backprop-grader` in a cell of its own, then run the import cell again. Not
# `pip install grader`: that is an unrelated package of the same name.

# %%
import numpy as np
import grader

# %% [markdown]
# ## The layer
#
# An LSTM carries two vectors from step to step: the hidden state $h_t$ (the short-term memory,
# also the usual output) and the cell state $c_t$ (the long-term memory). Four small layers,
# the *gates*, read the same input: the current input and the previous hidden state,
# concatenated **input first**, $[x_t, h_{t-1}]$. So all four can be computed with **one** matrix
# product, with one fused weight matrix $W \in \mathbb{R}^{(D+H)\times 4H}$ and bias
# $b \in \mathbb{R}^{4H}$:
#
# $$a_t = [x_t, h_{t-1}]\,W + b \;\in \mathbb{R}^{4H}.$$
#
# The four column blocks of $a_t$, **in this order**, are
#
# | columns | gate | nonlinearity |
# |---|---|---|
# | $0 : H$ | forget gate $f$ | $\sigma$ |
# | $H : 2H$ | input gate $i$ | $\sigma$ |
# | $2H : 3H$ | output gate $o$ | $\sigma$ |
# | $3H : 4H$ | block input $g$ | $\tanh$ |
#
# and the state update is
#
# $$c_t = f \odot c_{t-1} + i \odot g, \qquad h_t = o \odot \tanh(c_t), \qquad h_0 = c_0 = 0$$
#
# (here $h_0, c_0$ denote the states *before* the first input). The forget gate decides how much
# of the old cell state to keep, the input gate how much of the new candidate $g$ to write, the
# output gate how much of the squashed cell state to expose. Other texts order the blocks
# differently or put $h_{t-1}$ first; this notebook, and the grader, use the order above.
#
# **Shapes.** A batch of $N$ sequences of length $T$: `X` is $(N, T, D)$, `W` is $(D + H, 4H)$
# (so $H$ is a quarter of its number of columns), `b` is $(4H,)$, and the output is
# $(N, T, H)$.
#
# **What the layer outputs.** By default the output at step $t$ is $h_t$. With
# `use_state=True` the layer outputs the cell state $c_t$ instead (some models feed the long-term
# memory to the next layer); the recurrence itself is unchanged.
#
# A stable sigmoid is given:

# %% [provided] sigmoid

# %% [markdown]
# ## 1. Forward
#
# `lstm_forward(X, W, b, use_state=False)` returns `(out, cache)`. The cache is yours: store
# whatever your backward pass needs for each step (the grader only hands it back to your own
# `lstm_backward`). A loop over time is expected; everything inside it is batched over $N$.

# %% [todo] lstm_forward
# %% [check] lstm_forward

# %% [markdown]
# ## 2. Backward
#
# `lstm_backward(dout, cache)` receives $dout_t = \partial L/\partial\,\mathrm{out}_t$ for every
# step, shape $(N, T, H)$, and returns `(dX, dW, db)` with the shapes of `X`, `W` and `b`. Walk
# the steps from the last to the first and carry **two** gradients backwards, $dh_{next}$ and
# $dc_{next}$ (both zero at the last step): what steps $t+1, t+2, \dots$ send back to $h_t$ and
# $c_t$.
#
# **Where the upstream gradient enters.** Normally the output is $h_t$, so
# $dh = dout_t + dh_{next}$. With `use_state=True` the output is $c_t$: then $dout_t$ is added to
# the gradient of $c_t$ instead, and $dh = dh_{next}$ only.
#
# **The cell state.** $c_t$ receives gradient along two paths, through $h_t = o\odot\tanh(c_t)$
# and directly from the next step's update $c_{t+1} = f_{t+1}\odot c_t + \dots$:
#
# $$dc = dc_{next} + dh \odot o \odot \bigl(1 - \tanh^2(c_t)\bigr),$$
#
# plus $dout_t$ when `use_state=True`.
#
# Dropping $dc_{next}$ cuts the long-term memory's gradient path, which is exactly the path
# that lets an LSTM learn long dependencies; the gradient is then wrong for every step but the
# last.
#
# **Through the update.** From $c_t = f\odot c_{t-1} + i\odot g$ and $h_t = o\odot\tanh(c_t)$:
#
# $$df = dc\odot c_{t-1},\quad di = dc\odot g,\quad dg = dc\odot i,\quad
#   do = dh\odot\tanh(c_t),\quad dc_{next} \leftarrow dc\odot f.$$
#
# **Through the gates.** $\sigma' = \sigma(1-\sigma)$ and $\tanh' = 1 - \tanh^2$, both in terms
# of the gate outputs you kept:
#
# $$da = \bigl[\,df\odot f(1-f),\; di\odot i(1-i),\; do\odot o(1-o),\; dg\odot(1-g^2)\,\bigr]
#   \quad (N, 4H),$$
#
# in the same block order as the forward pass.
#
# **Through the fused product** $a = [x_t, h_{t-1}]W + b$, summing over the batch and over time
# for the shared parameters:
#
# $$dW \mathrel{+}= [x_t, h_{t-1}]^{\top} da, \qquad db \mathrel{+}= \textstyle\sum_n da_n, \qquad
#   d[x_t, h_{t-1}] = da\,W^{\top}.$$
#
# The first $D$ columns of $d[x_t, h_{t-1}]$ are $dX_t$, the last $H$ become $dh_{next}$ for
# step $t - 1$.

# %% [todo] lstm_backward
# %% [check] lstm_backward

# %% [markdown]
# ## Optional: gradient check
#
# Not graded. Compares your `dW` with centered finite differences of
# $L = \sum \mathrm{out} \odot R$ for a fixed random $R$ (so that $dout = R$), for both outputs.

# %%
check_rng = np.random.default_rng(1)
N, T, D, H = 2, 4, 3, 2
X_chk = check_rng.normal(size=(N, T, D))
W_chk = check_rng.normal(scale=0.5, size=(D + H, 4 * H))
b_chk = check_rng.normal(scale=0.5, size=4 * H)
R = check_rng.normal(size=(N, T, H))
for use_state in (False, True):
    out, cache = lstm_forward(X_chk, W_chk, b_chk, use_state)
    dX, dW, db = lstm_backward(R, cache)
    numeric = np.zeros_like(W_chk)
    for index in np.ndindex(W_chk.shape):
        old = W_chk[index]
        W_chk[index] = old + 1e-6
        plus = np.sum(lstm_forward(X_chk, W_chk, b_chk, use_state)[0] * R)
        W_chk[index] = old - 1e-6
        minus = np.sum(lstm_forward(X_chk, W_chk, b_chk, use_state)[0] * R)
        W_chk[index] = old
        numeric[index] = (plus - minus) / 2e-6
    print("use_state =", use_state, "max error in dW:", np.max(np.abs(dW - numeric)))
