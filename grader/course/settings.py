"""A course's own settings: `course.toml` beside assignments/ and reference/ (optional).

    lang = "ko"     # the language of the feedback and the class page (default: English)

A command's --lang and GRADER_LANG come first; a notebook's own language (metadata.grader.lang)
comes before the course's for that submission (see grader.i18n).
"""
import tomllib
from pathlib import Path

from grader import i18n
from grader.course.assignment import AssignmentError

SETTINGS = "course.toml"
KNOWN = ("lang",)


class SettingsError(AssignmentError):
    """A course.toml that cannot be used; str(e) names the file and the cause (an
    AssignmentError: the commands that load assignments report it the same way)."""


def read(course: Path | None) -> dict:
    """The settings of the course folder `course` ({} without a course.toml)."""
    if course is None:
        return {}
    path = Path(course) / SETTINGS
    if not path.is_file():
        return {}
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    unknown = sorted(set(settings) - set(KNOWN))
    if unknown:
        raise SettingsError(f"{path}: unknown setting {', '.join(unknown)} (known: "
                            f"{', '.join(KNOWN)})")
    if "lang" in settings:
        try:
            settings["lang"] = i18n.normalized(str(settings["lang"]))
        except ValueError as exc:
            raise SettingsError(f"{path}: lang: {exc}") from None
    return settings


def language(course: Path | None) -> str | None:
    """The course's language, or None when it names none."""
    return read(course).get("lang")


def use_language(course: Path | None) -> str:
    """Make the course's language the default of this process (below --lang and GRADER_LANG);
    the language messages are given in now."""
    return i18n.use_course(language(course))
