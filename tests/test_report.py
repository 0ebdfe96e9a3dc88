"""Feedback pages: the student's page per submission and the instructor's class summary, built
from the bundled samples, checked as text and structure, and opened in a real headless browser
(Debian's chromium, installed here when missing and possible)."""
import base64
import csv
import html
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from grader import report
from grader.results import results_json as results
from grader.cli import main
from grader.results.grade import ungradable
from grader.judge import Evidence, Verdict
from grader.report import figures, stats
from grader.report.console import print_table
from grader.read.submission import SubmissionError, load_submission
from tests.grading import COURSE, assignment, worker

PNG = b"\x89PNG\r\n\x1a\n"
ASSIGNMENTS = ("gates", "rnn_linear", "rnn_bptt", "lstm")
GATES = ("forget", "input", "output", "block input")


def graded_samples(name):
    spec = assignment(name)
    graded = []
    for path in sorted((COURSE / "assignments" / name / "samples").glob("*.ipynb")):
        try:
            submission = load_submission(path)
        except SubmissionError as exc:
            graded.append(ungradable(spec, path.stem, str(exc)))
            continue
        from grader.results.grade import grade_submission

        graded.append(grade_submission(spec, submission, worker()))
    return graded


@pytest.fixture(scope="module")
def samples():
    return {name: graded_samples(name) for name in ASSIGNMENTS}


def images(page):
    """The data URIs of the page's <img> elements, decoded."""
    found = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    return [base64.b64decode(data) for data in found]


def text_of(page):
    """The page's text as a browser shows it (tags dropped, entities decoded)."""
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


def words(markdown_text):
    return re.sub(r"\s+", " ", report.plain(markdown_text).replace("- ", " ")).strip()


# ---- Markdown and figures -------------------------------------------------------------------

def test_markdown_renders_code_lists_and_escapes():
    out = str(report.markdown("Partly correct.\n\n- your `dW` is <wrong>\n- and `db` & co"))
    assert out == ("<p>Partly correct.</p><ul><li>your <code>dW</code> is &lt;wrong&gt;</li>"
                   "<li>and <code>db</code> &amp; co</li></ul>")
    assert report.plain("the `x` and `y`") == "the x and y"


def test_several_mistakes_are_a_markdown_list_in_results_json():
    case = assignment("lstm").cases[0]
    one = Verdict(case, 0.0, ["Your out is wrong."], ["other"])
    two = Verdict(case, 0.5, ["Your dW is wrong.", "Your db is wrong."], ["other", "other"])
    assert results.test_output(one) == "Your out is wrong."
    assert results.test_output(two) == ("Partly correct.\n\n- Your dW is wrong.\n"
                                        "- Your db is wrong.")


