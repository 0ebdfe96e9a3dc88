"""The environment the tests run in is the one requirements.lock pins, and the lock covers what
pyproject.toml declares: a course that regrades next term gets the same numbers."""
import importlib.metadata
import re
import tomllib

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.grading import COURSE

LOCK = COURSE / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked() -> dict:
    """{name: version} of the lock's pins that apply to this interpreter and platform."""
    pins = {}
    for line in LOCK.read_text().splitlines():
        match = PIN.match(line)
        if match:
            name, version, marker = match.groups()
            if marker is None or Marker(marker).evaluate():
                assert canonicalize_name(name) not in pins, f"{name} pinned twice here"
                pins[canonicalize_name(name)] = version
    return pins


def declared() -> list:
    """The requirements pyproject.toml declares, its extras included."""
    project = tomllib.loads((COURSE / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {}).values()
    return [Requirement(r) for r in (*project["dependencies"], *(r for e in extras for r in e))]


def test_every_pin_has_hashes():
    text = LOCK.read_text()
    pins = [m for m in map(PIN.match, text.splitlines()) if m]
    assert len(pins) > 40
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text)
    assert all("--hash=sha256:" in block for block in blocks if PIN.match(block.splitlines()[0]))


def test_lock_covers_what_pyproject_declares():
    pins = locked()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(pins[name], prereleases=True), \
            f"{name}=={pins[name]} in the lock does not satisfy {requirement}: run `make lock`"


@pytest.mark.parametrize("name", sorted(locked()))
def test_installed_version_is_the_locked_one(name):
    """`make` installs from the lock; a stale environment shows here (`make clean test`)."""
    assert importlib.metadata.version(name) == locked()[name]
