"""The assignments the grader knows, by key ("a1") and by folder name ("a1_backward").

Each entry names a subpackage of minconvbert.grade that defines `ASSIGNMENT` (an Assignment with
its checks registered). Adding an assignment = adding its subpackage and one line here.
"""

from __future__ import annotations

import importlib

from minconvbert.grade.framework import Assignment

__all__ = ["ASSIGNMENT_MODULES", "get_assignment", "assignment_keys"]

ASSIGNMENT_MODULES = {
    "a1": "minconvbert.grade.a1_backward",
    "a2": "minconvbert.grade.a2_span_conv",
    "a3": "minconvbert.grade.a3_mixed_attention",
    "a4": "minconvbert.grade.a4_head_analysis",
    "a5": "minconvbert.grade.a5_kernels",
}


def assignment_keys() -> list[str]:
    return list(ASSIGNMENT_MODULES)


def get_assignment(name: str) -> Assignment:
    """The Assignment called `name` ("a1", "A1" or "a1_backward"); KeyError listing the known ones."""
    key = str(name).lower()
    module_name = ASSIGNMENT_MODULES.get(key)
    if module_name is None:
        for candidate in ASSIGNMENT_MODULES.values():
            if candidate.rsplit(".", 1)[1] == key:
                module_name = candidate
                break
    if module_name is None:
        known = ", ".join(f"{k} ({v.rsplit('.', 1)[1]})" for k, v in ASSIGNMENT_MODULES.items())
        raise KeyError(f"unknown assignment {name!r}; known: {known}")
    return importlib.import_module(module_name).ASSIGNMENT
