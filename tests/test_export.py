"""Grading elsewhere: the Gradescope autograder zip run in a simulated /autograder layout, the
GitHub Classroom workflow's script run in a simulated checkout, the private bundle, and
`grader summary`."""
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from grader import export
from grader.cli import main
from grader.grade import grade_submission
from grader.sandbox.isolation import probe
from grader.submission import load_submission
from tests.grading import COURSE, assignment, worker

SAMPLES = COURSE / "assignments" / "lstm" / "samples"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}


def run_cli(*args):
    result = CliRunner().invoke(main, [*map(str, args)])
    assert result.exit_code == 0, result.output
    return result.output


def validate_gradescope(data: dict) -> None:
    """What Gradescope requires of results.json."""
    assert isinstance(data.get("score"), (int, float))
    assert data.get("output_format", "text") in FORMATS
    assert data.get("test_output_format", "text") in FORMATS
    assert data.get("visibility", "visible") in VISIBILITIES
    assert data.get("stdout_visibility", "hidden") in VISIBILITIES
    for test in data.get("tests", []):
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test)
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
        assert 0 <= test["score"] <= test["max_score"] + 1e-9
    if data.get("tests"):
        assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]), abs=1e-3)


def expected_score(name, notebook: Path) -> float:
    return grade_submission(assignment(name), load_submission(notebook), worker()).score


@pytest.fixture(scope="module")
def outside_tmp():
    """A scratch folder outside /tmp: the sandbox gives the worker a private /tmp, so a Python
    installed under /tmp would be hidden from it (as it never is in /autograder)."""
    for base in ("/var/tmp", str(Path.home() / ".cache")):
        if os.access(base, os.W_OK):
            folder = Path(tempfile.mkdtemp(prefix="grader-export-", dir=base))
            yield folder
            shutil.rmtree(folder, ignore_errors=True)
            return
    pytest.skip("no writable folder outside /tmp")


def make_venv(folder: Path, wheel: Path) -> Path:
    """What setup.sh makes, offline: a venv with the exported grader wheel installed by pip
    (its dependencies come from this environment instead of PyPI)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], check=True, capture_output=True, text=True)
    ours = subprocess.run([sys.executable, "-c", "import sysconfig; print(sysconfig.get_path("
                           "'purelib'))"], check=True, capture_output=True, text=True)
    (Path(site.stdout.strip()) / "dependencies.pth").write_text(ours.stdout.strip() + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True)
    return python


# ---- Gradescope -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder(outside_tmp):
    """The lstm autograder zip unpacked as Gradescope does: /autograder/source, run_autograder
    copied to /autograder, setup.sh's venv at /autograder/venv."""
    zip_path = outside_tmp / "autograder.zip"
    output = run_cli("export", "gradescope", "lstm", "-o", zip_path, "--course", COURSE)
    assert "autograder.zip" in output
    root = outside_tmp / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        names = archive.namelist()
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (wheel,) = (root / "source").glob("grader-*.whl")
    make_venv(root / "venv", wheel)
    return root, names, modes


def run_autograder(root: Path, *notebooks: Path, names=None):
    submission = root / "submission"
    shutil.rmtree(submission, ignore_errors=True)
    shutil.rmtree(root / "results", ignore_errors=True)
    submission.mkdir()
    for index, notebook in enumerate(notebooks):
        shutil.copy(notebook, submission / (names[index] if names else notebook.name))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True,
                          env={**env, "AUTOGRADER_ROOT": str(root)}, timeout=300, cwd=COURSE)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads((root / "results" / "results.json").read_text()), done


