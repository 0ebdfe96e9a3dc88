"""The test suite reads and writes nothing of the checkout but caches: no gradebook, no out/,
no bytecode where git would see it. (tests/checkout.py says what is compared.)"""
from tests import checkout


def test_bytecode_is_ignored_wherever_python_writes_it():
    paths = ["grader/__pycache__/cli.cpython-311.pyc",
             "reference/__pycache__/lstm.cpython-311.pyc",
             "bench/__pycache__/kernel.cpython-311.pyc",
             "tests/__pycache__/conftest.cpython-311.pyc",
             "assignments/lstm/__pycache__/cases.cpython-311.pyc", "grader/stray.pyc"]
    ignored = checkout.git("check-ignore", "--no-index", *paths).split()
    assert ignored == paths


def test_the_comparison_sees_what_a_test_could_leave(tmp_path):
    """What the last test compares can fail: in a checkout of its own, a new gradebook, a new
    file in an out/ folder that was there, a changed tracked file and a new untracked one
    show; caches do not."""
    def git(*args):
        checkout.git("-c", "user.name=t", "-c", "user.email=t@t", *args, root=tmp_path)

    (tmp_path / ".gitignore").write_text("gradebook.sqlite\nout/\n__pycache__/\n")
    (tmp_path / "spec.toml").write_text("a = 1\n")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "grades.csv").write_text("submission\n")
    git("init", "-q")
    git("add", ".gitignore", "spec.toml")
    git("commit", "-q", "-m", "start")
    before = checkout.state(tmp_path)
    assert checkout.changes(before, checkout.state(tmp_path)) == []
    (tmp_path / "gradebook.sqlite").write_bytes(b"")
    (tmp_path / "out" / "alice").mkdir()
    (tmp_path / "out" / "alice" / "results.json").write_text("{}")
    (tmp_path / "spec.toml").write_text("a = 2\n")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "x.pyc").write_bytes(b"")
    assert checkout.changes(before, checkout.state(tmp_path)) == [
        "gradebook.sqlite (!!)", "notes.txt (??)", "out/ (changed)", "spec.toml ( M)"]


def test_the_suite_leaves_the_checkout_as_it_found_it(checkout_at_start):
    """Runs last (tests/conftest.py moves it there): nothing but caches changed since the
    session started. A path someone else created or edited in the meantime shows here too."""
    assert checkout.changes(checkout_at_start, checkout.state()) == []
