import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"

sys.path.insert(0, EXAMPLES)


@pytest.fixture
def fashion_mnist_dir():
    if not os.path.isdir(FASHION_MNIST):
        pytest.skip("dataset-fashion-mnist is not installed")
    return FASHION_MNIST


@pytest.fixture(autouse=True, scope="session")
def device_under_test():
    """HYPATIA_TEST_DEVICE=opencl runs every function the session builds on the first device of that kind
    (ctest's python.test_ops_numpy.opencl shards); the session skips where there is none."""
    kind = os.environ.get("HYPATIA_TEST_DEVICE")
    if not kind:
        yield None
        return
    import hypatia
    devices = [d for d in hypatia._core._available_devices() if d.startswith(kind)]
    if not devices:
        pytest.skip(f"no {kind} device here (make test installs PoCL: scripts/setup.sh)")
    saved = hypatia.config.device
    hypatia.config.device = devices[0]
    yield devices[0]
    hypatia.config.device = saved


def pytest_collection_modifyitems(config, items):
    """HYPATIA_TEST_SHARD=k/n keeps every n-th test starting at the k-th, so ctest can run a long file as
    n processes on n cores (each compiles its own kernels)."""
    shard = os.environ.get("HYPATIA_TEST_SHARD")
    if not shard:
        return
    index, count = (int(part) for part in shard.split("/"))
    kept = [item for position, item in enumerate(items) if position % count == index]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept
