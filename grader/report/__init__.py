"""Feedback pages: one self-contained HTML page per submission (OUT/<id>/feedback.html) and a
class summary for the instructor (OUT/summary.html).

Pages are rendered from Jinja2 templates (grader/report/templates) with the CSS inline and the
figures inlined as base64 PNG data URIs; they hold no script and load nothing. A student's page
shows the same text as results.json (the summary and each test's Markdown output); hidden tests
show only their name and whether they passed, never inputs, expected values or pictures.
Figures are drawn only for failing public tests whose mistake a picture explains.

Pages are in the current language (grader.i18n): the templates' words are marked with `_()` and
`ngettext()` (HTML-safe: the template's own markup is kept, the values put in are escaped), the
assignment's title and test names come from its catalogue.
"""
import functools
import html
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from grader import __version__, i18n
from grader.results import results_json as results
from grader.report import figures, stats

TEMPLATES = Path(__file__).resolve().parent / "templates"
FEEDBACK = "feedback.html"
SUMMARY = "summary.html"


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["md"] = markdown
    env.filters["num"] = lambda value: f"{round(value, 2):g}"
    env.filters["text"] = i18n.text  # an assignment's words (test names)
    env.globals.update(_=_html, ngettext=_html_plural, badge=_badge, link=_link)
    return env


def _html(template: str, **values):
    """A template's words in the current language as HTML: its markup kept, values escaped."""
    from markupsafe import Markup

    return Markup(i18n.translated(template)).format(**values)


def _html_plural(singular: str, plural: str, count: int, **values):
    from markupsafe import Markup

    return Markup(i18n.catalogue(i18n.language()).ngettext(singular, plural, count)).format(
        count=count, **values)


def _badge(status: str) -> str:
    return {"passed": i18n._("✓ passed"), "partial": i18n._("◐ partly")}.get(
        status, i18n._("✗ failed"))


def _link(view):
    """A link to a test's place on the page, named by the test."""
    from markupsafe import Markup

    return Markup('<a href="#{}">{}</a>').format(view.anchor, view.name)


# ---- the Markdown of results.json, as HTML --------------------------------------------------

_CODE = re.compile(r"`([^`]+)`")


def _inline(text: str) -> str:
    parts = _CODE.split(text)
    return "".join(f"<code>{html.escape(p)}</code>" if i % 2 else html.escape(p)
                   for i, p in enumerate(parts))


def markdown(text: str):
    """The small Markdown that results.py writes (paragraphs, `- ` lists, `code`) as HTML."""
    from markupsafe import Markup

    out, items = [], []

    def flush():
        if items:
            out.append("<ul>" + "".join(f"<li>{i}</li>" for i in items) + "</ul>")
            items.clear()

    for block in re.split(r"\n\s*\n", text.strip()):
        for line in block.splitlines():
            if line.startswith("- "):
                items.append(_inline(line[2:]))
            else:
                flush()
                out.append(f"<p>{_inline(line)}</p>")
        flush()
    return Markup("".join(out))


def plain(markdown_text: str) -> str:
    """The words of the Markdown, as a browser shows them (for tests and terminals)."""
    return _CODE.sub(r"\1", markdown_text)


# ---- a student's page -------------------------------------------------------------------------

@dataclass
class TestView:
    index: int
    name: str
    function: str
    hidden: bool
    status: str          # passed, partial, failed
    score: float
    points: float
    output: str          # the test's Markdown output in results.json
    figures: list = field(default_factory=list)   # [(data uri, caption)]
    #: an earlier test of the same function, failing the same way, whose pictures stand for
    #: this one's (pictures cost time)
    same_as: "TestView | None" = None

    @property
    def anchor(self) -> str:
        return f"test-{self.index}"


def _status(verdict) -> str:
    return "passed" if verdict.passed else "partial" if verdict.fraction > 0 else "failed"


def _test_views(graded, draw: bool) -> list:
    """Every test as the page shows it; pictures only for failing public tests, once per
    function and mistake."""
    views, drawn = [], {}
    for index, verdict in enumerate(graded.verdicts, 1):
        hidden = verdict.case.visibility == "hidden"
        view = TestView(index, i18n.text(verdict.case.name), verdict.case.function, hidden,
                        _status(verdict), verdict.score, verdict.case.points,
                        results.test_output(verdict))
        if draw and not hidden and not verdict.passed and not graded.error:
            wanted = [e for e in verdict.evidence if figures.wants_picture(verdict, e)]
            key = (verdict.case.function, tuple(sorted(set(verdict.codes))),
                   tuple(e.label for e in wanted))
            if wanted and key in drawn:
                view.same_as = drawn[key]
            elif wanted:
                view.figures = [figures.difference_figure(e) for e in wanted]
                drawn[key] = view
        views.append(view)
    return views


