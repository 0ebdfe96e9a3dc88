"""Detection power, asserted: for every assignment, each realistic mistake of its catalogue
(assignments/<name>/mutants.py) loses points, at least 90% of them are named by the feedback,
and every correct-but-different solution keeps full marks. docs/detection.md shows the latest
table."""
import functools

import pytest
from click.testing import CliRunner

from grader.authoring import catalogue as mutation
from grader.course.assignment import available
from grader.cli import main
from grader.read.submission import extract_source
from tests.grading import COURSE, assignment, worker

#: every assignment with a hand-written catalogue (one written from a short spec alone has its
#: realistic mistakes in tests/test_<name>_mistakes.py instead, and generated ones)
NAMES = [name for name in available(COURSE) if mutation.has_catalogue(COURSE, name)]
MIN_MISTAKES, MIN_CORRECT, MIN_DIAGNOSED = 25, 5, 0.9


@functools.lru_cache(maxsize=None)
def measured(name):
    return mutation.measure(name, COURSE, worker())


def test_the_four_first_assignments_have_a_catalogue():
    assert {"gates", "rnn_linear", "rnn_bptt", "lstm"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_catalogue_sizes(name):
    catalogue = mutation.load_catalogue(COURSE, name)
    real = [m for m in catalogue.mistakes if m.equivalent is None]
    assert len(real) >= MIN_MISTAKES and len(catalogue.correct) >= MIN_CORRECT


@pytest.mark.parametrize("name", NAMES)
def test_every_edit_applies_and_every_entry_is_complete(name):
    """Importing the catalogue applies every `mutate` edit (each must occur exactly once in the
    reference source); each entry differs from the reference and defines every graded
    function."""
    catalogue = mutation.load_catalogue(COURSE, name)
    functions = set(assignment(name).functions)
    reference = next(v.source for v in catalogue.correct if v.id == "reference")
    for entry in (*catalogue.mistakes, *catalogue.correct):
        submission = extract_source([entry.source], entry.id)
        assert functions <= submission.functions, (entry.id, functions - submission.functions)
        assert not submission.notes, (entry.id, submission.notes)
        if isinstance(entry, mutation.Mistake):
            assert entry.source != reference, entry.id
            assert entry.expect or entry.equivalent, entry.id


@pytest.mark.parametrize("name", NAMES)
def test_every_mistake_loses_points(name):
    m = measured(name)
    missed = [o.entry.id for o in m.mistakes if o.full_marks]
    assert not missed, f"full marks for mistakes: {missed}"


@pytest.mark.parametrize("name", NAMES)
def test_mistakes_are_named_by_the_feedback(name):
    m = measured(name)
    unnamed = [line for line in m.problems if "not named" in line]
    assert len(m.diagnosed) >= MIN_DIAGNOSED * len(m.mistakes), unnamed


@pytest.mark.parametrize("name", NAMES)
def test_correct_variants_get_full_marks(name):
    m = measured(name)
    failed = [(o.entry.id, o.score, o.messages[:2]) for o in m.correct if not o.full_marks]
    assert not failed


@pytest.mark.parametrize("name", NAMES)
def test_equivalent_mistakes_keep_full_marks_and_say_why(name):
    m = measured(name)
    for o in m.equivalent:
        assert o.full_marks and len(o.entry.equivalent) > 20, o.entry.id


@pytest.mark.parametrize("name", NAMES)
def test_single_check_passes_every_correct_variant(name):
    """The baseline is fair: it never flags a correct solution."""
    m = measured(name)
    assert not [o.entry.id for o in m.correct if o.single_check_fails]


def test_the_grader_catches_what_a_single_check_misses():
    measurements = [measured(n) for n in NAMES]
    assert sum(len(m.caught) for m in measurements) > sum(len(m.single_caught)
                                                         for m in measurements)


def test_readme_shows_the_latest_table():
    table = mutation.markdown_table([measured(n) for n in NAMES])
    readme = (COURSE / "docs" / "detection.md").read_text()
    assert table in readme, \
        "run `grader mutants --readme docs/detection.md` and commit docs/detection.md"


def test_mutate_applies_each_edit_exactly_once():
    assert mutation.mutate("a = 1\nb = 2\n", "b = 2", "b = 3") == "a = 1\nb = 3\n"
    assert mutation.mutate("a + b", ("a", "x"), ("b", "y")) == "x + y"
    for edit in (("c", "d"), ("=", "-"), ("a", "a")):  # absent, twice, no change
        with pytest.raises(mutation.CatalogueError):
            mutation.mutate("a = 1\nb = 2\n", *edit)


def test_tables():
    m = measured("rnn_linear")
    markdown = mutation.markdown_table([m])
    assert markdown.splitlines()[0].startswith("| assignment | mistakes | caught |")
    assert f"| rnn_linear | {len(m.mistakes)} | {len(m.caught)}/{len(m.mistakes)} (100%)" \
        in markdown
    plain = mutation.plain_table([m, m])
    assert plain.splitlines()[0].split()[:3] == ["assignment", "mistakes", "caught"]
    assert plain.splitlines()[-1].startswith("all")


def test_cli_prints_the_table(tmp_path):
    result = CliRunner().invoke(main, ["mutants", "rnn_linear", "--course", str(COURSE)])
    assert result.exit_code == 0, result.output
    assert "rnn_linear" in result.output and "single check caught" in result.output
    assert "Missed goals" not in result.output


def test_cli_rewrites_the_readme_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{mutation.BEGIN}\nold\n{mutation.END}\nrest\n")
    result = CliRunner().invoke(main, ["mutants", "rnn_linear", "--course", str(COURSE),
                                       "--readme", str(readme)])
    assert result.exit_code == 0, result.output
    text = readme.read_text()
    assert "old" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    assert mutation.markdown_table([measured("rnn_linear")]) in text
