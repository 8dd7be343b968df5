// Reduce: sum, prod, max, min, any, all over a set of axes (the axes are removed; keepdims is a
// DimShuffle on top).
#pragma once
#include <vector>

#include "hypatia/graph.h"
#include "hypatia/reduce.h"

namespace hypatia {

enum class ReduceKind : uint8_t { Sum, Prod, Max, Min, Any, All };

class Reduce : public Op {
 public:
  Reduce(ReduceKind kind, std::vector<int> axes) : kind_(kind), axes_(std::move(axes)) {}
  ReduceKind kind() const { return kind_; }
  const std::vector<int>& axes() const { return axes_; }

  std::string name() const override;
  std::string props() const override;
  HYPATIA_OP_METHODS

 private:
  ReduceKind kind_;
  std::vector<int> axes_;  // sorted, unique
};

// The output dtype NumPy gives: sums and products of small integers and bools widen to int64.
DType reduce_output_dtype(ReduceKind kind, DType input);
// Builds Reduce and, with keepdims, puts the reduced axes back as size 1.
Variable reduce(ReduceKind kind, const Operand& x, const Axes& axes, bool keepdims);
// g (shaped like a reduction of x over `axes`, without keepdims) with those axes re-inserted as size 1.
Variable restore_reduced_axes(const Variable& g, int input_ndim, const std::vector<int>& axes);

}  // namespace hypatia
