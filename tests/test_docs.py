"""The documentation stays true: every relative link points to a file (and heading) that exists,
and the code of docs/getting-started.md runs as written."""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(ROOT.glob("docs/**/*.md")) + [ROOT / "README.md", ROOT / "instructor" / "notebooks" / "README.md"]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb"))  # the student edition (getting-started links these)
EDITIONS = NOTEBOOKS + sorted(ROOT.glob("instructor/notebooks/*.ipynb"))  # and the full edition
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```.*?```", flags=re.S)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m) for m in re.findall(r"^#+ (.+)$", text, flags=re.M)}


def links(text: str) -> list:
    text = re.sub(r"`[^`\n]*`", "", FENCE.sub("", text))  # no links inside code
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


def check(source: Path, base: Path, text: str) -> list:
    problems = []
    name = source.relative_to(ROOT) if source.is_relative_to(ROOT) else source.name
    for target in links(text):
        path, _, anchor = target.partition("#")
        resolved = (base / path).resolve() if path else source
        if not resolved.exists():
            problems.append(f"{name}: {target} -> no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            problems.append(f"{name}: {target} -> no heading #{anchor}")
    return problems


def test_the_link_checker_catches_bad_links(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A title\n[ok](page.md#a-title) [missing](nope.md) [bad anchor](#nothing) "
                    "[web](https://example.com) `[code](x.md)`\n```\n[fenced](gone.md)\n```\n")
    problems = check(page, tmp_path, page.read_text())
    assert len(problems) == 2 and "nope.md" in problems[0] and "#nothing" in problems[1]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_in_docs_resolve(page):
    assert not check(page, page.parent, page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("notebook", EDITIONS, ids=[str(p.relative_to(ROOT)) for p in EDITIONS])
def test_relative_links_in_notebooks_resolve(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert not check(notebook, notebook.parent, text)


def test_getting_started_links_every_doc_and_notebook():
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    for page in sorted(ROOT.glob("docs/*.md")):
        if page.name != "getting-started.md":
            assert f"]({page.name})" in text, f"getting-started.md does not link {page.name}"
    for notebook in NOTEBOOKS:
        assert f"](../notebooks/{notebook.name})" in text, f"getting-started.md does not link {notebook.name}"


def test_getting_started_code_runs(tmp_path, monkeypatch, capsys):
    text = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 5
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, "docs/getting-started.md", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "(2, 10, 300)" in printed and "True" in printed
    losses = [float(line.split()[1]) for line in printed.splitlines() if re.fullmatch(r"(0|5|10|15) \S+", line)]
    assert len(losses) == 4 and losses[-1] < losses[0]  # the training block's loss falls


PACKAGE = ROOT / "minconvbert"


def architecture_entries(text: str) -> dict:
    """{entry head: entry text} of the package tree in docs/architecture.md: a line indented by two
    spaces starts an entry (its head is the text before the first run of two spaces), deeper lines
    continue it."""
    tree = re.search(r"```\nminconvbert/\n(.*?)```", text, flags=re.S)
    assert tree, "docs/architecture.md has no package tree (a ``` block starting with minconvbert/)"
    entries, head = {}, None
    for line in tree.group(1).splitlines():
        if re.match(r"  \S", line):
            head = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
            entries[head] = line
        elif head is not None and line.strip():
            entries[head] += "\n" + line
    return entries


def modules_missing_from(text: str, package: Path = PACKAGE) -> list:
    """The package modules the tree does not name, each as 'minconvbert/<path> (where it should be named)'.

    A top-level module (random.py) or subpackage (grade/, or models/convbert/ for models/) must head an
    entry; a module or subpackage
    inside a subpackage must be named, as `name.py`, `name/` or the bare word, in the entry of its
    top-level package (tokenizer/chars.py in the tokenizer/ entry, grade/a1_backward/spec.py in grade/'s).
    """
    entries = architecture_entries(text)
    heads = " ".join(entries)
    missing = []
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if "__pycache__" in relative.parts or relative.name == "__init__.py":
            continue
        is_module = path.suffix == ".py"
        is_package = path.is_dir() and (path / "__init__.py").is_file()
        if not (is_module or is_package):
            continue
        name = path.name + ("/" if is_package else "")
        top = relative.parts[0] + ("/" if len(relative.parts) > 1 or is_package else "")
        if len(relative.parts) == 1:
            if not re.search(rf"(^|[\s,]){re.escape(name)}", heads):
                missing.append(f"minconvbert/{relative}{'/' if is_package else ''} (as an entry of the tree)")
            continue
        entry = next((body for head, body in entries.items() if top in head.split(", ") or head.startswith(top)), "")
        word = path.stem if is_module else path.name
        if not re.search(rf"(?<!\w){re.escape(word)}(\.py|/)?(?!\w)", entry):
            missing.append(f"minconvbert/{relative}{'/' if is_package else ''} (in the {top} entry)")
    return missing


def test_the_module_check_names_what_is_missing(tmp_path):
    package = tmp_path / "minconvbert"
    for file in ("__init__.py", "tensor.py", "random.py", "tok/__init__.py", "tok/basic.py", "tok/chars.py",
                 "grade/__init__.py", "grade/a1/__init__.py", "grade/a1/spec.py"):
        (package / file).parent.mkdir(parents=True, exist_ok=True)
        (package / file).write_text("")
    text = "```\nminconvbert/\n  tensor.py   the Tensor\n  tok/        basic.py and\n              friends\n```\n"
    assert modules_missing_from(text, package) == [
        "minconvbert/grade/ (as an entry of the tree)", "minconvbert/grade/a1/ (in the grade/ entry)",
        "minconvbert/grade/a1/spec.py (in the grade/ entry)", "minconvbert/random.py (as an entry of the tree)",
        "minconvbert/tok/chars.py (in the tok/ entry)"]


def test_architecture_names_every_package_module():
    missing = modules_missing_from((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert not missing, "docs/architecture.md does not name these modules: " + "; ".join(missing)
