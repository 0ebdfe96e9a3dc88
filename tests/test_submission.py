"""Tests of the read stage: reading notebook files and finding submissions (the slice of a
notebook the graded functions need is tested in test_slice.py)."""
from __future__ import annotations

import ast
import dataclasses
import json
import os
from pathlib import Path

import nbformat
import pytest
from nbformat import v3, v4

from grader.sandbox import harness
from grader.intake.discovery import discover, discover_found
from grader.read.submission import (Submission, SubmissionError, extract, extract_source,
                                    load_submission, read_notebook, strip_magics)


# ---------------------------------------------------------------- helpers

def make_nb(*cells):
    """A v4 notebook; each cell is a code source string or ("markdown" | "raw", source)."""
    nb = v4.new_notebook()
    for cell in cells:
        if isinstance(cell, str):
            nb.cells.append(v4.new_code_cell(cell))
        elif cell[0] == "markdown":
            nb.cells.append(v4.new_markdown_cell(cell[1]))
        else:
            nb.cells.append(v4.new_raw_cell(cell[1]))
    return nb


def write_nb(path: Path, *cells) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(make_nb(*cells), str(path))
    return path


def run(sub: Submission) -> dict:
    ns: dict = {}
    exec(compile(sub.source, f"<{sub.id}>", "exec"), ns)
    return ns


def ext(*cells) -> Submission:
    return extract_source(list(cells), "s")


def read_error(path: Path, **kw) -> str:
    with pytest.raises(SubmissionError) as info:
        read_notebook(path, **kw)
    msg = str(info.value)
    assert "\n" not in msg
    assert msg.startswith(path.name + ": ")
    return msg


GOOD = "import numpy as np\n\ndef f(x):\n    return np.tanh(x)\n"


# ---------------------------------------------------------------- reading

def test_v3_notebook_is_upgraded_to_current_v4(tmp_path):
    nb3 = v3.new_notebook(worksheets=[v3.new_worksheet(cells=[
        v3.new_code_cell(input="import numpy as np"),
        v3.new_text_cell("markdown", source="# Part 1"),
        v3.new_code_cell(input="def f(x):\n    return np.tanh(x)\n"),
        v3.new_code_cell(input="print(f(1))"),
    ])])
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nb3, version=3), encoding="utf-8")
    assert json.loads(path.read_text())["nbformat"] == 3

    nb = read_notebook(path)
    assert (nb.nbformat, nb.nbformat_minor) == (4, nbformat.v4.nbformat_minor)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown", "code", "code"]
    sub = load_submission(path)
    assert sub.id == "old" and sub.path == path
    assert sub.functions == {"f"}
    assert sub.source == "import numpy as np\ndef f(x):\n    return np.tanh(x)\n"
    assert sub.line_origin == ((1, 1), (2, 1), (2, 2))  # markdown cells are not counted
    assert sub.notes == ()


def test_old_v4_minor_version_is_upgraded(tmp_path):
    raw = {"nbformat": 4, "nbformat_minor": 0, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
         "source": ["def f():\n", "    return 1\n"]}]}
    path = tmp_path / "v40.ipynb"
    path.write_text(json.dumps(raw))
    nb = read_notebook(path)
    assert nb.nbformat_minor == nbformat.v4.nbformat_minor
    assert "id" in nb.cells[0]
    sub = extract(nb, "v40")
    assert sub.source == "def f():\n    return 1\n" and sub.notes == ()


def test_byte_order_mark_is_tolerated(tmp_path):
    path = tmp_path / "bom.ipynb"
    path.write_bytes(b"\xef\xbb\xbf" + nbformat.writes(make_nb(GOOD)).encode())
    assert load_submission(path).functions == {"f"}


