#include "ops/sparse.h"
#include "ops/elemwise.h"

#include <sstream>

#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/fused_elemwise.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {

std::string Elemwise::name() const { return scalar_op_info(scalar_op_.id).name; }

std::string Elemwise::props() const {
  if (scalar_op_info(scalar_op_.id).rule == TypeRule::Cast) return "dtype=" + std::string(dtype_name(scalar_op_.cast_to));
  return "";
}

std::vector<TensorType> Elemwise::output_types(const std::vector<Variable>& inputs) const {
  const ScalarOpInfo& info = scalar_op_info(scalar_op_.id);
  if (static_cast<int>(inputs.size()) != info.arity)
    throw TypeError("[" + name() + "] takes " + std::to_string(info.arity) + " inputs, got " + std::to_string(inputs.size()));
  std::vector<DType> dtypes;
  for (const Variable& input : inputs) dtypes.push_back(input.dtype());
  ScalarTyping typing;
  try {
    typing = scalar_typing(scalar_op_, dtypes);
  } catch (const TypeError& e) {
    throw TypeError(std::string(e.what()) + " (inputs " + shapes_str(inputs) + ")");
  }
  return {TensorType(typing.out, broadcast_static_shape(name(), inputs))};
}

std::vector<int64_t> broadcast_static_shape(const std::string& op_name, const std::vector<Variable>& inputs) {
  const int ndim = inputs.empty() ? 0 : inputs[0].ndim();
  for (const Variable& input : inputs)
    if (input.ndim() != ndim)
      throw ShapeError("[" + op_name + "] inputs must have equal rank after padding, got " + shapes_str(inputs));
  std::vector<int64_t> shape(ndim, 1);
  for (int axis = 0; axis < ndim; ++axis) {
    bool any_unknown = false;
    int64_t known = -1;
    for (const Variable& input : inputs) {
      int64_t dim = input.type().shape[axis];
      if (dim == 1) continue;
      if (dim == TensorType::kUnknown) {
        any_unknown = true;
        continue;
      }
      if (known != -1 && known != dim)
        throw ShapeError("[" + op_name + "] shapes cannot broadcast: " + shapes_str(inputs) + " (axis " +
                         std::to_string(axis) + ": " + std::to_string(known) + " vs " + std::to_string(dim) + ")");
      known = dim;
    }
    shape[axis] = known != -1 ? known : any_unknown ? TensorType::kUnknown : 1;
  }
  return shape;
}

Shape broadcast_shapes_checked(const Apply& node, std::span<const Array> inputs) {
  const int ndim = inputs.empty() ? 0 : inputs[0].ndim();
  Shape shape(ndim, 1);
  for (int axis = 0; axis < ndim; ++axis) {
    int64_t size = -1;
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (node.input(i).type().shape[axis] == 1) continue;  // statically broadcastable
      int64_t dim = inputs[i].shape()[axis];
      if (size == -1) size = dim;
      else if (size != dim) {
        std::string hint;
        if (size == 1 || dim == 1)
          hint = "; a dimension broadcasts only when its type says size 1 (declare it, e.g. row/col or "
                 "a tensor type with shape 1)";
        throw ShapeError("[" + node.op().name() + "] shape mismatch: inputs " + shapes_str(inputs) + " differ on axis " +
                         std::to_string(axis) + " (" + std::to_string(size) + " vs " + std::to_string(dim) + ")" + hint);
      }
    }
    shape[axis] = size == -1 ? 1 : size;
  }
  return shape;
}

void Elemwise::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  Shape shape = broadcast_shapes_checked(node, inputs);
  std::vector<DType> dtypes;
  for (const Array& input : inputs) dtypes.push_back(input.dtype());
  ScalarTyping typing = scalar_typing(scalar_op_, dtypes);
  std::vector<Array> prepared;
  for (const Array& input : inputs) {
    const Array& converted = input.dtype() == typing.compute ? input : input.astype(typing.compute);
    prepared.push_back(converted.broadcast_to(shape));
  }
  Array out = Array::empty(shape, typing.out);
  run_scalar_kernel(scalar_op_, typing, prepared, out);
  outputs[0] = std::move(out);
}

