"""The solved file of an assignment: the student's starter file with the instructor's solutions filled in.

    python instructor/solve.py a2 solved/          # writes solved/span_conv.py; then
    python -m minconvbert.grade a2 solved/         # scores full marks

The starter file (docs/assignments/<name>/<file>) holds stubs, each the only statement of its
block: `raise NotImplementedError("<function>: write this part")`. The solutions
(instructor/assignments/<name>/SOLUTIONS.md) give, under a heading `## <function>`, the code that
replaces that stub, in a ```python block, at no indentation; text around the blocks is for the
instructor. `solve` puts each block in place of its stub, indented like it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STUB = re.compile(r'^(?P<indent>\s*)raise NotImplementedError\("(?P<name>[\w.]+): write this part"\)\s*$')
SECTION = re.compile(r"^## (?P<name>[\w.]+)\s*\n(?:(?!^## ).)*?^```python\n(?P<code>.*?)^```\s*$", re.M | re.S)

__all__ = ["solutions", "solve", "solved_text", "stubs"]


def solutions(markdown: str) -> dict[str, str]:
    """{function: its code} from a SOLUTIONS.md; ValueError for a function given twice."""
    found = {}
    for match in SECTION.finditer(markdown):
        if match["name"] in found:
            raise ValueError(f"SOLUTIONS.md: two solutions for {match['name']}")
        found[match["name"]] = match["code"].rstrip("\n")
    return found


def stubs(text: str) -> list[str]:
    """The functions whose stubs the starter file holds, in order."""
    return [m["name"] for m in map(STUB.match, text.splitlines()) if m]


def solve(text: str, answers: dict[str, str], only=None) -> str:
    """`text` (a starter file) with each stub replaced by its answer; `only` (names) leaves the others as
    stubs (partly solved files, to test the grader). ValueError when stubs and answers do not match."""
    names = stubs(text)
    missing, unused = set(names) - set(answers), set(answers) - set(names)
    if missing or unused or len(names) != len(set(names)):
        raise ValueError(f"starter and solutions do not match: no solution for {sorted(missing)}, "
                         f"no stub for {sorted(unused)}, stubs {names}")
    out = []
    for line in text.splitlines():
        match = STUB.match(line)
        if match and (only is None or match["name"] in only):
            out.extend(match["indent"] + code if code.strip() else "" for code in answers[match["name"]].splitlines())
        else:
            out.append(line)
    solved = "\n".join(out) + "\n"
    compile(solved, "<solved>", "exec")
    return solved


def solved_text(key: str, only=None) -> str:
    """The solved student file of assignment `key` ("a2")."""
    from minconvbert.grade import get_assignment

    assignment = get_assignment(key)
    starter = (ROOT / "docs" / "assignments" / assignment.name / assignment.student_file).read_text(encoding="utf-8")
    answers = (ROOT / "instructor" / "assignments" / assignment.name / "SOLUTIONS.md").read_text(encoding="utf-8")
    return solve(starter, solutions(answers), only)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python instructor/solve.py", description=__doc__.split("\n")[0])
    parser.add_argument("assignment", help="a1, a2, ... (or the folder name)")
    parser.add_argument("out_dir", help="where to write the solved file (created if missing)")
    args = parser.parse_args(argv)
    from minconvbert.grade import get_assignment

    target = Path(args.out_dir) / get_assignment(args.assignment).student_file
    if target.exists():
        print(f"error: {target} exists; choose another folder", file=sys.stderr)
        return 2
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(solved_text(args.assignment), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
