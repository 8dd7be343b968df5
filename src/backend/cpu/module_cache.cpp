#include "backend/cpu/module_cache.h"

#include <dlfcn.h>
#include <pthread.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <vector>

#include "codegen/cpu_source.h"
#include "scalar/scalar_math.h"
#include "hypatia/config.h"
#include "hypatia/error.h"

extern char** environ;

namespace hypatia {
namespace {

// The cache folder as an absolute path: the compiler runs with its own working directory in mind, and
// later loads happen wherever the process has moved to, so a relative compiledir ("build/cache") must not
// reach them.
std::string cache_dir(const std::string& dir) {
  if (dir.empty() || dir[0] == '/') return dir + "/cpu";
  char here[4096];
  if (!getcwd(here, sizeof here)) return dir + "/cpu";
  return std::string(here) + "/" + dir + "/cpu";
}


// No contraction into fused multiply-adds: generated kernels round like the reference, op by op. Hidden
// symbols: a module's calls bind to its own helpers, never to same-named ones of libhypatia (compiled with
// other flags), and the kernels it exports say so (HYPATIA_EXPORT).
constexpr const char* kFlags[] = {"-march=native", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off",
                                  "-fvisibility=hidden", "-fPIC", "-shared", "-std=c++20", "-w"};

// Runs argv (a program on PATH or a path) with stdout and stderr into `output`; returns the exit status
// (-1 when it could not start).
int run_command(const std::vector<std::string>& argv, std::string* output) {
  int pipe_fds[2];
  // Close-on-exec: a process another thread forks meanwhile must not keep the pipe open (the read
  // below would then wait for that process to end). dup2 in the child clears the flag on stdout/stderr.
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addclose(&actions, pipe_fds[0]);
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(pipe_fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(pipe_fds[0], buffer, sizeof buffer)) != 0;) {
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    text.append(buffer, static_cast<size_t>(n));
  }
  close(pipe_fds[0]);
  if (output) *output = text;
  if (spawned != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// What -march=native means here: the CPU's model and feature flags.
std::string cpu_identity() {
  std::stringstream cpuinfo(read_file("/proc/cpuinfo"));
  std::string identity;
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0 || line.rfind("flags", 0) == 0) identity += line + "\n";
    if (line.empty() && !identity.empty()) break;  // the first processor is enough
  }
  return identity;
}

// Creates the cache directory and checks it is this user's own and not writable by others: the
// shared objects in it are loaded into the process.
bool make_directories(const std::string& path, std::string& why) {
  for (size_t at = 1; at != std::string::npos;) {
    at = path.find('/', at + 1);
    const std::string prefix = path.substr(0, at);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      why = "cannot create the kernel cache directory " + path + ": " + std::strerror(errno);
      return false;
    }
  }
  struct stat info {};
  if (stat(path.c_str(), &info) != 0 || info.st_uid != getuid() || (info.st_mode & (S_IWGRP | S_IWOTH))) {
    why = "the kernel cache directory " + path + " is not this user's own, or others may write to it";
    return false;
  }
  return true;
}

// A fresh temporary name beside `path`, created exclusively (no two writers share one).
std::string temporary_beside(const std::string& path) {
  std::string pattern = path + ".tmp.XXXXXX";
  const int fd = mkstemp(pattern.data());
  if (fd < 0) return "";
  close(fd);
  return pattern;
}

// Writes `text` to `path` through a temporary file and a rename, so readers never see half of it.
bool write_atomically(const std::string& path, const std::string& text) {
  const std::string temporary = temporary_beside(path);
  if (temporary.empty()) return false;
  {
    std::ofstream out(temporary, std::ios::binary);
    out << text;
    if (!out.flush()) {
      std::remove(temporary.c_str());
      return false;
    }
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return false;
  }
  return true;
}

// Every cached module ends with a trailer after its ELF image: a magic word, the image's size and a hash
// of it. dlopen maps a file cut short (a full disk, a killed writer) and the process dies of SIGBUS on
// the first page past its end, so the trailer is checked before the file is loaded. The loader ignores
// bytes past the segments it maps.
constexpr char kTrailerMagic[8] = {'H', 'Y', 'P', 'M', 'O', 'D', '0', '1'};
constexpr size_t kTrailerSize = 24;

