"""The judge stage (trusted side only): verdicts from what came back of the sandbox
(`verdicts`), and the mistakes generated from the reference that explain wrong values
(`mutants`, `fingerprints`)."""
from grader.judge.verdicts import MAX_EVIDENCE, Context, Evidence, Verdict, judge

__all__ = ["Context", "Evidence", "MAX_EVIDENCE", "Verdict", "judge"]
