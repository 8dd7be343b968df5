#include "ops/sparse.h"
#include "ops/subtensor.h"

#include <algorithm>

#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

std::string entries_str(const std::vector<BasicIndex>& entries) {
  std::string result;
  for (size_t i = 0; i < entries.size(); ++i) {
    const BasicIndex& e = entries[i];
    result += i ? ", " : "";
    if (e.is_integer) result += "i";
    else result += std::string(e.has_start ? "s" : "") + ":" + (e.has_stop ? "e" : "") + (e.has_step ? ":k" : "");
  }
  return result;
}

void check_index_scalars(const std::vector<Variable>& scalars) {
  for (const Variable& s : scalars)
    if (s.ndim() != 0 || !is_integer(s.dtype()))
      throw TypeError("[subtensor] indices and slice bounds must be integer scalars, got " + s.type().str());
}

// Static type of x[entries]: known where x's dimension and the constant bounds allow.
std::vector<int64_t> basic_index_shape(const TensorType& x, const std::vector<BasicIndex>& entries,
                                       const std::vector<Variable>& scalars) {
  if (entries.size() > static_cast<size_t>(x.ndim()))
    throw IndexError("[subtensor] too many indices (" + std::to_string(entries.size()) + ") for " + x.str());
  std::vector<int64_t> shape;
  size_t next = 0;
  for (size_t axis = 0; axis < static_cast<size_t>(x.ndim()); ++axis) {
    const int64_t dim = x.shape[axis];
    if (axis >= entries.size()) {
      shape.push_back(dim);
      continue;
    }
    const BasicIndex& e = entries[axis];
    if (e.is_integer) {
      auto i = constant_int(scalars[next++]);
      if (i && dim != TensorType::kUnknown && (*i < -dim || *i >= dim))
        throw IndexError("[subtensor] index " + std::to_string(*i) + " is out of bounds for axis " + std::to_string(axis) +
                         " with size " + std::to_string(dim) + " of " + x.str());
      continue;
    }
    std::optional<int64_t> start, stop, step = 1;
    bool known = true;
    if (e.has_start) known = known && (start = constant_int(scalars[next++])).has_value();
    if (e.has_stop) known = known && (stop = constant_int(scalars[next++])).has_value();
    if (e.has_step) known = known && (step = constant_int(scalars[next++])).has_value();
    if (e.has_step && step && *step == 0) throw ValueError("[subtensor] slice step cannot be zero");
    if (!e.has_start && !e.has_stop && !e.has_step) {
      shape.push_back(dim);
    } else if (known && dim != TensorType::kUnknown) {
      Slice s{start.value_or(Slice::kNone), stop.value_or(Slice::kNone), *step};
      shape.push_back(Array::empty({dim}, DType::Bool).slice({s}).shape()[0]);
    } else {
      shape.push_back(TensorType::kUnknown);
    }
  }
  return shape;
}

std::vector<Variable> tail(const std::vector<Variable>& inputs, size_t from) {
  return std::vector<Variable>(inputs.begin() + static_cast<long>(from), inputs.end());
}

// Sums `g` (shaped like the region) down to `value`'s type: over leading axes and broadcast axes.
Variable sum_to_value(const Variable& g, const Variable& value) {
  const int lead = g.ndim() - value.ndim();
  std::vector<int> axes;
  for (int axis = 0; axis < g.ndim(); ++axis)
    if (axis < lead || (value.type().shape[axis - lead] == 1 && g.type().shape[axis] != 1)) axes.push_back(axis);
  Variable summed = axes.empty() ? g : sum(g, axes, /*keepdims=*/true);
  std::vector<int> pattern;
  for (int axis = lead; axis < g.ndim(); ++axis) pattern.push_back(axis);
  return cast(dimshuffle(summed, pattern), value.dtype());
}

// The program handed x's own buffer over as the output (x is ours alone, read last here) and the value
// does not view it: the increment may then write into x.
bool written_in_place(std::span<const Array> inputs, std::span<Array> outputs) {
  return outputs[0].storage() && outputs[0].raw_data() == inputs[0].raw_data() && outputs[0].shape() == inputs[0].shape() &&
         outputs[0].strides() == inputs[0].strides() && !inputs[1].shares_storage_with(inputs[0]);
}

void validate_value_type(const TensorType& region, const Variable& value, const char* op) {
  if (value.ndim() > region.ndim())
    throw TypeError(std::string("[") + op + "] value " + value.type().str() + " has more dimensions than the indexed region " +
                    region.str());
  const int lead = region.ndim() - value.ndim();
  for (int axis = 0; axis < value.ndim(); ++axis) {
    int64_t have = value.type().shape[axis], want = region.shape[lead + axis];
    if (have != 1 && have != TensorType::kUnknown && want != TensorType::kUnknown && have != want)
      throw ShapeError(std::string("[") + op + "] value " + value.type().str() + " cannot be broadcast to the indexed region " +
                       region.str());
  }
}

}  // namespace

