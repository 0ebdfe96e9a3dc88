"""Which pairs of documents share code, scored without comparing every pair one by one.

A fingerprint is evidence of copying in inverse proportion to how many documents hold it (the
weight is its idf, log((N + 1) / df)): two students who both wrote the idiomatic line everyone
writes share little evidence, two who share a rare run of code share much. Fingerprints of the
handout are dropped first (boilerplate), and so are those more than COMMON of the documents hold.
A pair's score is the weight they share over the smaller one's own weight: 1.0 when one
document's own code lies wholly in the other, renamed or recommented or not.

Every fingerprint held by two or more documents adds its weight to each pair holding it: an
inverted index, so the work follows the shared fingerprints, not the N² pairs.
"""
import math
from dataclasses import dataclass

import numpy as np
from copydetect.utils import get_copied_slices

from grader.similarity.fingerprint import K, written_positions

#: a fingerprint held by more than this share of the documents is an idiom, not evidence
COMMON = 0.5
#: a document whose own code (beyond the handout) weighs less than this many fingerprints
#: unique to it is not compared: there is nothing of its own to match
MIN_OWN = 4
#: pairs at or above this score join clusters
CLUSTER = 0.5


@dataclass
class Pair:
    """Two documents (indices), their score, and what they share (positions in each one's code
    as written: starts and ends of the matched runs)."""

    a: int
    b: int
    score: float
    runs_a: np.ndarray | None = None
    runs_b: np.ndarray | None = None


@dataclass
class Scored:
    pairs: list            # Pair, most similar first
    own: list              # per document, its hashes beyond the handout, sorted
    weights: dict          # hash -> weight, for the hashes shared by two or more
    too_small: list        # indices of documents with too little code of their own


def _own_hashes(documents, boilerplate) -> list:
    return [np.setdiff1d(d.fp.hashes, boilerplate, assume_unique=True) for d in documents]


def _pair_weights(members: np.ndarray, weight: np.ndarray, n: int) -> tuple:
    """(pair keys a * n + b with a < b, summed weights) over groups of documents sharing a
    fingerprint: `members` a (groups, size) array of document indices, `weight` per group."""
    size = members.shape[1]
    first, second = np.triu_indices(size, k=1)
    a, b = members[:, first], members[:, second]
    low, high = np.minimum(a, b), np.maximum(a, b)
    return (low * n + high).ravel(), np.repeat(weight, len(first))


def score(documents: list, boilerplate: np.ndarray, min_score: float = 0.0) -> Scored:
    """Every pair of documents sharing evidence, scored; reference–reference pairs left out."""
    n = len(documents)
    own = _own_hashes(documents, boilerplate)
    if n < 2:
        return Scored([], own, {}, [])
    doc_of = np.repeat(np.arange(n), [len(h) for h in own])
    hashes = np.concatenate(own) if own else np.zeros(0, dtype=np.int64)
    order = np.argsort(hashes, kind="stable")
    hashes, doc_of = hashes[order], doc_of[order]
    unique, start, df = np.unique(hashes, return_index=True, return_counts=True)
    idf = np.log((n + 1) / df)
    idf[df > max(2, COMMON * n)] = 0.0
    own_weight = np.bincount(doc_of, weights=np.repeat(idf, df), minlength=n)
    unique_weight = math.log(n + 1)
    too_small = [i for i in range(n) if own_weight[i] < MIN_OWN * unique_weight - 1e-9]
    keys, values = [], []
    shared = (df >= 2) & (idf > 0)
    for size in np.unique(df[shared]):
        groups = np.flatnonzero(shared & (df == size))
        members = doc_of[start[groups][:, None] + np.arange(size)[None, :]]
        k, v = _pair_weights(members, idf[groups], n)
        keys.append(k)
        values.append(v)
    pairs = []
    if keys:
        keys, values = np.concatenate(keys), np.concatenate(values)
        pair_keys, inverse = np.unique(keys, return_inverse=True)
        totals = np.bincount(inverse, weights=values)
        a, b = pair_keys // n, pair_keys % n
        smaller = np.minimum(own_weight[a], own_weight[b])
        ok = smaller >= MIN_OWN * unique_weight - 1e-9
        scores = np.zeros(len(pair_keys))
        scores[ok] = np.minimum(totals[ok] / smaller[ok], 1.0)
        reference = np.array([d.is_reference for d in documents])
        keep = ok & ~(reference[a] & reference[b]) & (scores >= min_score) & (scores > 0)
        ids = [d.id for d in documents]
        chosen = sorted(np.flatnonzero(keep), key=lambda i: (-round(float(scores[i]), 9),
                                                             ids[a[i]], ids[b[i]]))
        pairs = [Pair(int(a[i]), int(b[i]), round(float(scores[i]), 4)) for i in chosen]
    weights = dict(zip(unique[shared].tolist(), idf[shared].tolist()))
    return Scored(pairs, own, weights, too_small)


