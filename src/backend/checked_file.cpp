#include "backend/checked_file.h"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "codegen/cpu_source.h"

namespace hypatia {
namespace {

constexpr char kMagic[8] = {'H', 'Y', 'K', 'E', 'R', 'N', 'L', '1'};
constexpr size_t kTrailer = sizeof kMagic + 16;  // magic, size, hash

}  // namespace

std::string read_checked_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string entry = bytes.str();
  if (entry.size() < kTrailer) return "";
  const char* trailer = entry.data() + entry.size() - kTrailer;
  uint64_t size = 0, hash = 0;
  std::memcpy(&size, trailer + sizeof kMagic, sizeof size);
  std::memcpy(&hash, trailer + sizeof kMagic + 8, sizeof hash);
  if (std::memcmp(trailer, kMagic, sizeof kMagic) != 0 || size != entry.size() - kTrailer) return "";
  std::string contents = entry.substr(0, size);
  return stable_hash(contents) == hash ? contents : "";
}

void write_checked_file(const std::string& path, const std::string& contents) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const uint64_t size = contents.size(), hash = stable_hash(contents);
  // Written aside, then renamed: another process never reads half a file.
  static std::atomic<int> writes{0};
  const std::string partial = path + ".tmp" + std::to_string(::getpid()) + "-" + std::to_string(writes++);
  {
    std::ofstream file(partial, std::ios::binary);
    if (!file) return;
    file << contents;
    file.write(kMagic, sizeof kMagic);
    file.write(reinterpret_cast<const char*>(&size), sizeof size);
    file.write(reinterpret_cast<const char*>(&hash), sizeof hash);
    if (!file) {
      std::filesystem::remove(partial, ignored);
      return;
    }
  }
  std::filesystem::rename(partial, path, ignored);
}

}  // namespace hypatia
