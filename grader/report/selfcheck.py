"""`grader.check("f")` inside a student's notebook: run f's public cases against what the
student just defined, in a separate process, and print the readable report.

The code checked is the code the kernel ran: IPython's input history, in execution order, goes
through the same extraction as a submitted notebook, so a self-check and the real grading see
the same definitions.
"""
import inspect
import sys
from pathlib import Path

from grader import i18n
from grader.results import results_json as results
from grader.i18n import _
from grader.course.assignment import Assignment, AssignmentError, load_public
from grader.results.grade import called_functions, grade_submission
from grader.sandbox import Worker
from grader.read.submission import extract_source

PUBLIC_CASES = "public_cases.bin"


def _kernel_cells() -> list:
    """The cells the kernel has run, oldest first; outside IPython, the sources of the
    functions defined in __main__."""
    try:
        from IPython import get_ipython  # only present inside Jupyter/IPython
        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None and isinstance(shell.user_ns.get("In"), list):
        return [cell for cell in shell.user_ns["In"] if isinstance(cell, str)]
    main = sys.modules["__main__"].__dict__
    cells = []
    for name, value in list(main.items()):
        if inspect.ismodule(value):
            alias = "" if value.__name__ == name else f" as {name}"
            cells.append(f"import {value.__name__}{alias}")
        elif (inspect.isfunction(value) or inspect.isclass(value)) \
                and getattr(value, "__module__", None) == "__main__":
            try:
                cells.append(inspect.getsource(value))
            except (OSError, TypeError):
                pass
    return cells


def _public_cases(data) -> Assignment:
    path = Path(data) if data else Path.cwd() / PUBLIC_CASES
    if path.is_file():
        return load_public(path)
    raise AssignmentError(_("no public case file at {path}: run the notebook from its own "
                            "folder (where {cases} is) or pass data='path/to/{cases}'",
                            path=path, cases=PUBLIC_CASES))


def check_in_kernel(function: str, data=None, cells=None, lang=None) -> bool:
    """Print the public-case report for one function, in `lang` ("en", "ko"; default:
    $GRADER_LANG, else English); True when every public case passes."""
    try:
        lang = i18n.normalized(lang) if lang else None
    except ValueError as exc:  # a language there is no catalogue of
        print(f"grader.check: {exc}")
        return False
    with i18n.using(lang):
        return _check(function, data, cells)


def _check(function: str, data, cells) -> bool:
    try:
        assignment = _public_cases(data)
    except AssignmentError as exc:
        print(f"grader.check: {exc}")
        return False
    cases = [c for c in assignment.cases if c.function == function]
    if not cases:
        known = ", ".join(assignment.functions)
        print("grader.check: " + _("no public cases for {function} (graded functions: {known})",
                                   function=repr(function), known=known))
        return False
    only = Assignment(assignment.name, assignment.title, cases, [function])
    submission = extract_source(cells if cells is not None else _kernel_cells(), "notebook",
                                called_functions(only))
    worker = Worker()
    try:
        graded = grade_submission(only, submission, worker)
    finally:
        worker.close()
    print(results.report_text(graded, only), end="")
    return all(v.passed for v in graded.verdicts)
