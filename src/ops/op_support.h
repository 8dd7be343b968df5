// Small helpers shared by the op families.
#pragma once
#include <algorithm>
#include <cstdint>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "hypatia/elemwise.h"
#include "hypatia/graph.h"

namespace hypatia {

// "float64(3, 4), float64(?,)": the inputs' types or runtime shapes and dtypes, for error messages.
inline std::string shapes_str(const std::vector<Variable>& inputs) {
  std::string result;
  for (size_t i = 0; i < inputs.size(); ++i) result += (i ? ", " : "") + inputs[i].type().str();
  return result;
}
inline std::string shapes_str(std::span<const Array> inputs) {
  std::string result;
  for (size_t i = 0; i < inputs.size(); ++i) result += (i ? ", " : "") + inputs[i].shape_dtype_str();
  return result;
}

// perform() at compile time (constant folding; what a program computes once): the outputs, or nullopt
// where it raises an Error (the call raises it again, naming where the node was built) or runs out of
// memory.
inline std::optional<std::vector<Array>> perform_at_compile_time(const Apply& node, std::span<const Array> inputs) {
  std::vector<Array> outputs(node.num_outputs());
  try {
    node.op().perform(node, inputs, outputs);
  } catch (const Error&) {
    return std::nullopt;
  } catch (const std::bad_alloc&) {
    return std::nullopt;
  }
  return outputs;
}

// Theano computed float16 in float32 on the CPU. An op whose kernel is written for float32 and float64
// (and reads its dtypes from the arrays, not from the node) runs its float16 nodes through this: float32
// copies in, its float16 outputs stored back as half. Returns whether it ran (there was a float16 input).
inline bool perform_float16_in_float32(const Op& op, const Apply& node, std::span<const Array> inputs,
                                       std::span<Array> outputs) {
  bool any_half = false;
  std::vector<Array> wide;
  for (const Array& input : inputs) {
    any_half = any_half || input.dtype() == DType::Float16;
    wide.push_back(input.dtype() == DType::Float16 ? input.astype(DType::Float32) : input);
  }
  if (!any_half) return false;
  std::vector<Array> results(outputs.size());
  op.perform(node, wide, results);
  for (size_t k = 0; k < outputs.size(); ++k)
    outputs[k] = node.output(k).dtype() == DType::Float16 ? results[k].astype(DType::Float16) : std::move(results[k]);
  return true;
}

// Theano's gradient for the complex inputs of a holomorphic op is conj(pullback(conj(gz))), where
// pullback is the real-number one (the reasoning is in scalar_ops.def).
template <class Pullback>
std::vector<Variable> holomorphic_pullback(const Apply& node, const Variable& gz, Pullback pullback) {
  if (!is_complex(node.output(0).dtype())) return pullback(gz);
  std::vector<Variable> grads = pullback(conj(gz));
  for (Variable& g : grads)
    if (g) g = conj(g);
  return grads;
}

// v is zero everywhere by construction (a zero constant, or zeros broadcast, cast, negated or reshaped):
// what grad hands an op for the outputs nothing depends on (rewrite/passes/zeros.cpp).
// The op of type OpType that computes `v`, or null.
template <class OpType> const OpType* produced_by(const Variable& v) {
  const auto owner = v.owner();
  return owner ? dynamic_cast<const OpType*>(&owner->op()) : nullptr;
}

bool is_known_zero(const Variable& v);

// d where `v` is zeros with d added on the main diagonal of its last two axes (a batch of diagonal
// matrices, as diagonal()'s gradient builds them); null otherwise.
Variable diagonal_matrix_values(const Variable& v);
// Whether `d` is diagonal(x) over x's last two axes.
bool is_main_diagonal_of(const Variable& d, const Variable& x);

// The permutation of `ndim` axes that moves `axes` (normalized, distinct) last, in their order, and the
// permutation that moves them back.
inline std::vector<int> axes_moved_last(const std::vector<int>& axes, int ndim) {
  std::vector<int> order;
  for (int a = 0; a < ndim; ++a)
    if (std::find(axes.begin(), axes.end(), a) == axes.end()) order.push_back(a);
  order.insert(order.end(), axes.begin(), axes.end());
  return order;
}
inline std::vector<int> inverse_permutation(const std::vector<int>& order) {
  std::vector<int> back(order.size());
  for (size_t k = 0; k < order.size(); ++k) back[order[k]] = static_cast<int>(k);
  return back;
}

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
