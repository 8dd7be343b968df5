// What a random draw node computes, for backends that draw with their own kernels: standard uniform and
// normal draws (inputs: the Philox state [key, counter], then one int scalar per dimension; outputs: the
// advanced state and the sample), drawn exactly as random::Generator draws them on the CPU.
#pragma once
#include <optional>

#include "hypatia/graph.h"

namespace hypatia {

struct StandardDraw {
  bool normal;  // else uniform in [0, 1)
  DType dtype;
  int ndim;
};
// nullopt for other ops and other distributions.
std::optional<StandardDraw> standard_draw_of(const Op& op);

}  // namespace hypatia
