"""Landlock (Linux >= 5.13) for a contained child: read only the Python runtime, write only its
scratch folder, no TCP bind/connect (ABI >= 4), signals and abstract unix sockets only within
its own domain (ABI >= 6).

A small ctypes layer of our own over the three system calls: PyPI's `landlock` binding (a
pre-release, 1.0.0.dev5) covers file system rules only (no network rules, no scoping), and
reads errno after calls that succeeded. Light on imports: the warm worker builds the ruleset
once, and each forked child only calls `restrict` (one system call) before any student code.
"""
import ctypes
import os

_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446  # the same on every architecture
_VERSION = 1                                # landlock_create_ruleset's flag: ask for the ABI
_RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

# file system access rights (include/uapi/linux/landlock.h), by the ABI that brought them
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_ABI1_FS = (1 << 13) - 1                    # EXECUTE ... MAKE_SYM
_REFER, _TRUNCATE, _IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
#: rights that make sense on a file (not a folder): a rule on a file may grant only these
_FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | _TRUNCATE | _IOCTL_DEV
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _call(number: int, *args) -> int:
    result = _libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def abi() -> int:
    """The Landlock ABI version this kernel offers; 0 when it offers none (too old, disabled
    at boot, or refused by a container's seccomp profile)."""
    try:
        return _call(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    except OSError:
        return 0


def _fs_rights(version: int) -> int:
    rights = _ABI1_FS
    if version >= 2:
        rights |= _REFER
    if version >= 3:
        rights |= _TRUNCATE
    if version >= 5:
        rights |= _IOCTL_DEV
    return rights


def ruleset(version: int, read: list, write: list, devices: list = ()) -> int:
    """A ruleset fd (close-on-exec, numbered 10 or above: out of the way of the child's pipes)
    that allows reading and executing below each of `read`, everything below each of `write`,
    reading and writing each of `devices`; nothing else on the file system, no TCP, and (ABI
    >= 6) no signal or abstract unix socket beyond the domain. Paths that do not exist are
    left out."""
    handled = _fs_rights(version)
    attr = _RulesetAttr(handled, _NET_BIND_TCP | _NET_CONNECT_TCP if version >= 4 else 0,
                        _SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL if version >= 6 else 0)
    fd = _call(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)),
               ctypes.c_uint32(0))
    try:
        rules = [(p, EXECUTE | READ_FILE | READ_DIR) for p in read]
        rules += [(p, handled) for p in write] + [(p, READ_FILE | WRITE_FILE) for p in devices]
        for path, rights in rules:
            try:
                target = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                if not os.path.isdir(path):
                    rights &= _FILE_RIGHTS
                rule = _PathBeneath(rights & handled, target)
                _call(_ADD_RULE, ctypes.c_int(fd), ctypes.c_int(_RULE_PATH_BENEATH),
                      ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(target)
        high = os.dup2(fd, _free_fd(10), inheritable=False)
    finally:
        os.close(fd)
    return high


def _free_fd(start: int) -> int:
    fd = start
    while True:
        try:
            os.fstat(fd)
        except OSError:
            return fd
        fd += 1


class Restriction:
    """landlock_restrict_self on a ruleset, its arguments built once (in the warm worker):
    a forked child that builds them pays copy-on-write faults for it (~0.04 ms a child)."""

    def __init__(self, ruleset_fd: int):
        self._prctl, self._syscall = _libc.prctl, _libc.syscall
        self._args = (ctypes.c_long(_RESTRICT_SELF), ctypes.c_int(ruleset_fd), ctypes.c_uint32(0))

    def apply(self) -> None:
        """Confine this process (and every process it starts) to the ruleset, for good. Sets
        no_new_privs first, which Landlock requires of an unprivileged process."""
        if self._prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or self._syscall(*self._args) != 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self")


def restrict(ruleset_fd: int) -> None:
    """Confine this process to the ruleset (see Restriction.apply)."""
    Restriction(ruleset_fd).apply()
