"""Tests of grader.authoring.notebooks and of what it generated: the student notebooks and the samples.

The sample checks execute sample code in this (trusted) test process: the samples are ours.
"""
from __future__ import annotations

import ast
import contextlib
import inspect
import io
import re
import textwrap
import tomllib
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from grader.authoring.notebooks import (
    AuthoringError,
    build_notebook,
    build_sample,
    load_reference,
    notebook_path,
    render,
    sample_sources,
    stale_files,
    write_assignment,
)

ROOT = Path(__file__).resolve().parents[1]

#: The graded functions of each assignment, in notebook order.
GRADED = {
    "gates": ["sigmoid", "sigmoid_backward", "neuron_forward", "neuron_backward",
              "staged_forward", "staged_backward", "matmul_backward"],
    "rnn_linear": ["output_gradient", "backward_gradient"],
    "rnn_bptt": ["rnn_forward", "rnn_loss", "bptt"],
    "lstm": ["lstm_forward", "lstm_backward"],
    "two_layer": ["affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "softmax_loss", "two_layer_loss"],
}
ASSIGNMENTS = list(GRADED)


def _student(name):
    return nbformat.read(notebook_path(ROOT, name), as_version=4)


def _tags(cell):
    return list(cell.get("metadata", {}).get("tags", []))


def _manifest(name):
    with open(ROOT / "assignments" / name / "samples" / "MANIFEST.toml", "rb") as f:
        return tomllib.load(f)


def _samples_with_src():
    return [(name, src.stem) for name in ASSIGNMENTS for src in sample_sources(ROOT, name)]


# --------------------------------------------------------------------------------------------
# Committed files


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_committed_notebooks_and_samples_are_fresh(name):
    assert stale_files(ROOT, name) == [], "run write_assignment (grader build) and commit"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_student_notebook_validates(name):
    nb = _student(name)
    nbformat.validate(nb)
    assert nb.metadata.kernelspec.name == "python3"
    assert nb.metadata.language_info.name == "python"
    ids = [cell.id for cell in nb.cells]
    assert ids == [f"{name}-{i:02d}" for i in range(len(ids))]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_notebook_opens_with_instructions_and_setup(name):
    first, second = _student(name).cells[:2]
    assert first.cell_type == "markdown" and "grader.check(" in first.source
    assert second.cell_type == "code"
    assert "import numpy as np" in second.source and "import grader" in second.source


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_todo_cells_are_the_graded_functions_each_followed_by_its_check(name):
    cells = _student(name).cells
    todos = []
    for index, cell in enumerate(cells):
        tags = _tags(cell)
        if tags[:1] == ["todo"]:
            fname = tags[1]
            todos.append(fname)
            after = cells[index + 1]
            assert _tags(after) == ["check"]
            assert after.source == f'grader.check("{fname}")'
    assert todos == GRADED[name]
    checks = [c.source for c in cells if _tags(c) == ["check"]]
    assert checks == [f'grader.check("{f}")' for f in GRADED[name]]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_stubs_hold_only_signature_docstring_comments_and_raise(name):
    ref = load_reference(ROOT, name)
    for cell in _student(name).cells:
        tags = _tags(cell)
        if tags[:1] != ["todo"]:
            continue
        fname = tags[1]
        tree = ast.parse(cell.source)
        assert len(tree.body) == 1 and isinstance(tree.body[0], ast.FunctionDef)
        fn = tree.body[0]
        assert fn.name == fname
        assert ast.unparse(fn.args) == ast.unparse(
            ast.parse(textwrap.dedent(inspect.getsource(getattr(ref, fname)))).body[0].args)
        body = fn.body
        assert ast.get_docstring(fn) == inspect.getdoc(getattr(ref, fname))
        body = body[1:]
        assert len(body) == 1 and isinstance(body[0], ast.Raise)
        assert isinstance(body[0].exc, ast.Call) and body[0].exc.func.id == "NotImplementedError"
        assert "# YOUR CODE HERE" in cell.source


def _code_lines(func):
    """The non-trivial code lines of `func`'s body after its docstring, comments removed."""
    source = textwrap.dedent(inspect.getsource(func))
    fn = ast.parse(source).body[0]
    body = fn.body[1:] if ast.get_docstring(fn) is not None else fn.body
    lines = source.splitlines()[body[0].lineno - 1:]
    out = []
    for line in lines:
        code = line.split("#", 1)[0].strip()
        if len(code) >= 10:
            out.append(code)
    return out


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_no_line_of_a_solution_appears_in_the_notebook(name):
    ref = load_reference(ROOT, name)
    nb = _student(name)
    text = "\n".join(cell.source for cell in nb.cells)
    for fname in GRADED[name]:  # the docstrings are the API, stated on purpose
        text = text.replace(getattr(ref, fname).__doc__, "")
    code_sources = [c.source for c in nb.cells if c.cell_type == "code"]
    # lines of reference helpers the notebook hands out on purpose ([provided] cells)
    given = set()
    for fname, func in inspect.getmembers(ref, inspect.isfunction):
        src = textwrap.dedent(inspect.getsource(func)).rstrip()
        if fname not in GRADED[name] and any(src in s for s in code_sources):
            given.update(line.strip() for line in src.splitlines())
    checked = 0
    for fname in GRADED[name]:
        for code in _code_lines(getattr(ref, fname)):
            if code in given:
                continue
            checked += 1
            assert code not in text, f"{name}.ipynb leaks a line of {fname}: {code!r}"
    assert checked >= len(GRADED[name])


# --------------------------------------------------------------------------------------------
# Samples and their manifests


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_manifest_lists_exactly_the_samples(name):
    manifest = _manifest(name)
    samples_dir = ROOT / "assignments" / name / "samples"
    on_disk = {p.stem for p in samples_dir.glob("*.ipynb")}
    assert set(manifest) == on_disk
    assert {src.stem for src in sample_sources(ROOT, name)} <= on_disk
    assert 4 <= len(sample_sources(ROOT, name)) <= 7
    for sample_id, entry in manifest.items():
        assert isinstance(entry["mistake"], str) and entry["mistake"]
        assert set(entry["functions_wrong"]) <= set(GRADED[name]), sample_id
        assert (entry["mistake"] == "correct") == (entry["functions_wrong"] == []), sample_id
    assert sum(e["mistake"] == "correct" for e in manifest.values()) >= 2


@pytest.mark.parametrize("name,sample_id", _samples_with_src())
def test_generated_sample_parses_as_a_notebook(name, sample_id):
    path = ROOT / "assignments" / name / "samples" / f"{sample_id}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert sample_id in _manifest(name)


def _strip_magics(source):
    """IPython magics and shell escapes become `pass` (a `%%` cell magic line is dropped)."""
    lines = source.splitlines()
    if lines and lines[0].startswith("%%"):
        lines = lines[1:]
    return "\n".join(
        re.sub(r"^(\s*)[%!].*$", r"\1pass", line) for line in lines)


def _run_like_a_student(nb):
    """Execute every code cell in order, skipping self-checks and ignoring cells that fail."""
    ns = {"__name__": "__sample__"}
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), \
            np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for cell in nb.cells:
            if cell.cell_type != "code" or _tags(cell) == ["check"]:
                continue
            try:
                exec(compile(_strip_magics(cell.source), f"<{cell.id}>", "exec"), ns)
            except Exception:
                pass
    return ns


