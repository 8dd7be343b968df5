"""The seed's training step (784-500-10, tanh, softmax + cross-entropy, SGD, batch 100) in the peers,
and the cost of calling a one-op function from Python.

Prints one line per (peer, dtype): "<peer> <dtype> <median ms> <p10 ms> <p90 ms>", or
"<peer> <dtype> missing <reason>" when the peer is not installed.
"""
import sys
import time

STEPS = int(sys.argv[1]) if len(sys.argv) > 1 and __name__ == "__main__" else 300
LR = 0.01


def finish_compiling():
    """Waits for Hypatia's optimized kernels where Hypatia is loaded: a new function's first calls run a quick build
    while the optimized one compiles in the background (bench/first_result.py measures that start)."""
    if "hypatia" in sys.modules:
        sys.modules["hypatia"].finish_compiling()


def timed(step, steps=STEPS, warmup=20):
    for _ in range(warmup):
        step()
    finish_compiling()
    samples = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[len(samples) // 10], samples[len(samples) * 9 // 10]


def print_cases(cases, systems, missing_case):
    """Runs each system's cases ({system: generator of (case, (median, p10, p90))}) and prints
    "<case> <system> <median ms> <p10 ms> <p90 ms>", or "<missing_case> <system> missing <reason>" where the
    system is not installed."""
    for system in systems:
        label = "hypatia-py" if system == "hypatia" else system
        try:
            for case, (median, p10, p90) in cases[system]():
                print(f"{case} {label} {median:.3f} {p10:.3f} {p90:.3f}", flush=True)
        except ImportError as error:
            print(f"{missing_case} {label} missing {type(error).__name__}:{error.name}", flush=True)


def data(np, dtype):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (100, 784)).astype(dtype)
    y = rng.integers(0, 10, 100)
    w = rng.normal(0, 0.1, (784, 500)).astype(dtype)
    return x, y, w


def numpy_step(dtype):
    import numpy as np
    x, y, w = data(np, dtype)
    b, v, c = np.zeros(500, dtype), np.zeros((500, 10), dtype), np.zeros(10, dtype)
    onehot = np.eye(10, dtype=dtype)[y]

    def step():
        nonlocal w, b, v, c
        hid = np.tanh(x @ w + b)
        logits = hid @ v + c
        logits = logits - logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        err = -np.log(p[np.arange(100), y]).mean()
        g_logits = (p - onehot) / 100
        g_hid = (g_logits @ v.T) * (1 - hid * hid)
        w = w - LR * (x.T @ g_hid)
        b = b - LR * g_hid.sum(axis=0)
        v = v - LR * (hid.T @ g_logits)
        c = c - LR * g_logits.sum(axis=0)
        return err
    return step


def pytensor_step(dtype):
    import numpy as np
    import pytensor
    import pytensor.tensor as pt
    x_value, y_value, w_value = data(np, dtype)
    x, y = pt.matrix("x", dtype=dtype), pt.lvector("y")
    w = pytensor.shared(w_value)
    b = pytensor.shared(np.zeros(500, dtype))
    v = pytensor.shared(np.zeros((500, 10), dtype))
    c = pytensor.shared(np.zeros(10, dtype))
    hid = pt.tanh(x @ w + b)
    p = pt.special.softmax(hid @ v + c, axis=-1)
    err = -pt.log(p[pt.arange(y.shape[0]), y]).mean()
    grads = pytensor.grad(err, [w, b, v, c])
    lr = np.asarray(LR, dtype)
    train = pytensor.function([x, y], err, updates=[(s, s - lr * g) for s, g in zip([w, b, v, c], grads)])
    return lambda: train(x_value, y_value)


def jax_step(dtype, platform="cpu"):
    """platform: "cpu", or "gpu" (bench/devices.py, where JAX has a CUDA GPU)."""
    import numpy as np
    import jax
    import jax.numpy as jnp
    if dtype == "float64":
        jax.config.update("jax_enable_x64", True)
    device = jax.devices(platform)[0]
    x_value, y_value, w_value = data(np, dtype)
    params = [jax.device_put(p, device) for p in [w_value, np.zeros(500, dtype), np.zeros((500, 10), dtype), np.zeros(10, dtype)]]
    x, y = jax.device_put(x_value, device), jax.device_put(y_value, device)

    def loss(params, x, y):
        w, b, v, c = params
        hid = jnp.tanh(x @ w + b)
        logp = jax.nn.log_softmax(hid @ v + c)
        return -jnp.take_along_axis(logp, y[:, None], axis=1).mean()

    @jax.jit
    def update(params, x, y):
        err, grads = jax.value_and_grad(loss)(params, x, y)
        return err, [p - LR * g for p, g in zip(params, grads)]

    def step():
        nonlocal params
        err, params = update(params, x, y)
        err.block_until_ready()
    return step


