"""Newton's method with hessian on a small convex problem: L2-regularized logistic regression. The
compiled function gives the cost, its gradient and its Hessian; each step solves H d = g. The gradient's
norm falls quadratically, to rounding level in a handful of steps.

    python examples/newton.py
"""
import numpy as np

import hypatia as theano
import hypatia.tensor as T


def make_problem(rng, samples=200, features=5):
    X = rng.normal(size=(samples, features))
    true_w = rng.normal(size=features)
    y = np.where(X @ true_w + 0.5 * rng.normal(size=samples) > 0, 1.0, -1.0)
    return X, y


def build(X, y, l2=0.1):
    w = T.dvector("w")
    margins = y * T.dot(X, w)
    cost = T.mean(T.nnet.softplus(-margins)) + 0.5 * l2 * T.sum(w ** 2)
    return theano.function([w], [cost, T.grad(cost, w), theano.gradient.hessian(cost, w)])


def main(iterations=8, log=print):
    X, y = make_problem(np.random.default_rng(0))
    derivatives = build(X, y)
    w = np.zeros(X.shape[1])
    norms = []
    for k in range(iterations):
        cost, g, H = derivatives(w)
        norms.append(float(np.linalg.norm(g)))
        log(f"iteration {k}: cost {float(cost):.10f}, |gradient| {norms[-1]:.3e}")
        w = w - np.linalg.solve(H, g)
    return w, norms


if __name__ == "__main__":
    main()
