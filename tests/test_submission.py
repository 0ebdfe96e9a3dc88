"""Tests of the read stage: reading notebook files, finding submissions, extracting definitions."""
from __future__ import annotations

import ast
import dataclasses
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat import v3, v4

from grader.sandbox import harness
from grader.submission import (Submission, SubmissionError, discover, discover_found, extract,
                               extract_source, load_submission, read_notebook, strip_magics)


# ---------------------------------------------------------------- helpers

def make_nb(*cells):
    """A v4 notebook; each cell is a code source string or ("markdown" | "raw", source)."""
    nb = v4.new_notebook()
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(v4.new_code_cell(cell))
        elif cell[0] == "markdown":
            nb.cells.append(v4.new_markdown_cell(cell[1]))
        else:
            nb.cells.append(v4.new_raw_cell(cell[1]))
    return nb


def write_nb(path: Path, *cells) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_nb(*cells), str(path))
    return path


def run(sub: Submission) -> dict:
    ns: dict = {}
    exec(compile(sub.source, f"<{sub.id}>", "exec"), ns)
    return ns


def ext(*cells) -> Submission:
    return extract_source(list(cells), "s")


def read_error(path: Path, **kw) -> str:
    with pytest.raises(SubmissionError) as info:
        read_notebook(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(path.name + ": ")
    return msg


GOOD = "import numpy as np\n\ndef f(x):\n    return np.tanh(x)\n"


# ---------------------------------------------------------------- reading

def test_v3_notebook_is_upgraded_to_current_v4(tmp_path):
    nb3 = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[
        v3.new_code_cell(input="import numpy as np"),
        v3.new_text_cell("markdown", source="# Part 1"),
        v3.new_code_cell(input="def f(x):\n    return np.tanh(x)\n"),
        v3.new_code_cell(input="print(f(1))"),
    ])])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nb3, version=3), encoding="utf-8")
    assert json.loads(path.read_text())["nbformat"] == 3

    nb = read_notebook(path)
    assert (nb.nbformat, nb.nbformat_minor) == (4, nbformat.v4.nbformat_minor)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown", "code", "code"]
    sub = load_submission(path)
    assert sub.id == "old" and sub.path == path
    assert sub.functions == {"f"}
    assert sub.source == "import numpy as np\ndef f(x):\n    return np.tanh(x)\n"
    assert sub.line_origin == ((1, 1), (2, 1), (2, 2))  # markdown cells are not counted
    assert sub.notes == ()


def test_old_v4_minor_version_is_upgraded(tmp_path):
    raw = {"nbformat": 4, "nbformat_minor": 0, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["def f():\n", "    return 1\n"]}]}
    path = tmp_path / "v40.ipynb"
    path.write_text(json.dumps(raw))
    nb = read_notebook(path)
    assert nb.nbformat_minor == nbformat.v4.nbformat_minor
    assert "id" in nb.cells[0]
    sub = extract(nb, "v40")
    assert sub.source == "def f():\n    return 1\n" and sub.notes == ()


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(make_nb(GOOD)).encode())
    assert load_submission(path).functions == {"f"}


def test_crlf_line_endings_in_file_and_in_cell_sources(tmp_path):
    nb = make_nb("import numpy as np\r\n\r\ndef f(x):\r\n    return np.tanh(x)\r\n")
    path = tmp_path / "crlf.ipynb"
    path.write_bytes(nbformat.writes(nb).replace("\n", "\r\n").encode())
    assert b"\r\n" in path.read_bytes()
    sub = load_submission(path)
    assert "\r" not in sub.source
    assert sub.source == "import numpy as np\ndef f(x):\n    return np.tanh(x)\n"
    assert sub.line_origin == ((1, 1), (1, 3), (1, 4))
    assert run(sub)["f"](0.0) == 0.0


def test_lone_carriage_returns_count_as_line_breaks():
    sub = ext("x = 1\rdef f():\r    return 2\r")
    assert sub.source == "x = 1\ndef f():\n    return 2\n"
    assert sub.line_origin == ((1, 1), (1, 2), (1, 3))


@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_empty_file(tmp_path, content):
    path = tmp_path / "answers.ipynb"
    path.write_bytes(content)
    assert read_error(path) == "answers.ipynb: empty file"


