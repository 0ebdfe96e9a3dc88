"""Grading elsewhere: a Gradescope autograder zip, a GitHub Classroom / GitHub Actions workflow
(which reports through `grader summary`, grader/export/classroom.py) and the instructor's private
grading bundle both can use.

A bundle is what grading an assignment needs, outside this checkout: a wheel of the grader
package (built here from its source, no build tools needed: the sandbox's worker imports the
*installed* grader, so it must be installed, not put on PYTHONPATH), `assignments/<name>/`
(spec.toml, cases.py if any, public_cases.bin), its reference and those its case builders import. It
holds the references and so the hidden cases: it is for the instructor's private places
(Gradescope's autograder, a private repository), never for students.
"""
import ast
import base64
import functools
import hashlib
import io
import re
import stat
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import click

import grader
from grader import i18n
from grader.course import settings
from grader.course.assignment import COURSE_HELP, AssignmentError, find_course, load
from grader.export import script_words

PACKAGE = Path(grader.__file__).resolve().parent
#: the distribution's name as a wheel's file name spells it (backprop_grader-0.1.0-...whl)
WHEEL_NAME = grader.DISTRIBUTION.replace("-", "_")
ASSIGNMENT_FILES = ("spec.toml", "cases.py", "public_cases.bin")


class ExportError(Exception):
    pass


# ---- what grading needs ---------------------------------------------------------------------

def requirements() -> list:
    """The grader's runtime dependencies (no test extras): the installed distribution's, else
    (run from a source checkout) those pyproject.toml beside the package lists."""
    try:
        found = metadata.requires(grader.DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        found = []
    listed = [r.split(";")[0].strip() for r in found if "extra ==" not in r]
    return listed or _project_requirements()


def _project_requirements() -> list:
    path = PACKAGE.parent / "pyproject.toml"
    try:
        return list(tomllib.loads(path.read_text())["project"]["dependencies"])
    except (OSError, KeyError, tomllib.TOMLDecodeError) as exc:
        raise ExportError(f"the grader is not installed and {path} does not list its "
                          f"dependencies ({exc})") from None


def package_files() -> dict:
    """{path in a wheel: file} of the grader package source (Python, templates and the
    compiled message catalogues)."""
    files = {}
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts \
                and path.suffix in (".py", ".j2", ".mo"):
            files[f"grader/{path.relative_to(PACKAGE).as_posix()}"] = path
    return files


def _requires_python() -> str:
    try:
        return metadata.metadata(grader.DISTRIBUTION)["Requires-Python"] or ">=3.11"
    except metadata.PackageNotFoundError:
        return ">=3.11"


def _zip_bytes(files: dict, executable=()) -> bytes:
    """A deterministic zip of {name: Path or text or bytes}."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, item in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = ((0o755 if name in executable else 0o644) | stat.S_IFREG) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, _content(item))
    return buffer.getvalue()


def wheel() -> tuple[str, bytes]:
    """(file name, bytes) of a pure-Python wheel of the grader package, as pip installs it:
    the package, its dependencies, and the `grader` command, under the distribution's name
    (backprop-grader: `grader` on PyPI is another project)."""
    version = grader.__version__
    stem = f"{WHEEL_NAME}-{version}"
    info = f"{stem}.dist-info"
    files = dict(package_files())
    files[f"{info}/METADATA"] = "".join(
        ["Metadata-Version: 2.1\n", f"Name: {grader.DISTRIBUTION}\n", f"Version: {version}\n",
         "Summary: Autograder for backpropagation assignments\n",
         f"Requires-Python: {_requires_python()}\n"]
        + [f"Requires-Dist: {r}\n" for r in requirements()])
    files[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: grader export\n"
                              "Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[f"{info}/entry_points.txt"] = "[console_scripts]\ngrader = grader.cli:main\n"
    record = []
    for name, item in sorted(files.items()):
        data = _content(item)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = "\n".join(record + [f"{info}/RECORD,,"]) + "\n"
    return f"{stem}-py3-none-any.whl", _zip_bytes(files)


def _reference_imports(path: Path) -> set:
    """Names of the reference modules a file imports (`from reference import x`,
    `from reference.x import y`, `import reference.x`)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "reference":
                names.update(a.name for a in node.names)
            elif node.module.startswith("reference."):
                names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("reference."))
    return names


