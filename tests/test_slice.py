"""The slice of a notebook that the graded functions need: every top-level statement, of any
kind, that binds a name the kept code reads, as "Restart & Run All" would bind it."""
from __future__ import annotations

import ast
import dataclasses
import types
from pathlib import Path

import pytest

from grader.sandbox import harness
from grader.read.submission import (Submission, SubmissionError, extract, extract_source,
                                    load_submission, read_notebook, strip_magics)
from tests.test_submission import make_nb

COURSE = Path(__file__).resolve().parent.parent


def ext(*cells, roots=None) -> Submission:
    return extract_source(list(cells), "s", roots)


def run(sub: Submission) -> dict:
    """Run the kept statements as the child does: one by one, each compiled as extracted."""
    ns: dict = {"__name__": "__submission__"}
    for code in sub.statements:
        exec(code, ns)
    return ns


# ---------------------------------------------------------------- what is kept

def test_only_what_the_graded_functions_need_is_kept(capsys):
    sub = ext(
        "import numpy as np\nimport matplotlib.pyplot as plt\n",
        "def step(w):\n    return w - RATE\n",
        "RATE = 0.1\nw = 1.0\nlosses = []\nfor epoch in range(100):\n    w = step(w)\n"
        "    losses.append(w)\nprint('loss', w)\nplt.plot(losses)\nplt.show()\nstep(3)\n",
        "if __name__ == '__main__':\n    print('main')\n",
        "with open('log.txt', 'w') as fh:\n    fh.write('x')\n",
        "'a docstring-like expression'\nassert step(1) == 0.9\n",
        roots=["step"])
    assert sub.source == "def step(w):\n    return w - RATE\nRATE = 0.1\n"
    assert sub.notes == ()
    assert run(sub)["step"](1.0) == 0.9
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("helper, use", [
    ("_sig = np.vectorize(lambda z: 1 / (1 + np.exp(-z)), otypes=[np.float64])", "_sig(x)"),
    ("import functools\nf64 = functools.partial(np.asarray, dtype=np.float64)", "f64(x) * 0 + 0.5"),
    ("class Act:\n    def sig(self, z):\n        return 1 / (1 + np.exp(-z))\nact = Act()", "act.sig(x)"),
    ("from collections import namedtuple\nPair = namedtuple('Pair', 'a b')\nP = Pair(0.5, 0)",
     "P.a + x * P.b"),
    ("from collections import defaultdict\nCALLS = defaultdict(list)",
     "(CALLS['f'].append(1), 1 / (1 + np.exp(-x)))[1]"),
    ("HALF = 1 / 2\nTINY = np.finfo(float).tiny", "HALF + x * TINY * 0"),
    ("BIAS = np.ones(1)\nDTYPE = np.float64\nNA = np.newaxis",
     "(BIAS * 0.5).astype(DTYPE)[0] + np.zeros(1)[NA][0, 0] * x"),
    ("GATE = {'f': 0, 'i': 1}", "0.5 + GATE['f'] * x"),
    ("F, I, O, G = range(4)\ntanh, outer = np.tanh, np.outer", "0.5 + F * tanh(x)"),
])
def test_helpers_and_constants_bound_any_way_are_kept(helper, use):
    sub = ext("import numpy as np\n", helper + "\n",
              f"def sigmoid(x):\n    return {use}\n", "print(sigmoid(0.0))\n", roots=["sigmoid"])
    assert sub.notes == (), sub.notes
    assert run(sub)["sigmoid"](0.0) == 0.5


def test_aliases_and_rebinding_after_both_definitions():
    sub = ext("def backward_sum(x):\n    return x.sum()\n",
              "def backward_mean(x):\n    return x.mean()\n",
              "backward = backward_mean\nsig = backward\n", roots=["backward", "sig"])
    ns = run(sub)
    assert ns["backward"] is ns["sig"] is ns["backward_mean"]
    assert "backward_sum" not in sub.source


