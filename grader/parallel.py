"""Grading a batch on every core: one grading process per sandbox worker.

Reading a notebook, extracting its code and judging its outputs are Python work of the trusted
side; in threads of one process they take turns on one interpreter lock, which caps a batch
at what one core can judge however many cores the machine has. So a batch forks one grading
process per worker once the assignment is loaded (the processes share it, copy-on-write).
Each keeps to its worker's core, takes the next submission from a shared counter, grades it
with its own worker, writes its results, and sends the outcome back over its own pipe.

These processes are the grader's own code on the trusted side, like the process that forked
them: student code still runs only in the sandboxed children of the workers. The main process
gets the outcomes in submission order; a grading process that dies costs only the submission
it held, which gets an error naming the cause, and the others go on with the rest.
"""
import multiprocessing
import resource
import signal
import time
import traceback
from multiprocessing.connection import wait

from grader.sandbox import launch

#: the index a grading process sends with its peak memory, last
PEAK = -1
_peaks = [0]


def peak_rss_kb() -> int:
    """The largest peak resident memory (KiB) of the grading processes that have finished."""
    return _peaks[0]


def in_order(task, count: int, workers: list, pack=None, unpack=None, on_failure=None):
    """An iterator of task(i, worker) for i in range(count), in order.

    With several workers (and fork), each runs in a grading process of its own; `pack` turns
    a result into what is sent back (picklable, small) and `unpack` turns that into the result
    again; `on_failure(i, reason)` makes the result of a submission whose grading failed.
    """
    if len(workers) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return (task(index, workers[0]) for index in range(count))
    return _forked(task, count, workers, pack or (lambda r: r), unpack or (lambda r: r),
                   on_failure)


def _forked(task, count, workers, pack, unpack, on_failure):
    """Fork the grading processes now; return the iterator of their results."""
    context = multiprocessing.get_context("fork")
    claimed = context.Value("q", 0)               # the next submission to take
    holding = context.Array("q", [-1] * len(workers))  # what each process is grading
    processes, pipes = [], {}
    for slot, worker in enumerate(workers):
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_serve, daemon=True, name=f"grader-{slot}",
                                  args=(task, count, workers, slot, claimed, holding, send, pack))
        process.start()
        send.close()
        processes.append(process)
        pipes[receive] = slot
    return _gathered(count, processes, pipes, holding, unpack, on_failure)


def _gathered(count, processes, pipes, holding, unpack, on_failure):
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
                if message is None:  # the process ended: was it holding one?
                    slot = pipes.pop(receive)
                    processes[slot].join()
                    index = holding[slot]
                    if 0 <= index < count and index not in done:
                        code = processes[slot].exitcode
                        ready[index] = on_failure(index, f"its grading process died ({_ended(code)})")
                        done.add(index)
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


def _serve(task, count, workers, slot, claimed, holding, send, pack):
    """A grading process: take submissions from the shared counter until none is left."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides when we stop
    worker = workers[slot]
    for other in workers:  # only our worker's pipes stay open here
        if other is not worker:
            other.forget()
    launch.settle(worker.cpu)
    inherited = worker.process
    try:
        while True:
            with claimed.get_lock():
                index = claimed.value
                claimed.value += 1
            if index >= count:
                send.send((PEAK, True, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
                return
            holding[slot] = index
            try:
                message = (index, True, pack(task(index, worker)))
            except Exception as exc:  # a bug of ours: this submission fails, the batch goes on
                detail = traceback.format_exception_only(exc)[-1].strip()
                message = (index, False, f"the grader failed on it ({detail[:300]})")
            send.send(message)
            holding[slot] = -1
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
