"""Command line: `grader grade`, `grader check`, `grader new`, `grader build`. Wires the stages
together; the logic lives in the modules it calls."""
import os
import sys
import time
from pathlib import Path

# Before numpy loads: the judge's arrays are small, and OpenBLAS's own threads would only spin
# beside the sandboxed children on the same cores (~0.3 ms of CPU per submission, measured).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

import grader  # noqa: E402
from grader import i18n  # noqa: E402
from grader.cli import authoring as authoring_cli  # noqa: E402
from grader.cli import gradebook as gradebook_cli  # noqa: E402
from grader.cli import recording  # noqa: E402
from grader.cli.batch import grade_batch, prestart  # noqa: E402
from grader.cli.language import lang_option  # noqa: E402
from grader.cli.recording import _fail  # noqa: E402
from grader.course import settings  # noqa: E402
from grader.course.assignment import (COURSE_HELP, AssignmentError, available,  # noqa: E402
                                      default_out, find_course, load, load_public)
from grader.export import bundles as export_cli  # noqa: E402
from grader.export import classroom  # noqa: E402
from grader.gradebook.options import (id_pattern_option, output_options,  # noqa: E402
                                      pick_option, recording_options)
from grader.gradebook.store import default_path  # noqa: E402
from grader.read.notebook import notebook_assignment  # noqa: E402
from grader.read.submission import SubmissionError, load_submission  # noqa: E402
from grader.report.selfcheck import PUBLIC_CASES  # noqa: E402
from grader.results import results_json as results  # noqa: E402
from grader.results.grade import called_functions, grade_submission  # noqa: E402
from grader.sandbox import SandboxError, Worker  # noqa: E402
from grader.similarity.command import similarity  # noqa: E402



@click.group()
@click.version_option(grader.__version__, package_name=grader.DISTRIBUTION,
                      message="%(prog)s %(version)s (distribution %(package)s)")
def main():
    """Grade backpropagation assignments: run student notebooks apart, judge their gradients,
    explain their mistakes."""


@main.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@output_options
@click.option("--student", "students", multiple=True,
              help="Grade only this submission id (repeatable).")
@pick_option
@id_pattern_option
@click.option("--no-html", is_flag=True,
              help="Skip the feedback pages (<id>/feedback.html, summary.html).")
@click.option("--cases", "cases_path", type=click.Path(path_type=Path, dir_okay=False,
                                                       exists=True), default=None,
              help="Grade the public cases of this case file only (no course checkout needed; "
                   "implies --no-gradebook).")
@recording_options
@lang_option
def grade(assignment, submissions, out, jobs, course, isolation, students, pick, id_pattern,
          no_html, cases_path, gradebook_path, no_gradebook, junit, lang):
    """Grade SUBMISSIONS (a notebook, a folder of notebooks or of folders holding one, or an
    LMS's download: a zip, or the folder it unpacks to) for ASSIGNMENT, writing Gradescope
    results.json files and grades.csv, and recording every run in the gradebook. Canvas,
    Moodle, Blackboard and Gradescope downloads are recognised by their naming: students are
    known by the LMS's id. Anything else in the folder is listed with the reason it was not
    graded (and the exit status is 1)."""
    began = time.perf_counter()
    i18n.use(lang)  # before the grading processes fork: they inherit it
    one = submissions.is_file() and not submissions.name.lower().endswith(".zip")
    started = prestart(1 if one else jobs, isolation)
    try:
        if cases_path:
            spec, course, no_gradebook = load_public(cases_path), None, True
            if spec.name != assignment:
                raise AssignmentError(f"{cases_path} holds the cases of {spec.name!r}, not "
                                      f"{assignment!r}")
        else:
            course = find_course(course)
            settings.use_language(course)  # below --lang and GRADER_LANG
            spec = load(assignment, course)
        out = out or default_out(spec.name, course)
        found = recording.select_students(
            recording.survey_of(submissions, pick, spec.name, id_pattern, out), students,
            submissions)
    except (AssignmentError, SubmissionError) as exc:
        _fail(str(exc))
    recording.nothing_to_grade(found, submissions)
    entries = recording.entries_of(found)
    record = None if no_gradebook else recording.open_recorder(
        gradebook_path or default_path(course), spec, entries, submissions,
        recording.identities(found))
    grade_batch(spec, entries, out, jobs, isolation, began, record=record, junit=junit,
                subset=bool(students), html=not no_html, started=started,
                left_out=found.left_out, found=found)


@main.command()
@click.argument("notebook", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--assignment", default=None,
              help="Assignment name (default: read from the public case file).")
