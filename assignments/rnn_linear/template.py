# Template of the student notebook for the "rnn_linear" assignment (see grader/authoring/notebooks.py).
# Regenerate the notebook and samples with `grader build rnn_linear` after editing.

# %% [markdown]
# # Backpropagation through time in a linear RNN
#
# **How to work.** Fill in every cell marked `# YOUR CODE HERE` (delete the
# `raise NotImplementedError` line), run it, then run the self-check cell right below it.
# `grader.check("f")` runs the public test cases of `f` in a separate process and explains every
# mismatch it finds (wrong shape, a gradient off by a constant factor, a flipped sign, ...).
# Only the functions in the TODO cells are graded; keep their names and signatures. Add as many
# cells of your own as you like.
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
# The smallest recurrent network there is: one number of state per sequence and two weights,
# shared by every time step. For a batch of $N$ sequences $X \in \mathbb{R}^{N\times n}$
# (row $i$ is one sequence $X_{i,1}, \dots, X_{i,n}$):
#
# $$S_0 = 0, \qquad S_k = S_{k-1}\,w_{rec} + X_k\,w_x \quad (k = 1, \dots, n), \qquad y = S_n.$$
#
# Everything is per sample (row); in code the states of the whole batch live in one array `S` of
# shape $(N, n+1)$ with `S[:, 0]` $= S_0 = 0$ and `S[:, k]` $= S_k$. Note the shift by one
# between the two arrays: **$X_k$ is `X[:, k-1]`** while $S_k$ is `S[:, k]`.
#
# The loss is the **mean** over the batch of the squared error:
#
# $$\xi = \frac{1}{N}\sum_{i=1}^{N} \xi_i, \qquad \xi_i = (t_i - y_i)^2.$$
#
# The forward pass and the loss are given:

# %% [provided] update_state forward_states loss

# %% [markdown]
# The data: the network should learn to **count**. Each input is a sequence of 0s and 1s and its
# target is the number of 1s, which the model reproduces exactly with $w_x = w_{rec} = 1$.

# %%
n_samples = 20   # sequences in the data set
seq_len = 10     # time steps per sequence
rng = np.random.default_rng(seed=2021)
X = rng.integers(0, 2, size=(n_samples, seq_len)).astype(np.float64)
t = X.sum(axis=1)   # the targets: how many ones each sequence holds
print(X[:3])
print(t[:3])

# %% [markdown]
# ## 1. The gradient at the output
#
# For one sample, $\dfrac{\partial \xi_i}{\partial y_i} = \dfrac{\partial (t_i - y_i)^2}{\partial y_i}
# = 2\,(y_i - t_i)$. Mind the sign: the derivative of $(t - y)^2$ with respect to $y$ is
# $-2(t - y) = 2(y - t)$.
#
# `output_gradient(y, t)` returns this **per-sample** value, an array of shape $(N,)$, *without*
# the $\frac{1}{N}$ of the mean. The mean is applied exactly once, later, in
# `backward_gradient`.

# %% [todo] output_gradient
# %% [check] output_gradient

