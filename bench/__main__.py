"""`make bench`: grading throughput with full isolation, side by side with executing the same
notebooks in a Jupyter kernel (what nbgrader and Otter do).

For each assignment: generate N submissions (correct, buggy and bounded-hostile, cycled from the
bundled samples), grade them with all cores as `grader grade` does, --repeat times (this
machine's speed varies by ±15% from one minute to the next), print the median submissions/s
with the range, the overhead per submission beyond the tests' own compute, that compute, and the
peak memory of the grader's processes; then execute a sample of the same notebooks with nbclient
and print the ratio. Then: the floor a fork per submission sets (a numpy-warm process forks a
child that exits at once, and reaps it), one submission alone through the CLI (the CI case),
and the grader's peak memory at 100 and 1,000 submissions. Last, `grader similarity` on a class
of 1,000 notebooks (bench/similarity.py).

With --isolation full,contained each assignment's batch is graded in both modes, the runs
alternating (full, contained, full, ...) so that both see the same minutes of a shared machine;
a line per mode (the kernel ratio on the first mode's).

Usage: python -m bench [--n 200] [--repeat 5] [--kernel-sample 8] [--assignments a,b]
                       [--skip-kernel] [--skip-memory] [--isolation full[,contained,...]]
                       [--similarity 1000]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import generate
from bench.similarity import similarity_line

COURSE = Path(__file__).resolve().parent.parent
ASSIGNMENTS = ["gates", "rnn_linear", "rnn_bptt", "lstm"]


def _grade_in_child(name, folder, out, jobs, isolation="full"):
    """Grade a folder in a fresh process as `grader grade` does (its workers start first, and
    warm up while the grader's modules load), timing the grading from the notebooks found to the
    last result written; return its JSON stats line (wall, compute, peak memory of the grader's
    processes)."""
    code = (
        "import json, resource, sys, time\n"
        "from pathlib import Path\n"
        "from grader.sandbox import launch\n"
        f"launch.start_early(['grade', {name!r}, {str(folder)!r}, '--jobs', '{jobs}',"
        f" '--isolation', {isolation!r}])\n"
        "from grader.results import parallel\n"
        "from grader.cli.batch import grade_all, prestart\n"
        "from grader.course.assignment import load\n"
        "from grader.intake.discovery import discover\n"
        f"started = prestart({jobs}, {isolation!r})\n"
        f"spec = load({name!r}, Path({str(COURSE)!r}))\n"
        f"entries = discover(Path({str(folder)!r}))\n"
        "began = time.perf_counter()\n"
        f"graded = grade_all(spec, entries, Path({str(out)!r}), {jobs}, {isolation!r},"
        " started=started)\n"
        "wall = time.perf_counter() - began\n"
        "compute = sum(g.compute_seconds for g in graded)\n"
        "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " parallel.peak_rss_kb()) / 1024\n"
        "iso = graded[0].isolation if graded else '?'\n"
        "print(json.dumps({'n': len(graded), 'wall': wall, 'compute': compute, 'peak_mb': peak,"
        " 'isolation': iso}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=COURSE, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _kernel_seconds(notebooks, name):
    """Median seconds to execute one notebook in a fresh kernel with nbclient, as a kernel-based
    grader does (its public checks replaced by in-kernel asserts on the same public cases)."""
    from bench.kernel import execute

    import nbformat

    times = []
    for path in notebooks:
        try:
            nbformat.read(path, as_version=4)
        except Exception:  # a deliberately broken sample: a kernel cannot run it either
            continue
        began = time.perf_counter()
        execute(path, COURSE / "assignments" / name / "public_cases.bin")
        times.append(time.perf_counter() - began)
    return statistics.median(times)


FORK_FLOOR = (
    "import os, sys, time\n"
    "import grader.sandbox.worker  # what a warm worker imports, numpy included\n"
    "os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # the child exits on it too\n"
    "n = int(sys.argv[1])\n"
    "began = time.perf_counter()\n"
    "for _ in range(n):\n"
    "    pid = os.fork()\n"
    "    if pid == 0:\n"
    "        os._exit(0)\n"
    "    os.waitpid(pid, 0)\n"
    "print((time.perf_counter() - began) / n)\n")


def _fork_floor(forks=400, repeats=5) -> float:
    """Median seconds for a process warm as a sandbox worker to fork a child that exits at
    once, and reap it, one after the other on one core (the child's exit is on it too): what
    one fork per submission costs before anything is read, run or judged, with nothing else
    running."""
    times = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-c", FORK_FLOOR, str(forks)], cwd=COURSE,
                              capture_output=True, text=True, check=True)
        times.append(float(done.stdout))
    return statistics.median(times)


def _one_alone(name, notebook, repeats=5):
    """Median wall time of `grader grade` on one notebook, start-up included."""
    times = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(repeats):
            began = time.perf_counter()
            subprocess.run([sys.executable, "-m", "grader", "grade", name, str(notebook),
                            "--out", out, "--no-gradebook", "--no-html"],
                           cwd=COURSE, check=True, capture_output=True)
            times.append(time.perf_counter() - began)
    return statistics.median(times)


def _line(name: str, runs: list, jobs: int) -> tuple:
    """(the line for a batch's runs in one mode, its median rate, the tests' compute in ms)."""
    rates = sorted(s["n"] / s["wall"] for s in runs)
    stats = sorted(runs, key=lambda s: s["n"] / s["wall"])[len(runs) // 2]
    rate = stats["n"] / stats["wall"]
    compute_ms = stats["compute"] / stats["n"] * 1000
    busy_ms = stats["wall"] * jobs / stats["n"] * 1000
    return (f"{name:<11} {rate:7.1f} submissions/s ({rates[0]:.0f}-{rates[-1]:.0f})  "
            f"overhead {busy_ms - compute_ms:5.1f} ms/submission  tests' compute "
            f"{compute_ms:5.1f} ms/submission  peak {stats['peak_mb']:.0f} MB  "
            f"isolation {stats['isolation']}"), rate, compute_ms


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="submissions per assignment")
    parser.add_argument("--kernel-sample", type=int, default=8,
                        help="notebooks executed in a Jupyter kernel per assignment")
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS))
    parser.add_argument("--skip-kernel", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=5,
                        help="gradings of each batch; the median is printed, with the range")
    parser.add_argument("--isolation", default="full",
                        help="the mode(s) to grade in, comma-separated (full, contained, "
                        "reduced): several are graded in alternating runs")
    parser.add_argument("--similarity", type=int, default=1000,
                        help="notebooks in the `grader similarity` class (0: skip)")
    args = parser.parse_args(argv)
    modes = args.isolation.split(",")
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
          f"{os.uname().machine}; n = {args.n} per assignment, jobs = {args.jobs}, "
          f"median of {args.repeat} runs")
    budgets = {}  # 10% of each assignment's compute, in ms: the lstm goal's overhead
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        tmp = Path(tmp)
        for name in args.assignments.split(","):
            folder = generate(name, args.n, tmp / name / "subs", COURSE)
            runs = {mode: [] for mode in modes}
            for r in range(args.repeat):  # the modes alternate: the same minutes for each
                for mode in modes:
                    runs[mode].append(_grade_in_child(name, folder, tmp / name / f"out{r}{mode}",
                                                      args.jobs, mode))
            for mode in modes:
                line, rate, compute_ms = _line(name, runs[mode], args.jobs)
                if not args.skip_kernel and mode == modes[0]:
                    sample = sorted(folder.glob("*.ipynb"))[:args.kernel_sample]
                    kernel = _kernel_seconds(sample, name)
                    line += f"  kernel {kernel * 1000:.0f} ms/notebook  ratio {rate * kernel:.0f}x"
                print(line, flush=True)
                if mode == modes[0]:
                    budgets[name] = compute_ms / 10
        floor = _fork_floor() * 1000
        print(f"floor: a numpy-warm process forks a child that exits at once and reaps it in "
              f"{floor:.2f} ms (on one core, median of 5x400); 10% of the tests' compute: "
              + ", ".join(f"{name} {ms:.2f} ms" for name, ms in budgets.items()), flush=True)
        first = sorted((COURSE / "assignments" / "rnn_linear" / "samples").glob("correct*.ipynb"))[0]
        print(f"one submission alone (grader grade one.ipynb): "
              f"{_one_alone('rnn_linear', first):.3f} s wall, median of 5", flush=True)
        if not args.skip_memory:
            peaks = {}
            for n in (100, 1000):
                folder = generate("rnn_linear", n, tmp / f"mem{n}" / "subs", COURSE)
                peaks[n] = _grade_in_child("rnn_linear", folder, tmp / f"mem{n}" / "out",
                                           args.jobs)["peak_mb"]
            growth = (peaks[1000] / peaks[100] - 1) * 100
            print(f"memory: peak {peaks[100]:.0f} MB at 100 submissions, {peaks[1000]:.0f} MB at "
                  f"1,000 ({growth:+.1f}%)")
        if args.similarity:
            print(similarity_line(args.similarity, tmp, COURSE), flush=True)


if __name__ == "__main__":
    main()
