"""The language of what a student reads: English (the source text) or Korean.

Messages are marked with `_()` (or `ngettext()` where a count decides the form) around a
template whose values are NAMED placeholders: the template is translated first, then the
values (numbers, shapes, code names, already formatted by the caller) are put in, so a
translation may reorder them and no number is ever translated. The catalogues are gettext .mo
files compiled from grader/locale/<lang>/LC_MESSAGES/grader.po (`make translations`) and shipped
in the package, so loading them needs only the standard library.

The language is one per process: chosen by a command's --lang, by grader.check(lang=...), or
by GRADER_LANG; English when none is given. Grading processes forked later inherit it.
"""
import contextlib
import gettext
import os
from pathlib import Path

LOCALE = Path(__file__).parent / "locale"
DOMAIN = "grader"
LANGUAGES = ("en", "ko")
DEFAULT = "en"

_catalogues: dict = {}
_current = None  # the chosen language, or None: GRADER_LANG, else English


def normalized(lang: str | None) -> str:
    """'ko', 'ko_KR.UTF-8', 'KO' -> 'ko'; None or '' -> the default; anything else is an
    error naming the languages there are."""
    if not lang:
        return DEFAULT
    short = lang.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    if short not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: choose one of {', '.join(LANGUAGES)}")
    return short


def language() -> str:
    """The language messages are given in now."""
    if _current is not None:
        return _current
    try:
        return normalized(os.environ.get("GRADER_LANG"))
    except ValueError:
        return DEFAULT


def use(lang: str | None) -> str:
    """Give every message from now on in `lang` (None: back to GRADER_LANG or English)."""
    global _current
    _current = normalized(lang) if lang else None
    return language()


@contextlib.contextmanager
def using(lang: str | None):
    """`lang` inside the block (None leaves the language as it is), the previous one after."""
    global _current
    before = _current
    if lang:
        use(lang)
    try:
        yield language()
    finally:
        _current = before


def catalogue(lang: str) -> gettext.NullTranslations:
    """The compiled translations of `lang` (English: the source text itself)."""
    found = _catalogues.get(lang)
    if found is None:
        if lang == DEFAULT:
            found = gettext.NullTranslations()
        else:
            found = gettext.translation(DOMAIN, LOCALE, languages=[lang], fallback=True)
        _catalogues[lang] = found
    return found


def _(template: str, **values) -> str:
    """`template` in the current language, its {named} placeholders filled with `values`."""
    text = catalogue(language()).gettext(template)
    return text.format(**values) if values else text


def ngettext(singular: str, plural: str, count: int, **values) -> str:
    """The form for `count` in the current language; `count` is also a placeholder."""
    text = catalogue(language()).ngettext(singular, plural, count)
    return text.format(count=count, **values)


def N_(template: str) -> str:
    """Marks a template for extraction where it is defined (a table of words); it is
    translated where it is used, with _()."""
    return template
