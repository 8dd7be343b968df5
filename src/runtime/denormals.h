// Flushing subnormal floats to zero for the length of a call (config().flush_denormals).
#pragma once

namespace hypatia {

// Sets the calling thread's floating-point mode to flush subnormals (or not) until destroyed, and that of
// the OpenMP threads it hands kernels to; restores both (on several threads, a flushing call so costs two
// OpenMP regions). A scope opened while another is open on the
// thread (a loop's step function inside the function that runs the loop) keeps the outer one's mode.
// OpenBLAS runs on the calling thread (ops/blas.cpp: its own workers would not take the caller's mode).
class DenormalScope {
 public:
  explicit DenormalScope(bool flush);
  ~DenormalScope();
  DenormalScope(const DenormalScope&) = delete;
  DenormalScope& operator=(const DenormalScope&) = delete;

 private:
  unsigned long saved_ = 0;
  bool outermost_ = false, flush_ = false, changed_ = false, team_changed_ = false;
};

// Whether the calling thread flushes subnormals now (both as operands and as results).
bool flushing_denormals();

// Whether this CPU has a flush-to-zero mode Hypatia can set (x86-64, AArch64).
bool can_flush_denormals();

}  // namespace hypatia
