"""The language of what a student reads: English (the source text) or Korean.

Messages are marked with `_()` (or `ngettext()` where a count decides the form) around a
template whose values are NAMED placeholders: the template is translated first, then the
values (numbers, shapes, code names, already formatted by the caller) are put in, so a
translation may reorder them and no number is ever translated. The catalogues are gettext .mo
files compiled from grader/locale/<lang>/LC_MESSAGES/grader.po (`make translations`) and shipped
in the package, so loading them needs only the standard library.

The language is one per process: chosen by a command's --lang or grader.check(lang=...), else
GRADER_LANG, else the course's (course.toml, `use_course`); English when none is given. Grading
processes forked later inherit it. A submission whose notebook names its language
(metadata.grader.lang) is judged in that language unless a command chose one (`notebook`).

An assignment's own words (its title, test names and descriptions, the explanations of its known
mistakes, its handout) are in a catalogue of its own beside it,
assignments/<name>/locale/<lang>/LC_MESSAGES/assignment.mo: loading the assignment adds it here
(`add_catalogues`), and a public case file carries the translations of what it holds
(`add_messages`). They are looked up after the grader's own catalogue, with `text()`, which always
formats its template ({{ and }} for a literal brace, as in LaTeX subscripts).

Words the grader makes for an assignment (a short spec's derived test names, descriptions and
labels: `affine_forward: N = 5, D = 4, H = 6`) are `phrase()`s: the English is the case's name as
before, and wherever it is looked up (`translated`, `text`), it is put into words in the language
of then from its template (the grader's catalogue) and its values, so no catalogue holds an entry
per test.
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
_current = None  # the chosen language, or None: GRADER_LANG, else the course's, else English
_course = None  # the course's language (course.toml), or None
#: language -> catalogues of assignments (and public case files), looked up after the grader's
_extra: dict = {}
_added: set = set()  # the .mo files in _extra
#: English phrase -> (template, values, names of the values that are words themselves)
_phrases: dict = {}
#: the domain of an assignment's catalogue
ASSIGNMENT_DOMAIN = "assignment"


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
    chosen = os.environ.get("GRADER_LANG")
    if chosen:
        try:
            return normalized(chosen)
        except ValueError:  # a language there is no catalogue of: as if none were set
            pass
    return _course or DEFAULT


def use_course(lang: str | None) -> str:
    """The course's language (None: none), below a command's choice and GRADER_LANG."""
    global _course
    _course = normalized(lang) if lang else None
    return language()


def chosen() -> bool:
    """Whether a command (or grader.check's lang=) chose the language."""
    return _current is not None


@contextlib.contextmanager
def notebook(lang: str | None):
    """A submission's own language (its notebook's metadata) inside the block, unless a
    command chose one; an unknown language is ignored (the notebook is the student's)."""
    try:
        lang = normalized(lang) if lang and not chosen() else None
    except ValueError:
        lang = None
    with using(lang) as now:
        yield now


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


def translated(template: str, lang: str | None = None) -> str:
    """`template` in `lang` (the current language by default), unformatted: the grader's
    catalogue first, then the assignments' (the template itself when none translates it)."""
    lang = lang or language()
    if lang == DEFAULT:
        return template
    found = catalogue(lang).gettext(template)
    if found == template:
        for extra in _extra.get(lang, ()):
            text = extra.gettext(template)
            if text != template:
                return text
        made = _phrases.get(template)
        if made is not None:
            return _composed(made, lang)
    return found


def _braces(value) -> str:
    """A value as it stands in a template: a literal brace doubled."""
    return str(value).replace("{", "{{").replace("}", "}}")


def phrase(template: str, words: tuple = (), **values) -> str:
    """The English of `template` (a message marked with N_() where it is written; no literal
    brace) with `values` put in, remembered: looked up later, it is put into words in the
    language of then (`translated`). `words`: the names of values that are words themselves (an
    assignment's, as its spec says them: "the batch size"; or another phrase), translated too.
    The English is itself a template, as an assignment's words are (a brace doubled)."""
    english = template.format(**{name: _braces(value) for name, value in values.items()})
    _phrases.setdefault(english, (template, dict(values), tuple(words)))
    return english


def _composed(made: tuple, lang: str) -> str:
    template, values, words = made
    filled = {name: _word(_braces(value), lang) if name in words else _braces(value)
              for name, value in values.items()}
    return translated(template, lang).format(**filled)


def _word(value: str, lang: str) -> str:
    """A value that is a word of an assignment's: its own catalogue's translation first (its
    "hidden size" is a layer's, not the grader's RNN's), then the grader's."""
    for extra in _extra.get(lang, ()):
        text = extra.gettext(value)
        if text != value:
            return text
    return translated(value, lang)


def _(template: str, **values) -> str:
    """`template` in the current language, its {named} placeholders filled with `values`."""
    text = translated(template)
    return text.format(**values) if values else text


def text(template: str, **values) -> str:
    """An assignment's `template` in the current language, always formatted (a literal brace is
    written {{ or }}), its {named} placeholders filled with `values`."""
    return translated(template).format(**values)


class _Table(gettext.NullTranslations):
    """Translations given as a dict (those a public case file carries)."""

    def __init__(self, messages: dict):
        super().__init__()
        self._messages = dict(messages)

    def gettext(self, message):
        return self._messages.get(message, message)


def add_catalogues(localedir: Path, domain: str = ASSIGNMENT_DOMAIN) -> None:
    """Look up the compiled catalogues under `localedir` (an assignment's locale/ folder), one per
    language there is, after those added before; a folder without any adds nothing."""
    for lang in LANGUAGES:
        path = Path(localedir) / lang / "LC_MESSAGES" / f"{domain}.mo"
        if lang == DEFAULT or not path.is_file():
            continue
        if path.resolve() in _added:
            continue
        _added.add(path.resolve())
        with open(path, "rb") as f:
            _extra.setdefault(lang, []).insert(0, gettext.GNUTranslations(f))  # latest first


def add_messages(translations: dict) -> None:
    """Look up {lang: {template: translation}} (what a public case file carries) first."""
    for lang, messages in (translations or {}).items():
        if lang in LANGUAGES and lang != DEFAULT and isinstance(messages, dict) and messages:
            _extra.setdefault(lang, []).insert(0, _Table(messages))


def translations_of(templates) -> dict:
    """{lang: {template: translation}} of the `templates` translated in each language, for a
    public case file to carry (the student's grader has the grader's catalogue, not the
    assignment's)."""
    found = {}
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        table = {t: translated(t, lang) for t in dict.fromkeys(templates) if t}
        table = {t: s for t, s in table.items() if s != t}
        if table:
            found[lang] = table
    return found


def ngettext(singular: str, plural: str, count: int, **values) -> str:
    """The form for `count` in the current language; `count` is also a placeholder."""
    text = catalogue(language()).ngettext(singular, plural, count)
    return text.format(count=count, **values)


def N_(template: str) -> str:
    """Marks a template for extraction where it is defined (a table of words); it is
    translated where it is used, with _()."""
    return template
