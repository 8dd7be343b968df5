// The mode of the function running on this thread, for ops that run inner graphs (scan, ifelse): they
// compile and run those in the same mode, so the unoptimized oracle stays unoptimized all the way down.
#pragma once
#include "hypatia/function.h"

namespace hypatia {

Mode current_mode();  // FastRun when no function is running

class ModeScope {
 public:
  explicit ModeScope(Mode mode);
  ~ModeScope();
  ModeScope(const ModeScope&) = delete;
  ModeScope& operator=(const ModeScope&) = delete;

 private:
  Mode previous_;
};

}  // namespace hypatia
