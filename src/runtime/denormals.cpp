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

bool flushes(unsigned long mode) { return (mode & kFlushBits) == kFlushBits; }
unsigned long with_flush(unsigned long mode, bool flush) { return flush ? mode | kFlushBits : mode & ~kFlushBits; }

// The mode this thread's OpenMP team was last given: -1 unknown (a team made while its creator flushed
// inherits that), 0 or 1. And how many scopes are open on this thread.
thread_local int team_flushes = -1;
thread_local int open_scopes = 0;

void set_team_mode(bool flush) {
  const int threads = cpu_threads();
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      write_mode(with_flush(read_mode(), flush));
    }
  }
  team_flushes = flush;
}

}  // namespace

bool can_flush_denormals() { return kFlushBits != 0; }

bool flushing_denormals() { return kFlushBits != 0 && flushes(read_mode()); }

DenormalScope::DenormalScope(bool flush) {
  if (kFlushBits == 0 || open_scopes++ > 0) return;  // (nested: the outer scope's mode holds)
  outermost_ = true;
  flush_ = flush;
  const unsigned long mode = read_mode();
  saved_ = mode;
  // Exactly both bits, or neither: a caller with only FTZ or only DAZ set gets the setting's mode too.
  if (mode != with_flush(mode, flush)) {
    write_mode(with_flush(mode, flush));
    changed_ = true;
  }
  if (team_flushes != static_cast<int>(flush)) {
    set_team_mode(flush);
    team_changed_ = true;
  }
}

DenormalScope::~DenormalScope() {
  if (!outermost_) {
    if (kFlushBits != 0) --open_scopes;
    return;
  }
  --open_scopes;
  if (changed_) write_mode(saved_);
  // The threads go back to the caller's mode, so the caller's own parallel code after the call runs as before.
  if (team_changed_ && flushes(saved_) != flush_) set_team_mode(flushes(saved_));
}

}  // namespace hypatia