uint64_t image_hash(const char* data, size_t size) {
  uint64_t h = 0x9e3779b97f4a7c15ull ^ size;
  size_t at = 0;
  for (; at + 8 <= size; at += 8) {
    uint64_t word;
    std::memcpy(&word, data + at, 8);
    h = (h ^ word) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  for (; at < size; ++at) h = (h ^ static_cast<unsigned char>(data[at])) * 0x100000001b3ull;
  return h;
}

std::string trailer_for(const std::string& image) {
  std::string trailer(kTrailerMagic, sizeof kTrailerMagic);
  const uint64_t size = image.size(), hash = image_hash(image.data(), image.size());
  trailer.append(reinterpret_cast<const char*>(&size), 8);
  trailer.append(reinterpret_cast<const char*>(&hash), 8);
  return trailer;
}

// Empty when `path` holds a whole module with its trailer; otherwise why not.
std::string check_module_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string("cannot open it: ") + std::strerror(errno);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() < kTrailerSize || bytes.compare(bytes.size() - kTrailerSize, 8, kTrailerMagic, 8) != 0)
    return "it is cut short or has no integrity trailer (" + std::to_string(bytes.size()) + " bytes)";
  uint64_t size = 0, hash = 0;
  std::memcpy(&size, bytes.data() + bytes.size() - 16, 8);
  std::memcpy(&hash, bytes.data() + bytes.size() - 8, 8);
  if (size != bytes.size() - kTrailerSize)
    return "it holds " + std::to_string(bytes.size() - kTrailerSize) + " bytes where " + std::to_string(size) + " were written";
  if (hash != image_hash(bytes.data(), size)) return "its contents do not match the hash written with it";
  return "";
}

std::string last_lines(const std::string& text, int count) {
  size_t at = text.size();
  for (int lines = 0; lines <= count && at != std::string::npos && at > 0; ++lines) at = text.rfind('\n', at - 1);
  return at == std::string::npos || at >= text.size() ? text : text.substr(at + 1);
}

// Appends the integrity trailer to a freshly compiled module and flushes it to disk before the rename
// publishes it, so a crash leaves either no entry or a whole one.
bool append_trailer(const std::string& path) {
  std::string image;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    image.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  const std::string trailer = trailer_for(image);
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return false;
  const bool written = write(fd, trailer.data(), trailer.size()) == static_cast<ssize_t>(trailer.size()) && fsync(fd) == 0;
  close(fd);
  return written;
}

}  // namespace

void* Module::symbol(const std::string& name) const { return dlsym(handle_, name.c_str()); }

ModuleCache& ModuleCache::instance() {
  // Never destroyed (kernels stay loaded until exit), but its background builds finish before exit: the
  // next process finds their modules on disk. A fork happens with both locks free, so the child can use
  // the cache (without the worker, which the child does not have).
  static ModuleCache* cache = [] {
    auto* made = new ModuleCache();
    std::atexit([] { ModuleCache::instance().finish_at_exit(); });
    pthread_atfork([] {
      ModuleCache::instance().mutex_.lock();
      ModuleCache::instance().queue_mutex_.lock();
    }, [] {
      ModuleCache::instance().queue_mutex_.unlock();
      ModuleCache::instance().mutex_.unlock();
    }, [] {
      ModuleCache::instance().queue_mutex_.unlock();
      ModuleCache::instance().mutex_.unlock();
    });
    return made;
  }();
  return *cache;
}

std::vector<std::string> ModuleCache::compile_arguments(Optimization level) {
  std::vector<std::string> arguments(std::begin(kFlags), std::end(kFlags));
  if (level == Optimization::Full) {
    // -O2 with the dynamic vectorizer cost model vectorizes the loops as -O3 does, at 60% of its compile time.
    arguments.insert(arguments.end(), {"-O2", "-fvect-cost-model=dynamic", "-fopenmp"});
  } else {
    // A quick build compiles each loop's general form only (cpu_source.cpp), on one thread: without OpenMP it
    // compiles and links a quarter faster, and the values are the same (threads split a loop's elements, or
    // a reduction's whole rows, never a sum).
    arguments.insert(arguments.end(), {"-O0", "-DHYPATIA_QUICK_BUILD"});
  }
  return arguments;
}

const char* ModuleCache::compile_flags() {
  static const std::string flags = [] {
    std::string text;
    for (const std::string& flag : compile_arguments(Optimization::Full)) text += (text.empty() ? "" : " ") + flag;
    return text;
  }();
  return flags.c_str();
}

void KernelSlot::publish(void* function, Optimization level) {
  if (!function || (level == Optimization::Quick && optimized.load(std::memory_order_acquire))) return;
  address.store(function, std::memory_order_release);
  if (level == Optimization::Full) optimized.store(true, std::memory_order_release);
}