// x[entries] at run time: a view.
Array apply_basic_index(const Array& x, const std::vector<BasicIndex>& entries, std::span<const Array> scalars) {
  std::vector<Slice> slices;
  std::vector<int> integer_axes;
  size_t next = 0;
  for (size_t axis = 0; axis < entries.size(); ++axis) {
    const BasicIndex& e = entries[axis];
    if (e.is_integer) {
      int64_t i = index_value(scalars[next++]), dim = x.shape()[axis];
      if (i < -dim || i >= dim)
        throw IndexError("[subtensor] index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                         " with size " + std::to_string(dim) + " (shape " + shape_str(x.shape()) + ")");
      if (i < 0) i += dim;
      slices.push_back(Slice{i, i + 1, 1});
      integer_axes.push_back(static_cast<int>(axis));
      continue;
    }
    Slice s;
    if (e.has_start) s.start = index_value(scalars[next++]);
    if (e.has_stop) s.stop = index_value(scalars[next++]);
    if (e.has_step) s.step = index_value(scalars[next++]);
    if (s.step == 0) throw ValueError("[subtensor] slice step cannot be zero");
    slices.push_back(s);
  }
  Array view = x.slice(slices);
  for (auto it = integer_axes.rbegin(); it != integer_axes.rend(); ++it) view = view.index(*it, 0);
  return view;
}

// `value` broadcast to `shape` with Theano's rule: only leading or statically size-1 axes stretch.
Array broadcast_value(const Array& value, const TensorType& value_type, const Shape& shape, const char* op) {
  const int lead = static_cast<int>(shape.size()) - value.ndim();
  auto fail = [&] {
    throw ShapeError(std::string("[") + op + "] value of shape " + shape_str(value.shape()) +
                     " cannot be broadcast to the indexed shape " + shape_str(shape));
  };
  if (lead < 0) fail();
  for (int axis = 0; axis < value.ndim(); ++axis) {
    int64_t have = value.shape()[axis], want = shape[lead + axis];
    if (have != want && !(have == 1 && value_type.shape[axis] == 1)) fail();
  }
  return value.broadcast_to(shape);
}

int64_t checked_index(int64_t i, int64_t dim, int axis, const Shape& shape, const char* op) {
  if (i < -dim || i >= dim)
    throw IndexError(std::string("[") + op + "] index " + std::to_string(i) + " is out of bounds for axis " +
                     std::to_string(axis) + " with size " + std::to_string(dim) + " (shape " + shape_str(shape) + ")");
  return i < 0 ? i + dim : i;
}

// ---- Subtensor ----

std::string Subtensor::props() const { return entries_str(entries_); }

std::vector<TensorType> Subtensor::output_types(const std::vector<Variable>& inputs) const {
  auto scalars = tail(inputs, 1);
  check_index_scalars(scalars);
  return {TensorType(inputs[0].dtype(), basic_index_shape(inputs[0].type(), entries_, scalars))};
}

void Subtensor::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  outputs[0] = apply_basic_index(inputs[0], entries_, inputs.subspan(1));
}

std::vector<Variable> Subtensor::r_op(const Apply& node, const std::vector<Variable>& eval_points) const {
  return r_op_linear_in_first(node, eval_points);
}

std::vector<Variable> Subtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  std::vector<Variable> grads(node.inputs().size());
  if (!is_inexact(x.dtype())) return grads;
  std::vector<Variable> inputs = {zeros_like(x), output_grads[0]};
  for (const Variable& s : tail(node.inputs(), 1)) inputs.push_back(s);
  grads[0] = apply_op1(std::make_shared<IncSubtensor>(entries_, false), inputs);
  return grads;
}

namespace {

// Python's slice length for a dimension n, as int64 graph arithmetic; the step must be a constant.
Variable slice_length(const Variable& n, const std::optional<Variable>& start, const std::optional<Variable>& stop,
                      int64_t step) {
  auto wrap = [&](const Variable& bound, int64_t low_offset) {
    Variable b = cast(bound, DType::Int64);
    // Negative bounds count from the end; then clamp to [0, n] (step > 0) or [-1, n - 1] (step < 0).
    Variable shifted = where(lt(b, 0), b + n, b);
    return step > 0 ? clip(shifted, 0, n) : clip(shifted, low_offset, n - 1);
  };
  if (step > 0) {
    Variable first = start ? wrap(*start, 0) : constant(0.0, DType::Int64);
    Variable last = stop ? wrap(*stop, 0) : n;
    return maximum(int_div(last - first + (step - 1), step), 0);
  }
  Variable first = start ? wrap(*start, -1) : n - 1;
  Variable last = stop ? wrap(*stop, -1) : constant(-1.0, DType::Int64);
  return maximum(int_div(first - last + (-step - 1), -step), 0);
}

}  // namespace

std::vector<std::vector<Variable>> Subtensor::infer_shape(const Apply& node,
                                                          const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> dims;
  size_t next = 1;
  for (size_t axis = 0; axis < shapes[0].size(); ++axis) {
    if (axis >= entries_.size()) {
      dims.push_back(shapes[0][axis]);
      continue;
    }
    const BasicIndex& e = entries_[axis];
    if (e.is_integer) {
      ++next;
      continue;
    }
    std::optional<Variable> start, stop;
    if (e.has_start) start = node.input(next++);
    if (e.has_stop) stop = node.input(next++);
    std::optional<int64_t> step = 1;
    if (e.has_step) step = constant_int(node.input(next++));
    if (!step) return Op::infer_shape(node, shapes);  // a symbolic step: read the shape at run time
    dims.push_back(e.has_start || e.has_stop || e.has_step ? slice_length(shapes[0][axis], start, stop, *step)
                                                           : shapes[0][axis]);
  }
  return {dims};
}

// ---- IncSubtensor ----

std::string IncSubtensor::props() const { return entries_str(entries_); }

std::vector<TensorType> IncSubtensor::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &value = inputs.at(1);
  auto scalars = tail(inputs, 2);
  check_index_scalars(scalars);
  TensorType region(x.dtype(), basic_index_shape(x.type(), entries_, scalars));
  validate_value_type(region, value, set_ ? "set_subtensor" : "inc_subtensor");
  return {x.type()};
}

void IncSubtensor::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  Array out = written_in_place(inputs, outputs) ? outputs[0] : inputs[0].copy();
  Array region = apply_basic_index(out, entries_, inputs.subspan(2));
  const char* op = set_ ? "set_subtensor" : "inc_subtensor";
  Array value = broadcast_value(inputs[1], node.input(1).type(), region.shape(), op).astype(out.dtype());
  if (set_) region.copy_from(value);
  else region.add_from(value);
  outputs[0] = std::move(out);
}

