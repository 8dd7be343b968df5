// Shape family: Reshape, MakeVector, Join, Split, Alloc, ARange, Eye and the builders over them.
#include <cmath>
#include <numeric>

#include "backend/backend.h"
#include "hypatia/elemwise.h"
#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/op_support.h"
#include "ops/shape_query.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

int64_t scalar_int(const Array& a) { return static_cast<int64_t>(a.item()); }

// A dimension argument: an int scalar Variable or a number, as int64.
Variable dimension(const Operand& d, const char* op) {
  Variable v = d.as_variable();
  if (v.ndim() != 0 || !(is_integer(v.dtype()) || is_bool(v.dtype())))
    rethrow_with_location(TypeError(std::string("[") + op + "] dimensions must be integer scalars, got " + v.type().str()),
                          d.where());
  return v;
}

std::vector<Variable> dimensions(const std::vector<Operand>& shape, const char* op) {
  std::vector<Variable> dims;
  for (const Operand& d : shape) dims.push_back(dimension(d, op));
  return dims;
}

// ---- MakeVector ----

class MakeVector : public Op {
 public:
  std::string save() const override {
    OpWriter out("make_vector");
    out.dtype(dtype_);
    return out.bytes();
  }
  explicit MakeVector(DType dtype) : dtype_(dtype) {}
  std::string name() const override { return "make_vector"; }
  std::string props() const override { return std::string(dtype_name(dtype_)); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    for (const Variable& input : inputs)
      if (input.ndim() != 0) throw TypeError("[make_vector] elements must be scalars, got " + input.type().str());
    return {TensorType(dtype_, {static_cast<int64_t>(inputs.size())})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    Array out = Array::empty({static_cast<int64_t>(inputs.size())}, dtype_);
    for (size_t i = 0; i < inputs.size(); ++i) out.index(0, static_cast<int64_t>(i)).copy_from(inputs[i]);
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    std::vector<Variable> grads;
    for (size_t i = 0; i < node.inputs().size(); ++i)
      grads.push_back(is_inexact(node.input(i).dtype()) ? output_grads[0][{static_cast<long>(i)}] : Variable());
    return grads;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{constant(static_cast<double>(node.inputs().size()), DType::Int64)}};
  }

 private:
  DType dtype_;
};

// ---- Reshape ----

