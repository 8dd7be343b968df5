// Lazy branches (Theano's ifelse): only the branch the condition picks is computed. `where` (switch)
// stays elementwise and computes both sides.
#pragma once
#include <source_location>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// then_branch[k] when the scalar `condition` is nonzero, else else_branch[k]; the branches pair up
// output by output (same dtype and number of dimensions). Under grad, gradients flow to the branch taken.
std::vector<Variable> ifelse(const Operand& condition, const std::vector<Variable>& then_branch,
                             const std::vector<Variable>& else_branch,
                             std::source_location where = std::source_location::current());
// One output; a number in one branch takes the other branch's dtype.
Variable ifelse(const Operand& condition, const Operand& then_branch, const Operand& else_branch,
                std::source_location where = std::source_location::current());

}  // namespace hypatia
