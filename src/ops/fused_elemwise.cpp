#include "ops/fused_elemwise.h"

#include <algorithm>

namespace hypatia {

int Composite::add(ScalarOp op, std::vector<int> args, CodeLocation where) {
  std::vector<DType> dtypes;
  for (int ref : args) dtypes.push_back(dtype_of(ref));
  code.push_back({op, std::move(args), scalar_typing(op, dtypes), where});
  return num_inputs() + static_cast<int>(code.size()) - 1;
}

std::string Composite::expression(int ref, const std::vector<int>& uses) const {
  std::string text;
  if (ref < num_inputs()) return text.append("i").append(std::to_string(ref));
  const Instruction& instruction = code[ref - num_inputs()];
  text = scalar_op_info(instruction.op.id).name;
  if (scalar_op_info(instruction.op.id).rule == TypeRule::Cast) text.append("<").append(dtype_name(instruction.op.cast_to)).append(">");
  text += '(';
  for (size_t k = 0; k < instruction.args.size(); ++k) {
    const int arg = instruction.args[k];
    text.append(k ? ", " : "");
    // A result read more than once prints once, as a named temporary.
    if (arg >= num_inputs() && uses[arg] > 1) text.append("t").append(std::to_string(arg - num_inputs()));
    else text.append(expression(arg, uses));
  }
  return text += ')';
}

std::string Composite::str() const {
  std::vector<int> uses(num_inputs() + code.size(), 0);
  for (const Instruction& instruction : code)
    for (int arg : instruction.args) ++uses[arg];
  for (int ref : outputs) ++uses[ref];
  std::string text;
  for (size_t n = 0; n < code.size(); ++n) {
    const int ref = num_inputs() + static_cast<int>(n);
    if (uses[ref] > 1) text.append("t").append(std::to_string(n)).append("=").append(expression(ref, uses)).append("; ");
  }
  for (size_t k = 0; k < outputs.size(); ++k) {
    const int ref = outputs[k];
    text.append(k ? ", " : "");
    if (ref >= num_inputs() && uses[ref] > 1) text.append("t").append(std::to_string(ref - num_inputs()));
    else text.append(expression(ref, uses));
  }
  return text;
}

size_t Composite::hash() const {
  size_t h = 0x9e3779b9u;
  auto mix = [&](size_t v) { h = h * 1000003u ^ v; };
  for (DType dtype : input_dtypes) mix(static_cast<size_t>(dtype));
  for (const Instruction& instruction : code) {
    mix(static_cast<size_t>(instruction.op.id));
    mix(static_cast<size_t>(instruction.op.cast_to));
    for (int ref : instruction.args) mix(static_cast<size_t>(ref));
  }
  for (int ref : outputs) mix(static_cast<size_t>(ref));
  return h;
}

namespace {

// Replays the broadcasts of a composite's instructions to find the first whose operands disagree.
// Called while the broadcast's ShapeError is being handled: rethrows it when no member is to blame.
[[noreturn]] void explain_fused_mismatch(const Apply& node, const Composite& composite, std::span<const Array> inputs) {
  std::vector<Shape> shapes;
  std::vector<std::vector<bool>> broadcastable;  // statically size 1, per axis
  std::vector<DType> dtypes;
  for (size_t i = 0; i < inputs.size(); ++i) {
    shapes.push_back(inputs[i].shape());
    std::vector<bool> flags;
    for (int64_t dim : node.input(i).type().shape) flags.push_back(dim == 1);
    broadcastable.push_back(flags);
    dtypes.push_back(inputs[i].dtype());
  }
  for (const Composite::Instruction& instruction : composite.code) {
    const size_t ndim = shapes[instruction.args[0]].size();
    Shape shape(ndim, 1);
    std::vector<bool> flags(ndim, true);
    for (size_t axis = 0; axis < ndim; ++axis) {
      int64_t size = -1;
      for (int ref : instruction.args) {
        if (broadcastable[ref][axis]) continue;
        flags[axis] = false;
        const int64_t dim = shapes[ref][axis];
        if (size == -1) size = dim;
        else if (size != dim) {
          std::string operands;
          for (size_t k = 0; k < instruction.args.size(); ++k)
            operands += (k ? ", " : "") + std::string(dtype_name(dtypes[instruction.args[k]])) + shape_str(shapes[instruction.args[k]]);
          rethrow_with_location(ShapeError("[" + std::string(scalar_op_info(instruction.op.id).name) +
                                           "] shape mismatch: inputs " + operands + " differ on axis " +
                                           std::to_string(axis) + " (" + std::to_string(size) + " vs " +
                                           std::to_string(dim) + ")"),
                                instruction.where.line ? instruction.where : node.where());
        }
      }
      shape[axis] = size == -1 ? 1 : size;
    }
    shapes.push_back(shape);
    broadcastable.push_back(flags);
    dtypes.push_back(instruction.typing.out);
  }
  throw;  // no member disagrees on its own: the original error stands
}

}  // namespace

Shape broadcast_shapes_for(const Apply& node, std::span<const Array> inputs) {
  const Composite* composite = nullptr;
  if (const auto* fused = dynamic_cast<const FusedElemwise*>(&node.op())) composite = &fused->composite();
  if (const auto* fused = dynamic_cast<const FusedReduce*>(&node.op())) composite = &fused->composite();
  if (!composite) return broadcast_shapes_checked(node, inputs);
  try {
    return broadcast_shapes_checked(node, inputs);
  } catch (const ShapeError&) {
    explain_fused_mismatch(node, *composite, inputs);
  }
}

bool composite_of(const Apply& node, Composite& composite) {
  if (const auto* fused = dynamic_cast<const FusedElemwise*>(&node.op())) {
    composite = fused->composite();
    return true;
  }
  const auto* elemwise = dynamic_cast<const Elemwise*>(&node.op());
  if (!elemwise) return false;
  composite = Composite();
  std::vector<int> args;
  for (const Variable& input : node.inputs()) {
    args.push_back(composite.num_inputs());
    composite.input_dtypes.push_back(input.dtype());
  }
  composite.outputs.push_back(composite.add(elemwise->scalar_op(), std::move(args), node.where()));
  return true;
}

std::string FusedElemwise::props() const { return composite_.str(); }

bool FusedElemwise::equals(const Op& other) const {
  const auto* fused = dynamic_cast<const FusedElemwise*>(&other);
  return fused && fused->composite_ == composite_;
}

size_t FusedElemwise::hash() const { return composite_.hash(); }

std::vector<TensorType> FusedElemwise::output_types(const std::vector<Variable>& inputs) const {
  if (static_cast<int>(inputs.size()) != composite_.num_inputs())
    throw TypeError("[fused] takes " + std::to_string(composite_.num_inputs()) + " inputs, got " +
                    std::to_string(inputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].dtype() != composite_.input_dtypes[i])
      throw TypeError("[fused] input " + std::to_string(i) + " must be " + std::string(dtype_name(composite_.input_dtypes[i])) +
                      ", got " + inputs[i].type().str());
  std::vector<int64_t> shape = broadcast_static_shape(name(), inputs);
  std::vector<TensorType> types;
  for (int ref : composite_.outputs) types.emplace_back(composite_.dtype_of(ref), shape);
  return types;
}

// The reference: each instruction as Elemwise::perform would run it, on whole arrays.
namespace {

// The composite's outputs for inputs already broadcast to `shape`, instruction by instruction.
std::vector<Array> interpret(const Composite& composite, const std::vector<Array>& inputs, const Shape& shape) {
  std::vector<Array> values(inputs.begin(), inputs.end());
  std::vector<Array> prepared;
  for (const Composite::Instruction& instruction : composite.code) {
    prepared.clear();
    for (int ref : instruction.args) {
      const Array& value = values[ref];
      prepared.push_back((value.dtype() == instruction.typing.compute ? value : value.astype(instruction.typing.compute))
                             .broadcast_to(shape));
    }
    Array out = Array::empty(shape, instruction.typing.out);
    run_scalar_kernel(instruction.op, instruction.typing, prepared, out);
    values.push_back(std::move(out));
  }
  std::vector<Array> results;
  for (int ref : composite.outputs) results.push_back(values[ref]);
  return results;
}

}  // namespace

// The reference, and the kernels of a machine without a compiler: the instructions run as
// precompiled loops over blocks of rows (numexpr's way), so the temporaries stay in cache.
void FusedElemwise::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Shape shape = broadcast_shapes_for(node, inputs);
  constexpr int64_t kBlockElements = 8192;
  const int64_t row = shape.empty() || shape[0] == 0 ? 1 : shape_size(shape) / shape[0];
  const int64_t rows_per_block = std::max<int64_t>(1, kBlockElements / std::max<int64_t>(row, 1));
  std::vector<Array> broadcast;
  for (const Array& input : inputs) broadcast.push_back(input.broadcast_to(shape));
  if (shape.empty() || shape[0] <= rows_per_block) {
    std::vector<Array> results = interpret(composite_, broadcast, shape);
    for (size_t k = 0; k < results.size(); ++k)
      outputs[k] = composite_.outputs[k] < composite_.num_inputs() ? results[k].copy() : results[k];
    return;
  }
  for (size_t k = 0; k < composite_.outputs.size(); ++k)
    outputs[k] = Array::empty(shape, composite_.dtype_of(composite_.outputs[k]));
  std::vector<Array> block_inputs(broadcast.size());
  for (int64_t first = 0; first < shape[0]; first += rows_per_block) {
    const Slice rows{first, std::min(shape[0], first + rows_per_block), 1};
    Shape block_shape = shape;
    block_shape[0] = rows.stop - rows.start;
    for (size_t i = 0; i < broadcast.size(); ++i) block_inputs[i] = broadcast[i].slice({rows});
    std::vector<Array> results = interpret(composite_, block_inputs, block_shape);
    for (size_t k = 0; k < results.size(); ++k) outputs[k].slice({rows}).copy_from(results[k]);
  }
}