std::vector<Variable> IncSubtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &value = node.input(1), &g = output_grads[0];
  auto scalars = tail(node.inputs(), 2);
  std::vector<Variable> grads(node.inputs().size());
  if (is_inexact(x.dtype())) {
    if (set_) {
      std::vector<Variable> inputs = {g, zeros_like(value)};
      inputs.insert(inputs.end(), scalars.begin(), scalars.end());
      grads[0] = apply_op1(std::make_shared<IncSubtensor>(entries_, true), inputs);
    } else {
      grads[0] = g;
    }
  }
  if (is_inexact(value.dtype())) {
    std::vector<Variable> inputs = {g};
    inputs.insert(inputs.end(), scalars.begin(), scalars.end());
    grads[1] = sum_to_value(apply_op1(std::make_shared<Subtensor>(entries_), inputs), value);
  }
  return grads;
}

std::vector<std::vector<Variable>> IncSubtensor::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

// ---- AdvancedSubtensor ----

namespace {

std::string axes_props(const std::vector<int>& axes, bool dims_first) {
  std::string result;
  if (axes.size() == 1) {
    result = "axis=" + std::to_string(axes[0]);
  } else {
    result = "axes=(";
    for (size_t i = 0; i < axes.size(); ++i) result += (i ? ", " : "") + std::to_string(axes[i]);
    result += ")";
  }
  return dims_first ? result + ", dims_first" : result;
}

bool adjacent(const std::vector<int>& axes) {
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[0] + static_cast<int>(i)) return false;
  return true;
}

// Where the index dimensions go: in place of adjacent axes, else first (NumPy).
int index_position(const std::vector<int>& axes, bool dims_first) { return !dims_first && adjacent(axes) ? axes[0] : 0; }

// x's shape with the indexed axes replaced by the index shape `b`, at index_position. T is a static
// dimension, a runtime size or a symbolic dimension (V: a vector of them).
template <class V>
V advanced_shape(const V& x, const std::vector<int>& axes, const V& b, bool dims_first) {
  V rest;
  for (int axis = 0; axis < static_cast<int>(x.size()); ++axis)
    if (std::find(axes.begin(), axes.end(), axis) == axes.end()) rest.push_back(x[axis]);
  const size_t at = static_cast<size_t>(index_position(axes, dims_first));
  V result(rest.begin(), rest.begin() + static_cast<long>(at));
  result.insert(result.end(), b.begin(), b.end());
  result.insert(result.end(), rest.begin() + static_cast<long>(at), rest.end());
  return result;
}

void check_advanced_inputs(const Variable& x, const std::vector<int>& axes, std::span<const Variable> indices,
                           const char* op) {
  if (axes.empty() || axes.size() != indices.size())
    throw ValueError(std::string("[") + op + "] needs one index array per axis");
  for (size_t i = 0; i < axes.size(); ++i) {
    if (axes[i] < 0 || axes[i] >= x.ndim() || (i && axes[i] <= axes[i - 1]))
      throw ValueError(std::string("[") + op + "] axes must be ascending axes of " + x.type().str());
    if (!is_integer(indices[i].dtype()))
      throw TypeError(std::string("[") + op + "] indices must be integers, got " + indices[i].type().str());
  }
}

// The static shape the index arrays broadcast to (NumPy's rule: equal sizes, or 1).
std::vector<int64_t> broadcast_index_types(std::span<const Variable> indices, const char* op) {
  int ndim = 0;
  for (const Variable& v : indices) ndim = std::max(ndim, v.ndim());
  std::vector<int64_t> b(ndim, 1);
  std::vector<bool> unknown(ndim, false);
  for (const Variable& v : indices)
    for (int d = 0; d < v.ndim(); ++d) {
      const int axis = ndim - v.ndim() + d;
      const int64_t size = v.type().shape[d];
      if (size == TensorType::kUnknown) unknown[axis] = true;
      else if (size != 1 && b[axis] != 1 && b[axis] != size)
        throw IndexError(std::string("[") + op + "] index arrays of static shapes that cannot broadcast together");
      else if (size != 1) b[axis] = size;
    }
  for (int axis = 0; axis < ndim; ++axis)
    if (unknown[axis] && b[axis] == 1) b[axis] = TensorType::kUnknown;
  return b;
}

// The index arrays broadcast together at run time, as contiguous int64 arrays of one shape.
struct IndexArrays {
  Shape shape;
  std::vector<Array> flat;
  int64_t count = 0;
};

IndexArrays broadcast_indices(std::span<const Array> indices, const char* op) {
  IndexArrays result;
  result.shape = broadcast_index_shape(indices, op);
  for (const Array& a : indices) result.flat.push_back(a.astype(DType::Int64).broadcast_to(result.shape).contiguous());
  result.count = shape_size(result.shape);
  return result;
}

// The view of `x` at position k of the broadcast index arrays: x's other axes, in order.
Array slab(const Array& x, const std::vector<int>& axes, const IndexArrays& indices, int64_t k, const char* op) {
  Array view = x;
  for (size_t j = axes.size(); j-- > 0;) {
    const int axis = axes[j];
    view = view.index(axis, checked_index(indices.flat[j].data<int64_t>()[k], x.shape()[axis], axis, x.shape(), op));
  }
  return view;
}

// Where element k of the broadcast index arrays is in `x` (relative to x's first element), when every axis
// of x is indexed.
int64_t element_offset(const Array& x, const std::vector<int>& axes, const IndexArrays& indices, int64_t k, const char* op) {
  int64_t offset = 0;
  for (size_t j = 0; j < axes.size(); ++j) {
    const int axis = axes[j];
    offset += checked_index(indices.flat[j].data<int64_t>()[k], x.shape()[axis], axis, x.shape(), op) * x.strides()[axis];
  }
  return offset;
}