std::vector<Variable> Elemwise::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable out = node.output(0);
  const ScalarOpInfo& info = scalar_op_info(scalar_op_.id);
  auto row = [&](const Variable& gz) { return info.grad(node.inputs(), out, gz); };
  // The rows of the non-holomorphic rules give Theano's complex gradient themselves; the others are
  // written as for reals and conjugated around (scalar_ops.def).
  const bool gives_complex_gradient =
      info.rule == TypeRule::RealOf || info.rule == TypeRule::RealFloat || info.rule == TypeRule::MakeComplex;
  std::vector<Variable> grads = gives_complex_gradient ? row(output_grads[0]) : holomorphic_pullback(node, output_grads[0], row);
  for (size_t i = 0; i < grads.size(); ++i) {
    const Variable& input = node.input(i);
    // A real input's share of a complex gradient is its real part (dC/dRe).
    if (grads[i] && is_complex(grads[i].dtype()) && !is_complex(input.dtype())) grads[i] = real(grads[i]);
    if (!grads[i] || !is_inexact(input.dtype())) {
      grads[i] = Variable();
      continue;
    }
    // Sum over the axes this input was broadcast along, keeping them as size 1.
    std::vector<int> broadcast_axes;
    for (int axis = 0; axis < input.ndim(); ++axis)
      if (input.type().shape[axis] == 1 && grads[i].type().shape[axis] != 1) broadcast_axes.push_back(axis);
    if (!broadcast_axes.empty()) grads[i] = sum(grads[i], broadcast_axes, /*keepdims=*/true);
    if (grads[i].dtype() != input.dtype()) grads[i] = cast(grads[i], input.dtype());
  }
  return grads;
}

// The scalar rules' pullbacks are pointwise and linear in gz: with gz = an input's tangent, the rule
// for that input gives its share of the output's tangent. That holds for holomorphic rows on complex
// values too (they are written as for reals, f'(z) * gz); the rows that are not holomorphic (complex
// parts, modulus, argument, complex()) push tangents forward by their own formulas.
std::vector<Variable> Elemwise::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  const Variable out = node.output(0);
  if (!is_inexact(out.dtype())) return {Variable()};
  const Variable& x = node.input(0);
  const bool complex_input = is_complex(x.dtype());
  const Variable& dx = eval_points.empty() ? Variable() : eval_points[0];
  switch (scalar_op_.id) {
    case ScalarOpId::complex: {
      if (!eval_points[0] && !eval_points[1]) return {Variable()};
      const Variable re = eval_points[0] ? eval_points[0] : zeros_like(node.input(0));
      const Variable im = eval_points[1] ? eval_points[1] : zeros_like(node.input(1));
      return {complex(re, im)};
    }
    case ScalarOpId::abs:  // d|z| = Re(conj(z) dz) / |z|
      if (complex_input) return {dx ? real(conj(x) * dx) / out : Variable()};
      break;
    case ScalarOpId::real:
      if (complex_input) return {dx ? real(dx) : Variable()};
      break;
    case ScalarOpId::imag:
      if (complex_input) return {dx ? imag(dx) : Variable()};
      break;
    case ScalarOpId::angle:  // d arg z = Im(conj(z) dz) / |z|^2
      if (complex_input) return {dx ? imag(conj(x) * dx) / sqr(abs(x)) : Variable()};
      break;
    default:
      break;
  }
  Variable tangent;
  for (size_t i = 0; i < node.inputs().size(); ++i) {
    if (!eval_points[i] || !is_inexact(node.input(i).dtype())) continue;
    const std::vector<Variable> shares = scalar_op_info(scalar_op_.id).grad(node.inputs(), out, eval_points[i]);
    if (i >= shares.size() || !shares[i]) continue;
    tangent = tangent ? tangent + shares[i] : shares[i];
  }
  return {tangent};
}

