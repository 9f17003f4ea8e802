"""The grader's command line.

    python -m minconvbert.grade a1 my_work/                 grade the file in my_work/ (prints a score report)
    python -m minconvbert.grade a1 my_work/ --json          the same report as JSON
    python -m minconvbert.grade a1 my_work/ --debug         run the checks in this process: your prints are
                                                            shown and breakpoint() works (no time limits)
    python -m minconvbert.grade make-student a1 my_work/    write the student folder of A1 into my_work/
    python -m minconvbert.grade list                        the assignments and their checks

Run it from outside the student's folder: Python puts the current folder first on its import path,
so files there (numpy.py, json.py, ...) would be imported by the grader itself; it refuses to grade
when that has happened. For marks, `python -I -m minconvbert.grade ...` (docs/assignments/README.md).

Exit status: 0 whenever grading ran (whatever the score); 2 when the command is used wrongly
(unknown assignment, missing folder, a student folder that would be overwritten).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from minconvbert.grade.registry import assignment_keys, get_assignment
from minconvbert.grade.runner import grade
from minconvbert.grade.sandbox import DEFAULT_LIMITS
from minconvbert.grade.students import make_student

USAGE_ERROR = 2


def _grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m minconvbert.grade",
        description="Grade an assignment. Other commands: 'make-student <assignment> <out_dir>', 'list'.",
    )
    parser.add_argument("assignment", help=f"one of {', '.join(assignment_keys())} (or its folder name)")
    parser.add_argument("student_dir", help="the folder holding the student's file")
    parser.add_argument("--timeout", type=float, default=None, help="seconds allowed per check (default: per check)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--only", nargs="+", metavar="CHECK", help="run only these checks")
    parser.add_argument("--debug", action="store_true",
                        help="run the checks in this process (prints shown, breakpoint() works); not a grade")
    parser.add_argument("--memory-mb", type=int, default=DEFAULT_LIMITS["memory_mb"],
                        help=f"the worker's address-space limit (default {DEFAULT_LIMITS['memory_mb']})")
    return parser


def _list() -> int:
    for key in assignment_keys():
        a = get_assignment(key)
        visible = sum(c.points for c in a.checks if c.visible)
        print(f"{key}  {a.name:22} {a.title}  ({a.student_file}; {a.total_points:g} points, {visible:g} visible)")
        for c in a.ordered_checks:
            print(f"      {'visible' if c.visible else 'hidden ':7} {c.points:>4g}  {c.name}")
    return 0


def _shadowed_by(student_dir: str) -> list[str]:
    """The modules this process imported from files right in the student's folder (numpy.py, json/...):
    the folder was the current one, which Python searches first."""
    folder = Path(student_dir).resolve()
    found = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and name.split(".")[0] != "minconvbert":
            path = Path(origin).resolve()
            if path.parent == folder or (path.name == "__init__.py" and path.parent.parent == folder):
                found.append(name)
    return sorted(found)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["list"]:
            return _list()
        if argv[:1] == ["make-student"]:
            parser = argparse.ArgumentParser(prog="python -m minconvbert.grade make-student",
                                             description="Write the student folder of an assignment (no solution).")
            parser.add_argument("assignment")
            parser.add_argument("out_dir", help="a new (or empty) folder")
            args = parser.parse_args(argv[1:])
            for path in make_student(get_assignment(args.assignment), args.out_dir):
                print(f"wrote {path}")
            return 0
        args = _grade_parser().parse_args(argv)
        shadowed = _shadowed_by(args.student_dir)
        if shadowed:
            raise ValueError(f"the grader imported {', '.join(shadowed[:5])} from the student folder, which was its "
                             "current folder (Python looks there first): run it from another folder")
        report = grade(args.assignment, args.student_dir, timeout=args.timeout, only=args.only, debug=args.debug,
                       limits={"memory_mb": args.memory_mb})
    except (KeyError, ValueError, OSError) as error:  # misuse: unknown names, missing folders, ...
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"error: {message}", file=sys.stderr)
        return USAGE_ERROR
    print(report.to_json() if args.json else report.format(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