class Reshape : public Op {
 public:
  std::string save() const override {
    OpWriter out("reshape");
    out.integer(ndim_);
    return out.bytes();
  }
  explicit Reshape(int ndim) : ndim_(ndim) {}
  std::string name() const override { return "reshape"; }
  std::string props() const override { return "ndim=" + std::to_string(ndim_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &x = inputs.at(0), &shape = inputs.at(1);
    if (shape.ndim() != 1 || !is_integer(shape.dtype()))
      throw TypeError("[reshape] the shape must be an integer vector, got " + shape.type().str());
    std::vector<int64_t> dims(ndim_, TensorType::kUnknown);
    auto owner = shape.owner();
    if (owner && dynamic_cast<const MakeVector*>(&owner->op())) {
      int unknown_at = -1;
      int64_t known_product = 1;
      bool all_known = true;
      for (int i = 0; i < ndim_; ++i) {
        auto value = constant_int(owner->input(i));
        if (!value) {
          all_known = false;
          continue;
        }
        if (*value == -1) {
          if (unknown_at != -1) throw ShapeError("[reshape] can only infer one dimension (two -1 in the shape)");
          unknown_at = i;
        } else if (*value < 0) {
          throw ShapeError("[reshape] negative dimension " + std::to_string(*value) + " in the shape");
        } else {
          dims[i] = *value;
          known_product *= *value;
        }
      }
      // With a fully known input and target, check sizes now instead of at run time.
      int64_t size = 1;
      for (int64_t d : x.type().shape) size = d == TensorType::kUnknown || size == -1 ? -1 : size * d;
      if (all_known && size != -1) {
        if (unknown_at != -1) {
          if (known_product == 0 || size % known_product != 0)
            throw ShapeError("[reshape] cannot reshape " + x.type().str() + " into a shape with known product " +
                             std::to_string(known_product) + " and one -1");
          dims[unknown_at] = size / known_product;
        } else if (known_product != size) {
          throw ShapeError("[reshape] cannot reshape " + x.type().str() + " (size " + std::to_string(size) +
                           ") into a shape of size " + std::to_string(known_product));
        }
      }
    }
    return {TensorType(x.dtype(), dims)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array shape_values = inputs[1].astype(DType::Int64);
    Shape shape(shape_values.data<int64_t>(), shape_values.data<int64_t>() + shape_values.size());
    if (static_cast<int>(shape.size()) != ndim_)
      throw ShapeError("[reshape] shape " + shape_str(shape) + " has " + std::to_string(shape.size()) + " entries, expected " +
                       std::to_string(ndim_));
    outputs[0] = inputs[0].reshape(shape);
  }
  // A view of x where it lives (a device's copy of x first where its elements are not in row-major
  // order: reshape would read them); the shape is read on the host.
  bool runs_on_any_device() const override { return true; }
  bool reads_on_host(int input) const override { return input == 1; }
  void perform_on(const Backend& backend, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    if (inputs[0].device().is_cpu() || inputs[0].is_contiguous()) return perform(node, inputs, outputs);
    const Array operands[2] = {backend.copy(inputs[0]), inputs[1]};
    perform(node, operands, outputs);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    const Variable& x = node.input(0);
    return {reshape(output_grads[0], shape(x), x.ndim()), Variable()};
  }
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override {
    return r_op_linear_in_first(node, eval_points);
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& shapes) const override {
    auto owner = node.input(1).owner();
    if (owner && dynamic_cast<const MakeVector*>(&owner->op())) {
      bool has_unknown = false;
      for (const Variable& d : owner->inputs()) has_unknown = has_unknown || constant_int(d).value_or(0) == -1;
      if (!has_unknown) return {owner->inputs()};
    }
    return Op::infer_shape(node, shapes);
  }
  ViewMap view_map() const override { return {{0, 0}}; }

 private:
  int ndim_;
};

// ---- Join / Split ----

class Split : public Op {
 public:
  std::string save() const override {
    OpWriter out("split");
    out.integer(axis_);
    out.integer(pieces_);
    return out.bytes();
  }
  Split(int axis, int pieces) : axis_(axis), pieces_(pieces) {}
  std::string name() const override { return "split"; }
  std::string props() const override { return "axis=" + std::to_string(axis_) + ", pieces=" + std::to_string(pieces_); }
  // Inputs: x, then one int scalar size per piece.
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[split] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    std::vector<TensorType> types;
    int64_t total = 0;
    bool all_known = true;
    for (int k = 0; k < pieces_; ++k) {
      TensorType type = x.type();
      auto size = constant_int(inputs.at(1 + k));
      if (size && *size < 0) throw ValueError("[split] piece " + std::to_string(k) + " has negative size " + std::to_string(*size));
      type.shape[axis_] = size.value_or(TensorType::kUnknown);
      all_known = all_known && size;
      total += size.value_or(0);
      types.push_back(type);
    }
    int64_t length = x.type().shape[axis_];
    if (all_known && length != TensorType::kUnknown && total != length)
      throw ValueError("[split] sizes sum to " + std::to_string(total) + " but axis " + std::to_string(axis_) + " of " +
                       x.type().str() + " has " + std::to_string(length));
    return types;
  }
  // Views of x wherever it lives; the sizes are read on the host.
  bool runs_on_any_device() const override { return true; }
  bool reads_on_host(int input) const override { return input >= 1; }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    int64_t start = 0, total = 0;
    for (int k = 0; k < pieces_; ++k) total += scalar_int(inputs[1 + k]);
    if (total != x.shape()[axis_])
      throw ValueError("[split] sizes sum to " + std::to_string(total) + " but axis " + std::to_string(axis_) +
                       " of shape " + shape_str(x.shape()) + " has " + std::to_string(x.shape()[axis_]));
    for (int k = 0; k < pieces_; ++k) {
      int64_t size = scalar_int(inputs[1 + k]);
      if (size < 0) throw ValueError("[split] piece " + std::to_string(k) + " has negative size " + std::to_string(size));
      std::vector<Slice> slices(axis_ + 1);
      slices[axis_] = Slice{start, start + size, 1};
      outputs[k] = x.slice(slices);
      start += size;
    }
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    std::vector<Variable> pieces;
    for (int k = 0; k < pieces_; ++k)
      pieces.push_back(output_grads[k] ? output_grads[k] : zeros_like(node.output(k)));
    std::vector<Variable> grads(node.inputs().size());
    grads[0] = concatenate(pieces, axis_);
    return grads;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node,
                                                 const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<std::vector<Variable>> result;
    for (int k = 0; k < pieces_; ++k) {
      std::vector<Variable> dims = shapes[0];
      dims[axis_] = cast(node.input(1 + k), DType::Int64);
      result.push_back(dims);
    }
    return result;
  }
  ViewMap view_map() const override {
    ViewMap map;
    for (int k = 0; k < pieces_; ++k) map.emplace_back(k, 0);
    return map;
  }

