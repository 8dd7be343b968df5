#include "ops/reduce.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "hypatia/sparse.h"
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/op_support.h"
#include "scalar/scalar_math.h"
#include "ir/serialize.h"

namespace hypatia {

std::vector<int> Axes::resolve(int ndim, const char* op_name) const {
  std::vector<int> result;
  if (!axes_) {
    for (int axis = 0; axis < ndim; ++axis) result.push_back(axis);
    return result;
  }
  for (int axis : *axes_) {
    int resolved = axis < 0 ? axis + ndim : axis;
    if (resolved < 0 || resolved >= ndim)
      throw ValueError(std::string("[") + op_name + "] axis " + std::to_string(axis) + " is out of range for a " +
                       std::to_string(ndim) + "-d input");
    if (std::find(result.begin(), result.end(), resolved) != result.end())
      throw ValueError(std::string("[") + op_name + "] axis " + std::to_string(axis) + " is repeated");
    result.push_back(resolved);
  }
  std::sort(result.begin(), result.end());
  return result;
}

namespace {
const char* kReduceNames[] = {"sum", "prod", "max", "min", "any", "all"};
}

std::string Reduce::name() const { return kReduceNames[static_cast<int>(kind_)]; }

std::string Reduce::props() const {
  std::string result = "axis=(";
  for (size_t i = 0; i < axes_.size(); ++i) result += (i ? "," : "") + std::to_string(axes_[i]);
  result += axes_.size() == 1 ? ",)" : ")";
  if (initial_) result += ", initial=" + (std::isinf(*initial_) ? std::string(*initial_ < 0 ? "-inf" : "inf") : std::to_string(*initial_));
  return result;
}

DType reduce_output_dtype(ReduceKind kind, DType input) {
  switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Prod:
      // NumPy's default integer of the same signedness (np.sum of uint8 is uint64).
      return is_inexact(input) ? input : is_unsigned(input) ? DType::UInt64 : DType::Int64;
    case ReduceKind::Max:
    case ReduceKind::Min:
      return input;
    case ReduceKind::Any:
    case ReduceKind::All:
      return DType::Bool;
  }
  __builtin_unreachable();
}

std::vector<TensorType> Reduce::output_types(const std::vector<Variable>& inputs) const {
  const TensorType& in = inputs.at(0).type();
  if ((kind_ == ReduceKind::Max || kind_ == ReduceKind::Min) && is_complex(in.dtype)) refuse_complex(name(), in.dtype);
  for (int axis : axes_)
    if (axis < 0 || axis >= in.ndim())
      throw ValueError("[" + name() + "] axis " + std::to_string(axis) + " is out of range for " + in.str());
  std::vector<int64_t> shape;
  for (int axis = 0; axis < in.ndim(); ++axis)
    if (!std::binary_search(axes_.begin(), axes_.end(), axis)) shape.push_back(in.shape[axis]);
  return {TensorType(reduce_output_dtype(kind_, in.dtype), std::move(shape))};
}

namespace {

// Reduces each contiguous row of `length` values of `data` (rows of the transposed input).
template <class Acc, class T, class Tout, class Step>
void reduce_rows(const T* data, int64_t rows, int64_t length, Acc init, Tout* out, Step step) {
  for (int64_t r = 0; r < rows; ++r) {
    Acc acc = init;
    const T* row = data + r * length;
    for (int64_t j = 0; j < length; ++j) acc = step(acc, row[j]);
    out[r] = scalar_math::convert<Tout>(acc);
  }
}

}  // namespace

