"""The kernel-based way to grade, for comparison: execute the whole notebook in a fresh Jupyter
kernel with nbclient, then assert the public cases inside the student's own process (as nbgrader
and Otter do). Self-check cells are dropped so no grader code runs in the kernel."""
import nbformat
from nbclient import NotebookClient

from grader.course.cases import load_cases

ASSERTS = '''
import numpy as _np
def _check(_fn, _args, _expected):
    _out = _fn(*_args)
    _got = _out
    for _i in _expected[0]:
        _got = _got[_i]
    assert _np.allclose(_np.asarray(_got, dtype=float), _expected[1], rtol=1e-7, atol=1e-12)
'''


def _assert_cell(cases_path):
    """In-kernel asserts for the public cases that are a single call with literal arguments."""
    _, cases = load_cases(cases_path)
    lines = [ASSERTS]
    for case in cases:
        call = case.calls[0]
        if len(case.calls) != 1 or not case.expects or call.kwargs:
            continue
        args = ", ".join(f"_np.array({a.tolist()!r})" if hasattr(a, "tolist") else repr(a)
                         for a in call.args)
        for expect in case.expects:
            path = call.returns[expect.part]
            lines.append(f"try:\n    _check({call.function}, ({args},), ({tuple(path)!r}, "
                         f"_np.array({expect.value.tolist()!r})))\nexcept Exception as _e:\n"
                         f"    print('FAILED', {case.name!r}, repr(_e)[:80])")
    return "\n".join(lines)


def execute(notebook_path, cases_path, timeout=60):
    nb = nbformat.read(notebook_path, as_version=4)
    nb.cells = [c for c in nb.cells if "check" not in c.get("metadata", {}).get("tags", [])]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.splitlines()
                                    if line.strip() != "import grader")
    nb.cells.append(nbformat.v4.new_code_cell(_assert_cell(cases_path)))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=True)
    client.execute()
    return nb
