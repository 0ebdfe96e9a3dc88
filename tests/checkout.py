"""What the test suite may change in the checkout: nothing but caches. `state()` is the
checkout as `git status --ignored` sees it, with the size and time of every ignored file (a
gradebook or out/ folder that was already there must not change either)."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: what running Python and pytest may leave: the environment, bytecode, pytest's cache
CACHES = (".venv/", ".pytest_cache/", "__pycache__/")


def _cache(path: str) -> bool:
    return path.startswith(CACHES) or "/__pycache__/" in f"/{path}" \
        or path.rstrip("/").endswith(".egg-info")


def _stamps(path: Path, root: Path) -> list:
    """(path, size, mtime) of a file, or of every file under a folder."""
    files = [path] if not path.is_dir() else \
        [Path(folder, name) for folder, _, names in os.walk(path) for name in names]
    stamps = []
    for file in sorted(files):
        try:
            info = file.lstat()
        except FileNotFoundError:
            continue
        stamps.append((str(file.relative_to(root)), info.st_size, info.st_mtime_ns))
    return stamps


def git(*args, root: Path = ROOT) -> str:
    """git's output, run in `root` (whatever GIT_* variables the caller has set)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    return subprocess.run(["git", *args], cwd=root, env=clean, capture_output=True, text=True,
                          check=True).stdout


def state(root: Path = ROOT) -> dict:
    """{path: what is known of it} for every untracked, ignored or changed path of the checkout
    at `root` but caches: git's status letters, and for ignored paths the size and time of
    their files."""
    listing = git("status", "--porcelain", "--ignored=matching", "--untracked-files=all", "-z",
                  root=root)
    seen = {}
    for entry in filter(None, listing.split("\0")):
        status, path = entry[:2], entry[3:]
        if _cache(path):
            continue
        seen[path] = (status, tuple(_stamps(root / path, root)) if status == "!!" else ())
    return seen


def changes(before: dict, after: dict) -> list:
    """The paths whose status or (ignored) files differ: "path (XY)" with git's status letters
    for a path git shows now and did not before (!! ignored, ?? untracked, M modified...),
    "path (changed)" for one whose status or ignored files changed."""
    return [f"{path} ({after[path][0] if path not in before else 'changed'})"
            for path in sorted(after) if before.get(path) != after[path]]