def test_crlf_line_endings_in_file_and_in_cell_sources(tmp_path):
    nb = make_nb("import numpy as np\r\n\r\ndef f(x):\r\n    return np.tanh(x)\r\n")
    path = tmp_path / "crlf.ipynb"
    path.write_bytes(nbformat.writes(nb).replace("\n", "\r\n").encode())
    assert b"\r\n" in path.read_bytes()
    sub = load_submission(path)
    assert "\r" not in sub.source
    assert sub.source == "import numpy as np\ndef f(x):\n    return np.tanh(x)\n"
    assert sub.line_origin == ((1, 1), (1, 3), (1, 4))
    assert run(sub)["f"](0.0) == 0.0


def test_lone_carriage_returns_count_as_line_breaks():
    sub = ext("x = 1\rdef f():\r    return x\r")
    assert sub.source == "x = 1\ndef f():\n    return x\n"
    assert sub.line_origin == ((1, 1), (1, 2), (1, 3))


@pytest.mark.parametrize("content", [b"", b"  \n\t "])
def test_empty_file(tmp_path, content):
    path = tmp_path / "answers.ipynb"
    path.write_bytes(content)
    assert read_error(path) == "answers.ipynb: empty file"


def test_truncated_json_anywhere(tmp_path):
    nb = make_nb(GOOD, "x = 1")
    nb.metadata["flags"] = [None, True, False, 12.5]
    text = nbformat.writes(nb).rstrip()
    path = tmp_path / "answers.ipynb"
    for cut in range(1, len(text)):
        path.write_text(text[:cut])
        lines = text[:cut].rstrip().split("\n")
        assert read_error(path) == (f"answers.ipynb: not valid JSON (truncated at line {len(lines)}, "
                                    f"column {len(lines[-1]) + 1})"), cut


def test_invalid_json_that_is_not_truncated(tmp_path):
    path = tmp_path / "a.ipynb"
    path.write_text('{"cells": [] oops}')
    assert read_error(path) == "a.ipynb: not valid JSON (Expecting ',' delimiter at line 1, column 14)"


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.ipynb"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert read_error(path) == "junk.ipynb: not UTF-8 text (invalid byte 0x89 at offset 0)"


def test_nul_bytes_in_utf8_text(tmp_path):
    path = tmp_path / "nul.ipynb"
    path.write_bytes(b'{"cells": \x00}')
    assert read_error(path) == "nul.ipynb: binary data, not a notebook (NUL byte at offset 10)"


def test_non_utf8_text_names_byte_and_offset(tmp_path):
    data = nbformat.writes(make_nb("s = 'café'\n")).encode("latin-1")
    path = tmp_path / "latin.ipynb"
    path.write_bytes(data)
    offset = data.index(b"\xe9")
    assert read_error(path) == f"latin.ipynb: not UTF-8 text (invalid byte 0xe9 at offset {offset})"
    path.write_bytes(b"\xef\xbb\xbf" + data)  # the offset counts in the file, BOM included
    assert read_error(path).endswith(f"at offset {offset + 3})")


@pytest.mark.parametrize("text, kind", [("[1, 2]", "a list"), ('"cells"', "a string"),
                                        ("3", "a number"), ("null", "null")])
def test_json_that_is_not_an_object(tmp_path, text, kind):
    path = tmp_path / "x.ipynb"
    path.write_text(text)
    assert read_error(path) == f"x.ipynb: JSON but not a notebook (top level is {kind}, not an object with 'cells')"


