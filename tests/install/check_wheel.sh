#!/usr/bin/env bash
# Builds the Python package as a wheel (pip wheel ., scikit-build-core), installs it into a scratch
# environment that sees NumPy but not the source tree, and trains a few steps of the seed's network.
set -euo pipefail
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
python=$source_dir/.venv/bin/python
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$python" -m pip wheel --no-build-isolation --no-deps -q -w "$scratch/wheels" "$source_dir" >"$scratch/build.log" 2>&1 \
  || { cat "$scratch/build.log"; exit 1; }
"$python" -m pip install --no-deps --no-index -q --target "$scratch/site" "$scratch"/wheels/hypatia-*.whl

# A bare environment: the installed package, plus the project's NumPy (a path added by a .pth file is
# not scanned for .pth files itself, so the source tree's hypatia-source-tree.pth stays out).
python3 -m venv --without-pip "$scratch/env"
site=$("$scratch/env/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
numpy_site=$("$python" -c "import numpy, os; print(os.path.dirname(os.path.dirname(numpy.__file__)))")
printf '%s\n%s\n' "$scratch/site" "$numpy_site" >"$site/paths.pth"

cd "$scratch"
cat >check.py <<'PY'
import os

import numpy as np
import hypatia as theano
import hypatia.tensor as tensor

SCRATCH = os.environ["SCRATCH"]
assert theano.__file__.startswith(SCRATCH), theano.__file__
assert theano._core.__file__.startswith(SCRATCH), theano._core.__file__
rng = np.random.default_rng(0)
x_data = rng.random((100, 784))
y_data = np.eye(10)[rng.integers(0, 10, 100)]
sx, sy = tensor.matrix(), tensor.matrix()
w = theano.shared(rng.normal(0, .1, (784, 500)))
v = theano.shared(np.zeros((500, 10)))
out = tensor.nnet.softmax(tensor.dot(tensor.tanh(tensor.dot(sx, w)), v))
err = tensor.mean(tensor.nnet.categorical_crossentropy(out, sy))
gw, gv = tensor.grad(err, [w, v])
train = theano.function([sx, sy], err, updates={w: w - 0.1 * gw, v: v - 0.1 * gv})
errors = [float(train(x_data, y_data)) for _ in range(20)]
assert errors[-1] < errors[0], errors
try:
    tensor.tensor(shape=(4,)) + tensor.tensor(shape=(3,), dtype="float32")
except ValueError as error:
    assert "(node built at check.py:23)" in str(error), error
else:
    raise AssertionError("a bad graph was accepted")
print("installed wheel works: error", round(errors[0], 3), "->", round(errors[-1], 3))
PY
SCRATCH=$scratch "$scratch/env/bin/python" check.py
