"""The sandbox runs student code apart: results are plain data, and a hang, crash, exit or
misbehaving return value fails only the case it happened in."""
import os

import numpy as np
import pytest

from grader import i18n
from grader.course.cases import Call, Case, Ref
from grader.sandbox import Worker

SOURCE = '''
import numpy as np
import os, sys

def double(x):
    return x * 2, {"cache": x}

def use_cache(y, cache):
    return y + cache["cache"]

def spin(x):
    while True:
        pass

def divide(x):
    return x / 0 if isinstance(x, int) else 1 / 0

def hard_exit(x):
    os._exit(7)

def soft_exit(x):
    sys.exit(0)

def modify(x):
    x[...] = 0
    return float(x.sum())

def hog(x):
    return np.ones(2**32)

class Sneaky(float):
    def __eq__(self, other):
        return True

class ArrayLike:
    def __array__(self, *a, **k):
        return np.zeros(3)

def sneaky(x):
    return Sneaky(1.0)

def array_like(x):
    return ArrayLike()

def strings(x):
    return "0.5"

def forge(x):
    os.write(3, b"\\xff" * 64)
    return x

def shout(x):
    print('{"score": 100}' * 1000)
    sys.stderr.write("boom" * 1000)
    return x
'''

X = np.arange(6.0).reshape(2, 3)


@pytest.fixture(scope="module")
def worker():
    w = Worker({"cpu_seconds": 20})
    yield w
    w.close()


def one(function, timeout=5.0, **call):
    return Case(function, function, [Call(function, (X.copy(),), **call)], timeout=timeout)


def test_results_are_plain_arrays_and_caches_stay_in_the_child(worker):
    case = Case("chain", "double", [Call("double", (X,), returns=((0,),)),
                                    Call("use_cache", (Ref(0, (0,)), Ref(0, (1,))))])
    run = worker.run(SOURCE, [case])
    first, second = run.cases[0].calls
    assert first.ok and np.array_equal(first.parts[0], X * 2)
    assert type(second.parts[0]) is np.ndarray and np.array_equal(second.parts[0], X * 3)


def test_a_hang_fails_only_its_case(worker):
    run = worker.run(SOURCE, [one("double", returns=((0,),)), one("spin", timeout=0.5),
                              one("double", returns=((0,),))])
    assert run.cases[0].failure is None and run.cases[2].failure is None
    assert run.cases[1].failure == "timeout"
    assert "longer than 0.5 s" in run.cases[1].detail
    assert np.array_equal(run.cases[2].calls[0].parts[0], X * 2)


def test_exits_and_crashes_are_reported_and_the_rest_still_runs(worker):
    run = worker.run(SOURCE, [one("hard_exit"), one("soft_exit"), one("divide"),
                              one("double", returns=((0,),))])
    assert run.cases[0].failure == "eof" and "code 7" in run.cases[0].detail
    soft = run.cases[1].calls[0]
    assert not soft.ok and soft.error["type"] == "SystemExit"
    div = run.cases[2].calls[0]
    assert div.error["type"] == "ZeroDivisionError" and div.error["lines"]
    assert run.cases[3].calls[0].ok


def test_memory_limit(worker):
    run = worker.run(SOURCE, [one("hog")])
    outcome = run.cases[0]
    assert outcome.failure or outcome.calls[0].error["type"] == "MemoryError"


def test_the_child_says_which_inputs_were_changed_in_place(worker):
    run = worker.run(SOURCE, [one("modify", check_inputs=True), one("double", check_inputs=True),
                              one("modify")])
    assert run.cases[0].calls[0].inputs_changed == [True]
    assert run.cases[1].calls[0].inputs_changed == [False]
    assert run.cases[2].calls[0].inputs_changed is None  # not asked for


def test_a_later_call_changing_an_earlier_calls_input_counts():
    """Inputs are compared once the whole case has run: a cache handed on and changed later
    changes the caller's array too."""
    from grader.sandbox import harness

    namespace, _ = harness.define("def keep(x):\n    return x\n"
                                  "def clobber(c):\n    c[...] = 7.0\n    return 0.0\n")
    calls = [{"function": "keep", "args": [("v", X.copy())], "kwargs": {}, "returns": [[]],
              "check_inputs": True},
             {"function": "clobber", "args": [("r", 0, [])], "kwargs": {}, "returns": [[]],
              "check_inputs": False}]
    replies, _ = harness.run_case(namespace, calls)
    assert replies[0]["inputs_changed"] == [True]


