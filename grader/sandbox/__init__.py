"""Running untrusted student code apart: a warm worker forks one limited child per submission;
only plain numbers and numeric arrays come back."""
from grader.sandbox.runner import CallOutcome, CaseOutcome, RunOutcome, SandboxError, Worker

__all__ = ["CallOutcome", "CaseOutcome", "RunOutcome", "SandboxError", "Worker"]
