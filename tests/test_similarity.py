"""grader similarity on submissions written as students write them (tests/corpus): a disguised
copy (every variable renamed, every comment rewritten) ranks first against its original, the
handout's code raises no pair, published solutions show as such, and the outputs hold what the
issue asks (CSV columns, ranked; the page side by side with clusters)."""
import builtins
import csv
import io
import json
import keyword
import re
import shutil
import statistics
import tokenize
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader.course.assignment import load
from grader.cli import main
from grader.similarity import pairs
from grader.similarity.documents import Document, collect
from grader.similarity.fingerprint import fingerprint
from tests.grading import COURSE

CORPUS = Path(__file__).resolve().parent / "corpus" / "lstm"
ORIGINAL = "annotated"
KEEP = set(dir(builtins)) | {"np", "numpy", "lstm_forward", "lstm_backward", "sigmoid", "self"}


def disguise(source: str, salt: str) -> str:
    """The code as a student hiding a copy writes it: every other name renamed, every comment
    rewritten (imports, attributes such as np.tanh and the graded functions' names kept: the
    copy must still run)."""
    out, previous, importing = [], None, False
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        text = tok.string
        if tok.type == tokenize.NEWLINE:
            importing = False
        elif tok.type == tokenize.NAME and text in ("import", "from") and previous in (
                None, "\n", ":") or tok.start[1] == 0 and text in ("import", "from"):
            importing = True  # module names and what is imported stay as they are
        if (tok.type == tokenize.NAME and not keyword.iskeyword(text) and text not in KEEP
                and previous != "." and not importing and not text.startswith("__")):
            text = f"{salt}_{text[::-1].lower()}"
        elif tok.type == tokenize.COMMENT:
            text = f"# {salt}: my own words about this step"
        out.append((tok.type, text))
        if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = tok.string
    return tokenize.untokenize(out)


def disguised_notebook(path: Path, target: Path, salt: str) -> None:
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            cell["source"] = disguise(source, salt)
    target.write_text(json.dumps(nb))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """The lstm corpus as a class, with a disguised copy of one submission and the handout
    submitted unchanged."""
    folder = tmp_path_factory.mktemp("class")
    for path in CORPUS.glob("*.ipynb"):
        shutil.copy(path, folder / path.name)
    disguised_notebook(CORPUS / f"{ORIGINAL}.ipynb", folder / "zz_copy.ipynb", "mine")
    shutil.copy(load("lstm", COURSE).handout, folder / "untouched.ipynb")
    return folder


def run(*args):
    result = CliRunner().invoke(main, ["similarity", *map(str, args), "--course", str(COURSE)])
    assert result.exit_code == 0, result.output
    return result.output


def test_the_disguise_changes_every_name_and_comment():
    source = "def f(xs):\n    total = 0  # sum them\n    for x in xs:\n        total += np.tanh(x)\n    return total\n"
    changed = disguise(source, "s")
    assert "total" not in changed and "sum them" not in changed
    assert re.search(r"np\s*\.\s*tanh", changed)
    assert compile(changed, "x", "exec")


def test_a_disguised_copy_ranks_first_against_its_original(klass, tmp_path):
    output = run("lstm", klass, "--out", tmp_path, "--min-score", "0")
    with (tmp_path / "similarity.csv").open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["submission_a", "submission_b", "score", "lines_a", "lines_b"]
    rows = rows[1:]
    scores = [float(r[2]) for r in rows]
    assert scores == sorted(scores, reverse=True)
    involving = [r for r in rows if ORIGINAL in r[:2]]
    assert set(involving[0][:2]) == {ORIGINAL, "zz_copy"}, involving[:3]
    copy_rows = [r for r in rows if "zz_copy" in r[:2]]
    assert set(copy_rows[0][:2]) == {ORIGINAL, "zz_copy"}
    top = float(involving[0][2])
    assert top >= 0.9
    # only one pair of the corpus scores higher: two of its notebooks share their functions
    assert rows.index(involving[0]) <= 1
    # the runner-up of the original is well below its copy
    assert float(involving[1][2]) < top - 0.1
    # matched lines name the cells, on both sides
    assert involving[0][3].startswith("cell ") and involving[0][4].startswith("cell ")
    assert "most similar" in output


