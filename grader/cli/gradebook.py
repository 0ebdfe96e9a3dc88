"""Command line of the gradebook: `grader gradebook list|show|export` and `grader regrade` (the
recording hook `grader grade` uses is in grader.cli.recording)."""
from pathlib import Path

import click

from grader.intake.discovery import Found
from grader.intake.lms import Identity
from grader.export.lms import FORMATS, RosterError, export_csv, known_people, read_roster
from grader.gradebook.options import (COURSE_HELP, id_pattern_option,  # noqa: F401
                                      output_options, pick_option, recording_options)
from grader.gradebook.schema import GradebookError
from grader.gradebook.store import ENVIRONMENT, FILENAME, Gradebook, default_path
from grader.read.submission import SubmissionError
from grader.cli.batch import grade_batch
from grader.cli.language import lang_option
from grader.cli.recording import (_fail, entries_of, identities, nothing_to_grade,
                                  open_recorder, select_students, survey_of)


def _book_path(gradebook_path, course) -> Path:
    if gradebook_path:
        return gradebook_path
    from grader.course.assignment import AssignmentError, find_course
    try:
        return default_path(find_course(course))
    except AssignmentError as exc:
        _fail(f"{exc}; pass --gradebook PATH")


def _open(gradebook_path, course) -> Gradebook:
    try:
        return Gradebook(_book_path(gradebook_path, course), create=False)
    except GradebookError as exc:
        _fail(str(exc))


def _where(command):
    command = click.option("--course", type=click.Path(path_type=Path, file_okay=False),
                           default=None, help=COURSE_HELP)(command)
    return click.option("--gradebook", "gradebook_path", type=click.Path(path_type=Path,
                        dir_okay=False), default=None,
                        help=f"Gradebook file (default: {FILENAME} in the course folder, or "
                        f"${ENVIRONMENT}).")(command)


# -- grader regrade ---------------------------------------------------------------------------

@click.command()
@click.argument("assignment")
@click.option("--student", "students", multiple=True,
              help="Regrade only this student (repeatable; default: every student).")
@click.option("--submissions", type=click.Path(path_type=Path), default=None,
              help="Grade the notebooks found here, a folder or an LMS's download (default: "
              "the notebook each student's latest run graded, as recorded in the gradebook).")
@pick_option
@id_pattern_option
@output_options
@click.option("--no-html", is_flag=True,
              help="Skip the feedback pages (<id>/feedback.html, summary.html).")
@recording_options
@lang_option
def regrade(assignment, students, submissions, pick, id_pattern, out, jobs, course, isolation,
            no_html, gradebook_path, no_gradebook, junit, lang):
    """Grade ASSIGNMENT again, for every student or the named ones, and record new runs.

    Without --submissions, each student's notebook is the one their latest recorded run graded
    (regrade after fixing a test or upgrading the grader); with it, the notebooks found there
    (regrade after students resubmitted)."""
    import time

    from grader.course.assignment import AssignmentError, default_out, find_course, load
    from grader.intake.discovery import Survey

    from grader import i18n
    from grader.course import settings

    began = time.perf_counter()
    i18n.use(lang)  # before the grading processes fork: they inherit it
    try:
        course = find_course(course)
        settings.use_language(course)
        spec = load(assignment, course)
    except AssignmentError as exc:
        _fail(str(exc))
    path = gradebook_path or default_path(course)
    out = out or default_out(assignment, course)
    if submissions is not None:
        try:
            found = select_students(survey_of(submissions, pick, spec.name, id_pattern, out),
                                    students, submissions)
        except SubmissionError as exc:
            _fail(str(exc))
        sources = submissions
    else:
        entries, sources = _recorded_entries(path, assignment, students)
        found = Survey([Found(*entry[:3], who=entry[3], file=entry[1].name if entry[3] else "")
                        for entry in entries])
    nothing_to_grade(found, submissions)
    entries = entries_of(found)
    record = None if no_gradebook else open_recorder(path, spec, entries, sources,
                                                     identities(found))
    grade_batch(spec, entries, out, jobs, isolation, began, record=record, junit=junit,
                subset=bool(students), html=not no_html, left_out=found.left_out, found=found)


def _recorded_entries(path, assignment, students):
    """(entries, {id: submissions}) from the latest recorded run of each student; an entry is
    (id, notebook, None, who): who the roster and the run say the student is (an LMS's
    download named them), or None."""
    try:
        with Gradebook(path, create=False) as book:
            runs = book.latest_runs(assignment, students)
            roster = {row["student"]: row for row in book.roster()}
    except GradebookError as exc:
        _fail(f"{exc}; pass --submissions DIR")
    known = {run.student for run in runs}
    missing = [s for s in students if s not in known]
    if missing:
        _fail(f"no recorded run of {assignment} for {', '.join(map(repr, missing))} in {path}; "
              "pass --submissions DIR")
    if not runs:
        _fail(f"no recorded run of {assignment} in {path}; pass --submissions DIR")
    entries, sources = [], {}
    for run in runs:
        if run.path is None or not Path(run.path).is_file():
            what = "no notebook was recorded" if run.path is None else f"{run.path} is gone"
            click.echo(f"warning: {run.student} skipped: {what}; regrade with --submissions "
                       "DIR", err=True)
            continue
        entries.append((run.student, Path(run.path), None, _identity(run, roster)))
        sources[run.student] = run.submissions
    if not entries:
        _fail("no recorded notebook is left to regrade; pass --submissions DIR")
    return entries, sources


