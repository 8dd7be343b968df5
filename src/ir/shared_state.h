// The lock around shared variables' values.
#pragma once
#include <mutex>

namespace hypatia {

// Shared values are read and replaced under this lock: a function that updates shared variables holds
// it for its whole run, so calls from several threads apply their updates one call at a time (as
// Theano's calls under the GIL did), and readers never see a value being replaced. Recursive, so a
// function may run inside another (scan's inner functions).
std::recursive_mutex& shared_state_mutex();

}  // namespace hypatia
