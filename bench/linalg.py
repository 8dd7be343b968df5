"""A Gaussian process's negative log marginal likelihood and its gradient with respect to the kernel's three
hyperparameters (squared-exponential kernel over 3-d inputs, n = 500 and 2000, float64), in Hypatia and its
peers, each written as its users write it:

    chol   L = cholesky(K); alpha = cho_solve(L, y); nll = y.alpha / 2 + sum(log diag L) + n log(2 pi) / 2
    solve  nll = y.solve(K, y) / 2 + slogdet(K)[1] / 2 + n log(2 pi) / 2

SciPy's rows compute the value with scipy.linalg and the gradient by its closed form,
0.5 tr((K^-1 - alpha alpha^T) dK/dtheta), from one Cholesky factorization: the work a hand-written program does.
Also the real FFT of a 2^20-sample signal (rfft_f64, rfft_f32; SciPy's row is scipy.fft, NumPy's numpy.fft).

    python bench/linalg.py [STEPS] [systems]     systems: hypatia,scipy,jax (default) or torch (Debian's python3)

Prints "<case> <system> <median ms> <p10 ms> <p90 ms>", or "<case> <system> missing <reason>".
"""
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
SIZES = (500, 2000)
THETA = np.array([np.log(0.8), np.log(1.3), np.log(0.1)])  # log lengthscale, log signal variance, log noise variance


def timed(step):
    return peers.timed(step, STEPS, warmup=1)


def problem(n):
    rng = np.random.default_rng(n)
    x = rng.uniform(-2, 2, (n, 3))
    y = np.sin(x).sum(axis=1) + 0.1 * rng.normal(size=n)
    return x, y


SIGNAL = np.random.default_rng(7).normal(size=2 ** 20)


def hypatia_cases():
    import hypatia as theano
    import hypatia.fft
    import hypatia.tensor as T
    from hypatia.tensor import nlinalg, slinalg

    for dtype in ("float64", "float32"):
        v = T.vector(dtype=dtype)
        f = theano.function([v], hypatia.fft.rfft(v))
        signal = SIGNAL.astype(dtype)
        yield f"rfft_f{dtype[-2:]}", timed(lambda: f(signal))

    for n in SIZES:
        x_value, y_value = problem(n)
        x, y, theta = T.dmatrix("x"), T.dvector("y"), T.dvector("theta")
        sq = T.sum(x ** 2, axis=1)
        d2 = sq.dimshuffle(0, "x") + sq.dimshuffle("x", 0) - 2 * T.dot(x, x.T)
        k = T.exp(theta[1]) * T.exp(-0.5 * d2 / T.exp(2 * theta[0])) + T.exp(theta[2]) * T.eye(n)
        constant = 0.5 * n * math.log(2 * math.pi)
        forms = {
            "chol": lambda: (lambda chol: 0.5 * T.dot(y, slinalg.cho_solve((chol, True), y))
                             + T.sum(T.log(T.diag(chol))) + constant)(slinalg.cholesky(k)),
            "solve": lambda: 0.5 * T.dot(y, slinalg.solve(k, y)) + 0.5 * nlinalg.slogdet(k)[1] + constant,
        }
        for form, build in forms.items():
            nll = build()
            f = theano.function([x, y, theta], [nll, T.grad(nll, theta)])
            yield f"gp_{form}_{n}", timed(lambda: f(x_value, y_value, THETA))


def scipy_cases():
    import scipy.fft
    import scipy.linalg as sl

    for dtype in ("float64", "float32"):
        signal = SIGNAL.astype(dtype)
        yield f"rfft_f{dtype[-2:]}", timed(lambda: scipy.fft.rfft(signal, workers=len(os.sched_getaffinity(0))))

    for n in SIZES:
        x_value, y_value = problem(n)

        def step():
            ell, var, noise = np.exp(THETA[0]), np.exp(THETA[1]), np.exp(THETA[2])
            sq = (x_value ** 2).sum(axis=1)
            d2 = sq[:, None] + sq[None, :] - 2 * x_value @ x_value.T
            kse = var * np.exp(-0.5 * d2 / ell ** 2)
            k = kse + noise * np.eye(n)
            factor = sl.cho_factor(k, lower=True)
            alpha = sl.cho_solve(factor, y_value)
            nll = 0.5 * y_value @ alpha + np.log(np.diag(factor[0])).sum() + 0.5 * n * math.log(2 * math.pi)
            inner = sl.cho_solve(factor, np.eye(n)) - np.outer(alpha, alpha)
            grads = [0.5 * np.sum(inner * (kse * d2 / ell ** 2)), 0.5 * np.sum(inner * kse), 0.5 * noise * np.trace(inner)]
            return nll, grads

        yield f"gp_chol_{n}", timed(step)


