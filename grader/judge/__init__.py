"""The judge stage (trusted side only): verdicts from what came back of the sandbox
(`verdicts`), and the mistakes generated from the reference that explain wrong values
(`operators` and `mutants` make them, `fingerprints` judges them, `naming` names a student's
value by them, `mutant_store` keeps their values, `strength` measures the tests with them)."""
from grader.judge.verdicts import MAX_EVIDENCE, Context, Evidence, Verdict, judge

__all__ = ["Context", "Evidence", "MAX_EVIDENCE", "Verdict", "judge"]
