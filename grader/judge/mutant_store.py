"""The generated mutants' values on each case, kept on disk between grading runs.

Working them out takes a grading process about half a second per case of a long assignment
(a thousand mutants of lstm_backward, each run on the case); a batch's processes would each
pay it again. The values depend only on the reference, the cases and the mutation engine, so
they are stored under a key made of those files' contents, in the user's cache folder
($GRADER_CACHE, else $XDG_CACHE_HOME/grader, else ~/.cache/grader): the first batch after a
change works them out, later ones read them. Arrays are read without pickle. The values only
ever choose the words of a diagnosis, never a score.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

ENVIRONMENT = "GRADER_CACHE"
_ENGINE = [Path(__file__).with_name(n) for n in ("operators.py", "mutants.py", "mutant_store.py",
                                                  "fingerprints.py")]


def cache_folder() -> Path:
    chosen = os.environ.get(ENVIRONMENT)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "grader"


class MutantStore:
    """Mutant values of one assignment, by case and call."""

    def __init__(self, folder: Path):
        self.folder = folder

    @classmethod
    def of(cls, course: Path, name: str) -> "MutantStore":
        digest = hashlib.sha256(np.__version__.encode())
        sources = [course / "reference" / f"{name}.py", course / "assignments" / name / "spec.toml",
                   course / "assignments" / name / "cases.py", *_ENGINE]
        for path in sources:
            digest.update(path.name.encode())
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"-")
        return cls(cache_folder() / "mutants" / f"{name}-{digest.hexdigest()[:24]}")

    def _path(self, case, call: int) -> Path:
        safe = hashlib.sha256(case.name.encode()).hexdigest()[:16]
        return self.folder / f"{safe}-{call}.npz"

    def load(self, case, call: int, count: int) -> list | None:
        """The values stored for this case's call, or None (not stored, or unreadable)."""
        path = self._path(case, call)
        try:
            with np.load(path, allow_pickle=False) as data:
                layout = json.loads(bytes(data["layout"]).decode())
                if len(layout) != count:
                    return None
                return [None if parts is None else
                        [data[f"{i}_{j}"] if kind == "a" else kind[2:] for j, kind in enumerate(parts)]
                        for i, parts in enumerate(layout)]
        except (OSError, KeyError, ValueError, json.JSONDecodeError):
            return None

    def save(self, case, call: int, values: list) -> None:
        """Store the values (written to a new file, then renamed: readers never see half)."""
        arrays, layout = {}, []
        for i, parts in enumerate(values):
            if parts is None:
                layout.append(None)
                continue
            kinds = []
            for j, part in enumerate(parts):
                if isinstance(part, str):
                    kinds.append("s:" + part)
                else:
                    arrays[f"{i}_{j}"] = np.asarray(part)
                    kinds.append("a")
            layout.append(kinds)
        arrays["layout"] = np.frombuffer(json.dumps(layout).encode(), dtype=np.uint8)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, suffix=".tmp", delete=False) as f:
                np.savez(f, **arrays)
            os.replace(f.name, self._path(case, call))
        except OSError:
            pass  # a read-only home: the values are worked out again next time
