# Template of the student notebook for the "two_layer" assignment (see grader/authoring/notebooks.py).
# Regenerate the notebook, samples and public cases with `grader build two_layer` after editing.

# %% [markdown]
# # A two-layer fully connected network
#
# **How to work.** Fill in every cell marked `# YOUR CODE HERE` (delete the
# `raise NotImplementedError` line), run it, then run the self-check cell right below it.
# `grader.check("f")` runs the public test cases of `f` in a separate process and explains every
# mismatch it finds (wrong shape, a gradient off by a factor N, a missing transpose, ...). Only
# the functions in the TODO cells are graded; keep their names and signatures. Add as many cells
# of your own as you like.
#
# Use NumPy only. Your functions are called with batches of several sizes, with `float32` and
# integer inputs and with large values: take every size from the arrays you are given.
#
# **If `import grader` fails** (in Google Colab, or any new environment), run
# `%pip install backprop-grader` in a cell of its own, then run the import cell again. Not
# `pip install grader`: that is an unrelated package of the same name.

# %%
import numpy as np
import grader

# %% [markdown]
# ## The network
#
# For a batch of $N$ inputs $X \in \mathbb{R}^{N\times D}$ with labels $y_n \in \{0, \dots,
# C-1\}$, the network computes
#
# $$h = X W_1 + b_1, \qquad a = \max(0, h), \qquad s = a W_2 + b_2 \in \mathbb{R}^{N\times C},$$
#
# with $W_1: (D, H)$, $b_1: (H,)$, $W_2: (H, C)$, $b_2: (C,)$, and is trained on the softmax
# loss, the **mean** over the batch of $-\log p_{n, y_n}$ with $p_n = \mathrm{softmax}(s_n)$,
# plus an L2 penalty on the weights.
#
# Every layer is a pair: `*_forward(...)` returns `(out, cache)`, where the cache is whatever
# your backward will need (a tuple of your choice: the grader hands it back to your own
# backward), and `*_backward(dout, cache)` receives the **upstream gradient** `dout`
# $= \partial L/\partial\,out$ and returns the gradient of each input. A gradient always has the
# shape of what it is the gradient of.

# %% [markdown]
# ## 1. The affine layer
#
# $out = x\,w + b$ with $x: (N, D)$, $w: (D, H)$, $b: (H,)$; the bias is added to every row.
# Backward: $dx = dout\,w^\top$, $dw = x^\top dout$, and since $b$ is added to each of the $N$
# rows, $db = \sum_n dout_n$, a **sum over the batch** (axis 0). Let the shapes decide where the
# transposes go.

# %% [todo] affine_forward
# %% [check] affine_forward
# %% [todo] affine_backward
# %% [check] affine_backward

# %% [markdown]
# ## 2. ReLU
#
# $out = \max(0, x)$ element-wise. Its local gradient is $1$ where the **input** was positive and
# $0$ elsewhere, so $dx = dout \cdot [x > 0]$. Do not change `dout` or the cache in place: build
# a new array.

# %% [todo] relu_forward
# %% [check] relu_forward
# %% [todo] relu_backward
# %% [check] relu_backward

# %% [markdown]
# ## 3. The softmax loss
#
# $$L = -\frac{1}{N}\sum_{n} \log p_{n, y_n}, \qquad p_{n,c} = \frac{e^{s_{n,c}}}{\sum_k e^{s_{n,k}}}.$$
#
# $e^{s}$ overflows for scores above ~709: subtract each row's maximum first (the probabilities do
# not change). The gradient is
#
# $$\frac{\partial L}{\partial s_{n,c}} = \frac{1}{N}\bigl(p_{n,c} - [c = y_n]\bigr):$$
#
# the probabilities, minus 1 at the correct class of each row, divided by $N$ because the loss is
# a mean. `softmax_loss(scores, y)` returns `(loss, dscores)`.

# %% [todo] softmax_loss
# %% [check] softmax_loss

# %% [markdown]
# ## 4. The whole network
#
# `two_layer_loss(X, y, params, reg)` runs the forward pass with your layers, the softmax loss,
# and the backward pass in reverse order. `params` is a dict with keys `"W1"`, `"b1"`, `"W2"`,
# `"b2"`; return `(loss, grads)` where `grads` is a dict with the same keys and shapes.
#
# **Regularisation, the 0.5 convention.** The loss is
#
# $$L = L_{\text{softmax}} + \tfrac{1}{2}\,\mathrm{reg}\,\Bigl(\sum W_1^2 + \sum W_2^2\Bigr),$$
#
# with the $\frac12$ so that the penalty's gradient is simply $\mathrm{reg}\cdot W$: add
# $\mathrm{reg}\cdot W_1$ to `grads["W1"]` and $\mathrm{reg}\cdot W_2$ to `grads["W2"]`. The
# biases are not regularised.

# %% [todo] two_layer_loss
# %% [check] two_layer_loss

# %% [markdown]
# ## Optional: train it
#
# Not graded. A few hundred steps of gradient descent on a toy problem (three clusters in the
# plane) should bring the training accuracy close to 1.

# %%
rng = np.random.default_rng(231)
centres = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
labels = rng.integers(0, 3, 300)
points = centres[labels] + 0.5 * rng.standard_normal((300, 2))
net = {"W1": 0.1 * rng.standard_normal((2, 20)), "b1": np.zeros(20),
       "W2": 0.1 * rng.standard_normal((20, 3)), "b2": np.zeros(3)}
for step in range(300):
    loss, grads = two_layer_loss(points, labels, net, reg=1e-3)
    for key in net:
        net[key] -= 0.5 * grads[key]
scores = np.maximum(0, points @ net["W1"] + net["b1"]) @ net["W2"] + net["b2"]
print(f"loss {loss:.3f}, training accuracy {np.mean(scores.argmax(axis=1) == labels):.2f}")
