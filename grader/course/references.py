"""The trusted reference of an assignment, `reference/<name>.py` of a course, imported by its
path: any course folder works (a temporary one too), whatever `reference` package this process
imported before, and the import state is left as it was."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType


def load_reference(course: Path, name: str) -> ModuleType:
    """Import ``reference/<name>.py`` of `course`. While it runs, ``reference.<other>`` (a
    reference importing another, as lstm imports gates' sigmoid) resolves in the same course;
    ``sys.modules`` and ``sys.path`` are restored afterwards."""
    course = Path(course).resolve()
    path = course / "reference" / f"{name}.py"
    if not path.is_file():
        raise FileNotFoundError(f"no reference implementation {path}")
    saved = {key: module for key, module in sys.modules.items()
             if key == "reference" or key.startswith("reference.")}
    for key in saved:
        del sys.modules[key]
    sys.path.insert(0, str(course))
    try:
        spec = importlib.util.spec_from_file_location(f"reference.{name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(course))
        for key in [k for k in sys.modules if k == "reference" or k.startswith("reference.")]:
            del sys.modules[key]
        sys.modules.update(saved)
    return module