def course_files(course: Path, name: str) -> dict:
    """{path in a bundle: file} of one assignment and the references its cases import."""
    folder = course / "assignments" / name
    if not (folder / "spec.toml").is_file():
        raise ExportError(f"unknown assignment {name!r} in {course}")
    files = {f"assignments/{name}/{f}": folder / f for f in ASSIGNMENT_FILES
             if (folder / f).is_file()}
    for catalogue in sorted((folder / "locale").glob("*/LC_MESSAGES/*.mo")):  # its own words
        files[f"assignments/{name}/{catalogue.relative_to(folder).as_posix()}"] = catalogue
    reference = course / "reference"
    cases = folder / "cases.py"
    # its own reference (a short spec's cases are derived from it) and those its builders import
    pending = [name, *(_reference_imports(cases) if cases.is_file() else ())]
    seen = set()
    while pending:
        module = pending.pop()
        if module in seen:
            continue
        seen.add(module)
        path = reference / f"{module}.py"
        if not path.is_file():
            raise ExportError(f"{name} needs reference.{module}, which is not in {reference}")
        files[f"reference/{module}.py"] = path
        pending.extend(_reference_imports(path))
    if (reference / "__init__.py").is_file():
        files["reference/__init__.py"] = reference / "__init__.py"
    return files


def _check_name(name: str) -> None:
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*", name):
        raise ExportError(f"assignment name {name!r}: letters, digits, _ . - only")


def bundle(course: Path, name: str, lang: str | None = None) -> dict:
    """{path: Path, text or bytes}: everything grading `name` needs, away from this checkout:
    the grader wheel, the assignment and its references, and the course's settings (its
    language replaced by `lang`, if given)."""
    _check_name(name)
    load(name, course)  # an assignment that does not load is not exported
    wheel_name, wheel_bytes = wheel()
    return {wheel_name: wheel_bytes, **course_files(course, name), **_settings(course, lang)}


def _settings(course: Path, lang: str | None) -> dict:
    """{course.toml: its text} for a bundle: the course's settings, with `lang` if given."""
    chosen = {**settings.read(course), **({"lang": lang} if lang else {})}
    if not chosen:
        return {}
    return {settings.SETTINGS: "# the course's settings, written by `grader export`\n" + "".join(
        f'{key} = "{value}"\n' for key, value in sorted(chosen.items()))}


def _content(item) -> bytes:
    if isinstance(item, Path):
        return item.read_bytes()
    return item if isinstance(item, bytes) else item.encode()


def write_folder(folder: Path, files: dict, executable=()) -> list:
    written = []
    for name, item in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_content(item))
        if name in executable:
            target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        written.append(target)
    return written


@functools.lru_cache(maxsize=1)
def _environment():
    """Templates of shell scripts, YAML and Markdown: no HTML escaping, and delimiters that
    neither GitHub's ${{ }} nor bash's ${#x} can be mistaken for."""
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(PACKAGE / "report" / "templates" / "export")),
        autoescape=False, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        variable_start_string="{=", variable_end_string="=}", comment_start_string="{##",
        comment_end_string="##}", trim_blocks=True, lstrip_blocks=True)
    environment.globals["wheel_glob"] = f"{WHEEL_NAME}-*.whl"  # what the scripts install
    return environment


def _template(name: str, **values) -> str:
    return _environment().get_template(name).render(**values)


# ---- Gradescope -----------------------------------------------------------------------------

def gradescope_files(course: Path, name: str, lang: str | None = None) -> dict:
    files = bundle(course, name, lang)
    files["setup.sh"] = _template("setup.sh.j2", assignment=name)
    words = script_words.gradescope(lang or settings.language(course))
    files["run_autograder"] = _template("run_autograder.j2", assignment=name, words=words)
    return files


def write_gradescope(course: Path, name: str, target: Path, lang: str | None = None) -> Path:
    """autograder.zip: setup.sh and run_autograder at its root, beside the bundle."""
    files = gradescope_files(course, name, lang)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(_zip_bytes(files, executable=("setup.sh", "run_autograder")))
    return target


# ---- GitHub Classroom -----------------------------------------------------------------------

