"""Running untrusted student code apart: a warm worker forks one limited child per submission;
only plain numbers and numeric arrays come back."""
_RUNNER = ("CallOutcome", "CaseOutcome", "RunOutcome", "SandboxError", "Worker", "close_all")
__all__ = list(_RUNNER)


def __getattr__(name):
    """The runner's names, imported when first used: the sandboxed worker, and the command's
    early start of workers, need none of it (nor the numpy it loads)."""
    if name in _RUNNER:
        from grader.sandbox import runner

        return getattr(runner, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