 private:
  int axis_, pieces_;
};

class Join : public Op {
 public:
  std::string save() const override {
    OpWriter out("join");
    out.integer(axis_);
    return out.bytes();
  }
  explicit Join(int axis) : axis_(axis) {}
  std::string name() const override { return "join"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.empty()) throw ValueError("[concatenate] needs at least one tensor");
    const int ndim = inputs[0].ndim();
    if (ndim == 0) throw ValueError("[concatenate] cannot join 0-d tensors (use stack)");
    if (axis_ < 0 || axis_ >= ndim)
      throw ValueError("[concatenate] axis " + std::to_string(axis_) + " is out of range for " + inputs[0].type().str());
    DType dtype = inputs[0].dtype();
    std::vector<int64_t> shape = inputs[0].type().shape;
    int64_t length = 0;
    for (const Variable& input : inputs) {
      if (input.ndim() != ndim)
        throw ValueError("[concatenate] all inputs must have the same rank: " + inputs[0].type().str() + " and " +
                         input.type().str());
      dtype = promote_types(dtype, input.dtype());
      for (int axis = 0; axis < ndim; ++axis) {
        if (axis == axis_) continue;
        int64_t a = shape[axis], b = input.type().shape[axis];
        if (a != TensorType::kUnknown && b != TensorType::kUnknown && a != b)
          throw ShapeError("[concatenate] shapes " + inputs[0].type().str() + " and " + input.type().str() +
                           " differ on axis " + std::to_string(axis));
        if (a == TensorType::kUnknown) shape[axis] = b;
      }
      int64_t d = input.type().shape[axis_];
      length = length == TensorType::kUnknown || d == TensorType::kUnknown ? TensorType::kUnknown : length + d;
    }
    shape[axis_] = length;
    return {TensorType(dtype, shape)};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    perform_on(backend_for(Device{}), node, inputs, outputs);
  }
  // The result in the pieces' memory, each written into its region there.
  bool runs_on_any_device() const override { return true; }
  void perform_on(const Backend& backend, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    Shape shape = inputs[0].shape();
    shape[axis_] = 0;
    for (const Array& input : inputs) {
      for (int axis = 0; axis < input.ndim(); ++axis)
        if (axis != axis_ && input.shape()[axis] != inputs[0].shape()[axis])
          throw ShapeError("[concatenate] shapes " + shape_str(inputs[0].shape()) + " and " + shape_str(input.shape()) +
                           " differ on axis " + std::to_string(axis));
      shape[axis_] += input.shape()[axis_];
    }
    Array out = backend.empty(shape, node.output(0).dtype());
    int64_t start = 0;
    for (const Array& input : inputs) {
      std::vector<Slice> slices(axis_ + 1);
      slices[axis_] = Slice{start, start + input.shape()[axis_], 1};
      backend.copy_into(out.slice(slices), input);
      start += input.shape()[axis_];
    }
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    std::vector<Variable> split_inputs = {output_grads[0]};
    for (const Variable& input : node.inputs()) split_inputs.push_back(shape_i(input, axis_));
    auto pieces = apply_op(std::make_shared<Split>(axis_, static_cast<int>(node.inputs().size())), split_inputs);
    for (size_t k = 0; k < pieces.size(); ++k)
      if (!is_inexact(node.input(k).dtype())) pieces[k] = Variable();
    return pieces;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims = shapes[0];
    for (size_t k = 1; k < shapes.size(); ++k) dims[axis_] = dims[axis_] + shapes[k][axis_];
    return {dims};
  }

 private:
  int axis_;
};

