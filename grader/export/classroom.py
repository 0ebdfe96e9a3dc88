"""What a GitHub Classroom run reports, read from results.json files: `grader summary` prints the
Markdown job summary (a table of the tests, what to fix, `Points X/Y`) and, with
`--runner-result`, writes the result of an autograding *runner*: the JSON that GitHub
Classroom's `autograding-grading-reporter` action decodes (base64) from a step's `result`
output and turns into the "Autograding Tests" check run Classroom records the score from.

The runner result holds, per test, its name, pass/fail, points and the message a student reads;
hidden tests carry only their name and pass/fail, as everywhere else.

The words around the results are in the results' own language (extra_data.lang) unless --lang
says otherwise; the results' words are what grading wrote. `Points X/Y` stays as it is: GitHub
Classroom reads that line.
"""
import json
from pathlib import Path

import click

from grader import i18n
from grader.i18n import _, ngettext

#: the runner result format the reporter reads (`version` of its JSON)
RUNNER_VERSION = 1


class SummaryError(Exception):
    pass


def read_results(folder: Path) -> list:
    """[(submission id, results.json content)] under folder (or one results.json file)."""
    folder = Path(folder)
    paths = [folder] if folder.is_file() else sorted(folder.rglob("results.json"))
    found = []
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise SummaryError(f"{path}: not a results.json ({exc})") from None
        submission = data.get("extra_data", {}).get("submission") or path.parent.name
        found.append((submission, data))
    return found


def max_score(data: dict) -> float:
    given = data.get("extra_data", {}).get("max_score")
    return float(given) if given is not None else sum(t.get("max_score", 0)
                                                     for t in data.get("tests", []))


def _hidden(test: dict) -> bool:
    return test.get("visibility") != "visible"


def _n(value: float) -> str:
    return f"{round(float(value), 2):g}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def markdown_summary(found: list) -> str:
    """One submission: a table of its tests, what to fix, and `Points X/Y`. Several: a table of
    submissions."""
    if len(found) == 1:
        submission, data = found[0]
        assignment = data.get("extra_data", {}).get("assignment", "")
        points = _("{score} / {max_score} points ({submission})", score=_n(data.get("score", 0)),
                   max_score=_n(max_score(data)), submission=submission)
        test_word, points_word, hidden_word = _("Test"), _("Points"), _("(hidden)")
        lines = [f"### {assignment + ': ' if assignment else ''}{points}", "",
                 f"| | {test_word} | {points_word} |", "|---|---|---:|"]
        fixes = []
        for test in data.get("tests", []):
            mark = "✅" if test.get("status") == "passed" else "❌"
            name = _cell(test.get("name", "")) + (f" *{hidden_word}*" if _hidden(test) else "")
            lines.append(f"| {mark} | {name} | {_n(test.get('score', 0))} / "
                         f"{_n(test.get('max_score', 0))} |")
            if not _hidden(test) and test.get("status") != "passed":
                fixes.append((test.get("name", ""), test.get("output", "")))
        if fixes:
            lines += ["", "#### " + _("What to fix"), ""]
            for name, output in fixes:
                body = output.strip().replace("\n", "\n  ")
                lines.append(f"- **{_cell(name)}**: {body}")
        lines += ["", f"Points {_n(data.get('score', 0))}/{_n(max_score(data))}"]
        return "\n".join(lines) + "\n"
    lines = ["| " + " | ".join((_("Submission"), _("Score"), _("Failed tests"))) + " |",
             "|---|---:|---:|"]
    for submission, data in found:
        failed = sum(1 for t in data.get("tests", []) if t.get("status") != "passed")
        lines.append(f"| {_cell(submission)} | {_n(data.get('score', 0))} / "
                     f"{_n(max_score(data))} | {failed} |")
    total, top = sum(d.get("score", 0) for _, d in found), sum(max_score(d) for _, d in found)
    lines += ["", ngettext("{count} submission, {total} of {top} points in all.",
                           "{count} submissions, {total} of {top} points in all.", len(found),
                           total=_n(total), top=_n(top))]
    return "\n".join(lines) + "\n"


def _points(value) -> float:
    """Points as the reporter adds them: a JSON number without float noise (2/3 -> 0.6667)."""
    return round(float(value), 4)


def runner_result(data: dict, notebook: str = "") -> dict:
    """One submission's results.json as an autograding runner's result: `status` pass when
    every test passed, else fail; `max_score` the assignment's (the reporter counts a runner
    only when it is above 0); per test its points in `score`, which the reporter adds up into
    the `Points X/Y` of the check run."""
    tests = []
    for test in data.get("tests", []):
        passed = test.get("status") == "passed"
        tests.append({
            "name": test.get("name", "") + (" " + _("(hidden)") if _hidden(test) else ""),
            "status": "pass" if passed else "fail",
            "score": _points(test.get("score", 0)),
            "message": test.get("output", ""),
            "test_code": "",
            "filename": notebook,
            "line_no": 0,
            "execution_time": f"{float(data.get('execution_time', 0)):.2f}s",
        })
    if not tests:  # nothing was judged: the reporter still needs a test to show the reason
        tests.append({"name": _("grading"), "status": "error", "score": 0,
                      "message": data.get("output", "") or _("no test was run"),
                      "test_code": "", "filename": notebook, "line_no": 0,
                      "execution_time": "0s"})
    status = ("pass" if all(t["status"] == "pass" for t in tests) else
              "error" if any(t["status"] == "error" for t in tests) else "fail")
    return {"version": RUNNER_VERSION, "status": status, "max_score": _points(max_score(data)),
            "tests": tests}


@click.command()
@click.argument("out", type=click.Path(path_type=Path, exists=True))
@click.option("--runner-result", "runner_result_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the GitHub Classroom runner result (the JSON the "
                   "autograding-grading-reporter action reads) of the one submission under "
                   "OUT to this file.")
@click.option("--notebook", default="", help="The notebook's name in the runner result.")
@click.option("--lang", type=click.Choice(i18n.LANGUAGES), default=None,
              help="Language of the table's words (default: the results' own, extra_data.lang).")
def summary(out, runner_result_path, notebook, lang):
    """Print the Markdown summary of the results.json files under OUT: for one submission a
    table of its tests and its `Points X/Y`, for several a table of submissions. Append it to
    $GITHUB_STEP_SUMMARY in a workflow."""
    try:
        found = read_results(out)
    except SummaryError as exc:
        raise click.ClickException(str(exc))
    if not found:
        raise click.ClickException(f"no results.json under {out}")
    with i18n.using(lang or results_language(found)):
        _summarize(out, found, runner_result_path, notebook)


def results_language(found: list) -> str | None:
    """The language the results were written in (the first that says), or None."""
    for _submission, data in found:
        lang = data.get("extra_data", {}).get("lang")
        if lang in i18n.LANGUAGES:
            return lang
    return None


def _summarize(out, found, runner_result_path, notebook):
    if runner_result_path is not None:
        if len(found) != 1:
            raise click.ClickException(f"--runner-result describes one submission; {out} holds "
                                       f"{len(found)} results.json files")
        runner_result_path.parent.mkdir(parents=True, exist_ok=True)
        runner_result_path.write_text(json.dumps(runner_result(found[0][1], notebook),
                                                 ensure_ascii=False) + "\n")
    click.echo(markdown_summary(found), nl=False)
