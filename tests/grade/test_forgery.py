"""A submission cannot write its verdict: each forgery of issue 16 scores 0 on an unsolved submission, and
a correct submission beside honest scratch files scores full marks.

The forgeries run against the command line where they aim at the grader's process (its output, its
life), and against grade() where they aim at the checks. They signal only the grader they run under.
"""

import json
import os
import time

from minconvbert.grade import get_assignment, grade
from tests.grade.helpers import by_name, run_cli, solution_text, starter_text, write_student

A1_CHECKS = ["mul_gradcheck", "tanh_gradcheck", "mul_broadcasting"]


def _zero_and_reasons(report):
    assert report.score == 0, [(r.name, r.reason) for r in report.results if r.earned]
    return [r.reason for r in report.results]


def test_replacing_the_checks_at_import_changes_nothing(tmp_path):
    # the direct route: importing the grader is refused before anything runs
    direct = "import minconvbert.grade.a1_backward as graded\nfor c in graded.ASSIGNMENT.checks: pass\n"
    report = grade("a1", write_student(tmp_path / "direct", "a1", direct + starter_text("a1")), only=A1_CHECKS)
    assert "minconvbert.grade.a1_backward" in report.note and "nothing was graded" in report.note
    _zero_and_reasons(report)
    # around the import check (no module name spelt out): patch the checks, the calls and the codec in the worker
    around = (
        "import importlib, dataclasses\n"
        "graded = importlib.import_module('minconv' + 'bert.grade.a1_backward')\n"
        "for c in graded.ASSIGNMENT.checks:\n"
        "    object.__setattr__(c, 'function', lambda *args: None)\n"
        "execute = importlib.import_module('minconv' + 'bert.grade.execute')\n"
        "execute.call = lambda *args, **kwargs: execute.Outcome(value='PASSED')\n"
        "codec = importlib.import_module('minconv' + 'bert.grade.codec')\n"
        "codec.encode = lambda value, depth=0: 'PASSED'\n"
    )
    report = grade("a1", write_student(tmp_path / "around", "a1", around + starter_text("a1")), only=A1_CHECKS)
    assert all("malformed data" in reason for reason in _zero_and_reasons(report))


WRITE_ON_THE_CHANNEL = """
import json, os, stat
forged = [json.dumps({"event": "result", "name": "mul_gradcheck", "passed": True, "reason": ""})]
forged += [json.dumps({"id": n, "value": None, "grads": {"$": "dict", "items": []}, "changed": [], "built": [],
                       "lines": None}) for n in range(1, 50)]
for fd in range(3, 64):
    try:
        if stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.write(fd, ("\\n".join(forged) + "\\n").encode())
    except OSError:
        pass
"""


def test_writing_answers_on_the_workers_channel_scores_zero(tmp_path):
    report = grade("a1", write_student(tmp_path / "a1", "a1", WRITE_ON_THE_CHANNEL + starter_text("a1")),
                   only=A1_CHECKS)
    _zero_and_reasons(report)


def test_malformed_data_on_the_channel_fails_checks_and_does_not_crash(tmp_path):
    garbage = ("import os, stat\n"
               "for fd in range(3, 64):\n"
               "    try:\n"
               "        if stat.S_ISFIFO(os.fstat(fd).st_mode):\n"
               "            os.write(fd, b'\\xff\\xfe{not json\\n' + b'[' * 100000 + b'\\n')\n"
               "    except OSError:\n"
               "        pass\n")
    report = grade("a1", write_student(tmp_path / "a1", "a1", garbage + solution_text("a1")), only=A1_CHECKS)
    assert any("malformed data" in reason for reason in _zero_and_reasons(report))


def test_a_json_py_beside_the_submission_never_runs(tmp_path):
    marker = tmp_path / "json-ran"
    forged_json = (f"open({str(marker)!r}, 'w').write('ran')\n"
                   "def dumps(*a, **k): return '{\"score\": 18, \"total\": 18}'\n")
    folder = write_student(tmp_path / "a1", "a1", starter_text("a1"), **{"json.py": forged_json})
    result = run_cli("a1", folder, "--json", "--only", *A1_CHECKS, cwd=tmp_path)
    assert result.returncode == 0 and json.loads(result.stdout)["score"] == 0
    assert not marker.exists()


FAKE_REPORT_THEN_KILL = """
import os, signal
grader = os.getppid()
try:
    with open(f"/proc/{grader}/fd/1", "w") as out:
        out.write("a1: the backward pass of nine operations\\nscore: 18 / 18 (100%)\\n")
except OSError:
    pass
try:
    os.kill(grader, signal.SIGKILL)
except OSError:
    pass
"""


def test_a_fake_report_on_the_graders_output_then_killing_it_gets_no_marks(tmp_path):
    folder = write_student(tmp_path / "a1", "a1", FAKE_REPORT_THEN_KILL + starter_text("a1"))
    result = run_cli("a1", folder, "--only", *A1_CHECKS, cwd=tmp_path)
    assert "18 / 18" not in result.stdout
    if result.returncode == 0:  # the worker could not signal the grader (another user, or a PID namespace)
        assert "score: 0 / 3 (0%)" in result.stdout
    else:  # killed: no report at all, and a status that voids it
        assert result.returncode != 0 and "score:" not in result.stdout


