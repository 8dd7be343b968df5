#include "ops/subtensor.h"

#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/op_support.h"

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

// x[entries] at run time: a view.
Array apply_basic_index(const Array& x, const std::vector<BasicIndex>& entries, std::span<const Array> scalars) {
  std::vector<Slice> slices;
  std::vector<int> integer_axes;
  size_t next = 0;
  for (size_t axis = 0; axis < entries.size(); ++axis) {
    const BasicIndex& e = entries[axis];
    if (e.is_integer) {
      int64_t i = static_cast<int64_t>(scalars[next++].item()), dim = x.shape()[axis];
      if (i < -dim || i >= dim)
        throw IndexError("[subtensor] index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(axis) +
                         " with size " + std::to_string(dim) + " (shape " + shape_str(x.shape()) + ")");
      if (i < 0) i += dim;
      slices.push_back(Slice{i, i + 1, 1});
      integer_axes.push_back(static_cast<int>(axis));
      continue;
    }
    Slice s;
    if (e.has_start) s.start = static_cast<int64_t>(scalars[next++].item());
    if (e.has_stop) s.stop = static_cast<int64_t>(scalars[next++].item());
    if (e.has_step) s.step = static_cast<int64_t>(scalars[next++].item());
    if (s.step == 0) throw ValueError("[subtensor] slice step cannot be zero");
    slices.push_back(s);
  }
  Array view = x.slice(slices);
  for (auto it = integer_axes.rbegin(); it != integer_axes.rend(); ++it) view = view.index(*it, 0);
  return view;
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

// dst += src elementwise (same shape; src already converted to dst's dtype).
void add_into(const Array& dst, const Array& src) {
  if (dst.size() == 0) return;
  dispatch_dtype(dst.dtype(), [&]<class T>() {
    T* out = static_cast<T*>(dst.storage()->data());
    const T* in = static_cast<const T*>(src.storage()->data());
    IndexIterator it(dst.shape());
    do {
      int64_t po = dst.offset(), pi = src.offset();
      for (int axis = 0; axis < dst.ndim(); ++axis) {
        po += it.index()[axis] * dst.strides()[axis];
        pi += it.index()[axis] * src.strides()[axis];
      }
      if constexpr (std::is_same_v<T, bool>) out[po] = out[po] || in[pi];
      else out[po] = static_cast<T>(out[po] + in[pi]);
    } while (it.next());
  });
}

void validate_value_type(const TensorType& region, const Variable& value, const char* op) {
  if (value.ndim() > region.ndim())
    throw ShapeError(std::string("[") + op + "] value " + value.type().str() + " has more dimensions than the indexed region " +
                     region.str());
  const int lead = region.ndim() - value.ndim();
  for (int axis = 0; axis < value.ndim(); ++axis) {
    int64_t have = value.type().shape[axis], want = region.shape[lead + axis];
    if (have != 1 && have != TensorType::kUnknown && want != TensorType::kUnknown && have != want)
      throw ShapeError(std::string("[") + op + "] value " + value.type().str() + " cannot be broadcast to the indexed region " +
                       region.str());
  }
}

int64_t checked_index(int64_t i, int64_t dim, int axis, const Shape& shape, const char* op) {
  if (i < -dim || i >= dim)
    throw IndexError(std::string("[") + op + "] index " + std::to_string(i) + " is out of bounds for axis " +
                     std::to_string(axis) + " with size " + std::to_string(dim) + " (shape " + shape_str(shape) + ")");
  return i < 0 ? i + dim : i;
}

}  // namespace

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

std::vector<Variable> Subtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  std::vector<Variable> grads(node.inputs().size());
  if (!is_float(x.dtype())) return grads;
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
  Array out = inputs[0].copy();
  Array region = apply_basic_index(out, entries_, inputs.subspan(2));
  const char* op = set_ ? "set_subtensor" : "inc_subtensor";
  Array value = broadcast_value(inputs[1], node.input(1).type(), region.shape(), op).astype(out.dtype());
  if (set_) region.copy_from(value);
  else add_into(region, value);
  outputs[0] = std::move(out);
}

std::vector<Variable> IncSubtensor::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &value = node.input(1), &g = output_grads[0];
  auto scalars = tail(node.inputs(), 2);
  std::vector<Variable> grads(node.inputs().size());
  if (is_float(x.dtype())) {
    if (set_) {
      std::vector<Variable> inputs = {g, zeros_like(value)};
      inputs.insert(inputs.end(), scalars.begin(), scalars.end());
      grads[0] = apply_op1(std::make_shared<IncSubtensor>(entries_, true), inputs);
    } else {
      grads[0] = g;
    }
  }
  if (is_float(value.dtype())) {
    std::vector<Variable> inputs = {g};
    inputs.insert(inputs.end(), scalars.begin(), scalars.end());
    grads[1] = sum_to_value(apply_op1(std::make_shared<Subtensor>(entries_), inputs), value);
  }
  return grads;
}

