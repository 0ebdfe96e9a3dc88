"""Fingerprints of code, robust to renaming and comments: copydetect's filter (pygments tokens;
every name becomes V, function names F, strings S; comments and white space dropped; offsets to
map back to the code as written), then k-grams of the filtered text hashed and winnowed
(copydetect's winnow). The hash is our own, a polynomial over the characters in 64-bit integer
arithmetic: copydetect's uses Python's hash(), which changes from one process to the next, and
winnowing keeps the smallest hash of each window, so its fingerprints (and the scores) would
differ between runs and between the worker processes that fingerprint a class in parallel.
"""
from dataclasses import dataclass

import numpy as np
from copydetect.utils import filter_code, winnow

#: characters of filtered code in a k-gram: about two lines (copydetect's default noise
#: threshold); shorter matches are not counted
K = 25
#: winnowing window: every match of K + WINDOW - 1 characters or more is found (copydetect's
#: default guarantee threshold of 30)
WINDOW = 6
_BASE = np.uint64(1_000_003)
_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass
class Fingerprint:
    """One document's fingerprints: `hashes` (unique, sorted) and, for each, where it starts in
    the filtered code (`starts`: a list of positions per hash, in the order of `hashes`);
    `offsets` maps filtered positions back to the code as written."""

    hashes: np.ndarray
    starts: list
    offsets: np.ndarray
    length: int


def kgram_hashes(text: str, k: int = K) -> np.ndarray:
    """uint64 hashes of every k-character window of `text` (none when it is shorter)."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < k:
        return np.zeros(0, dtype=np.uint64)
    powers = _BASE ** np.arange(k - 1, -1, -1, dtype=np.uint64)
    windows = np.lib.stride_tricks.sliding_window_view(codes, k)
    with np.errstate(over="ignore"):
        hashes = (windows * powers).sum(axis=1, dtype=np.uint64)
        hashes ^= hashes >> np.uint64(29)
        hashes *= _MIX
        hashes ^= hashes >> np.uint64(32)
    return hashes


def fingerprint(code: str, k: int = K, window: int = WINDOW) -> Fingerprint:
    """The winnowed fingerprints of Python `code`."""
    filtered, offsets = filter_code(code, "code.py", "python")
    hashes = kgram_hashes(filtered, k)
    if len(hashes) == 0:
        return Fingerprint(np.zeros(0, dtype=np.int64), [], offsets, len(filtered))
    chosen, where = winnow(hashes.view(np.int64), window, remove_duplicates=False)
    order = np.argsort(chosen, kind="stable")
    chosen, where = chosen[order], where[order]
    unique, first = np.unique(chosen, return_index=True)
    starts = [list(map(int, group)) for group in np.split(where, first[1:])]
    return Fingerprint(unique, starts, offsets, len(filtered))


def written_positions(fp: Fingerprint, filtered_positions: np.ndarray) -> np.ndarray:
    """Positions in the code as written of positions in its filtered text (as copydetect's
    compare_files maps them)."""
    if len(fp.offsets) == 0:
        return filtered_positions
    index = np.clip(np.searchsorted(fp.offsets[:, 0], filtered_positions), 0,
                    fp.offsets.shape[0] - 1)
    return filtered_positions + fp.offsets[:, 1][index]
