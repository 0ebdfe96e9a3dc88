"""Command line: `grader grade`, `grader check`, `grader build`. Wires the stages together; the
logic lives in the modules it calls."""
import contextlib
import gc
import os
import sys
import time
from pathlib import Path

# Before numpy loads: the judge's arrays are small, and OpenBLAS's own threads would only spin
# beside the sandboxed children on the same cores (~0.3 ms of CPU per submission, measured).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import click  # noqa: E402

from grader import classroom  # noqa: E402
from grader import export as export_cli  # noqa: E402
from grader import i18n, parallel, results  # noqa: E402
from grader.assignment import (COURSE_HELP, AssignmentError, available,  # noqa: E402
                               default_out, find_course, load, load_public)
from grader.grade import (Graded, called_functions, grade_submission, judged, output_bytes,  # noqa: E402
                          run_submission, ungradable)
from grader.discovery import survey  # noqa: E402
from grader.gradebook import classfile  # noqa: E402
from grader.gradebook import commands as gradebook_cli  # noqa: E402
from grader.junit import write_junit  # noqa: E402
from grader.notebook import notebook_assignment, validation_for  # noqa: E402
from grader.sandbox import SandboxError, Worker, close_all, launch  # noqa: E402
from grader.sandbox.layers import isolation_notice  # noqa: E402
from grader.selfcheck import PUBLIC_CASES  # noqa: E402
from grader.similarity.command import similarity  # noqa: E402
from grader.submission import (SubmissionError, load_submission,  # noqa: E402
                               remember_handout)



#: the language of what students read (diagnoses, results.json, the self-check report)
lang_option = click.option("--lang", type=click.Choice(i18n.LANGUAGES), default=None,
                           help="Language of the feedback students read: en or ko "
                                "(default: $GRADER_LANG, else en).")


def _fail(message: str):
    click.echo(f"grader: {message}", err=True)
    sys.exit(2)


