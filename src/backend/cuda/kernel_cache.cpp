#include "backend/cuda/kernel_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "backend/checked_file.h"
#include "backend/cuda/nvrtc.h"
#include "codegen/cpu_source.h"
#include "hypatia/config.h"
#include "hypatia/error.h"

namespace hypatia::cuda {

CachedBinary binary_for(const std::string& source, const std::string& name, const std::string& architecture) {
  const std::string directory = config().compiledir + "/cuda";
  CachedBinary result;
  result.path = directory + "/" + hex64(stable_hash(source + "|" + architecture + "|" + nvrtc_version())) + "-" + architecture + ".bin";
  if (std::string image = read_checked_file(result.path); !image.empty()) {
    result.image = std::move(image);
    result.from_disk = true;
    return result;
  }
  // A GPU newer than this NVRTC gets PTX for the newest architecture it knows (the driver compiles it
  // on); one older than NVRTC supports cannot run its kernels.
  std::string target = architecture;
  const std::vector<int> supported = supported_architectures();
  const int wanted = architecture.rfind("sm_", 0) == 0 ? std::atoi(architecture.c_str() + 3) : 0;
  if (!supported.empty() && wanted > supported.back()) target = "compute_" + std::to_string(supported.back());
  if (!supported.empty() && wanted > 0 && wanted < supported.front())
    throw ValueError("[cuda] NVRTC " + nvrtc_version() + " does not compile for " + architecture + " (its oldest is sm_" +
                     std::to_string(supported.front()) + ")");
  Compiled compiled = compile(source, target, name + ".cu");
  if (!compiled.ok) {
    std::error_code ignored;
    std::filesystem::create_directories(directory, ignored);
    std::string path = directory + "/" + name + ".cu";
    if (std::ofstream file(path); file) file << source;
    else path = "(not written)";
    throw ValueError("[cuda] the generated kernel " + name + " does not compile for " + architecture + " (source: " + path +
                     "):\n" + compiled.log);
  }
  result.image = compiled.cubin.empty() ? compiled.ptx : compiled.cubin;
  write_checked_file(result.path, result.image);
  return result;
}

}  // namespace hypatia::cuda
