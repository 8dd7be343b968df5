// Flushing subnormal floats to zero for the length of a call (config().flush_denormals).
#pragma once

namespace hypatia {

// Sets the calling thread's floating-point mode to flush subnormals (or not) until destroyed, and the
// OpenMP threads this thread hands kernels to (they keep the last call's mode). OpenBLAS runs on the
// calling thread (ops/blas.cpp: its own workers would not take the caller's mode).
// Nested scopes that want the mode already set cost one register read.
class DenormalScope {
 public:
  explicit DenormalScope(bool flush);
  ~DenormalScope();
  DenormalScope(const DenormalScope&) = delete;
  DenormalScope& operator=(const DenormalScope&) = delete;

 private:
  unsigned long saved_ = 0;
  bool changed_ = false;
};

// Whether this CPU has a flush-to-zero mode Hypatia can set (x86-64, AArch64).
bool can_flush_denormals();

}  // namespace hypatia
