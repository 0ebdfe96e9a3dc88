"""Grading through the slice: what the student's notebook needs runs in the sandbox, and what
goes wrong there is told in the student's terms."""
from tests.grading import grade_source, lost, messages

HEADER = "import numpy as np\n"
CORRECT_OUTPUT = "def output_gradient(y, t):\n    return 2 * (y - t) * SCALE\n"


def test_a_slow_needed_statement_costs_its_submission_with_the_place_named():
    graded = grade_source("rnn_linear", HEADER + "import time\n", CORRECT_OUTPUT,
                          "SCALE = 1\nwhile True:\n    SCALE = 1\n    time.sleep(0.01)\n")
    assert graded.score == 0
    assert messages(graded, "output_gradient").startswith(
        "Running your notebook's top-level code at line 2 of cell 3 (“SCALE = 1”) took longer "
        "than 10 s (an endless loop?), before `output_gradient` could be called.")


def test_a_slow_statement_nothing_needs_does_not_run():
    graded = grade_source("rnn_linear", HEADER + "import time\nSCALE = 1\n", CORRECT_OUTPUT,
                          "while True:\n    time.sleep(0.01)\n")
    assert lost(graded, "output_gradient") == 0


def test_a_graded_function_in_a_cell_with_a_syntax_error_says_so_in_its_tests():
    graded = grade_source("rnn_linear", HEADER,
                          "def output_gradient(y, t)\n    return 2 * (y - t)\n")
    assert messages(graded, "output_gradient").startswith(
        "`output_gradient` is not defined: cell 2 (“def output_gradient(y, t)”) defines it but "
        "has a syntax error at line 1 (expected ':'), so none of that cell runs.")


def test_a_needed_statement_that_fails_is_reported_against_its_cell():
    graded = grade_source("rnn_linear", HEADER, "SCALE = np.load('scale.npy')\n", CORRECT_OUTPUT)
    assert any(n.startswith("Running your notebook's code failed at line 1 of cell 2 (“SCALE = "
                            "np.load('scale.npy')”): FileNotFoundError") for n in graded.notes), \
        graded.notes