def test_gradescope_zip_holds_what_the_autograder_needs(autograder):
    _, names, modes = autograder
    assert {"setup.sh", "run_autograder", "assignments/lstm/spec.toml",
            "assignments/lstm/cases.py", "assignments/lstm/public_cases.bin",
            "reference/__init__.py", "reference/lstm.py",
            "reference/gates.py"} <= set(names)  # lstm's cases import reference.gates too
    assert any(n.startswith("grader-") and n.endswith(".whl") for n in names)
    assert not [n for n in names if "samples" in n or n.startswith(("tests/", "reference/rnn"))]
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR
        assert subprocess.run(["bash", "-n", str(autograder[0] / "source" / script)]).returncode == 0
    setup = (autograder[0] / "source" / "setup.sh").read_text()
    assert "apt-get install -y -qq bubblewrap" in setup and "grader-*.whl" in setup


def test_gradescope_wheel_is_the_grader_package(autograder):
    root = autograder[0]
    (wheel,) = (root / "source").glob("grader-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = archive.read("grader-0.1.0.dist-info/METADATA").decode()
    assert {"grader/cli.py", "grader/report/templates/feedback.html.j2",
            "grader/sandbox/worker.py"} <= names
    assert not [n for n in names if n.startswith(("reference/", "assignments/"))]
    assert "Requires-Dist: matplotlib" in meta and "Requires-Dist: numpy" in meta
    python = root / "venv" / "bin" / "python"
    where = subprocess.run([str(python), "-c", "import grader; print(grader.__file__)"],
                           capture_output=True, text=True, check=True, cwd=root).stdout
    assert where.startswith(str(root / "venv"))  # the wheel's copy, not this checkout's


def test_gradescope_grades_a_submission_in_the_simulated_layout(autograder):
    root = autograder[0]
    notebook = SAMPLES / "dc_not_carried.ipynb"
    data, done = run_autograder(root, notebook, names=["my work.ipynb"])
    validate_gradescope(data)
    assert data["score"] == pytest.approx(expected_score("lstm", notebook), abs=1e-4)
    assert data["extra_data"]["assignment"] == "lstm"
    # the installed wheel works inside the sandbox too (where bubblewrap works here)
    assert data["extra_data"]["isolation"] == probe()[0]
    hidden = [t for t in data["tests"] if t["visibility"] == "after_published"]
    assert hidden and all(t["output"] in ("Passed.", "Failed (hidden test: no details are shown).")
                          for t in hidden)
    assert any("dc_next" in t["output"] for t in data["tests"] if t["visibility"] == "visible")
    assert not list((root / "results").glob("*.html"))


def test_gradescope_prefers_the_assignment_notebook_and_explains_problems(autograder):
    root = autograder[0]
    data, _ = run_autograder(root, SAMPLES / "correct_loop.ipynb", SAMPLES / "gate_order_ifog.ipynb",
                             names=["lstm.ipynb", "scratch.ipynb"])
    validate_gradescope(data)
    assert data["score"] == assignment("lstm").max_score

    data, _ = run_autograder(root, SAMPLES / "correct_loop.ipynb", SAMPLES / "gate_order_ifog.ipynb")
    validate_gradescope(data)
    assert data["score"] == 0 and "several notebooks" in data["output"]
    assert "correct_loop.ipynb" in data["output"] and "lstm.ipynb" in data["output"]

    data, _ = run_autograder(root)
    validate_gradescope(data)
    assert data["score"] == 0 and "No notebook" in data["output"]

    data, _ = run_autograder(root, SAMPLES / "truncated_json.ipynb")
    validate_gradescope(data)
    assert data["score"] == 0 and "not valid JSON" in data["output"]


# ---- GitHub Classroom -------------------------------------------------------------------------

def workflow(folder: Path) -> dict:
    data = yaml.safe_load((folder / ".github" / "workflows" / "grade.yml").read_text())
    assert data["jobs"]["grade"]["runs-on"] == "ubuntu-latest"
    # YAML reads the key `on` as True
    assert "push" in data.get("on", data.get(True))
    return data


def run_grade_script(folder: Path, python: Path, **env):
    summary = folder / "step_summary.md"
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(folder / ".github" / "grade.sh")], capture_output=True,
                          text=True, timeout=300,
                          env={**clean, "PYTHON": str(python), "GITHUB_STEP_SUMMARY": str(summary),
                               **env})
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, summary.read_text()


