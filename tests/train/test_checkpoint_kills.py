"""Training checkpoints under SIGKILL (issue 16, bug 6): resuming finds the newest complete checkpoint,
whatever `latest` says and wherever the previous run was killed, re-saving a step included."""

from __future__ import annotations

import shutil
import sys

import pytest

from minconvbert.train.loop import train_loop
from minconvbert.train.state import latest_checkpoint, load_training_state, save_training_state
from tests.killing import kill_at_each_step, kill_loop
from tests.train.test_loop import _setup, make_batch

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the kill loops fork and SIGKILL")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A run of 4 steps with checkpoints at 2 and 4 (the parent compiles every kernel before forking)."""
    out = tmp_path_factory.mktemp("run") / "out"
    model, optimizer, schedule = _setup()
    train_loop(model, make_batch, optimizer, schedule, 4, out, checkpoint_every=2, progress=False)
    return out, (model, optimizer, schedule)


def _resumed_step(out) -> int:
    """The step a resumed run starts from (loading the checkpoint into a fresh model), 0 if none."""
    found = latest_checkpoint(out)
    if found is None:
        return 0
    return load_training_state(found, *_setup())["step"]


def test_resaving_a_step_killed_anywhere_still_resumes_from_it(tmp_path, trained):
    pristine, state = trained
    out = tmp_path / "out"

    def reset():
        shutil.rmtree(out, ignore_errors=True)
        shutil.copytree(pristine, out)

    def check():  # the old code, killed between removing checkpoint-4 and renaming its copy: step 0
        assert _resumed_step(out) == 4

    assert kill_at_each_step(reset, lambda: save_training_state(out, *state, step=4), check) >= 3


def test_resume_does_not_trust_the_pointer(tmp_path, trained):
    out = tmp_path / "out"
    shutil.copytree(trained[0], out)
    (out / "latest").write_text("checkpoint-0000002")  # killed after checkpoint 4, before its pointer
    assert latest_checkpoint(out).name == "checkpoint-0000004"
    (out / "latest").write_text("checkpoint-0000009")  # pointing at nothing
    assert latest_checkpoint(out).name == "checkpoint-0000004"
    model, optimizer, schedule = _setup()
    history = train_loop(model, make_batch, optimizer, schedule, 5, out, progress=False)
    assert history["step"] == [1, 2, 3, 4, 5]  # steps 1-4 from the checkpoint's history, then one more


def test_twenty_random_kills_of_a_training_run(tmp_path, trained):
    out = tmp_path / "out"
    newest = [0]

    def work():  # train with a checkpoint at every step; when done, start over (re-saving each step)
        resume = True
        while True:
            model, optimizer, schedule = _setup()
            train_loop(model, make_batch, optimizer, schedule, 6, out, checkpoint_every=1, resume=resume,
                       progress=False)
            resume = False

    def check():
        step = _resumed_step(out)
        assert step >= newest[0], f"resuming would go back from step {newest[0]} to {step}"
        newest[0] = step

    assert kill_loop(work, check, kills=20, seed=0, delay=(0.05, 0.4)) == 20
    assert newest[0] > 0
    save_training_state(out, *trained[1], step=6)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the killed saves' leftovers swept
