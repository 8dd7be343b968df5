"""Fused elementwise loops and reductions: Hypatia against NumPy, numexpr, JAX (jit) and PyTensor, side by
side in one process. (The training function's compile time is bench/first_result.py's.)

Prints rows "<case> <system> <median ms>" (or "<case> <system> missing <reason>"), then one row
"<case> bound <ms>" per elementwise case: the bytes the expression must move at the bandwidth of a large
copy measured here, the floor no implementation can beat.
"""
import os
import sys
import time

import numpy as np

from peers import finish_compiling

N = 10_000_000
REPEATS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def median_ms(fn, repeats=REPEATS):
    fn()
    finish_compiling()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2]


rng = np.random.default_rng(0)
a, b, c, x, y, z = (rng.uniform(-2, 2, N).astype(np.float32) for _ in range(6))

# name, number of arrays read, NumPy form, numexpr form, builder over a module with exp/tanh
CASES = [
    ("a*b+c", 3, lambda: a * b + c, "a*b+c", lambda m, a, b, c: a * b + c),
    ("exp(-x*x/2)*y+tanh(z)", 3, lambda: np.exp(-x * x / 2) * y + np.tanh(z), "exp(-x*x/2)*y+tanh(z)",
     lambda m, x, y, z: m.exp(-x * x / 2) * y + m.tanh(z)),
    ("a**2+b**2-2*a*b", 2, lambda: a ** 2 + b ** 2 - 2 * a * b, "a**2+b**2-2*a*b",
     lambda m, a, b, c: a ** 2 + b ** 2 - 2 * a * b),
]
ARGS = {"a*b+c": (a, b, c), "exp(-x*x/2)*y+tanh(z)": (x, y, z), "a**2+b**2-2*a*b": (a, b, c)}


def emit(case, system, value):
    print(f"{case} {system} {value}" if isinstance(value, str) else f"{case} {system} {value:.4f}", flush=True)


def bandwidth_bytes_per_ms():
    # A large copy on every core at once (NumPy releases the GIL while copying): the machine's bandwidth.
    from concurrent.futures import ThreadPoolExecutor
    src = rng.uniform(size=4 * N).astype(np.float32)
    dst = np.empty_like(src)
    cores = os.cpu_count() or 1
    parts = np.array_split(np.arange(src.size), cores)
    bounds = [(p[0], p[-1] + 1) for p in parts]
    with ThreadPoolExecutor(cores) as pool:
        copy = lambda lo_hi: np.copyto(dst[lo_hi[0]:lo_hi[1]], src[lo_hi[0]:lo_hi[1]])
        ms = median_ms(lambda: list(pool.map(copy, bounds)))
    return 2 * src.nbytes / ms  # read and write


def elementwise():
    per_ms = bandwidth_bytes_per_ms()
    import hypatia as th
    import hypatia.tensor as T
    try:
        import numexpr
    except ImportError as error:
        numexpr = error
    try:
        import jax
        import jax.numpy as jnp
        jax.config.update("jax_platforms", "cpu")
    except ImportError as error:
        jax = error
    try:
        import pytensor
        import pytensor.tensor as pt
    except ImportError as error:
        pytensor = error
    for name, reads, numpy_form, numexpr_form, build in CASES:
        args = ARGS[name]
        v = [T.fvector(n) for n in "uvw"]
        f = th.function(v, build(T, *v), on_unused_input="ignore")
        emit(name, "hypatia-py", median_ms(lambda: f(*args)))
        emit(name, "numpy", median_ms(numpy_form))
        if isinstance(numexpr, Exception):
            emit(name, "numexpr", f"missing {type(numexpr).__name__}")
        else:
            local = dict(zip("abcxyz", (a, b, c, x, y, z)))
            emit(name, "numexpr", median_ms(lambda: numexpr.evaluate(numexpr_form, local_dict=local)))
        if isinstance(jax, Exception):
            emit(name, "jax", f"missing {type(jax).__name__}")
        else:
            jf = jax.jit(lambda p, q, r: build(jnp, p, q, r))
            jargs = [jnp.asarray(arg) for arg in args]
            emit(name, "jax", median_ms(lambda: jf(*jargs).block_until_ready()))
        if isinstance(pytensor, Exception):
            emit(name, "pytensor", f"missing {type(pytensor).__name__}")
        else:
            pv = [pt.fvector(n) for n in "uvw"]
            pf = pytensor.function(pv, build(pt, *pv), on_unused_input="ignore")
            emit(name, "pytensor", median_ms(lambda: pf(*args)))
        emit(name, "bound", (reads + 1) * 4 * N / per_ms)


def reductions():
    import hypatia as th
    import hypatia.tensor as T
    m = rng.uniform(-2, 2, (2000, 5000)).astype(np.float32)
    v = T.fmatrix("m")
    def np_softmax(axis):
        e = np.exp(m - m.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    def np_logsumexp(axis):
        mx = m.max(axis=axis, keepdims=True)
        return np.squeeze(mx, axis) + np.log(np.exp(m - mx).sum(axis=axis))

    def hp_softmax(t, axis):
        e = T.exp(t - t.max(axis=axis, keepdims=True))
        return e / e.sum(axis=axis, keepdims=True)

    cases = [
        ("sum(axis=0)", lambda t: t.sum(axis=0), lambda: m.sum(axis=0)),
        ("sum(axis=1)", lambda t: t.sum(axis=1), lambda: m.sum(axis=1)),
        ("max(axis=0)", lambda t: t.max(axis=0), lambda: m.max(axis=0)),
        ("max(axis=1)", lambda t: t.max(axis=1), lambda: m.max(axis=1)),
        ("softmax(rows)", lambda t: T.nnet.softmax(t), lambda: np_softmax(1)),
        ("softmax(columns)", lambda t: hp_softmax(t, 0), lambda: np_softmax(0)),
        ("log_softmax(rows)", lambda t: T.log(T.nnet.softmax(t)), lambda: np.log(np_softmax(1))),
        ("logsumexp(rows)", lambda t: T.log(T.sum(T.exp(t), axis=1)), lambda: np_logsumexp(1)),
        ("logsumexp(columns)", lambda t: T.log(T.sum(T.exp(t), axis=0)), lambda: np_logsumexp(0)),
    ]
    try:
        import jax
        import jax.numpy as jnp
        jm = jnp.asarray(m).block_until_ready()  # (its copy would run during the first case)
        jax_forms = {"sum(axis=0)": lambda t: t.sum(axis=0), "sum(axis=1)": lambda t: t.sum(axis=1),
                     "max(axis=0)": lambda t: t.max(axis=0), "max(axis=1)": lambda t: t.max(axis=1),
                     "softmax(rows)": lambda t: jax.nn.softmax(t, axis=1),
                     "softmax(columns)": lambda t: jax.nn.softmax(t, axis=0),
                     "log_softmax(rows)": lambda t: jax.nn.log_softmax(t, axis=1),
                     "logsumexp(rows)": lambda t: jax.nn.logsumexp(t, axis=1),
                     "logsumexp(columns)": lambda t: jax.nn.logsumexp(t, axis=0)}
    except ImportError as error:
        jax = error
    for name, build, numpy_form in cases:
        f = th.function([v], build(v))
        emit(name, "hypatia-py", median_ms(lambda: f(m)))
        emit(name, "numpy", median_ms(numpy_form))
        if isinstance(jax, Exception):
            emit(name, "jax", f"missing {type(jax).__name__}")
        else:
            jf = jax.jit(jax_forms[name])
            emit(name, "jax", median_ms(lambda: jf(jm).block_until_ready()))


if __name__ == "__main__":
    elementwise()
    reductions()