def test_the_last_binding_in_the_notebook_wins():
    sub = ext(
        "def f(x):\n    return 'first' + K\n",
        "K = '!'\nprint(f(0))\n",
        "def f(x):\n    return 'second' + K\n",
        "K = '?'\n",
        "def g():\n    return 'g'\n",
        "g = 5\n",
        roots=["f", "g"])
    assert sub.source.count("def f") == 1 and "first" not in sub.source
    assert "K = '!'" not in sub.source  # nothing reads the first K: the second binds it for good
    ns = run(sub)
    assert ns["f"](0) == "second?" and ns["g"] == 5
    assert dict(sub.constants) == {"K": "?", "g": 5}


def test_definitions_inside_if_and_try_blocks():
    sub = ext("import numpy as np\nUSE_FAST = False\n",
              "try:\n    from not_installed_xyz import expit\nexcept ImportError:\n"
              "    def expit(z):\n        return 1 / (1 + np.exp(-z))\n",
              "if USE_FAST:\n    def act(z):\n        return expit(z)\nelse:\n"
              "    def act(z):\n        return 1 / (1 + np.exp(-z))\n",
              roots=["expit", "act"])
    ns = run(sub)
    assert ns["expit"](0.0) == 0.5 and ns["act"](0.0) == 0.5
    assert "USE_FAST = False" in sub.source


def test_defaults_decorators_and_annotations_read_at_definition():
    sub = ext("import functools\nTWO = 2\nNumber = float\n",
              "def logged(fn):\n    @functools.wraps(fn)\n    def inner(*a):\n"
              "        CALLS.append(fn.__name__)\n        return fn(*a)\n    return inner\n",
              "@logged\ndef double(x, factor=TWO) -> Number:\n    return x * factor\n",
              "CALLS = []\n", roots=["double"])
    ns = run(sub)
    assert ns["double"](3) == 6 and ns["CALLS"] == ["double"]


def test_postponed_annotations_are_never_read():
    sub = ext("from __future__ import annotations\nfrom typing import TYPE_CHECKING\n"
              "if TYPE_CHECKING:\n    from numpy.typing import NDArray\n",
              "def f(x: NDArray) -> WeightGrads:\n    return x\n", roots=["f"])
    assert sub.source.startswith("from __future__ import annotations\n")
    assert "TYPE_CHECKING" not in sub.source and sub.notes == ()
    ns = run(sub)
    assert ns["f"](1) == 1 and ns["f"].__annotations__ == {"x": "NDArray", "return": "WeightGrads"}


def test_annotations_are_read_without_the_future_import():
    sub = ext("def f(x) -> WeightGrads:\n    return x\n", roots=["f"])
    assert "reads `WeightGrads`, which is never assigned in your notebook" in sub.notes[0]


def test_a_call_at_top_level_sees_the_globals_of_its_moment():
    """`W = make()` runs make with H as bound then; the graded function later sees the last H."""
    sub = ext("def make():\n    return [0] * H\n", "H = 2\n", "W = make()\n", "H = 3\n",
              "def f():\n    return len(W), H\n", roots=["f"])
    assert run(sub)["f"]() == (2, 3)


def test_an_object_made_early_calls_methods_that_read_later_globals():
    sub = ext("class Act:\n    def sig(self, z):\n        return z + EPS\n", "act = Act()\n",
              "EPS = 0.5\n", "def f(z):\n    return act.sig(z)\n", roots=["f"])
    assert run(sub)["f"](1) == 1.5


def test_objects_changed_by_items_attributes_and_method_calls():
    sub = ext("import numpy as np\nP = {}\nP['w'] = 2.0\n",
              "class C:\n    pass\nCFG = C()\nCFG.scale = 3.0\nLOG = []\nLOG.append('x')\n",
              "for k in ('a', 'b'):\n    P[k] = 1.0\n",
              "np.random.seed(0)\nplt_like = None\n",
              "def f():\n    return P['w'] * CFG.scale, len(LOG), sorted(P)\n", roots=["f"])
    assert run(sub)["f"]() == (6.0, 1, ["a", "b", "w"])
    assert "np.random.seed" not in sub.source  # calling a module's function changes no global


