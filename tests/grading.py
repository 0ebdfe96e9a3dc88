"""Helpers for grading tests: grade a piece of student source against an assignment, with one
warm sandbox worker shared by the whole test session."""
import functools
import inspect
import textwrap
from pathlib import Path

from grader.course.assignment import load
from grader.results.grade import called_functions, grade_submission
from grader.sandbox import Worker
from grader.read.submission import extract_source, load_submission

COURSE = Path(__file__).resolve().parent.parent


@functools.lru_cache(maxsize=None)
def assignment(name):
    return load(name, COURSE)


@functools.lru_cache(maxsize=1)
def worker():
    return Worker()


def reference_source(module, *names):
    """The reference's source of the named functions, as a student who got them right."""
    return "\n\n".join(inspect.getsource(getattr(module, n)) for n in names)


def grade_source(name, *cells, worker_=None):
    """Grade student code cells (strings) against assignment `name`; returns the Graded."""
    cells = [textwrap.dedent(c) for c in cells]
    submission = extract_source(list(cells), "test", called_functions(assignment(name)))
    return grade_submission(assignment(name), submission, worker_ or worker())


def grade_notebook(name, path, worker_=None):
    """Grade a notebook file against assignment `name`, as `grader grade` does; the Graded."""
    submission = load_submission(Path(path), roots=called_functions(assignment(name)))
    return grade_submission(assignment(name), submission, worker_ or worker())


def verdicts_for(graded, function):
    return [v for v in graded.verdicts if v.case.function == function]


def messages(graded, function=None):
    """All feedback messages (of one function's tests), joined, for assertions."""
    return "\n".join(m for v in graded.verdicts if function in (None, v.case.function)
                     for m in v.messages)


def said(text, graded_or_messages, function=None):
    """Whether a message says `text` (messages start with a capital letter)."""
    if isinstance(graded_or_messages, list):
        found = " ".join(graded_or_messages)
    else:
        found = messages(graded_or_messages, function)
    return text[:1].upper() + text[1:] in found or text in found


def lost(graded, function):
    """Points a function's tests lost."""
    return sum(v.case.points - v.score for v in verdicts_for(graded, function))
