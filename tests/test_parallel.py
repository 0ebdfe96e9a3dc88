"""The grading processes of a batch (grader.results.parallel): outcomes in submission order, each
worker fed by one process on its core, and a failing or dying process costing only the
submission it held."""
import itertools
import os
import time

import pytest

from grader.results import parallel


class FakeWorker:
    """Stands in for a sandbox worker: parallel only needs its core and its pipes' upkeep."""

    def __init__(self, cpu=None):
        self.cpu, self.process, self.forgotten = cpu, object(), False

    def forget(self):
        self.forgotten = True

    def close(self):
        pass


def failed(index, reason):
    return ("failed", index, reason)


def run(task, count, workers=2):
    return list(parallel.in_order(task, count, [FakeWorker() for _ in range(workers)],
                                  on_failure=failed))


def test_outcomes_come_in_submission_order_from_several_processes():
    def task(i, worker):
        time.sleep(0.005)  # a submission takes a while: both processes get some
        return i, os.getpid()

    pids = run(task, 60)
    assert [i for i, _ in pids] == list(range(60))
    assert len({pid for _, pid in pids}) == 2 and os.getpid() not in {pid for _, pid in pids}


def test_one_worker_grades_in_this_process():
    assert run(lambda i, w: (i, os.getpid()), 5, workers=1) == [(i, os.getpid()) for i in range(5)]


def test_each_process_keeps_to_its_workers_core_runs_as_batch_and_lets_go_of_the_rest():
    workers = [FakeWorker(cpu=0), FakeWorker(cpu=0)]

    def task(i, worker):
        others = [w for w in workers if w is not worker]
        return (os.sched_getaffinity(0), os.sched_getscheduler(0), worker.forgotten,
                [w.forgotten for w in others])

    for cores, policy, mine, others in parallel.in_order(task, 8, workers, on_failure=failed):
        assert cores == {0} and policy == os.SCHED_BATCH and mine is False and others == [True]


def test_a_failing_submission_is_reported_and_the_batch_goes_on():
    def task(i, worker):
        if i == 3:
            raise KeyError("boom")
        return i

    outcomes = run(task, 10)
    assert outcomes[:3] == [0, 1, 2] and outcomes[4:] == list(range(4, 10))
    assert outcomes[3][:2] == ("failed", 3) and "KeyError: 'boom'" in outcomes[3][2]


def test_a_dying_process_costs_only_the_submission_it_held():
    def task(i, worker):
        if i == 5:
            os._exit(7)
        return i

    outcomes = run(task, 40)
    assert outcomes[5] == ("failed", 5, "its grading process died (exit code 7)")
    assert [o for k, o in enumerate(outcomes) if k != 5] == [k for k in range(40) if k != 5]


def test_when_every_process_dies_the_rest_is_reported_not_waited_for():
    def task(i, worker):
        os.kill(os.getpid(), 9)

    outcomes = run(task, 6)
    assert len(outcomes) == 6 and all(o[0] == "failed" for o in outcomes)
    assert sum("killed by signal SIGKILL" in o[2] for o in outcomes) == 2
    assert sum(o[2] == "no grading process was left" for o in outcomes) == 4


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_submissions_than_processes(count):
    assert run(lambda i, w: i, count) == list(range(count))


def test_a_graded_submission_crosses_processes_as_case_indices():
    """What a grading process sends back names the cases by index (both processes hold the
    assignment) and comes back whole: verdicts, evidence arrays, notes, timings."""
    import pickle

    import numpy as np

    from grader.results.grade import Graded
    from tests.grading import assignment, grade_source

    graded = grade_source("rnn_linear", "import numpy as np\ndef output_gradient(y, t):\n"
                                        "    return 3 * (y - t)\n")
    cases = assignment("rnn_linear").cases
    data = pickle.dumps(graded.packed(cases))
    assert len(data) < 64 * 2**10  # no copies of the cases' inputs and references
    back = Graded.unpacked(pickle.loads(data), cases)
    assert back.score == graded.score and back.notes == graded.notes
    assert [v.case for v in back.verdicts] == [v.case for v in graded.verdicts]
    assert all(a.case is b.case for a, b in zip(back.verdicts, graded.verdicts))
    assert [(v.fraction, v.messages, v.codes) for v in back.verdicts] == \
        [(v.fraction, v.messages, v.codes) for v in graded.verdicts]
    pairs = [(a, b) for x, y in zip(back.verdicts, graded.verdicts)
             for a, b in zip(x.evidence, y.evidence)]
    assert pairs and all(np.array_equal(a.difference, b.difference) for a, b in pairs)
    assert (back.seconds, back.compute_seconds, back.isolation) == \
        (graded.seconds, graded.compute_seconds, graded.isolation)