std::vector<std::vector<Variable>> IncSubtensor::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

// ---- AdvancedSubtensor1 ----

std::vector<TensorType> AdvancedSubtensor1::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &indices = inputs.at(1);
  if (!is_integer(indices.dtype()))
    throw TypeError("[take] indices must be integers, got " + indices.type().str());
  if (axis_ < 0 || axis_ >= x.ndim())
    throw ValueError("[take] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
  std::vector<int64_t> shape(x.type().shape.begin(), x.type().shape.begin() + axis_);
  shape.insert(shape.end(), indices.type().shape.begin(), indices.type().shape.end());
  shape.insert(shape.end(), x.type().shape.begin() + axis_ + 1, x.type().shape.end());
  return {TensorType(x.dtype(), shape)};
}

void AdvancedSubtensor1::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  const Array indices = inputs[1].astype(DType::Int64);
  Shape shape(x.shape().begin(), x.shape().begin() + axis_);
  shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
  shape.insert(shape.end(), x.shape().begin() + axis_ + 1, x.shape().end());
  Array out = Array::empty(shape, x.dtype());
  // out[..., k, ...] = x[..., indices[k], ...], one slab per index.
  const int64_t* index = indices.data<int64_t>();
  Shape slab_shape(shape.begin(), shape.begin() + axis_);
  slab_shape.insert(slab_shape.end(), x.shape().begin() + axis_ + 1, x.shape().end());
  Array out_slabs = out.reshape([&] {
    Shape s(x.shape().begin(), x.shape().begin() + axis_);
    s.push_back(indices.size());
    s.insert(s.end(), x.shape().begin() + axis_ + 1, x.shape().end());
    return s;
  }());
  for (int64_t k = 0; k < indices.size(); ++k) {
    int64_t i = checked_index(index[k], x.shape()[axis_], axis_, x.shape(), "take");
    Array destination = out_slabs.index(axis_, k);
    destination.copy_from(x.index(axis_, i));
  }
  outputs[0] = std::move(out);
}

std::vector<Variable> AdvancedSubtensor1::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &indices = node.input(1);
  if (!is_float(x.dtype())) return {Variable(), Variable()};
  return {apply_op1(std::make_shared<AdvancedIncSubtensor1>(axis_, false), {zeros_like(x), output_grads[0], indices}),
          Variable()};
}

std::vector<std::vector<Variable>> AdvancedSubtensor1::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  std::vector<Variable> dims(shapes[0].begin(), shapes[0].begin() + axis_);
  dims.insert(dims.end(), shapes[1].begin(), shapes[1].end());
  dims.insert(dims.end(), shapes[0].begin() + axis_ + 1, shapes[0].end());
  return {dims};
}

// ---- AdvancedIncSubtensor1 ----

std::vector<TensorType> AdvancedIncSubtensor1::output_types(const std::vector<Variable>& inputs) const {
  const Variable &x = inputs.at(0), &value = inputs.at(1), &indices = inputs.at(2);
  auto region = AdvancedSubtensor1(axis_).output_types({x, indices}).at(0);
  validate_value_type(region, value, set_ ? "set_subtensor" : "inc_subtensor");
  return {x.type()};
}

void AdvancedIncSubtensor1::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  const Array indices = inputs[2].astype(DType::Int64).reshape({-1});
  Shape region(x.shape().begin(), x.shape().begin() + axis_);
  region.insert(region.end(), inputs[2].shape().begin(), inputs[2].shape().end());
  region.insert(region.end(), x.shape().begin() + axis_ + 1, x.shape().end());
  const char* op = set_ ? "set_subtensor" : "inc_subtensor";
  Array value = broadcast_value(inputs[1], node.input(1).type(), region, op).astype(x.dtype());
  // View the value's index axes as one, to walk it alongside the flat indices.
  Shape flat_region(x.shape().begin(), x.shape().begin() + axis_);
  flat_region.push_back(indices.size());
  flat_region.insert(flat_region.end(), x.shape().begin() + axis_ + 1, x.shape().end());
  value = value.reshape(flat_region);
  Array out = x.copy();
  const int64_t* index = indices.data<int64_t>();
  for (int64_t k = 0; k < indices.size(); ++k) {
    int64_t i = checked_index(index[k], x.shape()[axis_], axis_, x.shape(), op);
    Array destination = out.index(axis_, i);
    if (set_) destination.copy_from(value.index(axis_, k));
    else add_into(destination, value.index(axis_, k));  // repeated indices accumulate
  }
  outputs[0] = std::move(out);
}