@pytest.fixture(scope="module")
def public_repo(outside_tmp):
    """A student repository made from `grader export github lstm` (public cases only), with
    the student's work in lstm.ipynb and the exported wheel installed as the workflow does."""
    folder = outside_tmp / "student-repo"
    output = run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE)
    assert "public cases only" in output
    (wheel,) = (folder / ".grader").glob("grader-*.whl")
    python = make_venv(outside_tmp / "github-venv", wheel)
    return folder, python


def test_github_template_has_workflow_notebook_and_public_cases_only(public_repo):
    folder, _ = public_repo
    steps = workflow(folder)["jobs"]["grade"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "bash .github/grade.sh" in runs and "grader-*.whl" in runs
    assert "secrets" not in (folder / ".github" / "workflows" / "grade.yml").read_text()
    assert any(s.get("uses", "").startswith("actions/upload-artifact") for s in steps)
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}
    assert {"lstm.ipynb", "public_cases.bin", "GRADING.md", ".github/grade.sh"} <= files
    assert not [f for f in files if f.startswith(("reference/", "assignments/"))]
    # no hidden test is named anywhere in the repository
    hidden = [c.name for c in assignment("lstm").cases if c.visibility == "hidden"]
    for path in folder.rglob("*"):
        if path.is_file() and path.suffix != ".whl":
            data = path.read_bytes()
            assert not [h for h in hidden if h.encode() in data], path
    assert "graded by the instructor after the deadline" in (folder / "GRADING.md").read_text()


def test_github_workflow_script_grades_public_cases_and_prints_points(public_repo):
    folder, python = public_repo
    shutil.copy(SAMPLES / "use_state_ignored.ipynb", folder / "lstm.ipynb")
    log, summary = run_grade_script(folder, python)
    data = json.loads((folder / ".grader-out" / "lstm" / "results.json").read_text())
    validate_gradescope(data)
    public = assignment("lstm").public()
    assert len(data["tests"]) == len(public.cases)
    assert all(t["visibility"] == "visible" for t in data["tests"])
    points = f"Points {data['score']:g}/{public.max_score:g}"
    assert points in log.splitlines() and points in summary.splitlines()
    assert "| ✅ |" in summary and "| ❌ |" in summary and "#### What to fix" in summary
    assert (folder / ".grader-out" / "lstm" / "feedback.html").is_file()


@pytest.fixture(scope="module")
def bundle_dir(outside_tmp):
    folder = outside_tmp / "bundle"
    output = run_cli("export", "bundle", "lstm", "-o", folder, "--course", COURSE)
    assert "keep it private" in output
    return folder


def test_github_with_the_private_bundle_grades_hidden_cases(outside_tmp, bundle_dir, public_repo):
    folder = outside_tmp / "student-repo-bundle"
    run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE,
            "--bundle-repo", "course-staff/lstm-grading")
    text = (folder / ".github" / "workflows" / "grade.yml").read_text()
    assert "secrets.GRADING_TOKEN" in text and "course-staff/lstm-grading.git" in text
    steps = workflow(folder)["jobs"]["grade"]["steps"]
    assert any("git clone" in s.get("run", "") for s in steps)
    assert not (folder / ".grader").exists()
    assert "Trade-off" in (folder / "GRADING.md").read_text()
    assert {p.name for p in bundle_dir.iterdir()} >= {"assignments", "reference"}

    shutil.copy(SAMPLES / "dc_not_carried.ipynb", folder / "lstm.ipynb")
    log, summary = run_grade_script(folder, public_repo[1], GRADING_BUNDLE=str(bundle_dir))
    data = json.loads((folder / ".grader-out" / "lstm" / "results.json").read_text())
    validate_gradescope(data)
    assert data["score"] == pytest.approx(expected_score("lstm", SAMPLES / "dc_not_carried.ipynb"),
                                          abs=1e-4)
    assert f"Points {round(data['score'], 2):g}/{assignment('lstm').max_score:g}" in log
    assert "*(hidden)*" in summary
    hidden_fix = [line for line in summary.splitlines() if "(hidden)" in line and "dc_next" in line]
    assert not hidden_fix


