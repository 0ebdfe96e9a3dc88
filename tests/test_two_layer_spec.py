"""The spec-driven path (issue 20): a short spec.toml read by grader.course.spec and every case
derived from it and the reference by grader.course.derive, on the two_layer assignment, which has
no cases.py and no mutants.py, and on small made-up specs."""
import itertools
from pathlib import Path

import numpy as np
import pytest

from grader.course.derive import allocate, derive
from grader.course.references import load_reference
from grader.course.spec import SpecError, parse, read
from grader.judge.fingerprints import run_case
from grader.judge.verdicts import Context, judge

COURSE = Path(__file__).resolve().parent.parent
FOLDER = COURSE / "assignments" / "two_layer"


@pytest.fixture(scope="module")
def spec():
    return read(FOLDER / "spec.toml")


@pytest.fixture(scope="module")
def reference():
    return load_reference(COURSE, "two_layer")


@pytest.fixture(scope="module")
def cases(spec, reference):
    return derive(spec, reference)


def test_the_assignment_is_a_reference_a_handout_and_a_short_spec():
    assert not (FOLDER / "cases.py").exists() and not (FOLDER / "mutants.py").exists()
    assert len((FOLDER / "spec.toml").read_text().splitlines()) <= 80
    assert (FOLDER / "template.py").is_file()


def test_every_function_gets_value_edge_and_gradient_cases(spec, cases):
    names = {f.name: [c.name for c in cases if c.function == f.name] for f in spec.functions}
    for function in spec.functions:
        got = names[function.name]
        assert sum(c.visibility == "public" for c in cases if c.function == function.name) >= 1
        assert any("float32 inputs" in n for n in got) and any("integer inputs" in n for n in got)
        assert any("called twice" in n for n in got)
        assert any(n.endswith("= 1 (the batch size)") for n in got)
        checked = function.forward is not None or function.loss is not None
        assert any("(gradient check)" in n for n in got) == checked
    assert any("large inputs" in n for n in names["softmax_loss"])
    assert not any("large inputs" in n for n in names["two_layer_loss"])  # the spec's override
    assert not any(n.startswith("softmax_loss: C = 1") for n in names["softmax_loss"])  # min = 2


def test_sizes_differ_within_every_case(cases):
    for case in cases:
        values = list(case.dims.values())
        assert len(set(values)) == len(values), (case.name, case.dims)
    sizes = {tuple(sorted(c.dims.items())) for c in cases if c.function == "two_layer_loss"}
    assert len(sizes) >= 5


def test_points_are_the_specs_in_quarters_and_every_case_counts(spec, cases):
    for function in spec.functions:
        mine = [c.points for c in cases if c.function == function.name]
        assert sum(mine) == function.points and all(p > 0 and p * 4 == int(p * 4) for p in mine)
    assert allocate(2, [2, 1, 1]) == [1.0, 0.5, 0.5]
    assert allocate(3, [2, 2, 1, 1, 1]) == [0.75, 0.75, 0.5, 0.5, 0.5]


def test_tolerances_follow_the_inputs_dtype(cases):
    for case in cases:
        for expect in case.expects:
            assert expect.rtol == (1e-5 if "float32" in case.name else 1e-9), case.name
        for check in case.gradchecks:
            assert check.rtol == 1e-5 and len(check.directions) == 2


def test_a_backward_runs_on_the_students_own_forward_and_cache(cases):
    case = next(c for c in cases if c.name.startswith("affine_backward on your"))
    forward, backward = case.calls
    assert forward.function == "affine_forward" and backward.function == "affine_backward"
    assert backward.args[1].call == 0 and backward.args[1].path == (1,)  # the cache stays there
    assert all(call.check_inputs for call in case.calls)
    twice = next(c for c in cases if c.name == "affine_backward: called twice on one cache")
    assert [c.function for c in twice.calls] == ["affine_forward", "affine_backward",
                                                 "affine_backward"]


def test_gradient_checks_need_a_right_forward(cases):
    for case in (c for c in cases if c.gradchecks):
        assert case.visibility == "public"
        assert [e.required for e in case.expects] == [True]
    loss = next(c for c in cases if c.name.startswith("two_layer_loss: its gradients"))
    assert [g.label for g in loss.gradchecks] == ['grads["W1"]', 'grads["b1"]', 'grads["W2"]',
                                                  'grads["b2"]']


def test_the_reference_passes_every_derived_case(cases, reference):
    namespace = {k: v for k, v in vars(reference).items() if callable(v)}
    for case in cases:
        verdict = judge(case, run_case(namespace, case), Context())
        assert verdict.passed, (case.name, verdict.messages)


def test_a_wrong_function_fails_the_cases_it_should(cases, reference):
    namespace = {k: v for k, v in vars(reference).items() if callable(v)}
    namespace["softmax_loss"] = lambda s, y: tuple(v * len(s) for v in reference.softmax_loss(s, y))
    failed = {c.name for c in cases if not judge(c, run_case(namespace, c), Context()).passed}
    assert {c.name for c in cases if c.function == "softmax_loss" and "N = 1" not in c.name} \
        <= failed
    assert not any(name.startswith(("affine", "relu")) for name in failed)


