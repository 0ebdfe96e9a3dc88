"""Mutants generated from the references (grader.judge.mutants): what the operators make of a
small function, and the test strength table every assignment gets from them."""
import json
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.authoring import strength
from grader.judge.mutants import Shapes, generate

COURSE = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ("gates", "rnn_linear", "rnn_bptt", "lstm")

SOURCE = '''import numpy as np


def backward(dout, x, W, y, t):
    dW = x.T @ dout
    dx = dout @ W.T
    dy = 2 * (y - t)
    total = 0.0
    for k in range(3, 0, -1):
        total += np.sum(dout[:, k] * x[:, k - 1], axis=0)
    return dx, dW, dy / y.shape[0], -total
'''
SHAPES = Shapes({"backward": {
    "dout": frozenset({(4, 3)}), "x": frozenset({(4, 3)}), "W": frozenset({(3, 3)}),
    "dW": frozenset({(3, 3)}), "dx": frozenset({(4, 3)}), "y": frozenset({(4,)}),
    "t": frozenset({(4,)}), "dy": frozenset({(4,)}), "total": frozenset({()}),
    "k": frozenset({()})}})


def _changes():
    return {(m.operator, m.before, m.after) for m in generate(SOURCE, ("backward",), SHAPES)}


@pytest.mark.parametrize("operator, before, after", [
    ("substitute", "x", "dout"),                       # another array of the same shape
    ("swap-operands", "y - t", "t - y"),
    ("swap-operands", "x.T @ dout", "dout @ x.T"),
    ("transpose", "dout @ W.T", "dout @ W"),
    ("drop-factor", "2 * (y - t)", "y - t"),
    ("drop-divisor", "dy / y.shape[0]", "dy"),
    ("constant", "2", "1"),
    ("overwrite", "total += np.sum(dout[:, k] * x[:, k - 1], axis=0)",
     "total = np.sum(dout[:, k] * x[:, k - 1], axis=0)"),
    ("reduction", "np.sum(dout[:, k] * x[:, k - 1], axis=0)", "np.mean(dout[:, k] * x[:, k - 1], axis=0)"),
    ("axis", "np.sum(dout[:, k] * x[:, k - 1], axis=0)", "np.sum(dout[:, k] * x[:, k - 1], axis=1)"),
    ("loop-bound", "range(3, 0, -1)", "range(3, 1, -1)"),
    ("loop-order", "range(3, 0, -1)", "range(1, 4)"),
    ("index-shift", "x[:, k - 1]", "x[:, k]"),
    ("sign", "-total", "total"),
])
def test_operators_make_the_mistakes_backprop_code_is_made_of(operator, before, after):
    assert (operator, before, after) in _changes()


def test_swapped_outputs_and_no_substitution_across_shapes():
    changes = _changes()
    assert ("swap-outputs", "return (dx, dW, dy / y.shape[0], -total)",
            "return (dW, dx, dy / y.shape[0], -total)") in changes
    assert not any(op == "substitute" and (b, a) in {("W", "x"), ("x", "W"), ("y", "dout")}
                   for op, b, a in changes)


def test_every_mutant_is_the_function_with_its_change_and_the_tree_is_left_as_it_was():
    import ast
    original = ast.dump(ast.parse(SOURCE))
    mutants = generate(SOURCE, ("backward",), SHAPES)
    sources = {m.source() for m in mutants}
    assert len(sources) == len(mutants)  # no two mutants read the same
    for mutant in mutants:
        assert mutant.source().startswith("def backward(dout, x, W, y, t):")
        namespace = {}
        exec(mutant.code(), namespace)
        assert callable(namespace["backward"])
    assert ast.dump(ast.parse(SOURCE)) == original


@pytest.fixture(scope="module")
def measured():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {name: strength.measure(name, COURSE) for name in ASSIGNMENTS}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_assignment_gets_mutants_and_its_tests_kill_them(measured, name):
    s = measured[name]
    assert s.runs >= 50 and s.generated >= s.runs
    assert s.effective > 0 and s.killed >= 0.95 * s.effective
    assert s.killed_public <= s.killed
    assert s.named >= 0.8 * s.killed  # issue 19's goal
    assert len(s.survivors) == s.effective - s.killed
    assert len(s.equivalents) == s.equivalent
    assert 0 <= s.hand_reproduced <= s.hand_total and s.hand_total > 0


