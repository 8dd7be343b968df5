#!/usr/bin/env bash
# `make bench`: the seed's training step in Hypatia and its peers, measured side by side in one run.
# Ratios are peer time / Hypatia time (above 1: Hypatia is faster). Medians of STEPS steps each.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
steps=${STEPS:-300}
results=$(mktemp)
loops=$(mktemp)
rnn=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn"' EXIT


"$root/build/bench/bench_training_step" "$steps" >>"$results"
"$root/.venv/bin/python" "$root/bench/python_front_end.py" "$steps" >>"$results"
# NumPy's own OpenBLAS runs slower with the OPENBLAS_* overrides this machine sets for old OpenBLAS
# builds, so the peers run without them (Hypatia keeps them: Debian's OpenBLAS needs them here).
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$root/.venv/bin/python" "$root/bench/peers.py" "$steps" numpy,pytensor,jax >>"$results"
# PyTorch is Debian's CPU build (python3-torch), so it runs under Debian's python3.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$root/bench/peers.py" "$steps" torch >>"$results"

echo "Training step of the seed's MLP (784-500-10, batch 100), median of $steps steps, $(nproc) cores;"
echo "'call' rows: microseconds per call of a one-op function (x + 1 on 10 float64s); hypatia is the C++ call,"
echo "hypatia-py the same function called from Python, peers from Python. Ratios: row / hypatia (C++), row / hypatia-py."
echo "Reproduce: make bench (STEPS=$steps)"
awk '
  $1 == "hypatia" { base[$2] = $3 }
  $1 == "hypatia-py" { py[$2] = $3 }
  { rows[NR] = $0 }
  END {
    printf "%-10s %-8s %12s %12s %12s %10s %10s\n", "system", "case", "median", "p10", "p90", "vs C++", "vs Python"
    for (i = 1; i <= NR; i++) {
      split(rows[i], f, " ")
      if (f[3] == "missing") { printf "%-10s %-8s %12s\n", f[1], f[2], "missing (" f[4] ")"; continue }
      printf "%-10s %-8s %12.3f %12.3f %12.3f %9.2fx %9.2fx\n", f[1], f[2], f[3], f[4], f[5], f[3] / base[f[2]],
             f[3] / py[f[2]]
    }
  }' "$results"