const std::string& ModuleCache::compiler_identity(const std::string& cxx) {
  auto it = identity_.find(cxx);
  if (it != identity_.end()) return it->second;
  std::string version;
  if (run_command({cxx, "--version"}, &version) != 0) version = "unknown compiler";
  return identity_[cxx] = cxx + "\n" + version + cpu_identity();
}

// Vector math: glibc's libmvec (measured 1.5-4x faster than SLEEF 3.5 here on exp, log, tanh, erf),
// else SLEEF's GNU-ABI library; one of them only, since both in one process clash over IFUNC symbols.
// Kernels call one variant per function (cpu_source.cpp's "Block form"): AVX2's where the CPU has it,
// else SSE's; the prelude calls exactly those the chosen library has, and libm for the rest.
void ModuleCache::choose_vector_math(const std::string& cxx) {
  if (vector_math_chosen_) return;
  vector_math_chosen_ = true;
  std::vector<VectorMathFunction> available;
  // The ISAs of x86's vector-function ABI this CPU runs, widest first: per function, the widest the library has.
  // Not AVX-512's ('e'): alone its expf ran 1.5 times as fast as AVX2's, but called from a kernel's loop,
  // logsumexp over rows took twice as long (16.5 ms against 7.8 for 2000x5000 float32, one core).
  std::vector<std::pair<char, int>> isas;  // (letter, bytes)
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) isas.emplace_back('d', 32);
  isas.emplace_back('b', 16);
#endif  // (elsewhere, libm lane by lane)
  for (const auto& [link, soname] : {std::pair<const char*, const char*>{"-lmvec", "libmvec.so.1"},
                                     std::pair<const char*, const char*>{"-lsleefgnuabi", "libsleefgnuabi.so.3"}}) {
    if (isas.empty()) break;
    std::string path;
    const std::string file = std::string("lib") + (link + 2) + ".so";
    if (run_command({cxx, "-print-file-name=" + file}, &path) != 0 || path.find('/') == std::string::npos) continue;
    void* library = dlopen(soname, RTLD_LAZY | RTLD_LOCAL);
    if (!library) continue;
    for (const std::string& name : block_math_functions()) {
      const std::string v = math_function_arity(name) == 2 ? "vv_" : "v_";
      for (const auto& [isa, bytes] : isas) {
        const std::string prefix = std::string("_ZGV") + isa + "N";
        if (dlsym(library, (prefix + std::to_string(bytes / 8) + v + name).c_str()) &&
            dlsym(library, (prefix + std::to_string(bytes / 4) + v + name + "f").c_str())) {
          available.push_back({name, isa});
          break;
        }
      }
    }
    dlclose(library);
    vector_library_ = link;
    break;
  }
  lean_prelude_ = cpu_module_prelude(available, false);
  complex_prelude_ = cpu_module_prelude(available, true);
}

ModuleCache::Toolchain ModuleCache::Toolchain::current() { return {config().cxx, cache_dir(config().compiledir)}; }

std::string ModuleCache::key(const std::string& source, bool complex_numbers, Optimization level) {
  return key(Toolchain::current(), source, complex_numbers, level);
}

std::string ModuleCache::key(const Toolchain& toolchain, const std::string& source, bool complex_numbers, Optimization level) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  choose_vector_math(toolchain.cxx);
  // The format tag changes with the layout of cached files (format 2: the integrity trailer).
  std::string build = "module format 2\n";
  for (const std::string& argument : compile_arguments(level)) build += argument + " ";
  return hex64(stable_hash(source, stable_hash(prelude(complex_numbers), stable_hash(build + compiler_identity(toolchain.cxx) + vector_library_))));
}

KernelSlot& ModuleCache::kernel(const std::string& name) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  return kernels_[name];
}

std::string ModuleCache::object_path(const std::string& key) const { return object_path(Toolchain::current(), key); }

std::string ModuleCache::object_path(const Toolchain& toolchain, const std::string& key) {
  return toolchain.dir + "/" + key + ".so";
}