def test_json_object_without_cells(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text('{"nbformat": 4, "metadata": {}}')
    assert read_error(path) == "x.ipynb: JSON but not a notebook (no 'cells' list)"


def test_oversized_file(tmp_path):
    path = write_nb(tmp_path / "big.ipynb", GOOD)
    size = path.stat().st_size
    assert read_error(path, max_bytes=size - 1) == f"big.ipynb: file too large (over {size - 1} bytes)"
    assert read_notebook(path, max_bytes=size).cells[0].source == GOOD


def test_directory_and_missing_file(tmp_path):
    (tmp_path / "x.ipynb").mkdir()
    assert read_error(tmp_path / "x.ipynb") == "x.ipynb: is a directory, not a notebook file"
    assert read_error(tmp_path / "gone.ipynb") == "gone.ipynb: no such file"


def test_notebook_failing_strict_validation_is_still_read_with_a_note(tmp_path):
    raw = json.loads(nbformat.writes(make_nb(GOOD, ("markdown", "hi"))))
    raw["metadata"]["kernelspec"] = 3  # schema wants an object
    del raw["cells"][0]["outputs"]  # and every code cell has outputs
    path = tmp_path / "loose.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path)
    assert sub.functions == {"f"}
    assert len(sub.notes) == 1
    assert sub.notes[0].startswith("loose.ipynb: does not pass strict notebook validation (")
    assert sub.notes[0].endswith("; code cells read anyway")


def test_malformed_notebook_json_is_salvaged(tmp_path):
    raw = {"cells": [{"cell_type": "code", "source": ["def g():\n", "    return 2\n"]},
                     "not a cell",
                     {"cell_type": "markdown", "source": "text"},
                     {"cell_type": "code", "source": 42},
                     {"cell_type": "code", "source": "def h(): return 3"}]}
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(raw))
    sub = load_submission(path)
    assert sub.functions == {"g", "h"}
    assert sub.line_origin[-1] == (3, 1)  # the unusable code cell still counts as cell 2
    assert "odd.ipynb: no 'nbformat' version field; code cells read as v4" in sub.notes
    assert "cell 2: source is not text; cell ignored" in sub.notes


def test_load_submission_id_defaults_to_stem(tmp_path):
    path = write_nb(tmp_path / "alice_hw2.ipynb", GOOD)
    assert load_submission(path).id == "alice_hw2"
    assert load_submission(path, "A-17").id == "A-17"
    with pytest.raises(SubmissionError, match=r"^nope\.ipynb: no such file$"):
        load_submission(tmp_path / "nope.ipynb")


# ---------------------------------------------------------------- discovery

def test_discover_single_notebook_file(tmp_path):
    path = write_nb(tmp_path / "bob.ipynb", GOOD)
    assert discover(path) == [("bob", path, None)]


def test_discover_missing_path_raises(tmp_path):
    with pytest.raises(SubmissionError, match="no such file or folder"):
        discover(tmp_path / "nothing")


def test_discover_folder_rules(tmp_path):
    root = tmp_path / "subs"
    outside = write_nb(tmp_path / "elsewhere" / "secret.ipynb", GOOD)
    write_nb(root / "zed.ipynb", GOOD)
    write_nb(root / "amy.ipynb", GOOD)
    write_nb(root / "carl" / "homework.ipynb", GOOD)
    write_nb(root / "dana" / "b_final.ipynb", GOOD)
    write_nb(root / "dana" / "a_draft.ipynb", GOOD)
    write_nb(root / "dana" / ".ipynb_checkpoints" / "0-checkpoint.ipynb", GOOD)
    write_nb(root / ".ipynb_checkpoints" / "amy-checkpoint.ipynb", GOOD)
    write_nb(root / ".hidden.ipynb", GOOD)
    write_nb(root / ".git" / "stash.ipynb", GOOD)
    (root / "empty_folder").mkdir()
    (root / "notes_only").mkdir()
    (root / "notes_only" / "README.md").write_text("hi")
    write_nb(root / "ckpt_only" / ".ipynb_checkpoints" / "x-checkpoint.ipynb", GOOD)
    (root / "README.txt").write_text("not a notebook")
    (root / "dir.ipynb").mkdir()
    (root / "escape.ipynb").symlink_to(outside)
    (root / "alias.ipynb").symlink_to(root / "amy.ipynb")
    (root / "linked_out").symlink_to(outside.parent, target_is_directory=True)
    (root / "fay").mkdir()
    (root / "fay" / "hw.ipynb").symlink_to(outside)
    write_nb(root / "zed" / "hw.ipynb", GOOD)  # same id as zed.ipynb

    found = discover(root)
    assert [f[0] for f in found] == ["alias", "amy", "carl", "dana", "dir", "escape", "fay",
                                     "linked_out", "zed", "zed"]
    got = {(i, n): (p, e) for n, (i, p, e) in enumerate(found)}
    assert found[0] == ("alias", root / "alias.ipynb", None)
    assert found[1] == ("amy", root / "amy.ipynb", None)
    assert found[2] == ("carl", root / "carl" / "homework.ipynb", None)
    assert found[3] == ("dana", root / "dana" / "a_draft.ipynb", None)  # lexicographically first
    assert found[4] == ("dir", None, "dir.ipynb: is a directory, not a notebook file")
    assert found[5] == ("escape", None, "escape.ipynb: symlink leading outside the submissions folder (not followed)")
    assert found[6] == ("fay", None, "fay/hw.ipynb: symlink leading outside the submissions folder (not followed)")
    assert found[7] == ("linked_out", None, "linked_out: symlink leading outside the submissions folder (not followed)")
    assert found[8] == ("zed", root / "zed.ipynb", None)
    assert found[9] == ("zed", None, "zed/: duplicate submission id 'zed', already used by zed.ipynb; rename one of them")
    assert len(got) == 10
    notes = {f.id: f.notes for f in discover_found(root)}
    assert notes["dana"] == ("folder dana/ holds 2 notebooks (a_draft.ipynb, b_final.ipynb); graded a_draft.ipynb",)
    assert notes["carl"] == ()