def test_a_function_that_assigns_globals_binds_them_where_it_is_called():
    sub = ext("def init():\n    global W, b\n    W = 2\n    b = 1\n", "init()\n",
              "def f(x):\n    return W * x + b\n", roots=["f"])
    assert "init()" in sub.source
    assert run(sub)["f"](3) == 7


def test_a_global_counted_inside_a_graded_function_is_kept():
    sub = ext("CALLS = 0\n", "def f(x):\n    global CALLS\n    CALLS += 1\n    return x\n",
              "print(f(1), CALLS)\n", roots=["f"])
    assert "print(f(1), CALLS)" in sub.source  # it counts a call too, as in a top-to-bottom run
    ns = run(sub)
    assert ns["f"](2) == 2 and ns["CALLS"] == 2


def test_a_training_loop_is_kept_only_when_it_binds_what_is_read():
    cells = ("def step(w):\n    return w / 2\n", "w = 1.0\nfor _ in range(3):\n    w = step(w)\n",
             "def f(x):\n    return x * w\n")
    sub = ext(*cells, roots=["f"])
    assert "for _ in range(3)" in sub.source and run(sub)["f"](8) == 1.0
    assert "for _" not in ext(*cells, roots=["step"]).source


def test_a_definition_used_before_its_cell_is_moved_up_with_a_note():
    sub = ext("@twice\ndef f(x):\n    return x + 1\n",
              "def twice(fn):\n    return lambda x: fn(fn(x))\n", roots=["f"])
    assert sub.source.index("def twice") < sub.source.index("@twice")
    assert run(sub)["f"](0) == 2
    assert sub.notes == ("line 1 of cell 1 (“@twice”) uses `twice` before line 1 of cell 2 "
                         "(“def twice(fn):”) defines it: run top to bottom, the notebook would "
                         "stop there; it is graded as if that line had run first",)
    assert sub.describe_line(sub.source.splitlines().index("@twice") + 1) == \
        "line 1 of cell 1 (“@twice”)"


def test_a_value_computed_after_its_use_is_not_moved():
    sub = ext("import numpy as np\n", "def f(x, eps=EPS):\n    return x + eps\n",
              "EPS = np.float64(1e-8)\n", roots=["f"])
    assert sub.notes == ("line 1 of cell 2 (“def f(x, eps=EPS):”) reads `EPS` before line 1 of "
                         "cell 3 (“EPS = np.float64(1e-8)”) assigns it: run top to bottom, it "
                         "raises NameError there",)


def test_a_literal_assigned_after_its_use_at_definition_is_moved_up_once():
    sub = ext("def f(x, k=K):\n    return x * k\n", "print(f(1))\n", "K = 3\n", roots=["f"])
    assert run(sub)["f"](2) == 6
    assert sub.notes == ("line 1 of cell 1 (“def f(x, k=K):”) uses `K` before line 1 of cell 3 "
                         "(“K = 3”) assigns it: run top to bottom, the notebook would stop there; "
                         "it is graded as if that line had run first",)


def test_chains_of_top_level_calls_through_hundreds_of_statements_stay_bounded():
    """Each g_i = f_i() calls a function reading g_(i-1): followed point by point, that is the
    square of the number of statements; past a budget the slice keeps every binding instead."""
    chain = "".join(f"def f{i}():\n    return g{i - 1} + 1\ng{i} = f{i}()\n" for i in range(1, 400))
    sub = ext("g0 = 0\n" + chain, "def f():\n    return g399\n", roots=["f"])
    assert run(sub)["f"]() == 399 and sub.notes == ()


def test_a_redefined_base_class_is_seen_as_a_top_to_bottom_run_sees_it():
    sub = ext("class Base:\n    k = 1\n", "class Child(Base):\n    pass\n",
              "class Base:\n    k = 2\n")
    ns = run(sub)
    assert ns["Child"].k == 1 and ns["Base"].k == 2


def test_star_imports_may_bind_anything():
    sub = ext("from math import *\n", "def f():\n    return tau + floor(1.5)\n", roots=["f"])
    assert sub.source.startswith("from math import *") and sub.notes == ()


