"""A fresh set of realistic wrong solutions, written apart from the mutant engine (issue 19).

Each assignment's module (gates, rnn_linear, rnn_bptt, lstm) holds whole student solutions
written from the handout, not from the reference or the mutation operators: a few correct
ones in different styles (`CORRECT`), and wrong ones (`MISTAKES`), each one of those styles
with ONE slip a student makes, in the function where it is, described in words.

`measure(name)` grades them all; `named_share(name)` is the share of an assignment's mistakes
whose feedback names the quantity and what is wrong with it (a failing verdict of the
mistaken function carries a specific diagnosis code, not only "off by a relative error",
"these time steps / gate blocks differ", a failed gradient check, an exception or a wrong type).
"""
import functools
import importlib
from dataclasses import dataclass

ASSIGNMENTS = ("gates", "rnn_linear", "rnn_bptt", "lstm")

#: verdict codes that say where or that a value is wrong, but not what the mistake is
VAGUE_CODES = frozenset({"other", "steps", "blocks", "gradcheck", "exception", "type", "shape"})


@dataclass(frozen=True)
class Solution:
    """A whole submission: the notebook's given code and every graded function."""
    id: str
    source: str


@dataclass(frozen=True)
class Mistake(Solution):
    #: the graded function that holds the slip
    function: str
    #: the slip in words
    description: str


def edit(source: str, old: str, new: str) -> str:
    """`source` with `old` (which occurs exactly once) replaced by `new`: one slip."""
    if source.count(old) != 1:
        raise ValueError(f"{old!r} occurs {source.count(old)} times, not once")
    return source.replace(old, new)


def module(name: str):
    return importlib.import_module(f"tests.fresh_mistakes.{name}")


@dataclass
class Outcome:
    """How the grader treated one mistake."""
    mistake: Mistake
    lost: float               # points the mistaken function lost
    named: bool               # some failing verdict of that function names the slip
    #: the same, counting public tests only: hidden tests show students name and pass/fail only
    named_public: bool
    codes: list               # codes of that function's failing verdicts, in order
    first_message: str        # the first failing message of that function ("" if none)

    @property
    def caught(self) -> bool:
        return self.lost > 0


def outcome(name: str, mistake: Mistake) -> Outcome:
    from tests.grading import grade_source, lost, verdicts_for

    graded = grade_source(name, mistake.source)
    failing = [v for v in verdicts_for(graded, mistake.function) if not v.passed]
    codes = [c for v in failing for c in v.codes]
    named = any(c not in VAGUE_CODES for c in codes)
    named_public = any(c not in VAGUE_CODES for v in failing if v.case.visibility == "public"
                       for c in v.codes)
    first = next((m for v in failing for m in v.messages), "")
    return Outcome(mistake, lost(graded, mistake.function), named, named_public, codes, first)


@functools.lru_cache(maxsize=None)
def measure(name: str) -> tuple:
    """Every mistake of assignment `name` graded: a tuple of Outcome."""
    return tuple(outcome(name, m) for m in module(name).MISTAKES)


def named_share(name: str, public: bool = False) -> float:
    """The share of assignment `name`'s mistakes that are named specifically (by a public
    test's feedback, with public=True)."""
    outcomes = measure(name)
    return sum(o.named_public if public else o.named for o in outcomes) / len(outcomes)