def test_truncated_json_anywhere(tmp_path):
    nb = make_nb(GOOD, "x = 1")
    nb.metadata["flags"] = [None, True, False, 12.5]
    text = nbformat.writes(nb).rstrip()
    path = tmp_path / "answers.ipynb"
    for cut in range(1, len(text)):
        path.write_text(text[:cut])
        lines = text[:cut].rstrip().split("\n")
        assert read_error(path) == (f"answers.ipynb: not valid JSON (truncated at line {len(lines)}, "
                                    f"column {len(lines[-1]) + 1})"), cut


def test_invalid_json_that_is_not_truncated(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text('{"cells": [] oops}')
    assert read_error(path) == "a.ipynb: not valid JSON (Expecting ',' delimiter at line 1, column 14)"


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert read_error(path) == "junk.ipynb: not UTF-8 text (invalid byte 0x89 at offset 0)"


def test_nul_bytes_in_utf8_text(tmp_path):
    path = tmp_path / "nul.ipynb"
    path.write_bytes(b'{"cells": \x00}')
    assert read_error(path) == "nul.ipynb: binary data, not a notebook (NUL byte at offset 10)"


def test_non_utf8_text_names_byte_and_offset(tmp_path):
    data = nbformat.writes(make_nb("s = 'café'\n")).encode("latin-1")
    path = tmp_path / "latin.ipynb"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    assert read_error(path) == f"latin.ipynb: not UTF-8 text (invalid byte 0xe9 at offset {offset})"
    path.write_bytes(b"\xef\xbb\xbf" + data)  # the offset counts in the file, BOM included
    assert read_error(path).endswith(f"at offset {offset + 3})")


@pytest.mark.parametrize("text, kind", [("[1, 2]", "a list"), ('"cells"', "a string"),
                                        ("3", "a number"), ("null", "null")])
def test_json_that_is_not_an_object(tmp_path, text, kind):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    assert read_error(path) == f"x.ipynb: JSON but not a notebook (top level is {kind}, not an object with 'cells')"


def test_json_object_without_cells(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text('{"nbformat": 4, "metadata": {}}')
    assert read_error(path) == "x.ipynb: JSON but not a notebook (no 'cells' list)"


def test_oversized_file(tmp_path):
    path = write_nb(tmp_path / "big.ipynb", GOOD)
    size = path.stat().st_size
    assert read_error(path, max_bytes=size - 1) == f"big.ipynb: file too large (over {size - 1} bytes)"
    assert read_notebook(path, max_bytes=size).cells[0].source == GOOD


def test_directory_and_missing_file(tmp_path):
    (tmp_path / "x.ipynb").mkdir()
    assert read_error(tmp_path / "x.ipynb") == "x.ipynb: is a directory, not a notebook file"
    assert read_error(tmp_path / "gone.ipynb") == "gone.ipynb: no such file"


def test_notebook_failing_strict_validation_is_still_read_with_a_note(tmp_path):
    raw = json.loads(nbformat.writes(make_nb(GOOD, ("markdown", "hi"))))
    raw["metadata"]["kernelspec"] = 3  # schema wants an object
    del raw["cells"][0]["outputs"]  # and every code cell has outputs
    path = tmp_path / "loose.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path)
    assert sub.functions == {"f"}
    assert len(sub.notes) == 1
    assert sub.notes[0].startswith("loose.ipynb: does not pass strict notebook validation (")
    assert sub.notes[0].endswith("; code cells read anyway")


def test_malformed_notebook_json_is_salvaged(tmp_path):
    raw = {"cells": [{"cell_type": "code", "source": ["def g():\n", "    return 2\n"]},
                     "not a cell",
                     {"cell_type": "markdown", "source": "text"},
                     {"cell_type": "code", "source": 42},
                     {"cell_type": "code", "source": "def h(): return 3"}]}
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path)
    assert sub.functions == {"g", "h"}
    assert sub.line_origin[-1] == (3, 1)  # the unusable code cell still counts as cell 2
    assert "odd.ipynb: no 'nbformat' version field; code cells read as v4" in sub.notes
    assert "cell 2: source is not text; cell ignored" in sub.notes


def test_load_submission_id_defaults_to_stem(tmp_path):
    path = write_nb(tmp_path / "alice_hw2.ipynb", GOOD)
    assert load_submission(path).id == "alice_hw2"
    assert load_submission(path, "A-17").id == "A-17"
    with pytest.raises(SubmissionError, match=r"^nope\.ipynb: no such file$"):
        load_submission(tmp_path / "nope.ipynb")


# ---------------------------------------------------------------- extraction

def test_reordered_cells_still_give_runnable_source():
    sub = ext(
        "def loss(x):\n    return SCALE * helper(x)\n",
        "print(loss(3))\n",
        "import numpy as np\n",
        "def helper(x):\n    return np.square(x)\n",
        "SCALE = 2\n",
    )
    assert sub.functions == {"loss", "helper"}
    ns = run(sub)
    assert ns["loss"](3) == 18
    kinds = [type(n).__name__ for n in ast.parse(sub.source).body]
    assert kinds == ["Import", "Assign", "FunctionDef", "FunctionDef"]  # imports, constants, defs
    assert sub.source.index("def loss") < sub.source.index("def helper")  # defs keep notebook order


def test_redefinition_last_wins_as_in_a_top_to_bottom_run():
    sub = ext(
        "def f(x):\n    return 'first'\n",
        "def f(x):\n    return 'second'\n",
        "K = 1\n",
        "K = 2\n",
        "g = 5\n",
        "def g():\n    return 'g'\n",
        "def h():\n    return 'h'\n",
        "h = 7\n",
    )
    assert sub.source.count("def f") == 1
    ns = run(sub)
    assert ns["f"](0) == "second"
    assert ns["K"] == 2 and dict(sub.constants) == {"K": 2, "h": 7}
    assert ns["g"]() == "g" and ns["h"] == 7
    assert sub.functions == {"f", "g"}


def test_decorators_are_kept_and_defined_first():
    sub = ext(
        "@twice\ndef f(x):\n    return x + 1\n",
        "def twice(fn):\n    return lambda x: fn(fn(x))\n",
    )
    assert "@twice\ndef f(x):" in sub.source
    assert run(sub)["f"](0) == 2
    assert sub.describe_line(sub.source.splitlines().index("@twice") + 1) == "cell 1, line 1"


def test_redefined_base_class_goes_before_its_subclass():
    sub = ext(
        "class Base:\n    k = 1\n",
        "class Child(Base):\n    pass\n",
        "class Base:\n    k = 2\n",
    )
    ns = run(sub)
    assert ns["Child"].k == 2


def test_syntax_error_cell_is_skipped_with_note_and_others_kept():
    sub = ext(
        "def good_one():\n    return 1\n",
        "x = 3\n\ndef broken(x)\n    return x\n",
        "def good_two():\n    return 2\n",
    )
    assert sub.functions == {"good_one", "good_two"}
    assert "broken" not in sub.source and "x = 3" not in sub.source
    assert sub.notes == ("cell 2 skipped: syntax error at line 3 (expected ':')",)
    assert sub.line_origin[-2:] == ((3, 1), (3, 2))


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
    assert f.__doc__.splitlines()[1:3] == ["    % of nothing", "    !important"]
    assert sub.notes == ("stripped 1 IPython magic/shell line (cell 1)",)


def test_strip_magics_keeps_line_numbers():
    text, count, skip = strip_magics("%load_ext autoreload\nx = 1\n!ls\ny = 2")
    assert (text, count, skip) == ("\nx = 1\n\ny = 2", 2, None)
    assert strip_magics("x = 1\n") == ("x = 1\n", 0, None)
    assert strip_magics("\n%%html\n<b>hi</b>")[2] == "%%html cell magic (not Python)"


def test_literal_constants_kept_and_other_assignments_dropped():
    sub = ext(
        "import numpy as np\n"
        "n_samples = 20\n"
        "neg = -3\n"
        "eps = -1e-5\n"
        "shape = (2, 3)\n"
        "H, D = 4, 5\n"
        "sizes = [1, (2, 3), None]\n"
        "lr: float = 0.1\n"
        "name = 'rnn'\n"
        "flag = True\n"
        "a = b = 7\n"
        "W = np.zeros(3)\n"
        "big = 2 * 10\n"
        "cfg = {'lr': 0.1}\n"
        "data = load()\n"
        "n_samples += 1\n"
        "def f():\n    return n_samples\n"
    )
    expected = {"n_samples": 20, "neg": -3, "eps": -1e-5, "shape": (2, 3), "H": 4, "D": 5,
                "sizes": [1, (2, 3), None], "lr": 0.1, "name": "rnn", "flag": True, "a": 7, "b": 7}
    assert dict(sub.constants) == expected
    for dropped in ("np.zeros", "big", "cfg", "load()", "+="):
        assert dropped not in sub.source
    ns = run(sub)
    assert {k: ns[k] for k in expected} == expected
    assert "lr: float = 0.1" in sub.source
    assert "cell 1, line 16: n_samples is reassigned by code that is not kept; " \
           "the definition from cell 1 is used" in sub.notes
    with pytest.raises(TypeError):
        sub.constants["neg"] = 0  # read-only


def test_rebinding_by_dropped_code_is_noted_when_it_matters():
    sub = ext("import numpy as np\nlr = 0.5\ndef f(x):\n    return x * lr\ndef g(x):\n    return x\n",
              "for step in range(3):\n    lr = lr / 2\nf = np.vectorize(f)\ng2 = g\n")
    assert sub.notes == (
        "cell 2, line 3: f is reassigned by code that is not kept; the definition from cell 1 is used",
        "cell 2, line 2: lr is reassigned by code that is not kept; the definition from cell 1 is used",
    )


def test_lambda_bound_to_a_name_counts_as_a_function():
    sub = ext("square = lambda x: x * x\n", "print(square(2))\n")
    assert sub.functions == {"square"} and dict(sub.constants) == {}
    assert run(sub)["square"](3) == 9


def test_dunder_assignments_are_dropped():
    sub = ext("__builtins__ = None\ndef f():\n    return len('ab')\n")
    assert "__builtins__" not in sub.source
    assert run(sub)["f"]() == 2
    assert "cell 1, line 1: assignment to __builtins__ dropped" in sub.notes


def test_imports_kept_only_when_used():
    sub = ext(
        "import os\nimport numpy as np\nimport matplotlib.pyplot as plt\nimport json, math as m\n",
        "import numpy as np\nfrom collections import *\nfrom functools import reduce\n",
        "from numpy import exp\ndef exp(x):\n    return m.e ** x\n",
        "def f(p):\n    return os.path.basename(p)\n",
        "plt.plot([1, 2])\nplt.show()\n",
    )
    lines = sub.source.splitlines()
    assert lines[:4] == ["import os", "import numpy as np", "import math as m", "from collections import *"]
    assert "plt" not in sub.source and "json" not in sub.source and "reduce" not in sub.source
    assert "from numpy import exp" not in sub.source  # shadowed by the student's exp
    assert sub.line_origin[:4] == ((1, 1), (1, 2), (1, 4), (2, 2))
    ns = run(sub)
    assert ns["f"]("/a/b.txt") == "b.txt" and ns["exp"](0) == 1


def test_numpy_as_np_always_kept_and_future_imports_first():
    sub = ext("def f():\n    return 1\n", "from __future__ import annotations\nimport numpy as np\n")
    assert sub.source.splitlines()[:2] == ["from __future__ import annotations", "import numpy as np"]
    assert run(sub)["f"]() == 1


def test_relative_imports_are_dropped_with_a_note():
    sub = ext("from .utils import g\ndef f():\n    return g()\n")
    assert "from .utils" not in sub.source
    assert "cell 1, line 1: relative import dropped" in sub.notes


def test_training_loops_prints_plots_and_calls_are_not_kept(capsys):
    sub = ext(
        "import numpy as np\nimport matplotlib.pyplot as plt\n",
        "def step(w):\n    return w - 0.1\n",
        "w = 1.0\nlosses = []\nfor epoch in range(100):\n    w = step(w)\n    losses.append(w)\n"
        "print('loss', w)\nplt.plot(losses)\nplt.show()\nstep(3)\n",
        "if __name__ == '__main__':\n    print('main')\n",
        "with open('log.txt', 'w') as fh:\n    fh.write('x')\n",
        "try:\n    import torch\nexcept ImportError:\n    pass\n",
        "'a docstring-like expression'\nassert step(1) == 0.9\n",
    )
    for gone in ("for epoch", "print", "plt", "step(3)", "__main__", "open(", "torch", "assert"):
        assert gone not in sub.source
    assert dict(sub.constants) == {"w": 1.0, "losses": []}  # literals; the loop is not top level
    assert sub.notes == ()  # no kept code reads the global w, so its reassignment does not matter
    run(sub)
    assert capsys.readouterr().out == ""


def test_line_origin_and_describe_line():
    cells = ["import numpy as np\nx = 3; LIMIT = 10  # two statements\n",
             "\n\n# helper\n@staticmethod\ndef f(a):\n    return a\n\nprint(f(1))\n",
             "π = 3.14; label = 'σ(x)'; z = f(2)\n"]
    sub = ext(*cells)
    assert sub.source.splitlines() == ["import numpy as np", "x = 3", "LIMIT = 10", "π = 3.14",
                                       "label = 'σ(x)'", "@staticmethod", "def f(a):", "    return a"]
    assert sub.line_origin == ((1, 1), (1, 2), (1, 2), (3, 1), (3, 1), (2, 4), (2, 5), (2, 6))
    assert sub.describe_line(7) == "cell 2, line 5"
    assert sub.describe_line(1) == "cell 1, line 1"
    assert sub.describe_line(9) == "line 9 (not from the notebook)"
    assert sub.describe_line(0) == "line 0 (not from the notebook)"
    assert len(sub.line_origin) == len(sub.source.splitlines())


def test_every_kept_line_is_the_students_own_text():
    cells = ["import numpy as np\n\n\ndef sigmoid(x):\n    # stable\n    z = np.exp(-np.abs(x))\n"
             "    return np.where(x >= 0, 1 / (1 + z), z / (1 + z))\n",
             "class Layer:\n    def __init__(self, n):\n        self.n = n\n\n    def forward(self, x):\n"
             "        return x * self.n\n",
             "STEPS = (\n    1,\n    2,\n)\n"]
    sub = ext(*cells)
    split = [c.split("\n") for c in cells]
    for line, (cell, lineno) in zip(sub.source.splitlines(), sub.line_origin):
        assert split[cell - 1][lineno - 1] == line


def test_extract_counts_only_code_cells_and_ignores_markdown_and_raw():
    nb = make_nb(("markdown", "def md(): pass"), "x = 1", ("raw", "def raw(): pass"),
                 "def f():\n    return x\n")
    sub = extract(nb, "n1")
    assert sub.id == "n1" and sub.path is None
    assert sub.functions == {"f"}
    assert sub.line_origin == ((1, 1), (2, 1), (2, 2))
    assert sub == extract_source(["x = 1", "def f():\n    return x\n"], "n1")


def test_unresolved_globals_are_noted():
    sub = ext("W = make_weights()\n", "def predict(x):\n    return W @ x + bias\n")
    assert sub.notes == (
        "W is read by predict but defined nowhere in the kept code; it is assigned in cell 1, "
        "line 1 by code that is not kept",
        "bias is read by predict but defined nowhere in the kept code",
    )


def test_unresolved_globals_name_their_readers():
    sub = ext("@register\nclass Net(Base):\n    size = SIZE\n    def forward(self, xs):\n"
              "        return [x * SCALE for x in xs]\n",
              "for i in range(3):\n    SCALE = i\n",
              "if True:\n    def register(c):\n        return c\n")
    assert sub.notes == (
        "Base is read by top-level code but defined nowhere in the kept code",
        "SCALE is read by forward but defined nowhere in the kept code; it is assigned in cell 2, "
        "line 2 by code that is not kept",
        "SIZE is read by Net but defined nowhere in the kept code",
        "register is read by top-level code but defined nowhere in the kept code; it is assigned "
        "in cell 3, line 2 by code that is not kept",
    )
    assert ext("from math import *\ndef f():\n    return tau + anything\n").notes == ()


def test_extract_on_a_v3_node_does_not_change_it():
    nb3 = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[v3.new_code_cell(input="def f(): pass")])])
    before = json.dumps(nb3, sort_keys=True)
    assert extract(nb3, "old").functions == {"f"}
    assert json.dumps(nb3, sort_keys=True) == before


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


