#!/usr/bin/env bash
# Installs what `make demo` and `make test` need: Debian packages, and the Python packages of
# requirements.txt into .venv; `setup.sh bench` also installs the benchmark peers there.
# Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

debian_packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-dev liblapack-dev libsleef-dev zlib1g-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  opencl-headers ocl-icd-opencl-dev pocl-opencl-icd clinfo libclblast-dev libclfft-dev
  libdnnl-dev libfftw3-dev libboost-math-dev
  dataset-fashion-mnist
  python3 python3-dev python3-venv graphviz
)

# `setup.sh bench`: PyTorch's CPU build from Debian (PyPI's wheels bring gigabytes of CUDA libraries).
[ "${1:-}" = "bench" ] && debian_packages+=(python3-torch)

missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq >/dev/null
  $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Installs a requirements file into .venv once; a stamp named by the file's hash skips it afterwards.
install_requirements() {
  local requirements=$1
  local stamp=.venv/.installed-$(sha256sum "$requirements" | cut -c1-16)
  [ -f "$stamp" ] && return
  echo "setup: installing the Python packages of $requirements into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
  touch "$stamp"
}

install_requirements requirements.txt
[ "${1:-}" = "bench" ] && install_requirements requirements-bench.txt
exit 0
