"""seccomp for a contained child: the system calls a gradient never needs fail with EPERM.

Denied: every socket() (a child talks through the pipes it is given; Landlock ABI <= 7 does
not cover connecting to a unix socket by its path, so a child of the grader's own user could
reach that user's agents through one), ptrace and reading or writing other processes' memory,
namespaces and mounts (unshare, setns, clone with a CLONE_NEW* flag), keyrings, bpf, perf,
io_uring (its operations bypass these checks), userfaultfd, open_by_handle_at, kernel modules,
clocks, reboot and the like. A call from another ABI (x32, i386) kills the process.

The filter is compiled by libseccomp through PyPI's `pyseccomp` in the grading process, once
(`program`): pyseccomp imports subprocess and threading, whose after-fork hooks would run in
every child a warm worker forks. The worker is handed the compiled BPF program, and each child
installs it with one prctl (`install`), after no_new_privs and before any student code.
"""
import ctypes
import errno
import functools

_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_PR_SET_NO_NEW_PRIVS = 38
_OPTIMIZE = 8  # SCMP_FLTATR_CTL_OPTIMIZE
_CLONE_NEW = (0x00000080, 0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
              0x20000000, 0x40000000)   # TIME, NS, CGROUP, UTS, IPC, USER, PID, NET
DENIED = (
    "socket", "socketcall", "ptrace", "process_vm_readv", "process_vm_writev", "kcmp",
    "pidfd_getfd", "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "fsopen",
    "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "keyctl",
    "add_key", "request_key", "bpf", "perf_event_open", "userfaultfd", "io_uring_setup",
    "io_uring_enter", "io_uring_register", "open_by_handle_at", "name_to_handle_at",
    "fanotify_init", "init_module", "finit_module", "delete_module", "kexec_load",
    "kexec_file_load", "reboot", "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl",
    "ioperm", "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "sethostname",
    "setdomainname", "vhangup", "lookup_dcookie",
)


@functools.lru_cache(maxsize=1)
def program() -> bytes:
    """The filter as a BPF program for this machine's architecture (raises OSError or
    ImportError where libseccomp or pyseccomp is missing)."""
    import os

    try:
        import pyseccomp as sc
    except RuntimeError as exc:  # pyseccomp raises this when libseccomp.so is not found
        raise ImportError(str(exc)) from None

    deny = sc.ERRNO(errno.EPERM)
    rules = sc.SyscallFilter(sc.ALLOW)  # the native architecture only; others are killed
    try:  # a binary tree of the system calls, not a chain: fewer instructions run per call,
        # and the kernel's emulation of the filter for its cache, at each install, is shorter
        rules.set_attr(_OPTIMIZE, 2)
    except OSError:
        pass  # libseccomp < 2.5
    for name in DENIED:
        try:
            rules.add_rule(deny, name)
        except (OSError, ValueError, RuntimeError):
            pass  # not a system call of this architecture
    for flag in _CLONE_NEW:
        rules.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    rules.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # flags out of reach: libc falls back to clone
    read, write = os.pipe()
    try:
        with open(write, "wb", closefd=True) as sink:
            rules.export_bpf(sink)
        chunks = []
        while chunk := os.read(read, 1 << 16):
            chunks.append(chunk)
    finally:
        os.close(read)
    code = b"".join(chunks)
    if not code or len(code) % 8:
        raise OSError("libseccomp exported no BPF program")
    return code


class _Instruction(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8),
                ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Instruction))]


class Filter:
    """A compiled program ready to install: built in the worker, installed by each child."""

    def __init__(self, code: bytes):
        count = len(code) // 8
        self._instructions = (_Instruction * count).from_buffer_copy(code)
        self._program = _Program(count, ctypes.cast(self._instructions,
                                                    ctypes.POINTER(_Instruction)))
        self._pointer = ctypes.pointer(self._program)  # built here, not in each child
        self._prctl = ctypes.CDLL(None, use_errno=True).prctl

    def install(self) -> None:
        """Filter this process's (and its descendants') system calls, for good."""
        if self._prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or self._prctl(
                _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, self._pointer, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "seccomp filter not installed")