// ---- Alloc ----

class Alloc : public Op {
 public:
  std::string save() const override { return OpWriter("alloc").bytes(); }
  std::string name() const override { return "alloc"; }
  bool reads_on_host(int input) const override { return input >= 1; }  // the sizes
  // Inputs: value, then one int scalar per output dimension.
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& value = inputs.at(0);
    const int ndim = static_cast<int>(inputs.size()) - 1;
    if (value.ndim() > ndim)
      throw ValueError("[alloc] value " + value.type().str() + " has more dimensions than the shape (" + std::to_string(ndim) + ")");
    std::vector<int64_t> shape;
    for (int axis = 0; axis < ndim; ++axis) {
      auto d = constant_int(inputs[1 + axis]);
      if (d && *d < 0) throw ValueError("[alloc] negative dimension " + std::to_string(*d));
      shape.push_back(d.value_or(TensorType::kUnknown));
      int value_axis = axis - (ndim - value.ndim());
      if (value_axis >= 0) {
        int64_t v = value.type().shape[value_axis];
        if (v != 1 && v != TensorType::kUnknown && d && *d != v)
          throw ShapeError("[alloc] value " + value.type().str() + " cannot broadcast to dimension " + std::to_string(*d) +
                           " on axis " + std::to_string(axis));
        if (v != 1 && v != TensorType::kUnknown) shape[axis] = v;
      }
    }
    return {TensorType(value.dtype(), shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    Shape shape;
    for (size_t i = 1; i < inputs.size(); ++i) {
      int64_t d = scalar_int(inputs[i]);
      if (d < 0) throw ValueError("[alloc] negative dimension " + std::to_string(d));
      shape.push_back(d);
    }
    outputs[0] = inputs[0].broadcast_to(shape).copy();
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    const Variable& value = node.input(0);
    std::vector<Variable> grads(node.inputs().size());
    if (!is_inexact(value.dtype())) return grads;
    const int ndim = node.output(0).ndim(), lead = ndim - value.ndim();
    std::vector<int> axes;
    for (int axis = 0; axis < ndim; ++axis)
      if (axis < lead || (value.type().shape[axis - lead] == 1 && node.output(0).type().shape[axis] != 1)) axes.push_back(axis);
    Variable g = axes.empty() ? output_grads[0] : sum(output_grads[0], axes, /*keepdims=*/true);
    // Drop the leading axes the value did not have.
    std::vector<int> pattern;
    for (int axis = lead; axis < ndim; ++axis) pattern.push_back(axis);
    grads[0] = dimshuffle(g, pattern);
    return grads;
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    std::vector<Variable> dims;
    for (size_t i = 1; i < node.inputs().size(); ++i) dims.push_back(cast(node.input(i), DType::Int64));
    return {dims};
  }
};

// ---- ARange / Eye ----

class ARange : public Op {
 public:
  std::string save() const override {
    OpWriter out("arange");
    out.dtype(dtype_);
    return out.bytes();
  }
  explicit ARange(DType dtype) : dtype_(dtype) {}
  std::string name() const override { return "arange"; }
  std::string props() const override { return std::string(dtype_name(dtype_)); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    for (const Variable& input : inputs)
      if (input.ndim() != 0) throw TypeError("[arange] start, stop and step must be scalars, got " + input.type().str());
    int64_t length = TensorType::kUnknown;
    if (inputs[0].is_constant() && inputs[1].is_constant() && inputs[2].is_constant()) {
      double start = inputs[0].constant_value().item(), stop = inputs[1].constant_value().item(),
             step = inputs[2].constant_value().item();
      if (step == 0) throw ValueError("[arange] step must not be zero");
      length = count(start, stop, step, dtype_);
    }
    return {TensorType(dtype_, {length})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    double start = inputs[0].item(), stop = inputs[1].item(), step = inputs[2].item();
    if (step == 0) throw ValueError("[arange] step must not be zero");
    const int64_t n = count(start, stop, step, dtype_);
    Array out = Array::empty({n}, dtype_);
    // NumPy's fill: the first two values in double, rounded to the dtype, then first + i * (second -
    // first) in the dtype, so float32 ranges round as np.arange's do.
    dispatch_dtype(dtype_, [&]<class T>() {
      T* data = out.data<T>();
      if constexpr (std::is_same_v<T, bool>) {
        for (int64_t i = 0; i < n; ++i) data[i] = start + static_cast<double>(i) * step != 0;
      } else {
        const T first = static_cast<T>(start), delta = static_cast<T>(static_cast<T>(start + step) - first);
        for (int64_t i = 0; i < n; ++i) data[i] = static_cast<T>(first + static_cast<T>(i) * delta);
      }
    });
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    return std::vector<Variable>(node.inputs().size());
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    // ceil((stop - start) / step), at least 0.
    const Variable &start = node.input(0), &stop = node.input(1), &step = node.input(2);
    const DType counting = dtype_ == DType::Float32 ? DType::Float32 : DType::Float64;  // as count() does
    Variable n = ceil((cast(stop, counting) - cast(start, counting)) / cast(step, counting));
    return {{cast(maximum(n, 0.0), DType::Int64)}};
  }
  // NumPy divides in the bounds' type: float32 bounds count in float32 ((-2 - 1.5) / -0.7f is 5, not 5.0000001).
  static int64_t count(double start, double stop, double step, DType dtype) {
    double n = dtype == DType::Float32 ? std::ceil(static_cast<double>((static_cast<float>(stop) - static_cast<float>(start)) /
                                                                       static_cast<float>(step)))
                                       : std::ceil((stop - start) / step);
    if (!(n < 1e15)) {
      if (n > 0 || std::isnan(n))
        throw ValueError("[arange] start " + std::to_string(start) + ", stop " + std::to_string(stop) + " and step " +
                         std::to_string(step) + " give too many elements");
    }
    return std::max<int64_t>(0, static_cast<int64_t>(n));
  }

 private:
  DType dtype_;
};

class Eye : public Op {
 public:
  std::string save() const override {
    OpWriter out("eye");
    out.integer(k_);
    out.dtype(dtype_);
    return out.bytes();
  }
  Eye(int k, DType dtype) : k_(k), dtype_(dtype) {}
  std::string name() const override { return "eye"; }
  std::string props() const override { return "k=" + std::to_string(k_) + ", " + std::string(dtype_name(dtype_)); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    std::vector<int64_t> shape;
    for (const Variable& input : inputs) {
      if (input.ndim() != 0 || !is_integer(input.dtype()))
        throw TypeError("[eye] sizes must be integer scalars, got " + input.type().str());
      auto d = constant_int(input);
      if (d && *d < 0) throw ValueError("[eye] negative size " + std::to_string(*d));
      shape.push_back(d.value_or(TensorType::kUnknown));
    }
    return {TensorType(dtype_, shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    int64_t n = scalar_int(inputs[0]), m = scalar_int(inputs[1]);
    if (n < 0 || m < 0) throw ValueError("[eye] negative size " + std::to_string(std::min(n, m)));
    Array out = Array::zeros({n, m}, dtype_);
    for (int64_t i = 0; i < n; ++i)
      if (i + k_ >= 0 && i + k_ < m) out.set_from_double(i * m + i + k_, 1.0);
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable(), Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{cast(node.input(0), DType::Int64), cast(node.input(1), DType::Int64)}};
  }

 private:
  int k_;
  DType dtype_;
};

}  // namespace

bool is_alloc(const Op& op) { return dynamic_cast<const Alloc*>(&op) != nullptr; }

bool is_reshape(const Op& op) { return dynamic_cast<const Reshape*>(&op) != nullptr; }

// ---- Builders ----

Variable make_vector(const std::vector<Operand>& elements, DType dtype) {
  std::source_location where = elements.empty() ? std::source_location::current() : elements[0].where();
  std::vector<Variable> inputs;
  for (const Operand& e : elements) inputs.push_back(e.as_variable(dtype));
  return apply_op1(std::make_shared<MakeVector>(dtype), inputs, where);
}

Variable reshape(const Operand& x, const Variable& shape_vector, int ndim) {
  return apply_op1(std::make_shared<Reshape>(ndim), {x.as_variable(), shape_vector}, x.where());
}

Variable reshape(const Operand& x, const std::vector<Operand>& shape) {
  std::vector<Operand> dims;
  for (const Operand& d : shape) dims.emplace_back(dimension(d, "reshape"), x.where());
  return reshape(x, make_vector(dims), static_cast<int>(shape.size()));
}

Variable flatten(const Operand& x, int ndim) {
  Variable input = x.as_variable();
  if (ndim < 1 || ndim > std::max(input.ndim(), 1))
    rethrow_with_location(ValueError("[flatten] ndim " + std::to_string(ndim) + " is out of range for " + input.type().str()),
                          x.where());
  std::vector<Operand> shape;
  for (int axis = 0; axis < ndim - 1; ++axis) shape.emplace_back(shape_i(input, axis), x.where());
  // The merged size as a product, not -1: with a 0 among the kept sizes -1 cannot be inferred.
  Variable merged = constant(1.0, DType::Int64);
  for (int axis = ndim - 1; axis < input.ndim(); ++axis) merged = merged * shape_i(input, axis);
  shape.emplace_back(merged, x.where());
  return reshape(Operand(input, x.where()), shape);
}

Variable concatenate(const std::vector<Variable>& xs, int axis, std::source_location where) {
  return at_location(where, [&] {
    if (xs.empty()) throw ValueError("[concatenate] needs at least one tensor");
    return apply_op1(std::make_shared<Join>(normalize_axis(axis, xs[0].ndim(), "concatenate")), xs, where);
  });
}

Variable stack(const std::vector<Variable>& xs, int axis, std::source_location where) {
  return at_location(where, [&] {
    if (xs.empty()) throw ValueError("[stack] needs at least one tensor");
    int resolved = normalize_axis(axis, xs[0].ndim() + 1, "stack");
    std::vector<Variable> expanded;
    for (const Variable& x : xs) expanded.push_back(expand_dims(Operand(x, where), resolved));
    return apply_op1(std::make_shared<Join>(resolved), expanded, where);
  });
}

std::vector<Variable> split(const Operand& x, const std::vector<int64_t>& sizes, int axis) {
  Variable input = x.as_variable();
  return at_location(x.where(), [&] {
    if (sizes.empty()) throw ValueError("[split] needs at least one piece");
    std::vector<Variable> inputs = {input};
    for (int64_t size : sizes) inputs.push_back(constant(static_cast<double>(size), DType::Int64, x.where()));
    return apply_op(std::make_shared<Split>(normalize_axis(axis, input.ndim(), "split"), static_cast<int>(sizes.size())),
                    inputs, x.where());
  });
}

Variable alloc(const Operand& value, const std::vector<Operand>& shape) {
  std::vector<Variable> inputs = {value.as_variable()};
  for (const Variable& d : dimensions(shape, "alloc")) inputs.push_back(d);
  return apply_op1(std::make_shared<Alloc>(), inputs, value.where());
}

Variable full(const std::vector<Operand>& shape, const Operand& value, DType dtype) {
  return alloc(Operand(cast(value, dtype), value.where()), shape);
}
Variable zeros(const std::vector<Operand>& shape, DType dtype) {
  return alloc(Operand(constant(0.0, dtype), shape.empty() ? std::source_location::current() : shape[0].where()), shape);
}
Variable ones(const std::vector<Operand>& shape, DType dtype) {
  return alloc(Operand(constant(1.0, dtype), shape.empty() ? std::source_location::current() : shape[0].where()), shape);
}

Variable arange(const Operand& stop) { return arange(Operand(0, stop.where()), stop, Operand(1, stop.where())); }

Variable arange(const Operand& start, const Operand& stop, const Operand& step, std::optional<DType> dtype) {
  Variable a = start.as_variable(), b = stop.as_variable(), c = step.as_variable();
  // Theano's rule: the promoted dtype of the symbolic bounds when it is a float (float32 scalars give a
  // float32 range); otherwise float64 if any bound is a float, else int64.
  std::optional<DType> symbolic;
  bool any_float = false;
  for (const auto& [bound, value] : {std::pair{&start, &a}, {&stop, &b}, {&step, &c}}) {
    any_float = any_float || is_float(value->dtype());
    if (!bound->is_number()) symbolic = symbolic ? promote_types(*symbolic, value->dtype()) : value->dtype();
  }
  const DType chosen = dtype.value_or(symbolic && is_float(*symbolic) ? *symbolic : any_float ? DType::Float64 : DType::Int64);
  return apply_op1(std::make_shared<ARange>(chosen), {a, b, c}, start.where());
}

Variable eye(const Operand& n, std::optional<Operand> m, int k, DType dtype) {
  Variable rows = dimension(n, "eye");
  Variable cols = m ? dimension(*m, "eye") : rows;
  return apply_op1(std::make_shared<Eye>(k, dtype), {rows, cols}, n.where());
}

// ---- Compositions ----

Variable swapaxes(const Operand& x, int axis1, int axis2) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    std::vector<int> perm(input.ndim());
    std::iota(perm.begin(), perm.end(), 0);
    std::swap(perm[normalize_axis(axis1, input.ndim(), "swapaxes")], perm[normalize_axis(axis2, input.ndim(), "swapaxes")]);
    return transpose(Operand(input, x.where()), perm);
  });
}

