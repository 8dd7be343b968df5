// Reductions over all axes, one axis or several, with keepdims.
#pragma once
#include <optional>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// Which axes to reduce: none given means all; negative axes count from the end.
class Axes {
 public:
  Axes() = default;
  Axes(int axis) : axes_(std::vector<int>{axis}) {}
  Axes(std::initializer_list<int> axes) : axes_(std::vector<int>(axes)) {}
  Axes(std::vector<int> axes) : axes_(std::move(axes)) {}
  bool all() const { return !axes_.has_value(); }
  // Sorted, unique, non-negative axes for a tensor of `ndim` dimensions (throws ValueError).
  std::vector<int> resolve(int ndim, const char* op_name) const;

 private:
  std::optional<std::vector<int>> axes_;
};

Variable sum(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable prod(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable max(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable min(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable any(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable all(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable mean(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable var(const Operand& x, Axes axes = {}, bool keepdims = false, int ddof = 0);
Variable std(const Operand& x, Axes axes = {}, bool keepdims = false, int ddof = 0);
// Index of the extreme over one axis, or over the flattened tensor when axis is not given.
Variable argmax(const Operand& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Variable argmin(const Operand& x, std::optional<int> axis = std::nullopt, bool keepdims = false);

}  // namespace hypatia
