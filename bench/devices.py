"""The seed's training step (784-500-10, tanh, softmax + cross-entropy, SGD, batch 100, float32) on every
device this machine has: the CPU, and each OpenCL device (PoCL: OpenCL on this same CPU, so the figure
measures the device path's overhead, not a GPU), and each CUDA GPU, with PyTorch and JAX on that GPU
beside it where they have one. Prints rows "<device> <median ms>" (or "... missing <why>")."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402
import python_front_end  # noqa: E402

import hypatia  # noqa: E402
from hypatia import _core  # noqa: E402


def main():
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for device in [d for d in _core._available_devices()]:
        hypatia.config.device = device
        try:
            step = python_front_end.hypatia_step("float32")
            print(f"{device} {peers.timed(step, steps)[0]:.3f}", flush=True)
        except Exception as error:  # noqa: BLE001 - a device that fails is reported, not fatal
            print(f"{device} missing {type(error).__name__}", flush=True)
    hypatia.config.device = "cpu"
    if any(d.startswith("cuda") for d in _core._available_devices()):
        for name, make in [("torch-cuda", lambda: peers.torch_step("float32", "cuda")),
                           ("jax-gpu", lambda: peers.jax_step("float32", "gpu"))]:
            try:
                print(f"{name} {peers.timed(make(), steps)[0]:.3f}", flush=True)
            except Exception as error:  # noqa: BLE001 - a peer without a GPU build is reported, not fatal
                print(f"{name} missing {type(error).__name__}", flush=True)


if __name__ == "__main__":
    main()