std::optional<Module> ModuleCache::open(const std::string& key, const std::string& path, std::string& why) {
  // Idle OpenMP threads that spin would take the cores from OpenBLAS's threads between kernels; unless
  // the user chose otherwise, they sleep (read when libgomp loads with the first module).
  setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0);
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* error = dlerror();  // read once: a second call returns null
    why = error ? error : "unknown error";
    return std::nullopt;
  }
  // A loadable file that is not the module for this key (a stray or damaged entry) does not count.
  const char* stored_key = static_cast<const char*>(dlsym(handle, "hypatia_module_key"));
  if (!stored_key || key != stored_key) {
    why = "the file does not hold the module for key " + key;
    dlclose(handle);
    return std::nullopt;
  }
  // The module's kernels reach the special functions through this table (scalar_math.h); the prelude
  // defines it in every module.
  auto* slot = static_cast<const scalar_math::SpecialFunctions**>(dlsym(handle, "hypatia_special_functions"));
  if (!slot) {
    why = "the module has no table of special functions";
    dlclose(handle);
    return std::nullopt;
  }
  *slot = &scalar_math::special();
  return Module(handle, path);
}

namespace {
thread_local bool on_background_worker = false;
}  // namespace

void ModuleCache::warn_once(const std::string& cause, const std::string& message) {
  // The worker's warnings wait for a thread that may call into the front end's warning handler.
  if (on_background_worker) {
    deferred_warnings_.emplace_back(cause, message);
    return;
  }
  if (warned_[cause]) return;
  warned_[cause] = true;
  warn(message);
}

const Module* ModuleCache::find_locked(const Toolchain& toolchain, const std::string& module_key) {
  auto it = modules_.find(module_key);
  if (it != modules_.end()) return it->second.get();
  // A cached entry is checked whole before it is mapped (build() loads what it just wrote unchecked).
  const std::string path = object_path(toolchain, module_key);
  if (access(path.c_str(), F_OK) != 0) return nullptr;
  if (std::string damage = check_module_file(path); !damage.empty()) {
    ++rebuilt_damaged_;
    warn_once("damaged entry", "[codegen] the cached kernel module " + path + " is damaged (" + damage + "); rebuilding it");
    return nullptr;
  }
  std::string why;
  auto module = open(module_key, path, why);
  if (!module) return nullptr;
  ++loaded_from_disk_;
  return modules_.emplace(module_key, std::make_unique<Module>(*module)).first->second.get();
}

void ModuleCache::report_deferred_warnings(bool at_exit) {
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (on_background_worker) return;
  const auto deferred = std::move(deferred_warnings_);
  deferred_warnings_.clear();
  for (const auto& [cause, message] : deferred) {
    if (!at_exit) warn_once(cause, message);
    else if (!warned_[cause]) std::fprintf(stderr, "hypatia: warning: %s\n", message.c_str());
  }
}

const Module* ModuleCache::find(const std::string& source, bool complex_numbers, Optimization level) {
  report_deferred_warnings(false);
  const Toolchain toolchain = Toolchain::current();
  std::lock_guard<std::recursive_mutex> lock(mutex_);
  if (toolchain.cxx.empty()) return nullptr;
  std::string why;
  if (!make_directories(toolchain.dir, why)) return nullptr;
  return find_locked(toolchain, key(toolchain, source, complex_numbers, level));
}

const Module* ModuleCache::load(const std::string& source, bool complex_numbers, Optimization level) {
  return load(Toolchain::current(), source, complex_numbers, level);
}

const Module* ModuleCache::load(const Toolchain& toolchain, const std::string& source, bool complex_numbers,
                                Optimization level) {
  report_deferred_warnings(false);
  std::unique_lock<std::recursive_mutex> lock(mutex_);
  if (toolchain.cxx.empty()) {
    warn_once("no compiler", "[codegen] no C++ compiler found (set CXX or HYPATIA_FLAGS=cxx=...): functions run on "
                             "precompiled kernels, which are slower");
    return nullptr;
  }
  // Nothing is loaded from a directory someone else could have written to.
  std::string why;
  if (!make_directories(toolchain.dir, why)) {
    warn_once(why, "[codegen] " + why + "; functions run on precompiled kernels instead, which are slower");
    return nullptr;
  }
  const std::string module_key = key(toolchain, source, complex_numbers, level);
  if (const Module* found = find_locked(toolchain, module_key)) return found;
  const std::string& text = prelude(complex_numbers);
  lock.unlock();  // compiling takes a second: other threads may load and find meanwhile
  std::optional<Module> module = build(toolchain, module_key, source, text, level, why);
  lock.lock();
  if (!module) {
    // A background build whose cache folder was removed meanwhile (a test's scratch folder) is not missed.
    if (on_background_worker && access(toolchain.dir.c_str(), F_OK) != 0) return nullptr;
    warn_once(module_key, "[codegen] " + why + "; the function runs on precompiled kernels instead, which are slower");
    return nullptr;
  }
  ++compiled_;
  auto [it, inserted] = modules_.emplace(module_key, std::make_unique<Module>(*module));
  return it->second.get();  // (another thread's build of the same key may have landed first: both are equal)
}

