"""Grading one submission end to end: its extracted source runs apart in the sandbox, every
case is judged, and the verdicts are collected with the notes a student needs.

A submission that cannot be read or run becomes a Graded with an error and zero points; it
never stops the batch.
"""
import time
from dataclasses import dataclass, field

import numpy as np

from grader.course.assignment import Assignment
from grader.i18n import _
from grader.judge import Context, Verdict, judge
from grader.sandbox import SandboxError, Worker
from grader.read.submission import Submission


@dataclass
class Graded:
    """The outcome for one submission."""
    id: str
    verdicts: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    #: why the submission could not be graded at all (unreadable file, sandbox failure).
    error: str | None = None
    seconds: float = 0.0
    isolation: str = "reduced"
    #: time the student's functions themselves took in the sandbox (the tests' own compute)
    compute_seconds: float = 0.0
    #: time its feedback page took to write (0 when none was written)
    page_seconds: float = 0.0

    @property
    def score(self) -> float:
        # from the exact fractions: summing rounded thirds shows 18.9999 for 19
        return round(sum(v.case.points * v.fraction for v in self.verdicts), 4)

    def packed(self, cases: list) -> tuple:
        """Plain data for another grader process: the cases by their index in `cases` (the
        assignment's, which both processes hold), not copies of them."""
        index = {id(case): i for i, case in enumerate(cases)}
        return (self.id, [(index[id(v.case)], v.fraction, v.messages, v.codes, v.evidence)
                          for v in self.verdicts],
                self.notes, self.error, self.seconds, self.isolation, self.compute_seconds,
                self.page_seconds)

    @classmethod
    def unpacked(cls, data: tuple, cases: list) -> "Graded":
        """The Graded that `packed` described."""
        submission_id, verdicts, *rest = data
        return cls(submission_id, [Verdict(cases[i], *fields) for i, *fields in verdicts], *rest)


#: one namer of generated mistakes per assignment and process (it keeps the mutants' values)
_NAMERS: dict = {}


def _namer(assignment: Assignment):
    """The assignment's MutantNamer, where its reference is at hand (a course checkout: not a
    student's public case file), else None."""
    if assignment.handout is None:
        return None
    found = _NAMERS.get(id(assignment))
    if found is None or found[0] is not assignment:
        from grader.judge.naming import MutantNamer

        found = _NAMERS[id(assignment)] = (assignment, MutantNamer(
            assignment, _course(assignment)))
    return found[1]


def _course(assignment: Assignment):
    """The course folder of an assignment loaded from one (its handout is
    COURSE/assignments/NAME/NAME.ipynb)."""
    return assignment.handout.parent.parent.parent


def called_functions(assignment: Assignment) -> tuple[str, ...]:
    """The student functions the assignment's cases call (graded ones and those they are
    checked against): the roots of the notebook's slice."""
    names = dict.fromkeys(assignment.functions)
    names.update(dict.fromkeys(call.function for case in assignment.cases for call in case.calls))
    return tuple(names)


def _setup_notes(errors: list, submission: Submission) -> list:
    notes = []
    for error in errors:
        where = ""
        if error.get("lines"):
            where = _(" at {places}", places=submission.describe_line(error["lines"][-1][0]))
        failure = f"{error['type']}: {error['message']}".rstrip(": ")
        notes.append(_("Running your notebook's code failed{where}: {error}", where=where,
                       error=failure))
    return notes


def grade_submission(assignment: Assignment, submission: Submission, worker: Worker) -> Graded:
    """Run and judge every case of the assignment for one extracted submission."""
    return judged(assignment, submission, run_submission(assignment, submission, worker), worker)


def run_submission(assignment: Assignment, submission: Submission, worker: Worker) -> tuple:
    """The first half of grade_submission: (the sandbox's outcome of every case, or the
    SandboxError that stopped it; seconds taken; the isolation it ran under)."""
    began = time.perf_counter()
    try:
        run = worker.run(submission.source, assignment.cases, submission.statements)
    except SandboxError as exc:
        run = exc
    return run, time.perf_counter() - began, worker.isolation


def output_bytes(ran: tuple) -> int:
    """How many bytes of returned arrays what run_submission got holds."""
    run = ran[0]
    if isinstance(run, SandboxError):
        return 0
    return sum(part.nbytes for case in run.cases for call in case.calls for part in call.parts
               if isinstance(part, np.ndarray))


def judged(assignment: Assignment, submission: Submission, ran: tuple,
           worker: Worker | None = None) -> Graded:
    """The second half of grade_submission: every case judged from what run_submission got;
    with the `worker`, a vague failure of a public case over a sequence is narrowed down to
    the step where it first shows (one more run of the submission, only then)."""
    run, seconds, isolation = ran
    notes = list(submission.notes)
    if isinstance(run, SandboxError):
        return Graded(submission.id, [Verdict(c, 0.0, [_("not graded: {reason}", reason=run)],
                                              ["sandbox"])
                                      for c in assignment.cases], notes, str(run), seconds,
                      isolation)
    began = time.perf_counter()
    notes += _setup_notes(run.setup_errors, submission)
    namer = _namer(assignment)
    context = Context(constants=dict(submission.constants), describe_line=submission.describe_line,
                      missing=dict(submission.missing), running=submission.running,
                      name_mistake=namer.explain if namer is not None else None)
    with np.errstate(all="ignore"):  # a student's inf or NaN says nothing to the instructor
        verdicts = [judge(case, outcome, context)
                    for case, outcome in zip(assignment.cases, run.cases)]
    if namer is not None:
        namer.settle(verdicts)
    if worker is not None:
        _narrowed(assignment, submission, verdicts, context, worker)
    return Graded(submission.id, verdicts, notes, None, seconds + time.perf_counter() - began,
                  isolation, sum(outcome.seconds for outcome in run.cases))


#: per assignment: its public cases cut along their sequences (grader.judge.narrowing), each
#: cut when a submission first needs it
_PREFIXED: dict = {}


def _narrowed(assignment: Assignment, submission: Submission, verdicts: list, context,
              worker: Worker) -> None:
    """Narrow vague public failures down to a time step, where the reference is at hand."""
    if assignment.handout is None or all(v.passed for v in verdicts):
        return
    from grader.judge import narrowing
    from grader.judge.fingerprints import namespace_of, reference_module

    found = _PREFIXED.get(id(assignment))
    if found is None or found[0] is not assignment:
        found = _PREFIXED[id(assignment)] = (assignment, {})
    cut = found[1]

    def prefixed_case(index: int):
        if index not in cut:
            reference = namespace_of(reference_module(_course(assignment), assignment.name))
            cut[index] = narrowing.prefixed(assignment.cases[index], reference)
        return cut[index]

    def run(cases):
        try:
            return worker.run(submission.source, cases, submission.statements).cases
        except SandboxError:
            return []

    narrowing.narrow(prefixed_case, verdicts, context, run)


def ungradable(assignment: Assignment, submission_id: str, reason: str) -> Graded:
    """A submission that could not even be read: every test scores zero, naming the reason."""
    return Graded(submission_id,
                  [Verdict(c, 0.0, [_("not graded: {reason}", reason=reason)], ["unreadable"])
                   for c in assignment.cases], [], reason)
