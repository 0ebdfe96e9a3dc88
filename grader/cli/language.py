"""The language of what the commands write for students and the instructor: the --lang option
every command that writes feedback takes (grade, regrade, check; export and summary declare
their own), above GRADER_LANG and the course's course.toml (grader.course.settings)."""
import click

from grader import i18n

#: the language of what students read (diagnoses, results.json, pages, the self-check report)
lang_option = click.option("--lang", type=click.Choice(i18n.LANGUAGES), default=None,
                           help="Language of the feedback: en or ko (default: the notebook's "
                                "own, else $GRADER_LANG, else the course's course.toml, else en).")
