"""Detection power, measured: grade a catalogue of realistic mistakes and of correct-but-different
solutions through the real pipeline, and count what the grader catches and names.

Each assignment may hold a catalogue, `assignments/<name>/mutants.py` (instructor side, next to
its spec and case builders), defining
  MISTAKES      [Mistake]: a realistic slip, as the student source that makes it, with the
                diagnosis the feedback must give (`expect`, a distinctive substring of a message);
  CORRECT       [Variant]: a correct solution written another way; it must get full marks;
  single_check(namespace, rng) -> [(label, yours, reference)]: the typical single check of a
                notebook (one random input of a typical size, each graded function called once),
                the baseline the grader is compared with.

Mistakes are written as edits of the reference's source (`mutate`), so they stay small and
realistic, and a reference refactor that removes the edited text breaks the catalogue loudly
instead of silently turning a mistake into the reference.

Grading goes through `grader.read.submission.extract_source` and `grader.results.grade.grade_submission`
with one warm sandbox worker, like a real submission. The single-check baseline runs the
catalogue's own (trusted) sources in this process: it is the instructor's check, not a student's.
"""
from __future__ import annotations

import importlib.util
import inspect
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: cs231n's threshold for the single check's relative error.
SINGLE_CHECK_THRESHOLD = 1e-7
#: seed of the single check's random input (fixed: the table is reproducible).
SINGLE_CHECK_SEED = 231


class CatalogueError(Exception):
    """A catalogue that cannot be built (an edit that no longer applies, a missing name)."""


@dataclass(frozen=True)
class Mistake:
    """A realistic mistake: the student source that makes it and the diagnosis expected.

    expect: a distinctive substring of the feedback message that names this mistake (matched
    without regard to case, in the messages of the failing public and hidden tests).
    equivalent: why this change cannot be told from the reference (it must then keep full
    marks); None for a real mistake, which must lose points.
    """
    id: str
    description: str
    expect: str
    source: str
    equivalent: str | None = None


@dataclass(frozen=True)
class Variant:
    """A correct solution in another style: it must get full marks."""
    id: str
    description: str
    source: str


def reference_source(module, graded, provided=(), imports="import numpy as np\n") -> str:
    """The source a student who got everything right would hand in: the imports, the provided
    helpers (functions or names of `module`), then the graded functions of `module`."""
    def text(item):
        function = getattr(module, item) if isinstance(item, str) else item
        return inspect.getsource(function)
    return imports + "\n\n" + "\n\n".join(text(f) for f in (*provided, *graded))


def mutate(source: str, *edits) -> str:
    """`source` with each edit (old, new) applied in turn; each `old` must occur exactly once.

    mutate(src, old, new) or mutate(src, (old, new), (old2, new2), ...).
    """
    if len(edits) == 2 and all(isinstance(e, str) for e in edits):
        edits = (edits,)
    if not edits:
        raise CatalogueError("mutate needs at least one edit")
    for old, new in edits:
        count = source.count(old)
        if count != 1:
            raise CatalogueError(f"{old!r} occurs {count} times in the source (exactly 1 "
                                 "needed): the reference changed; update the catalogue")
        if old == new:
            raise CatalogueError(f"the edit of {old!r} changes nothing")
        source = source.replace(old, new)
    return source


# ---- loading --------------------------------------------------------------------------------

@dataclass
class Catalogue:
    name: str
    mistakes: list
    correct: list
    single_check: object


def has_catalogue(course: Path, name: str) -> bool:
    return (course / "assignments" / name / "mutants.py").is_file()


