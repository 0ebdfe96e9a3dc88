"""`grader new NAME`: scaffold an assignment's reference, spec and handout template in a course
(grader.authoring.scaffold), to be built with `grader build NAME`."""
from pathlib import Path

import click

from grader.authoring.scaffold import ScaffoldError, create
from grader.cli.recording import _fail
from grader.course.assignment import COURSE_HELP, AssignmentError, find_course


@click.command()
@click.argument("name")
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
def new(name, course):
    """Write reference/NAME.py, assignments/NAME/spec.toml and assignments/NAME/template.py: a
    small working example with comments, to replace with your own (docs/authoring.md). Outside
    a course folder, the current folder becomes one."""
    if course is None:
        try:
            course = find_course()
        except AssignmentError:  # no course here yet: this folder starts one
            course = Path.cwd()
    try:
        written = create(course, name)
    except ScaffoldError as exc:
        _fail(str(exc))
    for path in written:
        click.echo(f"wrote {path}")
    click.echo(f"next: edit them, then `grader build {name}` (and `grader mutants {name}` to see "
               "which likely mistakes the tests catch)")
