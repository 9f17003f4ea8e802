"""A text corpus available on every machine: the docstrings of Python's standard library.

Also the language reference topics that pydoc ships (pydoc_data/topics.py, read with
ast.literal_eval). The source files are parsed with `ast` (nothing is imported or executed); each docstring is split
into paragraphs, whitespace is folded, short or code-like paragraphs are dropped, duplicates are
removed, and a stable hash of the text assigns each paragraph to train or validation. The result
depends only on the Python version's standard library (record it when reporting figures).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import sysconfig
import warnings
import zlib
from pathlib import Path

__all__ = ["stdlib_files", "docstring_paragraphs", "stdlib_corpus", "split_train_validation"]

_SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__", "lib2to3", "turtledemo"}


def stdlib_files(root: str | os.PathLike | None = None) -> list:
    """Every .py file of the standard library (tests and site-packages excluded), sorted."""
    root = Path(root or sysconfig.get_paths()["stdlib"])
    files = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        files.extend(Path(dirpath) / f for f in sorted(filenames) if f.endswith(".py"))
    return sorted(files)


def module_name(path: Path, root: Path) -> str:
    """'json.decoder' for <root>/json/decoder.py; 'json' for <root>/json/__init__.py."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def docstrings(path: Path) -> list:
    """The docstrings of a file's module, classes and functions, in source order (empty if it does not parse)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # invalid escape sequences in old sources
            tree = ast.parse(path.read_text(encoding="utf-8"))
    except (SyntaxError, UnicodeDecodeError, ValueError):
        return []
    nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
    out = []
    for node in nodes:
        text = ast.get_docstring(node, clean=True)
        if text:
            out.append(text)
    return out


_CODE_LIKE = re.compile(r"^\s*(>>>|\.\.\.|[-=~*]{3,}|[A-Za-z_][\w.]*\(.*\)\s*$)")


def docstring_paragraphs(text: str, min_chars: int = 40) -> list:
    """Blank-line-separated paragraphs of a docstring as single lines; doctest and rule lines dropped."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if not _CODE_LIKE.match(line)]
        paragraph = " ".join(" ".join(lines).split())
        if len(paragraph) >= min_chars and sum(c.isalpha() for c in paragraph) > 0.6 * len(paragraph):
            paragraphs.append(paragraph)
    return paragraphs


def pydoc_topics(root: Path) -> list:
    """The texts of pydoc's help topics (the language reference), without importing the module."""
    path = root / "pydoc_data" / "topics.py"
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict):
            topics = ast.literal_eval(node.value)
            return [topics[key] for key in sorted(topics)]
    return []


def stdlib_corpus(min_chars: int = 40, with_modules: bool = False, include_topics: bool = False) -> list:
    """Deduplicated docstring paragraphs of the standard library, in a fixed order.

    With with_modules=True returns (module, paragraph) pairs (the first module a paragraph appears in).
    With include_topics=True the paragraphs of pydoc's reference topics follow (module "pydoc_data.topics").
    """
    root = Path(sysconfig.get_paths()["stdlib"])
    sources = [(module_name(path, root), text) for path in stdlib_files(root) for text in docstrings(path)]
    if include_topics:
        sources += [("pydoc_data.topics", text) for text in pydoc_topics(root)]
    seen, out = set(), []
    for module, text in sources:
        for paragraph in docstring_paragraphs(text, min_chars):
            if paragraph not in seen:
                seen.add(paragraph)
                out.append((module, paragraph) if with_modules else paragraph)
    return out


def split_train_validation(lines: list, validation_fraction: float = 0.05) -> tuple:
    """(train, validation): a line goes to validation when a stable hash of its text says so."""
    if not 0.0 < validation_fraction < 1.0:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction}")
    cut = int(validation_fraction * 2**32)
    train, validation = [], []
    for line in lines:
        text = line[1] if isinstance(line, tuple) else line
        (validation if zlib.crc32(text.encode("utf-8")) < cut else train).append(line)
    return train, validation


def python_version() -> str:
    return sys.version.split()[0]