std::vector<Variable> AdvancedIncSubtensor1::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable &x = node.input(0), &value = node.input(1), &indices = node.input(2), &g = output_grads[0];
  std::vector<Variable> grads(3);
  if (is_float(x.dtype()))
    grads[0] = set_ ? apply_op1(std::make_shared<AdvancedIncSubtensor1>(axis_, true), {g, zeros_like(value), indices}) : g;
  if (is_float(value.dtype()))
    grads[1] = sum_to_value(apply_op1(std::make_shared<AdvancedSubtensor1>(axis_), {g, indices}), value);
  return grads;
}

std::vector<std::vector<Variable>> AdvancedIncSubtensor1::infer_shape(const Apply&,
                                                                     const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

// ---- Builders ----

namespace {

// An index list resolved against x: basic entries, at most one integer-array axis, new axes.
struct ParsedIndex {
  std::vector<BasicIndex> entries;
  std::vector<Variable> scalars;
  int advanced_axis = -1;       // input axis of the integer-array index
  Variable advanced_indices;
  std::vector<int> new_axes;    // positions in the result where newaxis inserts a dimension
};

ParsedIndex parse_index(const Variable& x, const IndexList& list, const char* op) {
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
  int axis = 0, out_dim = 0;
  auto full_slice = [&] {
    parsed.entries.push_back(BasicIndex{});
    ++axis;
    ++out_dim;
  };
  for (const Index& index : list.indices) {
    const auto& value = index.value();
    if (std::holds_alternative<Ellipsis>(value)) {
      for (int k = 0; k < x.ndim() - real; ++k) full_slice();
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
    } else {
      Variable v = std::get<Operand>(value).as_variable();
      if (is_bool(v.dtype()) && v.ndim() > 0)
        throw TypeError(std::string("[") + op + "] boolean mask indexing is not supported; use where (switch)");
      if (!is_integer(v.dtype()))
        throw TypeError(std::string("[") + op + "] indices must be integers, got " + v.type().str());
      if (v.ndim() == 0) {
        parsed.entries.push_back(BasicIndex{true});
        parsed.scalars.push_back(v);
      } else {
        if (parsed.advanced_axis != -1)
          throw IndexError(std::string("[") + op + "] only one integer-array index is supported");
        parsed.advanced_axis = axis;
        parsed.advanced_indices = v;
        parsed.entries.push_back(BasicIndex{});  // a full slice; the take follows
        out_dim += v.ndim();
      }
      ++axis;
    }
  }
  return parsed;
}

Variable basic_subtensor(const Variable& x, const ParsedIndex& parsed, std::source_location where) {
  bool trivial = parsed.scalars.empty();
  for (const BasicIndex& e : parsed.entries) trivial = trivial && !e.is_integer;
  if (trivial) return x;
  std::vector<Variable> inputs = {x};
  inputs.insert(inputs.end(), parsed.scalars.begin(), parsed.scalars.end());
  return apply_op1(std::make_shared<Subtensor>(parsed.entries), inputs, where);
}

// Where the integer-array axis lands after the basic indexing dropped the integer axes before it.
int advanced_axis_after_basic(const ParsedIndex& parsed) {
  int axis = parsed.advanced_axis;
  for (int k = 0; k < parsed.advanced_axis; ++k) axis -= parsed.entries[k].is_integer;
  return axis;
}

}  // namespace

Variable subtensor(const Variable& x, const IndexList& indices) {
  return at_location(indices.where, [&] {
    ParsedIndex parsed = parse_index(x, indices, "subtensor");
    Variable result = basic_subtensor(x, parsed, indices.where);
    if (parsed.advanced_axis != -1)
      result = apply_op1(std::make_shared<AdvancedSubtensor1>(advanced_axis_after_basic(parsed)),
                         {result, parsed.advanced_indices}, indices.where);
    if (!parsed.new_axes.empty()) {
      std::vector<int> pattern;
      int next = 0;
      const int out_ndim = result.ndim() + static_cast<int>(parsed.new_axes.size());
      for (int d = 0; d < out_ndim; ++d)
        pattern.push_back(std::find(parsed.new_axes.begin(), parsed.new_axes.end(), d) != parsed.new_axes.end() ? kNewAxis : next++);
      result = dimshuffle(Operand(result, indices.where), pattern);
    }
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
    if (parsed.advanced_axis == -1) {
      std::vector<Variable> inputs = {x, value};
      inputs.insert(inputs.end(), scalars.begin(), scalars.end());
      return apply_op1(std::make_shared<IncSubtensor>(parsed.entries, set), inputs, indices.where);
    }
    // Write the integer-array part into the basic region, then write that region back into x.
    const int axis = advanced_axis_after_basic(parsed);
    Variable region = basic_subtensor(x, parsed, indices.where);
    Variable written = apply_op1(std::make_shared<AdvancedIncSubtensor1>(axis, set), {region, value, parsed.advanced_indices},
                                 indices.where);
    if (region.is(x)) return written;
    std::vector<Variable> inputs = {x, written};
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
// AdvancedSubtensor1 nodes.
IndexList indexing_of(const Variable& indexed, const char* op, std::source_location where) {
  Variable base = indexed;
  std::shared_ptr<Apply> node = indexed.owner();
  int advanced_axis = -1;
  Variable advanced_indices;
  if (node) {
    if (const auto* take_op = dynamic_cast<const AdvancedSubtensor1*>(&node->op())) {
      advanced_axis = take_op->axis();
      advanced_indices = node->input(1);
      base = node->input(0);
      node = base.owner();
    }
  }
  std::vector<BasicIndex> entries;
  std::vector<Variable> scalars;
  if (node && dynamic_cast<const Subtensor*>(&node->op())) {
    entries = static_cast<const Subtensor&>(node->op()).entries();
    scalars.assign(node->inputs().begin() + 1, node->inputs().end());
  } else if (advanced_axis == -1) {
    throw TypeError(std::string("[") + op + "] expects the result of indexing a tensor (x[...]), got " + indexed.str() +
                    (node ? " built by " + node->op().str() : std::string(", which is not computed by indexing")));
  }
  std::vector<Index> indices;
  size_t next = 0;
  int kept_axis = 0;  // axis position after the integer entries are dropped
  for (const BasicIndex& entry : entries) {
    if (entry.is_integer) {
      indices.emplace_back(scalars[next++]);
      continue;
    }
    SliceIndex bounds;
    if (entry.has_start) bounds.start = Operand(scalars[next++]);
    if (entry.has_stop) bounds.stop = Operand(scalars[next++]);
    if (entry.has_step) bounds.step = Operand(scalars[next++]);
    if (kept_axis++ == advanced_axis) {
      if (entry.has_start || entry.has_stop || entry.has_step)
        throw IndexError(std::string("[") + op + "] cannot write through a slice followed by an integer-array index on "
                         "the same axis; index x once");
      indices.emplace_back(advanced_indices);
    } else {
      indices.emplace_back(bounds);
    }
  }
  for (; kept_axis <= advanced_axis; ++kept_axis)
    indices.emplace_back(kept_axis == advanced_axis ? Index(advanced_indices) : Index(slice_all()));
  return IndexList(std::move(indices), where);
}

Variable indexed_base(const Variable& indexed) {
  std::shared_ptr<Apply> node = indexed.owner();
  Variable base = node->input(0);
  if (dynamic_cast<const AdvancedSubtensor1*>(&node->op()) && base.owner() &&
      dynamic_cast<const Subtensor*>(&base.owner()->op()))
    return base.owner()->input(0);
  return base;
}

}  // namespace

Variable set_subtensor(const Variable& indexed, const Operand& value, std::source_location where) {
  IndexList indices = at_location(where, [&] { return indexing_of(indexed, "set_subtensor", where); });
  return set_subtensor(indexed_base(indexed), indices, value);
}

Variable inc_subtensor(const Variable& indexed, const Operand& value, std::source_location where) {
  IndexList indices = at_location(where, [&] { return indexing_of(indexed, "inc_subtensor", where); });
  return inc_subtensor(indexed_base(indexed), indices, value);
}

Variable take(const Operand& x, const Operand& indices, int axis) {
  Variable input = x.as_variable();
  Variable index = indices.as_variable();
  int resolved = axis < 0 ? axis + input.ndim() : axis;
  return apply_op1(std::make_shared<AdvancedSubtensor1>(resolved), {input, index}, x.where());
}

SliceIndex slice(std::optional<Operand> start, std::optional<Operand> stop, std::optional<Operand> step) {
  return SliceIndex{std::move(start), std::move(stop), std::move(step)};
}

}  // namespace hypatia