Variable flip(const Operand& x, const std::vector<int>& axes) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    std::vector<bool> flipped(input.ndim(), axes.empty());
    for (int axis : axes) flipped[normalize_axis(axis, input.ndim(), "flip")] = true;
    std::vector<Index> indices;
    for (int axis = 0; axis < input.ndim(); ++axis)
      indices.push_back(flipped[axis] ? slice(std::nullopt, std::nullopt, Operand(-1, x.where())) : slice_all());
    return subtensor(input, IndexList(indices, x.where()));
  });
}

Variable roll(const Operand& x, const Operand& shift, std::optional<int> axis) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (!axis) {  // over the flattened tensor, then back to the shape
      Variable rolled = roll(Operand(flatten(Operand(input, x.where())), x.where()), shift, 0);
      return input.ndim() == 1 ? rolled : reshape(Operand(rolled, x.where()), shape(input), input.ndim());
    }
    const int a = normalize_axis(*axis, input.ndim(), "roll");
    Variable n = shape_i(input, a);
    Variable cut = n - mod(Operand(shift.as_variable(DType::Int64), x.where()), n);  // elements that move to the front
    std::vector<Index> head(a, slice_all()), tail(a, slice_all());
    tail.push_back(slice(Operand(cut, x.where()), std::nullopt));
    head.push_back(slice(std::nullopt, Operand(cut, x.where())));
    return concatenate({subtensor(input, IndexList(tail, x.where())), subtensor(input, IndexList(head, x.where()))}, a,
                       x.where());
  });
}