def github_files(course: Path, name: str, bundle_repo: str | None,
                 lang: str | None = None) -> dict:
    """A student repository template: the notebook (the handout in `lang`, or the course's
    language, where there is one), the public cases, the workflow and its script, and (grading
    public cases only) the grader package; with `bundle_repo` the workflow fetches the
    instructor's private bundle instead."""
    _check_name(name)
    if bundle_repo and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", bundle_repo):
        raise ExportError(f"--bundle-repo {bundle_repo!r}: expected OWNER/REPO")
    folder = course / "assignments" / name
    load(name, course)
    files = {}
    lang = lang or settings.language(course)
    for item in (f"{name}.ipynb", "public_cases.bin"):
        if (folder / item).is_file():
            files[item] = folder / item
    handout = folder / f"{name}.{lang}.ipynb"
    if lang and handout.is_file():
        files[f"{name}.ipynb"] = handout
    wheel_name, wheel_bytes = wheel()
    if not bundle_repo:  # the grader package holds no reference and no hidden case
        files[f".grader/{wheel_name}"] = wheel_bytes
    values = {"assignment": name, "bundle_repo": bundle_repo,
              "lang": lang if lang and lang != i18n.DEFAULT else ""}
    files[".github/workflows/classroom.yml"] = _template("classroom.yml.j2", **values)
    files[".github/grade.sh"] = _template("grade.sh.j2", words=script_words.github(lang), **values)
    files["GRADING.md"] = _template("GRADING.md.j2", **values)
    return files


# ---- commands -------------------------------------------------------------------------------

def _fail(message):
    raise click.ClickException(message)


def _course(course):
    try:
        return find_course(course)
    except AssignmentError as exc:
        _fail(str(exc))


#: the language of the feedback the export grades (the course's course.toml by default)
lang_option = click.option("--lang", type=click.Choice(i18n.LANGUAGES), default=None,
                           help="Language of the feedback (default: the course's, course.toml).")


@click.group()
def export():
    """Package an assignment's grading for Gradescope, GitHub Classroom or a private bundle."""


@export.command()
@click.argument("assignment")
@click.option("-o", "--out", "output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("autograder.zip"), show_default=True,
              help="The autograder zip to write (holds the hidden cases: never share it).")
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
@lang_option
def gradescope(assignment, output, course, lang):
    """Write a Gradescope autograder zip for ASSIGNMENT (setup.sh, run_autograder, the grader
    source, the assignment and its references)."""
    try:
        path = write_gradescope(_course(course), assignment, output, lang)
    except (AssignmentError, ExportError) as exc:
        _fail(str(exc))
    click.echo(f"{assignment}: wrote {path} ({path.stat().st_size // 1024} KiB); upload it as "
               "the autograder of a Gradescope programming assignment")


@export.command()
@click.argument("assignment")
@click.option("-o", "--out", "output", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Folder for the student repository template.")
@click.option("--bundle-repo", default=None, metavar="OWNER/REPO",
              help="Private repository holding `grader export bundle` output: the workflow "
                   "fetches it with the GRADING_TOKEN secret and grades hidden cases too. "
                   "Without it the workflow grades the public cases only.")
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
@lang_option
def github(assignment, output, bundle_repo, course, lang):
    """Write a GitHub Classroom repository template for ASSIGNMENT: the notebook, the public
    cases, .github/workflows/classroom.yml ("Autograding Tests": grades, reports the score to
    GitHub Classroom through its autograding reporter, a job summary table, the feedback page as
    an artifact) and GRADING.md."""
    try:
        files = github_files(_course(course), assignment, bundle_repo, lang)
    except (AssignmentError, ExportError) as exc:
        _fail(str(exc))
    write_folder(output, files, executable=(".github/grade.sh",))
    mode = f"hidden cases from {bundle_repo}" if bundle_repo else "public cases only"
    click.echo(f"{assignment}: wrote {len(files)} files to {output}/ ({mode}); see "
               f"{output}/GRADING.md")


@export.command(name="bundle")
@click.argument("assignment")
@click.option("-o", "--out", "output", type=click.Path(path_type=Path, file_okay=False),
              required=True, help="Folder for the bundle (holds the references: keep it private).")
@click.option("--course", type=click.Path(path_type=Path, file_okay=False), default=None,
              help=COURSE_HELP)
@lang_option
def bundle_command(assignment, output, course, lang):
    """Write the private grading bundle of ASSIGNMENT (grader source, assignment, references)
    to a folder, e.g. the checkout of a private repository for `export github --bundle-repo`."""
    try:
        files = bundle(_course(course), assignment, lang)
    except (AssignmentError, ExportError) as exc:
        _fail(str(exc))
    write_folder(output, files)
    click.echo(f"{assignment}: wrote {len(files)} files to {output}/ (holds the references: "
               "keep it private)")
