# Template of the student notebook for the "gates" assignment (see grader/authoring/notebooks.py).
# Regenerate the notebook and samples with `grader build gates` after editing.

# %% [markdown]
# # Backpropagation, one gate at a time
#
# **How to work.** Fill in every cell marked `# YOUR CODE HERE` (delete the
# `raise NotImplementedError` line), run it, then run the self-check cell right below it.
# `grader.check("f")` runs the public test cases of `f` in a separate process, so a crash or an
# endless loop cannot take your notebook down, and explains every mismatch it finds (wrong
# shape, wrong value, a swapped pair of results, ...). Only the functions in the TODO cells are
# graded; keep their names and signatures. Add as many cells of your own as you like.
#
# Use NumPy only, and work in `float64`.
#
# **If `import grader` fails** (in Google Colab, or any new environment), run
# `%pip install backprop-grader` in a cell of its own, then run the import cell again. Not
# `pip install grader`: that is an unrelated package of the same name.

# %%
import numpy as np
import grader

# %% [markdown]
# ## 1. Gates and local gradients
#
# A computation is a circuit of small *gates*. Every gate knows two things about itself: its
# output, and the **local gradient** of that output with respect to each of its inputs. During
# the backward pass a gate receives the **upstream gradient** $\frac{\partial L}{\partial z}$ of
# its output $z$ and hands each input $a$ the product
#
# $$\frac{\partial L}{\partial a} = \frac{\partial L}{\partial z}\,\frac{\partial z}{\partial a}.$$
#
# That is the whole chain rule. Three gates show up everywhere, each with a recognisable pattern:
#
# | gate | forward | backward (upstream gradient $g$) |
# |---|---|---|
# | add | $z = a + b$ | *distributes*: $\partial a = g$, $\partial b = g$ |
# | multiply | $z = a\,b$ | *swaps*: $\partial a = b\,g$, $\partial b = a\,g$ |
# | max | $z = \max(a, b)$ | *routes*: the larger input gets $g$, the other gets $0$ |
#
# The cell below is a worked example you can run and modify: $L = 2\,\max(a, b) + c$ on
# arrays, with the gradient of each input.

# %%
a = np.array([3.0, -1.0, 0.5])
b = np.array([1.0, 4.0, 0.2])
c = np.array([0.0, 1.0, 2.0])

m = np.maximum(a, b)         # max gate
p = 2.0 * m                  # multiply gate (by the constant 2)
L = np.sum(p + c)            # add gate, then a sum

g_p = np.ones_like(p)        # dL/dp: the sum passes 1 to each element
g_c = np.ones_like(c)        # the add gate distributes the gradient unchanged
g_m = 2.0 * g_p              # the multiply gate scales by the *other* input
a_wins = a >= b              # the max gate routes the gradient to the winner
g_a = np.where(a_wins, g_m, 0.0)
g_b = np.where(a_wins, 0.0, g_m)
print("dL/da =", g_a)        # [2. 0. 2.]
print("dL/db =", g_b)        # [0. 2. 0.]
print("dL/dc =", g_c)        # [1. 1. 1.]

# %% [markdown]
# ## 2. The sigmoid gate
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}$$
#
# Written this way it overflows: for $x = -1000$, $e^{-x} = e^{1000}$ is larger than any
# `float64` and NumPy warns (the result happens to be right, but a grader, or a training run
# with warnings turned into errors, will not accept it). For negative $x$ use the equal form
#
# $$\sigma(x) = \frac{e^{x}}{1 + e^{x}},$$
#
# whose exponent is negative. In both branches the exponent is $-|x| \le 0$, so it never
# overflows. `sigmoid` must work element-wise on scalars and arrays of any shape (integers and
# `float32` included) and return `float64`. Tip: `np.where` evaluates both branches, so make
# sure *neither* branch can overflow.

# %% [todo] sigmoid
# %% [check] sigmoid

# %% [markdown]
# ### Its backward pass
#
# Differentiating gives
#
# $$\frac{d\sigma}{dx} = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma(x)\,\bigl(1 - \sigma(x)\bigr).$$
#
# The local gradient is a function of the gate's **output** $\sigma(x)$, which the forward pass
# has already computed; no exponential is needed in the backward pass. That is why
# `sigmoid_backward` receives `out` $= \sigma(x)$ and not $x$: compute
# $dx = dout \cdot out\,(1 - out)$. Passing `out` through `sigmoid` once more would compute
# $\sigma(\sigma(x))$, a different (wrong) number.

# %% [todo] sigmoid_backward
# %% [check] sigmoid_backward