// The result's shape with the index dimensions flattened into one, and where that dimension is.
std::pair<Shape, int> flat_result_shape(const Shape& x, const std::vector<int>& axes, int64_t count, bool dims_first) {
  Shape flat = advanced_shape(x, axes, Shape{count}, dims_first);
  return {flat, index_position(axes, dims_first)};
}

}  // namespace

Shape broadcast_index_shape(std::span<const Array> indices, const char* op) {
  int ndim = 0;
  for (const Array& a : indices) ndim = std::max(ndim, a.ndim());
  Shape shape(ndim, 1);
  for (const Array& a : indices)
    for (int d = 0; d < a.ndim(); ++d) {
      int64_t& dim = shape[ndim - a.ndim() + d];
      const int64_t size = a.shape()[d];
      if (size == 1) continue;
      if (dim != 1 && dim != size) {
        std::string shapes;
        for (const Array& each : indices) shapes += " " + shape_str(each.shape());
        throw IndexError(std::string("[") + op + "] shape mismatch: index arrays could not be broadcast together with shapes" +
                         shapes);
      }
      dim = size;
    }
  return shape;
}

std::vector<int> advanced_result_axes(int x_ndim, const std::vector<int>& axes, int b_ndim, bool dims_first) {
  std::vector<int> x_axes(x_ndim), b_dims(b_ndim);
  for (int axis = 0; axis < x_ndim; ++axis) x_axes[axis] = axis;
  for (int d = 0; d < b_ndim; ++d) b_dims[d] = -1 - d;
  return advanced_shape(x_axes, axes, b_dims, dims_first);
}

std::string AdvancedSubtensor::props() const { return axes_props(axes_, dims_first_); }

std::vector<TensorType> AdvancedSubtensor::output_types(const std::vector<Variable>& inputs) const {
  const Variable& x = inputs.at(0);
  std::span<const Variable> indices(inputs.begin() + 1, inputs.end());
  check_advanced_inputs(x, axes_, indices, "take");
  return {TensorType(x.dtype(), advanced_shape(x.type().shape, axes_, broadcast_index_types(indices, "take"), dims_first_))};
}

void AdvancedSubtensor::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  IndexArrays indices = broadcast_indices(inputs.subspan(1), "take");
  Array out = Array::empty(advanced_shape(x.shape(), axes_, indices.shape, dims_first_), x.dtype());
  auto [flat_shape, position] = flat_result_shape(x.shape(), axes_, indices.count, dims_first_);
  if (axes_.size() == static_cast<size_t>(x.ndim())) {  // one element per index (p[arange(n), y]): no views
    dispatch_dtype(x.dtype(), [&]<class T>() {
      const T* base = x.data<T>();
      T* o = out.data<T>();
      for (int64_t k = 0; k < indices.count; ++k) o[k] = base[element_offset(x, axes_, indices, k, "take")];
    });
    outputs[0] = std::move(out);
    return;
  }
  Array flat = out.reshape(flat_shape);
  for (int64_t k = 0; k < indices.count; ++k) flat.index(position, k).copy_from(slab(x, axes_, indices, k, "take"));
  outputs[0] = std::move(out);
}

std::vector<Variable> AdvancedSubtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  std::vector<Variable> grads(node.inputs().size());
  const Variable& x = node.input(0);
  if (!is_inexact(x.dtype())) return grads;
  std::vector<Variable> inputs = {zeros_like(x), output_grads[0]};
  for (const Variable& index : tail(node.inputs(), 1)) inputs.push_back(index);
  grads[0] = apply_op1(std::make_shared<AdvancedIncSubtensor>(axes_, false, dims_first_), inputs);
  return grads;
}

std::vector<std::vector<Variable>> AdvancedSubtensor::infer_shape(const Apply&,
                                                                  const std::vector<std::vector<Variable>>& shapes) const {
  // The broadcast index shape: for valid indices each dimension is the largest of the sizes there.
  size_t ndim = 0;
  for (size_t i = 1; i < shapes.size(); ++i) ndim = std::max(ndim, shapes[i].size());
  std::vector<Variable> b(ndim);
  for (size_t i = 1; i < shapes.size(); ++i)
    for (size_t d = 0; d < shapes[i].size(); ++d) {
      Variable& dim = b[ndim - shapes[i].size() + d];
      dim = dim ? maximum(dim, shapes[i][d]) : shapes[i][d];
    }
  return {advanced_shape(shapes[0], axes_, b, dims_first_)};
}

// ---- AdvancedIncSubtensor ----

std::string AdvancedIncSubtensor::props() const { return axes_props(axes_, dims_first_); }

std::vector<TensorType> AdvancedIncSubtensor::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &value = inputs.at(1);
  std::vector<Variable> take_inputs = {x};
  take_inputs.insert(take_inputs.end(), inputs.begin() + 2, inputs.end());
  auto region = AdvancedSubtensor(axes_, dims_first_).output_types(take_inputs).at(0);
  validate_value_type(region, value, set_ ? "set_subtensor" : "inc_subtensor");
  return {x.type()};
}