Variable tile(const Operand& x, const std::vector<int64_t>& reps) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    for (int64_t r : reps)
      if (r < 0) throw ValueError("[tile] repetitions must be non-negative, got " + std::to_string(r));
    // NumPy pads the shorter of x's shape and reps with leading ones.
    const int ndim = std::max<int>(input.ndim(), static_cast<int>(reps.size()));
    std::vector<int64_t> counts(ndim - reps.size(), 1);
    counts.insert(counts.end(), reps.begin(), reps.end());
    std::vector<int> pattern(ndim - input.ndim(), kNewAxis);
    for (int axis = 0; axis < input.ndim(); ++axis) pattern.push_back(axis);
    Variable padded = dimshuffle(Operand(input, x.where()), pattern);
    // (r0, d0, r1, d1, ...) by broadcasting, then merge each (r, d) pair: copies follow each other.
    std::vector<int> interleave;
    std::vector<Operand> expanded, merged;
    for (int axis = 0; axis < ndim; ++axis) {
      interleave.push_back(kNewAxis);
      interleave.push_back(axis);
      Variable d = shape_i(padded, axis);
      expanded.emplace_back(counts[axis], x.where());
      expanded.emplace_back(d, x.where());
      merged.emplace_back(d * counts[axis], x.where());
    }
    Variable spread = alloc(Operand(dimshuffle(Operand(padded, x.where()), interleave), x.where()), expanded);
    return reshape(Operand(spread, x.where()), merged);
  });
}

