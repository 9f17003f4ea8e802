"""Every kernel test module marked with `pytestmark = pytest.mark.usefixtures("loop_path")` runs twice:
once as the package runs (the small hypothesis shapes stay on the calling thread), once with every
loop cut into as many pieces as it has rows and run on two threads (minconvbert/threads.py).
"""

import pytest

from minconvbert import threads
from minconvbert.kernels import loops


@pytest.fixture(scope="module", params=["as-shipped", "split-on-two-threads"])
def loop_path(request):
    saved_piece, saved_threads = loops.PIECE, threads.get_num_threads()
    if request.param == "split-on-two-threads":
        loops.PIECE = 1
        threads.set_num_threads(2)
    yield request.param
    loops.PIECE = saved_piece
    threads.set_num_threads(saved_threads)
