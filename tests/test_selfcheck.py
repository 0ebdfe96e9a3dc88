"""grader.check inside a notebook: the public cases of one function, run apart, explained."""
from grader.report.selfcheck import check_in_kernel
from reference import rnn_linear as ref
from tests.grading import COURSE, reference_source

CASES = COURSE / "assignments" / "rnn_linear" / "public_cases.bin"


def test_passing_function(capsys):
    cells = ["import numpy as np", "x = 1\nprint(x)", reference_source(ref, "output_gradient")]
    assert check_in_kernel("output_gradient", CASES, cells) is True
    out = capsys.readouterr().out
    assert "[PASS] output_gradient: a batch of 7" in out
    assert "backward_gradient" not in out  # only the function asked for


def test_failing_function_is_explained_and_latest_definition_wins(capsys):
    wrong = "import numpy as np\ndef output_gradient(y, t):\n    return (y - t)\n"
    cells = [reference_source(ref, "output_gradient"), wrong]  # run in this order
    assert check_in_kernel("output_gradient", CASES, cells) is False
    assert "half the reference" in capsys.readouterr().out


def test_unknown_function_and_missing_case_file(capsys, tmp_path):
    assert check_in_kernel("nonexistent", CASES, []) is False
    assert "no public cases for 'nonexistent'" in capsys.readouterr().out
    assert check_in_kernel("output_gradient", tmp_path / "missing.bin", []) is False
    assert "no public case file" in capsys.readouterr().out