def jax_cases():
    import jax
    import jax.numpy as jnp
    import jax.scipy.linalg as jsl
    jax.config.update("jax_enable_x64", True)

    for dtype in ("float64", "float32"):
        signal = jnp.asarray(SIGNAL.astype(dtype))
        rfft = jax.jit(jnp.fft.rfft)
        yield f"rfft_f{dtype[-2:]}", timed(lambda: jax.block_until_ready(rfft(signal)))

    for n in SIZES:
        x_value, y_value = (jnp.asarray(v) for v in problem(n))

        def kernel(theta):
            sq = jnp.sum(x_value ** 2, axis=1)
            d2 = sq[:, None] + sq[None, :] - 2 * x_value @ x_value.T
            return jnp.exp(theta[1]) * jnp.exp(-0.5 * d2 / jnp.exp(2 * theta[0])) + jnp.exp(theta[2]) * jnp.eye(n)

        def chol(theta):
            factor = jnp.linalg.cholesky(kernel(theta))
            alpha = jsl.cho_solve((factor, True), y_value)
            return 0.5 * y_value @ alpha + jnp.sum(jnp.log(jnp.diag(factor))) + 0.5 * n * math.log(2 * math.pi)

        def solve(theta):
            k = kernel(theta)
            return 0.5 * y_value @ jnp.linalg.solve(k, y_value) + 0.5 * jnp.linalg.slogdet(k)[1] + 0.5 * n * math.log(2 * math.pi)

        theta = jnp.asarray(THETA)
        for form, fn in (("chol", chol), ("solve", solve)):
            step = jax.jit(jax.value_and_grad(fn))
            yield f"gp_{form}_{n}", timed(lambda: jax.block_until_ready(step(theta)))


def torch_cases():
    import torch
    peers.torch_threads(torch)

    for dtype in ("float64", "float32"):
        signal = torch.from_numpy(SIGNAL.astype(dtype))
        yield f"rfft_f{dtype[-2:]}", timed(lambda: torch.fft.rfft(signal))

    for n in SIZES:
        x_value, y_value = (torch.from_numpy(v) for v in problem(n))

        def kernel(theta):
            sq = (x_value ** 2).sum(dim=1)
            d2 = sq[:, None] + sq[None, :] - 2 * x_value @ x_value.T
            return torch.exp(theta[1]) * torch.exp(-0.5 * d2 / torch.exp(2 * theta[0])) + torch.exp(theta[2]) * torch.eye(n, dtype=torch.float64)

        def chol(theta):
            factor = torch.linalg.cholesky(kernel(theta))
            alpha = torch.cholesky_solve(y_value[:, None], factor)[:, 0]
            return 0.5 * y_value @ alpha + torch.log(torch.diagonal(factor)).sum() + 0.5 * n * math.log(2 * math.pi)

        def solve(theta):
            k = kernel(theta)
            return 0.5 * y_value @ torch.linalg.solve(k, y_value) + 0.5 * torch.linalg.slogdet(k)[1] + 0.5 * n * math.log(2 * math.pi)

        for form, fn in (("chol", chol), ("solve", solve)):
            def step(fn=fn):
                theta = torch.tensor(THETA, requires_grad=True)
                value = fn(theta)
                value.backward()
                return value.item(), theta.grad
            yield f"gp_{form}_{n}", timed(step)


def numpy_cases():
    for dtype in ("float64", "float32"):
        signal = SIGNAL.astype(dtype)
        yield f"rfft_f{dtype[-2:]}", timed(lambda: np.fft.rfft(signal))


CASES = {"hypatia": hypatia_cases, "scipy": scipy_cases, "jax": jax_cases, "torch": torch_cases, "numpy": numpy_cases}

if __name__ == "__main__":
    peers.print_cases(CASES, sys.argv[2].split(",") if len(sys.argv) > 2 else ["hypatia", "numpy", "scipy", "jax"], "gp")