void Reduce::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  // Move the reduced axes last, so each output element reduces one contiguous row.
  std::vector<int> perm;
  Shape out_shape;
  int64_t length = 1;
  for (int axis = 0; axis < x.ndim(); ++axis)
    if (!std::binary_search(axes_.begin(), axes_.end(), axis)) {
      perm.push_back(axis);
      out_shape.push_back(x.shape()[axis]);
    }
  for (int axis : axes_) {
    perm.push_back(axis);
    length *= x.shape()[axis];
  }
  if (length == 0 && (kind_ == ReduceKind::Max || kind_ == ReduceKind::Min) && shape_size(out_shape) > 0 && initial_) {
    outputs[0] = Array::full(out_shape, *initial_, x.dtype());
    return;
  }
  if (length == 0 && (kind_ == ReduceKind::Max || kind_ == ReduceKind::Min) && shape_size(out_shape) > 0)
    throw ValueError("[" + name() + "] zero-size reduction over axes " + props() + " of an input of shape " +
                     shape_str(x.shape()) + ": " + name() + " has no identity");
  const Array rows = x.transpose(perm).contiguous();
  const int64_t count = shape_size(out_shape);
  Array out = Array::empty(out_shape, reduce_output_dtype(kind_, x.dtype()));
  dispatch_dtype(x.dtype(), [&]<class T>() {
    const T* data = count ? rows.data<T>() : nullptr;
    // Floats accumulate in double and integers in int64 (wrapping), for an accurate reference.
    using Acc = std::conditional_t<scalar_math::is_complex<T>, std::complex<double>,
                                   std::conditional_t<is_float_v<T>, double, int64_t>>;
    switch (kind_) {
      case ReduceKind::Sum:
        dispatch_dtype(out.dtype(), [&]<class Tout>() {
          reduce_rows(data, count, length, Acc(0), out.data<Tout>(), [](Acc a, T v) {
            if constexpr (std::is_integral_v<Acc>) return static_cast<Acc>(static_cast<uint64_t>(a) + static_cast<uint64_t>(static_cast<Acc>(v)));
            else return a + static_cast<Acc>(v);
          });
        });
        break;
      case ReduceKind::Prod:
        dispatch_dtype(out.dtype(), [&]<class Tout>() {
          reduce_rows(data, count, length, Acc(1), out.data<Tout>(), [](Acc a, T v) {
            if constexpr (std::is_integral_v<Acc>) return static_cast<Acc>(static_cast<uint64_t>(a) * static_cast<uint64_t>(static_cast<Acc>(v)));
            else return a * static_cast<Acc>(v);
          });
        });
        break;
      case ReduceKind::Max:
      case ReduceKind::Min: {
        if constexpr (scalar_math::is_complex<T>) break;  // refused in output_types
        else {
        const bool is_max = kind_ == ReduceKind::Max;
        T* result = out.data<T>();
        for (int64_t r = 0; r < count; ++r) {
          const T* row = data + r * length;
          T best = row[0];
          for (int64_t j = 1; j < length; ++j) {
            T v = row[j];
            if constexpr (is_float_v<T>) {
              if (best != best) break;  // NaN propagates
              if (v != v) { best = v; break; }
            }
            if (is_max ? v > best : v < best) best = v;
          }
          if (initial_) {  // compared like one more element (NaN still wins)
            const T start = scalar_math::convert<T>(*initial_);
            if (best == best && (is_max ? start > best : start < best)) best = start;
          }
          result[r] = best;
        }
        break;
        }
      }
      case ReduceKind::Any:
      case ReduceKind::All: {
        const bool is_any = kind_ == ReduceKind::Any;
        bool* result = out.data<bool>();
        for (int64_t r = 0; r < count; ++r) {
          bool acc = !is_any;
          const T* row = data + r * length;
          for (int64_t j = 0; j < length; ++j) {
            bool truth = row[j] != T(0);
            if (is_any ? truth : !truth) { acc = is_any; break; }
          }
          result[r] = acc;
        }
        break;
      }
    }
  });
  outputs[0] = std::move(out);
}

Variable restore_reduced_axes(const Variable& g, int input_ndim, const std::vector<int>& axes) {
  std::vector<int> pattern;
  int next = 0;
  for (int axis = 0; axis < input_ndim; ++axis)
    pattern.push_back(std::binary_search(axes.begin(), axes.end(), axis) ? kNewAxis : next++);
  return dimshuffle(g, pattern);
}

std::vector<Variable> Reduce::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  if (kind_ == ReduceKind::Sum) return r_op_linear_in_first(node, eval_points);
  return Op::r_op(node, eval_points);
}

std::vector<Variable> Reduce::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  if (!is_inexact(x.dtype()) || kind_ == ReduceKind::Any || kind_ == ReduceKind::All) return {Variable()};
  Variable g = restore_reduced_axes(output_grads[0], x.ndim(), axes_);
  Variable gx;
  switch (kind_) {
    case ReduceKind::Sum:
      gx = second(x, g);
      break;
    case ReduceKind::Prod: {
      // d prod / d x_i is the product of the others, also when some x are zero.
      Variable nonzero = neq(x, 0);
      Variable x_nonzero = where(nonzero, x, 1);
      Variable prod_nonzero = restore_reduced_axes(apply_op1(std::make_shared<Reduce>(ReduceKind::Prod, axes_), {x_nonzero}), x.ndim(), axes_);
      Variable zero_count = restore_reduced_axes(
          apply_op1(std::make_shared<Reduce>(ReduceKind::Sum, axes_), {cast(logical_not(nonzero), DType::Int64)}), x.ndim(), axes_);
      Variable partial = where(eq(zero_count, 0), prod_nonzero / x_nonzero,
                               where(eq(zero_count, 1) & logical_not(nonzero), prod_nonzero, 0));
      gx = is_complex(x.dtype()) ? g * conj(partial) : g * partial;  // holomorphic (op_support.h)
      break;
    }
    case ReduceKind::Max:
    case ReduceKind::Min: {
      Variable out = restore_reduced_axes(node.output(0), x.ndim(), axes_);
      gx = g * eq(x, out);
      break;
    }
    default:
      break;
  }
  return {cast(gx, x.dtype())};
}