def test_the_handout_raises_no_pair(klass):
    spec = load("lstm", COURSE)
    found = collect(klass, spec.functions, spec.handout, jobs=1)
    ids = [d.id for d in found.documents]

    def median(boilerplate):
        scored = pairs.score(found.documents, boilerplate)
        return statistics.median([p.score for p in scored.pairs]), scored

    usual, scored = median(found.boilerplate)
    assert usual < 0.3
    # the handout submitted as it was handed out has nothing of its own to compare
    assert ids.index("untouched") in scored.too_small
    assert not [p for p in scored.pairs if "untouched" in (ids[p.a], ids[p.b])]


GIVEN = '''
def numeric_gradient(f, x, eps=1e-6):
    """Central differences of a scalar function f at x (given: do not change)."""
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        i = it.multi_index
        old = x[i]
        x[i] = old + eps
        plus = f(x)
        x[i] = old - eps
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
        it.iternext()
    return grad


def relative_error(a, b):
    return np.max(np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b)))
'''


def test_a_large_given_helper_raises_no_pair(klass):
    """Two students who keep the handout's helpers beside their own, different code: the
    helpers must not make them look alike, even in a class of two (where how common a line is
    tells nothing)."""
    spec = load("lstm", COURSE)
    found = collect(klass, spec.functions, spec.handout, jobs=1)
    by_id = {d.id: d for d in found.documents}
    own = [by_id["range_unpack_split"].code, by_id["annotated"].code]
    handout = fingerprint(GIVEN).hashes
    alone = pairs.score([Document(f"s{i}", c, (), fingerprint(c)) for i, c in enumerate(own)],
                        handout).pairs[0].score
    kept = [GIVEN + "\n" + c for c in own]
    documents = [Document(f"s{i}", c, (), fingerprint(c)) for i, c in enumerate(kept)]
    excluded = pairs.score(documents, handout).pairs[0].score
    counted = pairs.score(documents, np.zeros(0, dtype=np.int64)).pairs[0].score
    assert abs(excluded - alone) < 0.05
    assert counted > 2 * excluded  # what the exclusion prevents


def test_published_solutions_show_as_references(klass, tmp_path):
    published = tmp_path / "published"
    published.mkdir()
    # a tutorial's solution as a .py file: the copy's original code, outside any notebook
    nb = json.loads((CORPUS / "range_unpack_split.ipynb").read_text())
    code = "\n\n".join("".join(c["source"]) if isinstance(c["source"], list) else c["source"]
                       for c in nb["cells"] if c["cell_type"] == "code")
    (published / "tutorial.py").write_text(code)
    out = tmp_path / "out"
    run("lstm", klass, "--out", out, "--reference", published)
    with (out / "similarity.csv").open() as handle:
        rows = list(csv.reader(handle))[1:]
    with_tutorial = [r for r in rows if "reference:tutorial" in r[:2]]
    assert with_tutorial and float(with_tutorial[0][2]) >= 0.95
    assert "range_unpack_split" in with_tutorial[0][:2]
    assert with_tutorial[0][3].startswith(("lines ", "cell "))
    page = (out / "similarity.html").read_text()
    assert 'class="ref"' in page and "reference:tutorial" in page


def test_the_page_shows_pairs_side_by_side_and_clusters(klass, tmp_path):
    run("lstm", klass, "--out", tmp_path)
    page = (tmp_path / "similarity.html").read_text()
    assert "<mark>" in page and 'id="pair-1"' in page
    assert "Clusters of three or more" in page
    assert "untouched: too little code of its own" in page
    assert "<script" not in page
    # student code is shown as text, never as markup
    assert "<td>" not in page.split("Ranked pairs")[0]


def test_bad_input_is_named(tmp_path):
    result = CliRunner().invoke(main, ["similarity", "lstm", str(tmp_path / "missing"), "--out",
                                       str(tmp_path / "o"), "--course", str(COURSE)])
    assert result.exit_code != 0 and "no such file or folder" in result.output
    (tmp_path / "class").mkdir()
    shutil.copy(CORPUS / f"{ORIGINAL}.ipynb", tmp_path / "class" / "a.ipynb")
    (tmp_path / "class" / "b.ipynb").write_text("{not json")
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["similarity", "lstm", str(tmp_path / "class"), "--out",
                                       str(tmp_path / "o"), "--course", str(COURSE),
                                       "--reference", str(tmp_path / "empty")])
    assert result.exit_code != 0 and "no notebook (.ipynb) or Python file" in result.output
    result = CliRunner().invoke(main, ["similarity", "lstm", str(tmp_path / "class"), "--out",
                                       str(tmp_path / "o"), "--course", str(COURSE)])
    assert result.exit_code == 0, result.output
    assert "not compared: b.ipynb" in result.output
    assert "b.ipynb" in (tmp_path / "o" / "similarity.html").read_text()