void AdvancedIncSubtensor::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const char* op = set_ ? "set_subtensor" : "inc_subtensor";
  const Array& x = inputs[0];
  IndexArrays indices = broadcast_indices(inputs.subspan(2), op);
  Shape region = advanced_shape(x.shape(), axes_, indices.shape, dims_first_);
  auto [flat_shape, position] = flat_result_shape(x.shape(), axes_, indices.count, dims_first_);
  Array value = broadcast_value(inputs[1], node.input(1).type(), region, op).astype(x.dtype()).reshape(flat_shape);
  Array out = written_in_place(inputs, outputs) ? outputs[0] : x.copy();
  if (axes_.size() == static_cast<size_t>(x.ndim())) {  // one element per index: no views
    const Array values = value.contiguous();
    dispatch_dtype(x.dtype(), [&]<class T>() {
      T* base = out.data<T>();
      const T* v = values.data<T>();
      for (int64_t k = 0; k < indices.count; ++k) {
        T& cell = base[element_offset(out, axes_, indices, k, op)];
        if constexpr (std::is_same_v<T, bool>) cell = set_ ? v[k] : (cell || v[k]);
        else cell = set_ ? v[k] : static_cast<T>(cell + v[k]);  // repeated positions accumulate
      }
    });
    outputs[0] = std::move(out);
    return;
  }
  for (int64_t k = 0; k < indices.count; ++k) {
    Array destination = slab(out, axes_, indices, k, op);
    if (set_) destination.copy_from(value.index(position, k));
    else destination.add_from(value.index(position, k));  // repeated positions accumulate
  }
  outputs[0] = std::move(out);
}

std::vector<Variable> AdvancedIncSubtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &value = node.input(1), &g = output_grads[0];
  const std::vector<Variable> indices = tail(node.inputs(), 2);
  std::vector<Variable> grads(node.inputs().size());
  if (is_inexact(x.dtype())) {
    if (set_) {
      std::vector<Variable> inputs = {g, zeros_like(value)};
      inputs.insert(inputs.end(), indices.begin(), indices.end());
      grads[0] = apply_op1(std::make_shared<AdvancedIncSubtensor>(axes_, true, dims_first_), inputs);
    } else {
      grads[0] = g;
    }
  }
  if (is_inexact(value.dtype())) {
    std::vector<Variable> inputs = {g};
    inputs.insert(inputs.end(), indices.begin(), indices.end());
    Variable taken = apply_op1(std::make_shared<AdvancedSubtensor>(axes_, dims_first_), inputs);
    if (set_) taken = taken * cast(last_writes(x, indices, taken.ndim()), taken.dtype());
    grads[1] = sum_to_value(taken, value);
  }
  return grads;
}

// Where an assignment repeats a position, the last write stays (perform writes in index order): a
// mask, placed as the index dimensions are in a result of `ndim` dimensions, that is true at the writes
// that stay. The value's gradient counts only those, so x[[i, i]] = y gives y a gradient of one.
Variable AdvancedIncSubtensor::last_writes(const Variable& x, const std::vector<Variable>& indices, int ndim) const {
  int b_ndim = 0;
  for (const Variable& index : indices) b_ndim = std::max(b_ndim, index.ndim());
  Variable broadcast = constant(0.0, DType::Int64);  // the index arrays' broadcast shape, as zeros
  for (const Variable& index : indices) {
    std::vector<int> pattern(b_ndim - index.ndim(), kNewAxis);
    for (int d = 0; d < index.ndim(); ++d) pattern.push_back(d);
    broadcast = broadcast + zeros_like(dimshuffle(cast(index, DType::Int64), pattern));
  }
  std::vector<Operand> b_shape;
  Variable count = constant(1.0, DType::Int64);
  for (int d = 0; d < b_ndim; ++d) {
    b_shape.emplace_back(shape_i(broadcast, d));
    count = count * shape_i(broadcast, d);
  }
  const Variable order = b_ndim ? reshape(arange(count), b_shape) : arange(count)[{0}];
  // Stamp each write's order into a table over the indexed axes; the stamp that stays is the last.
  std::vector<Operand> table_shape;
  std::vector<int> table_axes;
  for (size_t k = 0; k < axes_.size(); ++k) {
    table_shape.emplace_back(shape_i(x, axes_[k]));
    table_axes.push_back(static_cast<int>(k));
  }
  std::vector<Variable> stamp_inputs = {full(table_shape, -1, DType::Int64), order};
  stamp_inputs.insert(stamp_inputs.end(), indices.begin(), indices.end());
  const Variable table = apply_op1(std::make_shared<AdvancedIncSubtensor>(table_axes, true), stamp_inputs);
  std::vector<Variable> read_inputs = {table};
  read_inputs.insert(read_inputs.end(), indices.begin(), indices.end());
  const Variable stays = eq(apply_op1(std::make_shared<AdvancedSubtensor>(table_axes), read_inputs), order);
  // The index dimensions sit at index_position of the axes left after the indexed ones are removed.
  const int at = index_position(axes_, dims_first_);
  std::vector<int> pattern;
  for (int d = 0; d < ndim; ++d) pattern.push_back(d >= at && d < at + b_ndim ? d - at : kNewAxis);
  return dimshuffle(stays, pattern);
}

std::vector<std::vector<Variable>> AdvancedIncSubtensor::infer_shape(const Apply&,
                                                                    const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

// ---- Builders ----

namespace {

// An index list resolved against x: basic entries (integers and slices), integer-array indices with
// the axes of x they index, and new axes.
struct ParsedIndex {
  std::vector<BasicIndex> entries;
  std::vector<Variable> scalars;
  std::vector<int> advanced_axes;  // axes of x, ascending
  std::vector<Variable> advanced_indices;
  std::vector<int> new_axes;       // positions in the result where newaxis inserts a dimension
  bool dims_first = false;         // the index arrays were apart in the list: their dimensions go first
};

Variable index_variable(const Index& index, const char* op) {
  Variable v = std::get<Operand>(index.value()).as_variable();
  if (!is_integer(v.dtype())) throw TypeError(std::string("[") + op + "] indices must be integers, got " + v.type().str());
  return v;
}

// The mask itself, after checking when the graph runs that its shape is that of the axes of x it indexes.
class MaskMatches : public Op {
 public:
  std::string save() const override {
    OpWriter out("mask_matches");
    out.integer(first_axis_);
    return out.bytes();
  }
  explicit MaskMatches(int first_axis) : first_axis_(first_axis) {}
  std::string name() const override { return "boolean_index"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.size() != 2 || first_axis_ < 0 || first_axis_ + inputs[0].ndim() > inputs[1].ndim())
      throw TypeError("[boolean_index] takes a mask and the indexed tensor");
    return {inputs[0].type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &mask = inputs[0], &x = inputs[1];
    for (int axis = 0; axis < mask.ndim(); ++axis)
      if (mask.shape()[axis] != x.shape()[first_axis_ + axis])
        throw IndexError("[subtensor] boolean index of shape " + shape_str(mask.shape()) + " does not match the indexed " +
                         shape_str(x.shape()) + " along axis " + std::to_string(first_axis_ + axis));
    outputs[0] = mask;
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    return std::vector<Variable>(node.inputs().size());
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}}; }

 private:
  int first_axis_;
};

