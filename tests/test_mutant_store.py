"""The generated mistakes' values kept on disk between grading runs (grader.judge.mutant_store)."""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from grader.judge import mutant_store
from grader.judge.mutant_store import MutantStore

COURSE = Path(__file__).resolve().parent.parent


@dataclass
class _Case:
    name: str


def test_values_come_back_as_they_were_stored(tmp_path):
    store = MutantStore(tmp_path / "lstm")
    values = [None, [np.arange(6.0).reshape(2, 3), "a tuple, not a number or numpy array"],
              [np.float64(2.5), np.zeros((0, 4))]]
    store.save(_Case("one step"), 1, values)
    back = store.load(_Case("one step"), 1, 3)
    assert back[0] is None
    assert np.array_equal(back[1][0], values[1][0]) and back[1][1] == values[1][1]
    assert back[2][0] == 2.5 and back[2][1].shape == (0, 4)
    assert store.load(_Case("one step"), 0, 3) is None  # another call
    assert store.load(_Case("one step"), 1, 4) is None  # another number of mutants
    assert store.load(_Case("another"), 1, 3) is None


def test_an_unreadable_file_is_worked_out_again(tmp_path):
    store = MutantStore(tmp_path / "x")
    store.save(_Case("c"), 0, [None])
    next(store.folder.glob("*.npz")).write_bytes(b"not an npz")
    assert store.load(_Case("c"), 0, 1) is None


def test_the_key_follows_the_reference_and_the_cache_variable(tmp_path, monkeypatch):
    monkeypatch.setenv(mutant_store.ENVIRONMENT, str(tmp_path / "cache"))
    first = MutantStore.of(COURSE, "rnn_linear")
    assert first.folder.parent == tmp_path / "cache" / "mutants"
    course = tmp_path / "course"
    for part in ("reference/rnn_linear.py", "assignments/rnn_linear/spec.toml",
                 "assignments/rnn_linear/cases.py"):
        (course / part).parent.mkdir(parents=True, exist_ok=True)
        (course / part).write_bytes((COURSE / part).read_bytes())
    assert MutantStore.of(course, "rnn_linear").folder == first.folder
    (course / "reference/rnn_linear.py").write_text("# changed\n" + (COURSE / "reference/rnn_linear.py").read_text())
    assert MutantStore.of(course, "rnn_linear").folder != first.folder


def test_the_key_follows_the_operators(tmp_path, monkeypatch):
    monkeypatch.setenv(mutant_store.ENVIRONMENT, str(tmp_path / "cache"))
    first = MutantStore.of(COURSE, "rnn_linear")
    operators = tmp_path / "operators.py"
    operators.write_text("# another operator set\n")
    engine = [operators if p.name == "operators.py" else p for p in mutant_store._ENGINE]
    monkeypatch.setattr(mutant_store, "_ENGINE", engine)
    assert MutantStore.of(COURSE, "rnn_linear").folder != first.folder
