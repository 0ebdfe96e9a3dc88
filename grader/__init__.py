"""Autograder for backpropagation assignments.

Student notebooks are read (`submission`), their definitions run apart in a sandbox
(`sandbox`), their outputs judged against trusted references with gradient checks and
diagnoses (`judge`), scored (`score`) and reported (`results`). `check` is the self-check a
student calls from inside a notebook.
"""
__version__ = "0.1.0"


def check(function, data=None, lang=None):
    """Run the public cases of `function` against the definition in the calling notebook;
    `lang`: the report's language, "en" or "ko" (default: $GRADER_LANG, else English)."""
    from grader.report.selfcheck import check_in_kernel

    return check_in_kernel(function, data, lang=lang)
