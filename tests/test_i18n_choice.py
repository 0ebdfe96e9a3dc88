"""Which language feedback is written in: the command's --lang, else the notebook's own
(metadata.grader.lang, which the Korean handout carries), else GRADER_LANG, else the course's
course.toml, else English; the class page follows the command, the environment or the course.
The exports carry the choice: a Gradescope autograder grades in the course's language, a GitHub
template hands out the Korean notebook. The Korean handouts are built from the same template."""
import json
import re
import shutil
import zipfile

import nbformat
import pytest
from click.testing import CliRunner

from grader import i18n
from grader.authoring.notebooks import build_notebook, languages, notebook_path
from grader.cli import main
from grader.course import settings
from grader.export import bundles
from tests.grading import COURSE

SAMPLES = COURSE / "assignments" / "rnn_linear" / "samples"


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    yield
    i18n.use(None)
    i18n.use_course(None)


@pytest.fixture
def course(tmp_path):
    """A copy of the course's rnn_linear (and its reference), to give it a course.toml."""
    root = tmp_path / "course"
    shutil.copytree(COURSE / "assignments" / "rnn_linear", root / "assignments" / "rnn_linear",
                    ignore=shutil.ignore_patterns("samples"))
    shutil.copytree(COURSE / "reference", root / "reference",
                    ignore=shutil.ignore_patterns("__pycache__"))
    return root


def _korean_notebook(path, sample="batch_sum"):
    """The sample as a student of the Korean handout hands it in (its metadata says ko)."""
    nb = nbformat.read(SAMPLES / f"{sample}.ipynb", as_version=4)
    nb.metadata["grader"]["lang"] = "ko"
    nbformat.write(nb, path)


def _grade(folder, out, *extra, course=COURSE):
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(folder), "--out", str(out),
                                       "--course", str(course), "--jobs", "1", "--no-gradebook",
                                       *extra])
    assert result.exit_code == 0, result.output
    return {p.parent.name: json.loads(p.read_text()) for p in out.glob("*/results.json")}


def test_a_notebook_asks_for_its_language_unless_the_command_chooses(tmp_path):
    subs = tmp_path / "subs"
    subs.mkdir()
    _korean_notebook(subs / "kim.ipynb")
    shutil.copy(SAMPLES / "batch_sum.ipynb", subs / "smith.ipynb")
    found = _grade(subs, tmp_path / "out", "--no-html")
    assert found["kim"]["output"].startswith("점수: ") and found["kim"]["extra_data"]["lang"] == "ko"
    assert found["smith"]["output"].startswith("Score: ")
    assert found["kim"]["score"] == found["smith"]["score"]
    chosen = _grade(subs, tmp_path / "out-en", "--no-html", "--lang", "en")
    assert chosen["kim"]["output"].startswith("Score: ")  # --lang comes first


def test_the_course_chooses_below_the_environment(tmp_path, course, monkeypatch):
    (course / settings.SETTINGS).write_text('lang = "ko"\n')
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "sign_flipped.ipynb", subs / "lee.ipynb")
    found = _grade(subs, tmp_path / "out", course=course)
    assert found["lee"]["output"].startswith("점수: ")
    assert "수업 요약" in (tmp_path / "out" / "summary.html").read_text()  # the class page too
    monkeypatch.setenv("GRADER_LANG", "en")
    found = _grade(subs, tmp_path / "out-env", "--no-html", course=course)
    assert found["lee"]["output"].startswith("Score: ")


def test_a_course_toml_that_cannot_be_used_is_named(tmp_path, course):
    (course / settings.SETTINGS).write_text('lang = "fr"\n')
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "sign_flipped.ipynb", subs / "lee.ipynb")
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(subs), "--out",
                                       str(tmp_path / "out"), "--course", str(course),
                                       "--no-gradebook"])
    assert result.exit_code == 2
    assert "course.toml: lang: unknown language 'fr': choose one of en, ko" in result.output
    (course / settings.SETTINGS).write_text('language = "ko"\n')
    with pytest.raises(settings.SettingsError, match="unknown setting language"):
        settings.read(course)