def test_difference_figure_names_time_steps_and_gate_blocks():
    rng = np.random.default_rng(0)
    over_time = Evidence("dX", rng.standard_normal((3, 5, 6)), time_axis=1)
    uri, caption = figures.difference_figure(over_time)
    assert uri.startswith("data:image/png;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]).startswith(PNG)
    assert "largest difference over the other 6 entries" in caption
    values, kinds, order, _ = figures._reduce(over_time)
    assert values.shape == (3, 5) and kinds == ["index", "time"]
    # the signed entry of largest magnitude stands for the reduced axis
    worst = over_time.difference[1, 2]
    assert values[1, 2] == worst[np.argmax(np.abs(worst))]

    blocks = Evidence("dW", rng.standard_normal((10, 16)), block_axis=1, blocks=GATES)
    values, kinds, _, note = figures._reduce(blocks)
    assert values.shape == (10, 16) and kinds == ["index", "block"] and note == ""
    db = Evidence("db", rng.standard_normal(16), block_axis=0, blocks=GATES)
    assert base64.b64decode(figures.difference_figure(db)[0].split(",", 1)[1]).startswith(PNG)
    # time along axis 0 goes to the horizontal axis
    y_hat = Evidence("y_hat", rng.standard_normal((7, 4)), time_axis=0)
    values, kinds, _, _ = figures._reduce(y_hat)
    assert values.shape == (4, 7) and kinds == ["index", "time"]


def test_pictures_only_where_they_explain():
    case = assignment("lstm").cases[0]
    steps = Evidence("dX", np.ones((2, 3, 4)), time_axis=1)
    matrix = Evidence("dU", np.ones((3, 4)))
    scalar = Evidence("wx_grad", np.array(0.5))
    assert figures.wants_picture(Verdict(case, 0, ["m"], ["dc-not-carried"]), steps)
    assert not figures.wants_picture(Verdict(case, 0, ["m"], ["scale:N"]), steps)
    assert not figures.wants_picture(Verdict(case, 0, ["m"], ["sign", "global"]), steps)
    assert not figures.wants_picture(Verdict(case, 0, ["m"], ["scale:N"]), scalar)
    assert not figures.wants_picture(Verdict(case, 0, ["m"], ["other"]), scalar)
    # a plain matrix: a picture only when no known mistake explains it
    assert figures.wants_picture(Verdict(case, 0, ["m"], ["other"]), matrix)
    assert not figures.wants_picture(Verdict(case, 0, ["m"], ["bptt:tanh"]), matrix)


# ---- the student's page -----------------------------------------------------------------------

@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_feedback_page_shows_what_results_json_says(name, samples):
    spec = assignment(name)
    for graded in samples[name]:
        page = report.feedback_page(graded, spec)
        text = text_of(page)
        data = results.to_gradescope(graded, spec)
        assert "<script" not in page.lower() and "http://" not in page and "https://" not in page
        assert f"{round(graded.score, 2):g}" in text and f"/ {spec.max_score:g} points" in text
        for line in data["output"].splitlines():  # score per function and notes
            if line.startswith("- `"):
                function, points = line[3:].split("`: ")
                got, of = points.split(" / ")
                assert f"{function} {round(float(got), 2):g} / {of}" in text, line
            elif line.startswith("Note: "):
                assert words(line[6:]) in text
        if graded.error:
            assert graded.error in text
            continue
        for test, verdict in zip(data["tests"], graded.verdicts):
            assert test["name"] in text
            if test["visibility"] == "visible":
                assert words(test["output"]) in text, test["name"]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_hidden_tests_show_name_and_result_only(name, samples):
    spec = assignment(name)
    for graded in samples[name]:
        page = report.feedback_page(graded, spec)
        text = text_of(page)
        public = {m for v in graded.verdicts if v.case.visibility == "public" for m in v.messages}
        for verdict in graded.verdicts:
            if verdict.case.visibility != "hidden":
                continue
            for message in verdict.messages:
                if message not in public:
                    assert words(message) not in text, (graded.id, message)
            if verdict.case.description:
                assert verdict.case.description not in text or any(
                    v.case.description == verdict.case.description for v in graded.verdicts
                    if v.case.visibility == "public")
        # every picture belongs to a failing public test
        drawn = sum(len(v.figures) for v in report._test_views(graded, True))
        assert len(images(page)) == drawn
        hidden = page.split('class="hidden-tests"')[1:]
        assert all("<img" not in part.split("</div>")[0] for part in hidden)


def test_lstm_page_pictures_the_cell_state_mistake(samples):
    spec = assignment("lstm")
    graded = next(g for g in samples["lstm"] if g.id == "dc_not_carried")
    page = report.feedback_page(graded, spec)
    found = images(page)
    assert len(found) == 3 and all(png.startswith(PNG) for png in found)  # dX, dW, db once
    text = text_of(page)
    assert "Where your dX differs from the reference" in text
    assert "Where your dW differs" in text and "Where your db differs" in text
    assert "The pictures under lstm_backward: 3 sequences of 5 steps, output h_t" in text
    assert "Start here" in text and "dc_next = dc ⊙ f" in text
    # drawing is optional: without figures the page is the same but for them
    bare = report.feedback_page(graded, spec, draw=False)
    assert not images(bare) and "Start here" in text_of(bare)


def test_scale_mistakes_get_words_not_pictures(samples):
    graded = next(g for g in samples["rnn_linear"] if g.id == "batch_sum")
    page = report.feedback_page(graded, assignment("rnn_linear"))
    assert not images(page)
    assert "you summed over the batch where the loss takes the mean" in text_of(page)


def test_correct_and_unreadable_submissions(samples):
    spec = assignment("lstm")
    correct = next(g for g in samples["lstm"] if g.id == "correct_loop")
    text = text_of(report.feedback_page(correct, spec))
    assert "All public tests pass" in text and "Start here" not in text
    broken = next(g for g in samples["lstm"] if g.id == "truncated_json")
    text = text_of(report.feedback_page(broken, spec))
    assert "could not be graded" in text and "truncated_json" in text
    assert "Start here" not in text


# ---- the instructor's summary ---------------------------------------------------------------

def test_common_diagnoses_are_grouped_by_code_with_a_message(samples):
    graded = samples["rnn_linear"]
    found = {d.code: d for d in stats.diagnoses(graded)}
    batch = found["scale:N"]
    assert batch.title == "summed over the batch (N× too large)"
    assert batch.submissions == 1 and batch.share == pytest.approx(1 / len(graded))
    assert "you summed over the batch" in batch.message
    assert any("backward_gradient" in t for t in batch.tests)
    shares = [d.share for d in stats.diagnoses(graded)]
    assert shares == sorted(shares, reverse=True)


def test_title_of_an_assignment_code_is_its_first_clause():
    message = ("Your bptt uses 1 − s as the derivative of tanh: written with its output "
               "s = tanh(a) it is 1 − s².")
    assert stats.title_of("bptt:tanh", message) == "Your bptt uses 1 − s as the derivative of tanh"
    assert stats.title_of("scale:T", "") == "summed over T once too often"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_summary_page(name, samples):
    spec = assignment(name)
    graded = samples[name]
    page = report.summary_page(graded, spec)
    text = text_of(page)
    assert "<script" not in page.lower()
    assert len(images(page)) == 3 and all(p.startswith(PNG) for p in images(page))
    for g in graded:
        assert f'href="{g.id}/feedback.html"' in page
    for case in spec.cases:
        assert case.name in text
    top = stats.diagnoses(graded)[0]
    assert f"{100 * top.share:.0f}%" in text and top.title in text
    mean = sum(g.score for g in graded) / len(graded)
    assert f"{mean:.1f}" in text


def test_summary_table_for_a_terminal(samples):
    buffer = io.StringIO()
    spec = assignment("rnn_linear")
    print_table(samples["rnn_linear"], spec, Path("out/summary.html"), file=buffer, width=160)
    table = buffer.getvalue()
    batch = next(g for g in samples["rnn_linear"] if g.id == "batch_sum")
    row = next(line for line in table.splitlines() if "batch_sum" in line)
    assert f"{round(batch.score, 2):g} / {spec.max_score:g}" in row
    assert "summed over the batch" in row and "out/summary.html" in table


# ---- grader grade writes them ---------------------------------------------------------------

def grade_cli(*args):
    result = CliRunner().invoke(main, ["grade", *map(str, args), "--course", str(COURSE),
                                       "--jobs", "1", "--no-gradebook"])
    assert result.exit_code == 0, result.output
    return result.output


def test_grade_writes_pages_and_says_what_they_cost(tmp_path):
    out = tmp_path / "out"
    output = grade_cli("rnn_linear", COURSE / "assignments" / "rnn_linear" / "samples",
                       "--out", out)
    ids = {p.stem for p in (COURSE / "assignments" / "rnn_linear" / "samples").glob("*.ipynb")}
    assert {p.parent.name for p in out.glob("*/feedback.html")} == ids
    assert (out / "summary.html").is_file()
    assert re.search(r"feedback pages: \d+ ms per submission \(written beside its results\), "
                     r"class summary [\d.]+ s", output)
    assert f"graded {len(ids)} submissions" in output  # the summary line stays

    bare = tmp_path / "bare"
    grade_cli("rnn_linear", COURSE / "assignments" / "rnn_linear" / "samples", "--out", bare,
              "--no-html")
    assert not list(bare.rglob("*.html")) and len(list(bare.glob("*/results.json"))) == len(ids)


def test_grade_with_public_cases_only(tmp_path):
    out = tmp_path / "out"
    cases = COURSE / "assignments" / "rnn_linear" / "public_cases.bin"
    sample = COURSE / "assignments" / "rnn_linear" / "samples" / "sign_flipped.ipynb"
    grade_cli("rnn_linear", sample, "--out", out, "--cases", cases)
    data = json.loads((out / "sign_flipped" / "results.json").read_text())
    assert data["tests"] and all(t["visibility"] == "visible" for t in data["tests"])
    assert "wrong sign" in (out / "sign_flipped" / "feedback.html").read_text()
    wrong = CliRunner().invoke(main, ["grade", "gates", str(sample), "--cases", str(cases),
                                      "--out", str(out)])
    assert wrong.exit_code == 2 and "holds the cases of 'rnn_linear'" in wrong.output


# ---- in a real browser ----------------------------------------------------------------------

def _find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="session")
def chromium():
    """Debian's chromium; installed with apt-get when missing and we are root."""
    path = _find_chromium()
    if path is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=900)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env,
                       capture_output=True, timeout=1800)
        path = _find_chromium()
    if path is None:
        pytest.skip("chromium is not installed and cannot be installed here (needs root and "
                    "apt-get): the pages were not opened in a browser")
    return path


