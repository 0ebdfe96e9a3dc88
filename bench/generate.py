"""Benchmark submissions: the bundled samples cycled (correct and buggy), and a bounded-hostile
share (exits, crashes, floods of output, memory grabs, junk return values) built by replacing one
graded function of a correct sample. Nothing loops forever: timeouts would measure the clock."""
import itertools
from pathlib import Path

import nbformat

HOSTILE = {
    "flood": "def {f}(*args, **kwargs):\n    print('x' * 10**6)\n    raise RuntimeError('boom')\n",
    "exit": "import sys\ndef {f}(*args, **kwargs):\n    sys.exit(3)\n",
    "os_exit": "import os\ndef {f}(*args, **kwargs):\n    os._exit(3)\n",
    "memory": "import numpy as np\ndef {f}(*args, **kwargs):\n    return np.ones(2**31)\n",
    "junk": "def {f}(*args, **kwargs):\n    return object()\n",
}
#: one submission in this many is hostile
HOSTILE_EVERY = 10


def _todo_cells(nb):
    return [(c, [t for t in c.metadata.get("tags", []) if t != "todo"][0])
            for c in nb.cells if "todo" in c.get("metadata", {}).get("tags", [])]


def generate(name: str, n: int, folder: Path, course: Path) -> Path:
    """Write n notebooks into folder and return it."""
    samples = sorted(p for p in (course / "assignments" / name / "samples").glob("*.ipynb"))
    readable = []
    for path in samples:
        try:
            readable.append((path, nbformat.read(path, as_version=4)))
        except Exception:  # a deliberately broken sample: copy its bytes as they are
            readable.append((path, None))
    correct = next(nb for path, nb in readable if nb is not None and "correct" in path.stem)
    folder.mkdir(parents=True, exist_ok=True)
    hostile = itertools.cycle(sorted(HOSTILE))
    plain = itertools.cycle(readable)
    for i in range(n):
        target = folder / f"s{i:05d}.ipynb"
        if i % HOSTILE_EVERY == HOSTILE_EVERY - 1:
            nb = nbformat.from_dict(correct)
            cell, function = _todo_cells(nb)[0]
            cell.source = HOSTILE[next(hostile)].format(f=function)
            nbformat.write(nb, target)
            continue
        path, nb = next(plain)
        if nb is None:
            target.write_bytes(path.read_bytes())
        else:
            nbformat.write(nb, target)
    return folder
