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