std::vector<std::vector<Variable>> Reduce::infer_shape(const Apply& node,
                                                       const std::vector<std::vector<Variable>>& input_shapes) const {
  std::vector<Variable> dims;
  for (int axis = 0; axis < node.input(0).ndim(); ++axis)
    if (!std::binary_search(axes_.begin(), axes_.end(), axis)) dims.push_back(input_shapes[0][axis]);
  return {dims};
}

Variable reduce(ReduceKind kind, const Operand& x, const Axes& axes, bool keepdims, std::optional<double> initial) {
  Variable input = x.as_variable();
  const std::vector<int> resolved = at_location(x.where(), [&] { return axes.resolve(input.ndim(), kReduceNames[static_cast<int>(kind)]); });
  if (input.is_sparse() && kind == ReduceKind::Sum && !keepdims) {  // SparseVariable.sum
    if (resolved.empty()) return input;
    return resolved.size() == 2 ? sparse::sp_sum(x) : sparse::sp_sum(x, resolved[0]);
  }
  Variable out = apply_op1(std::make_shared<Reduce>(kind, resolved, initial), {input}, x.where());
  return keepdims ? restore_reduced_axes(out, input.ndim(), resolved) : out;
}

Variable sum(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::Sum, x, axes, keepdims); }
Variable prod(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::Prod, x, axes, keepdims); }
Variable max(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::Max, x, axes, keepdims); }
Variable min(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::Min, x, axes, keepdims); }
Variable any(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::Any, x, axes, keepdims); }
Variable all(const Operand& x, Axes axes, bool keepdims) { return reduce(ReduceKind::All, x, axes, keepdims); }



namespace {

// The number of elements reduced over `axes`: a constant when the shape is known statically.
Variable reduced_count(const Variable& x, const std::vector<int>& axes, DType dtype, std::source_location where) {
  int64_t known = 1;
  Variable symbolic;
  for (int axis : axes) {
    int64_t dim = x.type().shape[axis];
    if (dim != TensorType::kUnknown) known *= dim;
    else symbolic = symbolic ? symbolic * shape_i(x, axis) : shape_i(x, axis);
  }
  if (!symbolic) return constant(static_cast<double>(known), dtype, where);
  Variable count = cast(symbolic, dtype);
  return known == 1 ? count : count * constant(static_cast<double>(known), dtype, where);
}

DType mean_dtype(DType input) { return is_inexact(input) ? input : DType::Float64; }

}  // namespace

Variable mean(const Operand& x, Axes axes, bool keepdims) {
  Variable input = x.as_variable();
  const std::vector<int> resolved = at_location(x.where(), [&] { return axes.resolve(input.ndim(), "mean"); });
  const DType dtype = mean_dtype(input.dtype());
  Variable total = sum(Operand(cast(input, dtype), x.where()), resolved, keepdims);
  return total / reduced_count(input, resolved, dtype, x.where());
}

Variable var(const Operand& x, Axes axes, bool keepdims, int ddof) {
  Variable input = x.as_variable();
  const std::vector<int> resolved = at_location(x.where(), [&] { return axes.resolve(input.ndim(), "var"); });
  const DType dtype = mean_dtype(input.dtype());
  Variable centered = cast(input, dtype) - mean(Operand(input, x.where()), resolved, /*keepdims=*/true);
  Variable squares = sum(Operand(sqr(centered), x.where()), resolved, keepdims);
  // NumPy divides by max(n - ddof, 0): too large a ddof gives inf, not a negative variance.
  return squares / maximum(reduced_count(input, resolved, dtype, x.where()) - static_cast<double>(ddof), 0.0);
}

Variable std(const Operand& x, Axes axes, bool keepdims, int ddof) {
  return sqrt(var(x, std::move(axes), keepdims, ddof));
}

Variable allclose(const Operand& x, const Operand& y, double rtol, double atol) {
  return all(Operand(isclose(x, y, rtol, atol), x.where()));
}

std::string Reduce::save() const {
  OpWriter out("reduce");
  out.integer(static_cast<int64_t>(kind_));
  out.integers(axes_);
  out.flag(initial_.has_value());
  out.real(initial_.value_or(0.0));
  return out.bytes();
}

void register_reduce_loaders(OpLoaders& loaders) {
  loaders["reduce"] = [](OpReader& in) -> OpPtr {
    const auto kind = static_cast<ReduceKind>(in.integer_in(0, static_cast<int64_t>(ReduceKind::All), "a reduction kind"));
    std::vector<int> axes = in.integers();
    const bool has_initial = in.flag();
    const double initial = in.real();
    return std::make_shared<Reduce>(kind, axes, has_initial ? std::optional<double>(initial) : std::nullopt);
  };
}
}  // namespace hypatia
