"""Grading a batch of submissions: warm sandbox workers started early, one grading process per
worker, results and feedback pages written as they come, then grades.csv, the class page, JUnit
and the summary line. `grader grade` and `grader regrade` both end here."""
import contextlib
import gc
import sys
import time
from pathlib import Path

import click

from grader import i18n
from grader.export.junit import write_junit
from grader.gradebook import classfile
from grader.read.notebook import validation_for
from grader.results import parallel
from grader.results import results_json as results
from grader.results.grade import (Graded, called_functions, judged, output_bytes, run_submission,
                                  ungradable)
from grader.sandbox import SandboxError, Worker, close_all, launch
from grader.sandbox.layers import isolation_notice
from grader.read.submission import SubmissionError, load_submission, remember_handout
from grader.cli import recording
from grader.cli.recording import _fail


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
              on_graded=None, started=None, pages: bool = False, origins=None) -> list:
    """Grade (id, path, error) entries with `jobs` warm workers (reusing those `started`), each
    fed by a grading process of its own (grader.results.parallel); results (and with `pages`, each
    submission's feedback page) are written as they are made, and passed to `on_graded` in
    submission order. `origins`: {id: what an LMS's download said of it} for results.json."""
    origins = origins or {}
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
        with i18n.notebook(submission.lang):  # the notebook's language, unless --lang chose
            return submission, run_submission(assignment, submission, worker)

    def finished(index: int, outcome, worker: Worker | None = None) -> Graded:
        if isinstance(outcome, str):
            return written(ungradable(assignment, entries[index][0], outcome))
        with i18n.notebook(outcome[0].lang):
            return written(judged(assignment, *outcome, worker=worker))

    def failed(index: int, reason: str) -> Graded:
        return written(ungradable(assignment, entries[index][0], reason))

    def written(graded: Graded) -> Graded:
        results.write_results(out, graded, assignment, origins.get(graded.id))
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


def grade_batch(spec, entries, out, jobs, isolation, began, record=None, junit=None,
                subset=False, html=False, started=None, left_out=(), found=None):
    """Grade discovered entries (grade, regrade): results.json, grades.csv and the class page
    (a `subset` keeps the other students of the earlier ones: OUT/class.json), JUnit XML if
    asked, each run recorded by `record` if given, and a summary naming what was `left_out`
    (which makes the exit status 1). `found`, the Survey the entries come from, says whose
    download it was, what was picked, and who the students are (for results.json)."""
    previous = recording.read_grades(out) if subset else []
    out.mkdir(parents=True, exist_ok=True)
    if found is not None and found.download:
        click.echo(found.download)
    jobs = jobs or launch.usable_cores()
    graded_list = grade_all(spec, entries, out, min(jobs, len(entries)), isolation,
                            on_graded=record, started=started, pages=html,
                            origins=recording.origins(found))
    results.write_grades_csv(out, graded_list, spec)
    recording.merge_grades(out, previous, left_out, spec.max_score)
    whole_class = classfile.update(out, graded_list, spec, keep=subset)
    if junit:
        write_junit(junit, graded_list, spec)
    scores = [g.score for g in graded_list]
    broken = sum(1 for g in graded_list if g.error)
    click.echo(f"{spec.name}: graded {len(graded_list)} submissions in "
               f"{time.perf_counter() - began:.2f} s; mean score {sum(scores) / len(scores):.2f} / "
               f"{spec.max_score:g}; {broken} could not be graded; results in {out}/")
    notes = found.notes if found is not None else []
    if notes:
        click.echo(f"picked ({len(notes)}):")
        for note in notes:
            click.echo(f"  {note}")
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