def test_grading_processes_use_the_workers_started_before_them():
    """A forked grading process cannot ask the kernel about a worker it did not start (it is
    not its child): it must not take the worker for dead and start (and warm up) another."""
    from grader.sandbox import Worker

    workers = [Worker(cpu=cpu) for cpu in (None, None)]
    for worker in workers:
        worker.start()
    started = {worker.ready().process.pid for worker in workers}
    source = "def double(x):\n    return 2 * x\n"

    def task(index, worker):
        time.sleep(0.01)
        worker.run(source, [])
        return worker.process.pid

    try:
        used = set(parallel.in_order(task, 8, workers, on_failure=failed))
    finally:
        for worker in workers:
            worker.close()
    assert used == started


def test_the_grading_processes_report_their_peak_memory(monkeypatch):
    def task(i, worker, ballast_mib=0):
        if i == 3 and ballast_mib:
            ballast = bytearray(ballast_mib * 2**20)  # touched: resident
            ballast[::4096] = b"x" * len(ballast[::4096])
        return i

    peaks = []
    for ballast_mib in (0, 64):
        monkeypatch.setattr(parallel, "_peaks", [0])
        assert run(lambda i, w: task(i, w, ballast_mib), 8) == list(range(8))
        peaks.append(parallel.peak_rss_kb())
    assert peaks[0] > 0 and peaks[1] - peaks[0] > 60 * 1024


def test_a_result_that_looks_like_a_failure_is_still_a_result():
    """Whatever a graded submission packs into (a submission named "failed", say), only an
    exception in the grading process makes a failure."""
    assert run(lambda i, w: ("failed", "not a reason"), 3) == [("failed", "not a reason")] * 3


def _stages_log():
    """Stages that note, with a counter of their own process, when each step ran."""
    step = itertools.count()
    return parallel.Stages(prepare=lambda i: next(step),
                           run=lambda i, p, w: (p, next(step), time.sleep(0.002))[:2],
                           finish=lambda i, ran, worker: (os.getpid(), *ran, next(step)))


def test_a_process_takes_several_submissions_through_each_step_together():
    outcomes = run(_stages_log(), 40)
    assert all(p < r < f for _, p, r, f in outcomes)
    # the next submission was read before this one ran: the steps go a chunk at a time
    ahead = [(a, b) for a, b in itertools.pairwise(outcomes) if a[0] == b[0] and b[1] < a[2]]
    assert ahead
    assert len({pid for pid, *_ in outcomes}) == 2


def test_a_failing_step_fails_only_its_submission():
    def prepare(i):
        if i == 2:
            raise KeyError("unreadable")
        return i

    def finish(i, ran, worker):
        if i == 7:
            raise ValueError("unjudgeable")
        return ran

    outcomes = run(parallel.Stages(prepare=prepare, run=lambda i, p, w: p, finish=finish), 12)
    assert "KeyError: 'unreadable'" in outcomes[2][2] and "ValueError: unjudgeable" in outcomes[7][2]
    assert [o for k, o in enumerate(outcomes) if k not in (2, 7)] == \
        [k for k in range(12) if k not in (2, 7)]


def test_one_worker_takes_the_steps_a_chunk_at_a_time_too():
    outcomes = run(_stages_log(), 12, workers=1)
    assert [p for _, p, _, _ in outcomes[:parallel.CHUNK]] == list(range(parallel.CHUNK))


@pytest.mark.parametrize("workers", [1, 2])
def test_much_output_is_judged_before_more_is_run(workers):
    """What a process has run but not judged stays under HELD_BYTES plus one submission's:
    past it, each is judged before the next runs."""
    stages = _stages_log()
    stages.size = lambda ran: parallel.HELD_BYTES + 1
    outcomes = run(stages, 20, workers=workers)
    same = [(a, b) for a, b in itertools.pairwise(outcomes) if a[0] == b[0]]
    assert same and all(a[3] < b[2] for a, b in same)  # a finished before b ran


def test_small_output_is_held_for_the_whole_chunk():
    stages = _stages_log()
    stages.size = lambda ran: 1
    outcomes = run(stages, 12, workers=1)
    assert all(outcomes[k][3] > outcomes[parallel.CHUNK - 1][2] for k in range(parallel.CHUNK))


def test_output_bytes_counts_the_returned_arrays():
    import numpy as np

    from grader.results.grade import output_bytes
    from grader.sandbox import CallOutcome, CaseOutcome, RunOutcome, SandboxError

    run = RunOutcome([], [CaseOutcome([CallOutcome(True, [np.zeros(10), "not an array"]),
                                       CallOutcome(False)]),
                          CaseOutcome(failure="timeout"),
                          CaseOutcome([CallOutcome(True, [np.zeros((3, 4), np.float32)])])])
    assert output_bytes((run, 0.1, "full")) == 80 + 48
    assert output_bytes((SandboxError("gone"), 0.1, "full")) == 0
