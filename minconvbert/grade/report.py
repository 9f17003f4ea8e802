"""The grader's results: one `Result` per check, a `Report` per run, printed as a table or JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

__all__ = ["Result", "Report", "one_line"]


@dataclass
class Result:
    """The outcome of one check: `earned` of its `points`, and why not all of them (empty when passed)."""

    name: str
    points: float
    visible: bool
    earned: float = 0.0
    reason: str = ""
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.earned >= self.points


@dataclass
class Report:
    """Every check's result for one student file, in the assignment's order."""

    assignment: str
    title: str
    student_file: str
    results: list[Result] = field(default_factory=list)
    note: str = ""  # e.g. why nothing could be graded (file missing, syntax error, a forbidden import)
    isolation: str = ""  # how the worker was kept apart (sandbox.isolation)

    @property
    def score(self) -> float:
        return sum(r.earned for r in self.results)

    @property
    def total(self) -> float:
        return sum(r.points for r in self.results)

    def to_json(self) -> str:
        data = asdict(self)
        for row, result in zip(data["results"], self.results):
            row["passed"] = result.passed
        data.update(score=self.score, total=self.total)
        return json.dumps(data, indent=2)

    def format(self) -> str:
        lines = [f"{self.assignment}: {self.title}", f"student file: {self.student_file}"]
        if self.note:
            lines.append(f"note: {self.note}")
        name_width = max([len(r.name) for r in self.results] + [5])
        lines.append("")
        lines.append(f"  {'check':<{name_width}}  {'kind':<7}  {'points':>7}  result")
        for r in self.results:
            points = f"{_number(r.earned)}/{_number(r.points)}"
            verdict = "PASS" if r.passed else ("PART" if r.earned > 0 else "FAIL")
            reason = f"  {r.reason}" if r.reason else ""
            lines.append(f"  {r.name:<{name_width}}  {'visible' if r.visible else 'hidden':<7}  {points:>7}  "
                         f"{verdict}{reason}")
        percent = 100.0 * self.score / self.total if self.total else 0.0
        lines.append("")
        lines.append(f"score: {_number(self.score)} / {_number(self.total)} ({percent:.0f}%)")
        return "\n".join(lines)


def _number(x: float) -> str:
    return f"{round(x, 2):g}"


def one_line(text, limit: int = 400) -> str:
    """`text` as one printable line of at most `limit` characters: what a student's code says (an
    exception's message, a stderr line) can neither break the report's table nor fake a line of it."""
    text = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
