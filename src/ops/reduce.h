// Reduce: sum, prod, max, min, any, all over a set of axes (the axes are removed; keepdims is a
// DimShuffle on top).
#pragma once
#include <optional>
#include <vector>

#include "hypatia/graph.h"
#include "hypatia/reduce.h"

namespace hypatia {

enum class ReduceKind : uint8_t { Sum, Prod, Max, Min, Any, All };

class Reduce : public Op {
 public:
  // `initial` (max and min only, NumPy's initial=): a value the result also compares against, and
  // the result of an empty reduction (which otherwise has no identity and is an error).
  Reduce(ReduceKind kind, std::vector<int> axes, std::optional<double> initial = std::nullopt)
      : kind_(kind), axes_(std::move(axes)), initial_(initial) {}
  ReduceKind kind() const { return kind_; }
  const std::vector<int>& axes() const { return axes_; }
  const std::optional<double>& initial() const { return initial_; }

  std::string name() const override;
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override;

 private:
  ReduceKind kind_;
  std::vector<int> axes_;  // sorted, unique
  std::optional<double> initial_;
};

// The output dtype NumPy gives: sums and products of bools and signed integers widen to int64, of
// unsigned integers to uint64.
DType reduce_output_dtype(ReduceKind kind, DType input);
// Builds Reduce and, with keepdims, puts the reduced axes back as size 1.
Variable reduce(ReduceKind kind, const Operand& x, const Axes& axes, bool keepdims,
               std::optional<double> initial = std::nullopt);
// g (shaped like a reduction of x over `axes`, without keepdims) with those axes re-inserted as size 1.
Variable restore_reduced_axes(const Variable& g, int input_ndim, const std::vector<int>& axes);

// argmax / argmin of an ArgReduce op (src/ops/arg_reduce.cpp): the index of the extreme along one axis,
// the first on ties, a NaN winning (NumPy's rule); nullopt for other ops.
struct ArgReduceSpec {
  bool is_max;
  int axis;
};
std::optional<ArgReduceSpec> arg_reduce_of(const Op& op);

// cumsum / cumprod of a CumOp (src/ops/extra_ops.cpp): running sums or products along one axis in the
// output's dtype; nullopt for other ops.
struct CumulativeSpec {
  bool product;
  int axis;
};
std::optional<CumulativeSpec> cumulative_of(const Op& op);

// argsort (stable, NaN last), take_along_axis and its scatter-add inc_along_axis (src/ops/extra_ops.cpp;
// sort is the first two), and searchsorted without a sorter (src/ops/search_ops.cpp; `right`: the side):
// the op and its axis; nullopt for other ops.
enum class SortFamily : uint8_t { ArgSort, TakeAlongAxis, IncAlongAxis, SearchSorted };
struct SortFamilySpec {
  SortFamily op;
  int axis;
  bool right = false;
};
std::optional<SortFamilySpec> sort_family_of(const Op& op);
std::optional<bool> searchsorted_side_of(const Op& op);  // (right?) nullopt for other ops

}  // namespace hypatia
