"""Korean feedback for an assignment written as a short spec: two_layer's samples graded with
--lang ko carry Korean diagnoses (×N merged over two outputs, a shape, mistakes generated from
the reference) and Korean test names, public and hidden, made from the grader's templates (the
assignment's catalogue holds no entry per test); the scores and statuses are the English run's;
a student's self-check with only the public case file names its tests in Korean too."""
import json
import re

import pytest
from click.testing import CliRunner

from grader import i18n
from grader.cli import main
from grader.report.selfcheck import check_in_kernel
from tests.grading import COURSE

NAME = "two_layer"
SAMPLES = COURSE / "assignments" / NAME / "samples"
GRADED = ("summed_loss", "relu_mask_from_dout", "db_wrong_axis", "correct_layers")
#: words of the English feedback and test names that a Korean result must not hold
ENGLISH = re.compile(r"\b(your|Your|inputs|called twice|on a second call|gradient check|agrees|"
                     r"the batch size|Partly correct|Passed)\b")


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    yield
    i18n.use(None)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{lang: {sample: results.json}} of the samples graded in Korean and in English."""
    tmp_path = tmp_path_factory.mktemp("two_layer_ko")
    folder = tmp_path / "subs"
    folder.mkdir()
    for sample in GRADED:
        (folder / f"{sample}.ipynb").write_bytes((SAMPLES / f"{sample}.ipynb").read_bytes())
    found = {}
    try:
        for lang in ("ko", "en"):
            out = tmp_path / f"out-{lang}"
            result = CliRunner().invoke(main, ["grade", NAME, str(folder), "--out", str(out),
                                               "--course", str(COURSE), "--jobs", "2",
                                               "--no-html", "--no-gradebook", "--lang", lang])
            assert result.exit_code == 0, result.output
            found[lang] = {s: json.loads((out / s / "results.json").read_text())
                           for s in GRADED}
    finally:
        i18n.use(None)
    return found


def _failed(results: dict) -> str:
    return "\n".join(t["output"] for t in results["tests"] if t["status"] == "failed")


def test_korean_diagnoses_of_two_layers_samples(graded):
    korean = graded["ko"]
    summed = _failed(korean["summed_loss"])
    # two outputs wrong the same way, one sentence; the batch size said in Korean
    assert "여러분의 loss, dscores 값이 정확히 정답의 5배입니다 (N = 5, 배치 크기)" in summed
    assert "배치에 대해 평균 대신 합을 구했습니다" in summed
    assert "여러분의 grads[\"b1\"], grads[\"b2\"] 값이 정확히 정답의 5배입니다" in summed
    # mistakes generated from the reference, named in Korean
    relu = _failed(korean["relu_mask_from_dout"])
    assert "`relu_backward` 함수에서 특정한 실수를 하면 여러분의 dx 값이 정확히 나옵니다: " \
           "cache 자리에 dout 값을 씁니다." in relu
    axis = _failed(korean["db_wrong_axis"])
    assert "`affine_backward` 함수에서 특정한 실수를 하면 여러분의 db 값이 정확히 나옵니다: " \
           "sum(dout, axis=0) 자리에서 sum(dout, axis=1) 식을 계산합니다." in axis
    assert "여러분의 grads[\"b1\"] 값의 형태가 (5,)입니다. 올바른 형태는 (6,)입니다." in axis
    # a gradient check that needs the forward first names the forward's output in Korean
    assert "그런데 loss 값이 틀렸습니다." in summed
    assert all(t["output"] == "통과했습니다." for t in korean["correct_layers"]["tests"])
    for results in korean.values():
        assert not ENGLISH.search(_failed(results)), _failed(results)
        assert results["output"].startswith("점수: ")


def test_korean_test_names_public_and_hidden(graded):
    names = [t["name"] for t in graded["ko"]["summed_loss"]["tests"]]
    english = [t["name"] for t in graded["en"]["summed_loss"]["tests"]]
    assert len(names) == len(english) == 59
    for expected in ("affine_forward: N = 5, D = 4, H = 6",
                     "여러분의 affine_forward 캐시로 affine_backward: N = 5, D = 4, H = 6",
                     "affine_backward: 여러분의 affine_forward에 대한 기울기 검사",
                     "softmax_loss: 자신의 loss에 대한 기울기 검사",
                     "affine_forward: N = 1 (배치 크기)",
                     "relu_forward: H = 1 (은닉층 크기)",
                     "softmax_loss: float32 입력", "two_layer_loss: 정수 입력",
                     "affine_forward: 큰 입력(±1000), 오버플로 없음",
                     "relu_backward: 같은 캐시로 두 번 호출", "softmax_loss: 두 번 호출"):
        assert expected in names, expected
    assert "affine_backward on your affine_forward's cache: N = 5, D = 4, H = 6" in english
    assert "relu_forward: H = 1 (the hidden size)" in english
    assert not [n for n in names if ENGLISH.search(n)]
    # the same tests, scores, statuses and codes in either language: only the words differ
    for sample in GRADED:
        ko, en = graded["ko"][sample], graded["en"][sample]
        assert ko["score"] == en["score"]
        assert [(t["score"], t["status"], t["tags"], t["visibility"]) for t in ko["tests"]] == \
            [(t["score"], t["status"], t["tags"], t["visibility"]) for t in en["tests"]]


def test_the_public_case_file_carries_the_korean_of_derived_names(capsys, monkeypatch):
    """A student's grader has the public case file, not the course: the Korean of the derived
    names and labels comes with it."""
    monkeypatch.setattr(i18n, "_phrases", {})
    monkeypatch.setattr(i18n, "_extra", {})
    monkeypatch.setattr(i18n, "_added", set())
    wrong = ("import numpy as np\n"
             "def relu_forward(x):\n    return np.maximum(0, x), x\n"
             "def relu_backward(dout, cache):\n    return dout * (dout > 0)\n")
    cases = COURSE / "assignments" / NAME / "public_cases.bin"
    assert check_in_kernel("relu_backward", cases, [wrong], lang="ko") is False
    out = capsys.readouterr().out
    assert "여러분의 relu_forward 캐시로 relu_backward: N = 5, H = 6" in out
    assert "relu_backward: 여러분의 relu_forward에 대한 기울기 검사" in out
    assert not i18n._phrases  # nothing derived here: the words came with the file