@pytest.mark.parametrize("change, changed", [
    ("pass", False),
    ("x[0, 0] = x[0, 0]", False),                  # written, but the same value
    ("x[0, 0] += 1", True),
    ("x.shape = (x.size,)", True),                 # the same bytes, another shape
    ("x.dtype = np.int64", True),                  # the same bytes read as other values
    ("x[...] = np.nan", True),
])
def test_what_counts_as_a_changed_input(change, changed):
    from grader.sandbox import harness

    namespace, errors = harness.define(f"import numpy as np\ndef f(x):\n    {change}\n"
                                       "    return 0.0\n")
    assert errors == []
    call = {"function": "f", "args": [("v", X.copy())], "kwargs": {}, "returns": [[]],
            "check_inputs": True}
    assert harness.run_case(namespace, [call])[0][0]["inputs_changed"] == [changed]


@pytest.mark.parametrize("function, words", [("sneaky", None), ("array_like", "ArrayLike"),
                                             ("strings", "str")])
def test_return_values_are_only_numbers(worker, function, words):
    part = worker.run(SOURCE, [one(function)]).cases[0].calls[0].parts[0]
    if words is None:  # a float subclass arrives as a plain float64 array, its __eq__ gone
        assert type(part) is np.ndarray and part.dtype == np.float64 and part == 1.0
    else:
        assert isinstance(part, str) and words in part


def test_garbage_on_the_result_channel_fails_only_that_case(worker):
    run = worker.run(SOURCE, [one("forge"), one("double", returns=((0,),))])
    assert run.cases[0].failure is not None
    assert run.cases[1].calls[0].ok


def test_printing_does_not_reach_the_grader(worker):
    run = worker.run(SOURCE, [one("shout")])
    assert run.cases[0].calls[0].ok and np.array_equal(run.cases[0].calls[0].parts[0], X)


def test_top_level_errors_are_reported_and_other_definitions_survive(worker):
    run = worker.run("import not_a_module_xyz\n" + SOURCE, [one("double", returns=((0,),))])
    assert run.setup_errors[0]["type"] == "ModuleNotFoundError"
    assert run.cases[0].calls[0].ok


def test_missing_function(worker):
    call = worker.run(SOURCE, [one("nope")]).cases[0].calls[0]
    assert call.missing and not call.ok


LEAK = '''
import gc
import numpy as np

def arrays_in(o, depth=0):
    # (tuples of untracked items drop out of gc.get_objects() after a collection: look inside)
    if isinstance(o, np.ndarray):
        yield o
    elif depth < 4 and isinstance(o, (list, tuple, dict)):
        for v in (o.values() if isinstance(o, dict) else o):
            yield from arrays_in(v, depth + 1)


def output_gradient(y, t):
    # look through this process's memory for the inputs of the hidden 13 x 9 case
    found = sum(1 for o in gc.get_objects() if isinstance(o, (list, tuple, dict))
                for v in arrays_in(o) if v.shape == (13, 9))
    raise ValueError(f"hidden inputs found: {found}")
'''


def _public_feedback(spec):
    from grader.read.submission import extract_source
    from tests.grading import grade_submission, worker

    graded = grade_submission(spec, extract_source([LEAK], "leak"), worker())
    return " ".join(m for v in graded.verdicts if v.case.visibility == "public"
                    for m in v.messages)


def test_public_feedback_cannot_carry_hidden_inputs():
    import dataclasses

    from grader.course.assignment import Assignment
    from tests.grading import assignment

    spec = assignment("rnn_linear")
    # the attack works where the 13 x 9 inputs reach the child with the public cases...
    shown = Assignment(spec.name, spec.title, [dataclasses.replace(c, visibility="public")
                                              for c in spec.cases], spec.functions)
    assert "hidden inputs found:" in _public_feedback(shown)
    assert "hidden inputs found: 0" not in _public_feedback(shown)
    # ...and finds nothing when they are hidden: they arrive after the public results
    assert "hidden inputs found: 0" in _public_feedback(spec)


EARLY = '''
import os, struct
import numpy as np

def output_gradient(y, t):
    # ask for the hidden cases before the public results are in, to print them here
    os.write(3, struct.pack("<Q", 7) + b"?hidden")
    return 2 * (y - t)
'''


def test_asking_for_hidden_cases_early_breaks_the_protocol():
    from grader.read.submission import extract_source
    from reference import rnn_linear
    from tests.grading import assignment, grade_submission, reference_source, worker

    spec = assignment("rnn_linear")
    source = EARLY + reference_source(rnn_linear, "backward_gradient")
    graded = grade_submission(spec, extract_source([source], "early"), worker())
    assert graded.error is None
    asking = [v for v in graded.verdicts if v.case.function == "output_gradient"]
    assert all(v.score == 0 for v in asking)
    public = [v for v in asking if v.case.visibility == "public"]
    assert "broke the result channel's protocol" in " ".join(public[0].messages)
    # the run goes on in fresh children: backward_gradient's value tests still pass
    values = [v for v in graded.verdicts
              if v.case.function == "backward_gradient" and "gradient check" not in v.case.name]
    assert values and all(v.passed for v in values)


