"""Build both editions of every notebook from its source in instructor/notebooks/src/ (outputs empty).

    python scripts/build_notebooks.py            # write notebooks/NN_name.ipynb and instructor/notebooks/NN_name.ipynb
    python scripts/build_notebooks.py --check    # exit 1 if a committed notebook differs from its source

Two editions come out of each source:

* the **student edition**, notebooks/NN_name.ipynb: every exercise blank. A part the student
  writes sits in the source between a `# BEGIN SOLUTION` and a `# END SOLUTION` line (the
  markers of instructor/markers.py); the student edition replaces
  each such block by `raise NotImplementedError("<function>: write this part")`;
* the **full edition**, instructor/notebooks/NN_name.ipynb: the solutions in place (markers
  kept, so an instructor sees what the student gets blank), relative links adjusted to its folder.

Code cells holding an exercise carry the tag "exercise" in both editions.

A source is a Python file in the "percent" format that editors such as VS Code and Spyder read as
cells: a line `# %%` starts a code cell, a line `# %% [markdown]` a markdown cell whose lines are
comments (`# text` becomes `text`, a lone `#` an empty line). In a code cell, a commented IPython
magic (`# %matplotlib inline`) is uncommented, so the source stays valid Python (the convention
of jupytext, which can also open these files). Lines before the first marker are a
header for the reader of the source and are not copied. Cell ids are numbered, so building twice
gives the same bytes, and a diff of a notebook shows only what changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # instructor/markers.py (run from a clone, installed or not)

from instructor.markers import BEGIN, strip_solutions  # noqa: E402

SOURCES = ROOT / "instructor" / "notebooks" / "src"
EDITIONS = {"student": ROOT / "notebooks", "full": ROOT / "instructor" / "notebooks"}
MARKER = "# %%"
MAGIC = re.compile(r"# %[a-z]")  # a commented IPython line magic in a code cell
RELATIVE_LINK = re.compile(r"\]\(\.\./")  # a markdown link that leaves notebooks/
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
FULL_EDITION_NOTE = ("*Instructor edition: every exercise is solved. Students work in "
                     "`notebooks/{name}.ipynb`, built from the same source with the exercises blank.*")


def parse_cells(text: str, source: str = "<source>") -> list[tuple[str, str]]:
    """[(kind, text), ...] with kind "code" or "markdown", from a percent-format source."""
    cells: list[tuple[str, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(MARKER):
            rest = line[len(MARKER):].strip()
            if rest not in ("", "[markdown]"):
                raise ValueError(f"{source}:{number}: a cell marker is `# %%` or `# %% [markdown]`, got {line!r}")
            cells.append(("markdown" if rest else "code", []))
            continue
        if not cells:
            continue  # the header
        kind, lines = cells[-1]
        if kind == "code" and MAGIC.match(line):
            line = line[2:]
        if kind == "markdown":
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"{source}:{number}: a markdown line must start with '#', got {line!r}")
            line = line[2:] if line.startswith("# ") else line.lstrip("#")
        lines.append(line)
    out = []
    for kind, lines in cells:
        body = "\n".join(lines).strip("\n")
        if body:
            out.append((kind, body))
    return out


def edition_cells(text: str, edition: str, source: str = "<source>") -> list[tuple[str, str, bool]]:
    """[(kind, text, is_exercise), ...]: the cells of one edition ("student" or "full") of a source."""
    if edition not in EDITIONS:
        raise ValueError(f"edition: expected one of {sorted(EDITIONS)}, got {edition!r}")
    cells = []
    for index, (kind, body) in enumerate(parse_cells(text, source)):
        is_exercise = kind == "code" and BEGIN in body
        if is_exercise and edition == "student":
            body = strip_solutions(body, f"{source} (cell {index})").rstrip("\n")
        if kind == "markdown" and edition == "full":
            body = RELATIVE_LINK.sub("](../../", body)
        cells.append((kind, body, is_exercise))
    if edition == "full":
        cells.insert(1, ("markdown", FULL_EDITION_NOTE.format(name=Path(source).stem), False))
    return cells


def build(source: Path, edition: str = "student") -> nbformat.NotebookNode:
    """One edition of the notebook of one source file, with numbered cell ids and no outputs."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for index, (kind, body, is_exercise) in enumerate(edition_cells(source.read_text(encoding="utf-8"), edition,
                                                                    str(source))):
        make = nbformat.v4.new_code_cell if kind == "code" else nbformat.v4.new_markdown_cell
        cell = make(body)
        cell.id = f"cell-{index:02d}"
        if is_exercise:
            cell.metadata["tags"] = ["exercise"]
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def target_of(source: Path, edition: str = "student") -> Path:
    return EDITIONS[edition] / (source.stem + ".ipynb")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report stale notebooks instead of writing them")
    args = parser.parse_args(argv)
    stale = []
    for source in sorted(SOURCES.glob("*.py")):
        for edition in EDITIONS:
            text = render(build(source, edition))
            target = target_of(source, edition)
            if args.check:
                if not target.is_file() or target.read_text(encoding="utf-8") != text:
                    stale.append(target.relative_to(ROOT))
                continue
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("stale (run python scripts/build_notebooks.py): " + ", ".join(map(str, stale)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
