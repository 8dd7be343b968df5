// NVRTC, CUDA's run-time compiler, loaded at run time (dlopen), so the library builds and runs where the
// CUDA toolkit is missing. Compiles generated CUDA C++ kernels to PTX and to a cubin for a given
// architecture: on a machine without a GPU this is how CUDA kernels are checked.
#pragma once
#include <string>
#include <vector>

namespace hypatia::cuda {

// Whether libnvrtc could be loaded (and its version, "13.0").
bool nvrtc_available();
std::string nvrtc_version();

// The real architectures NVRTC can compile for (75, 80, ..., 120); empty without NVRTC.
std::vector<int> supported_architectures();

struct Compiled {
  bool ok = false;
  std::string log;    // the compiler's messages (the errors when !ok)
  std::string ptx;    // PTX for `architecture` (a virtual one, compute_XX)
  std::string cubin;  // machine code, when `architecture` is a real one (sm_XX)
};

// Compiles `source` (one translation unit of extern "C" __global__ kernels) for `architecture`
// ("sm_90", "compute_80"). ValueError when NVRTC is not available.
Compiled compile(const std::string& source, const std::string& architecture, const std::string& name = "hypatia.cu");

}  // namespace hypatia::cuda