def test_github_script_without_bundle_fails_clearly(outside_tmp, public_repo):
    folder = outside_tmp / "student-repo-nobundle"
    run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE,
            "--bundle-repo", "course-staff/lstm-grading")
    done = subprocess.run(["bash", str(folder / ".github" / "grade.sh")], capture_output=True,
                          text=True, env={**os.environ, "PYTHON": str(public_repo[1]),
                                          "GRADING_BUNDLE": str(folder / "missing")})
    assert done.returncode == 1 and "GRADING_TOKEN" in done.stdout


def test_export_rejects_bad_names():
    result = CliRunner().invoke(main, ["export", "github", "lstm", "-o", "x", "--course",
                                       str(COURSE), "--bundle-repo", "no slash; rm -rf"])
    assert result.exit_code != 0 and "OWNER/REPO" in result.output
    result = CliRunner().invoke(main, ["export", "gradescope", "nope", "--course", str(COURSE)])
    assert result.exit_code != 0 and "unknown assignment" in result.output


# ---- grader summary -------------------------------------------------------------------------

def fake_results(folder: Path, submission: str, scores: list, hidden=()) -> Path:
    tests = [{"name": f"test {i}", "score": s, "max_score": 2, "status":
              "passed" if s == 2 else "failed", "output": "Passed." if s == 2 else
              f"Your `dW` | is off in test {i}.", "visibility":
              "after_published" if i in hidden else "visible"} for i, s in enumerate(scores)]
    path = folder / submission / "results.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"score": sum(scores), "tests": tests, "extra_data": {
        "assignment": "demo", "submission": submission, "max_score": 2 * len(scores)}}))
    return path


def test_summary_of_one_submission_has_table_fixes_and_points(tmp_path):
    fake_results(tmp_path, "alice", [2, 0, 1.3333, 0], hidden=(3,))
    output = run_cli("summary", tmp_path)
    lines = output.splitlines()
    assert lines[0] == "### demo: 3.33 / 8 points (alice)"
    assert "| ✅ | test 0 | 2 / 2 |" in lines
    assert "| ❌ | test 3 *(hidden)* | 0 / 2 |" in lines
    assert "- **test 1**: Your `dW` | is off in test 1." in lines
    assert not [line for line in lines if "off in test 3" in line]  # hidden: no details
    assert lines[-1] == "Points 3.33/8"


def test_summary_of_several_submissions_is_a_table(tmp_path):
    fake_results(tmp_path, "alice", [2, 2])
    fake_results(tmp_path, "bob", [2, 0])
    output = run_cli("summary", tmp_path)
    assert "| alice | 4 / 4 | 0 |" in output and "| bob | 2 / 4 | 1 |" in output
    assert "Points" not in output and "2 submissions, 6 of 8 points in all." in output


def test_summary_errors(tmp_path):
    result = CliRunner().invoke(main, ["summary", str(tmp_path)])
    assert result.exit_code != 0 and "no results.json" in result.output
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "results.json").write_text("{")
    result = CliRunner().invoke(main, ["summary", str(tmp_path)])
    assert result.exit_code != 0 and "not a results.json" in result.output


def test_summary_reads_real_results(tmp_path):
    out = tmp_path / "out"
    run_cli("grade", "lstm", SAMPLES / "gate_order_ifog.ipynb", "--out", out, "--course", COURSE,
            "--no-html", "--no-gradebook", "--jobs", "1")
    data = json.loads((out / "gate_order_ifog" / "results.json").read_text())
    output = run_cli("summary", out)
    assert output.splitlines()[-1] == f"Points {data['score']:g}/{assignment('lstm').max_score:g}"
    assert output.count("| ✅ |") + output.count("| ❌ |") == len(data["tests"])
