// The scan builder behind scan(), map() and reduce(), for the library's own loops (gradients of scan).
#pragma once
#include <vector>

#include "hypatia/scan.h"

namespace hypatia {

// last_only[r]: the r-th output with an initial value (fed back) is returned at its last step only, and
// the loop keeps only the rows its taps need.
ScanResult build_scan(const ScanFunction& fn, const std::vector<Sequence>& sequences,
                      const std::vector<OutputInfo>& outputs_info, const std::vector<Variable>& non_sequences,
                      const ScanOptions& options, const std::vector<bool>& last_only, CodeLocation where);

}  // namespace hypatia
