"""An assignment is data plus a reference: `assignments/<name>/spec.toml` either describes the
graded functions in the short form, from which grader.course.short derives every case, or lists
the tests (which function, which case builder and seed, points, visibility, tolerances) that
`assignments/<name>/cases.py` builds from `reference/<name>.py`; a short spec may add such tests
for what it cannot express, and its cases.py a `hypotheses` function: the known mistakes, with
their explanations, of each value a derived case compares (grader.course.derive).

Loading runs the instructor's trusted builders in the parent; nothing here runs student code.
"""
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from grader import i18n

from grader.course.cases import Case, load_cases
from grader.course.short import derived
from grader.course.spec import SpecError, is_short_form

VISIBILITIES = ("public", "hidden")


class AssignmentError(Exception):
    """An assignment that cannot be loaded; str(e) says which file and why."""


@dataclass
class Assignment:
    name: str
    title: str
    cases: list
    #: graded functions, in the order the notebook asks for them.
    functions: list = field(default_factory=list)
    #: the notebook handed out to students (None when only public cases were loaded)
    handout: Path | None = None

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.cases)

    def public(self) -> "Assignment":
        return Assignment(self.name, self.title,
                          [c for c in self.cases if c.visibility == "public"], self.functions,
                          self.handout)


def find_course(start: Path | None = None) -> Path:
    """The folder holding assignments/ and reference/: the current one or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "assignments").is_dir() and (folder / "reference").is_dir():
            return folder
    raise AssignmentError(f"no course folder (with assignments/ and reference/) at or above {here}")


#: the help of every command's --course option
COURSE_HELP = "Folder holding assignments/ and reference/ (default: found from here)."
#: names the folder that holds each assignment's default output folder (the test suite points
#: it at its own folder; not GRADER_OUT, which the GitHub workflow's grade.sh reads as the
#: output folder itself)
OUT_ENVIRONMENT = "GRADER_OUT_ROOT"


def default_out(assignment: str, course: Path | None) -> Path:
    """Where `grade` and `regrade` write without --out: out/<assignment> in the course folder
    (as `make grade` does), in the current folder without a course, or under $GRADER_OUT_ROOT."""
    chosen = os.environ.get(OUT_ENVIRONMENT)
    root = Path(chosen) if chosen else (course or Path.cwd()) / "out"
    return root / assignment


def available(course: Path) -> list:
    return sorted(p.name for p in (course / "assignments").iterdir()
                  if (p / "spec.toml").is_file())


def _builders(course: Path, name: str):
    path = course / "assignments" / name / "cases.py"
    if str(course) not in sys.path:
        sys.path.insert(0, str(course))  # so builders can import reference.<name>
    spec = importlib.util.spec_from_file_location(f"_assignment_cases_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load(name: str, course: Path | None = None) -> Assignment:
    """Build every case of an assignment (public and hidden) from its spec and reference."""
    course = course or find_course()
    folder = course / "assignments" / name
    i18n.add_catalogues(folder / "locale")  # its own words: title, tests, known mistakes
    spec_path = folder / "spec.toml"
    if not spec_path.is_file():
        known = ", ".join(available(course)) if (course / "assignments").is_dir() else "none"
        raise AssignmentError(f"unknown assignment {name!r} (known: {known})")
    try:
        spec = tomllib.loads(spec_path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise AssignmentError(f"{spec_path}: {exc}") from None
    title, cases, functions = spec.get("title", name), [], spec.get("functions")
    builders = _builders(course, name) if spec.get("test") or (
        is_short_form(spec) and (folder / "cases.py").is_file()) else None
    if is_short_form(spec):
        try:
            title, cases, functions = derived(course, name, spec, spec_path,
                                              getattr(builders, "hypotheses", None))
        except SpecError as exc:
            raise AssignmentError(str(exc)) from None
    defaults = spec.get("defaults", {}) if builders else {}
    names = {case.name for case in cases}
    for number, test in enumerate(spec.get("test", []), 1):
        where = f"{spec_path}, test {number}"
        try:
            builder = getattr(builders, test["builder"])
            case = builder(np.random.default_rng(test["seed"]), **test.get("params", {}))
        except KeyError as exc:
            raise AssignmentError(f"{where}: missing key {exc}") from None
        except AttributeError:
            raise AssignmentError(f"{where}: no builder {test['builder']!r} in cases.py") from None
        if not isinstance(case, Case):
            raise AssignmentError(f"{where}: builder did not return a Case")
        case.name = test["name"]
        case.function = test["function"]
        case.points = float(test.get("points", 1))
        case.visibility = test.get("visibility", "hidden")
        case.timeout = float(test.get("timeout", defaults.get("timeout", case.timeout)))
        case.description = test.get("description", case.description)
        if case.visibility not in VISIBILITIES:
            raise AssignmentError(f"{where}: visibility must be one of {VISIBILITIES}")
        if case.name in names:
            raise AssignmentError(f"{where}: duplicate test name {case.name!r}")
        names.add(case.name)
        rtol = test.get("rtol", defaults.get("rtol"))
        for expect in case.expects:
            if rtol is not None:
                expect.rtol = float(rtol)
        gradcheck_rtol = test.get("gradcheck_rtol", defaults.get("gradcheck_rtol"))
        for check in case.gradchecks:
            if gradcheck_rtol is not None:
                check.rtol = float(gradcheck_rtol)
        cases.append(case)
    functions = functions or list(dict.fromkeys(c.function for c in cases))
    handout = folder / f"{name}.ipynb"
    return Assignment(name, title, cases, list(functions),
                      handout if handout.is_file() else None)


def load_public(path: Path) -> Assignment:
    """The public cases a student received (no reference, no hidden case)."""
    name, cases = load_cases(path)
    return Assignment(name, name, cases, list(dict.fromkeys(c.function for c in cases)))
