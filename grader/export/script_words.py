"""What the exported grading scripts say when they cannot grade (no notebook, several, the
grader stopped), in the language of the export: the scripts run where there may be no grader
to ask, so their words are chosen when they are written.

Each message is a template of the grader's catalogue whose placeholders are filled with shell
expansions ("$ASSIGNMENT.ipynb", "$status"): the template is translated, its own characters
made literal for a bash double-quoted string, then the expansions are put in. No language
chosen: English, whatever the exporting process's GRADER_LANG.
"""
from grader import i18n
from grader.i18n import N_

#: what bash reads specially inside double quotes
_SPECIAL = str.maketrans({"\\": "\\\\", '"': '\\"', "$": "\\$", "`": "\\`"})


def shell_words(template: str, **expansions) -> str:
    """`template` in the current language as the inside of a bash double-quoted string, its
    {placeholders} the given shell expansions (written as bash should see them)."""
    literal = i18n.translated(template).translate(_SPECIAL)
    return literal.format(**expansions)


def gradescope(lang: str | None) -> dict:
    """The words of run_autograder (grader/report/templates/export/run_autograder.j2)."""
    with i18n.using(lang or i18n.DEFAULT):
        return {
            "no_notebook": shell_words(
                N_("No notebook (.ipynb) found in your submission: upload your {notebook}."),
                notebook="$ASSIGNMENT.ipynb"),
            "several": shell_words(
                N_("Your submission holds several notebooks ({names}): upload only one, or "
                   "name the one to grade {notebook}."),
                names="$names", notebook="$ASSIGNMENT.ipynb"),
            "failed": shell_words(
                N_("The autograder failed (exit status {status}) before it could grade your "
                   "notebook; this is not your fault. Please tell your instructor."),
                status="$status")}


def github(lang: str | None) -> dict:
    """The words of .github/grade.sh (grader/report/templates/export/grade.sh.j2) that the
    runner result gives when grading could not run."""
    with i18n.using(lang or i18n.DEFAULT):
        return {
            "stopped": shell_words(N_("the grader stopped before it wrote a result: see the log "
                                      "of the Grade step")),
            "no_bundle": shell_words(N_("no grading bundle in {folder} (is the GRADING_TOKEN "
                                        "secret set?)"), folder="$BUNDLE"),
            "no_notebook": shell_words(
                N_("expected {notebook} at the top of the repository (found {count} notebooks)"),
                notebook="$ASSIGNMENT.ipynb", count="${#found[@]}")}
