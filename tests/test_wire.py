"""The wire format: round trips of plain data, and strict rejection of anything else."""
import json
import struct

import numpy as np
import pytest

from grader import wire


def test_round_trip_keeps_structure_dtypes_and_values():
    data = {"a": [1, 2.5, None, True, "x"], "t": (np.arange(6, dtype=np.int32).reshape(2, 3),),
            "f": np.float32(1.5), "empty": np.zeros((0, 4))}
    back = wire.decode(wire.encode(data))
    assert back["a"] == [1, 2.5, None, True, "x"]
    assert isinstance(back["t"], tuple) and back["t"][0].dtype == np.int32
    assert np.array_equal(back["t"][0], data["t"][0])
    assert back["f"].dtype == np.float32 and back["f"] == 1.5
    assert back["empty"].shape == (0, 4)


@pytest.mark.parametrize("value", [np.array([object()], dtype=object), {1: "int key"}, {"$a": 0},
                                   b"bytes", 3 + 4j, np.array([1j])])
def test_encode_refuses_non_plain_values(value):
    with pytest.raises(wire.WireError):
        wire.encode(value)


def _frame(header, data=b""):
    raw = json.dumps(header).encode()
    return struct.pack("<I", len(raw)) + raw + data


@pytest.mark.parametrize("blob, why", [
    (b"", "truncated"),
    (struct.pack("<I", 10**9) + b"{}", "header length"),
    (_frame({"body": 1}), "array table"),
    (_frame({"body": {"$a": 0}, "arrays": [["|O", [1]]]}, b"\0" * 8), "array description"),
    (_frame({"body": {"$a": 0}, "arrays": [["<f8", [10**6]]]}, b"\0" * 8), "truncated"),
    (_frame({"body": {"$a": 3}, "arrays": [["<f8", [1]]]}, b"\0" * 8), "array reference"),
    (_frame({"body": None, "arrays": [["<f8", [1]]]}, b"\0" * 9), "trailing"),
    (_frame({"body": None, "arrays": [["<f8", [-1]]]}), "array description"),
    (struct.pack("<I", 3) + b"\xff\xfe\x00", "not JSON"),
])
def test_decode_rejects_malformed_messages(blob, why):
    with pytest.raises(wire.WireError, match=why):
        wire.decode(blob)


def test_decode_enforces_size_limit():
    with pytest.raises(wire.WireError, match="exceeds"):
        wire.decode(wire.encode(np.zeros(1000)), max_bytes=100)


def test_decoded_arrays_are_writable_copies():
    back = wire.decode(wire.encode(np.arange(3.0)))
    back[0] = 7.0
    assert back.flags.writeable and back[0] == 7.0


def test_a_json_body_with_its_arrays_by_position_round_trips():
    arrays = [np.arange(6.0).reshape(2, 3), np.int8(3) * np.ones(0, np.int8)]
    body = {"calls": [{"parts": [1, "not an array", 0]}], "x": [None, 2.5, True]}
    back, back_arrays = wire.decode_tree(wire.encode_tree(body, arrays))
    assert back == body
    assert [a.dtype for a in back_arrays] == [np.float64, np.int8]
    assert np.array_equal(back_arrays[0], arrays[0]) and back_arrays[1].shape == (0,)
    # `decode` reads it as `encode` made it when the body names its arrays as `encode` does
    assert wire.encode_tree({"a": {"$a": 0}}, arrays[:1]) == wire.encode({"a": arrays[0]})


@pytest.mark.parametrize("body, arrays", [
    ({"x": object()}, []), ({"x": b"bytes"}, []), ({("tuple", "key"): 1}, []),
    ({"x": 1}, [np.array([object()], dtype=object)]), ({"x": 1}, [np.array([1j])]),
])
def test_encode_tree_refuses_what_json_or_the_array_table_cannot_hold(body, arrays):
    with pytest.raises(wire.WireError):
        wire.encode_tree(body, arrays)


def test_encode_tree_refuses_a_circular_body():
    loop = []
    loop.append(loop)
    with pytest.raises(wire.WireError):
        wire.encode_tree({"calls": loop}, [])


def test_decode_tree_checks_everything_decode_does_but_the_references():
    blob = _frame({"body": {"$a": 3}, "arrays": [["<f8", [1]]]}, b"\0" * 8)
    body, arrays = wire.decode_tree(blob)  # the reader's to check
    assert body == {"$a": 3} and len(arrays) == 1
    with pytest.raises(wire.WireError, match="trailing"):
        wire.decode_tree(_frame({"body": None, "arrays": [["<f8", [1]]]}, b"\0" * 9))
