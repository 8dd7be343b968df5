#include "ops/dimshuffle.h"

#include <numeric>

#include "hypatia/sparse.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {

std::string DimShuffle::props() const {
  std::string result = "(";
  for (size_t i = 0; i < pattern_.size(); ++i)
    result += (i ? "," : "") + (pattern_[i] == kNewAxis ? std::string("x") : std::to_string(pattern_[i]));
  return result + ")";
}

std::vector<TensorType> DimShuffle::output_types(const std::vector<Variable>& inputs) const {
  if (inputs.size() != 1) throw TypeError("[dimshuffle] takes one input");
  const TensorType& in = inputs[0].type();
  std::vector<bool> used(in.ndim(), false);
  std::vector<int64_t> shape;
  for (int axis : pattern_) {
    if (axis == kNewAxis) {
      shape.push_back(1);
      continue;
    }
    if (axis < 0 || axis >= in.ndim())
      throw ValueError("[dimshuffle] pattern " + props() + " names axis " + std::to_string(axis) + " of a " +
                       std::to_string(in.ndim()) + "-d input " + in.str());
    if (used[axis]) throw ValueError("[dimshuffle] pattern " + props() + " repeats axis " + std::to_string(axis));
    used[axis] = true;
    shape.push_back(in.shape[axis]);
  }
  for (int axis = 0; axis < in.ndim(); ++axis)
    if (!used[axis] && in.shape[axis] != 1)
      throw ValueError("[dimshuffle] pattern " + props() + " drops axis " + std::to_string(axis) + " of " + in.str() +
                       ", which is not broadcastable (known size 1)");
  return {TensorType(in.dtype, std::move(shape))};
}

void DimShuffle::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  for (int axis = 0; axis < x.ndim(); ++axis)
    if (std::find(pattern_.begin(), pattern_.end(), axis) == pattern_.end() && x.shape()[axis] != 1)
      throw ShapeError("[dimshuffle] drops axis " + std::to_string(axis) + " of an input of shape " + shape_str(x.shape()) +
                       " whose size is not 1");
  Shape shape;
  Strides strides;
  for (int axis : pattern_) {
    shape.push_back(axis == kNewAxis ? 1 : x.shape()[axis]);
    strides.push_back(axis == kNewAxis ? 0 : x.strides()[axis]);
  }
  outputs[0] = x.view_as(shape, strides, x.offset());
}

std::vector<Variable> DimShuffle::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  return r_op_linear_in_first(node, eval_points);
}

std::vector<Variable> DimShuffle::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  Variable g = output_grads[0];
  // Inserted axes are size 1 in the output; sum them so they are statically size 1 in g too.
  std::vector<int> inserted;
  for (size_t p = 0; p < pattern_.size(); ++p)
    if (pattern_[p] == kNewAxis && g.type().shape[p] != 1) inserted.push_back(static_cast<int>(p));
  if (!inserted.empty()) g = sum(g, inserted, /*keepdims=*/true);
  const int in_ndim = node.input(0).ndim();
  std::vector<int> inverse;
  for (int axis = 0; axis < in_ndim; ++axis) {
    auto it = std::find(pattern_.begin(), pattern_.end(), axis);
    inverse.push_back(it == pattern_.end() ? kNewAxis : static_cast<int>(it - pattern_.begin()));
  }
  return {dimshuffle(g, inverse)};
}

std::vector<std::vector<Variable>> DimShuffle::infer_shape(const Apply&,
                                                           const std::vector<std::vector<Variable>>& input_shapes) const {
  std::vector<Variable> dims;
  for (int axis : pattern_) dims.push_back(axis == kNewAxis ? constant(1.0, DType::Int64) : input_shapes[0][axis]);
  return {dims};
}

Variable dimshuffle(const Operand& x, const std::vector<int>& pattern) {
  Variable input = x.as_variable();
  if (input.is_sparse()) {  // a sparse matrix keeps its two axes: only the transpose applies
    if (pattern == std::vector<int>{0, 1}) return input;
    if (pattern == std::vector<int>{1, 0}) return sparse::transpose(x);
    rethrow_with_location(TypeError("[dimshuffle] a sparse matrix (" + input.str() + ": " + input.type().str() +
                                    ") can only be transposed; convert it with dense_from_sparse first"), x.where());
  }
  // The identity pattern needs no node.
  bool identity = static_cast<int>(pattern.size()) == input.ndim();
  for (size_t i = 0; i < pattern.size() && identity; ++i) identity = pattern[i] == static_cast<int>(i);
  if (identity) return input;
  return apply_op1(std::make_shared<DimShuffle>(pattern), {input}, x.where());
}

Variable transpose(const Operand& x) {
  Variable input = x.as_variable();
  std::vector<int> pattern(input.ndim());
  std::iota(pattern.rbegin(), pattern.rend(), 0);
  return dimshuffle(Operand(input, x.where()), pattern);
}

Variable transpose(const Operand& x, const std::vector<int>& axes) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (static_cast<int>(axes.size()) != input.ndim())
      throw ValueError("[transpose] needs " + std::to_string(input.ndim()) + " axes for " + input.type().str() +
                       ", got " + std::to_string(axes.size()));
    std::vector<int> pattern;
    for (int axis : axes) pattern.push_back(normalize_axis(axis, input.ndim(), "transpose"));
    return dimshuffle(Operand(input, x.where()), pattern);
  });
}

Variable expand_dims(const Operand& x, int axis) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    std::vector<int> pattern;
    for (int a = 0; a < input.ndim(); ++a) pattern.push_back(a);
    pattern.insert(pattern.begin() + normalize_axis(axis, input.ndim() + 1, "expand_dims"), kNewAxis);
    return dimshuffle(Operand(input, x.where()), pattern);
  });
}

Variable squeeze(const Operand& x) {
  Variable input = x.as_variable();
  std::vector<int> pattern;
  for (int a = 0; a < input.ndim(); ++a)
    if (input.type().shape[a] != 1) pattern.push_back(a);
  return dimshuffle(Operand(input, x.where()), pattern);
}

Variable squeeze(const Operand& x, const std::vector<int>& axes) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    std::vector<bool> drop(input.ndim(), false);
    for (int axis : axes) drop[normalize_axis(axis, input.ndim(), "squeeze")] = true;
    std::vector<int> pattern;
    for (int a = 0; a < input.ndim(); ++a)
      if (!drop[a]) pattern.push_back(a);
    return dimshuffle(Operand(input, x.where()), pattern);
  });
}

std::string DimShuffle::save() const {
  OpWriter out("dimshuffle");
  out.integers(pattern_);
  return out.bytes();
}

void register_dimshuffle_loaders(OpLoaders& loaders) {
  loaders["dimshuffle"] = [](OpReader& in) -> OpPtr { return std::make_shared<DimShuffle>(in.integers()); };
}
}  // namespace hypatia