# The step against its five matrix products alone (OpenBLAS, the same shapes: the step's floor), on one core.
floor=$(taskset -c 1 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$root/build/bench/bench_training_step" "$steps")
echo
echo "The seed's step against its GEMMs alone (bench_training_step: x.w, h.v, h'.d, d.v', x'.dh through OpenBLAS),"
echo "one core, median ms of $steps:"
echo "$floor" | awk '
  $1 == "hypatia" && $2 != "call" { step[$2] = $3 }
  $1 == "gemms" { gemms[$2] = $3 }
  END { for (d in step) printf "%-8s step %8.3f   GEMMs alone %8.3f   step / GEMMs %6.2fx\n", d, step[d], gemms[d], step[d] / gemms[d] }'

# Runs a command on one core (every library on one thread) and on all cores, each line of its output
# prefixed with "1" or "all".
on_one_and_all_cores() {
  for cores in 1 all; do
    if [ "$cores" = 1 ]; then
      pin=(taskset -c 1 env OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1)
    else
      pin=(env)
    fi
    "${pin[@]}" env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@" | sed "s/^/$cores /"
  done
}

# The table of "<cores> <case> <system> <median ms> ..." lines, each row's ratio to hypatia-py's on the
# same cores and case.
per_core_table() {
  awk '
    $2 ~ /^#/ { note = substr($0, index($0, $2)); if (!seen[note]++) notes[++n] = note; next }
    $3 == "hypatia-py" { base[$1 " " $2] = $4 }
    $1 == "1" && $4 != "missing" { one[$2 " " $3] = $4 }
    { rows[++r] = $0 }
    END {
      printf "%-6s %-20s %-13s %12s %10s %9s\n", "cores", "case", "system", "median ms", "ratio", "scaling"
      for (i = 1; i <= r; i++) {
        split(rows[i], f, " ")
        if (f[4] == "missing") { printf "%-6s %-20s %-13s %12s\n", f[1], f[2], f[3], "missing (" f[5] ")"; continue }
        scaling = (f[1] != "1" && (f[2] " " f[3]) in one) ? sprintf("%8.2fx", one[f[2] " " f[3]] / f[4]) : ""
        printf "%-6s %-20s %-13s %12.3f %9.2fx %9s\n", f[1], f[2], f[3], f[4], f[4] / base[f[1] " " f[2]], scaling
      }
      for (i = 1; i <= n; i++) print notes[i]
    }' "$1"
}

# Fused elementwise loops on 10^7 float32s and reductions, on one core and on all.
on_one_and_all_cores "$root/.venv/bin/python" "$root/bench/elementwise.py" >"$loops"
echo
echo "Elementwise (10^7 float32) and reductions (2000x5000 float32), median ms from Python, on 1 core and on all"
echo "$(nproc); 'bound' is the bytes the loop must move at the bandwidth of a copy on those cores, measured in the"
echo "same run. Ratio: row / hypatia-py; scaling: the row's 1-core time / its all-core time."
per_core_table "$loops"

# An RNN's training step: scan against PyTensor's scan, JAX's lax.scan and a Python loop of compiled steps.
on_one_and_all_cores "$root/.venv/bin/python" -W ignore::DeprecationWarning "$root/bench/rnn.py" >"$rnn"
echo
echo "Elman RNN training step (sequence 100, hidden 128, batch 32, inputs 32, float32: forward, backpropagation"
echo "through time, SGD), median ms from Python, on 1 core and on all $(nproc). hypatia-flush: flush_denormals on"
echo "(subnormals flushed to zero, as JAX computes; this loop's gradients fade into them). Ratio: row / hypatia-py."
per_core_table "$rnn"

# The Theano LSTM tutorial's model: scan over a padded, masked batch, against JAX's lax.scan and PyTorch's nn.LSTM.
lstm=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" -W ignore "$root/bench/lstm.py" "${LSTM_STEPS:-20}" hypatia,pytensor,jax >>"$lstm"
on_one_and_all_cores /usr/bin/python3 -W ignore "$root/bench/lstm.py" "${LSTM_STEPS:-20}" torch >>"$lstm"
echo
echo "LSTM training step (bench/lstm.py: the Theano LSTM tutorial's model, vocabulary 10000, 128 units, batch 16,"
echo "100 steps with a mask, mean pooling, softmax, SGD; float32; PyTorch: nn.LSTM over packed sequences), median ms"
echo "from Python, on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$lstm"

# Time to first result: the seed's training step differentiated, compiled and called once in a new process.
first=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" "$root/bench/first_result.py" "${FIRST_RUNS:-5}" hypatia,pytensor,jax >>"$first"
echo
echo "Time to first result (bench/first_result.py): the seed's training step (float32, batch 100) differentiated,"
echo "compiled and called once, in a new process; cold: an empty kernel cache, warm: the cache a cold run left."
echo "Median ms of ${FIRST_RUNS:-5} processes (PyTensor: one), on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$first"

# Two Theano tutorial programs, the same code in Hypatia and PyTensor.
programs=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first" "$programs"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" -W ignore::DeprecationWarning "$root/bench/theano_programs.py" >>"$programs"
echo
echo "Theano tutorial training steps (bench/theano_programs.py: MLP with L1/L2 penalties, batch 20; contractive"
echo "autoencoder, batch 10), float64, median ms from Python, on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$programs"

# The convolutional-network tutorial's training step (LeNet, batch 500) and its second convolution alone;
# PyTorch runs under Debian's python3.
lenet=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first" "$programs" "$lenet"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" -W ignore::DeprecationWarning "$root/bench/lenet.py" "${LENET_STEPS:-20}" \
  hypatia,jax >>"$lenet"
on_one_and_all_cores /usr/bin/python3 -W ignore "$root/bench/lenet.py" "${LENET_STEPS:-20}" torch >>"$lenet"
echo
echo "LeNet training step (the convolutional-network tutorial: batch 500, float32, conv 5x5x20, max-pool, conv"
echo "5x5x50, max-pool, 800-500-10, SGD) and its second convolution alone (500x20x12x12 * 50x20x5x5, forward;"
echo "backward: both gradients), median ms from Python, on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$lenet"

# Linear algebra: a Gaussian process's likelihood and gradient, written with a Cholesky factor and with
# solve + slogdet; SciPy's row is the closed-form gradient from one factorization.
gp=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first" "$programs" "$lenet" "$gp"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" -W ignore "$root/bench/linalg.py" "${LINALG_STEPS:-5}" hypatia,numpy,scipy,jax >>"$gp"
on_one_and_all_cores /usr/bin/python3 -W ignore "$root/bench/linalg.py" "${LINALG_STEPS:-5}" torch >>"$gp"
echo
echo "Gaussian-process negative log likelihood and its gradient (bench/linalg.py: squared-exponential kernel,"
echo "n = 500 and 2000, float64; chol: cholesky + cho_solve, solve: solve + slogdet) and the real FFT of 2^20 samples,"
echo "median ms from Python, on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$gp"

# Sparse matrices: softmax regression's training step over sparse inputs and the products it is made of.
sparse_results=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first" "$programs" "$lenet" "$gp" "$sparse_results"' EXIT
on_one_and_all_cores "$root/.venv/bin/python" -W ignore "$root/bench/sparse.py" "${SPARSE_STEPS:-30}" hypatia,scipy,jax >>"$sparse_results"
on_one_and_all_cores /usr/bin/python3 -W ignore "$root/bench/sparse.py" "${SPARSE_STEPS:-30}" torch >>"$sparse_results"
echo
echo "Sparse inputs (bench/sparse.py): logreg is a softmax-regression training step (100k features, 0.1% density,"
echo "batch 256, 10 classes, float32; SciPy's row is the NumPy/SciPy program written by hand); spmm_D is X @ B for a"
echo "csr X (4096 x 32768, density D) and B (32768 x 64), spmm_t_D is X.T @ G (G 4096 x 64); median ms from Python,"
echo "on 1 core and on all $(nproc). Ratio: row / hypatia-py."
per_core_table "$sparse_results"

# The seed's training step on each device present (PoCL's OpenCL runs on this same CPU).
devices=$(mktemp)
trap 'rm -f "$results" "$loops" "$rnn" "$lstm" "$first" "$programs" "$lenet" "$gp" "$sparse_results" "$devices"' EXIT
"$root/.venv/bin/python" -W ignore::DeprecationWarning "$root/bench/devices.py" >"$devices"
echo
echo "The seed's training step (784-500-10, batch 100, float32) on each device, median ms from Python. Ratio: row / cpu."
awk '
  $1 == "cpu" { base = $2 }
  { rows[++r] = $0 }
  END {
    printf "%-12s %12s %10s\n", "device", "median ms", "ratio"
    for (i = 1; i <= r; i++) {
      split(rows[i], f, " ")
      if (f[2] == "missing") { printf "%-12s %12s\n", f[1], "missing (" f[3] ")"; continue }
      printf "%-12s %12.3f %9.2fx\n", f[1], f[2], f[2] / base
    }
  }' "$devices"
