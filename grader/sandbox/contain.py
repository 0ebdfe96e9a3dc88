"""Contained isolation, the worker's side: where bubblewrap cannot create namespaces (a Docker
container such as Gradescope's, a CI runner, a laptop without it), each child a warm worker
forks is confined before any student code runs, with no privilege beyond what a container
grants:

- a user of its own when the worker is root: a uid no one else uses (claimed for the worker's
  lifetime), so the child owns nothing of the grader, may signal none of its processes, and
  RLIMIT_NPROC counts only its own processes;
- Landlock: read only the Python runtime, write only the worker's scratch folder, no TCP,
  signals and abstract unix sockets within its own domain only (see landlock.py);
- seccomp: no sockets, tracing, namespaces, mounts ... (see seccomp.py).

The worker is a child subreaper: whatever a submission starts (setsid or not) is its
descendant, and becomes the worker's child when its parent dies. After each submission the
worker kills them all (as the child's uid, one kill(-1) reaches every one of them at once) and
reaps them, and empties the scratch folder: nothing of one submission meets the next.
"""
import ctypes
import os
import shutil
import signal
import socket
import time

from grader.sandbox import landlock, seccomp

#: the uids a root worker's children may take, one per worker (not in any passwd range)
FIRST_UID, UIDS = 61000, 3000
_PR_SET_KEEPCAPS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE = 8, 47, 2
_PR_SET_CHILD_SUBREAPER = 36
_CAP_DAC_READ_SEARCH = 2
_libc = ctypes.CDLL(None, use_errno=True)


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def claim_uid():
    """(uid, the socket that holds it): the first free uid of the range, held by binding an
    abstract unix socket named after it (released when the worker ends, however it ends)."""
    for uid in range(FIRST_UID, FIRST_UID + UIDS):
        claim = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            claim.bind(f"\0grader-contained-uid-{uid}")
            return uid, claim
        except OSError:
            claim.close()
    raise OSError("no free uid for contained children")


def _readable_by_others(paths: list) -> bool:
    """Whether another user may read every path (and search every folder above it)."""
    for path in paths:
        try:
            if not os.stat(path).st_mode & 0o004:
                return False
            parent = os.path.dirname(os.path.realpath(path))
            while parent != "/":
                if not os.stat(parent).st_mode & 0o001:
                    return False
                parent = os.path.dirname(parent)
        except FileNotFoundError:
            continue
    return True