def test_imports_keep_only_the_names_the_kept_code_reads():
    sub = ext(
        "import os\nimport numpy as np\nimport matplotlib.pyplot as plt\nimport json, math as m\n",
        "import numpy as np\nfrom functools import reduce, partial\n",
        "from numpy import exp\ndef exp(x):\n    return m.e ** x\n",
        "def f(p):\n    return os.path.basename(p), partial\n",
        "plt.plot([1, 2])\nplt.show()\n", roots=["f", "exp"])
    assert sub.source.splitlines()[:3] == ["import os", "import math as m",
                                           "from functools import partial"]
    assert "plt" not in sub.source and "json" not in sub.source and "np" not in sub.source
    assert "from numpy import exp" not in sub.source  # rebound by the student's exp
    assert sub.line_origin[:3] == ((1, 1), (1, 4), (2, 2))
    ns = run(sub)
    assert ns["f"]("/a/b.txt")[0] == "b.txt" and ns["exp"](0) == 1


def test_names_read_but_never_assigned_are_noted_where_they_are_read():
    sub = ext("W = make_weights()\n", "# the model\ndef predict(x):\n    y = W @ x\n    return y + bias\n",
              roots=["predict"])
    assert sub.notes == (
        "line 1 of cell 1 (“W = make_weights()”) reads `make_weights`, which is never assigned in "
        "your notebook",
        "line 4 of cell 2 (“# the model”) reads `bias`, which is never assigned in your notebook",
    )


def test_a_name_assigned_only_in_a_broken_cell_says_so():
    sub = ext("def f():\n    return SCALE\n", "SCALE = (2\n", roots=["f"])
    assert sub.notes == (
        "cell 2 (“SCALE = (2”) has a syntax error at line 1 ('(' was never closed): none of it runs",
        "line 2 of cell 1 (“def f():”) reads `SCALE`, which is never assigned in your notebook; "
        "it is assigned only in cell 2, which has a syntax error",
    )


def test_a_graded_function_in_a_broken_cell_is_missing_for_that_reason():
    sub = ext("def good():\n    return 1\n", "x = 3\n\ndef backward(x)\n    return x\n",
              roots=["good", "backward"])
    assert sub.functions == {"good"}
    assert sub.notes == ("cell 2 (“x = 3”) has a syntax error at line 3 (expected ':'): "
                         "none of it runs",)
    assert dict(sub.missing) == {
        "backward": "cell 2 (“x = 3”) defines it but has a syntax error at line 3 (expected "
                    "':'), so none of that cell runs"}


def test_a_graded_function_defined_nowhere_has_no_reason():
    assert dict(ext("def f():\n    return 1\n", roots=["f", "g"]).missing) == {}


def test_cell_heads_are_the_first_line_a_student_sees():
    long = "def lstm_backward(dout, cache, use_state_gradient=False, extra=None):\n    return dout\n"
    sub = ext("\n\n   \n" + long, roots=["lstm_backward"])
    assert sub.heads == ("def lstm_backward(dout, cache, use_stat…",)
    assert len(sub.heads[0]) == 40
    assert sub.describe_line(2) == "line 5 of cell 1 (“def lstm_backward(dout, cache, use_stat…”)"
    assert sub.describe_line(3) == "line 3 (not from the notebook)"


def test_lambda_bound_to_a_name_counts_as_a_function():
    sub = ext("square = lambda x: x * x\n", "print(square(2))\n")
    assert sub.functions == {"square"} and dict(sub.constants) == {}
    assert run(sub)["square"](3) == 9


def test_by_default_every_function_and_class_is_a_root():
    sub = ext("def a():\n    return 1\n", "class B:\n    pass\n", "c = 3\n")
    assert sub.functions == {"a", "B"} and "c = 3" not in sub.source


def test_empty_submission():
    sub = ext("", "   \n", "print('hello')")
    assert (sub.source, sub.line_origin, sub.functions) == ("", (), frozenset())
    assert sub.notes == ("no function or class definitions found",)


