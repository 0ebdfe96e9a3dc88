"""Class statistics from graded submissions: scores, pass rates per test, and the most common
diagnoses ("38% summed over the batch"), grouped by the verdicts' codes with a representative
message. Instructor-side: hidden tests count here like public ones."""
import statistics
from collections import Counter
from dataclasses import dataclass, field

from grader.i18n import N_, _

#: short names of the generic diagnosis codes (grader.judge.diagnose, grader.judge, the sandbox);
#: an assignment's own codes are named by the first clause of their message.
TITLES = {
    "scale:N": N_("summed over the batch (N× too large)"),
    "scale:1/N": N_("1/N applied twice"),
    "global": N_("divides by a notebook global instead of the batch size"),
    "sign": N_("wrong sign"),
    "scale:2": N_("a factor 2 missing or extra"),
    "scale": N_("a wrong constant factor"),
    "swap": N_("returned values swapped"),
    "transpose": N_("transposed result"),
    "shape": N_("wrong shape"),
    "steps": N_("wrong at some time steps"),
    "blocks": N_("wrong in some gate blocks"),
    "other": N_("wrong values, no known pattern"),
    "gradcheck": N_("gradient check fails against their own forward"),
    "todo": N_("TODO not filled in (NotImplementedError)"),
    "missing": N_("function not defined"),
    "exception": N_("raised an exception"),
    "type": N_("returned the wrong structure"),
    "inplace": N_("modified an input in place"),
    "overflow": N_("overflow on large inputs"),
    "timeout": N_("ran out of time"),
    "unreadable": N_("notebook could not be read"),
    "sandbox": N_("sandbox failure"),
}


@dataclass
class TestStats:
    name: str
    function: str
    visibility: str
    points: float
    passed: int = 0
    total: int = 0
    earned: float = 0.0

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    @property
    def mean_points(self) -> float:
        return self.earned / self.total if self.total else 0.0


@dataclass
class DiagnosisStats:
    code: str
    title: str
    #: submissions with at least one verdict carrying the code
    submissions: int
    share: float
    message: str
    tests: list = field(default_factory=list)


def title_of(code: str, message: str) -> str:
    """A diagnosis by a short title in the current language: a generic code's, or the first
    clause of an assignment's message."""
    if code in TITLES:
        return _(TITLES[code])
    if code.startswith("scale:1/"):
        return _("averaged over {dim} where the loss sums", dim=code[8:])
    if code.startswith("scale:"):
        return _("summed over {dim} once too often", dim=code[6:])
    clause = message.split(": ")[0].split(". ")[0].rstrip(".")
    return clause if len(clause) <= 90 else clause[:89] + "…"


def scores(graded_list) -> dict:
    values = [g.score for g in graded_list]
    if not values:
        return {"count": 0, "mean": 0.0, "median": 0.0, "min": 0.0, "max": 0.0}
    return {"count": len(values), "mean": statistics.fmean(values),
            "median": statistics.median(values), "min": min(values), "max": max(values)}


def per_test(graded_list, assignment) -> list:
    rows = {c.name: TestStats(c.name, c.function, c.visibility, c.points)
            for c in assignment.cases}
    for graded in graded_list:
        for verdict in graded.verdicts:
            row = rows.get(verdict.case.name)
            if row is None:
                continue
            row.total += 1
            row.passed += verdict.passed
            row.earned += verdict.score
    return list(rows.values())


def diagnoses(graded_list, limit: int | None = None) -> list:
    """The diagnosis codes of failed tests, most submissions first."""
    holders, examples, tests = Counter(), {}, {}
    for graded in graded_list:
        seen = set()
        for verdict in graded.verdicts:
            if verdict.passed:
                continue
            codes = set(verdict.codes)
            for code in codes:
                seen.add(code)
                tests.setdefault(code, Counter())[verdict.case.name] += 1
                if verdict.messages:
                    # prefer a public test whose only mistake is this one
                    rank = (len(codes) == 1, verdict.case.visibility == "public")
                    examples.setdefault(code, Counter())[(rank, verdict.messages[0])] += 1
        holders.update(seen)
    total = len(graded_list) or 1
    rows = []
    for code, count in holders.most_common():
        candidates = examples.get(code)
        message = ""
        if candidates:
            (_, message), _ = max(candidates.items(), key=lambda item: (item[0][0], item[1]))
        rows.append(DiagnosisStats(code, title_of(code, message), count, count / total, message,
                                   [name for name, _ in tests[code].most_common()]))
    rows.sort(key=lambda r: (-r.submissions, r.code))
    return rows[:limit] if limit else rows