std::optional<Shape> Elemwise::result_shape(const Apply& node, std::span<const Array> inputs) const {
  return broadcast_shapes_for(node, inputs);
}

std::vector<std::vector<Variable>> Elemwise::infer_shape(const Apply& node,
                                                         const std::vector<std::vector<Variable>>& input_shapes) const {
  return {broadcast_symbolic_shape(node, input_shapes)};
}

std::vector<Variable> broadcast_symbolic_shape(const Apply& node, const std::vector<std::vector<Variable>>& input_shapes) {
  std::vector<Variable> dims;
  const int ndim = node.inputs().empty() ? 0 : node.input(0).ndim();
  for (int axis = 0; axis < ndim; ++axis) {
    Variable dim;
    for (size_t i = 0; i < node.inputs().size() && !dim; ++i)
      if (node.input(i).type().shape[axis] != 1) dim = input_shapes[i][axis];
    dims.push_back(dim ? dim : constant(1.0, DType::Int64));
  }
  return dims;
}

Variable elemwise(ScalarOp op, std::initializer_list<const Operand*> operands) {
  const ScalarOpInfo& info = scalar_op_info(op.id);
  std::source_location where = (*operands.begin())->where();
  for (const Operand* operand : operands)
    if (!operand->is_number() && operand->variable().is_sparse()) return sparse_elemwise(op, std::vector<const Operand*>(operands), where);
  // Numbers take the promoted dtype of the tensors beside them (a where's condition does not count).
  std::optional<DType> like;
  size_t position = 0;
  for (const Operand* operand : operands) {
    bool is_condition = info.rule == TypeRule::Where && position++ == 0;
    if (operand->is_number() || is_condition) continue;
    DType dtype = operand->variable().dtype();
    like = like ? promote_types(*like, dtype) : dtype;
  }
  std::vector<Variable> inputs;
  for (const Operand* operand : operands)
    inputs.push_back(like ? operand->as_weak_variable(*like) : operand->as_variable(Variable()));
  int ndim = 0;
  for (const Variable& input : inputs) ndim = std::max(ndim, input.ndim());
  for (Variable& input : inputs) {
    if (input.ndim() == ndim) continue;
    std::vector<int> pattern(ndim - input.ndim(), kNewAxis);
    for (int axis = 0; axis < input.ndim(); ++axis) pattern.push_back(axis);
    input = dimshuffle(Operand(input, where), pattern);
  }
  return apply_op1(std::make_shared<Elemwise>(op), std::move(inputs), where);
}

// ---- Public builders ----

#define HYPATIA_DEFINE_1(name) \
  Variable name(const Operand& x) { return elemwise({ScalarOpId::name}, {&x}); }
#define HYPATIA_DEFINE_2(name) \
  Variable name(const Operand& x, const Operand& y) { return elemwise({ScalarOpId::name}, {&x, &y}); }
#define HYPATIA_DEFINE_FUNCTION(name, arity) HYPATIA_DEFINE_##arity(name)
HYPATIA_FOR_EACH_ELEMWISE_FUNCTION(HYPATIA_DEFINE_FUNCTION)
#undef HYPATIA_DEFINE_FUNCTION
#undef HYPATIA_DEFINE_1
#undef HYPATIA_DEFINE_2

Variable clip(const Operand& x, const Operand& low, const Operand& high) {
  return elemwise({ScalarOpId::clip}, {&x, &low, &high});
}
Variable where(const Operand& condition, const Operand& if_true, const Operand& if_false) {
  return elemwise({ScalarOpId::where}, {&condition, &if_true, &if_false});
}
Variable second(const Operand& like, const Operand& value) { return elemwise({ScalarOpId::second}, {&like, &value}); }
Variable true_divide(const Operand& x, const Operand& y) { return true_div(x, y); }

