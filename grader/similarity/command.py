"""`grader similarity ASSIGNMENT SUBMISSIONS --out DIR`: wires documents, pairs and report.
They are imported when the command runs: copydetect brings matplotlib's pyplot (0.8 s), which
no other command should pay for."""
import time
from pathlib import Path

import click

from grader.course.assignment import COURSE_HELP, AssignmentError, find_course, load
from grader.read.submission import SubmissionError


@click.command()
@click.argument("assignment")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Folder for similarity.csv and similarity.html.")
@click.option("--reference", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Folder of published solutions (notebooks or .py files): pairs with them show "
                   "as reference:NAME.")
@click.option("--min-score", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="List the pairs scoring this much or more.")
@click.option("--top", type=click.IntRange(1), default=1000, show_default=True,
              help="List at most this many pairs (the page shows the first 30 side by side).")
@click.option("--jobs", type=click.IntRange(1), default=None,
              help="Processes reading and fingerprinting the notebooks (default: one per core).")
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
def similarity(assignment, submissions, out, reference, min_score, top, jobs, course):
    """Rank every pair of submissions in SUBMISSIONS by how much of the graded functions' code
    they share (names, comments and layout set aside, the handout's code excluded) and write
    OUT/similarity.csv and OUT/similarity.html (side by side code, clusters of three or more).
    A high score is a reason to look, not a verdict."""
    from grader.similarity import pairs as scoring
    from grader.similarity.documents import collect
    from grader.similarity.report import write_csv, write_html

    began = time.perf_counter()
    try:
        spec = load(assignment, find_course(course))
        found = collect(submissions, spec.functions, spec.handout, reference, jobs)
    except (AssignmentError, SubmissionError) as exc:
        raise click.ClickException(str(exc))
    documents = found.documents
    scored = scoring.score(documents, found.boilerplate, min_score)
    listed = scored.pairs[:top]
    for pair in listed:
        scoring.matches(scored, documents, pair)
    out.mkdir(parents=True, exist_ok=True)
    ids = [d.id for d in documents]
    clusters = [[ids[i] for i in group] for group in scoring.clusters(scored.pairs)]
    write_csv(out, documents, listed)
    references = sum(d.is_reference for d in documents)
    context = {"assignment": spec.name, "compared": len(documents) - len(scored.too_small),
               "submissions": len(documents) - references, "references": references,
               "listed": len(listed), "more": len(scored.pairs) - len(listed),
               "min_score": min_score, "clusters": clusters,
               "not_compared": found.not_compared,
               "too_small": [ids[i] for i in scored.too_small]}
    page = write_html(out, context, documents, listed, shown=30)
    for ident, reason in found.not_compared:
        click.echo(f"not compared: {reason}", err=True)
    for i in scored.too_small:
        click.echo(f"not compared: {ids[i]}: too little code of its own beyond the handout",
                   err=True)
    summary = f"{len(listed)} pairs at {min_score:.0%} or more"
    if context["more"]:
        summary += f" ({context['more']} more not listed: raise --top)"
    if listed:
        first = listed[0]
        summary += f"; most similar: {ids[first.a]} and {ids[first.b]} ({first.score:.0%})"
    click.echo(f"{spec.name}: compared {context['compared']} of {len(documents)} "
               f"({references} published solutions) in {time.perf_counter() - began:.1f} s; "
               f"{summary}; {len(clusters)} clusters of three or more: "
               f"{out / 'similarity.csv'}, {page}")
