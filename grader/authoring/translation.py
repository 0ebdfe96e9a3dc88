"""An assignment's words in another language: which parts of its spec.toml and template.py are
translated, and its handout notebook in that language.

The words are gettext messages of the assignment's own catalogue
(assignments/<name>/locale/<lang>/LC_MESSAGES/assignment.po, `make translations`):
- spec.toml: the title, each test's name and description, and what a short spec's dimensions
  mean (its derived test names say it: "affine_forward: N = 1 (the batch size)");
- template.py: each paragraph of a markdown cell (blocks between blank lines; one that is only
  formulas is left as it is), and each comment of a plain code cell that holds words;
- cases.py: the explanations of known mistakes, marked with N_() (Babel's own Python extractor).

The two extractors below are what Babel calls for spec.toml and template.py
(grader/locale/assignments.cfg); the handout in another language is built from the very same
paragraphs and comments, so what is extracted is exactly what is looked up.
"""
from __future__ import annotations

import io
import re
import tokenize
import tomllib

#: math ($…$, $$…$$), inline code and link targets: what a paragraph may hold without words
_NOT_WORDS = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`|\]\([^)]*\)", re.S)
_WORD = re.compile(r"[^\W\d_]{2,}")
_HEADER = re.compile(r"^# %%(?P<rest>.*)$")


def has_words(text: str) -> bool:
    """Whether `text` holds a word outside its formulas and code (so it is translated)."""
    return bool(_WORD.search(_NOT_WORDS.sub(" ", text)))


def paragraphs(markdown: str) -> list[str]:
    """A markdown cell's blocks, as separated by blank lines."""
    return [block.strip("\n") for block in re.split(r"\n[ \t]*\n", markdown) if block.strip()]


def translated_markdown(markdown: str, translate) -> str:
    """The cell with each paragraph that holds words replaced by `translate(paragraph)`."""
    return "\n\n".join(translate(p) if has_words(p) else p for p in paragraphs(markdown))


def comments(source: str) -> list[tuple[int, int, str]]:
    """(line, column, text) of each comment of a code cell that holds words (its text after
    the `#`, stripped)."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                words = token.string[1:].strip()
                if has_words(words):
                    found.append((*token.start, words))
    except (tokenize.TokenError, SyntaxError):  # a template's code tokenizes; if not, no words
        return []
    return found


def translated_code(source: str, translate) -> str:
    """The code cell with each comment that holds words replaced by `translate(words)`."""
    lines = source.split("\n")
    for number, column, words in comments(source):
        lines[number - 1] = lines[number - 1][:column] + "# " + translate(words)
    return "\n".join(lines)


# ---- Babel extractors (methods grader.authoring.translation.extract_spec, ...) ----------

def extract_spec(fileobj, keywords, comment_tags, options):
    """The title, what each dimension means and each test's name and description of a
    spec.toml."""
    text = fileobj.read().decode("utf-8")
    spec = tomllib.loads(text)
    lines = text.splitlines()

    def line_of(value: str) -> int:
        return next((i for i, line in enumerate(lines, 1) if value in line), 0)

    if spec.get("title"):
        yield line_of(spec["title"]), None, spec["title"], ["the assignment's title"]
    for name, means in spec.get("dimensions", {}).items():  # a short spec's (test names say them)
        means = means.get("means") if isinstance(means, dict) else means
        if isinstance(means, str) and has_words(means):
            yield line_of(means), None, means, [f"what the dimension {name} means"]
    for test in spec.get("test", []):
        if test.get("name"):
            yield line_of(test["name"]), None, test["name"], ["a test's name"]
        if test.get("description"):
            yield (line_of(test["description"]), None, test["description"],
                   [f"what the test {test.get('name', '')!r} checks"])


def template_cells(text: str) -> list[tuple[str, int, list[str]]]:
    """(kind, header line, body lines) of a template's cells: kind "markdown", "code" or the
    directive of a generated cell (which holds no words of the template)."""
    cells = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            rest = header.group("rest").strip()
            kind = "code" if not rest else rest.strip("[").split("]")[0].strip()
            cells.append((kind, number, []))
        elif cells:
            cells[-1][2].append(line)
    return cells


def markdown_of(body: list[str]) -> str:
    """A markdown cell's text: its comment lines without their `# `."""
    out = [line[2:] if line.startswith("# ") else line[1:] if line.startswith("#") else ""
           for line in body]
    return "\n".join(out).strip("\n")


def extract_template(fileobj, keywords, comment_tags, options):
    """Each markdown paragraph that holds words, and each code comment that does."""
    for kind, line, body in template_cells(fileobj.read().decode("utf-8")):
        if kind == "markdown":
            for paragraph in paragraphs(markdown_of(body)):
                if has_words(paragraph):
                    yield line, None, paragraph, ["a paragraph of the handout"]
        elif kind == "code":
            for number, _, words in comments("\n".join(body)):
                yield line + number, None, words, ["a comment in the handout's code"]