bool is_elementwise(const Op& op) {
  return dynamic_cast<const Elemwise*>(&op) || dynamic_cast<const FusedElemwise*>(&op);
}

Variable isclose(const Operand& x, const Operand& y, double rtol, double atol) {
  Variable a = x.as_variable(), b = y.as_weak_variable(a.dtype());
  Operand at(a, x.where());
  // An infinity is close only to itself: |inf - x| <= inf would call it close to anything.
  const Variable finite = logical_not(logical_or(isinf(at), isinf(b)));
  return logical_or(eq(at, b), logical_and(finite, le(abs(a - b), abs(b) * rtol + atol)));
}
// The *_like builders are `second` of a constant: one elementwise node, so fusion sees them.
Variable full_like(const Operand& x, const Operand& value) {
  Variable like = x.as_variable();
  if (like.is_sparse()) {  // zeros keep a matrix sparse (a gradient's zeros); other fills do not
    if (value.is_number() && value.as_variable(like).constant_value().item() == 0) return sparse::sp_zeros_like(x);
    rethrow_with_location(TypeError("[full_like] a sparse matrix filled with a value other than 0 is dense: use "
                                    "sparse.sp_ones_like for the stored positions, or dense_from_sparse first"), x.where());
  }
  return second(Operand(like, x.where()), Operand(value.as_weak_variable(like.dtype()), x.where()));
}
Variable zeros_like(const Operand& x) { return full_like(x, Operand(0, x.where())); }
Variable ones_like(const Operand& x) { return full_like(x, Operand(1, x.where())); }

Variable cast(const Operand& x, DType dtype) {
  if (!x.is_number() && x.variable().dtype() == dtype) return x.variable();
  return elemwise({ScalarOpId::cast, dtype}, {&x});
}

Variable operator+(const Operand& x, const Operand& y) { return add(x, y); }
Variable operator-(const Operand& x, const Operand& y) { return sub(x, y); }
Variable operator*(const Operand& x, const Operand& y) { return mul(x, y); }
Variable operator/(const Operand& x, const Operand& y) { return true_div(x, y); }
Variable operator%(const Operand& x, const Operand& y) { return mod(x, y); }
Variable operator-(const Operand& x) { return neg(x); }
Variable operator<(const Operand& x, const Operand& y) { return lt(x, y); }
Variable operator<=(const Operand& x, const Operand& y) { return le(x, y); }
Variable operator>(const Operand& x, const Operand& y) { return gt(x, y); }
Variable operator>=(const Operand& x, const Operand& y) { return ge(x, y); }
Variable operator&(const Operand& x, const Operand& y) { return bitwise_and(x, y); }
Variable operator|(const Operand& x, const Operand& y) { return bitwise_or(x, y); }
Variable operator^(const Operand& x, const Operand& y) { return bitwise_xor(x, y); }
Variable operator~(const Operand& x) { return invert(x); }

// ---- Saving ----

std::string Elemwise::save() const {
  OpWriter out("elemwise");
  out.text(name());  // by name: the table's order may change between versions
  out.dtype(scalar_op_.cast_to);
  return out.bytes();
}

void register_elemwise_loaders(OpLoaders& loaders) {
  loaders["elemwise"] = [](OpReader& in) -> OpPtr {
    const std::string name = in.text();
    ScalarOp op{ScalarOpId::add, in.dtype()};
    bool found = false;
#define HYPATIA_SCALAR_OP(id_, ...)  \
    if (!found && name == #id_) {    \
      op.id = ScalarOpId::id_;       \
      found = true;                  \
    }
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
    if (!found) in.damaged("no elementwise op is called '" + name + "'");
    return std::make_shared<Elemwise>(op);
  };
}
}  // namespace hypatia