def test_non_text_cell_source_is_noted():
    sub = extract_source(["def f():\n    return 1\n", None], "s")
    assert sub.functions == {"f"}
    assert "cell 2: source is not text; cell ignored" in sub.notes


def test_submission_is_frozen():
    sub = ext("def f():\n    pass\n")
    with pytest.raises(dataclasses.FrozenInstanceError):
        sub.source = ""


def test_extract_counts_only_code_cells_and_ignores_markdown_and_raw():
    nb = make_nb(("markdown", "def md(): pass"), "x = 1", ("raw", "def raw(): pass"),
                 "def f():\n    return x\n")
    sub = extract(nb, "n1")
    assert sub.id == "n1" and sub.path is None
    assert sub.functions == {"f"}
    assert sub.line_origin == ((1, 1), (2, 1), (2, 2))
    assert sub == extract_source(["x = 1", "def f():\n    return x\n"], "n1")


# ---------------------------------------------------------------- IPython syntax

def test_magics_and_shell_escapes_are_stripped():
    sub = ext(
        "%matplotlib inline\nimport numpy as np\n  !pip install torch\n",
        "files = !ls\nt = %time f(1)\nnp.dot?\ndef f(x):\n    return np.abs(x)\n",
        "%%time\ndef g():\n    return 2\n",
        "%%capture out\ndef h():\n    return 3\n",
        "%%bash\necho 'def evil(): pass'\n",
        "%%writefile helper.py\ndef sneaky():\n    return 0\n",
    )
    assert sub.functions == {"f", "g", "h"}
    assert "%" not in sub.source and "!" not in sub.source
    assert sub.line_origin == ((1, 2), (2, 4), (2, 5), (3, 2), (3, 3), (4, 2), (4, 3))
    assert sub.notes == (
        "cell 5 skipped: %%bash cell magic (not Python)",
        "cell 6 skipped: %%writefile cell magic (not Python)",
        "stripped 7 IPython magic/shell lines (cells 1, 2, 3, 4)",
    )
    assert run(sub)["f"](-2) == 2


def test_percent_and_bang_lines_inside_strings_and_brackets_are_not_magics():
    cell = ('%matplotlib inline\n'
            'def f(a, b):\n'
            '    """Remainder.\n'
            '    % of nothing\n'
            '    !important\n'
            '    """\n'
            '    same = (a\n'
            '            != b)\n'
            '    return (a\n'
            '            % b), same\n')
    sub = ext(cell)
    assert "    % of nothing\n    !important\n" in sub.source
    f = run(sub)["f"]
    assert f(7, 3) == (1, True)
    assert sub.notes == ("stripped 1 IPython magic/shell line (cell 1)",)


def test_strip_magics_keeps_line_numbers():
    text, count, skip = strip_magics("%load_ext autoreload\nx = 1\n!ls\ny = 2")
    assert (text, count, skip) == ("\nx = 1\n\ny = 2", 2, None)
    assert strip_magics("x = 1\n") == ("x = 1\n", 0, None)
    assert strip_magics("\n%%html\n<b>hi</b>")[2] == "%%html cell magic (not Python)"


# ---------------------------------------------------------------- lines and compiled statements

def test_every_kept_line_is_the_students_own_text():
    cells = ["import numpy as np\n\n\ndef sigmoid(x):\n    # stable\n    z = np.exp(-np.abs(x))\n"
             "    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))\n",
             "class Layer:\n    def __init__(self, n):\n        self.n = n\n\n    def forward(self, x):\n"
             "        return x * self.n * STEPS[0]\n",
             "STEPS = (\n    1,\n    2,\n); label = 'σ(x)'\n"]
    sub = ext(*cells)
    split = [c.split("\n") for c in cells]
    assert len(sub.line_origin) == len(sub.source.splitlines()) == 15
    for line, (cell, lineno) in zip(sub.source.splitlines(), sub.line_origin):
        assert split[cell - 1][lineno - 1].startswith(line)


def _code_lines(code) -> list:
    """Every (instruction range, line) of a code object and those nested in it, but the module's
    RESUME marker (which sits before any line)."""
    found = [(code.co_name, start, line) for start, _, line in code.co_lines()
             if line is not None and not (code.co_name == "<module>" and start == 0)]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            found += _code_lines(const)
    return found