def load_catalogue(course: Path, name: str) -> Catalogue:
    """Import assignments/<name>/mutants.py (it may import reference.<name>)."""
    path = course / "assignments" / name / "mutants.py"
    if not path.is_file():
        raise CatalogueError(f"no mutation catalogue {path}")
    if str(course) not in sys.path:
        sys.path.insert(0, str(course))
    spec = importlib.util.spec_from_file_location(f"_assignment_mutants_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = [n for n in ("MISTAKES", "CORRECT", "single_check") if not hasattr(module, n)]
    if missing:
        raise CatalogueError(f"{path}: missing {', '.join(missing)}")
    ids = [e.id for e in (*module.MISTAKES, *module.CORRECT)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogueError(f"{path}: duplicate ids {duplicates}")
    return Catalogue(name, list(module.MISTAKES), list(module.CORRECT), module.single_check)


# ---- measuring ------------------------------------------------------------------------------

@dataclass
class Outcome:
    """How one catalogue entry fared."""
    entry: Mistake | Variant
    score: float
    max_score: float
    #: messages of the failing tests, public and hidden (what the judge said)
    messages: list = field(default_factory=list)
    #: the single check's verdict: True when it flags the entry as wrong
    single_check_fails: bool = False
    single_check_detail: str = ""

    @property
    def full_marks(self) -> bool:
        return self.score >= self.max_score

    @property
    def diagnosed(self) -> bool:
        expect = getattr(self.entry, "expect", "").casefold()
        return bool(expect) and any(expect in m.casefold() for m in self.messages)


@dataclass
class Measurement:
    """The figures of one assignment."""
    name: str
    mistakes: list      # Outcomes of real (non-equivalent) mistakes
    equivalent: list    # Outcomes of mistakes labelled equivalent
    correct: list       # Outcomes of correct variants
    seconds: float = 0.0

    @property
    def caught(self) -> list:
        return [o for o in self.mistakes if not o.full_marks]

    @property
    def diagnosed(self) -> list:
        return [o for o in self.mistakes if not o.full_marks and o.diagnosed]

    @property
    def correct_passed(self) -> list:
        return [o for o in self.correct if o.full_marks]

    @property
    def single_caught(self) -> list:
        return [o for o in self.mistakes if o.single_check_fails]

    @property
    def problems(self) -> list:
        """Lines naming every entry that misses a goal."""
        lines = []
        for o in self.mistakes:
            if o.full_marks:
                lines.append(f"{self.name}/{o.entry.id}: NOT CAUGHT (full marks)")
            elif not o.diagnosed:
                said = " | ".join(o.messages[:3]) or "(no message)"
                lines.append(f"{self.name}/{o.entry.id}: not named ({o.entry.expect!r}); "
                             f"said: {said}")
        for o in self.equivalent:
            if not o.full_marks:
                lines.append(f"{self.name}/{o.entry.id}: labelled equivalent but scored "
                             f"{o.score:g}/{o.max_score:g}: {' | '.join(o.messages[:2])}")
        for o in self.correct:
            if not o.full_marks:
                lines.append(f"{self.name}/{o.entry.id}: CORRECT VARIANT FAILED "
                             f"({o.score:g}/{o.max_score:g}): {' | '.join(o.messages[:3])}")
            if o.single_check_fails:
                lines.append(f"{self.name}/{o.entry.id}: the single check flags this correct "
                             f"variant ({o.single_check_detail})")
        return lines


def cs231n_rel_error(x, y) -> float:
    """max |x − y| / max(1e-8, |x| + |y|), element-wise, as the cs231n notebooks compute it."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y)), initial=0.0))


def run_single_check(catalogue: Catalogue, source: str) -> tuple[bool, str]:
    """The baseline: define the (trusted, catalogue) source here, call each graded function
    once on one random input as the catalogue's single_check says, and compare with the
    reference by cs231n's relative error against 1e-7. Returns (flags it as wrong, why)."""
    namespace: dict = {"__name__": "single_check"}
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            exec(compile(source, "<catalogue entry>", "exec"), namespace)
            checks = catalogue.single_check(namespace, np.random.default_rng(SINGLE_CHECK_SEED))
            for label, yours, reference in checks:
                if np.shape(yours) != np.shape(reference):
                    return True, f"{label}: shape {np.shape(yours)}"
                error = cs231n_rel_error(yours, reference)
                if not error <= SINGLE_CHECK_THRESHOLD:
                    return True, f"{label}: relative error {error:.2g}"
    except Exception as exc:  # noqa: BLE001 - a crash is what the check reports
        return True, f"{type(exc).__name__}: {exc}"
    return False, ""


def _failing_messages(graded) -> list:
    return [m for v in graded.verdicts if not v.passed for m in v.messages]


def measure(name: str, course: Path, worker) -> Measurement:
    """Grade every entry of an assignment's catalogue with `worker` and run the baseline."""
    from grader.course.assignment import load
    from grader.results.grade import called_functions, grade_submission
    from grader.read.submission import extract_source

    began = time.perf_counter()
    assignment = load(name, course)
    catalogue = load_catalogue(course, name)
    roots = called_functions(assignment)

    def outcome(entry):
        submission = extract_source([entry.source], entry.id, roots)
        graded = grade_submission(assignment, submission, worker)
        flagged, detail = run_single_check(catalogue, entry.source)
        return Outcome(entry, graded.score, assignment.max_score, _failing_messages(graded),
                       flagged, detail)

    mistakes = [outcome(m) for m in catalogue.mistakes]
    correct = [outcome(v) for v in catalogue.correct]
    return Measurement(name, [o for o in mistakes if o.entry.equivalent is None],
                       [o for o in mistakes if o.entry.equivalent is not None], correct,
                       time.perf_counter() - began)


# ---- the table ------------------------------------------------------------------------------

COLUMNS = ("assignment", "mistakes", "caught", "diagnosed", "single check caught",
           "correct variants passed", "equivalent")


def _ratio(part: int, whole: int) -> str:
    percent = f"{100 * part / whole:.0f}%" if whole else "–"
    return f"{part}/{whole} ({percent})"


def rows(measurements: list) -> list:
    """One row of strings per assignment, and a total row."""
    out = []
    totals = [0] * 6
    for m in measurements:
        figures = (len(m.mistakes), len(m.caught), len(m.diagnosed), len(m.single_caught),
                   len(m.correct_passed), len(m.correct))
        totals = [a + b for a, b in zip(totals, figures)]
        out.append(_row(m.name, figures, len(m.equivalent)))
    if len(measurements) > 1:
        out.append(_row("all", totals, sum(len(m.equivalent) for m in measurements)))
    return out


def _row(name, figures, equivalent):
    n, caught, diagnosed, single, passed, correct = figures
    return [name, str(n), _ratio(caught, n), _ratio(diagnosed, n), _ratio(single, n),
            _ratio(passed, correct), str(equivalent)]


def markdown_table(measurements: list) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r) + " |" for r in rows(measurements)]
    return "\n".join(lines) + "\n"


