// Settings of the compiler and runtime. They start from the environment variable HYPATIA_FLAGS
// ("compiledir=/tmp/k,cxx=g++-12,openmp_threads=1"; the Python front end reads the same string) and
// may be changed through config() before functions are built.
#pragma once
#include <optional>
#include <string>

namespace hypatia {

struct Config {
  // Where generated kernels are cached: $XDG_CACHE_HOME/hypatia, else ~/.cache/hypatia.
  std::string compiledir;
  // The C++ compiler for generated kernels; empty when none is found, and then every function runs
  // on the precompiled kernels (with one warning).
  std::string cxx;
  // Threads of generated kernels' parallel loops; 0 means one per core. Starts from OMP_NUM_THREADS.
  int openmp_threads = 0;
  // Where functions run unless FunctionOptions::device says otherwise (HYPATIA_FLAGS=device=...).
  std::string device = "cpu";
  // A function whose kernels are in no cache runs its first calls on a quick (-O0) build of them while the
  // optimized build compiles in the background; both give the same values (a NaN's sign and payload aside).
  // Off: compiling waits for the optimized build (HYPATIA_FLAGS=tiered_compilation=0).
  bool tiered_compilation = true;
  // Calls run with subnormal floats flushed to zero, as inputs and as results (x86's FTZ and DAZ modes,
  // AArch64's FZ), on the calling thread and the threads it hands work to. Off by default: NumPy's and
  // Theano's values. On, as JAX and TensorFlow run: a loop whose gradients fade into subnormals stays at
  // full speed (they cost ~100x per operation). Read when a function is built (HYPATIA_FLAGS=flush_denormals=1).
  bool flush_denormals = false;
};

// The on/off settings by name ("tiered_compilation", "flush_denormals"), for the flag parsers.
bool* config_switch(Config& config, const std::string& name);

// The process's settings (initialized from HYPATIA_FLAGS on first use). Not synchronized: change them
// before building functions from several threads.
Config& config();

// An on/off setting's value: "1", "true" or "True" is on, "0", "false" or "False" off; anything else is none.
std::optional<bool> parse_switch(const std::string& text);

// The threads CPU kernels use: openmp_threads, or one per core.
int cpu_threads();

}  // namespace hypatia
