"""What a student installs or receives holds no reference code and no hidden case, and the
committed public case files are what the build writes, on any machine.

numpy picks other SIMD kernels for exp and tanh on another CPU (or build), which changes the
last bits of some reference answers. So a case file built here and the committed one are
compared as data, not bytes: inputs exactly (seeded generators and exact arithmetic make them:
no input may come out of exp or tanh), reference answers within ULPS units in the last place
of the array's largest magnitude (the scale the judge's relative error uses). And no verdict
may hang on those last bits: every catalogue entry and sample, judged against references
nudged by a few ulps, gets the same verdicts and feedback.
"""
import copy
import functools
import inspect
import shutil
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from grader.authoring import catalogue as mutation
from grader.course.assignment import load
from grader.course.cases import load_cases, save_cases, to_plain
from grader.results.grade import judged, run_submission
from grader.read.submission import extract_source, load_submission
from reference import gates, lstm, rnn_bptt, rnn_linear
from tests.grading import COURSE, worker

REFERENCES = (gates, rnn_linear, rnn_bptt, lstm)
NAMES = ["gates", "rnn_linear", "rnn_bptt", "lstm"]
#: how far a reference answer may move between CPUs and numpy builds, in units in the last
#: place of its largest magnitude (seen: 7 for lstm with AVX2 kernels instead of AVX-512). The
#: strictest tolerance, 1e-10, is some 450,000 such units: the margin is ample.
ULPS = 32
#: the parts of a call the child receives: its inputs, compared exactly
INPUT_KEYS = ("args", "kwargs")


def _body_lines(module):
    """Distinctive lines of the reference's function bodies (not signatures or docstrings)."""
    lines = set()
    for _, fn in inspect.getmembers(module, inspect.isfunction):
        if fn.__module__ != module.__name__:
            continue
        source = inspect.getsource(fn)
        doc = inspect.getdoc(fn) or ""
        for line in source.splitlines()[1:]:
            text = line.strip()
            if len(text) > 25 and not text.startswith(("#", '"""')) and text not in doc:
                lines.add(text)
    return lines


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel pip builds, from a copy of what it reads (setuptools writes build/ and
    *.egg-info beside the sources: never into the checkout)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheel")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(COURSE / name, source)
    shutil.copytree(COURSE / "grader", source / "grader",
                    ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True,
                   capture_output=True)
    (path,) = out.glob("backprop_grader-*.whl")  # the distribution's name, not PyPI's `grader`
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name).decode("utf-8", "replace") for name in archive.namelist()}


def test_wheel_holds_only_the_grader_package(wheel):
    assert any(name.startswith("grader/sandbox/") for name in wheel)
    assert not [n for n in wheel if n.startswith(("reference/", "assignments/", "tests/"))]


def test_wheel_holds_no_reference_code(wheel):
    text = "\n".join(wheel.values())
    for module in REFERENCES:
        leaked = [line for line in _body_lines(module) if line in text]
        assert not leaked, f"{module.__name__} code in the wheel: {leaked[:3]}"


@pytest.mark.parametrize("name", NAMES)
def test_public_case_file_holds_exactly_the_public_cases(name):
    path = COURSE / "assignments" / name / "public_cases.bin"
    stored_name, cases = load_cases(path)
    spec = load(name, COURSE)
    assert stored_name == name
    assert [c.name for c in cases] == [c.name for c in spec.cases if c.visibility == "public"]
    assert all(c.visibility == "public" for c in cases)
    assert len(cases) < len(spec.cases)


# ---- the committed case files, as data ---------------------------------------------------------

def _float_gap(built, committed):
    """Largest distance between two float arrays in units in the last place of the committed
    array's largest magnitude; inf where one holds NaN or infinity and the other not the same."""
    built, committed = np.asarray(built, np.float64), np.asarray(committed, np.float64)
    same = (built == committed) | (np.isnan(built) & np.isnan(committed))
    if same.all():
        return 0.0
    if not (np.isfinite(built[~same]).all() and np.isfinite(committed[~same]).all()):
        return np.inf
    scale = np.spacing(np.abs(committed[np.isfinite(committed)]).max())
    return float(np.abs(built[~same] - committed[~same]).max() / scale)


def differences(built, committed, where="", inputs=False) -> list:
    """Where two plain case trees (cases.to_plain) differ beyond what another CPU may change:
    anything in a call's inputs, a non-float value, or a float more than ULPS ulps apart."""
    if isinstance(built, dict) and isinstance(committed, dict):
        if built.keys() != committed.keys():
            return [f"{where}: keys {sorted(built)} != {sorted(committed)}"]
        return [d for key in built
                for d in differences(built[key], committed[key], f"{where}.{key}",
                                     inputs or key in INPUT_KEYS)]
    if isinstance(built, (list, tuple)) and isinstance(committed, (list, tuple)):
        if type(built) is not type(committed) or len(built) != len(committed):
            return [f"{where}: {type(built).__name__} of {len(built)} != "
                    f"{type(committed).__name__} of {len(committed)}"]
        return [d for i, (b, c) in enumerate(zip(built, committed))
                for d in differences(b, c, f"{where}[{i}]", inputs)]
    arrays = isinstance(built, np.ndarray), isinstance(committed, np.ndarray)
    if any(arrays):
        if not all(arrays) or built.dtype != committed.dtype or built.shape != committed.shape:
            return [f"{where}: {getattr(built, 'dtype', type(built))}{np.shape(built)} != "
                    f"{getattr(committed, 'dtype', type(committed))}{np.shape(committed)}"]
        if inputs or built.dtype.kind != "f":
            same = np.array_equal(built, committed, equal_nan=built.dtype.kind in "fc")
            return [] if same else [f"{where}: input differs"]
    elif not (isinstance(built, float) and isinstance(committed, float)):
        return [] if type(built) is type(committed) and built == committed \
            else [f"{where}: {built!r} != {committed!r}"]
    if inputs:
        same = built == committed or (np.isnan(built) and np.isnan(committed))
        return [] if same else [f"{where}: input {built!r} != {committed!r}"]
    gap = _float_gap(built, committed)
    return [] if gap <= ULPS else [f"{where}: {gap:.3g} ulps apart (more than {ULPS})"]


