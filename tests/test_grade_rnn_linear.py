"""Grading the linear-RNN assignment: correct code scores full marks; each classic mistake loses
points and is named."""
import pytest

from reference import rnn_linear as ref
from tests.grading import assignment, grade_source, messages, reference_source, verdicts_for

PROVIDED = reference_source(ref, "update_state", "forward_states", "loss")
IMPORTS = "import numpy as np\n"
CORRECT_OUTPUT_GRADIENT = reference_source(ref, "output_gradient")
CORRECT = IMPORTS + PROVIDED + "\n" + reference_source(ref, "output_gradient", "backward_gradient")


def backward(body):
    """A backward_gradient whose loop is the reference's and whose return line is `body`."""
    return IMPORTS + PROVIDED + "\n" + CORRECT_OUTPUT_GRADIENT + f'''
def backward_gradient(X, S, grad_out, wRec):
    grad_over_time = np.zeros((X.shape[0], X.shape[1] + 1))
    grad_over_time[:, -1] = grad_out
    wx_grad = 0
    wRec_grad = 0
    for k in range(X.shape[1], 0, -1):
        wx_grad += np.sum(grad_over_time[:, k] * X[:, k - 1])
        wRec_grad += np.sum(grad_over_time[:, k] * S[:, k - 1])
        grad_over_time[:, k - 1] = grad_over_time[:, k] * wRec
{body}
'''


def test_correct_scores_full_marks():
    graded = grade_source("rnn_linear", CORRECT)
    assert graded.error is None
    assert graded.score == assignment("rnn_linear").max_score
    assert all(v.passed for v in graded.verdicts), messages(graded)


def test_sum_instead_of_mean_is_named():
    graded = grade_source("rnn_linear", backward("    return (wx_grad, wRec_grad), grad_over_time"))
    public = [v for v in verdicts_for(graded, "backward_gradient") if v.case.visibility == "public"]
    assert not public[0].passed
    assert "exactly 7× the reference" in messages(graded) and "summed over the batch" in messages(graded)
    # grad_over_time is right: partial credit, not zero
    assert 0 < public[0].fraction < 1


def test_global_n_samples_is_named():
    graded = grade_source("rnn_linear", "n_samples = 20\n",
                          backward("    return (wx_grad / n_samples, wRec_grad / n_samples), grad_over_time"))
    text = messages(graded, "backward_gradient")
    assert "notebook global `n_samples` (= 20)" in text
    assert graded.score < assignment("rnn_linear").max_score


def test_mean_applied_twice_is_named():
    cell = backward("    n = X.shape[0]\n    return (wx_grad / n / n, wRec_grad / n / n), grad_over_time")
    graded = grade_source("rnn_linear", cell)
    assert "1/N is applied twice" in messages(graded, "backward_gradient")


def test_one_over_n_in_output_gradient_is_named():
    cell = IMPORTS + "def output_gradient(y, t):\n    return 2 * (y - t) / y.shape[0]\n"
    graded = grade_source("rnn_linear", CORRECT, cell)
    text = messages(graded, "output_gradient")
    assert "output_gradient is divided by N = 7" in text
    assert not verdicts_for(graded, "output_gradient")[0].passed


def test_sign_flip_is_named():
    cell = IMPORTS + "def output_gradient(y, t):\n    return 2 * (t - y)\n"
    graded = grade_source("rnn_linear", CORRECT, cell)
    assert "wrong sign" in messages(graded, "output_gradient")


def test_grad_over_time_first_diverging_step():
    graded = grade_source("rnn_linear", backward(
        "    grad_over_time[:, 0] = 0.5\n    return (wx_grad / X.shape[0], wRec_grad / X.shape[0]), grad_over_time"))
    text = messages(graded, "backward_gradient")
    assert "time steps t=0 is wrong while t=1" in text


def test_in_place_modification_scores_zero():
    cell = backward("    X *= 1.0000001\n    return (wx_grad / X.shape[0], wRec_grad / X.shape[0]), grad_over_time")
    graded = grade_source("rnn_linear", cell)
    public = verdicts_for(graded, "backward_gradient")[0]
    assert public.fraction == 0
    assert "modified its input `X` in place" in messages(graded)


def test_wrong_return_structure_is_explained():
    graded = grade_source("rnn_linear", backward("    return wx_grad, wRec_grad, grad_over_time"))
    text = messages(graded, "backward_gradient")
    assert "((wx_grad, wRec_grad), grad_over_time)" in text


def test_stub_left_unfilled():
    cell = IMPORTS + PROVIDED + CORRECT_OUTPUT_GRADIENT + (
        "\ndef backward_gradient(X, S, grad_out, wRec):\n    raise NotImplementedError\n")
    graded = grade_source("rnn_linear", cell)
    assert "still raises NotImplementedError" in messages(graded, "backward_gradient")
    assert all(v.score == 0 for v in verdicts_for(graded, "backward_gradient"))
    assert all(v.passed for v in verdicts_for(graded, "output_gradient"))


def test_gradient_check_catches_backward_inconsistent_with_own_forward():
    # a student who changed the provided forward: their backward no longer matches it
    forward = IMPORTS + "def update_state(xk, sk, wx, wRec):\n    return xk * wx + 2 * sk * wRec\n"
    graded = grade_source("rnn_linear", CORRECT, forward)
    check = [v for v in graded.verdicts if "gradient check" in v.case.name][0]
    assert not check.passed
    assert "disagrees with your own forward" in " ".join(check.messages)


def test_regrading_is_deterministic():
    cell = backward("    return (wx_grad, wRec_grad), grad_over_time")
    first, second = grade_source("rnn_linear", cell), grade_source("rnn_linear", cell)
    assert [(v.score, v.messages) for v in first.verdicts] == \
        [(v.score, v.messages) for v in second.verdicts]


def test_a_failing_definition_is_located_in_the_students_cell():
    """The child runs the statements as the grader compiled them: a definition that fails names
    the cell and line it came from, also when the kept source puts it elsewhere."""
    graded = grade_source("rnn_linear", "import numpy as np\n\n\n\n\nscale = 2.0\n",
                          "x = [1, 2]\nprint(x)\n\n\n\n\n\n\n\n\n\ndef loss(y, t, n=undefined_name):\n"
                          "    return 0.0\n",
                          "import not_a_module_xyz\n\n\ndef forward_states(X, wx, wRec):\n"
                          "    return not_a_module_xyz.f(X)\n")
    assert "Running your notebook's code failed at line 12 of cell 2 (“x = [1, 2]”): " \
        "NameError: name 'undefined_name' is not defined" in graded.notes, graded.notes
    assert "line 12 of cell 2 (“x = [1, 2]”) reads `undefined_name`, which is never assigned " \
        "in your notebook" in graded.notes
    assert any(n.startswith("Running your notebook's code failed at line 1 of cell 3 "
                            "(“import not_a_module_xyz”): ModuleNotFoundError") for n in graded.notes)