def _identity(run, roster: dict):
    """The Identity a run's student had when their download was graded (None: no LMS's)."""
    row = roster.get(run.student)
    if row is None and run.late is None and run.submitted_at is None:
        return None
    known = {k: v for k, v in (row or {}).items() if k != "student"}
    return Identity(run.student, late=None if run.late is None else bool(run.late),
                    submitted_at=run.submitted_at, **known)


# -- grader gradebook -------------------------------------------------------------------------

@click.group("gradebook")
def gradebook():
    """Query the gradebook: every grading run, latest and best scores, CSV exports."""


@gradebook.command("list")
@click.argument("assignment", required=False)
@_where
def list_(assignment, gradebook_path, course):
    """Per assignment: each student's latest and best score and number of attempts."""
    with _open(gradebook_path, course) as book:
        standings = book.standings(assignment)
        titles = {name: (title, top) for name, title, top in book.assignments()}
    if not standings:
        _fail(f"no recorded run{' of ' + assignment if assignment else ''}")
    width = max(7, *(len(s.student) for s in standings))
    current = None
    for s in standings:
        if s.assignment != current:
            if current is not None:
                click.echo()
            current = s.assignment
            title, top = titles.get(s.assignment, (s.assignment, s.max_score))
            click.echo(f"{s.assignment} — {title} (max {top:g})")
            click.echo(f"  {'student':<{width}}  {'latest':>7}  {'best':>7}  {'attempts':>8}  "
                       "last graded (UTC)")
        note = "  could not be graded" if s.error else ""
        click.echo(f"  {s.student:<{width}}  {s.latest:>7g}  {s.best:>7g}  {s.attempts:>8}  "
                   f"{s.graded_at}{note}")


@gradebook.command()
@click.argument("student")
@click.option("--assignment", default=None, help="Only this assignment.")
@_where
def show(student, assignment, gradebook_path, course):
    """Every run of STUDENT: time, content hash prefix, score, failed tests."""
    with _open(gradebook_path, course) as book:
        runs = book.history(student, assignment)
    if not runs:
        _fail(f"no recorded run of {student!r}" + (f" in {assignment}" if assignment else ""))
    current = None
    for run in runs:
        if run.assignment != current:
            if current is not None:
                click.echo()
            current = run.assignment
            count = sum(1 for r in runs if r.assignment == current)
            click.echo(f"{student} — {current} ({count} run{'s' if count != 1 else ''})")
        digest = run.content_hash[:12] if run.content_hash else "(no file)"
        click.echo(f"  #{run.id:<5} {run.graded_at}  {digest:<12}  {run.score:g} / "
                   f"{run.max_score:g}  grader {run.grader_version}")
        if run.error:
            click.echo(f"         not graded: {run.error}")
        elif run.failed:
            click.echo(f"         failed: {'; '.join(run.failed)}")


def _lms_ids(values) -> dict:
    ids = {}
    for value in values:
        name, sep, ident = value.partition("=")
        if not sep or not name or not ident:
            raise click.BadParameter(f"{value!r}: expected ASSIGNMENT=ID", param_hint="--lms-id")
        ids[name] = ident
    return ids


@gradebook.command()
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="wide", show_default=True,
              help="wide: student + one column per assignment; canvas / moodle: their CSV "
              "grade import.")
@click.option("--score", "which", type=click.Choice(["latest", "best"]), default="latest",
              show_default=True, help="Which run's score each cell holds.")
@click.option("--assignment", "names", multiple=True,
              help="Only these assignments (repeatable; default: all recorded).")
@click.option("--roster", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="CSV mapping student ids to LMS identities (columns: student, name, email, "
              "canvas_id, sis_user_id, sis_login_id, section); without it, the identities the "
              "graded LMS downloads gave.")
@click.option("--lms-id", "lms_ids", multiple=True, metavar="ASSIGNMENT=ID",
              help="The LMS's id of an assignment, for Canvas column names 'Title (ID)'.")
@click.option("-o", "--out", "output", type=click.Path(path_type=Path, dir_okay=False,
                                                      allow_dash=True),
              default="-", show_default=True, help="CSV file to write (-: standard output).")
@_where
def export(fmt, which, names, roster, lms_ids, output, gradebook_path, course):
    """CSV of the class: one row per student, one column per assignment."""
    ids = _lms_ids(lms_ids)
    try:
        people = read_roster(roster) if roster else None
    except RosterError as exc:
        _fail(str(exc))
    with _open(gradebook_path, course) as book:
        scores = book.scores(which)
        assignments = book.assignments()
        known = known_people(book.roster())
    if names:
        unknown = [n for n in names if n not in {a[0] for a in assignments}]
        if unknown:
            _fail(f"no recorded run of {', '.join(unknown)}")
        assignments = [a for a in assignments if a[0] in names]
        scores = {k: v for k, v in scores.items() if k[1] in names}
    result = export_csv(scores, assignments, fmt, people, ids, known)
    if result.unmatched:
        click.echo(f"warning: not in the roster (appended without LMS identity): "
                   f"{', '.join(result.unmatched)}", err=True)
    if result.unidentified:
        click.echo(f"warning: no id Canvas can match (anonymous submissions): "
                   f"{', '.join(result.unidentified)}; give a --roster to import them", err=True)
    if str(output) == "-":
        click.echo(result.text, nl=False)
    else:
        Path(output).write_text(result.text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
