"""`grader new NAME`: the three files an instructor writes for an assignment, as a small
working example to edit (a linear layer and a mean-squared-error loss), each with comments
saying what goes where. `grader build NAME` then generates everything else.

The example builds and grades as it is, so an instructor can see the whole path (build, a
notebook, its feedback) before writing a line of their own; docs/authoring.md walks through it.
"""
from __future__ import annotations

from pathlib import Path

REFERENCE = '''"""Reference of the "{name}" assignment (trusted: students never see this file, only the
signatures and docstrings of the graded functions, which become their stubs).

Write each graded function in plain NumPy with a docstring giving the shapes in the spec's
named dimensions. The grader derives every test case from assignments/{name}/spec.toml and
this file, and names a wrong value by the small mistakes it makes in this code (a dropped
1/N, a missing transpose, a swapped operand): keep to the names the handout uses.
"""
import numpy as np


def linear_forward(x, w):
    """A linear layer without bias: out = x·w.

    x: (N, D), w: (D, K). Returns (out, cache): out (N, K), cache = (x, w).
    """
    out = x @ w
    cache = (x, w)
    return out, cache


def linear_backward(dout, cache):
    """Backward of linear_forward: dx = dout·wᵀ, dw = xᵀ·dout.

    dout: (N, K), the upstream gradient; cache: from linear_forward.
    Returns (dx, dw) of shapes (N, D) and (D, K).
    """
    x, w = cache
    dx = dout @ w.T
    dw = x.T @ dout
    return dx, dw


def mse_loss(pred, target):
    """Mean over the batch of the squared error: L = (1/N) Σ_n Σ_k (pred − target)².

    pred, target: (N, K). Returns (loss, dpred): dpred = 2(pred − target)/N, shape (N, K).
    """
    N = pred.shape[0]
    diff = pred - target
    loss = np.sum(diff ** 2) / N
    dpred = 2 * diff / N
    return loss, dpred
'''

SPEC = '''# The "{name}" assignment: the grader derives its cases from this spec and reference/{name}.py
# (docs/authoring.md). Run `grader build {name}` after every change, `grader mutants {name}`
# to see which likely mistakes the tests catch.
title = "{title}"

# The sizes the cases vary. Every case gives each a different value (N = 5, D = 4, K = 6...), so
# a wrong factor N in a student's value can be named. `min` where 1 makes no sense.
[dimensions]
N = "the batch size"
D = "the input size"
K = {{ means = "the output size", min = 1 }}

# One table per graded function, in the order of the handout. Inputs in the order of the
# reference's parameters: "float <dims>", "int <dims>", "labels <dims> <classes>", "flag",
# "scalar", "upstream <forward's part>", "cache", or {{ kind = "params", W = "D K", ... }}.
[[function]]
name = "linear_forward"
points = 3
inputs = {{ x = "float N D", w = "float D K" }}
returns = ["out", "cache"]          # a part named "cache" is never compared

[[function]]
name = "linear_backward"
points = 4
forward = "linear_forward"          # called on the cache of the student's own forward
inputs = {{ dout = "upstream out", cache = "cache" }}
returns = ["dx", "dw"]              # d<name> is the gradient of the forward's input <name>

[[function]]
name = "mse_loss"
points = 3
inputs = {{ pred = "float N K", target = "float N K" }}
returns = ["loss", "dpred"]
loss = "loss"                       # dpred is checked against the loss itself
# edges = {{ large = false }}         # turn off an edge case: size_one, float32, integer, large, repeated

# The reference's variable names in the handout's notation, for naming mistakes in feedback.
[glossary]
x = "x"
w = "w"
out = "out"
dout = "dout"
dx = "dx"
dw = "dw"
pred = "pred"
target = "target"
diff = "pred − target"
N = "N"
'''

TEMPLATE = '''# Template of the student notebook of "{name}" (grader/authoring/notebooks.py explains the
# cell headers). `grader build {name}` turns it into assignments/{name}/{name}.ipynb.

# %% [markdown]
# # {title}
#
# **How to work.** Fill in every cell marked `# YOUR CODE HERE` (delete the
# `raise NotImplementedError` line), run it, then run the self-check cell below it:
# `grader.check("f")` runs the public tests of `f` and explains what differs.
#
# **If `import grader` fails** (in Google Colab, or any new environment), run
# `%pip install backprop-grader` in a cell of its own, then run the import cell again. Not
# `pip install grader`: that is an unrelated package of the same name.

# %%
import numpy as np
import grader

# %% [markdown]
# ## 1. A linear layer
#
# $out = x\\,w$ for $x: (N, D)$ and $w: (D, K)$; keep $(x, w)$ in the cache. Backward, with the
# upstream gradient $dout$: $dx = dout\\,w^\\top$ and $dw = x^\\top dout$.

# %% [todo] linear_forward
# %% [check] linear_forward
# %% [todo] linear_backward
# %% [check] linear_backward

# %% [markdown]
# ## 2. The loss
#
# $L = \\frac{{1}}{{N}}\\sum_n \\sum_k (pred_{{nk}} - target_{{nk}})^2$, a **mean** over the batch,
# and its gradient $dpred = \\frac{{2}}{{N}}(pred - target)$.

# %% [todo] mse_loss
# %% [check] mse_loss
'''


class ScaffoldError(Exception):
    """The assignment cannot be created (a bad name, or its files exist already)."""


def files(course: Path, name: str) -> dict:
    """{path: text} of the three files `grader new` writes."""
    course = Path(course)
    title = name.replace("_", " ").capitalize()
    return {course / "reference" / f"{name}.py": REFERENCE.format(name=name),
            course / "assignments" / name / "spec.toml": SPEC.format(name=name, title=title),
            course / "assignments" / name / "template.py": TEMPLATE.format(name=name,
                                                                           title=title)}


def create(course: Path, name: str) -> list[Path]:
    """Write the reference, spec and template of a new assignment `name`; nothing is
    overwritten. The course folder gets reference/__init__.py if it has none."""
    if not name.isidentifier() or name.startswith("_"):
        raise ScaffoldError(f"{name!r} is not a usable assignment name: use letters, digits "
                            "and underscores, starting with a letter")
    made = files(course, name)
    existing = [str(p) for p in made if p.exists()]
    if existing:
        raise ScaffoldError(f"{', '.join(existing)} already exist: nothing was written")
    package = Path(course) / "reference" / "__init__.py"
    if not package.exists():
        package.parent.mkdir(parents=True, exist_ok=True)
        package.write_text("")
    for path, text in made.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(made)