// NumPy's boolean masks: a k-dimensional mask stands for the k integer arrays of its nonzero coordinates,
// checked against the k axes of x it covers (an ellipsis before it counts from the end).
IndexList expand_boolean_masks(const Variable& x, const IndexList& list, const char* op) {
  auto mask_of = [](const Index& index) -> Variable {
    const auto* operand = std::get_if<Operand>(&index.value());
    if (!operand) return Variable();
    Variable v = operand->as_variable();
    return is_bool(v.dtype()) && v.ndim() > 0 ? v : Variable();
  };
  std::vector<int> consumed;  // axes of x each entry indexes
  bool any_mask = false;
  for (const Index& index : list.indices) {
    const Variable mask = mask_of(index);
    any_mask = any_mask || static_cast<bool>(mask);
    const bool no_axis = std::holds_alternative<Ellipsis>(index.value()) || std::holds_alternative<NewAxis>(index.value());
    consumed.push_back(mask ? mask.ndim() : no_axis ? 0 : 1);
  }
  if (!any_mask) return list;
  int total = 0;
  for (int c : consumed) total += c;
  if (total > x.ndim())
    throw IndexError(std::string("[") + op + "] too many indices for " + x.type().str() + ": the index covers " +
                     std::to_string(total) + " axes");
  std::vector<Index> expanded;
  int axis = 0;
  for (size_t k = 0; k < list.indices.size(); ++k) {
    if (std::holds_alternative<Ellipsis>(list.indices[k].value())) axis += x.ndim() - total;
    const Variable mask = mask_of(list.indices[k]);
    if (!mask) {
      expanded.push_back(list.indices[k]);
      axis += consumed[k];
      continue;
    }
    Variable checked = apply_op1(std::make_shared<MaskMatches>(axis), {mask, x}, list.where);
    for (const Variable& coordinates : nonzero(Operand(checked, list.where))) expanded.emplace_back(coordinates);
    axis += consumed[k];
  }
  return IndexList(std::move(expanded), list.where);
}

ParsedIndex parse_index(const Variable& x, const IndexList& given, const char* op) {
  const IndexList list = expand_boolean_masks(x, given, op);
  ParsedIndex parsed;
  int real = 0, ellipses = 0;
  for (const Index& index : list.indices) {
    if (std::holds_alternative<Ellipsis>(index.value())) ++ellipses;
    else if (!std::holds_alternative<NewAxis>(index.value())) ++real;
  }
  if (ellipses > 1) throw IndexError(std::string("[") + op + "] an index can only have a single ellipsis");
  if (real > x.ndim())
    throw IndexError(std::string("[") + op + "] too many indices for " + x.type().str() + ": " + std::to_string(real) +
                     " were given");
  // Integer and integer-array entries as Variables, once; and where they stand in the list.
  std::vector<Variable> resolved(list.indices.size());
  std::vector<int> array_positions, integer_positions;
  int b_ndim = 0;
  for (size_t k = 0; k < list.indices.size(); ++k) {
    if (!std::holds_alternative<Operand>(list.indices[k].value())) continue;
    resolved[k] = index_variable(list.indices[k], op);
    (resolved[k].ndim() ? array_positions : integer_positions).push_back(static_cast<int>(k));
    b_ndim = std::max(b_ndim, resolved[k].ndim());
  }
  // With arrays present NumPy counts integers as index arrays. Next to each other in the list (nothing,
  // not even newaxis or an empty ellipsis, between them) the integers may stay basic (dropping their
  // axes first) and the index dimensions replace the arrays' axes; apart, every one of them is an index
  // array and the index dimensions come first.
  std::vector<int> combined = array_positions;
  if (!array_positions.empty()) combined.insert(combined.end(), integer_positions.begin(), integer_positions.end());
  std::sort(combined.begin(), combined.end());
  const bool integers_advanced = !array_positions.empty() && !adjacent(combined);
  parsed.dims_first = integers_advanced;

  int axis = 0, out_dim = integers_advanced ? b_ndim : 0;
  bool advanced_placed = integers_advanced;
  auto full_slice = [&] {
    parsed.entries.push_back(BasicIndex{});
    ++axis;
    ++out_dim;
  };
  for (size_t k = 0; k < list.indices.size(); ++k) {
    const auto& value = list.indices[k].value();
    if (std::holds_alternative<Ellipsis>(value)) {
      for (int n = 0; n < x.ndim() - real; ++n) full_slice();
    } else if (std::holds_alternative<NewAxis>(value)) {
      parsed.new_axes.push_back(out_dim++);
    } else if (const auto* s = std::get_if<SliceIndex>(&value)) {
      BasicIndex entry;
      for (auto [bound, flag] : {std::pair{&s->start, &entry.has_start}, {&s->stop, &entry.has_stop}, {&s->step, &entry.has_step}})
        if (*bound) {
          *flag = true;
          parsed.scalars.push_back((*bound)->as_variable());
        }
      parsed.entries.push_back(entry);
      ++axis;
      ++out_dim;
    } else if (resolved[k].ndim() == 0 && !integers_advanced) {
      parsed.entries.push_back(BasicIndex{true});
      parsed.scalars.push_back(resolved[k]);
      ++axis;
    } else {
      parsed.advanced_axes.push_back(axis++);
      parsed.advanced_indices.push_back(resolved[k]);
      parsed.entries.push_back(BasicIndex{});  // a full slice; the advanced indexing follows
      if (!advanced_placed) out_dim += b_ndim;   // the index dimensions appear once, at the first array
      advanced_placed = true;
    }
  }
  return parsed;
}

