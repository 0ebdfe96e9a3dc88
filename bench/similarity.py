"""`grader similarity` on a class of n notebooks (the goal: 1,000 in under a minute on 2 cores).

The class cycles the lstm corpus (tests/corpus: notebooks written as students write them) and
the bundled samples, each copy's notebook written anew: a class where every solution has dozens
of copies, the worst case for the pairs (every fingerprint of a copy is shared dozens of times).
The command runs in a child process, imports and all, as an instructor runs it."""
import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

ASSIGNMENT = "lstm"


def generate_class(n: int, folder: Path, course: Path) -> Path:
    sources = sorted((course / "tests" / "corpus" / ASSIGNMENT).glob("*.ipynb")) + sorted(
        (course / "assignments" / ASSIGNMENT / "samples").glob("*.ipynb"))
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in zip(range(n), itertools.cycle(sources)):
        try:
            nb = json.loads(path.read_text())
            nb.setdefault("metadata", {})["copy"] = i
            (folder / f"s{i:05d}.ipynb").write_text(json.dumps(nb))
        except json.JSONDecodeError:  # a deliberately broken sample: as it is
            (folder / f"s{i:05d}.ipynb").write_bytes(path.read_bytes())
    return folder


def similarity_line(n: int, tmp: Path, course: Path) -> str:
    folder = generate_class(n, tmp / "similarity" / "subs", course)
    began = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "grader", "similarity", ASSIGNMENT, str(folder),
                           "--out", str(tmp / "similarity" / "out"), "--course", str(course)],
                          capture_output=True, text=True, cwd=course)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        return f"similarity: failed ({done.returncode}): {done.stderr.strip()[-300:]}"
    rows = sum(1 for _ in (tmp / "similarity" / "out" / "similarity.csv").open()) - 1
    return (f"similarity: {n} {ASSIGNMENT} notebooks in {wall:.1f} s wall (goal: 1,000 in 60 s), "
            f"{rows} pairs listed")
