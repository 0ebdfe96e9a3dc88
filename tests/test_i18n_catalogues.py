"""Every assignment's own catalogue is complete: each of its words (title, test names and
descriptions from spec.toml, the explanations of known mistakes marked in cases.py, the
handout's paragraphs and code comments from template.py) has its Korean translation with the
same placeholders; a handout paragraph keeps its formulas and code exactly; nothing translated
is stale; the shipped .mo is the compiled .po. What is extracted is what grader/locale/
assignments.cfg tells `make translations` to extract. An assignment written as a short spec
(two_layer) has no entry per test: its derived test names, descriptions and labels are the
grader's templates, each translated in the grader's catalogue, its dimensions' meanings in its
own."""
import re
import string
from pathlib import Path

import pytest
import tomllib
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from grader import i18n
from grader.course.assignment import load
from grader.course.spec import is_short_form

ROOT = Path(__file__).resolve().parent.parent
#: the assignments translated (those with a catalogue of their own)
ASSIGNMENTS = sorted(p.parent.name for p in (ROOT / "assignments").glob("*/locale"))
#: those written as a short spec, whose test names are derived (grader/course/derive.py)
SHORT = [name for name in ASSIGNMENTS if is_short_form(
    tomllib.loads((ROOT / "assignments" / name / "spec.toml").read_text()))]
KEYWORDS = {"_": None, "N_": None}  # as `make translations` extracts an assignment
#: a formula ($…$, $$…$$) or a code span, which a translation keeps as it is
KEPT = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.S)


def _extracted(name: str) -> dict:
    """{message: the file it came from} of one assignment, as `make translations` finds them."""
    with open(ROOT / "grader" / "locale" / "assignments.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for filename, _, message, _, _ in extract_from_dir(ROOT / "assignments" / name, method_map,
                                                       options_map, keywords=KEYWORDS):
        found.setdefault(message, filename)
    return found


def _catalogue(name: str, kind: str = "po"):
    path = ROOT / "assignments" / name / "locale" / "ko" / "LC_MESSAGES" / f"assignment.{kind}"
    with open(path, "rb") as f:
        return read_po(f) if kind == "po" else read_mo(f)


def _fields(text: str) -> list:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_the_assignments_are_found():
    assert {"gates", "lstm", "rnn_bptt", "rnn_linear", "two_layer"} <= set(ASSIGNMENTS)
    assert "two_layer" in SHORT


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_every_word_of_an_assignment_has_its_korean_translation(name):
    found = _extracted(name)
    # every kind of source there is was read (an extraction that finds nothing proves
    # nothing); a short spec has no cases.py
    sources = {"spec.toml", "template.py"} | ({"cases.py"} if (
        ROOT / "assignments" / name / "cases.py").is_file() else set())
    assert sources <= set(found.values()), set(found.values())
    catalogue = _catalogue(name)
    missing = [m for m in found if not catalogue.get(m) or not catalogue.get(m).string]
    assert not missing, f"no Korean translation in assignments/{name}/locale " \
                        f"(run `make translations`, translate): {missing}"
    assert not [m.id for m in catalogue if m.id and m.fuzzy], "fuzzy translations to review"
    stale = [m.id for m in catalogue if m.id and m.id not in found]
    assert not stale, f"translations of words the assignment no longer has: {stale}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_placeholders_formulas_and_code_are_the_same_in_korean(name):
    found = _extracted(name)
    for message in _catalogue(name):
        if not message.id:
            continue
        source = found.get(message.id)
        if source == "cases.py":  # formatted with its values: the same placeholders, braces
            assert _fields(message.string) == _fields(message.id), (message.id, message.string)
            message.string.format(**{field: "x" for field in _fields(message.string)})
        else:  # a handout paragraph or a test's name: the same formulas and code spans
            assert set(KEPT.findall(message.string)) == set(KEPT.findall(message.id)), \
                (message.id, message.string)
        # 합니다체: a Korean sentence ends as a statement in it (or is a heading, a name, a list)
        assert not re.search(r"(한다|이다|있다|없다|된다)\.", message.string), message.string


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_shipped_mo_is_the_compiled_po(name):
    po = {m.id: m.string for m in _catalogue(name) if m.id}
    mo = {m.id: m.string for m in _catalogue(name, "mo") if m.id}
    assert mo == po, f"assignments/{name}/locale: the .mo is out of date: run `make translations`"


def test_an_assignments_words_are_looked_up_after_the_graders(tmp_path, monkeypatch):
    """A message of an assignment's catalogue translates once the catalogue is added; the
    grader's own messages keep theirs; English is the message itself."""
    monkeypatch.delenv("GRADER_LANG", raising=False)
    monkeypatch.setattr(i18n, "_extra", {})  # this test's catalogues only
    monkeypatch.setattr(i18n, "_added", set())
    title = "Backpropagation through a linear RNN"
    i18n.add_catalogues(ROOT / "assignments" / "rnn_linear" / "locale")
    with i18n.using("ko"):
        assert i18n.text(title) == "선형 RNN의 역전파"
        assert i18n._("Passed.") == "통과했습니다."
        assert i18n.text("no such words {x}", x=1) == "no such words 1"
    assert i18n.text(title) == title
    i18n.add_messages({"ko": {"a {{literal}} {x}": "ㄱ {{literal}} {x}"}})
    with i18n.using("ko"):
        assert i18n.text("a {{literal}} {x}", x=2) == "ㄱ {literal} 2"
        assert i18n.translations_of(["a {{literal}} {x}", "untranslated"]) == {
            "ko": {"a {{literal}} {x}": "ㄱ {{literal}} {x}"}}


def _grader_catalogue() -> dict:
    with open(i18n.LOCALE / "ko" / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


@pytest.mark.parametrize("name", SHORT)
def test_a_short_specs_derived_words_are_translated_without_an_entry_per_test(name,
                                                                              monkeypatch):
    """Each derived test name, description and label is a phrase of a template the grader's
    catalogue translates (with the same placeholders), whose word values (what a dimension
    means) the assignment's own catalogue translates; none is an entry of the assignment's."""
    monkeypatch.delenv("GRADER_LANG", raising=False)
    monkeypatch.setattr(i18n, "_phrases", {})  # the phrases of this assignment only
    spec = tomllib.loads((ROOT / "assignments" / name / "spec.toml").read_text())
    own_tests = {test["name"] for test in spec.get("test", [])}  # its own words, extracted
    cases = [case for case in load(name, ROOT).cases if case.name not in own_tests]
    words = [w for case in cases for w in (case.name, case.description,
                                           *(e.label for e in case.expects)) if w]
    made = [i18n._phrases[w] for w in words if w in i18n._phrases]
    # every test name but the spec's own [[test]]s is derived; descriptions and labels where
    # they are words
    assert {case.name for case in cases} <= set(i18n._phrases)
    assert len({template for template, _, _ in made}) >= 10
    grader = _grader_catalogue()
    own = {m.id: m.string for m in _catalogue(name) if m.id}
    for template, values, named in made:
        assert grader.get(template), f"no Korean of {template!r} in grader/locale (run `make " \
                                     "translations`, translate)"
        assert _fields(grader[template]) == _fields(template), (template, grader[template])
        for key in named:
            assert own.get(values[key]), f"assignments/{name}/locale: no Korean of " \
                                         f"{values[key]!r} (what a dimension means)"
    assert not set(words) & set(own), "a derived word has an entry of its own"
    with i18n.using("ko"):
        korean = [i18n.text(case.name) for case in cases]
        assert korean != [case.name for case in cases]
        assert not [k for k in korean if re.search(r"\b(inputs|called|on your|agrees)\b", k)]
