"""Korean feedback end to end, as issue 22 asks: `grader grade rnn_linear <subs> --lang ko` gives
results.json, feedback.html (opened in Chromium, Hangul drawn with a real font), the class page,
a Gradescope autograder that grades in the course's language and the GitHub job summary in
Korean; `--lang en` gives the English ones. The language of a course (course.toml) and of a
notebook (its metadata.grader.lang) choose it too."""
import json
import re
import shutil
import subprocess
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import i18n
from grader.cli import main
from tests.grading import COURSE
from tests.test_report import browse, chromium, rendered, screenshot, text_of  # noqa: F401

SAMPLES = COURSE / "assignments" / "rnn_linear" / "samples"
PICKED = ("batch_sum", "sign_flipped", "correct_loop")
HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    yield
    i18n.use(None)


def _submissions(folder: Path) -> Path:
    folder.mkdir()
    for sample in PICKED:
        (folder / f"{sample}.ipynb").write_bytes((SAMPLES / f"{sample}.ipynb").read_bytes())
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The samples graded with --lang ko and --lang en, pages included."""
    root = tmp_path_factory.mktemp("pages")
    subs = _submissions(root / "subs")
    out = {}
    try:
        for lang in ("ko", "en"):
            out[lang] = root / lang
            result = CliRunner().invoke(main, ["grade", "rnn_linear", str(subs), "--out",
                                               str(out[lang]), "--course", str(COURSE),
                                               "--jobs", "2", "--no-gradebook", "--lang", lang])
            assert result.exit_code == 0, result.output
    finally:
        i18n.use(None)
    return out


def test_the_feedback_page_is_korean(graded):
    page = (graded["ko"] / "batch_sum" / "feedback.html").read_text()
    assert '<html lang="ko">' in page
    text = text_of(page)
    for words in ("선형 RNN의 역전파", "batch_sum 님의 피드백", "여기서 시작하십시오", "함수별 점수",
                  "backward_gradient: 길이 5인 시퀀스 7개", "비공개 테스트",
                  "여러분의 wx_grad, wRec_grad 값이 정확히 정답의 7배입니다"):
        assert words in text, words
    for english in ("Start here", "Score per function", "Hidden tests", "points", "passed"):
        assert english not in text, english
    assert "Noto Sans CJK KR" in page and "NanumGothic" in page  # a Korean font in the CSS
    english = text_of((graded["en"] / "batch_sum" / "feedback.html").read_text())
    assert "Start here" in english and "Score per function" in english
    assert not HANGUL.search(english)


def test_the_class_page_is_korean(graded):
    text = text_of((graded["ko"] / "summary.html").read_text())
    for words in ("수업 요약", "가장 흔한 진단", "테스트별 통과율", "배치에 대해 합을 구함 (N배 큼)",
                  "제출물 3개"):
        assert words in text, words
    assert not HANGUL.search(text_of((graded["en"] / "summary.html").read_text()))


def test_gradescope_results_are_korean(graded):
    results = json.loads((graded["ko"] / "sign_flipped" / "results.json").read_text())
    assert results["output"].startswith("점수: ")
    assert results["extra_data"]["lang"] == "ko"
    names = [t["name"] for t in results["tests"]]
    assert "output_gradient: 배치 크기 7" in names
    failed = "\n".join(t["output"] for t in results["tests"] if t["status"] == "failed")
    assert "여러분의 output_gradient 값의 부호가 반대입니다" in failed
    english = json.loads((graded["en"] / "sign_flipped" / "results.json").read_text())
    assert english["extra_data"]["lang"] == "en"
    assert "output_gradient: a batch of 7" in [t["name"] for t in english["tests"]]


def test_the_github_job_summary_is_korean(graded):
    runner = CliRunner()
    korean = runner.invoke(main, ["summary", str(graded["ko"] / "batch_sum")])
    assert korean.exit_code == 0, korean.output
    assert "고칠 점" in korean.output and "비공개" in korean.output
    assert "backward_gradient: 길이 5인 시퀀스 7개" in korean.output
    assert "Points " in korean.output  # GitHub Classroom reads this line: it stays as it is
    english = runner.invoke(main, ["summary", str(graded["ko"] / "batch_sum"), "--lang", "en"])
    assert "What to fix" in english.output  # the table's words follow --lang ...
    assert "여러분의" in english.output     # ... the results' own words are what was graded


@pytest.fixture(scope="session")
def hangul_font():
    """A font that draws Hangul (Debian's fonts-nanum, installed when missing and possible)."""
    def found():
        listed = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True,
                                text=True) if shutil.which("fc-list") else None
        return bool(listed and listed.stdout.strip())
    if not found() and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-nanum"], env=env,
                       capture_output=True, timeout=1800)
        if not found():
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True,
                           timeout=900)
            subprocess.run(["apt-get", "install", "-y", "-qq", "fonts-nanum"], env=env,
                           capture_output=True, timeout=1800)
    if not found():
        pytest.skip("no font draws Hangul and none can be installed here (needs root and "
                    "apt-get): the Korean page was not checked in a browser")
    return True


HANGUL_PROBE = """<script>
window.addEventListener('load', function () {
  var font = getComputedStyle(document.body).fontFamily;
  function ink(text) {
    var canvas = document.createElement('canvas');
    canvas.width = 64; canvas.height = 40;
    var context = canvas.getContext('2d');
    context.font = '28px ' + font;
    context.fillText(text, 4, 32);
    return Array.prototype.join.call(context.getImageData(0, 0, 64, 40).data, ',');
  }
  var out = document.createElement('pre');
  out.id = 'hangul';
  out.textContent = JSON.stringify({distinct: ink('가') !== ink('나') && ink('나') !== ink('다'),
                                    inked: ink('가') !== ink(' ')});
  document.body.appendChild(out);
});
</script>"""


def test_the_korean_page_renders_hangul_in_chromium(graded, chromium, hangul_font, tmp_path):
    """Opened in Chromium: no error, every figure loads, and Hangul syllables are drawn as
    distinct glyphs (with no font for them, every syllable is the same empty box)."""
    page = graded["ko"] / "batch_sum" / "feedback.html"
    probe, dom = rendered(chromium, page, tmp_path)
    assert probe["errors"] == []
    assert all(i["complete"] and i["width"] > 300 for i in probe["images"])
    assert "여러분의 wx_grad, wRec_grad 값이 정확히 정답의 7배입니다" in text_of(dom)
    probed = page.with_name("hangul.probe.html")
    probed.write_text(page.read_text().replace("<head>", "<head>" + HANGUL_PROBE, 1))
    done = browse(chromium, tmp_path / "profile", "--dump-dom", probed.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r'<pre id="hangul">(.*?)</pre>', done.stdout, re.S)
    assert found, done.stdout[-2000:]
    assert json.loads(found.group(1)) == {"distinct": True, "inked": True}
    screenshot(chromium, page, tmp_path / "feedback-ko.png", tmp_path)