def test_the_hand_catalogues_are_reproduced_by_generated_mutants(measured):
    """Issue 19's goal: at least 90% of the four hand-written catalogues' mistakes are some
    generated mutant (the same values, and the same side effects, on every case)."""
    reproduced = sum(s.hand_reproduced for s in measured.values())
    total = sum(s.hand_total for s in measured.values())
    assert total >= 100 and reproduced >= 0.9 * total, \
        {name: s.unreproduced for name, s in measured.items()}


def test_a_truly_equivalent_change_is_reported_as_such(measured):
    # c_prev = c, then c = f * c_prev + i * g: reading c there reads the same array
    assert any("uses c where c_prev belongs (c_prev → c)" in e for e in measured["lstm"].equivalents)


def test_the_command_prints_the_table_and_json():
    runner = CliRunner()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = runner.invoke(main, ["mutants", "rnn_linear", "--generated", "--course", str(COURSE)])
        data = runner.invoke(main, ["mutants", "rnn_linear", "--generated", "--json",
                                    "--course", str(COURSE)])
    assert plain.exit_code == 0, plain.output
    assert plain.output.splitlines()[0].split()[:3] == ["assignment", "generated", "equivalent"]
    (row,) = json.loads(data.output)
    assert set(row) >= {"assignment", "generated", "equivalent", "killed", "named",
                        "hand_reproduced", "hand_total"}
    assert row["named"] <= row["killed"]
    assert row["assignment"] == "rnn_linear" and row["killed"] <= row["generated"]
    assert f"rnn_linear  {row['generated']}" in plain.output


FUSED = '''import numpy as np


def forward(x, W, keep=False):
    H = W.shape[1] // 2
    a = x @ W
    first = np.tanh(a[:, :H])
    second = np.tanh(a[:, H:])
    out = first if keep else first * second
    return out, (x, W, first, second, keep)


def backward(dout, cache):
    x, W, first, second, keep = cache
    dfirst = dout if keep else dout * second
    dsecond = 0 * dout if keep else dout * first
    da = np.concatenate([dfirst * (1 - first ** 2), dsecond * (1 - second ** 2)], axis=1)
    return x.T @ da, da @ W.T
'''


def test_a_slip_made_alike_in_a_forward_and_its_backward_is_one_mutant():
    """The gate blocks of a fused matrix exchanged in the forward's slices and in the
    backward's concatenation together, and an option ignored in both, are mutants of both
    functions (a student who learned another gate order writes both functions that way)."""
    import ast

    mutants = generate(FUSED, ("forward", "backward"), Shapes({}))
    pairs = {m.what: m for m in mutants if m.operator == "pair"}
    blocks = pairs["blocks 0 and 1 of 2 exchanged, in forward and backward alike"]
    assert blocks.functions == ("backward", "forward")
    namespace = {"np": __import__("numpy")}
    exec(blocks.code(), namespace)
    source = blocks.source()
    assert "np.tanh(a[:, H:])" in source.split("def backward")[0].split("first =")[1]
    assert "[dsecond * (1 - second ** 2), dfirst * (1 - first ** 2)]" in source
    assert callable(namespace["forward"]) and callable(namespace["backward"])
    assert "keep taken as false, in forward and backward alike" in pairs
    # made and undone in place: the reference's tree reads as before
    assert all(ast.parse(m.source()) for m in mutants)
    assert generate(FUSED, ("forward", "backward"), Shapes({}))[0].source() == mutants[0].source()


def test_the_docs_show_the_table_as_measured(measured):
    """docs/detection.md quotes `grader mutants --generated`: its rows are today's figures."""
    import re

    text = (COURSE / "docs" / "detection.md").read_text()
    text = text[text.index("as `grader mutants --generated` printed it"):]
    text = text[:text.index("\n\n", text.index("| assignment"))]
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in ASSIGNMENTS and cells[1].isdigit():
            rows[cells[0]] = cells
    assert set(rows) == set(ASSIGNMENTS), "docs/detection.md lacks the generated table"
    for name, s in measured.items():
        generated, equivalent, public, killed, named, hand = rows[name][1:]
        assert (int(generated), int(equivalent)) == (s.runs, s.equivalent), name
        assert re.match(rf"{s.killed_public}/{s.effective} ", public), (name, public)
        assert re.match(rf"{s.killed}/{s.effective} ", killed), (name, killed)
        assert re.match(rf"{s.named}/{s.killed} ", named), (name, named)
        assert re.match(rf"{s.hand_reproduced}/{s.hand_total} ", hand), (name, hand)
