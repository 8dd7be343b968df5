// Small helpers shared by the op families.
#pragma once
#include <algorithm>
#include <cstdint>
#include <optional>

#include "hypatia/graph.h"

namespace hypatia {

// The value of a size-1 constant as an integer, or nullopt when it is only known at run time.
inline std::optional<int64_t> constant_int(const Variable& v) {
  if (v.is_constant() && v.constant_value().size() == 1) return static_cast<int64_t>(v.constant_value().item());
  return std::nullopt;
}

// An integer scalar index or slice bound (size 1) as int64, read exactly. A uint64 past int64's range
// becomes int64's maximum: out of bounds as an index (NumPy refuses it too) and past the end as a bound,
// as in NumPy. (Index arrays wrap to int64 instead, as NumPy's do.)
inline int64_t index_value(const Array& scalar) {
  if (scalar.dtype() == DType::UInt64)
    return static_cast<int64_t>(std::min<uint64_t>(*scalar.data<uint64_t>(), INT64_MAX));
  return *scalar.astype(DType::Int64).data<int64_t>();
}

// x with `axis` moved last, as a contiguous copy of `dtype` (rows of `length`, `count` of them), and the
// permutation that moves an array of such rows back (extra_ops.cpp).
struct AxisLast {
  Array rows;
  std::vector<int> inverse;
  int64_t length, count;
};
AxisLast move_axis_last(const Array& x, int axis, DType dtype);

// r_op of an op linear in its first input whose other inputs (shapes, indices) carry no tangent:
// the op applied to the first input's tangent.
inline std::vector<Variable> r_op_linear_in_first(const Apply& node, const std::vector<Variable>& eval_points) {
  if (eval_points.empty() || !eval_points[0]) return std::vector<Variable>(node.num_outputs());
  std::vector<Variable> inputs = node.inputs();
  inputs[0] = eval_points[0];
  return apply_op(node.op_ptr(), inputs, node.where());
}

}  // namespace hypatia