def _same(a, b):
    if isinstance(b, (tuple, list)):
        return isinstance(a, (tuple, list)) and len(a) == len(b) and all(map(_same, a, b))
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and np.allclose(a, b, rtol=1e-7, atol=1e-12)


def _probe_gates(ns, ref, fname):
    rng = np.random.default_rng(7)
    if fname == "sigmoid":
        inputs = [np.concatenate([rng.normal(scale=5, size=20), [-1e3, -50, 0, 50, 1e3]]),
                  rng.normal(size=(2, 3)), np.arange(-3, 4), 0.7]
        return all(_same(ns["sigmoid"](x), ref.sigmoid(x)) for x in inputs)
    if fname == "sigmoid_backward":
        dout, out = rng.normal(size=(3, 4)), rng.uniform(0.05, 0.95, size=(3, 4))
        return _same(ns[fname](dout, out), ref.sigmoid_backward(dout, out))
    if fname in ("neuron_forward", "neuron_backward"):
        args = rng.normal(size=4), rng.normal(size=3)
        mine, theirs = ns["neuron_forward"](*args), ref.neuron_forward(*args)
        if fname == "neuron_forward":
            return _same(mine[0], theirs[0])
        return _same(ns[fname](1.3, mine[1]), ref.neuron_backward(1.3, theirs[1]))
    if fname in ("staged_forward", "staged_backward"):
        args, dout = (rng.normal(size=6), rng.normal(size=6)), rng.normal(size=6)
        mine, theirs = ns["staged_forward"](*args), ref.staged_forward(*args)
        if fname == "staged_forward":
            return _same(mine[0], theirs[0])
        return _same(ns[fname](dout, mine[1]), ref.staged_backward(dout, theirs[1]))
    args = rng.normal(size=(3, 5)), rng.normal(size=(3, 4)), rng.normal(size=(4, 5))
    return _same(ns[fname](*args), ref.matmul_backward(*args))


