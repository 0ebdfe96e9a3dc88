"""What a student installs or receives holds no reference code and no hidden case."""
import inspect
import subprocess
import sys
import zipfile

import pytest

from grader.assignment import load
from grader.cases import load_cases, save_cases
from reference import gates, lstm, rnn_bptt, rnn_linear
from tests.grading import COURSE

REFERENCES = (gates, rnn_linear, rnn_bptt, lstm)


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
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(COURSE), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(out)], check=True,
                   capture_output=True)
    (path,) = out.glob("grader-*.whl")
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


@pytest.mark.parametrize("name", ["gates", "rnn_linear", "rnn_bptt", "lstm"])
def test_public_case_file_holds_exactly_the_public_cases(name):
    path = COURSE / "assignments" / name / "public_cases.bin"
    stored_name, cases = load_cases(path)
    spec = load(name, COURSE)
    assert stored_name == name
    assert [c.name for c in cases] == [c.name for c in spec.cases if c.visibility == "public"]
    assert all(c.visibility == "public" for c in cases)
    assert len(cases) < len(spec.cases)


@pytest.mark.parametrize("name", ["gates", "rnn_linear", "rnn_bptt", "lstm"])
def test_public_case_file_is_what_build_writes(name, tmp_path):
    """The committed public cases cannot drift from the spec and reference (`make assignments`)."""
    fresh = tmp_path / "public_cases.bin"
    save_cases(fresh, name, load(name, COURSE).public().cases)
    committed = COURSE / "assignments" / name / "public_cases.bin"
    assert fresh.read_bytes() == committed.read_bytes(), "run `make assignments`"
