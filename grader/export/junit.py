"""JUnit XML, for CI systems that show test reports (Jenkins, GitLab, Azure, ...).

One <testsuite> per submission (name "<assignment>.<submission id>"), one <testcase> per test
(classname "<assignment>.<submission id>.<function>", name = the test's name). A failed public
test's <failure> carries the feedback a student reads; a failed hidden test says only "failed".
A test earning partial credit is a failure (its score is in the testcase's properties). A
submission that could not be graded at all says why in the suite's <system-err>.
"""
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from grader import __version__
from grader.results.results_json import test_output

# characters XML 1.0 cannot hold, even escaped (student exception messages may carry them)
_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _INVALID.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


def _properties(parent, **values):
    properties = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(properties, "property", name=name, value=_clean(value))


def testsuite(graded, assignment) -> ET.Element:
    failures = sum(1 for v in graded.verdicts if not v.passed)
    suite = ET.Element("testsuite", name=_clean(f"{assignment.name}.{graded.id}"),
                       tests=str(len(graded.verdicts)), failures=str(failures), errors="0",
                       skipped="0", time=f"{graded.seconds:.3f}")
    _properties(suite, assignment=assignment.name, submission=graded.id,
                score=f"{graded.score:g}", max_score=f"{assignment.max_score:g}",
                grader_version=__version__, isolation=graded.isolation)
    for verdict in graded.verdicts:
        case = verdict.case
        testcase = ET.SubElement(suite, "testcase", name=_clean(case.name),
                                 classname=_clean(f"{assignment.name}.{graded.id}.{case.function}"),
                                 time="0")
        _properties(testcase, score=f"{verdict.score:g}", max_score=f"{case.points:g}",
                    visibility=case.visibility)
        if verdict.passed:
            continue
        if case.visibility == "hidden":
            ET.SubElement(testcase, "failure", message="failed", type="failed")
        else:
            feedback = _clean(test_output(verdict))
            failure = ET.SubElement(testcase, "failure", message=feedback, type="failed")
            failure.text = feedback
    if graded.error:
        ET.SubElement(suite, "system-err").text = _clean(
            f"Your submission could not be graded: {graded.error}")
    return suite


def to_junit(graded_list, assignment) -> ET.ElementTree:
    root = ET.Element("testsuites", name=assignment.name)
    suites = [testsuite(g, assignment) for g in sorted(graded_list, key=lambda g: g.id)]
    root.extend(suites)
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(s.get(attribute)) for s in suites)))
    root.set("time", f"{sum(g.seconds for g in graded_list):.3f}")
    return ET.ElementTree(root)


def write_junit(path: Path, graded_list, assignment) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = to_junit(graded_list, assignment)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
    return path
