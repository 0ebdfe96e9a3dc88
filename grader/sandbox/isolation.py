"""OS isolation for the warm worker with bubblewrap: its own pid, network, IPC, UTS (and, when
not root, user) namespaces; a read-only view of only the Python runtime, its packages and the
grader package; a private size-limited /tmp; no course files (references, hidden cases, other
submissions, outputs) at all.

Where bubblewrap cannot create namespaces (a container, a CI runner, a laptop without it) the
worker runs "contained" (contain.py: a uid of its own when root, Landlock, seccomp), and where
neither holds, with process limits only ("reduced"); the caller says which.
"""
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import grader

FULL, CONTAINED, REDUCED = "full", "contained", "reduced"
#: the unprivileged user the worker becomes when the grader runs as root
NOBODY = 65534
SCRATCH_BYTES = 256 * 2**20


def _runtime_paths() -> list:
    """Folders the worker must read: the interpreter, its packages, the grader package."""
    paths = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent}
    package = Path(grader.__file__).resolve().parent
    if not any(package.is_relative_to(p) for p in paths):
        paths.add(package)
    for entry in sys.path:  # site-packages outside the prefix (e.g. --user installs)
        p = Path(entry or ".").resolve()
        if p.is_dir() and p.name in ("site-packages", "dist-packages") \
                and not any(p.is_relative_to(q) for q in paths):
            paths.add(p)
    usr = Path("/usr")
    return sorted(p for p in paths if not p.is_relative_to(usr)) + [usr]


def bwrap_command(argv: list) -> list:
    """The command that runs argv inside a bubblewrap sandbox."""
    command = [shutil.which("bwrap") or "bwrap",
               "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        command.append("--unshare-user")
    # the private /tmp first: runtime folders that live under /tmp (a checkout or venv there)
    # are then mounted on top of it instead of being hidden by it
    command += ["--perms", "1777", "--size", str(SCRATCH_BYTES), "--tmpfs", "/tmp"]
    paths = _runtime_paths()
    # bubblewrap makes the missing parents of a mount point (e.g. /root, /work) mode 0700 and
    # root's: a worker that dropped to NOBODY could then import nothing it had not imported
    # before. Create them world-searchable first (their contents stay invisible).
    parents = {a for p in paths for a in p.parents
               if a not in (Path("/"), Path("/tmp")) and not any(a.is_relative_to(q) for q in paths)}
    for parent in sorted(parents):
        command += ["--perms", "0755", "--dir", str(parent)]
    for path in paths:
        command += ["--ro-bind", str(path), str(path)]
    for link in ("lib", "lib64", "bin", "sbin"):
        if Path(f"/usr/{link}").is_dir():
            command += ["--symlink", f"usr/{link}", f"/{link}"]
    if Path("/etc/ld.so.cache").exists():
        command += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    command += ["--proc", "/proc", "--dev", "/dev", "--chdir", "/tmp", "--"]
    return command + argv


@functools.lru_cache(maxsize=1)
def probe() -> tuple:
    """(mode, reason): can a bubblewrap sandbox start here?"""
    if not sys.platform.startswith("linux"):
        return REDUCED, "bubblewrap needs Linux"
    if shutil.which("bwrap") is None:
        return REDUCED, "bubblewrap (bwrap) is not installed"
    try:
        done = subprocess.run(bwrap_command([sys.executable, "-c", "import numpy"]),
                              capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return REDUCED, f"bubblewrap could not start ({exc})"
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return REDUCED, f"bubblewrap could not start ({why[-1] if why else done.returncode})"
    return FULL, ""


@functools.lru_cache(maxsize=1)
def contained_support() -> str:
    """Why contained isolation cannot hold here ("" when it can): it needs seccomp, and
    Landlock or a uid of its own (the grader runs as root). The worker checks, when it starts,
    that each layer holds."""
    if not sys.platform.startswith("linux"):
        return "contained isolation needs Linux"
    from grader.sandbox import landlock, seccomp

    try:
        seccomp.program()
    except (ImportError, OSError, ValueError) as exc:
        return f"seccomp is not available ({exc})"
    if not landlock.abi() and os.geteuid() != 0:
        return ("Landlock is not available (Linux 5.13 or later, enabled at boot) and the grader "
                "does not run as root (no uid of its own for student code)")
    return ""


def fallback(reason: str) -> tuple[str, str]:
    """(mode, reason) when full isolation cannot start for `reason`: contained where it can
    hold, else reduced."""
    why = contained_support()
    return (CONTAINED, reason) if not why else (REDUCED, f"{reason}; {why}")


def worker_command(argv: list, mode: str) -> list:
    """argv wrapped for the mode; in full mode a root grader's worker drops to NOBODY; in
    contained mode the worker is told its layers (its children take a uid of their own when
    it is root)."""
    if mode == FULL:
        extra = ["--sandboxed"] + (["--drop-to", str(NOBODY)] if os.geteuid() == 0 else [])
        return bwrap_command(argv + extra)
    if mode == CONTAINED:
        from grader.sandbox import seccomp

        extra = ["--contained", "--seccomp", seccomp.program().hex()]
        extra += ["--own-uid"] if os.geteuid() == 0 else []
        for path in _runtime_paths():
            extra += ["--read", str(path)]
        return argv + extra
    return argv
