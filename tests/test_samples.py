"""Every bundled sample is graded as its manifest says, with its exact score: correct samples
get full marks, each wrong one loses points in exactly the functions it gets wrong."""
import tomllib

import pytest

from grader.results.grade import grade_submission
from grader.read.submission import SubmissionError, load_submission
from tests.grading import COURSE, assignment, worker

#: the score of every sample (a change here is a change in grading: review it)
SCORES = {
    "gates": {"backward_from_x": 41, "correct_helpers": 46, "correct_vectorized": 46,
              "magics": 46, "naive_sigmoid": 44, "partial": 28, "swapped_matmul": 39},
    "rnn_linear": {"batch_sum": 5.6667, "correct_loop": 13, "correct_vectorized": 13,
                   "double_mean": 10, "global_n_samples": 5.1667, "sign_flipped": 9,
                   "syntax_error_cell": 13},
    "rnn_bptt": {"correct_einsum": 34, "correct_loops": 34, "dropped_bptt": 11,
                 "no_onehot": 11, "tanh_derivative": 18.8333, "truncate_off_by_one": 29.3333},
    "lstm": {"correct_loop": 26, "correct_split": 26, "dc_not_carried": 12,
             "gate_order_ifog": 0, "truncated_json": 0, "use_state_ignored": 14},
    "two_layer": {"correct_layers": 31, "correct_vectorized": 31, "db_wrong_axis": 25.6946,
                  "reg_gradient_doubled": 27.275, "relu_mask_from_dout": 25.6083,
                  "summed_loss": 17.25, "unshifted_softmax": 30.5},
}

SAMPLES = [(name, sample) for name, scores in SCORES.items() for sample in scores]


def manifest(name):
    return tomllib.loads((COURSE / "assignments" / name / "samples" / "MANIFEST.toml").read_text())


@pytest.mark.parametrize("name", SCORES)
def test_every_sample_has_a_score_and_a_manifest_entry(name):
    on_disk = {p.stem for p in (COURSE / "assignments" / name / "samples").glob("*.ipynb")}
    assert on_disk == set(SCORES[name]) == set(manifest(name))


@pytest.mark.parametrize("name, sample", SAMPLES)
def test_sample_score_and_failures_match_its_manifest(name, sample):
    spec = assignment(name)
    entry = manifest(name)[sample]
    path = COURSE / "assignments" / name / "samples" / f"{sample}.ipynb"
    try:
        submission = load_submission(path)
    except SubmissionError as exc:
        assert SCORES[name][sample] == 0 and sample in str(exc)
        return
    graded = grade_submission(spec, submission, worker())
    assert graded.score == pytest.approx(SCORES[name][sample], abs=1e-4)
    failing = {v.case.function for v in graded.verdicts
               if not v.passed and "gradient check" not in v.case.name}
    if entry["mistake"] == "correct":
        assert graded.score == spec.max_score
    else:
        assert graded.score < spec.max_score
        # value tests fail exactly in the functions the manifest names (gradient checks chain
        # several student functions, so they may fail for a neighbour's mistake)
        assert failing == set(entry["functions_wrong"]), graded.verdicts
