"""What a submission may import: the standard library, NumPy, and what its assignment allows.

An assignment is graded against minconvbert's own code (its kernels, operations, model and
analysis), so a submission that imports that code is not graded at all. Two guards, both stated in
docs/assignments/README.md as what they are (they stop the direct routes, not a determined student):

    problems = forbidden_imports(source, allowed=("minconvbert.function",))   # in the grader, on the text
    guard_imports(allowed, importer="student_submission")                     # in the worker, at run time

`allowed` names the permitted third-party packages and minconvbert modules ("numba",
"minconvbert.tensor"); a module is permitted when it or a package above it is listed, or when it
belongs to the standard library.
"""

from __future__ import annotations

import ast
import builtins
import re
import sys

__all__ = ["forbidden_imports", "guard_imports", "is_allowed", "describe_allowed"]

ALWAYS = ("numpy",)
_MODULE_NAME = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def is_allowed(name: str, allowed) -> bool:
    """Whether module `name` may be imported by a submission."""
    root = name.split(".")[0]
    if root in sys.stdlib_module_names:
        return True
    return any(name == a or name.startswith(a + ".") for a in (*ALWAYS, *allowed))


def describe_allowed(allowed) -> str:
    """'the standard library, numpy and minconvbert.tensor' (for messages and READMEs)."""
    names = [*ALWAYS, *allowed]
    return "the standard library, " + (", ".join(names[:-1]) + " and " + names[-1] if len(names) > 1 else names[0])


def _imported_names(node: ast.AST) -> list[str]:
    """The modules an import statement (or a dynamic import with a literal name) asks for."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            return ["." * node.level + (node.module or "")]
        # `from minconvbert import functional` imports minconvbert.functional: judge the fuller name
        return [f"{node.module}.{alias.name}" if alias.name != "*" else node.module for alias in node.names]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if function in ("__import__", "import_module") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and _MODULE_NAME.match(node.value):
        if node.value.split(".")[0] in ("minconvbert", "instructor"):  # a module named in a string
            return [node.value]
    return []


def forbidden_imports(source: str, allowed, filename: str = "<submission>") -> list[str]:
    """'line 3: minconvbert.analysis' for every import the submission may not make (SyntaxError if it
    does not parse)."""
    problems = []
    for node in ast.walk(ast.parse(source, filename=filename)):
        for name in _imported_names(node):
            if name.startswith(".") or not is_allowed(name, allowed):
                problems.append(f"line {node.lineno}: {name}")
    return sorted(set(problems), key=lambda p: int(p.split(":")[0].split()[1]))


def guard_imports(allowed, importer: str) -> None:
    """From now on, an import statement executed by module `importer` raises ImportError for a module
    it may not import (even one already imported by the grader's own code)."""
    original = builtins.__import__

    def guarded(name, globals=None, locals=None, fromlist=(), level=0):
        if globals is not None and globals.get("__name__") == importer:
            items = [item for item in (fromlist or ()) if item != "*"]
            if level:
                refused = "." * level + name  # a submission is no package: nothing is relative to it
            elif fromlist and "*" not in fromlist and not is_allowed(name, allowed):
                # `from minconvbert import functional`: each imported name is judged as a module
                refused = next((f"{name}.{i}" for i in items if not is_allowed(f"{name}.{i}", allowed)), None)
            else:
                refused = None if is_allowed(name, allowed) else name
            if refused:
                raise ImportError(f"{refused} may not be imported by a submission (allowed: "
                                  f"{describe_allowed(allowed)})")
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = guarded
