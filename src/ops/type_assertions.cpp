// Ops that change only what the static type says about a value, never the value: Rebroadcast
// (Theano's addbroadcast / unbroadcast / patternbroadcast), SpecifyShape, and Assert (run-time conditions). Each returns its input
// as a view after checking at run time what it promises.
#include "ops/type_assertions.h"

#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {

namespace {

std::string pattern_str(const std::vector<int8_t>& pattern) {
  std::string text;
  for (size_t axis = 0; axis < pattern.size(); ++axis)
    text += (axis ? "," : "") + std::string(pattern[axis] < 0 ? "keep" : pattern[axis] ? "1" : "?");
  return text;
}

}  // namespace

// ---- Rebroadcast ----

std::string Rebroadcast::props() const { return pattern_str(pattern_); }

std::vector<TensorType> Rebroadcast::output_types(const std::vector<Variable>& inputs) const {
  const Variable& x = inputs.at(0);
  if (static_cast<int>(pattern_.size()) != x.ndim())
    throw TypeError("[rebroadcast] a pattern of " + std::to_string(pattern_.size()) + " axes for " + x.type().str());
  TensorType type = x.type();
  for (size_t axis = 0; axis < pattern_.size(); ++axis) {
    if (pattern_[axis] == 1) {
      if (type.shape[axis] != TensorType::kUnknown && type.shape[axis] != 1)
        throw ShapeError("[addbroadcast] axis " + std::to_string(axis) + " of " + x.type().str() + " has size " +
                         std::to_string(type.shape[axis]) + ", not 1");
      type.shape[axis] = 1;
    } else if (pattern_[axis] == 0 && type.shape[axis] == 1) {
      type.shape[axis] = TensorType::kUnknown;
    }
  }
  return {type};
}

void Rebroadcast::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  for (size_t axis = 0; axis < pattern_.size(); ++axis)
    if (pattern_[axis] == 1 && x.shape()[axis] != 1)
      throw ShapeError("[addbroadcast] axis " + std::to_string(axis) + " was declared of size 1, but the value " +
                       x.shape_dtype_str() + " has " + std::to_string(x.shape()[axis]));
  outputs[0] = x;
}

std::vector<Variable> Rebroadcast::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  return {rebroadcast_like(output_grads[0], node.input(0))};
}

std::vector<std::vector<Variable>> Rebroadcast::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> shape = shapes[0];
  for (size_t axis = 0; axis < pattern_.size(); ++axis)
    if (pattern_[axis] == 1) shape[axis] = constant(1.0, DType::Int64);
  return {shape};
}

std::vector<Variable> Rebroadcast::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  return r_op_linear_in_first(node, eval_points);
}

Variable rebroadcast_like(const Variable& x, const Variable& like) {
  std::vector<int8_t> pattern(x.ndim(), -1);
  bool changes = false;
  for (int axis = 0; axis < x.ndim() && axis < like.ndim(); ++axis) {
    const bool want = like.type().shape[axis] == 1, has = x.type().shape[axis] == 1;
    if (want != has) {
      pattern[axis] = want ? 1 : 0;
      changes = true;
    }
  }
  return changes ? apply_op1(std::make_shared<Rebroadcast>(pattern), {x}, like.where()) : x;
}

Variable patternbroadcast(const Operand& x, const std::vector<bool>& broadcastable) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (static_cast<int>(broadcastable.size()) != input.ndim())
      throw ValueError("[patternbroadcast] a pattern of " + std::to_string(broadcastable.size()) + " axes for " +
                       input.type().str());
    std::vector<int8_t> pattern;
    for (bool b : broadcastable) pattern.push_back(b ? 1 : 0);
    return apply_op1(std::make_shared<Rebroadcast>(pattern), {input}, x.where());
  });
}

namespace {
Variable rebroadcast_axes(const Operand& x, const std::vector<int>& axes, int8_t value, const char* name) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    std::vector<int8_t> pattern(input.ndim(), -1);
    for (int axis : axes) pattern[normalize_axis(axis, input.ndim(), name)] = value;
    return apply_op1(std::make_shared<Rebroadcast>(pattern), {input}, x.where());
  });
}
}  // namespace

Variable addbroadcast(const Operand& x, const std::vector<int>& axes) { return rebroadcast_axes(x, axes, 1, "addbroadcast"); }
Variable unbroadcast(const Operand& x, const std::vector<int>& axes) { return rebroadcast_axes(x, axes, 0, "unbroadcast"); }

// ---- SpecifyShape ----

