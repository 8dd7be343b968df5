"""Reads Fashion-MNIST (or MNIST) from the gzip-compressed IDX files of Debian's dataset-fashion-mnist."""
import gzip
import os

import numpy as np

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"


def read_idx(path, max_items=0):
    """The unsigned-byte array of an IDX file (gzip-compressed or plain); max_items > 0 reads only that
    many items along the first dimension."""
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            header = f.read(4)
            if len(header) != 4 or header[0] != 0 or header[1] != 0 or header[2] != 0x08:
                raise ValueError(f"{path}: not an IDX file of unsigned bytes")
            ndim = header[3]
            dims = [int.from_bytes(f.read(4), "big") for _ in range(ndim)]
            if max_items > 0 and dims:
                dims[0] = min(dims[0], max_items)
            count = int(np.prod(dims))
            data = f.read(count)
    except (OSError, EOFError) as error:
        raise ValueError(f"{path}: cannot read ({error})") from None
    if len(data) != count:
        raise ValueError(f"{path}: truncated, {len(data)} of {count} bytes")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def load(directory=DEFAULT_DIR, split="train", limit=0, dtype="float32"):
    """(images, labels): images flattened and scaled to [0, 1] in `dtype`, labels int64. split is
    'train' or 't10k'."""
    images = read_idx(os.path.join(directory, f"{split}-images-idx3-ubyte.gz"), limit)
    labels = read_idx(os.path.join(directory, f"{split}-labels-idx1-ubyte.gz"), limit)
    if len(images) != len(labels):
        raise ValueError(f"{directory}: {len(images)} images but {len(labels)} labels")
    return images.reshape(len(images), -1).astype(dtype) / np.asarray(255, dtype), labels.astype(np.int64)
