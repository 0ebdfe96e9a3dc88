"""The options `grade` and `regrade` share, defined once so that both speak the same words:
-o/--out, --jobs, --course, --isolation, --pick, --id-pattern, --gradebook, --no-gradebook,
--junit."""
import re
from pathlib import Path

import click

from grader.course.assignment import COURSE_HELP
from grader.intake.discovery import PICK_SYNTAX, Pick
from grader.gradebook.store import ENVIRONMENT, FILENAME


def _pick(ctx, param, value):
    if value is None:
        return None
    try:
        return Pick.parse(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def pick_option(command):
    """--pick: which notebook of a student folder holding several to grade."""
    return click.option(
        "--pick", callback=_pick, metavar=PICK_SYNTAX, default=None,
        help="Which notebook to grade in a student folder holding several: the newest "
        "(modification time) or the one whose file name matches PATTERN (a glob, any case). "
        "Without it such a folder is left out, with the names it holds.")(command)


def _id_pattern(ctx, param, value):
    if value is None:
        return None
    try:
        pattern = re.compile(value)
    except re.error as exc:
        raise click.BadParameter(f"{value!r} is not a regular expression ({exc})") from None
    if "student" not in pattern.groupindex:
        raise click.BadParameter(f"{value!r} has no group (?P<student>...) naming the student")
    return pattern


def id_pattern_option(command):
    """--id-pattern: how a download of an LMS the grader does not know names its students."""
    return click.option(
        "--id-pattern", callback=_id_pattern, metavar="REGEX", default=None,
        help="How the files or folders of a download name their student, for an LMS the "
        "grader does not recognise: a regular expression matched from the start of each name, "
        "with the named group (?P<student>...) and optionally (?P<name>...) and "
        "(?P<timestamp>...) (a student's latest is graded).")(command)


def output_options(command):
    """-o/--out, --jobs, --course, --isolation: where results go and how they are made."""
    for option in reversed((
            click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False),
                         default=None, help="Folder for <id>/results.json, grades.csv and the "
                         "feedback pages (default: out/ASSIGNMENT in the course folder, or "
                         "under $GRADER_OUT_ROOT)."),
            click.option("--jobs", type=click.IntRange(1, 64), default=None,
                         help="Submissions graded at once (default: every core this process "
                         "may use)."),
            click.option("--course", type=click.Path(path_type=Path, file_okay=False),
                         default=None, help=COURSE_HELP),
            click.option("--isolation", type=click.Choice(["auto", "full", "contained",
                                                             "reduced"]),
                         default="auto", show_default=True,
                         help="full: bubblewrap sandbox or fail; contained: Landlock, seccomp "
                         "and (as root) a uid of its own, or fail; reduced: process limits "
                         "only; auto: the first that holds here (never reduced as root)."))):
        command = option(command)
    return command


def recording_options(command):
    """--gradebook, --no-gradebook, --junit."""
    command = click.option("--junit", type=click.Path(path_type=Path, dir_okay=False),
                           default=None, help="Also write JUnit XML here (one testsuite per "
                           "submission, one testcase per test).")(command)
    command = click.option("--no-gradebook", is_flag=True,
                           help="Do not record this run in the gradebook.")(command)
    command = click.option("--gradebook", "gradebook_path",
                           type=click.Path(path_type=Path, dir_okay=False), default=None,
                           help=f"SQLite gradebook recording every run (default: {FILENAME} in "
                           f"the course folder, or ${ENVIRONMENT}).")(command)
    return command
