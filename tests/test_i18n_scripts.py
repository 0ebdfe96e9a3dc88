"""The exported scripts' own words when they cannot grade, in the export's language: Gradescope's
run_autograder (no notebook, several, the grader failed) and GitHub's grade.sh (no grading
bundle), run by bash in a simulated layout; their words are bash text whatever a translation
holds (quotes, $, backquotes stay literal), and the shell's values are put in."""
import json
import os
import shutil
import subprocess

import pytest

from grader import i18n
from grader.export import bundles, script_words
from tests.grading import COURSE
from tests.test_i18n_choice import course  # noqa: F401 (a copy of rnn_linear's course)

SAMPLE = COURSE / "assignments" / "rnn_linear" / "samples" / "batch_sum.ipynb"
#: a Python without the grader: `python -m grader` fails as a broken installation would
BARE_PYTHON = shutil.which("python3", path="/usr/bin:/usr/local/bin") or "python3"


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    yield
    i18n.use(None)


def _autograder(tmp_path, lang, *notebooks) -> dict:
    """results.json of run_autograder (rendered for `lang`) on a submission of `notebooks`."""
    root = tmp_path / f"autograder-{lang}-{len(notebooks)}"
    (root / "submission").mkdir(parents=True)
    script = root / "run_autograder"
    script.write_text(bundles._template("run_autograder.j2", assignment="rnn_linear",
                                        words=script_words.gradescope(lang)))
    for index, notebook in enumerate(notebooks):
        shutil.copy(notebook, root / "submission" / f"work{index}.ipynb")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120,
                          env={**env, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": BARE_PYTHON})
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescopes_own_words_in_korean_and_english(tmp_path):
    assert subprocess.run([BARE_PYTHON, "-c", "import grader"], capture_output=True,
                          cwd=tmp_path).returncode != 0  # so the grading itself fails
    none = _autograder(tmp_path, "ko")
    assert none["score"] == 0
    assert none["output"] == "제출물에 노트북(.ipynb)이 없습니다. rnn_linear.ipynb 파일을 올리십시오."
    several = _autograder(tmp_path, "ko", SAMPLE, SAMPLE)
    assert several["output"].startswith("제출물에 노트북이 여러 개 있습니다(`work0.ipynb` "
                                        "`work1.ipynb` ). ")
    assert several["output"].endswith("바꾸십시오: rnn_linear.ipynb.")
    failed = _autograder(tmp_path, "ko", SAMPLE)
    assert failed["output"].startswith("자동 채점기가 노트북을 채점하기 전에 실패했습니다(종료 상태 1).")
    english = _autograder(tmp_path, "en")
    assert english["output"] == "No notebook (.ipynb) found in your submission: upload your " \
                                "rnn_linear.ipynb."
    assert _autograder(tmp_path, "en", SAMPLE)["output"].startswith(
        "The autograder failed (exit status 1) before it could grade your notebook")


def test_the_gradescope_export_speaks_the_courses_language(course):
    (course / "course.toml").write_text('lang = "ko"\n')
    script = bundles.gradescope_files(course, "rnn_linear")["run_autograder"]
    assert "제출물에 노트북(.ipynb)이 없습니다" in script
    assert "No notebook" in bundles.gradescope_files(course, "rnn_linear", "en")["run_autograder"]


def test_githubs_failure_words_in_korean(tmp_path):
    repo = tmp_path / "repo"
    files = bundles.github_files(COURSE, "rnn_linear", "teacher/bundle", "ko")
    bundles.write_folder(repo, files, executable=(".github/grade.sh",))
    output = tmp_path / "github-output"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(repo / ".github" / "grade.sh")], capture_output=True,
                          text=True, timeout=120, env={
                              **env, "GRADING_BUNDLE": str(tmp_path / "none"),
                              "GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": os.devnull})
    assert done.returncode == 1
    result = json.loads((repo / ".grader-out" / "runner-result.json").read_text())
    assert result["status"] == "error"
    assert result["tests"][0]["message"] == f"{tmp_path / 'none'}에 채점 번들이 없습니다" \
                                            "(GRADING_TOKEN 시크릿이 설정되어 있습니까?)"


def test_a_translation_is_bash_text_and_only_the_values_expand(tmp_path, monkeypatch):
    template = "words of no catalogue but this test's, then {notebook}"
    monkeypatch.setattr(i18n, "_extra", {})
    i18n.add_messages({"ko": {template: 'ㄱ "따옴표" $HOME `id` \\ {notebook}'}})
    with i18n.using("ko"):
        words = script_words.shell_words(template, notebook="$ASSIGNMENT.ipynb")
    said = subprocess.run(["bash", "-c", f'ASSIGNMENT=lstm; printf %s "{words}"'],
                          capture_output=True, text=True, check=True).stdout
    assert said == 'ㄱ "따옴표" $HOME `id` \\ lstm.ipynb'
