"""The realistic corpus of issue 15 (tests/corpus/<assignment>/): notebooks written the way
students write them, with the module-level helpers, computed constants, aliases, optional
imports, decorators and noise cells that ordinary Python run top to bottom in Jupyter accepts.

Each notebook is graded through the real extraction and sandbox: a correct one must get full
marks, a buggy one must lose points in the function its mistake is in (and nowhere else) with
that mistake named. The correct ones are also run top to bottom in a real Jupyter kernel, and
their graded functions compared with the reference there, so the "correct" label is a fact.
"""
import inspect
import shutil
import tomllib

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from reference import gates, lstm, rnn_bptt, rnn_linear
from tests.grading import COURSE, assignment, grade_notebook

CORPUS = COURSE / "tests" / "corpus"
REFERENCES = {"gates": gates, "rnn_linear": rnn_linear, "rnn_bptt": rnn_bptt, "lstm": lstm}
MIN_CORRECT, MIN_BUGGY = 12, 5
#: the structures issue 15 names (and a few more students write), each of which must appear in
#: a correct notebook of at least two assignments
REQUIRED_STRUCTURES = {
    "vectorize-helper", "partial-helper", "instance-helper", "namedtuple",
    "defaultdict-mutated", "call-constant", "operator-constant", "attribute-constant",
    "literal-dict", "tuple-unpack", "alias", "rebinding", "redefined-later", "if-block",
    "try-import", "default-global", "postponed-annotation", "type-checking", "decorator",
    "dataclass", "intenum", "lambda-dict", "helper-later-cell", "magic", "shell",
    "training-loop", "missing-file-noise", "plot", "global-counter", "with-block",
}
#: relative error allowed between a correct notebook's functions and the reference
RTOL = 1e-9


def manifest(name):
    return tomllib.loads((CORPUS / name / "CORPUS.toml").read_text(encoding="utf-8"))


NOTEBOOKS = [(name, stem) for name in REFERENCES for stem in sorted(manifest(name))]
CORRECT = [(name, stem) for name, stem in NOTEBOOKS
           if manifest(name)[stem]["expect"] == "correct"]


@pytest.mark.parametrize("name", REFERENCES)
def test_manifest_lists_the_notebooks_of_its_folder(name):
    entries = manifest(name)
    assert {p.stem for p in (CORPUS / name).glob("*.ipynb")} == set(entries)
    functions = set(assignment(name).functions)
    for stem, entry in entries.items():
        assert entry["expect"] in ("correct", "buggy"), stem
        assert entry["structures"], stem
        if entry["expect"] == "buggy":
            assert entry["mistake"] and entry["codes"], stem
            assert entry["functions_wrong"] and set(entry["functions_wrong"]) <= functions, stem
        else:
            assert not {"mistake", "functions_wrong", "codes"} & set(entry), stem
    kinds = [e["expect"] for e in entries.values()]
    assert kinds.count("correct") >= MIN_CORRECT and kinds.count("buggy") >= MIN_BUGGY


def test_every_structure_is_in_correct_notebooks_of_two_assignments():
    seen = {}
    for name, stem in CORRECT:
        for tag in manifest(name)[stem]["structures"]:
            seen.setdefault(tag, set()).add(name)
    thin = {tag: sorted(seen.get(tag, ())) for tag in REQUIRED_STRUCTURES
            if len(seen.get(tag, ())) < 2}
    assert not thin, thin


def _lost(graded):
    lost = {}
    for v in graded.verdicts:
        lost[v.case.function] = lost.get(v.case.function, 0) + v.case.points - v.score
    return {f: round(points, 4) for f, points in lost.items() if points > 1e-9}


def _explain(graded):
    lines = [f"score {graded.score:g}", f"error: {graded.error}"]
    lines += [f"note: {note}" for note in graded.notes]
    lines += [f"[{v.case.function}] {v.case.name}: {' | '.join(v.messages)} {v.codes}"
              for v in graded.verdicts if not v.passed]
    return "\n".join(lines)


@pytest.mark.parametrize("name, stem", NOTEBOOKS)
def test_corpus_notebook_is_graded_as_labelled(name, stem):
    entry = manifest(name)[stem]
    graded = grade_notebook(name, CORPUS / name / f"{stem}.ipynb")
    spec = assignment(name)
    if entry["expect"] == "correct":
        assert graded.score == pytest.approx(spec.max_score, abs=1e-9), _explain(graded)
        return
    lost = _lost(graded)
    assert graded.score < spec.max_score, _explain(graded)
    assert set(lost) == set(entry["functions_wrong"]), (lost, _explain(graded))
    codes = {c for v in graded.verdicts if v.case.function == entry["functions_wrong"][0]
             for c in v.codes}
    assert codes & set(entry["codes"]), (sorted(codes), _explain(graded))


# ---- the correct notebooks, run as Jupyter runs them ------------------------------------------
# Each probe calls the graded functions the same way on a module (the reference) and on the
# kernel's namespace; backward functions get the cache of the same namespace's forward. The
# probe's source is sent to the kernel, so both sides run the very same calls.

def probe_gates(ns, inputs):
    out = {"sigmoid": ns["sigmoid"](inputs["sx"]),
           "sigmoid_backward": ns["sigmoid_backward"](inputs["sd"], inputs["so"])}
    f, cache = ns["neuron_forward"](inputs["w"], inputs["x"])
    out["neuron_forward"] = f
    out["neuron_backward.dw"], out["neuron_backward.dx"] = ns["neuron_backward"](1.7, cache)
    f, cache = ns["staged_forward"](inputs["a"], inputs["b"])
    out["staged_forward"] = f
    out["staged_backward.dx"], out["staged_backward.dy"] = ns["staged_backward"](inputs["g"],
                                                                                 cache)
    out["matmul_backward.dW"], out["matmul_backward.dX"] = ns["matmul_backward"](
        inputs["dD"], inputs["W"], inputs["X"])
    return out