def plain_table(measurements: list) -> str:
    table = [list(COLUMNS)] + rows(measurements)
    widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
                     for r in table) + "\n"


def rich_table(measurements: list):
    from rich.table import Table

    table = Table(title="Detection power: realistic mistakes and correct variants")
    # the counts hold the number of mistakes; headers may wrap, cells may not
    cells = [[cell.split(" (")[0] for i, cell in enumerate(row) if i != 1]
             for row in rows(measurements)]
    for index, column in enumerate(SHORT_COLUMNS):
        table.add_column(column, justify="left" if column == "assignment" else "right",
                         min_width=max(len(row[index]) for row in cells))
    for row in cells:
        table.add_row(*row)
    return table


#: the columns in the width of a terminal
SHORT_COLUMNS = ("assignment", "caught", "diagnosed", "single check caught",
                 "correct passed", "equivalent")


LEGEND = ("mistakes: realistic mistakes (not counting equivalent ones); caught: they lose points; "
          "diagnosed: the feedback names the expected diagnosis; single check caught: one random "
          "input of a typical size, each graded function called once, cs231n relative error "
          f"> {SINGLE_CHECK_THRESHOLD:g} against the reference; correct variants passed: full "
          "marks; equivalent: changes that cannot be told from the reference (kept full marks).")


# ---- the command ----------------------------------------------------------------------------

def measure_all(names: list, course: Path, isolation: str = "auto") -> list:
    """Measurements of the named assignments (all with a catalogue when none is named), graded
    by one warm worker."""
    from grader.course.assignment import available
    from grader.sandbox import Worker

    names = list(names) or [n for n in available(course) if has_catalogue(course, n)]
    worker = Worker(isolation=isolation)
    try:
        return [measure(name, course, worker) for name in names]
    finally:
        worker.close()


def report(measurements: list, markdown: bool = False, verbose: bool = False,
           terminal: bool | None = None) -> None:
    """Print the table (rich on a terminal, plain text otherwise, or markdown), the legend and
    every entry that misses a goal (all entries with verbose)."""
    terminal = sys.stdout.isatty() if terminal is None else terminal
    if markdown:
        print(markdown_table(measurements), end="")
    elif terminal:
        from rich.console import Console
        Console().print(rich_table(measurements))
    else:
        print(plain_table(measurements), end="")
    if not markdown:
        print("\n" + LEGEND)
        seconds = sum(m.seconds for m in measurements)
        entries = sum(len(m.mistakes) + len(m.equivalent) + len(m.correct) for m in measurements)
        print(f"{entries} entries graded in {seconds:.1f} s.")
    problems = [line for m in measurements for line in m.problems]
    if problems:
        print("\nMissed goals:\n" + "\n".join(f"  {line}" for line in problems))
    if verbose:
        for m in measurements:
            for o in (*m.mistakes, *m.equivalent, *m.correct):
                state = ("full marks" if o.full_marks else f"{o.score:g}/{o.max_score:g}")
                named = " named" if o.diagnosed else ""
                single = " single-check-fails" if o.single_check_fails else ""
                print(f"  {m.name}/{o.entry.id}: {state}{named}{single}")


def goals_met(measurements: list, diagnosed_share: float = 0.9) -> bool:
    """Every real mistake caught, at least `diagnosed_share` of them named, every correct
    variant (and every equivalent mistake) at full marks."""
    for m in measurements:
        if len(m.caught) < len(m.mistakes) or len(m.correct_passed) < len(m.correct):
            return False
        if any(not o.full_marks for o in m.equivalent):
            return False
        if m.mistakes and len(m.diagnosed) < diagnosed_share * len(m.mistakes):
            return False
    return True


BEGIN = "<!-- mutants: the table below is written by `grader mutants --readme docs/detection.md` -->"
END = "<!-- mutants: end -->"


def update_readme(path: Path, measurements: list) -> None:
    """Replace the table between BEGIN and END in `path` with the current one."""
    text = Path(path).read_text()
    if text.count(BEGIN) != 1 or text.count(END) != 1 or text.index(BEGIN) > text.index(END):
        raise CatalogueError(f"{path}: needs one {BEGIN!r} line and one {END!r} line after it")
    head, rest = text.split(BEGIN)
    _, tail = rest.split(END)
    Path(path).write_text(f"{head}{BEGIN}\n{markdown_table(measurements)}{END}{tail}")
