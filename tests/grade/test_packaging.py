"""What a student installs holds no solution, and the grader works from it: a wheel built from this tree
carries the checks and the starter files, nothing of instructor/, and `make-student` runs from it.

Builds the wheel from a copy of the tree (pip, no network, no build isolation: ~15 s).
"""

import shutil
import subprocess
import sys
import zipfile

from instructor.solve import solutions
from minconvbert.grade import assignment_keys, get_assignment
from tests.grade.helpers import ROOT, starter_text


def test_the_wheel_carries_the_student_side_and_no_solution(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree / name)
    shutil.copytree(ROOT / "minconvbert", tree / "minconvbert", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "docs" / "assignments", tree / "docs" / "assignments")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                            str(tmp_path / "dist"), str(tree)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("minconvbert-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        texts = {n: archive.read(n).decode("utf-8", "replace") for n in names if n.endswith((".py", ".md", ".txt"))}
    # each solution block, whole (the package's own reference code computes what the assignments ask, by
    # design, in its own words: a line of a solution may well stand in it, a whole block does not)
    stripped = {n: "\n".join(line.strip() for line in text.splitlines() if line.strip()) for n, text in texts.items()}
    assert not any(n.startswith("instructor") or "SOLUTIONS" in n for n in names)
    for key in assignment_keys():
        a = get_assignment(key)
        packaged = f"minconvbert/grade/student_files/{a.name}/{a.student_file}"
        assert texts.get(packaged) == starter_text(key) and f"minconvbert/grade/student_files/{a.name}/README.md" in names
        answers = solutions((ROOT / "instructor" / "assignments" / a.name / "SOLUTIONS.md").read_text())
        for name, code in answers.items():
            block = "\n".join(line.strip() for line in code.splitlines() if line.strip())
            assert not [n for n, lines in stripped.items() if block in lines], f"{key}: {name}'s solution is in the wheel"

    target = tmp_path / "installed"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                                str(wheel)], capture_output=True, text=True, timeout=600)
    assert installed.returncode == 0, installed.stderr[-2000:]
    made = subprocess.run([sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
                           "from minconvbert.grade.__main__ import main; sys.exit(main(sys.argv[2:]))",
                           str(target), "make-student", "a5", str(tmp_path / "work")], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-2000:]
    assert (tmp_path / "work" / "span_conv_kernels.py").read_text() == starter_text("a5")
    assert "def forward_speed(" in (tmp_path / "work" / "visible_checks.py").read_text()