std::optional<Module> ModuleCache::build(const Toolchain& toolchain, const std::string& key, const std::string& source,
                                         const std::string& prelude, Optimization level, std::string& why) {
  const std::string& dir = toolchain.dir;
  const std::string source_path = dir + "/" + key + ".cpp", object = object_path(toolchain, key);
  // The prelude is written into each source, not precompiled: lean, it parses in less time than
  // loading a precompiled header took, and a first compile no longer pays 1 s to build one.
  const std::string full_source = prelude + source + "\nextern \"C\" HYPATIA_EXPORT const char hypatia_module_key[] = \"" + key + "\";\n";
  if (!write_atomically(source_path, full_source)) {
    why = "cannot write " + source_path;
    return std::nullopt;
  }
  const std::string temporary = temporary_beside(object);
  if (temporary.empty()) {
    why = "cannot create a file in " + dir + ": " + std::strerror(errno);
    return std::nullopt;
  }
  std::vector<std::string> argv{toolchain.cxx};
  for (const std::string& argument : compile_arguments(level)) argv.push_back(argument);
  argv.insert(argv.end(), {"-o", temporary, source_path});
  if (!vector_library_.empty()) argv.push_back(vector_library_);
  std::string log;
  int status = run_command(argv, &log);
  if (status != 0 && level == Optimization::Full) {
    // A compiler without OpenMP still vectorizes: try once more without it.
    for (std::string& arg : argv)
      if (arg == "-fopenmp") arg = "-fopenmp-simd";
    std::string retry_log;
    if (run_command(argv, &retry_log) == 0) status = 0;
  }
  if (status != 0) {
    std::remove(temporary.c_str());
    why = "compiling " + source_path + " failed (" + toolchain.cxx + "):\n" + last_lines(log, 12);
    return std::nullopt;
  }
  if (!append_trailer(temporary)) {
    std::remove(temporary.c_str());
    why = "cannot write " + temporary + ": " + std::strerror(errno);
    return std::nullopt;
  }
  if (std::rename(temporary.c_str(), object.c_str()) != 0) {
    std::remove(temporary.c_str());
    why = "cannot move the compiled kernels into " + object;
    return std::nullopt;
  }
  std::string open_error;
  auto module = open(key, object, open_error);
  if (!module) why = "cannot load " + object + ": " + open_error;
  return module;
}

bool ModuleCache::worker_is_ours() const { return worker_process_ == getpid(); }

void ModuleCache::load_in_background(std::string source, bool complex_numbers, std::function<void(const Module*)> ready) {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (!worker_.joinable()) {
      try {
        worker_ = std::thread([this] { background_loop(); });
        worker_process_ = getpid();
      } catch (const std::system_error&) {
        // no thread to be had: build below
      }
    }
    if (worker_.joinable() && worker_is_ours()) {
      queue_.push_back({Toolchain::current(), std::move(source), complex_numbers, std::move(ready)});
      queue_changed_.notify_all();
      return;
    }
  }
  ready(load(source, complex_numbers, Optimization::Full));
}

void ModuleCache::background_loop() {
  on_background_worker = true;
  std::unique_lock<std::mutex> lock(queue_mutex_);
  for (;;) {
    queue_changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, with nothing left to build
    BackgroundBuild job = std::move(queue_.front());
    queue_.pop_front();
    building_ = true;
    lock.unlock();
    job.ready(load(job.toolchain, job.source, job.complex_numbers, Optimization::Full));
    lock.lock();
    building_ = false;
    queue_changed_.notify_all();
  }
}

void ModuleCache::wait_for_background() {
  {
    std::unique_lock<std::mutex> lock(queue_mutex_);
    if (worker_.joinable() && worker_is_ours()) queue_changed_.wait(lock, [&] { return queue_.empty() && !building_; });
  }
  report_deferred_warnings(false);
}

void ModuleCache::finish_at_exit() {
  {
    std::unique_lock<std::mutex> lock(queue_mutex_);
    if (worker_.joinable() && worker_is_ours()) queue_changed_.wait(lock, [&] { return queue_.empty() && !building_; });
  }
  report_deferred_warnings(true);
}

ModuleCache::~ModuleCache() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
    queue_changed_.notify_all();
  }
  if (worker_.joinable() && worker_is_ours()) worker_.join();
  else if (worker_.joinable()) worker_.detach();  // (a forked child's copy of a thread it does not have)
}

}  // namespace hypatia