class Containment:
    """The layers a worker applies to each child, set up once when the worker starts."""

    def __init__(self, read: list, program: bytes | None, uid: int | None, scratch: str):
        self.uid, self.claim = (None, None)
        if uid is not None:
            self.uid, self.claim = claim_uid() if uid < 0 else (uid, None)
        self.version = landlock.abi()
        self.filter = seccomp.Filter(program) if program else None
        # a runtime under a private folder (Python in /root/.pyenv) cannot be read by another
        # user: the child keeps CAP_DAC_READ_SEARCH then, only where Landlock bounds what it
        # reads to the runtime
        self.read_search = self.uid is not None and not _readable_by_others(read)
        if self.read_search and not self.version:
            self.uid, self.read_search = None, False
        os.mkdir(scratch, 0o700)  # a new folder (the grading process named it: it removes it
        self.scratch = scratch    # should this worker be killed before it could)
        if self.uid is not None:
            os.chown(scratch, self.uid, self.uid)
        self.ruleset = self.restriction = None
        if self.version:
            self.ruleset = landlock.ruleset(
                self.version, read + ["/sys/devices/system/cpu", "/etc/localtime",
                                      "/etc/ld.so.cache", "/dev/urandom", "/dev/zero"],
                [self.scratch], ["/dev/null"])
            self.restriction = landlock.Restriction(self.ruleset)
        _libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def layers(self) -> dict:
        """What holds, for the worker's greeting."""
        return {"landlock": self.version, "seccomp": self.filter is not None,
                "uid": self.uid, "read_search": self.read_search}

    def enter(self) -> None:
        """In a freshly forked child, before any student code: take the uid, then Landlock,
        then seccomp. Raises if any of them fails (the child must then not go on)."""
        if self.uid is not None:
            _become(self.uid, self.read_search)
        if self.restriction is not None:
            self.restriction.apply()
            os.close(self.ruleset)
        if self.filter is not None:
            self.filter.install()

    def probe(self) -> str | None:
        """Fork a child that enters the containment and checks that it holds (it may not
        create a file beside the scratch folder, nor a socket); None, or what failed."""
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                self.enter()
                code = 4
                if self.version:
                    outside = os.path.join(os.path.dirname(self.scratch), f"probe-{os.getpid()}")
                    try:
                        os.close(os.open(outside, os.O_CREAT | os.O_WRONLY, 0o600))
                        os.unlink(outside)
                        os._exit(4)
                    except PermissionError:
                        pass
                code = 5
                if self.filter is not None:
                    try:
                        socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
                        os._exit(5)
                    except PermissionError:
                        pass
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        return {0: None, 3: "a child could not enter the containment",
                4: "a contained child could write outside its folder",
                5: "a contained child could open a socket"}.get(code, f"probe ended with {code}")

    def end_descendants(self, seconds: float = 2.0) -> None:
        """Kill and reap every process a submission left (all of them are our descendants)."""
        deadline = time.monotonic() + seconds
        while True:
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return  # no child at all: nothing of the submission is left
            if time.monotonic() > deadline:
                return
            if self.uid is not None:
                kill_uid(self.uid)
            else:
                for pid in _children(os.getpid()):
                    _kill(pid)
            time.sleep(0.001)

    def clear(self) -> None:
        """Empty the scratch folder, whatever a submission did to its modes."""
        if not os.path.isdir(self.scratch) or os.path.islink(self.scratch):
            raise OSError(f"the scratch folder {self.scratch} was replaced")
        if os.geteuid() != 0:  # root empties it whatever its modes
            os.chmod(self.scratch, 0o700)
        for entry in os.scandir(self.scratch):
            if entry.is_dir(follow_symlinks=False):
                _remove_folder(entry.path)
            else:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass

    def close(self) -> None:
        """The worker is leaving: nothing of its children, nor its folder, stays."""
        self.end_descendants()
        shutil.rmtree(self.scratch, ignore_errors=True)

    def descendants(self) -> list:
        """Every process below this one (for the memory guard)."""
        found, stack = [], [os.getpid()]
        while stack:
            for child in _children(stack.pop()):
                found.append(child)
                stack.append(child)
        return found


def _become(uid: int, read_search: bool) -> None:
    if read_search:
        _libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if read_search:
        header = _CapHeader(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
        data = (_CapData * 2)()
        bit = 1 << _CAP_DAC_READ_SEARCH
        data[0].effective = data[0].permitted = data[0].inheritable = bit
        if _libc.capset(ctypes.byref(header), data) != 0 or _libc.prctl(
                _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_RAISE, _CAP_DAC_READ_SEARCH, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "capset")


def scratch_name() -> str:
    """A new scratch folder's name, chosen by the grading process for a contained worker."""
    return f"/tmp/grader-contained-{os.getpid()}-{os.urandom(8).hex()}"


def kill_uid(uid: int) -> None:
    """kill(-1, SIGKILL) as `uid`, from a forked process: in the kernel, at once, every
    process of that uid (a forking loop cannot slip between a listing and the kills)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def remove_leftovers(scratch: str, uid: int | None) -> None:
    """After a contained worker is gone (the grading process's side, for a worker killed
    before it could clean up): kill its children's uid's processes, remove its folder."""
    if uid is not None:
        for _ in range(3):  # each kill(-1) takes all at once; again for any in mid-fork
            kill_uid(uid)
    if os.path.isdir(scratch) and not os.path.islink(scratch):
        _remove_folder(scratch)


def _remove_folder(path: str) -> None:
    try:
        shutil.rmtree(path)
    except OSError:  # folders it made unreadable (only ours to fix when not root)
        _unlock(path)
        shutil.rmtree(path, ignore_errors=True)


def _unlock(folder: str) -> None:
    """Make a folder and every folder below it ours to list and empty again."""
    os.chmod(folder, 0o700)
    for parent, folders, _ in os.walk(folder):  # top-down: each is opened after its chmod
        for name in folders:
            path = os.path.join(parent, name)
            try:
                if not os.path.islink(path):  # (its processes are all gone: nothing swaps it)
                    os.chmod(path, 0o700)
            except OSError:
                pass


def _children(pid: int) -> list:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", "rb") as f:
                found += [int(p) for p in f.read().split()]
        except OSError:
            continue
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