def test_regrade_and_check_take_lang(tmp_path):
    book = tmp_path / "book.sqlite"
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SAMPLES / "batch_sum.ipynb", subs / "park.ipynb")
    where = ["--course", str(COURSE), "--out", str(tmp_path / "out"), "--no-html"]
    runner = CliRunner()
    assert runner.invoke(main, ["grade", "rnn_linear", str(subs), "--gradebook", str(book),
                                *where]).exit_code == 0
    regraded = runner.invoke(main, ["regrade", "rnn_linear", "--gradebook", str(book), "--lang",
                                    "ko", *where])
    assert regraded.exit_code == 0, regraded.output
    results = json.loads((tmp_path / "out" / "park" / "results.json").read_text())
    assert results["output"].startswith("점수: ")
    _korean_notebook(tmp_path / "kim.ipynb", "sign_flipped")
    checked = runner.invoke(main, ["check", str(tmp_path / "kim.ipynb"), "--cases",
                                   str(COURSE / "assignments" / "rnn_linear" / "public_cases.bin")])
    assert checked.exit_code == 1 and "부호가 반대입니다" in checked.output  # its own language
    missing = runner.invoke(main, ["check", str(tmp_path / "kim.ipynb"), "--lang", "ko"])
    assert missing.exit_code == 2 and "kim.ipynb과 같은 폴더에 public_cases.bin 파일이 없습니다" \
        in missing.output


def test_the_exports_grade_in_the_chosen_language(tmp_path, course):
    zipped = tmp_path / "autograder.zip"
    result = CliRunner().invoke(main, ["export", "gradescope", "rnn_linear", "--course",
                                       str(course), "-o", str(zipped), "--lang", "ko"])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(zipped) as archive:
        names = set(archive.namelist())
        assert archive.read("course.toml").decode().endswith('lang = "ko"\n')
        wheel = next(n for n in names if n.endswith(".whl"))
        (tmp_path / wheel).write_bytes(archive.read(wheel))
    assert "assignments/rnn_linear/locale/ko/LC_MESSAGES/assignment.mo" in names
    with zipfile.ZipFile(tmp_path / wheel) as package:  # the grader's own catalogue, installed
        assert "grader/locale/ko/LC_MESSAGES/grader.mo" in package.namelist()
    template = tmp_path / "repo"
    result = CliRunner().invoke(main, ["export", "github", "rnn_linear", "--course", str(course),
                                       "-o", str(template), "--lang", "ko"])
    assert result.exit_code == 0, result.output
    handed = nbformat.read(template / "rnn_linear.ipynb", as_version=4)
    assert handed.metadata["grader"]["lang"] == "ko"
    assert 'export GRADER_LANG="${GRADER_LANG:-ko}"' in (template / ".github" / "grade.sh").read_text()
    english = tmp_path / "repo-en"
    assert CliRunner().invoke(main, ["export", "github", "rnn_linear", "--course", str(course),
                                     "-o", str(english)]).exit_code == 0
    assert "lang" not in nbformat.read(english / "rnn_linear.ipynb", as_version=4).metadata["grader"]
    assert "GRADER_LANG" not in (english / ".github" / "grade.sh").read_text()


@pytest.mark.parametrize("name", ["gates", "lstm", "rnn_bptt", "rnn_linear", "two_layer"])
def test_the_korean_handout_comes_from_the_same_template(name):
    assert languages(COURSE, name) == ["ko"]
    english, korean = build_notebook(COURSE, name), build_notebook(COURSE, name, "ko")
    assert notebook_path(COURSE, name, "ko").name == f"{name}.ko.ipynb"
    assert korean.metadata["grader"] == {"assignment": name, "lang": "ko"}
    assert len(english.cells) == len(korean.cells)
    for en, ko in zip(english.cells, korean.cells):
        assert (en.cell_type, en.metadata.get("tags")) == (ko.cell_type, ko.metadata.get("tags"))
        if "todo" in en.metadata.get("tags", []):
            assert ko.source == en.source  # the stub, the reference's docstring: code as it is
        elif "check" in en.metadata.get("tags", []):
            assert ko.source == en.source.replace('")', '", lang="ko")')
        elif en.cell_type == "markdown":
            assert ko.source != en.source and re.search("[가-힣]", ko.source)
    text = "\n".join(c.source for c in korean.cells if c.cell_type == "markdown")
    assert "$$" in text and "`" in text  # formulas and code kept