def torch_threads(torch):
    """Debian's PyTorch starts with one thread per physical core (one here: two hyperthreads); like the
    others it gets every core this process may use, unless OMP_NUM_THREADS says otherwise."""
    import os
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", len(os.sched_getaffinity(0)))))


def torch_step(dtype, device="cpu"):
    """device: "cpu", or "cuda" (bench/devices.py, where PyTorch has a GPU); each step waits for the GPU."""
    import numpy as np
    import torch
    torch_threads(torch)
    x_value, y_value, w_value = data(np, dtype)
    torch_dtype = getattr(torch, dtype)
    x, y = torch.from_numpy(x_value).to(device), torch.from_numpy(y_value).to(device)
    w = torch.from_numpy(w_value).to(device).requires_grad_()
    b, v, c = (torch.zeros(s, dtype=torch_dtype, device=device, requires_grad=True) for s in [(500,), (500, 10), (10,)])

    def step():
        hid = torch.tanh(x @ w + b)
        err = torch.nn.functional.cross_entropy(hid @ v + c, y)
        grads = torch.autograd.grad(err, [w, b, v, c])
        with torch.no_grad():
            for p, g in zip([w, b, v, c], grads):
                p -= LR * g
        if device != "cpu":
            torch.cuda.synchronize()
    return step


def call_overhead(make_call):
    """Microseconds per call of a one-op function (x + 1 on 10 float64s): medians of 1000-call batches."""
    call = make_call()
    for _ in range(1000):
        call()
    finish_compiling()
    samples = []
    for _ in range(200):
        start = time.perf_counter()
        for _ in range(1000):
            call()
        samples.append((time.perf_counter() - start) * 1e3)  # ms per 1000 calls = us per call
    samples.sort()
    return samples[len(samples) // 2], samples[len(samples) // 10], samples[len(samples) * 9 // 10]


def numpy_call():
    import numpy as np
    x = np.arange(10.0)
    return lambda: x + 1


def pytensor_call():
    import numpy as np
    import pytensor
    import pytensor.tensor as pt
    x = pt.dvector("x")
    f = pytensor.function([x], x + 1)
    f.trust_input = True  # PyTensor's fastest calling convention
    value = np.arange(10.0)
    return lambda: f(value)


def jax_call():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    f = jax.jit(lambda x: x + 1)
    value = jnp.arange(10.0)
    return lambda: f(value).block_until_ready()


def torch_call():
    import torch
    x = torch.arange(10.0, dtype=torch.float64)
    return lambda: x + 1


PEERS = {"numpy": numpy_step, "pytensor": pytensor_step, "jax": jax_step, "torch": torch_step}
CALLS = {"numpy": numpy_call, "pytensor": pytensor_call, "jax": jax_call, "torch": torch_call}


def measure(steps, calls):
    for name, make in steps.items():
        for dtype in ("float32", "float64"):
            try:
                step = make(dtype)
            except ImportError as error:
                print(f"{name} {dtype} missing {error.name or error}")
                continue
            median, p10, p90 = timed(step)
            print(f"{name} {dtype} {median:.4f} {p10:.4f} {p90:.4f}", flush=True)
    for name, make in calls.items():
        try:
            median, p10, p90 = call_overhead(make)
        except ImportError as error:
            print(f"{name} call missing {error.name or error}")
            continue
        print(f"{name} call {median:.4f} {p10:.4f} {p90:.4f}", flush=True)


if __name__ == "__main__":
    # An optional second argument names the peers to measure ("torch" runs under Debian's python3,
    # where python3-torch lives; the others under .venv's).
    chosen = sys.argv[2].split(",") if len(sys.argv) > 2 else list(PEERS)
    measure({k: v for k, v in PEERS.items() if k in chosen}, {k: v for k, v in CALLS.items() if k in chosen})
