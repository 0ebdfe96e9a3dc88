# Template of the student notebook for the "rnn_bptt" assignment (see grader/authoring/notebooks.py).
# Regenerate the notebook and samples with `grader build rnn_bptt` after editing.

# %% [markdown]
# # Backpropagation through time in a tanh RNN
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
# ## The model
#
# A vanilla RNN reads one sequence $x_0, \dots, x_{T-1}$ (each $x_t \in \mathbb{R}^D$) and
# predicts a class $y_t \in \{0, \dots, K-1\}$ at every step:
#
# $$s_t = \tanh(U x_t + W s_{t-1}), \qquad s_{-1} = 0, \qquad
#   \hat y_t = \operatorname{softmax}(V s_t).$$
#
# | array | shape | meaning |
# |---|---|---|
# | `x` | $(T, D)$ | the inputs, one row per step |
# | `y` | $(T,)$ | the target classes (integers) |
# | `U` | $(H, D)$ | input to hidden |
# | `W` | $(H, H)$ | hidden to hidden (the recurrence) |
# | `V` | $(K, H)$ | hidden to output |
# | `s` | $(T, H)$ | the hidden states, row $t$ is $s_t$ |
# | `y_hat` | $(T, K)$ | the predicted distributions, each row sums to 1 |
#
# The same $U$, $W$ and $V$ are used at every step. A numerically safe softmax (it subtracts the
# row maximum before exponentiating, which does not change the result) is given:

# %% [provided] softmax

# %% [markdown]
# ## 1. Forward pass
#
# `rnn_forward(x, U, W, V)` runs the recurrence over the whole sequence and returns `(s, y_hat)`.
# The state must be updated one step at a time (each $s_t$ needs $s_{t-1}$); the outputs can be
# computed step by step or all at once from `s` at the end.

# %% [todo] rnn_forward
# %% [check] rnn_forward

# %% [markdown]
# ## 2. Loss
#
# The cross-entropy of each prediction, **summed over time** (not averaged):
#
# $$E = \sum_{t=0}^{T-1} E_t, \qquad E_t = -\log \hat y_t[y_t],$$
#
# where $\hat y_t[y_t]$ is the probability the model gives to the correct class at step $t$.
# `rnn_loss(y_hat, y)` returns a Python `float`. Fancy indexing picks one entry per row:
# `A[np.arange(T), y]` is the array of `A[t, y[t]]`.

# %% [todo] rnn_loss
# %% [check] rnn_loss

# %% [markdown]
# ## 3. Backpropagation through time
#
# ### At the output
#
# Softmax followed by cross-entropy has a famously simple gradient with respect to the scores
# $o_t = V s_t$:
#
# $$\frac{\partial E_t}{\partial o_t} = \hat y_t - \mathbf{1}_{y_t},$$
#
# the prediction minus the **one-hot** vector of the target. Forgetting to subtract the one-hot
# target is the classic mistake here. From it,
#
# $$\frac{\partial E}{\partial V} = \sum_t (\hat y_t - \mathbf{1}_{y_t})\,s_t^{\top}, \qquad
#   \frac{\partial E_t}{\partial s_t} = V^{\top}(\hat y_t - \mathbf{1}_{y_t}).$$
#
# ### Through the recurrence
#
# $V$ only touches $s_t$, but $W$ (and $U$) shaped *every* state up to $t$. By the chain rule the
# error at step $t$ reaches $W$ through $s_t$, then through $s_{t-1}$, and so on down to $s_0$;
# the contributions of all these paths add up:
#
# $$\frac{\partial E_t}{\partial W} = \sum_{k=0}^{t}
#   \frac{\partial E_t}{\partial s_t}
#   \left(\prod_{j=k+1}^{t} \frac{\partial s_j}{\partial s_{j-1}}\right)
#   \frac{\partial^{+} s_k}{\partial W}.$$
#
# Here $\frac{\partial^{+} s_k}{\partial W}$ is the *immediate* derivative of step $k$, treating
# $s_{k-1}$ as a constant, and each factor of the product is one step back through the
# recurrence. With $a_j = U x_j + W s_{j-1}$ and $\tanh'(a_j) = 1 - \tanh^2(a_j) = 1 - s_j^2$:
#
# $$\frac{\partial s_j}{\partial s_{j-1}} = \operatorname{diag}(1 - s_j^2)\,W.$$
#
# Note the square: the derivative of $\tanh$ written in terms of its output $s$ is $1 - s^2$,
# not $1 - s$. In practice, keep a vector $\delta$ = the gradient of $E_t$ with respect to
# $a_k$ and walk $k = t, t-1, \dots$:
#
# * start: $\delta = \bigl(V^\top(\hat y_t - \mathbf 1_{y_t})\bigr) \odot (1 - s_t^2)$;
# * at step $k$ add $\delta\,s_{k-1}^\top$ to $\partial E/\partial W$ and
#   $\delta\,x_k^\top$ to $\partial E/\partial U$ (with $s_{-1} = 0$);
# * one step further back: $\delta \leftarrow (W^\top \delta) \odot (1 - s_{k-1}^2)$.
#
# Summing over $t$ gives the gradient of $E$. The total is $\mathcal O(T^2)$ work, which is
# fine here.
#
# ### Truncation
#
# Long sequences make full BPTT slow, and the long products vanish or explode anyway, so one
# often **truncates**: with `truncate = k` the error made at step $t$ flows back through steps
# $t, t-1, \dots, \max(0, t - k)$ only, that is at most $k + 1$ steps. `truncate = 0` keeps only
# the immediate term, `truncate = None` means full BPTT. Check your loop bounds on a small
# example: being one step off is easy.
#
# `bptt(x, y, U, W, V, truncate=None)` returns `(dU, dW, dV)`, the gradient of
# `rnn_loss(rnn_forward(x, U, W, V)[1], y)`, each with the shape of its parameter.

# %% [todo] bptt
# %% [check] bptt

# %% [markdown]
# ## Optional: gradient check
#
# Not graded. Compares your full-BPTT gradient with centered finite differences of the loss on
# a small random problem; the printed errors should be around $10^{-8}$ or smaller.

# %%
def loss_of(x, y, U, W, V):
    return rnn_loss(rnn_forward(x, U, W, V)[1], y)


check_rng = np.random.default_rng(0)
T, D, H, K = 5, 3, 4, 6
x_chk = check_rng.normal(size=(T, D))
y_chk = check_rng.integers(0, K, size=T)
params = [check_rng.normal(scale=0.5, size=shape) for shape in [(H, D), (H, H), (K, H)]]
grads = bptt(x_chk, y_chk, *params)
for label, param, grad in zip("UWV", params, grads):
    numeric = np.zeros_like(param)
    for index in np.ndindex(param.shape):
        old = param[index]
        param[index] = old + 1e-6
        plus = loss_of(x_chk, y_chk, *params)
        param[index] = old - 1e-6
        minus = loss_of(x_chk, y_chk, *params)
        param[index] = old
        numeric[index] = (plus - minus) / 2e-6
    print(label, np.max(np.abs(grad - numeric)))
