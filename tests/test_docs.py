"""The documentation builds and leads somewhere: the MkDocs site builds in strict mode (any
warning, a broken link or anchor included, fails it) into a temporary folder, and the README
stays a short quick start whose links into docs/ all lead to files that exist."""
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
#: the pages issue 18 asks for, by file
REQUIRED_PAGES = ("architecture.md", "isolation.md", "performance.md", "gradebook.md",
                  "gradescope.md", "github-classroom.md", "authoring.md", "similarity.md",
                  "self-check.md")


def _build(site: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # Material's banner about MkDocs 2.0
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--clean",
         "--config-file", str(ROOT / "mkdocs.yml"), "--site-dir", str(site)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    done = _build(folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return folder, done.stdout + done.stderr


def _nav_files(nav) -> list:
    """Every page file the nav of mkdocs.yml names, in order."""
    files = []
    for item in nav:
        for value in (item.values() if isinstance(item, dict) else [item]):
            files.extend(_nav_files(value) if isinstance(value, list) else [value])
    return files


def _config() -> dict:
    # mkdocs.yml may hold !!python/name tags; only plain keys are read here
    return yaml.load((ROOT / "mkdocs.yml").read_text(), Loader=yaml.BaseLoader)


def test_site_builds_strict_without_a_warning(site):
    folder, log = site
    assert not [line for line in log.splitlines() if "WARNING" in line or "ERROR" in line], log
    assert (folder / "index.html").is_file()


def test_strict_mode_is_the_configured_mode():
    config = _config()
    assert config["strict"] == "true"
    assert config["theme"]["name"] == "material"


def test_a_broken_link_fails_the_build(tmp_path):
    """The build the other tests rely on does fail on a broken link (a copy of the docs with
    one page linking to a page that does not exist)."""
    copy = tmp_path / "copy"
    (copy / "docs").mkdir(parents=True)
    for path in (ROOT / "docs").rglob("*"):
        if path.is_file():
            target = copy / "docs" / path.relative_to(ROOT / "docs")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    (copy / "mkdocs.yml").write_text((ROOT / "mkdocs.yml").read_text())
    page = copy / "docs" / "index.md"
    page.write_text(page.read_text() + "\n[gone](no-such-page.md)\n")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                           "--config-file", str(copy / "mkdocs.yml"),
                           "--site-dir", str(tmp_path / "site")],
                          cwd=copy, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "no-such-page.md" in done.stdout + done.stderr


def test_every_page_is_in_the_nav_and_the_required_ones_exist():
    nav = _nav_files(_config()["nav"])
    pages = sorted(p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert sorted(nav) == pages
    assert not [name for name in REQUIRED_PAGES if name not in nav]


def test_the_architecture_page_shows_the_diagram(site):
    folder, _ = site
    svg = ROOT / "docs" / "images" / "flow.svg"
    root = ET.parse(svg).getroot()  # well-formed XML, or this raises
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "trust boundary" in text and "Untrusted" in text
    assert 'src="images/flow.svg"' in (folder / "architecture.html").read_text()
    assert (folder / "images" / "flow.svg").read_bytes() == svg.read_bytes()


def test_readme_is_a_short_quick_start_with_the_two_commands_first():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    headings = re.findall(r"^## (.+)$", text, re.M)
    assert headings[0] == "Two commands"
    first = text.split("\n## ")[1]
    assert "make grade" in first and "make test" in first


def test_readme_links_lead_to_files_that_exist():
    links = re.findall(r"\]\(([^)\s]+)\)", README.read_text())
    local = [link.split("#")[0] for link in links if not re.match(r"[a-z]+:", link)]
    assert local, "the README links into docs/"
    assert not [link for link in local if not (ROOT / link).exists()]
    assert {f"docs/{name}" for name in REQUIRED_PAGES} <= set(local)


def test_changelog_keeps_the_format():
    text = (ROOT / "CHANGELOG.md").read_text()
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased"
    import grader
    assert grader.__version__ in versions
    for section in re.findall(r"^### (.+)$", text, re.M):
        assert section in ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")
