"""similarity.csv and similarity.html: the ranked pairs, what each shares, clusters.

The CSV has one row a pair, most similar first: the two ids, the score, and the matched lines of
each (cell and line numbers as the notebook shows them). The page shows the ranked pairs, the
clusters of three or more, and for the top pairs the two codes side by side with the matched
runs highlighted (copydetect's highlighter). It holds no script and loads nothing.
"""
import csv
import functools
from pathlib import Path

import numpy as np
from copydetect.utils import highlight_overlap

from grader.report import TEMPLATES
from grader.similarity.pairs import line_ranges

CSV = "similarity.csv"
HTML = "similarity.html"
CSV_HEADER = ["submission_a", "submission_b", "score", "lines_a", "lines_b"]


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.filters["pct"] = lambda value: f"{100 * value:.0f}%"
    return env


def write_csv(out: Path, documents: list, pairs: list) -> Path:
    path = out / CSV
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for pair in pairs:
            a, b = documents[pair.a], documents[pair.b]
            writer.writerow([a.id, b.id, f"{pair.score:.4f}", line_ranges(a, pair.runs_a),
                             line_ranges(b, pair.runs_b)])
    return path


def _highlighted(document, runs):
    from markupsafe import Markup

    if runs is None or runs.size == 0:
        return Markup.escape(document.code)
    order = np.argsort(runs[0], kind="stable")
    text, _ = highlight_overlap(document.code, runs[:, order], "<mark>", "</mark>",
                                escape_html=True)
    return Markup(text)


def write_html(out: Path, context: dict, documents: list, pairs: list, shown: int) -> Path:
    """`context`: assignment, counts, clusters (lists of ids), not_compared, too_small."""
    rows = [{"rank": i + 1, "a": documents[p.a].id, "b": documents[p.b].id, "score": p.score,
             "lines_a": line_ranges(documents[p.a], p.runs_a),
             "lines_b": line_ranges(documents[p.b], p.runs_b),
             "reference": documents[p.a].is_reference or documents[p.b].is_reference}
            for i, p in enumerate(pairs)]
    sides = [{**rows[i], "code_a": _highlighted(documents[p.a], p.runs_a),
              "code_b": _highlighted(documents[p.b], p.runs_b)}
             for i, p in enumerate(pairs[:shown])]
    page = _environment().get_template("similarity.html.j2").render(
        rows=rows, sides=sides, **context)
    path = out / HTML
    path.write_text(page, encoding="utf-8")
    return path
