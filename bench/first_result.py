"""Time to first result: the seed's training step (784-500-10, tanh, softmax + cross-entropy, SGD, batch 100,
float32) written, differentiated, compiled and called once, each run in a new process.

Usage: first_result.py RUNS SYSTEMS (comma-separated: hypatia, pytensor, jax). Prints
"<case> <system> <median ms> <min ms> <max ms>" over RUNS processes, or "<case> <system> missing <reason>".
The clock starts after the imports and the data, before the gradient is taken: it covers what a user waits
for after editing a model. Cases:
- first(cold): an empty kernel cache (JAX keeps no cache between processes unless told to);
- first(warm): the cache the cold runs left (Hypatia and PyTensor), in a new process.
"""
import os
import subprocess
import sys
import tempfile

# Each program prints the milliseconds from its gradient to its first result.
_DATA = """
import time
import numpy as np
rng = np.random.default_rng(0)
x_value = rng.uniform(0, 1, (100, 784)).astype("float32")
y_value = rng.integers(0, 10, 100).astype("int32")
initial = [rng.normal(0, 0.1, (784, 500)).astype("float32"), np.zeros(500, "float32"),
           np.zeros((500, 10), "float32"), np.zeros(10, "float32")]
"""

_THEANO_STYLE = _DATA + """
import {module} as th
import {module}.tensor as T
{softmax_import}
x, y = T.fmatrix("x"), T.ivector("y")
params = [th.shared(value) for value in initial]
w, b, v, c = params
p = softmax(T.dot(T.tanh(T.dot(x, w) + b), v) + c)
cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
start = time.perf_counter()
grads = T.grad(cost, params)
f = th.function([x, y], cost, updates=[(q, q - 0.01 * g) for q, g in zip(params, grads)])
f(x_value, y_value)
print((time.perf_counter() - start) * 1000)
"""

_JAX = _DATA + """
import jax
import jax.numpy as jnp
jax.config.update("jax_platforms", "cpu")
params = [jnp.asarray(value) for value in initial]

def cost(params, x, y):
    w, b, v, c = params
    p = jax.nn.softmax(jnp.tanh(x @ w + b) @ v + c)
    return -jnp.mean(jnp.log(p)[jnp.arange(y.shape[0]), y])

start = time.perf_counter()
@jax.jit
def step(params, x, y):
    value, grads = jax.value_and_grad(cost)(params, x, y)
    return value, [q - 0.01 * g for q, g in zip(params, grads)]
value, params = step(params, x_value, y_value)
value.block_until_ready()
print((time.perf_counter() - start) * 1000)
"""


def run(program, env):
    result = subprocess.run([sys.executable, "-W", "ignore", "-c", program], env=env, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["failed"])[-1]
        raise RuntimeError(last.replace(" ", "_"))
    return float(result.stdout.strip().splitlines()[-1])


def emit(case, system, samples):
    samples = sorted(samples)
    print(f"{case} {system} {samples[len(samples) // 2]:.1f} {samples[0]:.1f} {samples[-1]:.1f}", flush=True)


def measure(system, runs):
    label = "hypatia-py" if system == "hypatia" else system
    env = dict(os.environ)
    try:
        if system == "jax":
            __import__("jax")
            emit("first(cold)", label, [run(_JAX, env) for _ in range(runs)])
            return
        __import__(system)
        softmax_import = ("from pytensor.tensor.special import softmax" if system == "pytensor" else
                          "softmax = T.nnet.softmax")
        program = _THEANO_STYLE.format(module=system, softmax_import=softmax_import)
        cold, warm = [], []
        for _ in range(1 if system == "pytensor" else runs):  # (PyTensor's cold compile takes a minute)
            with tempfile.TemporaryDirectory() as cache:
                flag, option = ("HYPATIA_FLAGS", "compiledir") if system == "hypatia" else ("PYTENSOR_FLAGS", "floatX=float32,base_compiledir")
                env[flag] = (os.environ.get(flag, "") + f",{option}={cache}").lstrip(",")
                cold.append(run(program, env))
                warm.append(run(program, env))
        emit("first(cold)", label, cold)
        emit("first(warm)", label, warm)
    except ImportError as error:
        print(f"first(cold) {label} missing {type(error).__name__}:{error.name}", flush=True)
    except RuntimeError as error:
        print(f"first(cold) {label} missing {error}", flush=True)


if __name__ == "__main__":
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    systems = sys.argv[2].split(",") if len(sys.argv) > 2 else ["hypatia", "pytensor", "jax"]
    for system in systems:
        measure(system, runs)
