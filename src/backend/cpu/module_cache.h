// ModuleCache: compiles a generated C++ translation unit into a shared object with the system
// compiler, loads it with dlopen, and keeps it: in memory for the process, and on disk (config's
// compiledir) for later processes. Entries are keyed by a hash of the source, the compiler's identity,
// the flags and the CPU; they appear by atomic rename, so processes compiling at once never see a
// partial file. Each entry ends with its size and a hash, checked before it is loaded (a file cut short
// would kill the process with SIGBUS); an entry that is damaged, fails to load or does not carry its key
// is rebuilt, with one warning.
#pragma once
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace hypatia {

class Module {
 public:
  Module(void* handle, std::string path) : handle_(handle), path_(std::move(path)) {}
  void* symbol(const std::string& name) const;  // null when absent
  const std::string& path() const { return path_; }

 private:
  void* handle_;  // never closed: kernels stay callable until the process exits
  std::string path_;
};

class ModuleCache {
 public:
  static ModuleCache& instance();
  // The module built from `source` (kernel definitions, compiled after the prelude), or null
  // when there is no compiler or compiling failed (a warning says which, naming the source file, once
  // per cause).
  const Module* load(const std::string& source);
  // A kernel some module of this process already holds (kernels are named by their source's hash, so
  // one found under its name is the same code); null otherwise. remember_symbol records one.
  void* loaded_symbol(const std::string& name);
  void remember_symbol(const std::string& name, void* address);
  // The key a source would be cached under (for tests and diagnostics).
  std::string key(const std::string& source);
  // The shared object's path in the disk cache for a key.
  std::string object_path(const std::string& key) const;
  // How many modules this process compiled, and how many it loaded from disk.
  int compiled() const { return compiled_; }
  int loaded_from_disk() const { return loaded_from_disk_; }
  int rebuilt_damaged() const { return rebuilt_damaged_; }  // entries found damaged and rebuilt

  static const char* compile_flags();

 private:
  const Module* build(const std::string& key, const std::string& source);
  // The prelude as a header in the cache directory, precompiled when the compiler can; its path.
  std::string prelude_header(const std::string& dir);
  std::optional<Module> open(const std::string& key, const std::string& path);
  const std::string& compiler_identity();
  // The vector math library linked into modules and the prelude declaring what it provides.
  void choose_vector_math();
  std::string vector_library_;  // "-lmvec", "-lsleefgnuabi" or empty
  std::string prelude_;
  bool vector_math_chosen_ = false;

  std::recursive_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Module>> modules_;
  std::unordered_map<std::string, std::string> identity_;  // compiler -> its version text and the CPU
  std::unordered_map<std::string, bool> warned_;
  std::unordered_map<std::string, void*> symbols_;
  std::string last_open_error_;  // why open() returned nothing
  int compiled_ = 0;
  int loaded_from_disk_ = 0;
  int rebuilt_damaged_ = 0;
};

}  // namespace hypatia
