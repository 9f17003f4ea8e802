"""The grad mode and the backend scope are context-local, like torch's per-thread grad mode: a no_grad()
or backend(...) block in one thread changes nothing in another, and a new thread starts from the
defaults (grad on, the default backend)."""

import threading

import numpy as np

import minconvbert as mc
from minconvbert import Tensor, functional as F
from minconvbert.backend import active_kernels, backend, get_backend


def default_and_other():
    """(default backend, the other one): the suite may run on either (MINCONVBERT_BACKEND)."""
    default = get_backend()
    return default, "numba" if default == "numpy" else "numpy"


def in_lockstep(first, second):
    """Run first(step) and second(step) in two threads, step by step: each step of one thread starts only
    after the other's previous step, so every step of one runs while the other sits inside its blocks."""
    turns = [threading.Semaphore(1), threading.Semaphore(0)]
    results, errors = [[], []], []

    def run(index, function):
        try:
            for step in range(3):
                turns[index].acquire()
                results[index].append(function(step))
                turns[1 - index].release()
        except BaseException as error:  # reported by the test, not lost in the thread
            errors.append(error)
            turns[1 - index].release()

    threads = [threading.Thread(target=run, args=(i, f)) for i, f in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return results


def test_two_threads_do_not_see_each_others_grad_mode():
    x = Tensor([1.0, 2.0], requires_grad=True)
    outside = mc.no_grad()

    def inside_no_grad(step):
        if step == 0:
            outside.__enter__()  # stays inside no_grad() while the other thread runs its steps
        seen = (mc.is_grad_enabled(), (x * 2.0).requires_grad)
        if step == 2:
            outside.__exit__(None, None, None)
        return seen

    def outside_no_grad(step):
        return mc.is_grad_enabled(), (x * 2.0).requires_grad

    inside, other = in_lockstep(inside_no_grad, outside_no_grad)
    assert inside == [(False, False)] * 3
    assert other == [(True, True)] * 3
    assert mc.is_grad_enabled()


def test_two_threads_do_not_see_each_others_backend():
    x = np.linspace(-2.0, 2.0, 5)
    default, other = default_and_other()
    scope = backend(other)
    with backend(default) as default_module, backend(other) as other_module:
        pass

    def in_the_scope(step):
        if step == 0:
            scope.__enter__()
        seen = (get_backend(), active_kernels() is other_module)
        if step == 2:
            scope.__exit__(None, None, None)
        return seen

    def on_the_default(step):
        F.gelu(Tensor(x))  # runs a kernel while the other thread is in its scope
        return get_backend(), active_kernels() is default_module

    scoped, unscoped = in_lockstep(in_the_scope, on_the_default)
    assert scoped == [(other, True)] * 3
    assert unscoped == [(default, True)] * 3


def test_a_new_thread_starts_from_the_defaults():
    seen = []
    default, other = default_and_other()
    with mc.no_grad(), backend(other):
        thread = threading.Thread(target=lambda: seen.append((mc.is_grad_enabled(), get_backend())))
        thread.start()
        thread.join()
        assert not mc.is_grad_enabled() and get_backend() == other
    assert seen == [(True, default)]