def _probe_rnn_linear(ns, ref, fname):
    rng = np.random.default_rng(7)
    if fname == "output_gradient":
        y, t = rng.normal(size=7), rng.normal(size=7)
        return _same(ns[fname](y, t), ref.output_gradient(y, t))
    X = rng.integers(0, 2, size=(7, 5)).astype(np.float64)
    S = ref.forward_states(X, 0.8, 0.9)
    grad_out = rng.normal(size=7)
    return _same(ns[fname](X, S, grad_out, 0.9), ref.backward_gradient(X, S, grad_out, 0.9))


def _probe_rnn_bptt(ns, ref, fname):
    rng = np.random.default_rng(7)
    T, D, H, K = 6, 3, 5, 4
    x, y = rng.normal(size=(T, D)), rng.integers(0, K, size=T)
    U, W, V = (rng.normal(scale=0.5, size=s) for s in [(H, D), (H, H), (K, H)])
    if fname == "rnn_forward":
        return _same(ns[fname](x, U, W, V), ref.rnn_forward(x, U, W, V))
    if fname == "rnn_loss":
        y_hat = ref.rnn_forward(x, U, W, V)[1]
        return _same(ns[fname](y_hat, y), ref.rnn_loss(y_hat, y))
    return all(_same(ns[fname](x, y, U, W, V, truncate=k), ref.bptt(x, y, U, W, V, truncate=k))
               for k in (None, 0, 2))


def _probe_lstm(ns, ref, fname):
    rng = np.random.default_rng(7)
    N, T, D, H = 2, 5, 3, 4
    X, W, b = rng.normal(size=(N, T, D)), rng.normal(size=(D + H, 4 * H)), rng.normal(size=4 * H)
    dout = rng.normal(size=(N, T, H))
    for use_state in (False, True):
        mine, theirs = ns["lstm_forward"](X, W, b, use_state), ref.lstm_forward(X, W, b, use_state)
        if fname == "lstm_forward" and not _same(mine[0], theirs[0]):
            return False
        if fname == "lstm_backward" and not _same(ns[fname](dout, mine[1]),
                                                  ref.lstm_backward(dout, theirs[1])):
            return False
    return True


def _probe_two_layer(ns, ref, fname):
    rng = np.random.default_rng(7)
    N, D, H, C = 5, 4, 6, 3
    x, w, b, y = rng.normal(size=(N, D)), rng.normal(size=(D, H)), rng.normal(size=H), \
        rng.integers(0, C, N)
    if fname.startswith(("affine", "relu")):
        forward = fname.split("_")[0] + "_forward"
        args = (x, w, b) if forward == "affine_forward" else (x @ w,)
        mine, theirs = ns[forward](*args), getattr(ref, forward)(*args)
        if fname == forward:
            return _same(mine[0], theirs[0])
        dout = rng.normal(size=np.shape(theirs[0]))
        return _same(ns[fname](dout, mine[1]), getattr(ref, fname)(dout, theirs[1]))
    if fname == "softmax_loss":  # large scores too: exp of unshifted ones overflows
        scores = rng.normal(size=(N, C))
        return all(_same(ns[fname](s, y), ref.softmax_loss(s, y)) for s in (scores, scores + 1e3))
    params = {"W1": w, "b1": b, "W2": rng.normal(size=(H, C)), "b2": rng.normal(size=C)}
    (loss, grads), (right, expected) = ns[fname](x, y, params, 0.3), ref.two_layer_loss(
        x, y, params, 0.3)
    return _same(loss, right) and all(_same(grads[k], expected[k]) for k in expected)