# %% [markdown]
# ## 3. A sigmoid neuron
#
# With weights $w \in \mathbb{R}^{D+1}$ whose **last entry is the bias** and an input
# $x \in \mathbb{R}^{D}$:
#
# $$z = \sum_{d=0}^{D-1} w_d\,x_d + w_D, \qquad f = \sigma(z).$$
#
# `neuron_forward` returns `f` as a Python `float` together with a *cache*: anything the backward
# pass will need (a tuple of your choice; the grader only passes it back to your own
# `neuron_backward`).
#
# Backward, with upstream gradient $dout = \partial L / \partial f$: the sigmoid gate gives
# $dz = dout\cdot f(1-f)$; then $z$ is a sum of products, so each weight receives its input times
# $dz$ (the bias's "input" is the constant $1$) and each input receives its weight times $dz$:
#
# $$\frac{\partial L}{\partial w} = dz\,[x_0, \dots, x_{D-1}, 1], \qquad
#   \frac{\partial L}{\partial x} = dz\,[w_0, \dots, w_{D-1}].$$
#
# Shapes: `dw` is $(D+1,)$ like `w`, `dx` is $(D,)$ like `x`.

# %% [todo] neuron_forward
# %% [check] neuron_forward
# %% [todo] neuron_backward
# %% [check] neuron_backward

# %% [markdown]
# ## 4. Staged computation
#
# You do not need a closed-form derivative of a complicated expression. Break the forward pass
# into stages that each have an easy local gradient, keep the intermediate values, and walk the
# stages backwards. Take
#
# $$f(x, y) = \frac{x + \sigma(y)}{\sigma(x) + (x + y)^2}.$$
#
# One possible staging (all element-wise):
#
# | stage | forward | local gradient |
# |---|---|---|
# | 1 | $s_y = \sigma(y)$ | $s_y(1 - s_y)$ |
# | 2 | $n = x + s_y$ | add gate |
# | 3 | $s_x = \sigma(x)$ | $s_x(1 - s_x)$ |
# | 4 | $q = x + y$ | add gate |
# | 5 | $r = q^2$ | $2q$ |
# | 6 | $d = s_x + r$ | add gate |
# | 7 | $v = 1/d$ | $-1/d^2$ |
# | 8 | $f = n\,v$ | multiply gate |
#
# In `staged_backward` go through the stages from 8 down to 1, one line per local gradient.
# **Gradients from different paths add up.** $x$ feeds three stages ($n$, $s_x$ and $q$) and $y$
# two ($s_y$ and $q$), so $\partial f/\partial x$ is the *sum* of three contributions. Assigning
# (`dx = ...`) where you should accumulate (`dx += ...` or `dx = dx + ...`) silently drops
# a path. `x` and `y` can be scalars or arrays of one shape; `dx` and `dy` have that shape.

# %% [todo] staged_forward
# %% [check] staged_forward
# %% [todo] staged_backward
# %% [check] staged_backward

# %% [markdown]
# ## 5. Gradients of a matrix product
#
# For $D = W X$ with $W \in \mathbb{R}^{N\times K}$, $X \in \mathbb{R}^{K\times M}$ and
# $D \in \mathbb{R}^{N\times M}$, each entry is $D_{nm} = \sum_k W_{nk}X_{km}$, so
#
# $$\frac{\partial L}{\partial W_{nk}} = \sum_m \frac{\partial L}{\partial D_{nm}}\,X_{km}
#   \quad\Longrightarrow\quad dW = dD\,X^{\top}, \qquad
#   \frac{\partial L}{\partial X_{km}} = \sum_n W_{nk}\,\frac{\partial L}{\partial D_{nm}}
#   \quad\Longrightarrow\quad dX = W^{\top} dD.$$
#
# You do not have to remember this: **let the shapes decide.** `dW` must have the shape of $W$,
# $(N, K)$, and the only product of `dD` $(N, M)$ with $X$ or $X^\top$ that has that shape is
# $dD\,X^\top$. Likewise $dX$ $(K, M)$ can only be $W^\top dD$.
#
# *Warning:* a widely read summary of this material writes the two formulas with the roles of
# $W$ and $X$ exchanged. Check the shapes of whatever you read. `matmul_backward` returns the
# pair in the order `(dW, dX)`.

# %% [todo] matmul_backward
# %% [check] matmul_backward

# %% [markdown]
# ## Optional: check your gradients numerically
#
# A centered difference $\frac{f(x + h) - f(x - h)}{2h}$ with $h \approx 10^{-5}$ approximates
# the derivative to about 7 digits. This cell is not graded; use it (and change it) to test your
# `staged_backward` on your own inputs.

# %%
def numerical_gradient(fun, x, h=1e-5):
    """Centered-difference gradient of the scalar function fun at the array x."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = fun(x)
        x[index] = old - h
        minus = fun(x)
        x[index] = old
        grad[index] = (plus - minus) / (2 * h)
    return grad


x0 = np.array([0.3, -1.2, 2.0])
y0 = np.array([-0.5, 0.7, 1.1])
f0, cache0 = staged_forward(x0, y0)
dx0, dy0 = staged_backward(np.ones_like(f0), cache0)
print(np.max(np.abs(dx0 - numerical_gradient(lambda v: np.sum(staged_forward(v, y0)[0]), x0))))
print(np.max(np.abs(dy0 - numerical_gradient(lambda v: np.sum(staged_forward(x0, v)[0]), y0))))