Variable repeat(const Operand& x, int64_t repeats, std::optional<int> axis) {
  return at_location(x.where(), [&] {
    if (repeats < 0) throw ValueError("[repeat] repeats must be non-negative, got " + std::to_string(repeats));
    Variable input = x.as_variable();
    if (!axis) return repeat(Operand(flatten(Operand(input, x.where())), x.where()), repeats, 0);
    const int a = normalize_axis(*axis, input.ndim(), "repeat");
    // (..., d, repeats, ...) by broadcasting, then merge: each element is followed by its copies.
    std::vector<int> pattern;
    std::vector<Operand> expanded, merged;
    for (int k = 0; k < input.ndim(); ++k) {
      pattern.push_back(k);
      Variable d = shape_i(input, k);
      expanded.emplace_back(d, x.where());
      merged.emplace_back(k == a ? d * repeats : d, x.where());
      if (k == a) {
        pattern.push_back(kNewAxis);
        expanded.emplace_back(repeats, x.where());
      }
    }
    Variable spread = alloc(Operand(dimshuffle(Operand(input, x.where()), pattern), x.where()), expanded);
    return reshape(Operand(spread, x.where()), merged);
  });
}

void register_shape_loaders(OpLoaders& loaders) {
  loaders["make_vector"] = [](OpReader& in) -> OpPtr { return std::make_shared<MakeVector>(in.dtype()); };
  loaders["reshape"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<Reshape>(static_cast<int>(in.integer_in(0, 64, "a number of dimensions")));
  };
  loaders["split"] = [](OpReader& in) -> OpPtr {
    const int axis = static_cast<int>(in.integer_in(0, 64, "an axis"));
    return std::make_shared<Split>(axis, static_cast<int>(in.integer_in(0, 1 << 20, "a number of pieces")));
  };
  loaders["join"] = [](OpReader& in) -> OpPtr { return std::make_shared<Join>(static_cast<int>(in.integer_in(0, 64, "an axis"))); };
  loaders["alloc"] = [](OpReader&) -> OpPtr { return std::make_shared<Alloc>(); };
  loaders["arange"] = [](OpReader& in) -> OpPtr { return std::make_shared<ARange>(in.dtype()); };
  loaders["eye"] = [](OpReader& in) -> OpPtr {
    const int k = static_cast<int>(in.integer_in(INT32_MIN, INT32_MAX, "a diagonal offset"));
    return std::make_shared<Eye>(k, in.dtype());
  };
}
}  // namespace hypatia