@click.option("--cases", "cases_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help=f"Public case file (default: {PUBLIC_CASES} beside the notebook).")
@lang_option
def check(notebook, assignment, cases_path, lang):
    """Run the public cases against NOTEBOOK and explain each result (for students)."""
    i18n.use(lang)
    spec, cases_path = _public_assignment(notebook, assignment, cases_path)
    try:
        submission = load_submission(notebook, roots=called_functions(spec))
    except SubmissionError as exc:
        _fail(str(exc))
    worker = Worker()
    try:
        with i18n.notebook(submission.lang):  # the notebook's own language, unless --lang
            graded = grade_submission(spec, submission, worker)
            _report(graded, spec, cases_path, notebook)
    finally:
        worker.close()
    sys.exit(0 if all(v.passed for v in graded.verdicts) else 1)


def _report(graded, spec, cases_path, notebook):
    click.echo(results.report_text(graded, spec), nl=False)
    if cases_path and all("missing" in v.codes for v in graded.verdicts):
        click.echo(i18n._("None of the functions {cases} tests ({functions}) is defined in "
                          "{notebook}: is it the case file of this notebook's assignment? It "
                          "holds the public cases of {assignment}.", cases=cases_path.name,
                          functions=", ".join(spec.functions), notebook=notebook.name,
                          assignment=repr(spec.name)))


def _public_assignment(notebook: Path, name, cases_path):
    """(public cases, the case file they came from): the student's case file (beside the
    notebook, or --cases), or the course checkout's cases of --assignment. A case file of
    another assignment than the notebook's, or none, is a one-line error saying what to do."""
    _ = i18n._
    belongs = name or notebook_assignment(notebook)
    path = cases_path or notebook.parent / PUBLIC_CASES
    came_with = _("the {cases} that came with the {name} notebook", cases=PUBLIC_CASES,
                  name=belongs) if belongs \
        else _("the {cases} that came with your notebook", cases=PUBLIC_CASES)
    try:
        if path.is_file():
            spec = load_public(path)
            if belongs and belongs != spec.name:
                _fail(_("{path} holds the public cases of {holds}, but {notebook} is the "
                        "{name} notebook: put {came_with} beside it (or pass --cases FILE)",
                        path=path, holds=repr(spec.name), notebook=notebook.name,
                        name=repr(belongs), came_with=came_with))
            return spec, path
        if cases_path:
            _fail(_("{path}: no such file", path=cases_path))
        course = _course_or_none()
        if name and course:
            settings.use_language(course)
            return load(name, course).public(), None
    except AssignmentError as exc:
        _fail(str(exc))
    if not course:  # a student's machine: the case file is what they need
        _fail(_("no {cases} beside {notebook}: put {came_with} in {folder}/ (or pass --cases "
                "FILE)", cases=PUBLIC_CASES, notebook=notebook.name, came_with=came_with,
                folder=notebook.parent))
    _fail(_("no {cases} beside {notebook}: pass --assignment NAME (this course has {known}) or "
            "--cases FILE", cases=PUBLIC_CASES, notebook=notebook.name,
            known=", ".join(available(course))))


def _course_or_none():
    try:
        return find_course()
    except AssignmentError:
        return None


@main.command()
@click.argument("names", nargs=-1, required=True)
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
def build(names, course):
    """Regenerate each assignment's student notebook, samples and public case file from its
    template and reference (instructors only)."""
    from grader.authoring.notebooks import write_assignment
    from grader.course.cases import save_cases

    try:
        course = find_course(course)
        for name in names:
            written = write_assignment(course, name)
            spec = load(name, course).public()
            path = course / "assignments" / name / PUBLIC_CASES
            save_cases(path, name, spec.cases)
            click.echo(f"{name}: wrote {len(written) + 1} files")
    except AssignmentError as exc:
        _fail(str(exc))



@main.command()
@click.argument("names", nargs=-1)
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
@click.option("--markdown", is_flag=True, help="Print the table in Markdown (for docs/detection.md).")
@click.option("--verbose", is_flag=True, help="Also list every catalogue entry.")
@click.option("--readme", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the Markdown table between the mutants markers of this file.")
@click.option("--generated", is_flag=True,
              help="Instead: the mutants generated from each reference, and which the tests kill.")
@click.option("--json", "as_json", is_flag=True, help="With --generated: print JSON for scripts.")
def mutants(names, course, markdown, verbose, readme, generated, as_json):
    """Grade each assignment's catalogue of realistic mistakes and correct variants
    (assignments/<name>/mutants.py) and print what the grader catches and names; with
    --generated, measure the tests against the mistakes generated from the reference."""
    from grader.authoring import catalogue as mutation

    try:
        folder = find_course(course)
    except AssignmentError as exc:
        _fail(str(exc))
    # an assignment written from its spec alone has no catalogue: its generated mistakes are
    # what its tests are measured against
    if generated or (names and not any(mutation.has_catalogue(folder, n) for n in names)):
        from grader.authoring import strength

        try:
            found = [strength.measure(name, folder) for name in (names or available(folder))]
        except AssignmentError as exc:
            _fail(str(exc))
        click.echo(strength.as_json(found) if as_json else strength.table(found), nl=not as_json)
        return
    try:
        measurements = mutation.measure_all(names, folder)
        if readme:
            mutation.update_readme(readme, measurements)
    except (AssignmentError, mutation.CatalogueError, SandboxError) as exc:
        _fail(str(exc))
    mutation.report(measurements, markdown=markdown, verbose=verbose)
    sys.exit(0 if mutation.goals_met(measurements) else 1)

main.add_command(authoring_cli.new)
main.add_command(gradebook_cli.gradebook)
main.add_command(gradebook_cli.regrade)
main.add_command(export_cli.export)
main.add_command(classroom.summary)
main.add_command(similarity)

if __name__ == "__main__":
    main()