def _progress(total: int):
    """A real progress bar on a terminal; nothing (a summary line follows) otherwise."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress("[progress.description]{task.description}", BarColumn(),
                        MofNCompleteColumn(), TimeRemainingColumn(), transient=True)
    progress.start()
    progress.add_task("grading", total=total)
    return progress


def start_workers(jobs: int, isolation: str, started: list | None = None) -> list:
    """`jobs` warm workers (those `started` early, and more if needed); a line on stderr naming
    the isolation when it is not full (a warning when it is reduced)."""
    try:
        started = list(started or [])[:jobs]
        started += prestart(jobs - len(started), isolation, first=len(started))
        workers = [worker.ready() for worker in started]  # all warmed up at once; wait for each
    except SandboxError as exc:
        _fail(str(exc))
    notice = isolation_notice(workers)
    if notice:
        click.echo(notice, err=True)
    return workers


def prestart(jobs, isolation, first: int = 0) -> list:
    """`jobs` workers (None: one per core) started now, e.g. before the assignment is loaded
    and the notebooks found, so their warm-up (a Python with numpy, in its sandbox) overlaps
    that work. When they take every core, worker i keeps to core i (`first` counts those
    started before; see launch.cores_for)."""
    try:
        count = launch.usable_cores() if jobs is None else jobs
        workers = [Worker(isolation=isolation, cpu=cpu)
                   for cpu in launch.cores_for(first + count)[first:]]
        for worker in workers:
            worker.start()
        return workers
    except SandboxError as exc:
        _fail(str(exc))


@contextlib.contextmanager
def _few_collections():
    """A batch allocates millions of short-lived objects (syntax trees, decoded arrays) and
    keeps few: freeze what exists now (the assignment, its references and cases) and collect
    less often, instead of the garbage collector walking it all again and again."""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(20_000, 20, 20)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def grade_all(assignment, entries, out: Path, jobs: int, isolation: str = "auto",
              on_graded=None, started=None, pages: bool = False) -> list:
    """Grade (id, path, error) entries with `jobs` warm workers (reusing those `started`), each
    fed by a grading process of its own (grader.parallel); results (and with `pages`, each
    submission's feedback page) are written as they are made, and passed to `on_graded` in
    submission order."""
    for extra in (started or [])[jobs:]:
        extra.close()
    if pages:
        from grader import report

        report.figures.load()  # matplotlib, once, before the grading processes fork

    roots = called_functions(assignment)

    def prepared(index: int):
        """The submission, or why it cannot be read."""
        submission_id, path, error = entries[index]
        if error is None:
            try:
                return load_submission(path, submission_id, roots)
            except SubmissionError as exc:
                error = str(exc)
        return error

    def ran(index: int, submission, worker: Worker):
        if isinstance(submission, str):
            return submission
        return submission, run_submission(assignment, submission, worker)

    def finished(index: int, outcome) -> Graded:
        if isinstance(outcome, str):
            return written(ungradable(assignment, entries[index][0], outcome))
        return written(judged(assignment, *outcome))

    def failed(index: int, reason: str) -> Graded:
        return written(ungradable(assignment, entries[index][0], reason))

    def written(graded: Graded) -> Graded:
        results.write_results(out, graded, assignment)
        if pages:
            began = time.perf_counter()
            report.write_feedback(out, graded, assignment)
            graded.page_seconds = time.perf_counter() - began
        return graded

    # while the workers warm up: the handout's cells are parsed, the notebook validators
    # loaded and chosen, the garbage collector tuned; the grading processes fork later and
    # inherit all of it
    if len(entries) > 1:
        remember_handout(assignment.handout)
    with validation_for(len(entries)), _few_collections():
        workers = start_workers(jobs, isolation, started)
        graded_list, progress = [], None
        try:
            outcomes = parallel.in_order(
                parallel.Stages(prepare=prepared, run=ran, finish=finished,
                                size=lambda outcome: 0 if isinstance(outcome, str)
                                else output_bytes(outcome[1])), len(entries),
                workers, on_failure=failed,
                pack=lambda graded: graded.packed(assignment.cases),
                unpack=lambda data: Graded.unpacked(data, assignment.cases))
            progress = _progress(len(entries))  # its thread starts after the forks
            for graded in outcomes:
                if on_graded:
                    on_graded(graded)
                graded_list.append(graded)
                if progress:
                    progress.advance(0)
        finally:
            if progress:
                progress.stop()
            close_all(workers)
    return graded_list


@click.group()
@click.version_option(package_name="grader")
def main():
    """Grade backpropagation assignments: run student notebooks apart, judge their gradients,
    explain their mistakes."""


@main.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@gradebook_cli.output_options
@click.option("--student", "students", multiple=True,
              help="Grade only this submission id (repeatable).")
@gradebook_cli.pick_option
@click.option("--no-html", is_flag=True,
              help="Skip the feedback pages (<id>/feedback.html, summary.html).")
@click.option("--cases", "cases_path", type=click.Path(path_type=Path, dir_okay=False,
                                                       exists=True), default=None,
              help="Grade the public cases of this case file only (no course checkout needed; "
                   "implies --no-gradebook).")
@gradebook_cli.recording_options
@lang_option
def grade(assignment, submissions, out, jobs, course, isolation, students, pick, no_html,
          cases_path, gradebook_path, no_gradebook, junit, lang):
    """Grade SUBMISSIONS (a notebook, or a folder of notebooks or of folders holding one) for
    ASSIGNMENT, writing Gradescope results.json files and grades.csv, and recording every run
    in the gradebook. Anything else in the folder is listed with the reason it was not graded
    (and the exit status is 1)."""
    began = time.perf_counter()
    i18n.use(lang)  # before the grading processes fork: they inherit it
    started = prestart(1 if submissions.is_file() else jobs, isolation)
    try:
        if cases_path:
            spec, course, no_gradebook = load_public(cases_path), None, True
            if spec.name != assignment:
                raise AssignmentError(f"{cases_path} holds the cases of {spec.name!r}, not "
                                      f"{assignment!r}")
        else:
            course = find_course(course)
            spec = load(assignment, course)
        found = gradebook_cli.select_students(survey(submissions, pick), students, submissions)
    except (AssignmentError, SubmissionError) as exc:
        _fail(str(exc))
    gradebook_cli.nothing_to_grade(found, submissions)
    entries = gradebook_cli.entries_of(found)
    out = out or default_out(spec.name, course)
    record = None if no_gradebook else gradebook_cli.open_recorder(
        gradebook_path or gradebook_cli.default_path(course), spec, entries, submissions)
    grade_batch(spec, entries, out, jobs, isolation, began, record=record, junit=junit,
                subset=bool(students), html=not no_html, started=started,
                left_out=found.left_out)


def grade_batch(spec, entries, out, jobs, isolation, began, record=None, junit=None,
                subset=False, html=False, started=None, left_out=()):
    """Grade discovered entries (grade, regrade): results.json, grades.csv and the class page
    (a `subset` keeps the other students of the earlier ones: OUT/class.json), JUnit XML if
    asked, each run recorded by `record` if given, and a summary naming what was `left_out`
    (which makes the exit status 1)."""
    previous = gradebook_cli.read_grades(out) if subset else []
    out.mkdir(parents=True, exist_ok=True)
    jobs = jobs or launch.usable_cores()
    graded_list = grade_all(spec, entries, out, min(jobs, len(entries)), isolation,
                            on_graded=record, started=started, pages=html)
    results.write_grades_csv(out, graded_list, spec)
    gradebook_cli.merge_grades(out, previous, left_out, spec.max_score)
    whole_class = classfile.update(out, graded_list, spec, keep=subset)
    if junit:
        write_junit(junit, graded_list, spec)
    scores = [g.score for g in graded_list]
    broken = sum(1 for g in graded_list if g.error)
    click.echo(f"{spec.name}: graded {len(graded_list)} submissions in "
               f"{time.perf_counter() - began:.2f} s; mean score {sum(scores) / len(scores):.2f} / "
               f"{spec.max_score:g}; {broken} could not be graded; results in {out}/")
    if left_out:
        click.echo(f"left out {len(left_out)} (not graded; listed in grades.csv):")
        for entry in left_out:
            click.echo(f"  {entry.reason}")
    summary_page = _pages(out, graded_list, spec, whole_class) if html else None
    if sys.stdout.isatty():
        from grader.report.console import print_table

        print_table(graded_list, spec, summary_page)
    if record:
        record.close()
    if left_out:
        sys.exit(1)


def _pages(out, graded_list, spec, whole_class):
    """The class page of `whole_class` (the feedback pages were written with each submission);
    says what the pages cost; returns the class page's path."""
    from grader import report

    began = time.perf_counter()
    path = report.write_summary(out, whole_class, spec)
    per_page = sum(g.page_seconds for g in graded_list) / len(graded_list)
    click.echo(f"feedback pages: {1000 * per_page:.0f} ms per submission (written beside its "
               f"results), class summary {time.perf_counter() - began:.2f} s: "
               f"{out}/<id>/{report.FEEDBACK}" + (f", {path}" if path else ""))
    return path


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
        graded = grade_submission(spec, submission, worker)
    finally:
        worker.close()
    click.echo(results.report_text(graded, spec), nl=False)
    if cases_path and all("missing" in v.codes for v in graded.verdicts):
        click.echo(i18n._("None of the functions {cases} tests ({functions}) is defined in "
                          "{notebook}: is it the case file of this notebook's assignment? It "
                          "holds the public cases of {assignment}.", cases=cases_path.name,
                          functions=", ".join(spec.functions), notebook=notebook.name,
                          assignment=repr(spec.name)))
    sys.exit(0 if all(v.passed for v in graded.verdicts) else 1)


def _public_assignment(notebook: Path, name, cases_path):
    """(public cases, the case file they came from): the student's case file (beside the
    notebook, or --cases), or the course checkout's cases of --assignment. A case file of
    another assignment than the notebook's, or none, is a one-line error saying what to do."""
    belongs = name or notebook_assignment(notebook)
    path = cases_path or notebook.parent / PUBLIC_CASES
    came_with = f"the {PUBLIC_CASES} that came with the {belongs} notebook" if belongs \
        else f"the {PUBLIC_CASES} that came with your notebook"
    try:
        if path.is_file():
            spec = load_public(path)
            if belongs and belongs != spec.name:
                _fail(f"{path} holds the public cases of {spec.name!r}, but {notebook.name} is "
                      f"the {belongs!r} notebook: put {came_with} beside it (or pass --cases "
                      "FILE)")
            return spec, path
        if cases_path:
            _fail(f"{cases_path}: no such file")
        course = _course_or_none()
        if name and course:
            return load(name, course).public(), None
    except AssignmentError as exc:
        _fail(str(exc))
    if not course:  # a student's machine: the case file is what they need
        _fail(f"no {PUBLIC_CASES} beside {notebook.name}: put {came_with} in "
              f"{notebook.parent}/ (or pass --cases FILE)")
    _fail(f"no {PUBLIC_CASES} beside {notebook.name}: pass --assignment NAME (this course has "
          f"{', '.join(available(course))}) or --cases FILE")


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
    from grader.authoring import write_assignment
    from grader.cases import save_cases

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
@click.option("--markdown", is_flag=True, help="Print the table in Markdown (for the README).")
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
    from grader import mutation

    if generated:
        from grader.judge import strength

        try:
            folder = find_course(course)
            found = [strength.measure(name, folder) for name in (names or available(folder))]
        except AssignmentError as exc:
            _fail(str(exc))
        click.echo(strength.as_json(found) if as_json else strength.table(found), nl=not as_json)
        return
    try:
        measurements = mutation.measure_all(names, find_course(course))
        if readme:
            mutation.update_readme(readme, measurements)
    except (AssignmentError, mutation.CatalogueError, SandboxError) as exc:
        _fail(str(exc))
    mutation.report(measurements, markdown=markdown, verbose=verbose)
    sys.exit(0 if mutation.goals_met(measurements) else 1)

main.add_command(gradebook_cli.gradebook)
main.add_command(gradebook_cli.regrade)
main.add_command(export_cli.export)
main.add_command(classroom.summary)
main.add_command(similarity)

if __name__ == "__main__":
    main()
