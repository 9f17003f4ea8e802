"""The thread policy (minconvbert/threads.py): one setting, pieces that cover the work exactly once and
do not depend on the thread count, BLAS on one thread inside minconvbert's products and as the user
left it outside, and the same numbers on any number of threads."""

import contextlib
import multiprocessing
import threading

import numpy as np
import pytest
from kernel_cases import run_python
from threadpoolctl import threadpool_info, threadpool_limits

import minconvbert
from minconvbert import Tensor, threads
from minconvbert import functional as F
from minconvbert.kernels import loops
from minconvbert.ops import matmul


@contextlib.contextmanager
def num_threads(n):
    previous = threads.get_num_threads()
    threads.set_num_threads(n)
    try:
        yield
    finally:
        threads.set_num_threads(previous)


def blas_threads():
    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_the_setting_is_checked_and_exported():
    assert minconvbert.set_num_threads is threads.set_num_threads
    assert minconvbert.get_num_threads is threads.get_num_threads
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            threads.set_num_threads(bad)


def test_the_environment_variable_gives_the_default():
    result = run_python("import minconvbert; print(minconvbert.get_num_threads())", MINCONVBERT_NUM_THREADS="3")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "3"
    bad = run_python("import minconvbert; minconvbert.get_num_threads()", MINCONVBERT_NUM_THREADS="many")
    assert bad.returncode != 0 and "MINCONVBERT_NUM_THREADS: expected a positive integer, got 'many'" in bad.stderr


@pytest.mark.parametrize("n, work, piece", [(0, 0, 1), (1, 10, 1), (7, 7, 1), (100, 1000, 1), (100, 5, 1),
                                            (100, 1000, 400), (3, 1e9, 1)])  # fmt: skip