# %% [markdown]
# ## 2. Backpropagation through time
#
# ### Back through the states
#
# $S_k$ reaches the loss only through $S_{k+1} = S_k\,w_{rec} + X_{k+1}\,w_x$, so
#
# $$\frac{\partial \xi_i}{\partial S_{k-1}} = \frac{\partial \xi_i}{\partial S_k}\,
#   \frac{\partial S_k}{\partial S_{k-1}} = \frac{\partial \xi_i}{\partial S_k}\,w_{rec},
#   \qquad \frac{\partial \xi_i}{\partial S_n} = \frac{\partial \xi_i}{\partial y_i}.$$
#
# Starting from the output gradient and multiplying by $w_{rec}$ once per step gives the
# gradient of the error with respect to every state, $\frac{\partial \xi_i}{\partial S_k} =
# \frac{\partial \xi_i}{\partial y_i}\,w_{rec}^{\,n-k}$. These go into `grad_over_time`, shape
# $(N, n+1)$, with `grad_over_time[:, k]` $= \partial\xi_i/\partial S_k$ (per sample, no
# $\frac1N$) and `grad_over_time[:, -1]` $=$ `grad_out`.
#
# ### Back to the shared weights
#
# Both weights are used at **every** step, so $S_n$ depends on $w_x$ directly (through the last
# step) and again through $S_{n-1}$, which depends on $w_x$ directly and through $S_{n-2}$, and
# so on. Unrolling the chain rule:
#
# $$\frac{\partial \xi_i}{\partial w_x}
#   = \frac{\partial \xi_i}{\partial S_n}\frac{\partial S_n}{\partial w_x}
#   + \frac{\partial \xi_i}{\partial S_n}\frac{\partial S_n}{\partial S_{n-1}}
#     \frac{\partial S_{n-1}}{\partial w_x} + \cdots
#   = \sum_{k=1}^{n} \frac{\partial \xi_i}{\partial S_k}\,X_k ,$$
#
# where $\frac{\partial S_k}{\partial w_x} = X_k$ is the *direct* (local) derivative of step
# $k$. In the same way, with the local derivative $\frac{\partial S_k}{\partial w_{rec}} = S_{k-1}$,
#
# $$\frac{\partial \xi_i}{\partial w_{rec}} = \sum_{k=1}^{n} \frac{\partial \xi_i}{\partial S_k}\,S_{k-1}.$$
#
# ### The mean over samples, once
#
# The loss is the mean of the $\xi_i$, so its gradient is the mean of theirs:
#
# $$\frac{\partial \xi}{\partial w_x} = \frac{1}{N}\sum_{i=1}^{N}\sum_{k=1}^{n}
#   \frac{\partial \xi_i}{\partial S_k}\,X_{i,k}, \qquad
#   \frac{\partial \xi}{\partial w_{rec}} = \frac{1}{N}\sum_{i=1}^{N}\sum_{k=1}^{n}
#   \frac{\partial \xi_i}{\partial S_k}\,S_{i,k-1}.$$
#
# `backward_gradient(X, S, grad_out, wRec)` returns `((wx_grad, wRec_grad), grad_over_time)`,
# where the two weight gradients are exactly the gradient of `loss`. Rules:
#
# * apply the $\frac{1}{N}$ **exactly once**, here (`grad_out` does not contain it);
# * take $N$ from the data you are given, `N = X.shape[0]`. **Do not read the notebook's
#   global `n_samples`**: your function is graded on batches of other sizes, and a function
#   that depends on a notebook global is wrong as soon as it is called with anything else;
# * `grad_over_time` holds per-sample values, without the $\frac{1}{N}$.

# %% [todo] backward_gradient
# %% [check] backward_gradient

# %% [markdown]
# ## Optional: check, then train
#
# Not graded. The first lines compare your gradient with a centered finite difference of `loss`;
# the loop then runs 500 steps of gradient descent. Both weights should approach 1.
# (With $|w_{rec}| > 1$ the gradients grow like $w_{rec}^{\,n}$, the *exploding gradient*
# problem, so the step size is small and the weights start below 1.)

# %%
def total_gradient(X, t, wx, wRec):
    S = forward_states(X, wx, wRec)
    return backward_gradient(X, S, output_gradient(S[:, -1], t), wRec)[0]


h = 1e-6
wx, wRec = 0.5, 0.5
numeric = (
    (loss(forward_states(X, wx + h, wRec)[:, -1], t)
     - loss(forward_states(X, wx - h, wRec)[:, -1], t)) / (2 * h),
    (loss(forward_states(X, wx, wRec + h)[:, -1], t)
     - loss(forward_states(X, wx, wRec - h)[:, -1], t)) / (2 * h),
)
print("backprop:", [float(g) for g in total_gradient(X, t, wx, wRec)])
print("numeric: ", [float(g) for g in numeric])

learning_rate = 0.0015
for step in range(500):
    gx, gr = total_gradient(X, t, wx, wRec)
    wx, wRec = wx - learning_rate * gx, wRec - learning_rate * gr
print(f"wx = {wx:.4f}, wRec = {wRec:.4f}, loss = {loss(forward_states(X, wx, wRec)[:, -1], t):.6f}")