def _compiled_from_source(source: str) -> list:
    return [compile(ast.Module([node], []), "<submission>", "exec", dont_inherit=True)
            for node in ast.parse(source).body]


def _all_sample_submissions():
    for path in sorted(COURSE.glob("assignments/*/samples/*.ipynb")):
        try:
            yield load_submission(path)
        except SubmissionError:
            pass


def test_statements_are_compiled_at_the_lines_of_the_kept_source():
    """The child executes these instead of compiling `source`: every line a traceback can show
    must be the same, for the bundled samples and for statements that move up or down."""
    subs = list(_all_sample_submissions()) + [ext(
        "x = 1\n\n\n\n\nimport numpy as np\nimport os, sys\n\n\n\n\n\n\n\ndef f(a):\n    return os.sep\n",
        "@staticmethod\n\n\ndef g(\n    b=np.pi,\n):\n    return [1 / b for _ in range(2)]\n",
        "from math import (\n    sqrt,\n    floor)\nclass K:\n    y = sqrt(2)\n    def m(self):\n        return floor\n")]
    assert len(subs) >= 20
    for sub in subs:
        assert sub.statements is not None, sub.id
        mine = [_code_lines(c) for c in sub.statements]
        assert mine == [_code_lines(c) for c in _compiled_from_source(sub.source)], sub.id
        assert all(c.co_filename == harness.SOURCE_NAME for c in sub.statements)


def test_statements_ignore_the_graders_own_future_imports():
    """grader.read uses `from __future__ import annotations`; student code must not inherit it."""
    sub = ext("def f(x: int) -> int:\n    return x\n")
    ns = {}
    exec(sub.statements[0], ns)
    assert ns["f"].__annotations__ == {"x": int, "return": int}


def test_a_statement_that_does_not_compile_alone_leaves_compiling_to_the_child():
    sub = ext("def f():\n    return 1\n", "def g():\n    nonlocal q\n    return q\n")
    assert sub.statements is None
    assert "def g" in sub.source


def test_remembered_handout_cells_give_the_same_submission(monkeypatch):
    """Cells left as handed out are parsed, analysed and compiled once for the batch: every
    sample must extract exactly as without that memory, and extracting must not change what is
    remembered (statements that move up are compiled from a copy)."""
    from grader.course.assignment import load
    from grader.results.grade import called_functions
    from grader.read import cells, extract as extraction
    from grader.read.submission import remember_handout

    for name, empty in (("_HANDOUT", set()), ("_EFFECTS", {}), ("_READS", {}), ("_CODE", {})):
        monkeypatch.setattr(extraction, name, empty)
    monkeypatch.setattr(cells, "_KNOWN", {})
    samples = sorted(COURSE.glob("assignments/*/samples/*.ipynb"))
    roots = {name: called_functions(load(name, COURSE)) for name in
             ("gates", "rnn_linear", "rnn_bptt", "lstm", "two_layer")}

    def extracted():
        found = []
        for path in samples:
            try:
                sub = load_submission(path, roots=roots[path.parent.parent.name])
            except SubmissionError:
                continue
            found.append((sub.source, sub.line_origin, sub.notes, dict(sub.constants),
                          sub.functions, [_code_lines(c) for c in sub.statements or ()]))
        return found

    fresh = extracted()
    parsed = []
    original = cells.parse_cell
    monkeypatch.setattr(cells, "parse_cell", lambda src: parsed.append(src) or original(src))
    for name in roots:
        remember_handout(load(name, COURSE).handout)
    parsed.clear()
    assert extracted() == fresh
    first_pass = len(parsed)
    parsed.clear()
    assert extracted() == fresh  # the remembered trees are as they were
    assert len(parsed) == first_pass
    total = sum(len([c for c in read_notebook(p).cells if c.cell_type == "code"])
                for p in samples if p.stem != "truncated_json")
    assert first_pass < total / 2  # most cells came from memory
