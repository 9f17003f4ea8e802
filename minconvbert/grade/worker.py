"""The worker process: it runs the student's code when the grader asks, and judges nothing.

Started by `minconvbert.grade.submission` with `python -I` (no current folder, no PYTHONPATH on
sys.path: the student's folder is never on it) in a session of its own, in a fresh empty folder:

    python -I -c "<bootstrap>" <folder holding minconvbert> '<config JSON>'

It keeps its standard input and output as the channel to the grader and points file descriptors 0
and 1 at /dev/null, imports NumPy and minconvbert, then `sandbox.confine` drops root and sets the
resource limits, and it says {"ready": true}. Every request after that is one JSON line with an
"id"; the answer repeats it:

    {"id": 1, "op": "import", "source": "...", "filename": "/path/span_conv.py"}
    {"id": 2, "op": "call", "path": "span_conv_forward", "args": [...], "kwargs": {...}, ...}
    {"id": 3, "op": "map", "path": "span_conv_forward", "calls": [[args, kwargs], ...]}
    {"id": 4, "op": "store", "key": "values", "value": ...}   {"id": 5, "op": "fetch", "key": "out"}
answered by {"id": n, "value": ..., ...} or {"id": n, "error": "<one line: what the student's code raised>"}.

The expected values and the checks stay in the grader: what comes back from here is only what the
student's code returned, which the grader decodes as untrusted data.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import traceback

from minconvbert.grade import codec

MAX_REQUEST = 512 * 1024 * 1024
MAX_REASON = 400
BOOTSTRAP = ("import sys; sys.path.insert(0, sys.argv[1]); from minconvbert.grade.worker import main; "
             "sys.exit(main(sys.argv[2]))")


def _where(error: BaseException, filename: str) -> str:
    """' (at file.py:42 in name)' for the deepest traceback frame inside the student's file."""
    frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == filename]
    if not frames:
        return ""
    return f" (at {os.path.basename(filename)}:{frames[-1].lineno} in {frames[-1].name})"


def describe(error: BaseException, filename: str) -> str:
    """A one-line reason for what the student's code raised."""
    if isinstance(error, SyntaxError) and error.filename == filename:
        return f"SyntaxError in {os.path.basename(filename)} line {error.lineno}: {error.msg}"
    if isinstance(error, NotImplementedError):  # the stub says where already
        return f"not implemented ({error})" if str(error) else "not implemented"
    text = str(error) if isinstance(error, AssertionError) and str(error) else (
        f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    text = " ".join(text.split()) + _where(error, filename)
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 3] + "..."


class _Server:
    """The state between requests: the student's module, its filename, the stored values."""

    def __init__(self, config: dict):
        self.config = config
        self.module = None
        self.filename = ""
        self.store: dict = {}

    def handle(self, request: dict) -> dict:
        op = request.get("op")
        if op == "import":
            from minconvbert.grade.execute import SUBMISSION, load_submission
            from minconvbert.grade.imports import guard_imports

            self.filename = str(request["filename"])
            guard_imports(self.config.get("allowed", ()), importer=SUBMISSION)
            self.module = load_submission(str(request["source"]), self.filename)
            return {}
        if op == "store":
            self.store[str(request["key"])] = codec.decode(request["value"])
            return {}
        if op == "fetch":
            return {"value": codec.encode(self.store[str(request["key"])])}
        from minconvbert.grade.execute import call

        if self.module is None:
            raise RuntimeError("no submission imported")
        if op == "map":
            values = []
            for args, kwargs in codec.decode(request["calls"], markers=True):
                values.append(call(self.module, request["path"], args, kwargs, watch=False, store=self.store).value)
            return {"value": codec.encode(values)}
        if op != "call":
            raise ValueError(f"unknown request {str(op)[:40]!r}")
        backward = request.get("backward")
        outcome = call(self.module, request["path"], codec.decode(request["args"], markers=True),
                       codec.decode(request["kwargs"], markers=True),
                       backward=None if backward is None else codec.decode(backward),
                       through=request.get("through"), count_lines=bool(request.get("count_lines")),
                       watch=bool(request.get("watch", True)), repeat=int(request.get("repeat", 1)), store=self.store)
        answer = {"grads": codec.encode(outcome.grads), "changed": outcome.changed,
                  "built": codec.encode(outcome.built), "lines": outcome.lines}
        if request.get("store_as"):
            self.store[str(request["store_as"])] = outcome.value
            answer["value"] = None
        else:
            answer["value"] = codec.encode(outcome.value)
        return answer


def main(config_json: str) -> int:
    from minconvbert.grade.sandbox import confine, enter_pid_namespace

    config = json.loads(config_json)
    own_namespace = enter_pid_namespace()
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)  # input() finds nothing to read
    os.dup2(devnull, 1)  # and what the student's code prints goes nowhere

    import minconvbert
    from minconvbert.grade.execute import BUILDERS  # noqa: F401  (the model code, before the limits)

    minconvbert.set_default_backend(config.get("backend", "numpy"))
    for name in config.get("preload", ()):
        importlib.import_module(name)
    confine(config["limits"])

    def send(message: dict) -> None:
        answers.write(codec.dumps(message))
        answers.flush()

    send({"ready": True, "pid_namespace": own_namespace})
    server = _Server(config)
    while True:
        line = requests.readline(MAX_REQUEST)
        if not line:
            return 0
        request = codec.loads(line)
        try:
            answer = server.handle(request)
        except BaseException as error:  # the student's sys.exit() or KeyboardInterrupt fails the request, nothing more
            answer = {"error": describe(error, server.filename)}
        send({"id": request.get("id"), **answer})