PROBES = {"gates": _probe_gates, "rnn_linear": _probe_rnn_linear,
          "rnn_bptt": _probe_rnn_bptt, "lstm": _probe_lstm, "two_layer": _probe_two_layer}


def _wrong_functions(name, ns, ref):
    """The graded functions of namespace `ns` whose outputs differ from the reference's.

    Floating-point overflow, division by zero and invalid values count as failures (the
    reference raises none on these inputs); so do exceptions and missing definitions.
    """
    wrong = []
    for fname in GRADED[name]:
        try:
            with warnings.catch_warnings(), np.errstate(over="raise", divide="raise",
                                                        invalid="raise"):
                warnings.simplefilter("error")
                ok = PROBES[name](ns, ref, fname)
        except Exception:
            ok = False
        if not ok:
            wrong.append(fname)
    return wrong


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_probes_accept_the_reference_and_reject_the_stubs(name):
    ref = load_reference(ROOT, name)
    assert _wrong_functions(name, vars(ref), ref) == []
    assert _wrong_functions(name, _run_like_a_student(_student(name)), ref) == GRADED[name]


@pytest.mark.parametrize("name,sample_id", _samples_with_src())
def test_sample_functions_behave_as_the_manifest_says(name, sample_id):
    """Correct samples match the reference; every other one fails exactly where it says."""
    ref = load_reference(ROOT, name)
    nb = build_sample(ROOT, name, ROOT / "assignments" / name / "samples" / "src"
                      / f"{sample_id}.py")
    ns = _run_like_a_student(nb)
    assert _wrong_functions(name, ns, ref) == list(_manifest(name)[sample_id]["functions_wrong"])


def test_hand_written_broken_samples_are_not_notebooks():
    handwritten = [p for name in ASSIGNMENTS
                   for p in (ROOT / "assignments" / name / "samples").glob("*.ipynb")
                   if not (p.parent / "src" / f"{p.stem}.py").exists()]
    assert handwritten
    for path in handwritten:
        with pytest.raises(Exception):
            nbformat.read(path, as_version=4)


# --------------------------------------------------------------------------------------------
# The generator on small made-up courses


REFERENCE = '''\
import numpy as np


def helper(x):
    """Doubles x."""
    return 2 * x


def target(x,
           y=1):
    """Adds.

    Returns x + y.
    """
    z = x + y
    return z
'''

TEMPLATE = '''\
# author note, ignored
# %% [markdown]
# # Title
#
#Line two
# %%
import numpy as np

# %% [provided] helper
# %% [todo] target
# %% [check] target
'''


def _course(tmp_path, template=TEMPLATE, samples=None, reference=REFERENCE):
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("")
    (tmp_path / "reference" / "toy.py").write_text(reference)
    folder = tmp_path / "assignments" / "toy"
    (folder / "samples" / "src").mkdir(parents=True)
    (folder / "template.py").write_text(template)
    for sample_id, text in (samples or {}).items():
        (folder / "samples" / "src" / f"{sample_id}.py").write_text(text)
    return tmp_path


def test_build_notebook_on_a_toy_course(tmp_path):
    nb = build_notebook(_course(tmp_path), "toy")
    assert [c.cell_type for c in nb.cells] == ["markdown", "code", "code", "code", "code"]
    assert nb.cells[0].source == "# Title\n\nLine two"
    assert nb.cells[1].source == "import numpy as np"
    assert nb.cells[2].source.startswith("def helper(x):") and "return 2 * x" in nb.cells[2].source
    stub = nb.cells[3].source
    assert stub.startswith("def target(x,\n           y=1):\n")
    assert "z = x + y" not in stub and 'raise NotImplementedError("target: ' in stub
    assert nb.cells[3].metadata.tags == ["todo", "target"]
    assert nb.cells[4].source == 'grader.check("target")' and nb.cells[4].metadata.tags == ["check"]
    assert [c.id for c in nb.cells] == [f"toy-{i:02d}" for i in range(5)]
    assert render(nb) == render(build_notebook(tmp_path, "toy"))  # deterministic