@pytest.mark.parametrize("name", NAMES)
def test_public_case_file_is_what_build_writes(name, tmp_path):
    """The committed public cases cannot drift from the spec and reference (`make assignments`)
    and hold for another CPU: inputs exactly, answers within ULPS ulps."""
    fresh = tmp_path / "public_cases.bin"
    save_cases(fresh, name, load(name, COURSE).public().cases)
    built_name, built = load_cases(fresh)
    committed_name, committed = load_cases(COURSE / "assignments" / name / "public_cases.bin")
    assert built_name == committed_name == name
    drift = differences(to_plain(built), to_plain(committed))
    assert not drift, f"run `make assignments`: {drift[:5]}"


def _nudged(value, ulps, rng):
    """`value` with every float moved by up to `ulps` units in the last place, each its own
    way (zeros stay zero: they are exact wherever they come from a product with zero)."""
    array = np.asarray(value, np.float64)
    steps = rng.integers(-ulps, ulps + 1, size=array.shape)
    moved = array + steps * np.spacing(np.abs(array)) * (array != 0)
    return np.asarray(moved) if isinstance(value, np.ndarray) else type(value)(moved)


def test_differences_sees_a_changed_input_and_a_moved_answer():
    """The comparison above can fail: one ulp in an input, or ULPS+ in an answer."""
    _, cases = load_cases(COURSE / "assignments" / "rnn_linear" / "public_cases.bin")
    plain = to_plain(cases)
    rng = np.random.default_rng(0)
    close = copy.deepcopy(plain)
    for case in close:
        for expect in case["expects"]:
            expect["value"] = _nudged(expect["value"], ULPS, rng)
    assert differences(close, plain) == []
    far = copy.deepcopy(plain)
    value = far[0]["expects"][0]["value"]
    value.flat[0] = value.flat[0] + 3 * ULPS * np.spacing(np.abs(value).max())
    (found,) = differences(far, plain)
    assert found.startswith("[0].expects[0].value: ") and f"ulps apart (more than {ULPS})" in found
    moved = copy.deepcopy(plain)
    argument = next(a for a in moved[0]["calls"][0]["args"] if isinstance(a, np.ndarray))
    argument.flat[0] = np.nextafter(argument.flat[0], np.inf)
    assert differences(moved, plain) == ["[0].calls[0].args[0]: input differs"]


# ---- no verdict on the last bits -----------------------------------------------------------

def _with_nudged_references(assignment, ulps=4, seed=0):
    """A copy of the assignment whose reference answers (and the known mistakes' values they
    are compared with) have moved by up to `ulps` ulps, as on another CPU."""
    rng = np.random.default_rng(seed)
    nudged = copy.deepcopy(assignment)
    for case in nudged.cases:
        for expect in case.expects:
            expect.value = _nudged(expect.value, ulps, rng)
            for hypothesis in expect.hypotheses:
                hypothesis.value = _nudged(hypothesis.value, ulps, rng)
    return nudged


def _submissions(name):
    """The catalogue's mistakes and correct variants, and the bundled samples."""
    catalogue = mutation.load_catalogue(COURSE, name)
    for entry in (*catalogue.mistakes, *catalogue.correct):
        yield entry.id, extract_source([entry.source], entry.id)
    for path in sorted((COURSE / "assignments" / name / "samples").glob("*.ipynb")):
        try:
            yield path.stem, load_submission(path)
        except Exception:  # the samples include unreadable notebooks on purpose
            continue


@functools.lru_cache(maxsize=None)
def _both_ways(name):
    """(id, verdicts against the references, against the nudged references) per submission."""
    assignment = load(name, COURSE)
    nudged = _with_nudged_references(assignment)
    outcomes = []
    for ident, submission in _submissions(name):
        ran = run_submission(assignment, submission, worker())
        outcomes.append((ident, judged(assignment, submission, ran),
                         judged(nudged, submission, ran)))
    return outcomes


@pytest.mark.parametrize("name", NAMES)
def test_no_verdict_depends_on_the_last_bits_of_a_reference(name):
    outcomes = _both_ways(name)
    assert len(outcomes) >= 30
    for ident, exact, moved in outcomes:
        assert exact.score == moved.score, ident
        for a, b in zip(exact.verdicts, moved.verdicts, strict=True):
            assert (a.fraction, a.codes, a.messages) == (b.fraction, b.codes, b.messages), \
                f"{ident}, {a.case.name}"


def test_nudged_references_are_really_moved():
    """The test above compares something: the nudged answers differ from the references."""
    assignment = load("lstm", COURSE)
    nudged = _with_nudged_references(assignment)
    moved = sum(int(np.sum(a.value != b.value)) for ca, cb in zip(assignment.cases, nudged.cases)
                for a, b in zip(ca.expects, cb.expects))
    assert moved > 100
