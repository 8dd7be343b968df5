#include "runtime/denormals.h"

#include "hypatia/config.h"

namespace hypatia {
namespace {

// The mode register and the bits that flush: MXCSR's FTZ (results) and DAZ (operands); FPCR's FZ (both).
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned long kFlushBits = 0x8040;
unsigned long read_mode() {
  unsigned int csr;
  __asm__ volatile("stmxcsr %0" : "=m"(csr));
  return csr;
}
void write_mode(unsigned long mode) {
  unsigned int csr = static_cast<unsigned int>(mode);
  __asm__ volatile("ldmxcsr %0" : : "m"(csr));
}
#elif defined(__aarch64__)
constexpr unsigned long kFlushBits = 1ul << 24;
unsigned long read_mode() {
  unsigned long fpcr;
  __asm__ volatile("mrs %0, fpcr" : "=r"(fpcr));
  return fpcr;
}
void write_mode(unsigned long mode) { __asm__ volatile("msr fpcr, %0" : : "r"(mode)); }
#else
constexpr unsigned long kFlushBits = 0;
unsigned long read_mode() { return 0; }
void write_mode(unsigned long) {}
#endif

// The mode this thread's OpenMP team was last given: -1 unknown (as the process started: not flushing,
// but a team made while flushing inherits the creator's mode), 0 or 1.
thread_local int team_flushes = -1;

void set_team_mode(bool flush) {
  if (team_flushes == static_cast<int>(flush)) return;
  const int threads = cpu_threads();
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      const unsigned long mode = read_mode();
      write_mode(flush ? mode | kFlushBits : mode & ~kFlushBits);
    }
  }
  team_flushes = flush;
}

}  // namespace

bool can_flush_denormals() { return kFlushBits != 0; }

DenormalScope::DenormalScope(bool flush) {
  if (kFlushBits == 0) return;
  const unsigned long mode = read_mode();
  if (((mode & kFlushBits) == kFlushBits) == flush) {
    // The caller's mode is right. A thread that never flushed has teams that never did.
    if (flush || team_flushes == 1) set_team_mode(flush);
    return;
  }
  saved_ = mode;
  changed_ = true;
  write_mode(flush ? mode | kFlushBits : mode & ~kFlushBits);
  set_team_mode(flush);
}

DenormalScope::~DenormalScope() {
  if (changed_) write_mode(saved_);
}

}  // namespace hypatia