std::vector<TensorType> SpecifyShape::output_types(const std::vector<Variable>& inputs) const {
  const Variable& x = inputs.at(0);
  if (static_cast<int>(inputs.size()) - 1 != x.ndim())
    throw ShapeError("[specify_shape] " + std::to_string(inputs.size() - 1) + " sizes for " + x.type().str());
  TensorType type = x.type();
  for (int axis = 0; axis < x.ndim(); ++axis) {
    const Variable& size = inputs[axis + 1];
    if (size.ndim() != 0 || !is_integer(size.dtype()))
      throw TypeError("[specify_shape] sizes must be integer scalars, got " + size.type().str());
    if (auto known = constant_int(size)) {
      if (*known < 0) throw ValueError("[specify_shape] negative size " + std::to_string(*known));
      if (type.shape[axis] != TensorType::kUnknown && type.shape[axis] != *known)
        throw ShapeError("[specify_shape] axis " + std::to_string(axis) + " of " + x.type().str() + " cannot have size " +
                         std::to_string(*known));
      type.shape[axis] = *known;
    }
  }
  return {type};
}

void SpecifyShape::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  for (int axis = 0; axis < x.ndim(); ++axis) {
    const int64_t want = static_cast<int64_t>(inputs[axis + 1].item());
    if (x.shape()[axis] != want)
      throw ShapeError("[specify_shape] the value " + x.shape_dtype_str() + " has size " + std::to_string(x.shape()[axis]) +
                       " on axis " + std::to_string(axis) + " where " + std::to_string(want) + " was specified");
  }
  outputs[0] = x;
}

std::vector<Variable> SpecifyShape::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  std::vector<Variable> grads(node.inputs().size());
  grads[0] = rebroadcast_like(output_grads[0], node.input(0));
  return grads;
}

std::vector<std::vector<Variable>> SpecifyShape::infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const {
  std::vector<Variable> shape(node.inputs().begin() + 1, node.inputs().end());
  for (Variable& size : shape)
    if (size.dtype() != DType::Int64) size = cast(size, DType::Int64);
  return {shape};
}

std::vector<Variable> SpecifyShape::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  return r_op_linear_in_first(node, eval_points);
}

Variable specify_shape(const Operand& x, const std::vector<Operand>& shape) {
  return at_location(x.where(), [&] {
    std::vector<Variable> inputs{x.as_variable()};
    for (const Operand& size : shape) inputs.push_back(size.as_variable(DType::Int64));
    return apply_op1(std::make_shared<SpecifyShape>(), inputs, x.where());
  });
}

// ---- Assert ----

std::vector<TensorType> Assert::output_types(const std::vector<Variable>& inputs) const {
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].ndim() != 0 || is_complex(inputs[i].dtype()))
      throw TypeError("[assert] conditions must be real scalars, got " + inputs[i].type().str() + " (" + message_ + ")");
  return {inputs.at(0).type()};
}

void Assert::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  for (size_t i = 1; i < inputs.size(); ++i)
    if (inputs[i].item() == 0) throw ValueError("[assert] " + (message_.empty() ? std::string("a condition failed") : message_));
  outputs[0] = inputs[0];
}

std::vector<Variable> Assert::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  std::vector<Variable> grads(node.inputs().size());
  grads[0] = output_grads[0];
  return grads;
}

std::vector<std::vector<Variable>> Assert::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

std::vector<std::vector<bool>> Assert::connection_pattern(const Apply& node) const {
  std::vector<std::vector<bool>> pattern(node.inputs().size(), std::vector<bool>{false});
  pattern[0][0] = true;  // the conditions are read, not differentiated through
  return pattern;
}

std::vector<Variable> Assert::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  return r_op_linear_in_first(node, eval_points);
}

Variable assert_op(const Operand& x, const std::vector<Operand>& conditions, const std::string& message) {
  return at_location(x.where(), [&] {
    std::vector<Variable> inputs{x.as_variable()};
    for (const Operand& condition : conditions) inputs.push_back(condition.as_variable());
    return apply_op1(std::make_shared<Assert>(message), inputs, x.where());
  });
}

// ---- Saving ----

std::string Rebroadcast::save() const {
  OpWriter out("rebroadcast");
  out.integers(std::vector<int>(pattern_.begin(), pattern_.end()));
  return out.bytes();
}
std::string SpecifyShape::save() const { return OpWriter("specify_shape").bytes(); }
std::string Assert::save() const {
  OpWriter out("assert");
  out.text(message_);
  return out.bytes();
}

void register_type_assertion_loaders(OpLoaders& loaders) {
  loaders["rebroadcast"] = [](OpReader& in) -> OpPtr {
    std::vector<int8_t> pattern;
    for (int v : in.integers()) {
      if (v < -1 || v > 1) in.damaged("a broadcast pattern entry " + std::to_string(v));
      pattern.push_back(static_cast<int8_t>(v));
    }
    return std::make_shared<Rebroadcast>(pattern);
  };
  loaders["specify_shape"] = [](OpReader&) -> OpPtr { return std::make_shared<SpecifyShape>(); };
  loaders["assert"] = [](OpReader& in) -> OpPtr { return std::make_shared<Assert>(in.text()); };
}
}  // namespace hypatia
