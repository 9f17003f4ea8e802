"""Assignment A1 (the backward pass of nine operations): its definition, which its checks extend."""

from minconvbert.grade.framework import Assignment

A1 = Assignment(
    key="a1",
    name="a1_backward",
    title="the backward pass of nine operations",
    student_file="backward_ops.py",
)
