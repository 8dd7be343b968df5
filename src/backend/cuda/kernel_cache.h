// CUDA kernels compiled once: NVRTC turns generated source into a cubin for the device's architecture,
// kept on disk under compiledir/cuda/ (keyed by the source's hash, the architecture and NVRTC's version,
// as the CPU modules are) so later processes load it without compiling. Entries appear by atomic rename
// and end with their size and hash, checked before use: a damaged entry is compiled again.
#pragma once
#include <string>

namespace hypatia::cuda {

struct CachedBinary {
  std::string image;   // a cubin, or PTX (when NVRTC cannot target the architecture: the driver JITs it)
  bool from_disk = false;
  std::string path;    // the entry's file
};

// The binary of `source` (its kernels extern "C") for `architecture` ("sm_90"). A source that does not
// compile is a ValueError with NVRTC's log and the path the source was written to.
CachedBinary binary_for(const std::string& source, const std::string& name, const std::string& architecture);

}  // namespace hypatia::cuda
