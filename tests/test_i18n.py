"""The message catalogues: every message marked for translation in the grader's source (its
modules and its page templates) has its Korean translation, with the same named placeholders;
the shipped .mo is the compiled .po; the language is chosen by --lang / lang= / GRADER_LANG,
English by default. (Each assignment's own catalogue: tests/test_i18n_catalogues.py.)"""
import re
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from grader import i18n
from grader.judge.diagnose import scale_words

ROOT = Path(__file__).resolve().parent.parent
KEYWORDS = {"_": None, "ngettext": (1, 2), "N_": None}  # as `make translations` extracts


def _marked() -> set:
    """Every message id the source marks (a plural's singular and plural as a pair), where
    grader/locale/grader.cfg tells `make translations` to look."""
    with open(ROOT / "grader" / "locale" / "grader.cfg") as f:
        method_map, options_map = parse_mapping_cfg(f)
    found, kinds = set(), set()
    for filename, _, message, _, _ in extract_from_dir(ROOT / "grader", method_map, options_map,
                                                       keywords=KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message))
        kinds.add(Path(filename).suffix)
    assert {".py", ".j2"} <= kinds, kinds  # the modules and the page templates were read
    return found


def _catalogue(lang="ko"):
    with open(i18n.LOCALE / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.po", "rb") as f:
        return read_po(f)


def _fields(text: str) -> set:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_marked_message_has_its_korean_translation():
    catalogue = _catalogue()
    marked = _marked()
    assert len(marked) > 50  # the extraction found the marked messages at all
    missing = [m for m in marked if not catalogue.get(m if isinstance(m, str) else m[0])
               or not catalogue.get(m if isinstance(m, str) else m[0]).string]
    assert not missing, f"no Korean translation (run `make translations`, translate): {missing}"
    fuzzy = [m.id for m in catalogue if m.id and m.fuzzy]
    assert not fuzzy, f"fuzzy translations to review: {fuzzy}"
    stale = [m.id for m in catalogue if m.id and (m.id if isinstance(m.id, str)
                                                  else tuple(m.id)) not in marked]
    assert not stale, f"translations of messages the source no longer has: {stale}"


def test_placeholders_are_the_same_in_both_languages():
    for message in _catalogue():
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        for translated in strings:
            assert _fields(translated) == _fields(ids[0]), (message.id, translated)
            # no particle left to the reader's choice (이(가), 을(를), 은(는)): a Korean
            # sentence is written so that what follows a value fits any value
            assert not re.search(r"[이을은과]\([가를는와]\)", translated), translated
            # and the translation formats: no stray brace
            translated.format(**{**{name: "x" for name in _fields(translated)}, "count": 1})


def _hashable(value):
    return value if isinstance(value, str) else tuple(value)


def test_the_shipped_mo_is_the_compiled_po():
    po = {_hashable(m.id): _hashable(m.string) for m in _catalogue() if m.id}
    with open(i18n.LOCALE / "ko" / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo", "rb") as f:
        mo = {_hashable(m.id): _hashable(m.string) for m in read_mo(f) if m.id}
    assert mo == po, "grader.mo is out of date: run `make translations`"


def test_the_language_comes_from_the_choice_then_grader_lang_then_english(monkeypatch):
    monkeypatch.delenv("GRADER_LANG", raising=False)
    assert i18n.language() == "en"
    english = scale_words(-1.0, "dW", {"N": 4}, {}).message
    assert english.startswith("your dW has the wrong sign: it is exactly −1× the reference")
    monkeypatch.setenv("GRADER_LANG", "ko_KR.UTF-8")
    assert i18n.language() == "ko"
    korean = scale_words(-1.0, "dW", {"N": 4}, {}).message
    assert korean.startswith("여러분의 dW 값의 부호가 반대입니다") and "정답의 −1배" in korean
    with i18n.using("en"):
        assert scale_words(-1.0, "dW", {"N": 4}, {}).message == english
    assert i18n.language() == "ko"
    monkeypatch.setenv("GRADER_LANG", "fr")  # a language there is none of: English
    assert i18n.language() == "en"
    with pytest.raises(ValueError, match="choose one of en, ko"):
        i18n.use("fr")


def test_numbers_are_formatted_outside_the_translation():
    with i18n.using("ko"):
        message = scale_words(4.0, "dW", {"N": 4}, {}).message
    assert "정확히 정답의 4배입니다 (N = 4, 배치 크기)" in message
    assert "N = X.shape[0]" in message  # code stays code


def test_no_message_is_marked_inside_an_f_string():
    """Babel does not read inside f-strings: a message marked there is never extracted, so it
    would have no translation and no test would notice."""
    inside = re.compile(r"""f(["'])[^"'\n]*\{(?:i18n\.)?(?:_|ngettext|N_)\(""")
    found = [f"{path.relative_to(ROOT)}:{number}" for path in sorted((ROOT / "grader").rglob("*.py"))
             for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if inside.search(line)]
    assert not found, found