def browse(chromium, profile, *args, timeout=120):
    command = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--hide-scrollbars",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message || e)); }, true);
window.addEventListener('load', function () {
  var found = Array.prototype.map.call(document.images, function (i) {
    return {complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
            shown: i.getBoundingClientRect().width};
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({errors: window.__errors, images: found});
  document.body.appendChild(out);
});
</script>"""


def rendered(chromium, page: Path, tmp_path):
    """(probe result, DOM) of the page opened in chromium: a copy of the page with a small
    script that records errors and each image's natural size (the page itself has none)."""
    text = page.read_text()
    assert "<script" not in text.lower()
    probe = page.with_name(page.stem + ".probe.html")
    probe.write_text(text.replace("<head>", "<head>" + PROBE, 1))
    done = browse(chromium, tmp_path / "profile", "--dump-dom", probe.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    assert not console, console
    found = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    return json.loads(html.unescape(found.group(1))), done.stdout


def screenshot(chromium, page: Path, target: Path, tmp_path, height=2400):
    done = browse(chromium, tmp_path / "profile", f"--screenshot={target}",
                  f"--window-size=1000,{height}", page.as_uri())
    assert done.returncode == 0 and target.is_file(), done.stderr[-2000:]
    from PIL import Image

    pixels = np.asarray(Image.open(target).convert("RGB"), dtype=np.float64)
    assert pixels.shape[:2] == (height, 1000)
    # not blank: many colours and real contrast (text, bars, heatmaps)
    assert pixels.std() > 20
    assert len(np.unique(pixels.reshape(-1, 3)[::7], axis=0)) > 200
    return pixels


def test_instructor_path_pages_render_in_a_browser(chromium, tmp_path):
    """The instructor's path on the bundled LSTM samples: grade into a gradebook, regrade one
    student, export the CSV, then open the pages in chromium: every figure loads, no error, the
    expected text is there, and a screenshot is not blank."""
    out, book = tmp_path / "out", tmp_path / "gradebook.sqlite"
    where = ["--course", str(COURSE), "--gradebook", str(book), "--out", str(out), "--jobs", "1"]
    runner = CliRunner()
    graded = runner.invoke(main, ["grade", "lstm", str(COURSE / "assignments" / "lstm" / "samples"),
                                  *where])
    assert graded.exit_code == 0, graded.output
    (out / "dc_not_carried" / "feedback.html").unlink()
    regraded = runner.invoke(main, ["regrade", "lstm", "--student", "dc_not_carried", *where])
    assert regraded.exit_code == 0, regraded.output
    exported = runner.invoke(main, ["gradebook", "export", "--gradebook", str(book)])
    assert exported.exit_code == 0, exported.output
    rows = {r[0]: r[1:] for r in csv.reader(io.StringIO(exported.output))}
    assert rows["dc_not_carried"] == ["12"] and rows["correct_loop"] == ["26"]

    page = out / "dc_not_carried" / "feedback.html"
    probe, dom = rendered(chromium, page, tmp_path)
    assert probe["errors"] == []
    assert len(probe["images"]) == 3
    for image in probe["images"]:
        assert image["complete"] and image["width"] > 300 and image["height"] > 150
        assert image["shown"] > 100
    for uri in re.findall(r'<img src="(data:image/png;base64,[^"]+)"', dom):
        assert base64.b64decode(uri.split(",", 1)[1]).startswith(PNG)
    text = text_of(dom)
    assert "An LSTM layer" in text and "12 / 26 points" in text
    assert "carry dc_next = dc ⊙ f back to step t − 1" in text
    assert "Where your dX differs from the reference" in text
    screenshot(chromium, page, tmp_path / "feedback.png", tmp_path)

    summary = out / "summary.html"
    probe, dom = rendered(chromium, summary, tmp_path)
    assert probe["errors"] == [] and len(probe["images"]) == 3
    assert all(i["complete"] and i["width"] > 300 for i in probe["images"])
    text = text_of(dom)
    assert "Most common diagnoses" in text and "Pass rate per test" in text
    assert "17%" in text and "notebook could not be read" in text  # 1 of 6
    screenshot(chromium, summary, tmp_path / "summary.png", tmp_path)

    # a correct submission's page, with no figure, renders too
    probe, _ = rendered(chromium, out / "correct_loop" / "feedback.html", tmp_path)
    assert probe == {"errors": [], "images": []}


def test_grading_processes_write_the_pages_beside_the_results(tmp_path):
    """With several workers each grading process writes its submissions' pages; the class page
    comes last, from all of them."""
    samples = COURSE / "assignments" / "lstm" / "samples"
    result = CliRunner().invoke(main, ["grade", "lstm", str(samples), "--course", str(COURSE),
                                       "--out", str(tmp_path), "--jobs", "2", "--no-gradebook"])
    assert result.exit_code == 0, result.output
    ids = {p.stem for p in samples.glob("*.ipynb")}
    pages = {p.parent.name: p.read_text() for p in tmp_path.glob("*/feedback.html")}
    assert set(pages) == ids
    assert all("data:image/png;base64," in pages[i] for i in ("gate_order_ifog", "dc_not_carried"))
    assert all(i in (tmp_path / "summary.html").read_text() for i in ids)