def _function_rows(graded, assignment) -> list:
    rows = []
    for function in assignment.functions:
        mine = [v for v in graded.verdicts if v.case.function == function]
        if mine:
            got = round(sum(v.case.points * v.fraction for v in mine), 4)
            of = sum(v.case.points for v in mine)
            rows.append({"name": function, "got": got, "of": of,
                         "percent": 100 * got / of if of else 0})
    return rows


def feedback_page(graded, assignment, draw: bool = True) -> str:
    """The student's page for one graded submission."""
    views = _test_views(graded, draw)
    public = [v for v in views if not v.hidden]
    hidden = [v for v in views if v.hidden]
    first_failure = next((v for v in public if v.status != "passed"), None)
    sections = []
    for row in _function_rows(graded, assignment):
        mine = [v for v in views if v.function == row["name"]]
        sections.append({**row, "public": [v for v in mine if not v.hidden],
                         "hidden": [v for v in mine if v.hidden]})
    max_score = assignment.max_score
    return _environment().get_template("feedback.html.j2").render(
        assignment=assignment, graded=graded, max_score=max_score,
        percent=100 * graded.score / max_score if max_score else 0,
        sections=sections, notes=graded.notes, error=graded.error,
        first_failure=first_failure, lang=i18n.language(), title=i18n.text(assignment.title),
        public_passed=sum(v.status == "passed" for v in public), public_total=len(public),
        hidden_passed=sum(v.status == "passed" for v in hidden), hidden_total=len(hidden),
        legend=i18n._(figures.LEGEND), version=__version__)


# ---- the instructor's summary ---------------------------------------------------------------

def summary_page(graded_list, assignment, links: bool = True) -> str:
    """The class page for one assignment: score distribution, pass rate per test, the most
    common diagnoses and every submission's score."""
    scores = [g.score for g in graded_list]
    tests = stats.per_test(graded_list, assignment)
    found = stats.diagnoses(graded_list)
    top = found[:12]
    submissions = []
    for graded in sorted(graded_list, key=lambda g: g.id):
        failed = [v for v in graded.verdicts if not v.passed]
        codes = [c for v in failed for c in v.codes]
        submissions.append({
            "id": graded.id, "score": graded.score,
            "percent": 100 * graded.score / assignment.max_score if assignment.max_score else 0,
            "failed": len(failed), "error": graded.error,
            "diagnosis": stats.title_of(codes[0], failed[0].messages[0] if failed[0].messages
                                        else "") if codes else "",
            "link": f"{graded.id}/{FEEDBACK}" if links else None})
    return _environment().get_template("summary.html.j2").render(
        lang=i18n.language(), title=i18n.text(assignment.title),
        assignment=assignment, summary=stats.scores(graded_list), tests=tests, diagnoses=top,
        more_diagnoses=len(found) - len(top), submissions=submissions,
        full_marks=sum(1 for s in scores if s >= assignment.max_score),
        broken=sum(1 for g in graded_list if g.error),
        histogram=figures.score_histogram(scores, assignment.max_score) if scores else None,
        pass_chart=figures.pass_rate_chart([(figures.drawable(i18n.text(t.name), t.name),
                                             t.rate, t.visibility == "hidden")
                                            for t in tests]) if tests and scores else None,
        diagnosis_chart=figures.diagnosis_chart([(_chart_label(d), d.share) for d in top])
        if top else None,
        version=__version__)


def _chart_label(diagnosis) -> str:
    """A diagnosis by its title, or by its code where the title is a long sentence."""
    if diagnosis.code in stats.TITLES or len(diagnosis.title) <= 48:
        return figures.drawable(diagnosis.title, diagnosis.code)
    return diagnosis.code


# ---- writing --------------------------------------------------------------------------------

def write_feedback(out: Path, graded, assignment) -> Path:
    folder = Path(out) / graded.id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / FEEDBACK
    path.write_text(feedback_page(graded, assignment), encoding="utf-8")
    return path


def write_summary(out: Path, graded_list, assignment) -> Path:
    path = Path(out) / SUMMARY
    path.write_text(summary_page(graded_list, assignment), encoding="utf-8")
    return path


@dataclass
class Pages:
    """What write_pages wrote and the time it took."""
    count: int
    #: writing the feedback pages (figures included), and importing matplotlib once
    feedback_seconds: float
    import_seconds: float
    summary_seconds: float
    summary: Path | None

    @property
    def seconds(self) -> float:
        return self.feedback_seconds + self.import_seconds + self.summary_seconds

    @property
    def per_submission(self) -> float:
        """The time a feedback page adds to a submission, not counting the one-off import."""
        return self.feedback_seconds / self.count if self.count else 0.0


def write_pages(out: Path, graded_list, assignment, summary: bool = True) -> Pages:
    """Every submission's feedback page and (unless a subset was graded) the class summary."""
    imported = figures.load()
    began = time.perf_counter()
    for graded in graded_list:
        write_feedback(out, graded, assignment)
    middle = time.perf_counter()
    path = write_summary(out, graded_list, assignment) if summary else None
    return Pages(len(graded_list), middle - began, imported, time.perf_counter() - middle, path)
