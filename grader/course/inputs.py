"""Random inputs of a short-form spec's functions (grader.course.derive): each input's kind,
shape in named dimensions and dtype decide its values; the reference gets them in float64."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from grader.course.spec import Function, Input, size_of

#: the integers that integer inputs are drawn from (never 0, where a kink's side is a
#: convention: ReLU's gradient at 0)
INTEGERS = (-3, -2, -1, 1, 2, 3)


@dataclass(frozen=True)
class Variant:
    """How a case's inputs are made."""
    sizes: dict
    dtype: str = "float64"
    large: bool = False
    repeated: bool = False
    flag: bool = False


def value(arg: Input, variant: Variant, rng, offset: float):
    """A random value of one input (not upstream or cache)."""
    if arg.kind == "flag":
        return bool(variant.flag)
    if arg.kind == "scalar":
        return float(rng.uniform(arg.low, arg.high))
    if arg.kind == "params":
        return {key: array(dims, variant, rng, 0.0) for key, dims in arg.entries}
    shape = tuple(size_of(d, variant.sizes) for d in arg.dims)
    if arg.kind == "labels":
        return rng.integers(0, variant.sizes[arg.classes], shape)
    if arg.kind == "int":
        return rng.choice(INTEGERS, shape).astype(np.int64)
    return array(arg.dims, variant, rng, offset if variant.large else 0.0)


def array(dims: tuple, variant: Variant, rng, offset: float):
    """Normal values (shifted by ±offset) in the variant's dtype, or small nonzero integers."""
    shape = tuple(size_of(d, variant.sizes) for d in dims)
    if variant.dtype == "int64":
        values = rng.choice(INTEGERS, shape).astype(np.int64)
    else:
        values = (rng.standard_normal(shape) + _shifts(shape, offset)).astype(variant.dtype)
    return values.item() if shape == () else values


def _shifts(shape: tuple, offset: float):
    """+offset and −offset in turn along the first axis (−offset for a number): both signs,
    where e^x and e^(−x) each overflow, each row shifted as a whole (a softmax's row keeps its
    probabilities)."""
    if not offset:
        return 0.0
    if shape == ():
        return -offset
    signs = np.where(np.arange(shape[0]) % 2 == 0, offset, -offset)
    return signs.reshape((shape[0],) + (1,) * (len(shape) - 1))


def float64(value):
    """An input as the reference gets it: float arrays (and dicts of them) in float64; integer
    arrays (labels, integer inputs) as they are."""
    if isinstance(value, dict):
        return {k: float64(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    return value


def copy(value):
    """A fresh copy (each call gets its own arrays and dicts)."""
    if isinstance(value, dict):
        return {k: copy(v) for k, v in value.items()}
    return value.copy() if isinstance(value, np.ndarray) else value


def inputs(function: Function, variant: Variant, rng, offset: float) -> dict:
    """{name: value} of a function's inputs but its upstream gradients and cache."""
    return {arg.name: value(arg, variant, rng, offset) for arg in function.inputs
            if arg.kind not in ("upstream", "cache")}


