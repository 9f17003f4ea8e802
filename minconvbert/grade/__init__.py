"""The assignments' autograder.

    python -m minconvbert.grade make-student a1 my_work/     # the starter file, README and visible checks
    python -m minconvbert.grade a1 my_work/                  # grade it: a score report
    python -m minconvbert.grade a1 my_work/ --debug          # the checks in your process: prints, breakpoint()

Each assignment has a student side, docs/assignments/<name>/ (README and starter file, no solution;
wheels carry it as package data), and its checks here, one subpackage per assignment: the visible
ones (copied to the student, runnable with pytest) and hidden ones. The solutions are the
instructor's: instructor/assignments/ of the repository, never installed. Grading runs the
student's code in an isolated worker process and judges what it returns in the grader's own
process (docs/assignments/README.md states what that promises).
"""

from minconvbert.grade.framework import Assignment, Check, Score
from minconvbert.grade.registry import assignment_keys, get_assignment
from minconvbert.grade.report import Report, Result
from minconvbert.grade.runner import grade
from minconvbert.grade.students import make_student

__all__ = ["grade", "make_student", "get_assignment", "assignment_keys", "Assignment", "Check", "Score", "Report",
           "Result"]
