"""How strong an assignment's tests are against the mistakes generated from its reference:
how many mutants were generated, how many cannot be told from the reference on these inputs,
how many the public tests and all tests kill, which survive, and how much of the hand-written
catalogue (assignments/<name>/mutants.py) some generated mutant reproduces.

`grader mutants --generated` prints it, so an instructor sees before release what the tests
miss. Everything here runs trusted code only: the reference, its mutants and the instructor's
catalogue.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from grader.judge.fingerprints import (Evaluated, case_values, evaluate, namespace_of,
                                       reference_module, same_everywhere)
from grader.judge.naming import MutantNamer
from grader.judge.verdicts import VAGUE, Context, judge


@dataclass
class Strength:
    assignment: str
    generated: int
    runs: int
    equivalent: int
    killed_public: int
    killed: int
    #: killed mutants whose feedback names their mistake specifically (a quantity and what is
    #: wrong with it: any diagnosis but "off by", "differs at steps/blocks" and the like)
    named: int
    hand_reproduced: int
    hand_total: int
    survivors: list = field(default_factory=list)
    equivalents: list = field(default_factory=list)
    #: hand-written mistakes no generated mutant reproduces
    unreproduced: list = field(default_factory=list)

    @property
    def effective(self) -> int:
        """Mutants that run and differ from the reference: the ones tests should kill."""
        return self.runs - self.equivalent


def measure(name: str, course: Path) -> Strength:
    """Generate and judge `name`'s mutants; compare them with its hand catalogue, if any."""
    from grader.course.assignment import load
    from grader.authoring.catalogue import has_catalogue, load_catalogue

    assignment = load(name, course)
    module = reference_module(course, name)
    found = evaluate(assignment, module)
    running = [e for e in found if e.runs]
    differing = [e for e in running if not e.equivalent]
    namer = MutantNamer(assignment, course)
    namer.prefill(module, found)
    named = [e for e in differing if e.killed and _named(e, assignment, namer)]
    hand = []
    if has_catalogue(course, name):
        hand = [m for m in load_catalogue(course, name).mistakes if m.equivalent is None]
    candidates = [e for e in found if not e.equivalent and e.values]
    unreproduced = [m.id for m in hand if not _reproduced(m.source, module, assignment, candidates)]
    for e in found:
        e.outcomes = []  # the outcomes are only for naming: let them go
    return Strength(name, len(found), len(running), len(running) - len(differing),
                    sum(bool(e.failed_public) for e in differing),
                    sum(e.killed for e in differing), len(named),
                    len(hand) - len(unreproduced), len(hand),
                    [_name(e) for e in differing if not e.killed],
                    [_name(e) for e in running if e.equivalent], unreproduced)


#: diagnosis codes that say a value is wrong, or where, but not what is wrong with it
_UNSPECIFIC = set(VAGUE) | {"gradcheck", "exception", "type", "shape"}


def _named(evaluated: Evaluated, assignment, namer: MutantNamer) -> bool:
    """Whether the feedback a student with this mistake gets names it specifically."""
    context = Context(name_mistake=namer.explain)
    verdicts = [judge(case, outcome, context) for case, outcome in
                zip(assignment.cases, evaluated.outcomes) if outcome is not None]
    namer.settle(verdicts)
    return any(code not in _UNSPECIFIC for v in verdicts if not v.passed
               and v.case.function in evaluated.mutant.functions for code in v.codes)


def _name(evaluated: Evaluated) -> str:
    mutant = evaluated.mutant
    return f"{mutant.function}, line {mutant.line}: {mutant.what} ({mutant.before} → {mutant.after})"


def _reproduced(source: str, module, assignment, mutants: list[Evaluated]) -> bool:
    """Whether some generated mutant returns what this hand-written mistake returns."""
    namespace = {**namespace_of(module), "__name__": "catalogue"}
    try:
        exec(compile(source, "<catalogue>", "exec"), namespace)
    except Exception:
        return False
    values = case_values(namespace, assignment.cases)
    return any(same_everywhere(values, e.values) for e in mutants)


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.0f}%)" if whole else "–"


def table(strengths: list[Strength]) -> str:
    """A plain-text table, one row per assignment."""
    head = ("assignment", "generated", "equivalent", "killed (public)", "killed (all)",
            "named", "hand catalogue reproduced")
    rows = [head] + [(s.assignment, str(s.runs), str(s.equivalent),
                      _share(s.killed_public, s.effective), _share(s.killed, s.effective),
                      _share(s.named, s.killed), _share(s.hand_reproduced, s.hand_total))
                     for s in strengths]
    widths = [max(len(r[i]) for r in rows) + 2 for i in range(len(head))]
    lines = ["".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    notes = ["", "generated: first-order mutants of the graded reference functions that run; "
             "equivalent: the reference's values on every case (they may reveal a weak case); "
             "killed: the other mutants that lose points; named: killed mutants whose "
             "feedback names the mistake specifically (a quantity and what is wrong with it)."]
    for s in strengths:
        for title, items in (("survivors", s.survivors), ("equivalent", s.equivalents),
                             ("hand-written mistakes no generated mutant reproduces",
                              s.unreproduced)):
            if items:
                notes.append(f"{s.assignment}, {title}:")
                notes += [f"  {item}" for item in items]
    return "\n".join(lines + notes) + "\n"


def as_json(strengths: list[Strength]) -> str:
    """The figures as a JSON list, for scripts."""
    return json.dumps([{"assignment": s.assignment, "generated": s.runs,
                        "equivalent": s.equivalent, "killed_public": s.killed_public,
                        "killed": s.killed, "named": s.named,
                        "hand_reproduced": s.hand_reproduced,
                        "hand_total": s.hand_total, "survivors": s.survivors}
                       for s in strengths], indent=2)
