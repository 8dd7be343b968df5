#!/usr/bin/env bash
# The checks that need an NVIDIA GPU, in one call (under 8 minutes on a machine with one): builds what is
# missing, runs every device test on the first CUDA GPU (test_device_backends.cpp, the seed's network,
# the CUDA runtime's tests and linear algebra on cuSOLVER, the Python device, FFT, sparse and convolution tests with
# device=cuda0) and the device benchmark (the
# seed's training step on each device, with PyTorch and JAX on the GPU where they have one).
# Usage: bash scripts/gpu_check.sh   (results also under $OUT when it is set)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=${BUILD:-build}
out=${OUT:-$root/gpu-check}
mkdir -p "$out"
log() { echo "== $*" | tee -a "$out/summary.txt"; }

nvidia-smi -L 2>&1 | tee "$out/nvidia-smi.txt" || log "nvidia-smi: not found (the driver may still be present)"
if [ ! -f "$build/build.ninja" ]; then
  python=$(command -v python3)
  [ -x .venv/bin/python ] && python=.venv/bin/python
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$python" >"$out/configure.txt" 2>&1 ||
    { log "configure failed (see configure.txt)"; exit 1; }
fi
start=$SECONDS
cmake --build "$build" -j "$(nproc)" >"$out/build.txt" 2>&1 || { log "build failed (see build.txt)"; tail -30 "$out/build.txt"; exit 1; }
log "built in $((SECONDS - start)) s"

export HYPATIA_FLAGS="compiledir=$root/$build/kernel_cache"
status=0
timeout 300 "$build/tests/hypatia_tests" --gtest_filter='*/cuda:Cuda.*:GpuKernels.*' 2>&1 | tee "$out/cpp_tests.txt" | tail -25
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
log "C++ CUDA tests: $(grep -E '^\[  (PASSED|FAILED) ' "$out/cpp_tests.txt" | tr '\n' ' ')"

if [ -x .venv/bin/python ] && ls "$build"/python/hypatia/_core*.so >/dev/null 2>&1; then
  (cd tests/python && PYTHONPATH="$root/python:$root/$build/python" HYPATIA_DEVICE_UNDER_TEST=cuda0 timeout 180 \
     "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider test_devices.py) 2>&1 | tee "$out/python_tests.txt" | tail -5
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # Fourier transforms on cuFFT against NumPy (every function of the file on cuda0).
  (cd tests/python && PYTHONPATH="$root/python:$root/$build/python" HYPATIA_TEST_DEVICE=cuda timeout 120 \
     "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider test_fft.py) 2>&1 | tee "$out/fft_tests.txt" | tail -5
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # Sparse products on cuSPARSE against SciPy.
  (cd tests/python && PYTHONPATH="$root/python:$root/$build/python" HYPATIA_TEST_DEVICE=cuda timeout 120 \
     "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider test_sparse.py) 2>&1 | tee "$out/sparse_tests.txt" | tail -5
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  # Convolutions and pooling on cuDNN against SciPy/NumPy expectations (every function of the file on cuda0).
  (cd tests/python && PYTHONPATH="$root/python:$root/$build/python" HYPATIA_TEST_DEVICE=cuda timeout 180 \
     "$root/.venv/bin/python" -m pytest -q -p no:cacheprovider test_conv.py) 2>&1 | tee "$out/conv_tests.txt" | tail -5
  [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  timeout 120 .venv/bin/python bench/devices.py 100 2>/dev/null | tee "$out/devices_bench.txt"
  log "device bench (median ms per training step): $(tr '\n' ';' <"$out/devices_bench.txt")"
else
  log "Python front end not built here: Python device tests and the device benchmark skipped"
fi
log "status $status"
exit $status
