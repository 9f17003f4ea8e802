"""Every kernel test module marked with `pytestmark = pytest.mark.usefixtures("loop_path")` runs twice:
once as the package runs (serial loops below fast.SERIAL_BELOW elements, so the small hypothesis
shapes take the serial compilation), once with every main-thread call on the parallel compilation.
"""

import pytest

from minconvbert.kernels import fast


@pytest.fixture(scope="module", params=["as-shipped", "always-parallel"])
def loop_path(request):
    saved = fast.SERIAL_BELOW
    fast.SERIAL_BELOW = saved if request.param == "as-shipped" else 0
    yield request.param
    fast.SERIAL_BELOW = saved
