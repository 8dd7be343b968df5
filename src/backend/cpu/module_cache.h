// ModuleCache: compiles a generated C++ translation unit into a shared object with the system
// compiler, loads it with dlopen, and keeps it: in memory for the process, and on disk (config's
// compiledir) for later processes. Entries are keyed by a hash of the source, the compiler's identity,
// the flags and the CPU; they appear by atomic rename, so processes compiling at once never see a
// partial file. Each entry ends with its size and a hash, checked before it is loaded (a file cut short
// would kill the process with SIGBUS); an entry that is damaged, fails to load or does not carry its key
// is rebuilt, with one warning.
#pragma once
#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/types.h>
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

// How a module is compiled: Full is -O2 with vectorization, the code functions keep; Quick is -O0 (about
// a fifth of the time), for a function's first calls while the Full build runs in the background. The two
// give the same values (a NaN's sign and payload aside): generated kernels are written so (cpu_source.cpp's
// "Block form").
enum class Optimization : uint8_t { Full, Quick };

// A kernel's address in this process: null until a module holding it loads. A Full build's address
// replaces a Quick one's, never the reverse.
struct KernelSlot {
  std::atomic<void*> address{nullptr};
  std::atomic<bool> optimized{false};
  void publish(void* function, Optimization level);
};

class ModuleCache {
 public:
  ModuleCache() = default;
  ~ModuleCache();  // waits for the background builds
  static ModuleCache& instance();
  // The module built from `source` (kernel definitions, compiled after the prelude), or null
  // when there is no compiler or compiling failed (a warning says which, naming the source file, once
  // per cause). `complex_numbers`: some kernel computes with them (the prelude then includes <complex>).
  const Module* load(const std::string& source, bool complex_numbers = false, Optimization level = Optimization::Full);
  // The module if this process or the disk cache holds it already; null otherwise (nothing compiles).
  const Module* find(const std::string& source, bool complex_numbers = false, Optimization level = Optimization::Full);
  // Builds the Full module on the cache's worker thread, then calls `ready` there with it (null when
  // compiling failed: the warning waits for the next call from another thread). Builds run one at a time,
  // in order; the process waits for them at exit, so the disk cache keeps their work. In a process forked
  // from the one that started the worker (which has no worker then), and where no thread can start, the
  // build runs here and now.
  void load_in_background(std::string source, bool complex_numbers, std::function<void(const Module*)> ready);
  // Returns once every background build asked for so far has finished, and says the warnings they left.
  void wait_for_background();
  // The process's slot for a kernel: kernels are named by their source's hash, so one name is the same
  // code in any module. Slots live as long as the cache.
  KernelSlot& kernel(const std::string& name);
  // The key a source would be cached under (for tests and diagnostics).
  std::string key(const std::string& source, bool complex_numbers = false, Optimization level = Optimization::Full);
  // The shared object's path in the disk cache for a key.
  std::string object_path(const std::string& key) const;
  // How many modules this process compiled, and how many it loaded from disk.
  int compiled() const { return compiled_; }
  int loaded_from_disk() const { return loaded_from_disk_; }
  int rebuilt_damaged() const { return rebuilt_damaged_; }  // entries found damaged and rebuilt
  // The compiler's arguments for a build (without the files), part of every key.
  static std::vector<std::string> compile_arguments(Optimization level);

  static const char* compile_flags();

 private:
  // The compiler and cache folder, read from config when a build is asked for (a background build keeps
  // them, whatever config says meanwhile).
  struct Toolchain {
    std::string cxx, dir;
    static Toolchain current();
  };
  const Module* load(const Toolchain& toolchain, const std::string& source, bool complex_numbers, Optimization level);
  std::string key(const Toolchain& toolchain, const std::string& source, bool complex_numbers, Optimization level);
  static std::string object_path(const Toolchain& toolchain, const std::string& key);
  // Compiles `source` into the disk cache entry for `key` and loads it; called without the lock held.
  std::optional<Module> build(const Toolchain& toolchain, const std::string& key, const std::string& source,
                              const std::string& prelude, Optimization level, std::string& why);
  // The entry for `key` in memory or on disk; null when neither has it. Called with the lock held.
  const Module* find_locked(const Toolchain& toolchain, const std::string& key);
  static std::optional<Module> open(const std::string& key, const std::string& path, std::string& why);
  const std::string& compiler_identity(const std::string& cxx);
  // The vector math library linked into modules and the preludes declaring what it provides.
  void choose_vector_math(const std::string& cxx);
  const std::string& prelude(bool complex_numbers) const { return complex_numbers ? complex_prelude_ : lean_prelude_; }
  void warn_once(const std::string& cause, const std::string& message);
  // Says the worker's deferred warnings, through warn() or (at exit, when the front end may be gone) on stderr.
  void report_deferred_warnings(bool at_exit);
  void background_loop();
  bool worker_is_ours() const;  // false in a process forked after the worker started
  void finish_at_exit();
  std::string vector_library_;  // "-lmvec", "-lsleefgnuabi" or empty
  std::string lean_prelude_, complex_prelude_;
  bool vector_math_chosen_ = false;

  std::recursive_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Module>> modules_;
  std::unordered_map<std::string, std::string> identity_;  // compiler -> its version text and the CPU
  std::unordered_map<std::string, bool> warned_;
  std::unordered_map<std::string, KernelSlot> kernels_;  // (nodes: addresses stay put)
  std::vector<std::pair<std::string, std::string>> deferred_warnings_;  // the worker's: cause, message
  std::atomic<int> compiled_ = 0;
  std::atomic<int> loaded_from_disk_ = 0;
  std::atomic<int> rebuilt_damaged_ = 0;

  struct BackgroundBuild {
    Toolchain toolchain;
    std::string source;
    bool complex_numbers;
    std::function<void(const Module*)> ready;
  };
  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;
  std::deque<BackgroundBuild> queue_;
  bool building_ = false;  // the worker is running a build
  bool stopping_ = false;
  std::thread worker_;
  pid_t worker_process_ = 0;  // the process the worker runs in
};

}  // namespace hypatia
