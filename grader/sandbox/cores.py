"""Which cores a batch's processes keep to, and how they are scheduled.

Apart from `launch` because the sandbox worker needs `settle` and nothing else of it: every
module a warm worker imports is paid again by each child it forks (threading's and random's
after-fork hooks alone cost a child ~0.6 ms), so the worker imports only what its children use.
"""
import os


def usable_cores() -> int:
    """How many cores this process may run on (its CPU set, not the machine's count)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def cores_for(count: int) -> list:
    """The core of each of `count` workers. When they take every core this process may use,
    worker i keeps to core i (with its children and the grading process that feeds it: no
    migrations, warm caches); fewer workers than cores go wherever the scheduler puts them (two
    runs side by side would otherwise crowd the same cores)."""
    usable = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
    if count > 1 and usable and count >= len(usable):
        return [usable[i % len(usable)] for i in range(count)]
    return [None] * count


def settle(cpu: int | None) -> None:
    """Make this process one of a batch's: kept to core `cpu` (None: any), and scheduled as
    CPU-bound (SCHED_BATCH: a process it wakes, say a worker a child's result frame arrives
    for, waits for the end of its time slice instead of preempting it; gates: 3.5x fewer
    context switches, ~10% more submissions/s). The children it forks inherit both."""
    try:
        if cpu is not None:
            os.sched_setaffinity(0, {cpu})
        os.sched_setscheduler(0, os.SCHED_BATCH, os.sched_param(0))
    except (AttributeError, OSError, ValueError):
        pass  # not Linux, or a core we may not use: run as we are
