"""Writes data_x.npy (100000 x 784 float32 images in [0, 1]) and data_y.npy (one-hot labels) for
seed_network.py: its loop reads 1000 batches of 100, so Fashion-MNIST's training set is repeated."""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402


def write_seed_data(directory, rows=100_000, data_dir=fashion_mnist.DEFAULT_DIR):
    images, labels = fashion_mnist.load(data_dir, "train")
    order = np.arange(rows) % len(images)
    np.save(os.path.join(directory, "data_x.npy"), images[order])
    np.save(os.path.join(directory, "data_y.npy"), np.eye(10, dtype=np.float32)[labels[order]])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=".", help="directory for data_x.npy and data_y.npy")
    parser.add_argument("--data-dir", default=fashion_mnist.DEFAULT_DIR)
    args = parser.parse_args()
    write_seed_data(args.out, data_dir=args.data_dir)