def test_pieces_cover_the_range_once_and_do_not_depend_on_the_thread_count(n, work, piece):
    ranges = {}
    for count in (1, 2, 5):
        seen, lock = [], threading.Lock()

        def run(start, stop):
            with lock:
                seen.append((start, stop, threading.get_ident()))

        with num_threads(count):
            threads.parallel_range(n, run, work=work, piece=piece)
        covered = sorted((start, stop) for start, stop, _ in seen)
        assert [i for start, stop in covered for i in range(start, stop)] == list(range(n))
        assert all(start < stop for start, stop in covered)
        ranges[count] = covered
        if count == 1:
            assert {ident for _, _, ident in seen} <= {threading.get_ident()}
    assert ranges[1] == ranges[2] == ranges[5]
    assert len(ranges[1]) == max(0, min(n, int(work // piece), threads.MAX_PIECES)) or n == 0


def test_pieces_run_on_other_threads_and_errors_reach_the_caller():
    idents, lock = set(), threading.Lock()
    meet = threading.Barrier(2, timeout=60)  # each thread's first piece waits for the other thread's first

    def run(start, stop):
        with lock:
            first = threading.get_ident() not in idents
            idents.add(threading.get_ident())
        if first:
            meet.wait()

    with num_threads(2):
        threads.parallel_range(8, run, work=8, piece=1)
        assert len(idents) == 2

        def fails(start, stop):
            if start >= 4:
                raise KeyError(f"piece {start}")

        with pytest.raises(KeyError, match="piece"):
            threads.parallel_range(8, fails, work=8, piece=1)


def test_a_nested_loop_runs_on_the_thread_that_asked():
    same_thread = []

    def outer(start, stop):
        asking = threading.get_ident()
        threads.parallel_range(4, lambda a, b: same_thread.append(threading.get_ident() == asking), work=4, piece=1)

    with num_threads(2):
        threads.parallel_range(4, outer, work=4, piece=1)
    assert len(same_thread) == 16 and all(same_thread)


def test_blas_runs_on_one_thread_inside_products_and_as_left_outside(monkeypatch):
    counts = []
    original = threads.parallel_range

    def spy(*args, **kwargs):
        counts.append(blas_threads())
        return original(*args, **kwargs)

    monkeypatch.setattr(threads, "parallel_range", spy)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((512, 256), dtype=np.float32), rng.standard_normal((256, 512), dtype=np.float32)
    for user in (2, 1):
        with threadpool_limits(limits=user, user_api="blas"):
            matmul.product(a, b)
            assert blas_threads() and set(blas_threads()) == {user}
    assert counts and all(set(c) == {1} for c in counts)


def test_concurrent_products_put_the_users_setting_back():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((512, 256), dtype=np.float32), rng.standard_normal((256, 512), dtype=np.float32)
    with threadpool_limits(limits=2, user_api="blas"):
        workers = [threading.Thread(target=lambda: [matmul.product(a, b) for _ in range(20)]) for _ in range(3)]
        for worker in workers:
            worker.start()
        for _ in range(20):
            matmul.product(a, b)
        for worker in workers:
            worker.join()
        assert set(blas_threads()) == {2}


@pytest.mark.parametrize("shapes", [((600, 64), (64, 500)), ((64, 300), (300, 700)), ((3, 4, 96, 32), (3, 4, 32, 96)),
                                    ((2, 1, 200, 32), (5, 32, 200)), ((200, 48), (3, 48, 200))])  # fmt: skip
def test_split_products_equal_numpy_and_do_not_depend_on_the_thread_count(shapes):
    rng = np.random.default_rng(1)
    a, b = (rng.standard_normal(shape, dtype=np.float32) for shape in shapes)
    bias = rng.standard_normal(b.shape[-1], dtype=np.float32) if a.ndim == b.ndim == 2 else None
    results = {}
    for count in (1, 2, 3):
        with num_threads(count):
            results[count] = matmul.product(a, b, bias)
    expected = np.matmul(a, b) if bias is None else np.matmul(a, b) + bias
    np.testing.assert_allclose(results[1], expected, rtol=1e-5, atol=1e-4)
    assert results[1].dtype == expected.dtype and results[1].shape == expected.shape
    assert np.array_equal(results[1], results[2]) and np.array_equal(results[1], results[3])


def test_a_model_step_gives_the_same_numbers_on_one_and_three_threads(monkeypatch):
    monkeypatch.setattr(matmul, "PIECE", 1000)  # split every product and kernel of this small model
    monkeypatch.setattr(loops, "PIECE", 64)
    config = minconvbert.ConvBertConfig(vocab_size=50, hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                        intermediate_size=128, embedding_size=32, max_position_embeddings=64,
                                        conv_kernel_size=5)  # fmt: skip
    ids = np.random.default_rng(0).integers(0, 50, (4, 64))
    grads = {}
    for count in (1, 3):
        model = minconvbert.ConvBertForMaskedLM(config, rng=0).eval()
        with num_threads(count):
            model(input_ids=ids, labels=ids).loss.backward()
        grads[count] = {name: p.grad for name, p in model.named_parameters()}
    for name, grad in grads[1].items():
        assert np.array_equal(grad, grads[3][name]), name


def _child_runs_a_split_product(queue):
    rng = np.random.default_rng(0)
    a = Tensor(rng.standard_normal((512, 256), dtype=np.float32))
    b = Tensor(rng.standard_normal((256, 512), dtype=np.float32))
    queue.put(F.matmul(a, b).data.sum().item())


def test_a_forked_child_starts_its_own_pool():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((512, 256), dtype=np.float32)
    b = rng.standard_normal((256, 512), dtype=np.float32)
    with num_threads(2):
        expected = matmul.product(a, b).sum().item()  # the parent's pool is running
        context = multiprocessing.get_context("fork")
        queue = context.Queue()
        child = context.Process(target=_child_runs_a_split_product, args=(queue,))
        child.start()
        child.join(timeout=120)
    assert child.exitcode == 0 and queue.get(timeout=5) == expected
