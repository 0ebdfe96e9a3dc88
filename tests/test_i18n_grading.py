"""Feedback in Korean end to end: the rnn_linear samples graded with --lang ko carry the key
diagnoses in Korean in results.json (×N, sign), and so do samples of the other assignments (a
swapped pair, a truncation off by one, the LSTM gate order, a mistake generated from the
reference); test names are the assignment's Korean ones; without --lang (or with --lang en) the
results are the English ones, unchanged; the self-check report follows lang= and GRADER_LANG."""
import json

import pytest
from click.testing import CliRunner

from grader import i18n
from grader.cli import main
from grader.report.selfcheck import check_in_kernel
from tests.grading import COURSE

SAMPLES = COURSE / "assignments" / "rnn_linear" / "samples"
CASES = COURSE / "assignments" / "rnn_linear" / "public_cases.bin"
WRONG_SIGN = "import numpy as np\ndef output_gradient(y, t):\n    return 2 * (t - y)\n"


@pytest.fixture(autouse=True)
def english_after(monkeypatch):
    """No GRADER_LANG from outside; the process's language back to the default afterwards
    (the command sets it for the whole process, as its grading processes inherit it)."""
    monkeypatch.delenv("GRADER_LANG", raising=False)
    yield
    i18n.use(None)


def _grade(tmp_path, name, *extra):
    folder = tmp_path / f"subs-{name}"
    folder.mkdir()
    for sample in ("batch_sum", "sign_flipped", "correct_loop"):
        (folder / f"{sample}.ipynb").write_bytes((SAMPLES / f"{sample}.ipynb").read_bytes())
    (folder / "broken.ipynb").write_text('{"cells": [')
    out = tmp_path / f"out-{name}"
    result = CliRunner().invoke(main, ["grade", "rnn_linear", str(folder), "--out", str(out),
                                       "--course", str(COURSE), "--jobs", "2", "--no-html",
                                       "--no-gradebook", *extra])
    assert result.exit_code == 0, result.output
    return {s: json.loads((out / s / "results.json").read_text())
            for s in ("batch_sum", "sign_flipped", "correct_loop", "broken")}


def _failed(results: dict) -> str:
    return "\n".join(t["output"] for t in results["tests"] if t["status"] == "failed")