def probe_rnn_linear(ns, inputs):
    out = {"output_gradient": ns["output_gradient"](inputs["y"], inputs["t"])}
    (wx, wrec), over_time = ns["backward_gradient"](inputs["X"], inputs["S"], inputs["g"],
                                                    float(inputs["wRec"]))
    out.update({"backward_gradient.wx": wx, "backward_gradient.wRec": wrec,
                "backward_gradient.over_time": over_time})
    return out


def probe_rnn_bptt(ns, inputs):
    args = inputs["U"], inputs["W"], inputs["V"]
    s, y_hat = ns["rnn_forward"](inputs["x"], *args)
    out = {"rnn_forward.s": s, "rnn_forward.y_hat": y_hat,
           "rnn_loss": ns["rnn_loss"](inputs["p"], inputs["y"])}
    for truncate in (None, 0, 2):
        grads = ns["bptt"](inputs["x"], inputs["y"], *args, truncate=truncate)
        for label, grad in zip("UWV", grads):
            out[f"bptt[{truncate}].d{label}"] = grad
    return out


def probe_lstm(ns, inputs):
    out = {}
    for use_state in (False, True):
        value, cache = ns["lstm_forward"](inputs["X"], inputs["W"], inputs["b"], use_state)
        out[f"lstm_forward[{use_state}]"] = value
        for label, grad in zip(("dX", "dW", "db"), ns["lstm_backward"](inputs["dout"], cache)):
            out[f"lstm_backward[{use_state}].{label}"] = grad
    return out


PROBES = {"gates": probe_gates, "rnn_linear": probe_rnn_linear, "rnn_bptt": probe_rnn_bptt,
          "lstm": probe_lstm}


def probe_inputs(name):
    rng = np.random.default_rng(15)
    if name == "gates":
        return {"sx": np.array([-1e4, -750.0, -3.0, -0.5, 0.0, 0.25, 2.0, 800.0]),
                "sd": rng.normal(size=(2, 3)), "so": rng.uniform(0.01, 0.99, size=(2, 3)),
                "w": rng.normal(size=4), "x": rng.normal(size=3),
                "a": rng.uniform(-2, 2, size=(2, 3)), "b": rng.uniform(-2, 2, size=(2, 3)),
                "g": rng.normal(size=(2, 3)), "dD": rng.normal(size=(2, 5)),
                "W": rng.normal(size=(2, 3)), "X": rng.normal(size=(3, 5))}
    if name == "rnn_linear":
        X = rng.integers(0, 2, size=(6, 4)).astype(np.float64)
        S = rnn_linear.forward_states(X, 0.8, 1.1)
        return {"y": S[:, -1], "t": X.sum(axis=1), "X": X, "S": S,
                "g": rnn_linear.output_gradient(S[:, -1], X.sum(axis=1)), "wRec": np.array(1.1)}
    if name == "rnn_bptt":
        T, D, H, K = 6, 3, 4, 5
        p = rng.uniform(0.1, 1.0, size=(T, K))
        return {"x": rng.normal(size=(T, D)), "y": rng.integers(0, K, size=T),
                "U": rng.normal(scale=0.6, size=(H, D)), "W": rng.normal(scale=0.6, size=(H, H)),
                "V": rng.normal(scale=0.6, size=(K, H)), "p": p / p.sum(axis=1, keepdims=True)}
    N, T, D, H = 3, 5, 4, 2
    return {"X": rng.normal(size=(N, T, D)), "W": rng.normal(scale=0.5, size=(D + H, 4 * H)),
            "b": rng.normal(scale=0.5, size=4 * H), "dout": rng.normal(size=(N, T, H))}


PROBE_CELL = """\
import numpy as _corpus_np
{source}
_corpus_inputs = dict(_corpus_np.load("corpus_inputs.npz"))
_corpus_np.savez("corpus_outputs.npz", **{{k: _corpus_np.asarray(v, dtype=_corpus_np.float64)
    for k, v in {probe}(globals(), _corpus_inputs).items()}})
"""


@pytest.mark.parametrize("name, stem", CORRECT)
def test_correct_notebook_runs_top_to_bottom_and_agrees_with_the_reference(name, stem,
                                                                           tmp_path):
    nb = nbformat.read(CORPUS / name / f"{stem}.ipynb", as_version=4)
    inputs = probe_inputs(name)
    np.savez(tmp_path / "corpus_inputs.npz", **inputs)
    shutil.copy(COURSE / "assignments" / name / "public_cases.bin", tmp_path)
    probe = PROBES[name]
    nb.cells.append(nbformat.v4.new_code_cell(PROBE_CELL.format(
        source=inspect.getsource(probe), probe=probe.__name__)))
    NotebookClient(nb, timeout=180, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    with np.load(tmp_path / "corpus_outputs.npz") as saved:
        got = {key: saved[key] for key in saved.files}
    expected = probe(vars(REFERENCES[name]), inputs)
    assert set(got) == set(expected)
    for key, value in expected.items():
        value = np.asarray(value, dtype=np.float64)
        assert got[key].shape == value.shape, key
        scale = float(np.max(np.abs(value))) if value.size else 0.0
        error = float(np.max(np.abs(got[key] - value))) if value.size else 0.0
        assert error <= RTOL * max(scale, 1e-300) or error == 0.0, (key, error, scale)
