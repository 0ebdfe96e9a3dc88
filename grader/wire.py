"""A small framed format for plain data and numeric arrays: JSON for structure, raw bytes for
arrays, nothing executable.

It carries test inputs to the sandboxed child and the child's outputs back, and stores public
case data for students. Decoding is strict because one side is hostile: only JSON values and
arrays of whitelisted numeric dtypes come out, sizes are checked before anything is allocated,
and no object is ever constructed from a name the data chooses (no pickle, no eval).

    frame  = u64 length | body
    body   = u32 header length | header JSON | array bytes
    header = {"body": <JSON, arrays as {"$a": index}, tuples as {"$t": [...]}>,
              "arrays": [[dtype, shape], ...]}

`encode`/`decode` walk the body to put arrays and tuples in and take them out. A sender that
builds its body as JSON already, naming its arrays by position its own way, uses
`encode_tree`, and its reader `decode_tree`, which checks all but those names: the child's
case reports (a returned part is an array's position, or the text of why it is not an array),
which are most of the traffic (one a case) and whose walk was a third of their encoding.
"""
import json
import os
import select
import struct
import time

import numpy as np

#: dtypes allowed across the boundary (numpy's .str spelling, little-endian machine).
DTYPES = {np.dtype(t).str: np.dtype(t) for t in (
    "f8", "f4", "f2", "i8", "i4", "i2", "i1", "u8", "u4", "u2", "u1", "?")}

MAX_HEADER = 8 * 2**20
MAX_DEPTH = 32


class WireError(ValueError):
    """Data that does not follow the format (truncated, oversized, or of a forbidden kind)."""


