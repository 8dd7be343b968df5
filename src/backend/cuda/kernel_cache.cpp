#include "backend/cuda/kernel_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "backend/cuda/nvrtc.h"
#include "codegen/cpu_source.h"
#include "hypatia/config.h"
#include "hypatia/error.h"

namespace hypatia::cuda {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'C', 'U', 'B', 'I', 'N', '1'};

// image, then the trailer: magic, size (8 bytes), hash (8 bytes).
std::string with_trailer(const std::string& image) {
  std::string entry = image;
  const uint64_t size = image.size(), hash = stable_hash(image);
  entry.append(kMagic, sizeof kMagic);
  entry.append(reinterpret_cast<const char*>(&size), sizeof size);
  entry.append(reinterpret_cast<const char*>(&hash), sizeof hash);
  return entry;
}

// The image of a whole, undamaged entry; empty otherwise.
std::string without_trailer(const std::string& entry) {
  constexpr size_t kTrailer = sizeof kMagic + 16;
  if (entry.size() < kTrailer) return "";
  const char* trailer = entry.data() + entry.size() - kTrailer;
  uint64_t size = 0, hash = 0;
  std::memcpy(&size, trailer + sizeof kMagic, sizeof size);
  std::memcpy(&hash, trailer + sizeof kMagic + 8, sizeof hash);
  if (std::memcmp(trailer, kMagic, sizeof kMagic) != 0 || size != entry.size() - kTrailer) return "";
  std::string image = entry.substr(0, size);
  return stable_hash(image) == hash ? image : "";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

}  // namespace

CachedBinary binary_for(const std::string& source, const std::string& name, const std::string& architecture) {
  const std::string directory = config().compiledir + "/cuda";
  CachedBinary result;
  result.path = directory + "/" + hex64(stable_hash(source + "|" + architecture + "|" + nvrtc_version())) + "-" + architecture + ".bin";
  if (std::string image = without_trailer(read_file(result.path)); !image.empty()) {
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
  std::error_code ignored;
  std::filesystem::create_directories(directory, ignored);
  if (!compiled.ok) {
    std::string path = directory + "/" + name + ".cu";
    if (std::ofstream file(path); file) file << source;
    else path = "(not written)";
    throw ValueError("[cuda] the generated kernel " + name + " does not compile for " + architecture + " (source: " + path +
                     "):\n" + compiled.log);
  }
  result.image = compiled.cubin.empty() ? compiled.ptx : compiled.cubin;
  // Written aside, then renamed: another process never reads half an entry.
  static std::atomic<int> writes{0};
  const std::string partial = result.path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(writes++);
  if (std::ofstream file(partial, std::ios::binary); file) {
    file << with_trailer(result.image);
    file.close();
    std::filesystem::rename(partial, result.path, ignored);
  }
  return result;
}

}  // namespace hypatia::cuda
