"""Each way a submission's process (or the worker above it) can die is told to the student as
what their code did, in words that neither blame the grader nor hide that it was the code:
killing the worker, a signal to itself, an exit, the memory watch, the process limit."""
import numpy as np
import pytest

from grader.sandbox import Worker, launch
from reference import rnn_linear as ref
from tests.grading import grade_source, reference_source

BACKWARD = reference_source(ref, "backward_gradient")
GRADER_WORDS = ("sandbox worker failed", "stopped answering", "(eof)")


@pytest.fixture
def worker():
    """A worker of this test's own: some submissions below kill theirs."""
    w = Worker({"memory_mb": 600})
    yield w
    w.close()


def graded(worker, body):
    """rnn_linear graded with `body` as output_gradient's and the reference backward."""
    source = "import os, signal, time\nimport numpy as np\n\ndef output_gradient(y, t):\n" \
        + "".join(f"    {line}\n" for line in body.strip().splitlines())
    return grade_source("rnn_linear", source, BACKWARD, worker_=worker)


def words(result):
    return " ".join([result.error or ""] + [m for v in result.verdicts for m in v.messages])


def test_killing_the_worker_is_told_as_what_the_code_did(worker):
    result = graded(worker, "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(5)")
    assert result.score == 0
    assert result.error.startswith("your code stopped the process that runs it")
    assert "os.kill(os.getppid()" in result.error
    assert not any(w in words(result) for w in GRADER_WORDS)
    # the next submission gets a fresh worker and is graded as usual
    fine = graded(worker, "return 2 * (y - t)")
    assert fine.error is None
    assert all(v.passed for v in fine.verdicts if v.case.function == "output_gradient")


def test_a_signal_to_itself(worker):
    result = graded(worker, "os.kill(os.getpid(), signal.SIGTERM)")
    said = words(result)
    assert "was killed by signal SIGTERM" in said and "did your code signal itself" in said
    assert result.error is None and not any(w in said for w in GRADER_WORDS)


def test_an_exit(worker):
    said = words(graded(worker, "os._exit(3)"))
    assert "ended the process that runs it: it exited with code 3" in said


def test_the_memory_watch(worker):
    """Two processes of 400 MiB each: each under its own address-space limit, together over
    the 600 MiB the submission may use."""
    result = graded(worker, """
if os.fork() == 0:
    block = np.ones(50 * 2**20)
    time.sleep(5)
    os._exit(0)
block = np.ones(50 * 2**20)
time.sleep(5)
return 2 * (y - t)""")
    assert "used more than 600 MiB of memory (all its processes together)" in words(result)


@pytest.mark.skipif(launch.initial_mode("auto")[0] == "reduced",
                    reason="the process limit binds only in a sandbox (RLIMIT_NPROC ignores root)")
def test_the_process_limit(worker):
    result = graded(worker, """
for _ in range(500):
    if os.fork() == 0:
        time.sleep(3)
        os._exit(0)
return 2 * (y - t)""")
    said = words(result)
    assert "BlockingIOError" in said and "the process limit" in said
    assert result.error is None  # the test failed; the submission was graded