def _to_json(obj, arrays, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("structure nested too deeply")
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise WireError("dictionary keys must be strings")
        if "$a" in obj or "$t" in obj:
            raise WireError("reserved key in dictionary")
        return {k: v if type(v) in _PLAIN else _to_json(v, arrays, depth + 1)
                for k, v in obj.items()}
    if isinstance(obj, list):
        return [x if type(x) in _PLAIN else _to_json(x, arrays, depth + 1) for x in obj]
    if isinstance(obj, np.ndarray):
        if obj.dtype.str not in DTYPES:
            raise WireError(f"array dtype {obj.dtype} cannot be sent")
        # (ascontiguousarray alone turns a 0-d array into shape (1,))
        arrays.append(np.ascontiguousarray(obj).reshape(obj.shape))
        return {"$a": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return _to_json(np.asarray(obj), arrays, depth)
    if isinstance(obj, tuple):
        return {"$t": [_to_json(x, arrays, depth + 1) for x in obj]}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise WireError(f"cannot send a value of type {type(obj).__name__}")


#: JSON values with nothing inside, of exactly these types: sent and taken as they are, without
#: a call each (a case's reply holds hundreds of them)
_PLAIN = frozenset((str, int, float, bool, type(None)))


#: one encoder for every header (json.dumps with separators builds one per call: in a fresh
#: sandbox child, ~10 more pages written and ~0.08 ms more CPU a submission). No check for
#: circular structures (a dictionary entry per container: a gates report's JSON 11.5 → 8.9 µs):
#: `_to_json` bounds the depth, and a circular body given to `encode_tree` ends in the
#: encoder's RecursionError
_HEADER_ENCODER = json.JSONEncoder(allow_nan=True, separators=(",", ":"), check_circular=False)


def encode(obj) -> bytes:
    """Encode plain data (dict, list, tuple, str, int, float, bool, None, numeric ndarray)."""
    arrays = []
    return encode_tree(_to_json(obj, arrays), arrays)


def encode_tree(body, arrays: list) -> bytes:
    """Encode a body that is JSON already (dicts with string keys, lists, str, int, float,
    bool, None) with its arrays, which the body names by position as it likes: what `encode`
    does after its walk, for a sender that builds its message that way."""
    table = []
    for a in arrays:
        if a.dtype.str not in DTYPES:
            raise WireError(f"array dtype {a.dtype} cannot be sent")
        table.append([a.dtype.str, list(a.shape)])
    try:
        header = _HEADER_ENCODER.encode({"body": body, "arrays": table}).encode()
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as exc:
        raise WireError(f"not JSON: {exc}") from None
    return b"".join([struct.pack("<I", len(header)), header] + [a.tobytes() for a in arrays])


def _from_json(node, arrays, depth=0):
    if depth > MAX_DEPTH:
        raise WireError("structure nested too deeply")
    if isinstance(node, list):
        return [x if type(x) in _PLAIN else _from_json(x, arrays, depth + 1) for x in node]
    if isinstance(node, dict):
        if "$a" in node:
            index = node["$a"]
            if len(node) != 1 or type(index) is not int or not 0 <= index < len(arrays):
                raise WireError("bad array reference")
            return arrays[index]
        if "$t" in node:
            if len(node) != 1 or not isinstance(node["$t"], list):
                raise WireError("bad tuple")
            return tuple(x if type(x) in _PLAIN else _from_json(x, arrays, depth + 1)
                         for x in node["$t"])
        return {k: v if type(v) in _PLAIN else _from_json(v, arrays, depth + 1)
                for k, v in node.items()}
    return node


def decode(data: bytes, max_bytes: int = 256 * 2**20):
    """Decode what `encode` produced; raise WireError on anything else."""
    return _from_json(*decode_tree(data, max_bytes))


def decode_tree(data: bytes, max_bytes: int = 256 * 2**20) -> tuple:
    """(body, arrays) of what `encode_tree` produced: the body as JSON gave it (any array
    references in it are the reader's to check), the arrays checked and copied out; raise
    WireError on anything else."""
    if len(data) > max_bytes:
        raise WireError(f"message of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    if len(data) < 4:
        raise WireError("truncated message")
    (hlen,) = struct.unpack_from("<I", data)
    if hlen > min(MAX_HEADER, len(data) - 4):
        raise WireError("bad header length")
    try:
        header = json.loads(bytes(data[4:4 + hlen]))  # data may be a memoryview
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise WireError(f"header is not JSON: {e}") from None
    if not isinstance(header, dict) or not isinstance(header.get("arrays"), list):
        raise WireError("header lacks an array table")
    offset = 4 + hlen
    arrays = []
    for item in header["arrays"]:
        if not (isinstance(item, list) and len(item) == 2 and item[0] in DTYPES
                and isinstance(item[1], list) and len(item[1]) <= 32
                and all(type(n) is int and n >= 0 for n in item[1])):
            raise WireError(f"bad array description {str(item)[:80]}")
        dtype = DTYPES[item[0]]
        count = 1
        for n in item[1]:
            count *= n
        nbytes = count * dtype.itemsize
        if offset + nbytes > len(data):
            raise WireError("array data truncated")
        arrays.append(np.frombuffer(data, dtype, count, offset).reshape(item[1]).copy())
        offset += nbytes
    if offset != len(data):
        raise WireError("trailing bytes after the arrays")
    return header.get("body"), arrays


# ---- framing on file descriptors ------------------------------------------------------------

def frame(*parts: bytes) -> bytes:
    """One length-prefixed frame holding the parts, one after the other."""
    return b"".join([struct.pack("<Q", sum(map(len, parts))), *parts])


def write_frame(fd: int, payload: bytes) -> None:
    """Write one length-prefixed frame, all of it."""
    view = memoryview(frame(payload))
    while view:
        n = os.write(fd, view)
        view = view[n:]


def read_exact(fd: int, n: int) -> bytes | None:
    """Read exactly n bytes; None on end of file before the first byte, WireError midway."""
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            if got == 0:
                return None
            raise WireError("stream ended inside a frame")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, max_bytes: int = 256 * 2**20) -> bytes | None:
    """Read one frame; None at a clean end of stream."""
    prefix = read_exact(fd, 8)
    if prefix is None:
        return None
    (n,) = struct.unpack("<Q", prefix)
    if n > max_bytes:
        raise WireError(f"frame of {n} bytes exceeds the {max_bytes}-byte limit")
    data = read_exact(fd, n)
    if data is None and n:
        raise WireError("stream ended inside a frame")
    return data or b""


def job_frame(header: dict, payload: bytes = b"") -> bytes:
    """A sandbox job: u32 header length | header | payload (the child's job, which the worker
    passes on still encoded: the child decodes it, the worker's memory stays as it was)."""
    encoded = encode(header)
    return struct.pack("<I", len(encoded)) + encoded + payload


def split_job(data: bytes) -> tuple:
    """(header, payload as a memoryview) of a job frame."""
    if len(data) < 4:
        raise WireError("truncated job")
    (length,) = struct.unpack_from("<I", data)
    view = memoryview(data)
    return decode(view[4:4 + length]), view[4 + length:]


#: bytes asked for in one read of a pipe: what a pipe holds (64 KiB), so never less than it
#: gives; asking for more (1 MiB) had the allocator map, shrink and unmap a fresh buffer for
#: every read, three system calls and page faults each time (~3 times a submission)
PIPE_READ = 1 << 16


class FrameReader:
    """Reads length-prefixed frames from a pipe, with a deadline and a size cap.

    `watch`: another descriptor whose becoming readable means no more data will come (the
    sandbox worker's report that the child writing this pipe has ended): what the pipe holds
    then is read without waiting, and a frame it does not complete is "ended"."""

    def __init__(self, fd: int, max_bytes: int, watch: int | None = None):
        # a bytearray: a pipe gives 64 KiB at a time, and appending to bytes would copy the
        # whole buffer each time (a 64 MiB frame: ~30 GB copied, many seconds of CPU)
        self.fd, self.max_bytes, self.buffer = fd, max_bytes, bytearray()
        self.watch, self.watched, self.eof = watch, False, False

    def _fill(self, n: int, deadline: float) -> str | None:
        while len(self.buffer) < n:
            if self.eof:
                return "eof"
            if self.watched:
                return "ended"
            left = deadline - time.monotonic()
            fds = [self.fd] if self.watch is None else [self.fd, self.watch]
            ready = select.select(fds, [], [], left)[0] if left > 0 else []
            if not ready:
                return "timeout"
            if self.fd in ready:
                chunk = os.read(self.fd, PIPE_READ)
                if not chunk:
                    self.eof = True
                self.buffer += chunk
            else:
                self.watched = True
                self._drain()
        return None

    def _drain(self) -> None:
        """Read what the pipe holds now, without waiting for more."""
        os.set_blocking(self.fd, False)
        try:
            while len(self.buffer) <= self.max_bytes + 8:
                chunk = os.read(self.fd, PIPE_READ)
                if not chunk:
                    self.eof = True
                    return
                self.buffer += chunk
        except BlockingIOError:
            pass
        finally:
            os.set_blocking(self.fd, True)

    def read(self, deadline: float):
        """Return (frame bytes, None) or (None, "timeout" | "eof" | "ended" | "too large")."""
        problem = self._fill(8, deadline)
        if problem:
            return None, problem
        (n,) = struct.unpack_from("<Q", self.buffer)
        if n > self.max_bytes:
            return None, "too large"
        problem = self._fill(8 + n, deadline)
        if problem:
            return None, problem
        frame = bytes(memoryview(self.buffer)[8:8 + n])  # one copy; the buffer is let go
        self.buffer = self.buffer[8 + n:]
        return frame, None
