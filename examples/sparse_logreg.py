"""A bag-of-words classifier on sparse inputs: softmax regression over word counts, trained by minibatch SGD.

The documents are synthetic, made here: words follow a Zipf law over the vocabulary, and each class adds a few
topic words of its own. A batch is a SciPy csr matrix (documents x vocabulary); the product with the weights is
sparse.structured_dot, and the weight update touches only the rows of the words the batch holds.

    python examples/sparse_logreg.py
"""
import numpy as np
import scipy.sparse as sp

import hypatia as theano
import hypatia.tensor as T
from hypatia import sparse


def make_documents(rng, documents=4000, vocabulary=20000, classes=5, topic_words=40, length=60, topic_share=0.1):
    """Counts of words per document (csr, float32) and each document's class."""
    zipf = 1.0 / np.arange(1, vocabulary + 1)
    zipf /= zipf.sum()
    topics = rng.choice(vocabulary, size=(classes, topic_words), replace=False)
    labels = rng.integers(0, classes, size=documents).astype(np.int32)
    rows, cols = [], []
    for d, label in enumerate(labels):
        n = rng.poisson(length) + 1
        from_topic = rng.random(n) < topic_share
        words = np.where(from_topic, rng.choice(topics[label], size=n), rng.choice(vocabulary, size=n, p=zipf))
        rows.append(np.full(n, d))
        cols.append(words)
    counts = sp.csr_matrix((np.ones(sum(len(c) for c in cols), dtype=np.float32), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(documents, vocabulary))
    counts.sum_duplicates()
    counts.data = np.log1p(counts.data)  # dampened counts
    return counts, labels


def build(vocabulary, classes, learning_rate=1.0):
    x = sparse.csr_matrix("x", dtype="float32")
    y = T.ivector("y")
    W = theano.shared(np.zeros((vocabulary, classes), dtype="float32"), "W")
    b = theano.shared(np.zeros(classes, dtype="float32"), "b")
    p_y = T.nnet.softmax(sparse.structured_dot(x, W) + b)
    xent = -T.mean(T.log(p_y)[T.arange(y.shape[0]), y])
    gW, gb = T.grad(xent, [W, b])
    train = theano.function([x, y], xent, updates=[(W, W - learning_rate * gW), (b, b - learning_rate * gb)])
    predict = theano.function([x], T.argmax(p_y, axis=1))
    return train, predict


def main(epochs=5, batch=256, log=print, seed=0):
    rng = np.random.default_rng(seed)
    counts, labels = make_documents(rng)
    split = int(0.8 * counts.shape[0])
    train_x, train_y, test_x, test_y = counts[:split], labels[:split], counts[split:], labels[split:]
    log(f"{counts.shape[0]} documents, {counts.shape[1]} words, {counts.nnz / counts.shape[0]:.0f} distinct words per document")
    train, predict = build(counts.shape[1], int(labels.max()) + 1)
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(split)
        total = 0.0
        for start in range(0, split, batch):
            rows = order[start:start + batch]
            total += float(train(train_x[rows], train_y[rows])) * len(rows)
        losses.append(total / split)
        accuracy = float(np.mean(predict(test_x) == test_y))
        log(f"epoch {epoch}: loss {losses[-1]:.4f}, test accuracy {accuracy:.3f}")
    return losses, accuracy


if __name__ == "__main__":
    main()