def _without_time(results: dict) -> dict:
    return {k: v for k, v in results.items() if k != "execution_time"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("i18n")
    try:
        return {lang: _grade(tmp_path, lang or "default", *(["--lang", lang] if lang else []))
                for lang in (None, "en", "ko")}
    finally:
        i18n.use(None)


def test_korean_diagnoses_of_the_samples(graded):
    korean = graded["ko"]
    batch_sum = _failed(korean["batch_sum"])
    # two outputs wrong the same way: one sentence names both
    assert "여러분의 wx_grad, wRec_grad 값이 정확히 정답의 7배입니다 (N = 7, 배치 크기)" in batch_sum
    assert "배치에 대해 평균 대신 합을 구했습니다" in batch_sum
    assert "N = X.shape[0]으로 한 번 나누어야 합니다" in batch_sum
    sign = _failed(korean["sign_flipped"])
    assert "여러분의 output_gradient 값의 부호가 반대입니다. 정확히 정답의 −1배입니다" in sign
    assert "y − t" in sign
    assert korean["batch_sum"]["output"].startswith("점수: 5.6667 / 13")
    hidden = [t["output"] for t in korean["batch_sum"]["tests"]
              if t["visibility"] == "after_published" and t["status"] == "failed"]
    assert hidden and all("비공개 테스트" in o for o in hidden)
    assert all(t["output"] == "통과했습니다." for t in korean["correct_loop"]["tests"])
    broken = korean["broken"]
    assert broken["output"].startswith("제출물을 채점할 수 없었습니다: broken.ipynb: ")
    assert all(t["output"].startswith("채점하지 못했습니다: broken.ipynb: ")
               for t in broken["tests"] if t["visibility"] == "visible")
    # nothing the translation covers is left in English
    for results in korean.values():
        assert "your " not in _failed(results)
        assert "Score:" not in results["output"]


def test_english_is_the_default_and_unchanged(graded):
    for sample in ("batch_sum", "sign_flipped", "correct_loop", "broken"):
        assert _without_time(graded[None][sample]) == _without_time(graded["en"][sample])
    english = graded["en"]
    assert "Your wx_grad and wRec_grad are exactly 7× the reference (N = 7, the batch size)" \
        in _failed(english["batch_sum"])
    assert "Your output_gradient has the wrong sign: it is exactly −1× the reference" \
        in _failed(english["sign_flipped"])
    assert english["batch_sum"]["output"].startswith("Score: 5.6667 / 13")
    assert all(t["output"].startswith("not graded: broken.ipynb: ")
               for t in english["broken"]["tests"] if t["visibility"] == "visible")
    # the same tests, scores and codes in either language: only the words differ
    for sample in ("batch_sum", "sign_flipped", "correct_loop"):
        ko, en = graded["ko"][sample], english[sample]
        assert ko["score"] == en["score"]
        assert [(t["score"], t["status"], t["tags"]) for t in ko["tests"]] == \
            [(t["score"], t["status"], t["tags"]) for t in en["tests"]]
        assert [t["name"] for t in en["tests"]][:3] == [
            "output_gradient: a batch of 7", "output_gradient: batch of 1",
            "backward_gradient: 7 sequences of 5 steps"]
        assert [t["name"] for t in ko["tests"]][:3] == [
            "output_gradient: 배치 크기 7", "output_gradient: 배치 크기 1",
            "backward_gradient: 길이 5인 시퀀스 7개"]


def test_self_check_in_korean_by_argument_and_by_environment(capsys, monkeypatch):
    cells = [WRONG_SIGN]
    assert check_in_kernel("output_gradient", CASES, cells, lang="ko") is False
    out = capsys.readouterr().out
    assert "[실패]" in out and "점수: 0 / " in out
    assert "여러분의 output_gradient 값의 부호가 반대입니다" in out
    assert i18n.language() == "en"  # lang= lasts for the one call
    assert check_in_kernel("output_gradient", CASES, cells) is False
    assert "has the wrong sign" in capsys.readouterr().out
    monkeypatch.setenv("GRADER_LANG", "ko")
    assert check_in_kernel("output_gradient", CASES, cells) is False
    assert "부호가 반대입니다" in capsys.readouterr().out
    assert check_in_kernel("output_gradient", CASES, cells, lang="xx") is False
    assert "unknown language 'xx'" in capsys.readouterr().out


def test_grader_check_takes_lang(tmp_path):
    notebook = tmp_path / "sign_flipped.ipynb"
    notebook.write_bytes((SAMPLES / "sign_flipped.ipynb").read_bytes())
    result = CliRunner().invoke(main, ["check", str(notebook), "--cases", str(CASES),
                                       "--lang", "ko"])
    assert result.exit_code == 1, result.output
    assert "점수:" in result.output and "부호가 반대입니다" in result.output
    result = CliRunner().invoke(main, ["check", str(notebook), "--cases", str(CASES),
                                       "--lang", "en"])
    assert "Score:" in result.output and "has the wrong sign" in result.output


def test_a_generated_mistake_is_named_in_korean(tmp_path):
    """The sentence frame of grader.judge.naming and the plain words of the mistake."""
    folder = tmp_path / "subs"
    folder.mkdir()
    sample = COURSE / "assignments" / "lstm" / "samples" / "gate_order_ifog.ipynb"
    (folder / sample.name).write_bytes(sample.read_bytes())
    outputs = {}
    for lang in ("ko", "en"):
        out = tmp_path / lang
        result = CliRunner().invoke(main, ["grade", "lstm", str(folder), "--out", str(out),
                                           "--course", str(COURSE), "--no-html",
                                           "--no-gradebook", "--lang", lang])
        assert result.exit_code == 0, result.output
        results = json.loads((out / "gate_order_ifog" / "results.json").read_text())
        outputs[lang] = _failed(results)
    assert "A specific mistake in `lstm_forward` gives exactly your" in outputs["en"]
    assert "`lstm_forward` 함수에서 특정한 실수를 하면 여러분의 lstm_forward의 out 값이 정확히 " \
           "나옵니다: " in outputs["ko"]
    assert "순전파가 먼저 맞아야 합니다. 그런데 lstm_forward의 out 값이 틀렸습니다." in outputs["ko"]
    # the gate order, the assignment's own explanation, of three outputs in one sentence
    assert "여러분의 dX, dW, db 값은 게이트 블록을 입력, 망각, 출력, 블록 입력 순서로 읽었을 때 " \
           "나오는 값입니다" in outputs["ko"]
    assert "Your dX, dW and db are what taking the gate blocks in the order input, forget, " \
           "output, block input gives" in outputs["en"]


def _korean_failures(tmp_path, assignment, sample) -> str:
    folder = tmp_path / assignment
    folder.mkdir()
    path = COURSE / "assignments" / assignment / "samples" / f"{sample}.ipynb"
    (folder / path.name).write_bytes(path.read_bytes())
    out = tmp_path / f"out-{assignment}"
    result = CliRunner().invoke(main, ["grade", assignment, str(folder), "--out", str(out),
                                       "--course", str(COURSE), "--no-html", "--no-gradebook",
                                       "--lang", "ko"])
    assert result.exit_code == 0, result.output
    return _failed(json.loads((out / sample / "results.json").read_text()))


def test_korean_explanations_of_known_mistakes(tmp_path):
    """Each assignment's own words: a swapped pair of gradients (gates) and a truncation one step
    off (rnn_bptt), with the values put into the Korean sentence."""
    swapped = _korean_failures(tmp_path, "gates", "swapped_matmul")
    assert "여러분의 dW와 dX가 서로 바뀌었습니다. 여러분의 dW는 X의 기울기인 Wᵀ·dD이고" in swapped
    # the public case derived from gates' spec: W is N × K = 5 × 3, X is K × M = 3 × 6
    assert "dW = dD·Xᵀ는 W의 형태 (5, 3), dX = Wᵀ·dD는 X의 형태 (3, 6)입니다" in swapped
    truncated = _korean_failures(tmp_path, "rnn_bptt", "truncate_off_by_one")
    assert "절단이 한 단계 더 멀리 거슬러 올라갑니다. truncate=2이면 단계 t에서 생긴 오차는 단계 " \
           "t, t−1, …, max(0, t−2)까지만(양 끝을 포함해 3개 단계) 거슬러 흐르는데, 여러분의 코드는 " \
           "단계 t−3까지 갑니다." in truncated
    for words in (swapped, truncated):
        assert "your " not in words and "Your " not in words