// Variable for the basic part of `parsed` (a view). An index of full slices alone is x itself, unless
// `keep_full` asks for a node (so that set_subtensor(x[:], y) sees an indexing result).
Variable basic_subtensor(const Variable& x, const ParsedIndex& parsed, std::source_location where, bool keep_full) {
  bool trivial = parsed.scalars.empty();
  for (const BasicIndex& e : parsed.entries) trivial = trivial && !e.is_integer;
  if (trivial && !(keep_full && !parsed.entries.empty())) return x;
  std::vector<Variable> inputs = {x};
  inputs.insert(inputs.end(), parsed.scalars.begin(), parsed.scalars.end());
  return apply_op1(std::make_shared<Subtensor>(parsed.entries), inputs, where);
}

// The advanced axes once the basic indexing dropped the integer axes before them.
std::vector<int> advanced_axes_after_basic(const ParsedIndex& parsed) {
  std::vector<int> axes;
  for (int axis : parsed.advanced_axes) {
    int after = axis;
    for (int k = 0; k < axis; ++k) after -= parsed.entries[k].is_integer;
    axes.push_back(after);
  }
  return axes;
}

}  // namespace

Variable subtensor(const Variable& x, const IndexList& indices) {
  if (x && x.is_sparse()) return sparse_subtensor(x, indices);
  return at_location(indices.where, [&] {
    ParsedIndex parsed = parse_index(x, indices, "subtensor");
    const bool advanced = !parsed.advanced_axes.empty();
    Variable result = basic_subtensor(x, parsed, indices.where, /*keep_full=*/!advanced && parsed.new_axes.empty());
    if (advanced) {
      std::vector<Variable> inputs = {result};
      inputs.insert(inputs.end(), parsed.advanced_indices.begin(), parsed.advanced_indices.end());
      result = apply_op1(std::make_shared<AdvancedSubtensor>(advanced_axes_after_basic(parsed), parsed.dims_first), inputs,
                         indices.where);
    }
    if (!parsed.new_axes.empty()) {
      std::vector<int> pattern;
      int next = 0;
      const int out_ndim = result.ndim() + static_cast<int>(parsed.new_axes.size());
      for (int d = 0; d < out_ndim; ++d)
        pattern.push_back(std::find(parsed.new_axes.begin(), parsed.new_axes.end(), d) != parsed.new_axes.end() ? kNewAxis : next++);
      result = dimshuffle(Operand(result, indices.where), pattern);
    }
    if (!result.is(x)) result.node()->built_by_indexing = std::make_shared<IndexRecord>(IndexRecord{x, indices});
    return result;
  });
}

namespace {

Variable write_subtensor(const Variable& x, const IndexList& indices, const Operand& value_operand, bool set) {
  const char* op = set ? "set_subtensor" : "inc_subtensor";
  return at_location(indices.where, [&] {
    ParsedIndex parsed = parse_index(x, indices, op);
    if (!parsed.new_axes.empty()) throw IndexError(std::string("[") + op + "] newaxis is not supported when writing");
    Variable value = value_operand.as_weak_variable(x.dtype());
    std::vector<Variable> scalars = parsed.scalars;
    if (parsed.advanced_axes.empty()) {
      std::vector<Variable> inputs = {x, value};
      inputs.insert(inputs.end(), scalars.begin(), scalars.end());
      return apply_op1(std::make_shared<IncSubtensor>(parsed.entries, set), inputs, indices.where);
    }
    // Write the advanced part into the basic region, then write that region back into x.
    Variable region = basic_subtensor(x, parsed, indices.where, /*keep_full=*/false);
    std::vector<Variable> inputs = {region, value};
    inputs.insert(inputs.end(), parsed.advanced_indices.begin(), parsed.advanced_indices.end());
    Variable written = apply_op1(std::make_shared<AdvancedIncSubtensor>(advanced_axes_after_basic(parsed), set, parsed.dims_first),
                                 inputs, indices.where);
    if (region.is(x)) return written;
    inputs = {x, written};
    inputs.insert(inputs.end(), scalars.begin(), scalars.end());
    return apply_op1(std::make_shared<IncSubtensor>(parsed.entries, true), inputs, indices.where);
  });
}

}  // namespace

Variable set_subtensor(const Variable& x, const IndexList& indices, const Operand& value) {
  return write_subtensor(x, indices, value, true);
}
Variable inc_subtensor(const Variable& x, const IndexList& indices, const Operand& value) {
  return write_subtensor(x, indices, value, false);
}

