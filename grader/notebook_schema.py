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
    key = hashlib.sha256(f"{fastjsonschema.VERSION}\n{schema_text}".encode()).hexdigest()[:16]
    folder = cache_folder()
    path = None if folder is None else \
        folder / f"nbformat_v4_{minor()}_{key}.{sys.implementation.cache_tag}.code"
    magic = importlib.util.MAGIC_NUMBER
    try:
        data = path.read_bytes() if path is not None else b""
        if data.startswith(magic):
            return _validate_function(marshal.loads(data[len(magic):]))
    except (OSError, ValueError, EOFError, TypeError):
        pass  # not there yet (or unreadable): made again below
    code = compile(fastjsonschema.compile_to_code(json.loads(schema_text)), f"<{name}>", "exec")
    if path is not None:
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(magic + marshal.dumps(code))
            os.replace(partial, path)  # whole or not at all, whoever writes it at once
        except OSError:  # read-only: the next run compiles it again
            with contextlib.suppress(OSError):
                partial.unlink()
    return _validate_function(code)
