"""Grading a batch on every core: one grading process per sandbox worker.

Reading a notebook, extracting its code and judging its outputs are Python work of the trusted
side; in threads of one process they take turns on one interpreter lock, which caps a batch
at what one core can judge however many cores the machine has. So a batch forks one grading
process per worker once the assignment is loaded (the processes share it, copy-on-write).
Each keeps to its worker's core, takes a few submissions at a time from a shared table, grades
them with its own worker, writes their results, and sends the outcomes back over its own pipe.

A grading takes three steps (`Stages`): prepare (read and extract), run (the sandbox) and finish
(judge and write). A process takes up to CHUNK submissions and does each step for all of them
in a row: its own code and data, and its worker's, stay warm from one submission to the next
(rnn_linear: ~12% less CPU in all than one submission at a time).

These processes are the grader's own code on the trusted side, like the process that forked
them: student code still runs only in the sandboxed children of the workers. The main process
gets the outcomes in submission order; a grading process that dies costs only the submission
it was at, which gets an error naming the cause; the others it held go back to the table for
the processes left, and the batch goes on with the rest.
"""
import multiprocessing
import resource
import signal
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import wait

from grader.sandbox import launch

#: the index a grading process sends with its peak memory, last
PEAK = -1
#: the most submissions a grading process takes at a time
CHUNK = 8
#: once the submissions a grading process has run but not yet judged hold this much output
#: (bytes), they are judged before it runs more: it holds at most this plus what one may
#: return (the sandbox's total_output_mb, 32 MiB by default), however many it takes at a time
HELD_BYTES = 8 * 2**20
_peaks = [0]
FREE, TAKEN = 0, 1


@dataclass
class Stages:
    """One submission's grading, in the steps a process takes several submissions through
    together: prepare(index), run(index, prepared, worker), finish(index, ran, worker) (the
    same worker, should judging want the submission run once more); size(ran) is how many
    bytes of output `ran` holds."""
    run: Callable
    prepare: Callable = lambda index: None
    finish: Callable = lambda index, ran, worker=None: ran
    size: Callable = lambda ran: 0


def peak_rss_kb() -> int:
    """The largest peak resident memory (KiB) of the grading processes that have finished."""
    return _peaks[0]


def in_order(task, count: int, workers: list, pack=None, unpack=None, on_failure=None):
    """An iterator of the results of `task` for i in range(count), in order: task is Stages,
    or a function task(i, worker).

    With several workers (and fork), each runs in a grading process of its own; `pack` turns
    a result into what is sent back (picklable, small) and `unpack` turns that into the result
    again; `on_failure(i, reason)` makes the result of a submission whose grading failed.
    """
    stages = task if isinstance(task, Stages) else Stages(run=lambda i, _, w: task(i, w))
    if len(workers) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return _here(stages, count, workers[0])
    return _forked(stages, count, workers, pack or (lambda r: r), unpack or (lambda r: r),
                   on_failure)


def _here(stages: Stages, count: int, worker):
    """One worker: every step in this process, a chunk at a time."""
    steps, finished = {}, []

    def step(i, action):
        steps[i] = action(i, steps.get(i))
        return steps[i]

    def finish(pending):
        finished.extend(stages.finish(i, steps.pop(i), worker) for i in pending)

    for start in range(0, count, CHUNK):
        _through(stages, range(start, min(count, start + CHUNK)), worker, step, finish)
        yield from finished
        finished.clear()


#: what a step of a grading process gives when it failed (or an earlier step did)
_FAILED = object()


def _through(stages: Stages, chunk, worker, step, finish) -> None:
    """Take a chunk of submissions through the steps, each step for all of them in a row:
    `step(i, action)` does one step of one submission, keeps what it gives and returns it
    (or _FAILED); `finish(pending)` judges those run so far, in order: once they hold more
    than HELD_BYTES of output, and at the end."""
    for i in chunk:
        step(i, lambda i, _: stages.prepare(i))
    pending, held = [], 0
    for i in chunk:
        ran = step(i, lambda i, prepared: stages.run(i, prepared, worker))
        pending.append(i)
        held += stages.size(ran) if ran is not _FAILED else 0
        if held > HELD_BYTES:
            finish(pending)
            pending, held = [], 0
    finish(pending)