def test_children_run_as_batch_processes_on_their_workers_core():
    """A worker kept to a core keeps its children there, scheduled as CPU-bound batch work."""
    source = ("import os\nimport numpy as np\ndef where(x):\n"
              "    return np.array([os.sched_getscheduler(0), *os.sched_getaffinity(0)])\n")
    worker = Worker(cpu=0)
    try:
        part = worker.run(source, [one("where")]).cases[0].calls[0].parts[0]
    finally:
        worker.close()
    assert list(part) == [os.SCHED_BATCH, 0]


def test_the_warm_worker_imports_nothing_that_runs_in_every_forked_child():
    """threading, random (and tempfile, subprocess, which import them) register after-fork
    hooks: imported by the worker, they would run in every child it forks."""
    import subprocess
    import sys

    code = ("import sys; import grader.sandbox.worker; "
            "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                                text=True).stdout.split())
    assert "grader.sandbox.harness" in loaded  # the control: the worker's own imports are seen
    assert loaded.isdisjoint({"threading", "random", "tempfile", "subprocess"})


def test_the_worker_is_never_sent_hidden_inputs(monkeypatch):
    """Hidden cases go from the grading process straight to the child that asks for them:
    nothing written to the worker holds their inputs (the control: public inputs are there,
    sent once with the call plans)."""
    import numpy as np

    from grader import wire
    from grader.sandbox import runner
    from reference import rnn_linear
    from tests.grading import assignment, grade_source, reference_source

    spec = assignment("rnn_linear")
    sandbox = Worker()
    sent, write = [], wire.write_frame
    monkeypatch.setattr(runner.wire, "write_frame", lambda fd, data: (
        sent.append(bytes(data)) if fd == sandbox.job_write else None, write(fd, data))[1])
    try:
        graded = grade_source("rnn_linear", "import numpy as np\n" + reference_source(
            rnn_linear, "update_state", "forward_states", "loss", "output_gradient",
            "backward_gradient"),
            worker_=sandbox)
    finally:
        sandbox.close()
    assert graded.score == spec.max_score  # the hidden cases ran

    def inputs(case):
        return [a for call in case.calls for a in call.args if isinstance(a, np.ndarray)
                and a.size > 1]

    to_worker = b"".join(sent)
    public = [a for c in spec.cases if c.visibility == "public" for a in inputs(c)]
    hidden = [a for c in spec.cases if c.visibility == "hidden" for a in inputs(c)]
    assert public and hidden
    assert all(np.ascontiguousarray(a).tobytes() in to_worker for a in public)
    assert not any(np.ascontiguousarray(a).tobytes() in to_worker for a in hidden)


@pytest.mark.parametrize("body", [
    "return np.concatenate([x, np.ones((3, 3))], axis=1)",        # raised inside numpy
    "return helper(x)\ndef helper(y):\n    return y @ np.ones((5, 5))",  # through a helper
    ("return down(12)\ndef down(n):\n    if n == 0:\n        raise ValueError(n)\n"
     "    return down(n - 1)"),                                      # more than eight frames
    "return (\n        x\n        + undefined_name\n    )",       # a multi-line expression
])
def test_error_lines_are_the_students_frames_as_the_traceback_module_lists_them(body):
    """The child names the student's lines of an exception without reading any source file:
    the same lines, in the same order, as traceback.extract_tb finds (the last eight)."""
    import traceback

    import numpy as np

    from grader.sandbox import harness

    namespace, errors = harness.define(f"import numpy as np\ndef f(x):\n    {body}\n")
    assert errors == []
    try:
        namespace["f"](np.ones((2, 2)))
    except BaseException as exc:  # noqa: BLE001
        caught = exc
    expected = [[frame.lineno, frame.name] for frame in traceback.extract_tb(
        caught.__traceback__) if frame.filename == harness.SOURCE_NAME][-8:]
    assert expected and harness._error(caught)["lines"] == expected


FORGE_PARTS = '''
import os, struct
import numpy as np
from grader import wire

def forge_parts(x):
    """Send a well-formed report for case 0 whose one returned part is PART, and leave."""
    body = {"kind": "case", "index": 0, "calls": [{"ok": True, "parts": [PART], "fp": 0}],
            "seconds": 0.0}
    payload = wire.encode_tree(body, [np.full(3, 7.0)])
    os.write(3, struct.pack("<Q", len(payload)) + payload)
    os._exit(0)
'''


@pytest.mark.parametrize("part", ["1", "-1", "True", "0.0", "None", "[0]",
                                  '{"value": {"$a": 0}}', '"a str, not ..."', '["type"]',
                                  '["type", 3]', '["type", "x" * 81]', '["size", -1, 2]',
                                  '["size", True, 2]', '["nonsense", "x"]',
                                  '["structure", ["seq", "tuple", 2, [], "yes"]]',
                                  '["structure", ["seq", "t", 9, [["type", "x"]] * 7, True]]',
                                  '["structure", ["array", [2, 3.5]]]'])
def test_a_returned_part_must_name_one_of_the_frames_arrays_or_say_why_not(worker, part):
    """A child's case report names each returned array by its position in the frame, or says
    why a part is not one as a code and its values: any other position, a bool, a number of
    another kind, a text, an unknown code or values out of shape fail that case."""
    outcome = worker.run(FORGE_PARTS.replace("PART", part), [one("forge_parts")]).cases[0]
    assert outcome.failure == "protocol" and "malformed returned part" in outcome.detail


@pytest.mark.parametrize("part, english, korean", [
    ("0", [7.0, 7.0, 7.0], None),
    ('["type", "str"]', "a str, not a number or numpy array", "숫자나 numpy 배열이 아닌 str"),
    ('["dtype", "object"]', "an array of dtype object, not a real number type",
     "실수 자료형이 아닌 dtype object의 배열"),
    ('["size", 9, 4]', "an array of 9 numbers (at most 4 may come back)",
     "숫자 9개짜리 배열(돌려받을 수 있는 것은 최대 4개)"),
    ('["structure", ["seq", "tuple", 2, [["array", [3, 4]], ["type", "NoneType"]], False]]',
     "tuple of 2 (array(3, 4), NoneType)", "원소 2개짜리 tuple (array(3, 4), NoneType)")])
def test_a_returned_part_names_an_array_or_why_it_is_not_one(worker, part, english, korean):
    """Why a part is not an array is the child's code and values, put into words by the
    parent in the language of the run (never the child's text)."""
    for lang, expected in (("en", english), ("ko", korean)):
        with i18n.using(lang):
            outcome = worker.run(FORGE_PARTS.replace("PART", part),
                                 [one("forge_parts")]).cases[0]
        assert outcome.failure is None and outcome.calls[0].ok
        got = outcome.calls[0].parts[0]
        if korean is None:  # an array, in any language
            assert got.tolist() == english
        else:
            assert got == expected


FORGE_UNREACHABLE = '''
import os, struct
import numpy as np
from grader import wire

def forge_unreachable(x):
    """Report case 0's second call as not made for want of argument WHICH, and leave."""
    body = {"kind": "case", "index": 0, "seconds": 0.0, "calls": [
        {"ok": True, "parts": [0], "fp": 0},
        {"ok": False, "unreachable": {"argument": WHICH, "got": ["type", "float"], "why": ""}}]}
    os.write(3, struct.pack("<Q", len(payload := wire.encode_tree(body, [np.zeros(1)])))
             + payload)
    os._exit(0)
'''


def test_an_argument_not_in_an_earlier_result_is_said_by_the_parent(worker):
    """The child says which argument it could not take and what the earlier result is; the
    parent names the call and the item from its own plan, in the run's language. An argument
    that is not one of the call's references is out of protocol."""
    source = "def forward(x):\n    return 2.5\ndef backward(cache):\n    return cache\n"
    case = Case("chain", "backward", [Call("forward", (X,)), Call("backward", (Ref(0, (1,)),))])
    for lang, words in (("en", "it was not called: one of its arguments is item [1] of what "
                               "`forward` returned, and that is float ("),
                        ("ko", "호출되지 않았습니다. 인자 하나가 `forward` 함수가 반환한 값의 "
                               "항목 [1]인데, 반환한 값은 float입니다 (")):
        with i18n.using(lang):
            second = worker.run(source, [case]).cases[0].calls[1]
        assert not second.ok and second.error["message"].startswith(words), second.error
    forged = Case("chain", "forge_unreachable", [
        Call("forge_unreachable", (X,)), Call("forge_unreachable", (X, Ref(0, ())))])
    said = worker.run(FORGE_UNREACHABLE.replace("WHICH", "1"), [forged]).cases[0]
    assert said.failure is None and "`forge_unreachable` returned" in said.calls[1].error["message"]
    for which in ("0", "2", "'x'", "None"):  # a value, no argument, no keyword, no position
        outcome = worker.run(FORGE_UNREACHABLE.replace("WHICH", which), [forged]).cases[0]
        assert outcome.failure == "protocol", (which, outcome)
