"""Autograder for backpropagation assignments.

Student notebooks are read (`submission`), their definitions run apart in a sandbox
(`sandbox`), their outputs judged against trusted references with gradient checks and
diagnoses (`judge`), scored (`score`) and reported (`results`). `check` is the self-check a
student calls from inside a notebook.
"""
#: The one version: pyproject.toml reads it (setuptools' dynamic version), `grader --version`
#: prints it, every results.json and gradebook run records it. CHANGELOG.md lists the changes.
__version__ = "0.1.0"
#: The distribution's name, what `pip install` takes; the import package stays `grader`
#: (`grader` on PyPI is an unrelated package: docs/development.md says why and what it means).
DISTRIBUTION = "backprop-grader"


def check(function, data=None, lang=None):
    """Run the public cases of `function` against the definition in the calling notebook;
    `lang`: the report's language, "en" or "ko" (default: $GRADER_LANG, else English)."""
    from grader.report.selfcheck import check_in_kernel

    return check_in_kernel(function, data, lang=lang)