def _runs(document, hashes: np.ndarray) -> np.ndarray:
    """(2, runs) starts and ends, in the code as written, of the runs these fingerprints cover."""
    fp = document.fp
    at = np.searchsorted(fp.hashes, hashes)
    starts = np.array([s for i in at for s in fp.starts[i]], dtype=np.int64)
    runs = get_copied_slices(starts, K).astype(np.int64)
    if runs.size == 0:
        return np.zeros((2, 0), dtype=np.int64)
    ends = written_positions(fp, runs[1] - 1) + 1
    return np.array([written_positions(fp, runs[0]), ends])


def matches(scored: Scored, documents: list, pair: Pair) -> Pair:
    """The pair with its matched runs filled in: the fingerprints both hold that count."""
    both = np.intersect1d(scored.own[pair.a], scored.own[pair.b], assume_unique=True)
    both = np.array([h for h in both.tolist() if scored.weights.get(h, 0) > 0], dtype=np.int64)
    pair.runs_a, pair.runs_b = _runs(documents[pair.a], both), _runs(documents[pair.b], both)
    return pair


def line_ranges(document, runs: np.ndarray) -> str:
    """Where the runs are, as the student sees it: 'cell 3 lines 2-9; cell 4 lines 1-3' (or
    'lines 10-20' of a .py file)."""
    if runs is None or runs.size == 0:
        return ""
    line_starts = np.cumsum([0] + [len(line) + 1 for line in document.code.split("\n")])
    spans = []
    for start, end in zip(runs[0], runs[1]):
        first = int(np.searchsorted(line_starts, start, side="right"))
        last = int(np.searchsorted(line_starts, max(start, end - 1), side="right"))
        spans.append((first, last))
    places = {}
    for first, last in spans:
        for line in range(first, last + 1):
            cell, at = (document.origin[line - 1] if document.origin and
                        line <= len(document.origin) else (0, line))
            places.setdefault(cell, set()).add(at)
    parts = []
    for cell in sorted(places):
        lines = sorted(places[cell])
        ranges, begin = [], lines[0]
        for previous, current in zip(lines, lines[1:] + [None]):
            if current != previous + 1:
                ranges.append(f"{begin}-{previous}" if previous != begin else f"{begin}")
                begin = current
        parts.append(("lines " if cell == 0 else f"cell {cell} lines ") + ",".join(ranges))
    return "; ".join(parts)


def clusters(pairs: list, threshold: float = CLUSTER) -> list:
    """Groups of three or more documents joined by pairs scoring `threshold` or more, largest
    first (each a sorted list of indices)."""
    parent = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        if pair.score >= threshold:
            parent[root(pair.a)] = root(pair.b)
    groups = {}
    for x in list(parent):
        groups.setdefault(root(x), []).append(x)
    found = [sorted(g) for g in groups.values() if len(g) >= 3]
    return sorted(found, key=lambda g: (-len(g), g))