namespace {

// The x and index list that built `indexed` (x[indices]), read back from its Subtensor and
// AdvancedSubtensor nodes.
std::pair<Variable, IndexList> indexing_of(const Variable& indexed, const char* op, std::source_location where) {
  if (const auto& record = indexed.node()->built_by_indexing) return {record->x, IndexList(record->indices.indices, where)};
  Variable base = indexed;
  std::shared_ptr<Apply> node = indexed.owner();
  std::vector<int> advanced_axes;  // after the basic indexing
  std::vector<Variable> advanced_indices;
  if (node) {
    if (const auto* take_op = dynamic_cast<const AdvancedSubtensor*>(&node->op())) {
      advanced_axes = take_op->axes();
      advanced_indices = tail(node->inputs(), 1);
      base = node->input(0);
      node = base.owner();
    }
  }
  std::vector<BasicIndex> entries;
  std::vector<Variable> scalars;
  Variable x = base;
  if (node && dynamic_cast<const Subtensor*>(&node->op())) {
    entries = static_cast<const Subtensor&>(node->op()).entries();
    scalars = tail(node->inputs(), 1);
    x = node->input(0);
  } else if (advanced_axes.empty()) {
    throw TypeError(std::string("[") + op + "] expects the result of indexing a tensor (x[...]), got " + indexed.str() +
                    (node ? " built by " + node->op().str() : std::string(", which is not computed by indexing")));
  }
  std::vector<Index> indices;
  size_t next = 0, next_advanced = 0;
  int kept_axis = 0;  // axis position after the integer entries are dropped
  auto take_advanced = [&](int axis) {
    if (next_advanced < advanced_axes.size() && advanced_axes[next_advanced] == axis) return advanced_indices[next_advanced++];
    return Variable();
  };
  for (const BasicIndex& entry : entries) {
    if (entry.is_integer) {
      indices.emplace_back(scalars[next++]);
      continue;
    }
    SliceIndex bounds;
    if (entry.has_start) bounds.start = Operand(scalars[next++]);
    if (entry.has_stop) bounds.stop = Operand(scalars[next++]);
    if (entry.has_step) bounds.step = Operand(scalars[next++]);
    if (Variable array = take_advanced(kept_axis++)) {
      if (entry.has_start || entry.has_stop || entry.has_step)
        throw IndexError(std::string("[") + op + "] cannot write through a slice followed by an integer-array index on "
                         "the same axis; index x once");
      indices.emplace_back(array);
    } else {
      indices.emplace_back(bounds);
    }
  }
  for (; next_advanced < advanced_axes.size(); ++kept_axis) {
    Variable array = take_advanced(kept_axis);
    indices.emplace_back(array ? Index(array) : Index(slice_all()));
  }
  return {x, IndexList(std::move(indices), where)};
}

}  // namespace

Variable set_subtensor(const Variable& indexed, const Operand& value, std::source_location where) {
  auto [x, indices] = at_location(where, [&] { return indexing_of(indexed, "set_subtensor", where); });
  return set_subtensor(x, indices, value);
}

Variable inc_subtensor(const Variable& indexed, const Operand& value, std::source_location where) {
  auto [x, indices] = at_location(where, [&] { return indexing_of(indexed, "inc_subtensor", where); });
  return inc_subtensor(x, indices, value);
}

Variable take(const Operand& x, const Operand& indices, int axis) {
  Variable input = x.as_variable();
  Variable index = indices.as_variable();
  int resolved = axis < 0 ? axis + input.ndim() : axis;
  return apply_op1(std::make_shared<AdvancedSubtensor>(std::vector<int>{resolved}), {input, index}, x.where());
}

SliceIndex slice(std::optional<Operand> start, std::optional<Operand> stop, std::optional<Operand> step) {
  return SliceIndex{std::move(start), std::move(stop), std::move(step)};
}

// ---- Saving ----

namespace {
void write_entries(OpWriter& out, const std::vector<BasicIndex>& entries) {
  std::vector<int> flags;
  for (const BasicIndex& e : entries) flags.push_back(e.is_integer | e.has_start << 1 | e.has_stop << 2 | e.has_step << 3);
  out.integers(flags);
}
std::vector<BasicIndex> read_entries(OpReader& in) {
  std::vector<BasicIndex> entries;
  for (int flags : in.integers()) {
    if (flags < 0 || flags > 15) in.damaged("an index entry's flags " + std::to_string(flags));
    entries.push_back(BasicIndex{(flags & 1) != 0, (flags & 2) != 0, (flags & 4) != 0, (flags & 8) != 0});
  }
  return entries;
}
}  // namespace

std::string Subtensor::save() const {
  OpWriter out("subtensor");
  write_entries(out, entries_);
  return out.bytes();
}
std::string IncSubtensor::save() const {
  OpWriter out("inc_subtensor");
  write_entries(out, entries_);
  out.flag(set_);
  return out.bytes();
}
std::string AdvancedSubtensor::save() const {
  OpWriter out("take");
  out.integers(axes_);
  out.flag(dims_first_);
  return out.bytes();
}
std::string AdvancedIncSubtensor::save() const {
  OpWriter out("inc_take");
  out.integers(axes_);
  out.flag(set_);
  out.flag(dims_first_);
  return out.bytes();
}

void register_subtensor_loaders(OpLoaders& loaders) {
  loaders["mask_matches"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<MaskMatches>(static_cast<int>(in.integer_in(0, 1 << 20, "an axis")));
  };
  loaders["subtensor"] = [](OpReader& in) -> OpPtr { return std::make_shared<Subtensor>(read_entries(in)); };
  loaders["inc_subtensor"] = [](OpReader& in) -> OpPtr {
    auto entries = read_entries(in);
    return std::make_shared<IncSubtensor>(entries, in.flag());
  };
  loaders["take"] = [](OpReader& in) -> OpPtr {
    auto axes = in.integers();
    return std::make_shared<AdvancedSubtensor>(axes, in.flag());
  };
  loaders["inc_take"] = [](OpReader& in) -> OpPtr {
    auto axes = in.integers();
    const bool set = in.flag();
    return std::make_shared<AdvancedIncSubtensor>(axes, set, in.flag());
  };
}
}  // namespace hypatia
