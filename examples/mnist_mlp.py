"""The seed's network (784-500-10: tanh hidden layer, softmax output, cross-entropy, minibatch SGD)
trained on Fashion-MNIST from Python: the same model as mnist_mlp.cpp (`make demo`).

    .venv/bin/python examples/mnist_mlp.py [--epochs 5] [--batch-size 100] [--lr 0.1] [--dtype float32]
"""
import argparse
import os
import sys
import time

import numpy as np

import hypatia as theano
import hypatia.tensor as tensor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


class Mlp:
    def __init__(self, inputs=784, hidden=500, classes=10, lr=0.1, dtype="float32", seed=1234):
        rng = np.random.default_rng(seed)

        # symbol declarations
        x = tensor.matrix("x", dtype=dtype)
        y = tensor.lvector("y")  # class labels
        w = theano.shared(rng.normal(0, 0.1, (inputs, hidden)).astype(dtype), "w")
        b = theano.shared(np.zeros(hidden, dtype), "b")
        v = theano.shared(np.zeros((hidden, classes), dtype), "v")
        c = theano.shared(np.zeros(classes, dtype), "c")

        # symbolic expression-building
        hid = tensor.tanh(tensor.dot(x, w) + b)
        out = tensor.nnet.softmax(tensor.dot(hid, v) + c)
        err = tensor.mean(tensor.nnet.categorical_crossentropy(out, y))
        gw, gb, gv, gc = tensor.grad(err, [w, b, v, c])

        # compile a training function and a prediction function
        self.train = theano.function([x, y], err, updates={
            w: w - lr * gw,
            b: b - lr * gb,
            v: v - lr * gv,
            c: c - lr * gc})
        self.predict = theano.function([x], tensor.argmax(out, axis=1))

    def accuracy(self, images, labels):
        return float(np.mean(self.predict(images) == labels))


def train(epochs=5, batch_size=100, lr=0.1, dtype="float32", seed=1234, limit=0, data_dir=fashion_mnist.DEFAULT_DIR,
          log=print):
    """Trains and returns the test accuracy after each epoch."""
    start = time.perf_counter()
    train_images, train_labels = fashion_mnist.load(data_dir, "train", limit, dtype)
    test_images, test_labels = fashion_mnist.load(data_dir, "t10k", 0, dtype)
    log(f"Fashion-MNIST: {len(train_images)} training and {len(test_images)} test images of "
        f"{train_images.shape[1]} pixels ({dtype}), loaded in {time.perf_counter() - start:.2f} s")
    mlp = Mlp(inputs=train_images.shape[1], lr=lr, dtype=dtype, seed=seed)
    log(f"MLP {train_images.shape[1]}-500-10, batch {batch_size}, learning rate {lr:g}")
    shuffler = np.random.default_rng(seed + 1)
    batches = len(train_images) // batch_size
    accuracies = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = shuffler.permutation(len(train_images))
        images, labels = train_images[order], train_labels[order]
        loss = 0.0
        for i in range(batches):
            rows = slice(i * batch_size, (i + 1) * batch_size)
            loss += float(mlp.train(images[rows], labels[rows]))
        seconds = time.perf_counter() - start
        accuracies.append(mlp.accuracy(test_images, test_labels))
        log(f"epoch {epoch}  train loss {loss / max(batches, 1):.4f}  test accuracy {accuracies[-1]:.4f}  "
            f"{seconds:.2f} s")
    return accuracies


def main():
    parser = argparse.ArgumentParser(description="Trains the seed's MLP on Fashion-MNIST.")
    parser.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DIR)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--limit", type=int, default=0, help="train on the first N examples only (0: all)")
    parser.add_argument("--device", default=None, help="cpu, opencl0:0... (default: config.device)")
    args = parser.parse_args()
    try:
        if args.device:
            theano.config.device = "opencl0:0" if args.device == "opencl" else args.device
        train(args.epochs, args.batch_size, args.lr, args.dtype, args.seed, args.limit, args.data_dir)
    except ValueError as error:
        sys.exit(f"mnist_mlp: {error}")


if __name__ == "__main__":
    main()