std::vector<Variable> FusedElemwise::grad(const Apply& node, const std::vector<Variable>&) const {
  // Fusion runs when a function is compiled, after gradients are taken.
  rethrow_with_location(TypeError("[grad] fused elementwise nodes exist only in compiled graphs; take the gradient "
                                  "of the graph before compiling it"),
                        node.where());
}

std::vector<std::vector<Variable>> FusedElemwise::infer_shape(const Apply& node,
                                                              const std::vector<std::vector<Variable>>& input_shapes) const {
  return std::vector<std::vector<Variable>>(node.num_outputs(), broadcast_symbolic_shape(node, input_shapes));
}

// ---- FusedReduce ----

bool FusedReduce::equals(const Op& other) const {
  const auto* fused = dynamic_cast<const FusedReduce*>(&other);
  return fused && fused->reduce_.equals(reduce_) && fused->composite_ == composite_;
}

size_t FusedReduce::hash() const { return composite_.hash() * 31 + std::hash<std::string>()(reduce_.props() + name()); }

std::vector<TensorType> FusedReduce::output_types(const std::vector<Variable>& inputs) const {
  if (composite_.outputs.size() != 1) throw TypeError("[" + name() + "] reduces a composite of one output");
  // The reduction's type of a value typed like the composite's result.
  const TensorType mapped = FusedElemwise(composite_).output_types(inputs).at(0);
  return reduce_.output_types({tensor(mapped.dtype, mapped.shape)});
}

void FusedReduce::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  Array mapped[1];
  FusedElemwise(composite_).perform(node, inputs, mapped);
  reduce_.perform(node, mapped, outputs);
}

std::vector<Variable> FusedReduce::grad(const Apply& node, const std::vector<Variable>&) const {
  rethrow_with_location(TypeError("[grad] fused reductions exist only in compiled graphs; take the gradient of the "
                                  "graph before compiling it"),
                        node.where());
}

std::vector<std::vector<Variable>> FusedReduce::infer_shape(const Apply& node,
                                                            const std::vector<std::vector<Variable>>& input_shapes) const {
  const std::vector<Variable> full = broadcast_symbolic_shape(node, input_shapes);
  std::vector<Variable> kept;
  for (int axis = 0; axis < static_cast<int>(full.size()); ++axis)
    if (!std::binary_search(reduce_.axes().begin(), reduce_.axes().end(), axis)) kept.push_back(full[axis]);
  return {kept};
}

}  // namespace hypatia