def test_derivation_is_deterministic(spec, reference, cases):
    again = derive(spec, reference)
    for a, b in zip(cases, again):
        assert a.name == b.name and a.points == b.points
        for x, y in zip(itertools.chain(*(c.args for c in a.calls)),
                        itertools.chain(*(c.args for c in b.calls))):
            if isinstance(x, np.ndarray):
                assert x.dtype == y.dtype and np.array_equal(x, y)


TOY = """
def scale(x, k):
    return x * k

def scale_backward(dout, cache):
    return dout
"""


@pytest.mark.parametrize("text, words", [
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "matrix N", k = "scalar" }\n'
     'returns = ["out"]', "kind 'matrix'"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "float M", k = "scalar" }\n'
     'returns = ["out"]', "dimension 'M'"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "float N" }\n'
     'returns = ["out"]', "not the reference's parameters"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale_backward"\nforward = "nothere"\n'
     'inputs = { dout = "upstream out", cache = "cache" }\nreturns = ["dx"]', "'nothere'"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "float N", k = "scalar" }\n'
     'returns = ["out"]\nloss = "total"', "loss 'total'"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "float N", k = "scalar" }\n'
     'returns = ["out"]\nedges = { huge = false }', "unknown edges huge"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\ninputs = { x = "float N", k = "scalar" }',
     "missing key 'returns'"),
    ('[dimensions]\nN = "n"\n[[function]]\nname = "scale"\npoints = 1\n'
     'inputs = { x = "float N", k = "scalar" }\nreturns = ["out"]', "at least 2"),
])
def test_spec_errors_name_the_function_and_what_is_wrong(tmp_path, text, words):
    import tomllib
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "toy.py").write_text(TOY)
    path = tmp_path / "spec.toml"
    with pytest.raises(SpecError) as error:
        spec = parse(tomllib.loads(text), path)
        derive(spec, load_reference(tmp_path, "toy"))
    assert words in str(error.value) and "spec.toml" in str(error.value)


def test_a_reference_that_warns_on_large_inputs_asks_for_the_override(tmp_path):
    import tomllib
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "toy.py").write_text("import numpy as np\n\n"
                                                   "def grow(x):\n    return np.exp(x)\n")
    text = '[dimensions]\nN = "n"\n[[function]]\nname = "grow"\npoints = 2\n' \
           'inputs = { x = "float N" }\nreturns = ["out"]\n'
    with pytest.raises(SpecError, match="large = false"):
        derive(parse(tomllib.loads(text), tmp_path / "spec.toml"), load_reference(tmp_path, "toy"))
    spec = parse(tomllib.loads(text + "edges = { large = false }\n"), tmp_path / "spec.toml")
    assert not any("large" in c.name for c in derive(spec, load_reference(tmp_path, "toy")))


def test_the_generated_mistakes_are_all_caught_and_nearly_all_named():
    """Issue 20's goal for an assignment written from its spec alone: every mutant generated
    from its reference that differs from it loses points, and at least 90% are named."""
    import warnings

    from grader.authoring import strength

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        measured = strength.measure("two_layer", COURSE)
    assert measured.runs >= 150 and measured.effective > 0
    assert measured.killed == measured.effective, measured.survivors
    assert measured.named >= 0.9 * measured.killed
    assert measured.hand_total == 0  # no mutants.py: the hand catalogue is in the tests


GATE = """import numpy as np

def squash(x):
    return np.tanh(x)

def squash_backward(dout, out):
    return dout * (1 - out ** 2)

def neuron(w, x):
    return np.tanh(w[:-1] @ x + w[-1]), (w, x)
"""
GATE_SPEC = """
[dimensions]
D = "the input size"
[[function]]
name = "squash"
points = 3
inputs = { x = "float D" }
returns = ["out"]
[[function]]
name = "squash_backward"
points = 3
forward = "squash"
cache = "out"                      # the forward's output is all its backward needs
inputs = { dout = "upstream out", out = "cache" }
returns = ["dx"]
[[function]]
name = "neuron"
points = 3
inputs = { w = "float D+1", x = "float D" }
returns = ["f", "cache"]
"""


def test_sizes_with_arithmetic_an_output_that_is_the_cache_and_large_inputs_of_both_signs(tmp_path):
    import tomllib
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "gate.py").write_text(GATE)
    reference = load_reference(tmp_path, "gate")
    made = derive(parse(tomllib.loads(GATE_SPEC), tmp_path / "spec.toml"), reference)
    neuron = next(c for c in made if c.name.startswith("neuron: D = "))
    w, x = neuron.calls[0].args
    assert w.shape == (x.shape[0] + 1,)
    squash = next(c for c in made if c.name.startswith("squash: D = "))
    assert [e.label for e in squash.expects] == ["out"]  # the cache, and compared
    backward = next(c for c in made if c.name.startswith("squash_backward on your"))
    assert backward.calls[1].args[1].path == ()  # the forward's whole output is the cache
    large = next(c for c in made if c.name.startswith("squash: large"))
    (values,) = large.calls[0].args
    assert large.no_fp_warnings and values.max() > 900 and values.min() < -900
    namespace = {k: v for k, v in vars(reference).items() if callable(v)}
    assert all(judge(c, run_case(namespace, c), Context()).passed for c in made)