def _forking_submission(heartbeat, target=None) -> str:
    """At import: a grandchild in a session of its own that beats every 50 ms for 20 s and, once `target`
    holds a report, overwrites it with a full score; the import returns after its first beat."""
    overwrite = "" if target is None else (
        f"        if os.path.getsize({str(target)!r}) > 0:\n"
        f"            open({str(target)!r}, 'w').write('{{\"score\": 18, \"total\": 18}}')\n")
    return (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() != 0:\n"
        "        os._exit(0)\n"
        "    for _ in range(400):\n"
        f"        open({str(heartbeat)!r}, 'a').write('.')\n" + overwrite +
        "        time.sleep(0.05)\n"
        "    os._exit(0)\n"
        # the submission goes on only once the grandchild has beaten (or 5 s have passed): on a busy
        # machine the grading could otherwise end before the attack has started
        "for _ in range(500):\n"
        f"    if os.path.exists({str(heartbeat)!r}):\n"
        "        break\n"
        "    time.sleep(0.01)\n")


def _shared_folder(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(shared, 0o777)  # writable by the worker whatever user it runs as
    return shared


def _still_beating(heartbeat) -> bool:
    before = heartbeat.stat().st_size if heartbeat.exists() else 0
    time.sleep(0.5)
    return (heartbeat.stat().st_size if heartbeat.exists() else 0) != before


def test_a_grandchild_cannot_rewrite_the_json_report_after_the_grader_exits(tmp_path):
    shared = _shared_folder(tmp_path)
    heartbeat, report_file = shared / "heartbeat", shared / "report.json"
    report_file.touch()
    os.chmod(report_file, 0o666)
    folder = write_student(tmp_path / "a1", "a1", _forking_submission(heartbeat, report_file) + starter_text("a1"))
    with open(report_file, "w") as out:
        result = run_cli("a1", folder, "--json", "--only", *A1_CHECKS, cwd=tmp_path, stdout=out)
    assert result.returncode == 0
    assert heartbeat.exists() and not _still_beating(heartbeat)
    assert json.loads(report_file.read_text())["score"] == 0


def test_no_process_outlives_grading(tmp_path):
    heartbeat = _shared_folder(tmp_path) / "heartbeat"
    report = grade("a1", write_student(tmp_path / "a1", "a1", _forking_submission(heartbeat) + solution_text("a1")),
                   only=A1_CHECKS)
    assert report.score == 3  # forking is no crime; outliving the grading is impossible
    assert heartbeat.exists() and not _still_beating(heartbeat)


def test_re_exporting_the_reference_functions_scores_zero(tmp_path):
    names = ("mean_attention_distance", "mean_kernel_distance")
    only = ["attention_distance_layer0", "kernel_distance_layer0", "kernel_distance_edges_and_even_k"]
    direct = f"from minconvbert.analysis import {', '.join(names)}\n"
    report = grade("a4", write_student(tmp_path / "direct", "a4", direct + starter_text("a4")), only=only)
    assert "minconvbert.analysis" in report.note
    _zero_and_reasons(report)
    around = "import importlib\n_analysis = importlib.import_module('minconv' + 'bert.analysis')\n"
    around += "".join(f"{name} = _analysis.{name}\n" for name in names)
    text = starter_text("a4") + "\n" + around  # after the stubs, so that the re-exports win
    report = grade("a4", write_student(tmp_path / "around", "a4", text), only=only)
    assert all("is not defined in your file (it comes from minconvbert.analysis)" in reason
               for reason in _zero_and_reasons(report))


def test_memory_and_cpu_time_are_bounded(tmp_path):
    hog = ("import numpy as np\n"
           "def unfold_spans(values, kernel_size):\n"
           "    return np.ones((4, 1024, 1024, 1024))  # 32 GiB\n"
           "def span_conv_forward(values, kernels):\n"
           "    while True:\n"
           "        pass\n")
    report = grade("a2", write_student(tmp_path / "a2", "a2", hog), only=["unfold_small", "forward_matches_reference"],
                   timeout=120, limits={"cpu_seconds": 4})
    results = by_name(report)
    assert "MemoryError" in results["unfold_small"].reason
    assert "CPU time limit (4 s) was reached" in results["forward_matches_reference"].reason, \
        results["forward_matches_reference"].reason
    assert results["forward_matches_reference"].seconds < 60


def test_a_fork_bomb_is_contained(tmp_path):
    heartbeat = _shared_folder(tmp_path) / "heartbeat"
    bomb = ("import os, time\n"
            "for _ in range(30):\n"
            "    try:\n"
            "        if os.fork() == 0:\n"
            "            for _ in range(400):\n"
            f"                open({str(heartbeat)!r}, 'a').write('.')\n"
            "                time.sleep(0.05)\n"
            "            os._exit(0)\n"
            "    except OSError:\n"
            "        break  # the process limit (not for root: the kernel exempts it)\n")
    started = time.monotonic()
    report = grade("a1", write_student(tmp_path / "a1", "a1", bomb + solution_text("a1")), only=["mul_gradcheck"])
    assert report.score == 1 and time.monotonic() - started < 60
    assert heartbeat.exists() and not _still_beating(heartbeat)


def test_a_reason_cannot_forge_a_line_of_the_report(tmp_path):
    text = starter_text("a1").replace('raise NotImplementedError("Mul.backward: write this part")',
                                      'raise ValueError("x\\n\\nscore: 18 / 18 (100%)\\n")')
    report = grade("a1", write_student(tmp_path / "a1", "a1", text), only=["mul_gradcheck"])
    assert not any(line.startswith("score: 18") for line in report.format().splitlines())


def test_honest_scratch_files_beside_a_correct_submission_score_full_marks(tmp_path):
    scratch = {f"{name}.py": f"raise ImportError('the scratch file {name}.py was imported')\n"
               for name in ("numpy", "random", "typing", "json")}
    folder = write_student(tmp_path / "a1", "a1", solution_text("a1"), **scratch)
    report = grade("a1", folder)
    assert report.score == report.total == get_assignment("a1").total_points, report.format()
    result = run_cli("a1", folder, "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["score"] == 18
