"""The assignments' autograder.

    python -m minconvbert.grade make-student a1 my_work/     # the starter files, solutions removed
    python -m minconvbert.grade a1 my_work/                  # grade them: a score report

Each assignment (docs/assignments/<name>/) has a README and a solution file whose solutions sit
between `# BEGIN SOLUTION` / `# END SOLUTION` lines; `make-student` replaces them by
`raise NotImplementedError(...)`. Its checks live here, in one subpackage per assignment: the
visible ones (shown to the student) and hidden ones. The grader imports the student's file by
path in a separate process, runs every check with a time limit, and reports points per check.
"""

from minconvbert.grade.framework import Assignment, Check
from minconvbert.grade.registry import assignment_keys, get_assignment
from minconvbert.grade.report import Report, Result
from minconvbert.grade.runner import grade
from minconvbert.grade.solutions import make_student, strip_solutions

__all__ = ["grade", "make_student", "strip_solutions", "get_assignment", "assignment_keys", "Assignment", "Check",
           "Report", "Result"]
