"""Suite-wide: the tests write only into temporary folders they make.

The command line's defaults (the course gradebook, out/ASSIGNMENT, the cache of generated
mistakes' values) point into a temporary folder for the whole session, through the variables
the grader honours ($GRADER_GRADEBOOK, $GRADER_OUT_ROOT, $GRADER_CACHE), so a test that forgets --gradebook or --out cannot touch the course. The
checkout's state is taken when the session starts, and test_hermetic's last test (moved to the
end of every run) compares it with the state after every other test.
"""
import os

import pytest

from grader.course.assignment import OUT_ENVIRONMENT
from grader.gradebook.store import ENVIRONMENT as GRADEBOOK_ENVIRONMENT
from grader.judge.mutant_store import ENVIRONMENT as CACHE_ENVIRONMENT
from tests import checkout

#: the test that must run after every other one
LAST = "tests/test_hermetic.py::test_the_suite_leaves_the_checkout_as_it_found_it"
STATE = pytest.StashKey[dict]()


def pytest_sessionstart(session):
    session.config.stash[STATE] = checkout.state()


def pytest_collection_modifyitems(config, items):
    last = [item for item in items if item.nodeid == LAST]
    items[:] = [item for item in items if item.nodeid != LAST] + last


@pytest.fixture(scope="session")
def checkout_at_start(request):
    """The checkout's state before the first test ran (see tests/checkout.py)."""
    return request.config.stash[STATE]


@pytest.fixture(scope="session", autouse=True)
def default_locations(tmp_path_factory):
    """The default gradebook and output folder of every command, in a temporary folder."""
    folder = tmp_path_factory.mktemp("defaults")
    chosen = {GRADEBOOK_ENVIRONMENT: str(folder / "gradebook.sqlite"),
              OUT_ENVIRONMENT: str(folder / "out"),
              CACHE_ENVIRONMENT: str(folder / "cache")}
    saved = {name: os.environ.get(name) for name in chosen}
    os.environ.update(chosen)
    yield folder
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
