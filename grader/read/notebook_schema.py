"""The current notebook format's JSON schema as a compiled validator, kept on disk between runs.

fastjsonschema turns nbformat's schema into Python source (~20 ms) that Python then compiles
(~40 ms): every grading run paid both before its first notebook. Here the compiled code is
written once inside the virtual environment the grader runs from, named by a hash of the
schema, fastjsonschema's version and the interpreter's, and loaded from then on (~2 ms). Only
there: code the grader runs must be as trusted as the grader's own, and the environment is
already (a user's cache folder is one that reduced isolation lets student code write to).
Outside a virtual environment, or where it is read-only, the validator is compiled in memory.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import json
import marshal
import os
import re
import sys
from pathlib import Path

import fastjsonschema

#: raised by the validator for a notebook that does not follow the schema
Invalid = fastjsonschema.JsonSchemaException


def cache_folder() -> Path | None:
    """Where the compiled validator is kept: in the running virtual environment, or None."""
    if sys.prefix == sys.base_prefix:
        return None
    return Path(sys.prefix) / "var" / "cache" / "grader"


def _validate_function(code) -> object:
    """The `validate` function that fastjsonschema's generated module defines."""
    namespace: dict = {"__name__": "_grader_notebook_schema"}
    exec(code, namespace)  # noqa: S102 (fastjsonschema's output, or our cache of it)
    return namespace["validate"]


#: the cell types of the current format, each a definition of its own in the schema
CELL_TYPES = ("code", "markdown", "raw")


def _split(schema: dict) -> list:
    """The schema as several: the notebook with each cell only required to be an object, then
    one per cell type. The schema's cell is "oneOf" the three cell definitions, which fix
    cell_type to one value each, so a cell is valid exactly when it is valid as the definition
    of its own cell_type: checked that way, the two others are not tried and failed for every
    cell (half of the validating time). A schema whose cells are described otherwise (a
    future minor version) is kept whole."""
    definitions = schema.get("definitions", {})
    expected = {f"#/definitions/{kind}_cell" for kind in CELL_TYPES}
    cell = definitions.get("cell", {})
    if set(cell) != {"type", "oneOf"} or cell["type"] != "object" \
            or {ref.get("$ref") for ref in cell["oneOf"]} != expected \
            or len(cell["oneOf"]) != len(CELL_TYPES) \
            or any(definitions[f"{kind}_cell"].get("properties", {}).get("cell_type", {})
                   .get("enum") != [kind] for kind in CELL_TYPES):
        return [schema]
    notebook = json.loads(json.dumps(schema))
    notebook["definitions"]["cell"] = {"type": "object"}
    return [notebook] + [{"$schema": schema.get("$schema"), "$ref": f"#/definitions/{kind}_cell",
                          "definitions": schema["definitions"]} for kind in CELL_TYPES]


def _validator_of(functions: list):
    """One function checking a notebook with the split schema's validators."""
    if len(functions) == 1:  # the schema kept whole
        return functions[0]
    notebook, *cells = functions
    by_type = dict(zip(CELL_TYPES, cells))

    def validate(data):
        notebook(data)
        for cell in data["cells"]:
            kind = cell.get("cell_type")
            check = by_type.get(kind) if isinstance(kind, str) else None
            if check is None:
                raise Invalid(f"data.cells: no cell type of the format: {str(kind)[:40]}")
            check(cell)
        return data

    return validate


@functools.lru_cache(maxsize=1)
def _schema_file() -> Path:
    """nbformat's schema of the current v4 minor version, found without importing nbformat
    (which imports jsonschema: ~60 ms): its highest-numbered v4 schema file."""
    folder = Path(importlib.util.find_spec("nbformat").submodule_search_locations[0]) / "v4"
    numbered = [(int(m.group(1)), path) for path in folder.glob("nbformat.v4.*.schema.json")
                if (m := re.fullmatch(r"nbformat\.v4\.(\d+)\.schema\.json", path.name))]
    return max(numbered)[1]


def minor() -> int:
    """The current notebook format's minor version (nbformat.v4.nbformat_minor)."""
    return int(_schema_file().name.split(".")[2])


@functools.lru_cache(maxsize=1)
def validator():
    """A function that raises `Invalid` unless its argument is a valid notebook of the current
    format (nbformat's schema, checked by fastjsonschema, as nbformat's own validator does)."""
    path_of_schema = _schema_file()
    name = path_of_schema.name
    schema_text = path_of_schema.read_text(encoding="utf-8")
    key = hashlib.sha256(f"{fastjsonschema.VERSION}\nsplit by cell type\n{schema_text}"
                         .encode()).hexdigest()[:16]
    folder = cache_folder()
    path = None if folder is None else \
        folder / f"nbformat_v4_{minor()}_{key}.{sys.implementation.cache_tag}.code"
    magic = importlib.util.MAGIC_NUMBER
    try:
        data = path.read_bytes() if path is not None else b""
        if data.startswith(magic):
            return _validator_of([_validate_function(c) for c in marshal.loads(data[len(magic):])])
    except (OSError, ValueError, EOFError, TypeError):
        pass  # not there yet (or unreadable): made again below
    codes = tuple(compile(fastjsonschema.compile_to_code(part), f"<{name}>", "exec")
                  for part in _split(json.loads(schema_text)))
    if path is not None:
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(magic + marshal.dumps(codes))
            os.replace(partial, path)  # whole or not at all, whoever writes it at once
        except OSError:  # read-only: the next run compiles it again
            with contextlib.suppress(OSError):
                partial.unlink()
    return _validator_of([_validate_function(c) for c in codes])
