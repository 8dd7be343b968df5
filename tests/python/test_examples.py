"""The seed's Theano program and the Fashion-MNIST example run from Python and learn."""
import os
import runpy
import shutil

import numpy as np
import pytest

import hypatia as theano
from conftest import EXAMPLES


def test_seed_program_runs_with_only_its_imports_changed(tmp_path, fashion_mnist_dir, monkeypatch):
    import make_seed_data

    make_seed_data.write_seed_data(str(tmp_path), data_dir=fashion_mnist_dir)
    program = tmp_path / "seed_network.py"
    shutil.copy(os.path.join(EXAMPLES, "seed_network.py"), program)
    monkeypatch.chdir(tmp_path)
    np.random.seed(0)
    run = runpy.run_path(str(program), run_name="__main__")

    # Its error, before and after the 1000 training steps, on the first 20 batches: out starts at 0, so
    # the first error is 0.5 * (sum of the one-hot targets)^2 = 0.5 * 100^2.
    error = theano.function([run["sx"], run["sy"]], run["err"])
    x, y = run["x"], run["y"]
    after = np.mean([error(x[k * 100:(k + 1) * 100], y[k * 100:(k + 1) * 100]) for k in range(20)])
    assert float(run["err_i"]) < 2500
    assert after < 0.5 * 5000, after
    assert run["w"].get_value().dtype == np.float64


def test_mnist_mlp_learns(fashion_mnist_dir):
    import mnist_mlp

    lines = []
    accuracies = mnist_mlp.train(epochs=2, limit=5000, data_dir=fashion_mnist_dir, log=lines.append)
    assert accuracies[-1] > 0.72, (accuracies, lines)
    assert lines[0].startswith("Fashion-MNIST: 5000 training and 10000 test images")


def test_mnist_mlp_float64(fashion_mnist_dir):
    import mnist_mlp

    accuracies = mnist_mlp.train(epochs=1, limit=3000, dtype="float64", data_dir=fashion_mnist_dir, log=lambda _: None)
    assert accuracies[-1] > 0.6, accuracies


def test_fashion_mnist_reader_rejects_bad_files(tmp_path):
    import fashion_mnist

    bad = tmp_path / "bad-images-idx3-ubyte"
    bad.write_bytes(b"\x00\x00\x0d\x01junk")
    with pytest.raises(ValueError, match="not an IDX file"):
        fashion_mnist.read_idx(str(bad))
    truncated = tmp_path / "short-idx1-ubyte"
    truncated.write_bytes(b"\x00\x00\x08\x01" + (10).to_bytes(4, "big") + b"abc")
    with pytest.raises(ValueError, match="truncated"):
        fashion_mnist.read_idx(str(truncated))


def test_rnn_learns_the_adding_problem():
    import rnn

    lines = []
    losses = rnn.main(steps=1000, log=lines.append)
    assert losses[-1] < 0.08, lines          # predicting the mean scores about 0.167
    assert losses[-1] < 0.8 * losses[1], lines


def test_newton_converges_quadratically():
    import newton

    _, norms = newton.main(iterations=6, log=lambda _: None)
    assert norms[0] > 0.1 and norms[4] < 1e-9, norms
    assert norms[3] < 10 * norms[2] ** 2, norms


def test_mnist_mlp_on_opencl_learns_as_on_the_cpu(fashion_mnist_dir):
    # The Python example unchanged, with config.device (HYPATIA_FLAGS=device=opencl0:0): the same accuracy
    # as on the CPU within half a point (PoCL here; its float32 sums may round differently).
    import mnist_mlp

    devices = [d for d in theano._core._available_devices() if d.startswith("opencl")]
    if not devices:
        pytest.skip("no OpenCL device here (make test installs PoCL: scripts/setup.sh)")
    quiet = dict(epochs=1, limit=3000, data_dir=fashion_mnist_dir, log=lambda _: None)
    on_cpu = mnist_mlp.train(**quiet)
    saved = theano.config.device
    theano.config.device = devices[0]
    try:
        on_device = mnist_mlp.train(**quiet)
    finally:
        theano.config.device = saved
    assert on_cpu[-1] > 0.6, on_cpu
    assert abs(on_device[-1] - on_cpu[-1]) <= 0.005, (on_device, on_cpu)


def test_lenet_tutorial_learns(fashion_mnist_dir):
    """The convolutional-network tutorial (examples/lenet.py) on 2000 images: the training cost falls and the
    test accuracy is far above chance."""
    import lenet

    saved = theano.config.floatX
    theano.config.floatX = "float32"
    try:
        lines = []
        accuracies = lenet.evaluate_lenet5(learning_rate=0.1, n_epochs=2, data_dir=fashion_mnist_dir, batch_size=50,
                                           limit=2000, log=lines.append)
    finally:
        theano.config.floatX = saved
    costs = [float(line.split("train cost ")[1].split(",")[0]) for line in lines if line.startswith("epoch")]
    assert costs[1] < costs[0] * 0.8, lines
    assert accuracies[-1] > 0.6, lines


def test_sparse_bag_of_words_classifier_learns():
    import sparse_logreg

    lines = []
    losses, accuracy = sparse_logreg.main(epochs=3, log=lines.append)
    assert losses[2] < losses[1] < losses[0], (losses, lines)
    assert accuracy > 0.8, lines  # 5 classes: chance is 0.2
    assert lines[0].startswith("4000 documents, 20000 words")
