"""The student's side, for real: the rnn_linear notebook with its TODO cells filled, executed
top to bottom in a Jupyter kernel; each self-check cell (`grader.check("f")`) runs the public cases
of the function just defined and prints its report."""
import shutil

import nbformat
from nbclient import NotebookClient

from reference import rnn_linear as ref
from tests.grading import COURSE, reference_source

FOLDER = COURSE / "assignments" / "rnn_linear"


def _run(tmp_path, solutions):
    nb = nbformat.read(FOLDER / "rnn_linear.ipynb", as_version=4)
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags", [])
        for name, code in solutions.items():
            if "todo" in tags and name in tags:
                cell.source = code
    shutil.copy(FOLDER / "public_cases.bin", tmp_path)  # as a student receives it
    NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    return {cell.source: "".join(o.get("text", "") for o in cell.get("outputs", []))
            for cell in nb.cells if cell.cell_type == "code" and "check" in
            cell.get("metadata", {}).get("tags", [])}


def test_self_check_cells_report_in_a_real_kernel(tmp_path):
    wrong = "def output_gradient(y, t):\n    return 2 * (t - y)\n"
    checks = _run(tmp_path, {"output_gradient": wrong,
                             "backward_gradient": reference_source(ref, "backward_gradient")})
    output = checks['grader.check("output_gradient")']
    assert "[FAIL] output_gradient: a batch of 7" in output and "wrong sign" in output
    backward = checks['grader.check("backward_gradient")']
    assert "[PASS] backward_gradient: 7 sequences of 5 steps" in backward
    assert "hidden" not in (output + backward).lower()
