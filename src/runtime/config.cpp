#include "hypatia/config.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <vector>

#include "hypatia/error.h"

namespace hypatia {
namespace {

std::string default_compiledir() {
  if (const char* cache = std::getenv("XDG_CACHE_HOME"); cache && *cache) return std::string(cache) + "/hypatia";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/hypatia";
  return "/tmp/hypatia-" + std::to_string(getuid());
}

// The first of $CXX, c++, g++, clang++ that is an executable on PATH (or a path that is one).
std::string find_compiler() {
  std::vector<std::string> candidates;
  if (const char* cxx = std::getenv("CXX"); cxx && *cxx) candidates.emplace_back(cxx);
  for (const char* name : {"c++", "g++", "clang++"}) candidates.emplace_back(name);
  const char* path = std::getenv("PATH");
  for (const std::string& candidate : candidates) {
    if (candidate.find('/') != std::string::npos) {
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
      continue;
    }
    std::stringstream dirs(path ? path : "/usr/bin:/bin");
    for (std::string dir; std::getline(dirs, dir, ':');)
      if (!dir.empty() && access((dir + "/" + candidate).c_str(), X_OK) == 0) return dir + "/" + candidate;
  }
  return "";
}

// Applies "name=value,..." from HYPATIA_FLAGS; names the Python front end handles are skipped.
void apply_flags(Config& config, const std::string& flags) {
  std::stringstream items(flags);
  for (std::string item; std::getline(items, item, ',');) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) continue;
    const std::string name = item.substr(0, eq), value = item.substr(eq + 1);
    if (name == "compiledir") config.compiledir = value;
    else if (name == "cxx") config.cxx = value;
    else if (name == "device") config.device = value;
    else if (bool* setting = config_switch(config, name)) {
      if (const std::optional<bool> on = parse_switch(value)) *setting = *on;
      else warn("[config] HYPATIA_FLAGS: " + name + " must be 1 or 0 (true or false), got '" + value + "'");
    }
    else if (name == "openmp_threads") {
      try {
        config.openmp_threads = std::max(0, std::stoi(value));
      } catch (const std::exception&) {
        warn("[config] HYPATIA_FLAGS: openmp_threads must be an integer, got '" + value + "'");
      }
    }
  }
}

}  // namespace

std::optional<bool> parse_switch(const std::string& text) {
  if (text == "1" || text == "true" || text == "True") return true;
  if (text == "0" || text == "false" || text == "False") return false;
  return std::nullopt;
}

bool* config_switch(Config& config, const std::string& name) {
  if (name == "tiered_compilation") return &config.tiered_compilation;
  if (name == "flush_denormals") return &config.flush_denormals;
  return nullptr;
}

Config& config() {
  static Config* settings = [] {
    auto* made = new Config();  // never destroyed: kernels may compile until exit
    made->compiledir = default_compiledir();
    made->cxx = find_compiler();
    // OpenMP's own setting (its first entry: the outer level's threads), unless HYPATIA_FLAGS says otherwise.
    if (const char* omp = std::getenv("OMP_NUM_THREADS")) {
      char* end = nullptr;
      const long threads = std::strtol(omp, &end, 10);
      if (end != omp && threads > 0) made->openmp_threads = static_cast<int>(threads);
    }
    if (const char* flags = std::getenv("HYPATIA_FLAGS")) apply_flags(*made, flags);
    return made;
  }();
  return *settings;
}

int cpu_threads() {
  static const int cores = std::max(1u, std::thread::hardware_concurrency());
  return config().openmp_threads > 0 ? config().openmp_threads : cores;
}

}  // namespace hypatia