@dataclass
class _Table:
    """What the grading processes share: each submission's state, where the free ones start,
    what each process holds and which one it is at."""
    lock: object
    state: object     # FREE or TAKEN, per submission (taken ones are done or being graded)
    cursor: object    # no free submission before this index
    held: object      # CHUNK entries per process: the submissions it has taken, or -1
    current: object   # per process: the submission it is at, or -1
    jobs: int

    def take(self, slot: int) -> list:
        """Up to CHUNK free submissions for process `slot` (fewer near the end, so that the
        processes finish together); [] when none is left and no other process holds any."""
        while True:
            with self.lock:
                count = len(self.state)
                want = max(1, min(CHUNK, (count - self.cursor.value) // (2 * self.jobs)))
                taken, index = [], self.cursor.value
                while index < count and len(taken) < want:
                    if self.state[index] == FREE:
                        self.state[index] = TAKEN
                        taken.append(index)
                    index += 1
                self.cursor.value = index
                if taken:
                    for k in range(CHUNK):
                        self.held[slot * CHUNK + k] = taken[k] if k < len(taken) else -1
                    return taken
                others = any(self.held[k] >= 0 for k in range(len(self.held))
                             if k // CHUNK != slot)
            if not others:
                return []
            time.sleep(0.01)  # another process may die holding some: wait until they are done

    def let_go(self, slot: int, index: int) -> None:
        """Process `slot` is done with `index`."""
        with self.lock:
            for k in range(slot * CHUNK, (slot + 1) * CHUNK):
                if self.held[k] == index:
                    self.held[k] = -1

    def give_back(self, slot: int, keep: set) -> None:
        """A dead process's submissions but `keep` go back to the table."""
        with self.lock:
            for k in range(slot * CHUNK, (slot + 1) * CHUNK):
                index, self.held[k] = self.held[k], -1
                if index >= 0 and index not in keep:
                    self.state[index] = FREE
                    self.cursor.value = min(self.cursor.value, index)
            self.current[slot] = -1


def _forked(stages, count, workers, pack, unpack, on_failure):
    """Fork the grading processes now; return the iterator of their results."""
    context = multiprocessing.get_context("fork")
    lock = context.Lock()
    table = _Table(lock, context.RawArray("b", count), context.RawValue("q", 0),
                   context.RawArray("q", [-1] * (CHUNK * len(workers))),
                   context.RawArray("q", [-1] * len(workers)), len(workers))
    processes, pipes = [], {}
    for slot, worker in enumerate(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_serve, daemon=True, name=f"grader-{slot}",
                                  args=(stages, workers, slot, table, send, pack))
        process.start()
        send.close()
        processes.append(process)
        pipes[receive] = slot
    return _gathered(count, processes, pipes, table, unpack, on_failure)


def _gathered(count, processes, pipes, table, unpack, on_failure):
    """The grading processes' results, in submission order."""
    done, ready, upcoming = set(), {}, 0
    try:
        while upcoming < count:
            if not pipes:  # every grading process is gone: nothing will grade the rest
                for index in range(upcoming, count):
                    if index not in done:
                        ready[index] = on_failure(index, "no grading process was left")
                        done.add(index)
            for receive in wait(list(pipes)) if pipes else []:
                message = _received(receive)  # (index, graded?, packed result or why it failed)
                if message is None:  # the process ended: was it at one?
                    slot = pipes.pop(receive)
                    processes[slot].join()
                    index = table.current[slot]
                    if 0 <= index < count and index not in done:
                        code = processes[slot].exitcode
                        ready[index] = on_failure(index, f"its grading process died ({_ended(code)})")
                        done.add(index)
                    table.give_back(slot, done)  # the rest it held: for the others
                    continue
                index, graded, packed = message
                ready[index] = unpack(packed) if graded else on_failure(index, packed)
                done.add(index)
            while upcoming in ready:
                yield ready.pop(upcoming)
                upcoming += 1
        _last_words(pipes)
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()
        for receive in pipes:
            receive.close()


def _received(receive):
    """The next (index, graded?, packed) from a grading process, or None once it has ended;
    the peak memory it sends last is noted on the way."""
    while True:
        try:
            index, graded, packed = receive.recv()
        except (EOFError, OSError):
            return None
        if index != PEAK:
            return index, graded, packed
        _peaks[0] = max(_peaks[0], packed)


def _last_words(pipes: dict, seconds: float = 5.0) -> None:
    """Read what the grading processes send after their last submission (their peak memory)
    until they close their pipes."""
    deadline = time.monotonic() + seconds
    while pipes and (left := deadline - time.monotonic()) > 0:
        for receive in wait(list(pipes), timeout=left):
            if _received(receive) is None:
                pipes.pop(receive)
                receive.close()


def _serve(stages, workers, slot, table, send, pack):
    """A grading process: take submissions from the table, a few at a time, until none is
    left; each step for all of them in a row (judged early once what they returned passes
    HELD_BYTES)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when we stop
    worker = workers[slot]
    for other in workers:  # only our worker's pipes stay open here
        if other is not worker:
            other.forget()
    launch.settle(worker.cpu)
    inherited = worker.process
    steps, failed = {}, {}  # index: the last step's outcome, or why its grading failed

    def step(i, action):
        if i in failed:
            return _FAILED
        table.current[slot] = i
        try:
            steps[i] = action(i, steps.get(i))
            return steps[i]
        except Exception as exc:  # a bug of ours: this submission fails, the batch goes on
            detail = traceback.format_exception_only(exc)[-1].strip()
            failed[i] = f"the grader failed on it ({detail[:300]})"
            return _FAILED

    def finish(pending):
        for i in pending:
            step(i, lambda i, ran: stages.finish(i, ran, worker))
            step(i, lambda _, graded: pack(graded))
        for i in pending:
            table.current[slot] = i
            outcome = steps.pop(i, None)
            send.send((i, False, failed.pop(i)) if i in failed else (i, True, outcome))
            table.let_go(slot, i)
        table.current[slot] = -1

    try:
        while True:
            chunk = table.take(slot)
            if not chunk:
                send.send((PEAK, True, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
                return
            _through(stages, chunk, worker, step, finish)
    finally:
        if worker.process is not inherited:  # a worker we restarted is ours to stop
            worker.close()
        send.close()


def _ended(code) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"