# ---------------------------------------------------------------- discovery

def test_discover_single_notebook_file(tmp_path):
    path = write_nb(tmp_path / "bob.ipynb", GOOD)
    assert discover(path) == [("bob", path, None)]


def test_discover_missing_path_raises(tmp_path):
    with pytest.raises(SubmissionError, match="no such file or folder"):
        discover(tmp_path / "nothing")


def test_discover_folder_rules(tmp_path):
    root = tmp_path / "subs"
    outside = write_nb(tmp_path / "elsewhere" / "secret.ipynb", GOOD)
    write_nb(root / "zed.ipynb", GOOD)
    write_nb(root / "amy.ipynb", GOOD)
    write_nb(root / "carl" / "homework.ipynb", GOOD)
    write_nb(root / "dana" / "b_final.ipynb", GOOD)
    write_nb(root / "dana" / "a_draft.ipynb", GOOD)
    write_nb(root / "dana" / ".ipynb_checkpoints" / "0-checkpoint.ipynb", GOOD)
    write_nb(root / ".ipynb_checkpoints" / "amy-checkpoint.ipynb", GOOD)
    write_nb(root / ".hidden.ipynb", GOOD)
    write_nb(root / ".git" / "stash.ipynb", GOOD)
    (root / "empty_folder").mkdir()
    (root / "notes_only").mkdir()
    (root / "notes_only" / "README.md").write_text("hi")
    write_nb(root / "ckpt_only" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", GOOD)
    (root / "README.txt").write_text("not a notebook")
    (root / "dir.ipynb").mkdir()
    (root / "escape.ipynb").symlink_to(outside)
    (root / "alias.ipynb").symlink_to(root / "amy.ipynb")
    (root / "linked_out").symlink_to(outside.parent, target_is_directory=True)
    (root / "fay").mkdir()
    (root / "fay" / "hw.ipynb").symlink_to(outside)
    write_nb(root / "zed" / "hw.ipynb", GOOD)  # same id as zed.ipynb

    found = discover(root)
    assert [f[0] for f in found] == ["alias", "amy", "carl", "dana", "dir", "escape", "fay",
                                     "linked_out", "zed", "zed"]
    got = {(i, n): (p, e) for n, (i, p, e) in enumerate(found)}
    assert found[0] == ("alias", root / "alias.ipynb", None)
    assert found[1] == ("amy", root / "amy.ipynb", None)
    assert found[2] == ("carl", root / "carl" / "homework.ipynb", None)
    assert found[3] == ("dana", root / "dana" / "a_draft.ipynb", None)  # lexicographically first
    assert found[4] == ("dir", None, "dir.ipynb: is a directory, not a notebook file")
    assert found[5] == ("escape", None, "escape.ipynb: symlink leading outside the submissions folder (not followed)")
    assert found[6] == ("fay", None, "fay/hw.ipynb: symlink leading outside the submissions folder (not followed)")
    assert found[7] == ("linked_out", None, "linked_out: symlink leading outside the submissions folder (not followed)")
    assert found[8] == ("zed", root / "zed.ipynb", None)
    assert found[9] == ("zed", None, "zed/: duplicate submission id 'zed', already used by zed.ipynb; rename one of them")
    assert len(got) == 10
    notes = {f.id: f.notes for f in discover_found(root)}
    assert notes["dana"] == ("folder dana/ holds 2 notebooks (a_draft.ipynb, b_final.ipynb); graded a_draft.ipynb",)
    assert notes["carl"] == ()


def test_discover_duplicate_file_ids_differing_in_suffix_case(tmp_path):
    write_nb(tmp_path / "x.ipynb", GOOD)
    write_nb(tmp_path / "x.IPYNB", GOOD)
    found = discover(tmp_path)
    assert found[0] == ("x", tmp_path / "x.IPYNB", None)
    assert found[1] == ("x", None, "x.ipynb: duplicate submission id 'x', already used by x.IPYNB; rename one of them")


def test_discovered_entries_load(tmp_path):
    write_nb(tmp_path / "a.ipynb", GOOD)
    write_nb(tmp_path / "b" / "nb.ipynb", "def g():\n    return 1\n")
    subs = [load_submission(p, i) for i, p, e in discover(tmp_path) if e is None]
    assert [(s.id, s.functions) for s in subs] == [("a", {"f"}), ("b", {"g"})]
    assert os.path.samefile(subs[1].path, tmp_path / "b" / "nb.ipynb")


# ---------------------------------------------------------------- precompiled statements

def _code_lines(code) -> list:
    """Every (instruction range, line) of a code object and those nested in it, but the module's
    RESUME marker (which sits before any line)."""
    import types
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
    course = Path(__file__).resolve().parent.parent / "assignments"
    for path in sorted(course.glob("*/samples/*.ipynb")):
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
    """extract.py uses `from __future__ import annotations`; student code must not inherit it."""
    sub = ext("def f(x: int) -> int:\n    return x\n")
    ns = {}
    exec(sub.statements[0], ns)
    assert ns["f"].__annotations__ == {"x": int, "return": int}


def test_a_statement_that_does_not_compile_alone_leaves_compiling_to_the_child():
    sub = ext("def f():\n    return 1\n", "def g():\n    nonlocal q\n    return q\n")
    assert sub.statements is None
    assert "def g" in sub.source


def test_remembered_handout_cells_give_the_same_submission(monkeypatch):
    """Cells left as handed out are parsed and compiled once for the batch: every sample must
    extract exactly as without that memory, and extracting must not change what is remembered
    (statements that move up are compiled from a copy)."""
    from grader import extract as extraction
    from grader.assignment import load
    from grader.submission import remember_handout

    course = Path(__file__).resolve().parent.parent
    monkeypatch.setattr(extraction, "_KNOWN_CELLS", {})
    monkeypatch.setattr(extraction, "_KNOWN_CODE", {})
    samples = [p for p in sorted(course.glob("assignments/*/samples/*.ipynb"))]

    def extracted():
        found = []
        for path in samples:
            try:
                sub = load_submission(path)
            except SubmissionError:
                continue
            found.append((sub.source, sub.line_origin, sub.notes, dict(sub.constants),
                          sub.functions, [_code_lines(c) for c in sub.statements or ()]))
        return found

    fresh = extracted()
    parsed = []
    original = extraction._strip_and_parse
    monkeypatch.setattr(extraction, "_strip_and_parse",
                        lambda src: parsed.append(src) or original(src))
    for name in ("gates", "rnn_linear", "rnn_bptt", "lstm"):
        remember_handout(load(name, course).handout)
    parsed.clear()
    assert extracted() == fresh
    first_pass = len(parsed)
    parsed.clear()
    assert extracted() == fresh  # the remembered trees are as they were
    assert len(parsed) == first_pass
    total = sum(len(code_cells_of(p)) for p in samples)
    assert first_pass < total / 2  # most cells came from memory


def code_cells_of(path):
    try:
        return [c for c in read_notebook(path).cells if c.cell_type == "code"]
    except SubmissionError:
        return []


# ---------------------------------------------------------------- grading's fast read

def _raw_variants():
    """Raw current-format notebook JSON: valid, valid once nbformat drops transient metadata,
    and invalid in ways nbformat's conversion trips over or only its validation finds."""
    valid = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# hi"),
                                            nbformat.v4.new_code_cell(GOOD)])
    valid = json.loads(nbformat.writes(valid))  # sources as lists of lines, as editors write
    transient = json.loads(json.dumps(valid))
    transient["metadata"].update(orig_nbformat="three", signature="sha256:0")
    no_cell_metadata = json.loads(json.dumps(valid))
    del no_cell_metadata["cells"][1]["metadata"]
    bad_field = json.loads(json.dumps(valid))
    bad_field["cells"][1]["execution_count"] = "one"
    not_a_dict = json.loads(json.dumps(valid))
    not_a_dict["cells"].insert(0, "a stray string")
    return {"valid": valid, "transient": transient, "no_cell_metadata": no_cell_metadata,
            "bad_field": bad_field, "not_a_dict": not_a_dict}


@pytest.mark.parametrize("kind", sorted(_raw_variants()))
def test_read_code_cells_says_what_read_notebook_says(tmp_path, kind):
    from grader.notebook import code_cells, read_code_cells, read_notes

    path = tmp_path / f"{kind}.ipynb"
    path.write_text(json.dumps(_raw_variants()[kind]))
    nb = read_notebook(path)
    sources, notes = code_cells(nb)
    assert read_code_cells(path) == (sources, list(read_notes(nb)) + notes)
    assert GOOD in sources
    assert bool(read_notes(nb)) == (kind not in ("valid", "transient"))