def test_sample_edits(tmp_path):
    course = _course(tmp_path, samples={
        "s": "# %% [first]\n%matplotlib inline\n\n# %% [todo] target\ndef target(x, y=1):\n"
             "    return x + y\n\n# %% [extra]\nprint(target(1))\n",
        "d": "# %% [drop] target\n",
    })
    nb = build_sample(course, "toy", course / "assignments/toy/samples/src/s.py")
    assert nb.cells[0].source == "%matplotlib inline" and nb.cells[0].id == "toy-first-00"
    assert nb.cells[4].source == "def target(x, y=1):\n    return x + y"
    assert nb.cells[4].metadata.tags == ["todo", "target"]
    assert nb.cells[-1].source == "print(target(1))" and nb.cells[-1].id == "toy-extra-00"
    dropped = build_sample(course, "toy", course / "assignments/toy/samples/src/d.py")
    assert len(dropped.cells) == 4 and all(_tags(c)[:1] != ["todo"] for c in dropped.cells)


def test_write_assignment_leaves_hand_written_samples_alone(tmp_path):
    course = _course(tmp_path, samples={"ok": "# %% [todo] target\ndef target(x, y=1):\n"
                                              "    return x + y\n"})
    broken = course / "assignments/toy/samples/broken.ipynb"
    broken.write_text('{"cells": [')
    written = write_assignment(course, "toy")
    assert written == [course / "assignments/toy/toy.ipynb",
                       course / "assignments/toy/samples/ok.ipynb"]
    assert broken.read_text() == '{"cells": ['
    assert stale_files(course, "toy") == []
    (course / "assignments/toy/samples/src/ok.py").write_text("# %% [drop] target\n")
    assert stale_files(course, "toy") == [course / "assignments/toy/samples/ok.ipynb"]


@pytest.mark.parametrize("template,line,words", [
    ("# %% [markdown]\n# hi\n# %% [solution] target\n", 3, "unknown directive [solution]"),
    ("# %%\nimport numpy\n\n# %% [todo] missing\n", 4, "no function 'missing'"),
    ("# %% [provided] helper nothere\n", 1, "no function 'nothere'"),
    ("# %% [todo] target\n# %% [todo] target\n", 2, "second [todo]"),
    ("# %% [todo] helper target\n", 1, "exactly one"),
    ("# %% [markdown]\n# ok\nx = 1\n", 3, "only '#' comment lines"),
    ("x = 1\n# %%\n", 1, "before the first"),
    ("# %% [check]\n", 1, "needs a function name"),
    ("# %% [todo] target\nreturn 1\n", 1, "takes no body"),
    ("# %% title\n", 1, "malformed cell header"),
])
def test_malformed_templates_name_the_file_and_line(tmp_path, template, line, words):
    course = _course(tmp_path, template=template)
    with pytest.raises(AuthoringError) as error:
        build_notebook(course, "toy")
    message = str(error.value)
    assert f"template.py:{line}:" in message and words in message
    assert error.value.line == line


@pytest.mark.parametrize("sample,line,words", [
    ("# %% [todo] target\nx = 1\n# %% [replace] target\n", 3, "unknown directive [replace]"),
    ("# %% [todo] helper\n", 1, "no todo cell for 'helper'"),
    ("# %%\nx = 1\n", 1, "need a directive"),
    ("# %% [drop] target\n# %% [todo] target\n", 2, "edited twice"),
    ("# %% [extra] target\n", 1, "takes no arguments"),
])
def test_malformed_samples_name_the_file_and_line(tmp_path, sample, line, words):
    course = _course(tmp_path, samples={"bad": sample})
    with pytest.raises(AuthoringError) as error:
        build_sample(course, "toy", course / "assignments/toy/samples/src/bad.py")
    assert f"bad.py:{line}:" in str(error.value) and words in str(error.value)


def test_loading_a_reference_leaves_the_import_state_alone(tmp_path):
    import sys

    before_path, before_modules = list(sys.path), {k for k in sys.modules if k.startswith("reference")}
    load_reference(ROOT, "lstm")  # imports reference.gates internally
    load_reference(_course(tmp_path), "toy")
    assert sys.path == before_path
    assert {k for k in sys.modules if k.startswith("reference")} == before_modules