def test_discover_duplicate_file_ids_differing_in_suffix_case(tmp_path):
    write_nb(tmp_path / "x.ipynb", GOOD)
    write_nb(tmp_path / "x.IPYNB", GOOD)
    found = discover(tmp_path)
    assert found[0] == ("x", tmp_path / "x.IPYNB", None)
    assert found[1] == ("x", None, "x.ipynb: duplicate submission id 'x', already used by x.IPYNB; rename one of them")


def test_discovered_entries_load(tmp_path):
    write_nb(tmp_path / "a.ipynb", GOOD)
    write_nb(tmp_path / "b" / "nb.ipynb", "def g():\n    return 1\n")
    subs = [load_submission(p, i) for i, p, e in discover(tmp_path) if e is None]
    assert [(s.id, s.functions) for s in subs] == [("a", {"f"}), ("b", {"g"})]
    assert os.path.samefile(subs[1].path, tmp_path / "b" / "nb.ipynb")


# ---------------------------------------------------------------- grading's fast read

def _raw_variants():
    """Raw current-format notebook JSON: valid, valid once nbformat drops transient metadata,
    and invalid in ways nbformat's conversion trips over or only its validation finds."""
    valid = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# hi"),
                                            nbformat.v4.new_code_cell(GOOD)])
    valid = json.loads(nbformat.writes(valid))  # sources as lists of lines, as editors write
    transient = json.loads(json.dumps(valid))
    transient["metadata"].update(orig_nbformat="three", signature="sha256:0")
    no_cell_metadata = json.loads(json.dumps(valid))
    del no_cell_metadata["cells"][1]["metadata"]
    bad_field = json.loads(json.dumps(valid))
    bad_field["cells"][1]["execution_count"] = "one"
    not_a_dict = json.loads(json.dumps(valid))
    not_a_dict["cells"].insert(0, "a stray string")
    return {"valid": valid, "transient": transient, "no_cell_metadata": no_cell_metadata,
            "bad_field": bad_field, "not_a_dict": not_a_dict}


@pytest.mark.parametrize("kind", sorted(_raw_variants()))
def test_read_code_cells_says_what_read_notebook_says(tmp_path, kind):
    from grader.read.notebook import code_cells, read_code_cells, read_notes

    path = tmp_path / f"{kind}.ipynb"
    path.write_text(json.dumps(_raw_variants()[kind]))
    nb = read_notebook(path)
    sources, notes = code_cells(nb)
    assert read_code_cells(path) == (sources, list(read_notes(nb)) + notes)
    assert GOOD in sources
    assert bool(read_notes(nb)) == (kind not in ("valid", "transient"))
