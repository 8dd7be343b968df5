// CumOp (cumsum, cumprod), ArgSort, TakeAlongAxis and its scatter-add; sort is argsort + take.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"
#include "ops/op_support.h"
#include "ops/reduce.h"

namespace hypatia {
AxisLast move_axis_last(const Array& x, int axis, DType dtype) {
  std::vector<int> perm, inverse(x.ndim());
  for (int a = 0; a < x.ndim(); ++a)
    if (a != axis) perm.push_back(a);
  perm.push_back(axis);
  for (int i = 0; i < x.ndim(); ++i) inverse[perm[i]] = i;
  Array rows = x.transpose(perm).astype(dtype);
  const int64_t length = x.shape()[axis];
  return {rows, inverse, length, length ? rows.size() / length : 0};
}

namespace {

// Runs fn on each contiguous row along `axis` of a copy of x, and returns the copy in x's layout.
template <class T, class Fn> Array along_axis(const Array& x, int axis, DType dtype, Fn fn) {
  AxisLast view = move_axis_last(x, axis, dtype);
  T* data = view.rows.size() ? view.rows.template data<T>() : nullptr;
  for (int64_t r = 0; r < view.count; ++r) fn(data + r * view.length, view.length);
  return view.rows.transpose(view.inverse).copy();
}

class CumOp : public Op {
 public:
  std::string save() const override {
    OpWriter out("cumulative");
    out.integer(axis_);
    out.flag(product_);
    return out.bytes();
  }
  CumOp(int axis, bool product) : axis_(axis), product_(product) {}
  std::string name() const override { return product_ ? "cumprod" : "cumsum"; }
  bool product() const { return product_; }
  int axis() const { return axis_; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[" + name() + "] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    return {TensorType(reduce_output_dtype(product_ ? ReduceKind::Prod : ReduceKind::Sum, x.dtype()), x.type().shape)};
  }
  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const DType dtype = node.output(0).dtype();
    outputs[0] = dispatch_dtype(dtype, [&]<class T>() {
      return along_axis<T>(inputs[0], axis_, dtype, [&](T* row, int64_t n) {
        for (int64_t j = 1; j < n; ++j)
          if constexpr (std::is_integral_v<T>)  // wraps like NumPy instead of overflowing
            row[j] = static_cast<T>(product_ ? static_cast<uint64_t>(row[j - 1]) * static_cast<uint64_t>(row[j])
                                             : static_cast<uint64_t>(row[j - 1]) + static_cast<uint64_t>(row[j]));
          else
            row[j] = product_ ? row[j - 1] * row[j] : row[j - 1] + row[j];
      });
    });
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    const Variable &x = node.input(0), &g = output_grads[0];
    if (!is_inexact(x.dtype())) return {Variable()};
    // d/dx_i of sum_j g_j y_j is the reversed running sum of g (times y / x_i for products; so a
    // cumprod gradient is NaN where x is zero, as in PyTensor).
    auto reverse_cumsum = [&](const Variable& v) {
      return flip(apply_op1(std::make_shared<CumOp>(axis_, false), {flip(v, {axis_})}), {axis_});
    };
    if (!product_) return {reverse_cumsum(g)};
    return holomorphic_pullback(node, g, [&](const Variable& gz) -> std::vector<Variable> {
      return {reverse_cumsum(gz * node.output(0)) / x};
    });
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }

 private:
  int axis_;
  bool product_;
};

class ArgSort : public Op {
 public:
  std::string save() const override {
    OpWriter out("argsort");
    out.integer(axis_);
    return out.bytes();
  }
  explicit ArgSort(int axis) : axis_(axis) {}
  std::string name() const override { return "argsort"; }
  int axis() const { return axis_; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (is_complex(x.dtype())) refuse_complex("argsort", x.dtype());
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[argsort] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    return {TensorType(DType::Int64, x.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    dispatch_real_dtype(x.dtype(), "argsort", [&]<class T>() {
      const AxisLast values = move_axis_last(x, axis_, x.dtype());
      outputs[0] = along_axis<int64_t>(Array::zeros(x.shape(), DType::Int64), axis_, DType::Int64,
                                       [&, row_index = int64_t{0}](int64_t* row, int64_t n) mutable {
        const T* key = values.rows.template data<T>() + (row_index++) * n;
        std::iota(row, row + n, 0);
        std::stable_sort(row, row + n, [&](int64_t a, int64_t b) {
          if constexpr (is_float_v<T>) {
            if (key[a] != key[a]) return false;  // NaN sorts last
            if (key[b] != key[b]) return true;
          }
          return key[a] < key[b];
        });
      });
    });
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }

 private:
  int axis_;
};

// Shared by the gather and the scatter: the x position of each index entry.
void check_along_axis_shapes(const Shape& x, const Shape& indices, int axis, const char* op) {
  bool ok = x.size() == indices.size();
  for (size_t a = 0; ok && a < x.size(); ++a) ok = static_cast<int>(a) == axis || x[a] == indices[a];
  if (!ok)
    throw ShapeError(std::string("[") + op + "] indices of shape " + shape_str(indices) + " do not fit an array of shape " +
                     shape_str(x) + " along axis " + std::to_string(axis));
}

template <class Visit> void for_each_along_axis(const Array& x, const Array& indices, int axis, const char* op, Visit visit) {
  const Array index = indices.astype(DType::Int64);
  if (index.size() == 0) return;
  const int64_t* idx = index.data<int64_t>();
  IndexIterator it(index.shape());
  int64_t flat = 0;
  do {
    std::vector<int64_t> position = it.index();
    int64_t i = idx[flat], n = x.shape()[axis];
    if (i < -n || i >= n)
      throw IndexError(std::string("[") + op + "] index " + std::to_string(i) + " is out of bounds for axis " +
                       std::to_string(axis) + " with size " + std::to_string(n));
    position[axis] = i < 0 ? i + n : i;
    visit(flat++, position);
  } while (it.next());
}

class TakeAlongAxis : public Op {
 public:
  std::string save() const override {
    OpWriter out("take_along_axis");
    out.integer(axis_);
    return out.bytes();
  }
  explicit TakeAlongAxis(int axis) : axis_(axis) {}
  std::string name() const override { return "take_along_axis"; }
  int axis() const { return axis_; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &x = inputs.at(0), &indices = inputs.at(1);
    if (!is_integer(indices.dtype()) || indices.ndim() != x.ndim())
      throw TypeError("[take_along_axis] indices must be integers of x's rank, got " + indices.type().str() + " for " +
                      x.type().str());
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[take_along_axis] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    return {TensorType(x.dtype(), indices.type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override;
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override;
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[1]};
  }

 private:
  int axis_;
};

// x with values added at the positions take_along_axis(x, indices) reads (repeats accumulate).
class IncAlongAxis : public Op {
 public:
  std::string save() const override {
    OpWriter out("inc_along_axis");
    out.integer(axis_);
    return out.bytes();
  }
  explicit IncAlongAxis(int axis) : axis_(axis) {}
  std::string name() const override { return "inc_along_axis"; }
  int axis() const { return axis_; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override { return {inputs.at(0).type()}; }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    check_along_axis_shapes(inputs[0].shape(), inputs[1].shape(), axis_, "take_along_axis");
    if (inputs[2].shape() != inputs[1].shape())  // (one value per index)
      throw ShapeError("[inc_along_axis] values of shape " + shape_str(inputs[2].shape()) + " do not match the indices' shape " +
                       shape_str(inputs[1].shape()));
    Array out = inputs[0].copy();
    const Array values = inputs[2].astype(out.dtype());
    dispatch_dtype(out.dtype(), [&]<class T>() {
      T* data = out.data<T>();  // C order: out is a fresh contiguous copy
      const Array flat_values = values.contiguous();
      for_each_along_axis(out, inputs[1], axis_, "take_along_axis", [&](int64_t flat, const std::vector<int64_t>& at) {
        int64_t position = 0;
        for (int a = 0; a < out.ndim(); ++a) position = position * out.shape()[a] + at[a];
        if constexpr (std::is_same_v<T, bool>) data[position] = data[position] || flat_values.data<T>()[flat];
        else data[position] = static_cast<T>(data[position] + flat_values.data<T>()[flat]);
      });
    });
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    const Variable& g = output_grads[0];
    return {g, Variable(), apply_op1(std::make_shared<TakeAlongAxis>(axis_), {g, node.input(1)})};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }

 private:
  int axis_;
};

void TakeAlongAxis::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  const Array& x = inputs[0];
  check_along_axis_shapes(x.shape(), inputs[1].shape(), axis_, "take_along_axis");
  Array out = Array::empty(inputs[1].shape(), x.dtype());
  dispatch_dtype(x.dtype(), [&]<class T>() {
    T* data = out.size() ? out.data<T>() : nullptr;
    for_each_along_axis(x, inputs[1], axis_, "take_along_axis",
                        [&](int64_t flat, const std::vector<int64_t>& at) { data[flat] = x.at<T>(at); });
  });
  outputs[0] = std::move(out);
}

std::vector<Variable> TakeAlongAxis::grad(const Apply& node, const std::vector<Variable>& output_grads) const {
  const Variable& x = node.input(0);
  if (!is_inexact(x.dtype())) return {Variable(), Variable()};
  return {apply_op1(std::make_shared<IncAlongAxis>(axis_), {zeros_like(x), node.input(1), output_grads[0]}), Variable()};
}

Variable cumulative(const Operand& x, std::optional<int> axis, bool product) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    if (!axis) return cumulative(Operand(flatten(Operand(input, x.where())), x.where()), 0, product);
    return apply_op1(std::make_shared<CumOp>(normalize_axis(*axis, input.ndim(), product ? "cumprod" : "cumsum"), product),
                     {input}, x.where());
  });
}

}  // namespace

std::optional<CumulativeSpec> cumulative_of(const Op& op) {
  const auto* cumulative = dynamic_cast<const CumOp*>(&op);
  if (!cumulative) return std::nullopt;
  return CumulativeSpec{cumulative->product(), cumulative->axis()};
}

std::optional<SortFamilySpec> sort_family_of(const Op& op) {
  if (const auto* argsort = dynamic_cast<const ArgSort*>(&op)) return SortFamilySpec{SortFamily::ArgSort, argsort->axis()};
  if (const auto* take = dynamic_cast<const TakeAlongAxis*>(&op)) return SortFamilySpec{SortFamily::TakeAlongAxis, take->axis()};
  if (const auto* inc = dynamic_cast<const IncAlongAxis*>(&op)) return SortFamilySpec{SortFamily::IncAlongAxis, inc->axis()};
  if (const auto right = searchsorted_side_of(op)) return SortFamilySpec{SortFamily::SearchSorted, 0, *right};
  return std::nullopt;
}

Variable cumsum(const Operand& x, std::optional<int> axis) { return cumulative(x, axis, false); }
Variable cumprod(const Operand& x, std::optional<int> axis) { return cumulative(x, axis, true); }

Variable argsort(const Operand& x, int axis) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    return apply_op1(std::make_shared<ArgSort>(normalize_axis(axis, input.ndim(), "argsort")), {input}, x.where());
  });
}

Variable take_along_axis(const Operand& x, const Operand& indices, int axis) {
  return at_location(x.where(), [&] {
    Variable input = x.as_variable();
    return apply_op1(std::make_shared<TakeAlongAxis>(normalize_axis(axis, input.ndim(), "take_along_axis")),
                     {input, indices.as_variable()}, x.where());
  });
}

Variable sort(const Operand& x, int axis) {
  // Gathering by argsort makes the gradient a scatter of g back to where each value came from.
  return take_along_axis(x, Operand(argsort(x, axis), x.where()), axis);
}

void register_extra_loaders(OpLoaders& loaders) {
  auto axis = [](OpReader& in) { return static_cast<int>(in.integer_in(0, 64, "an axis")); };
  loaders["cumulative"] = [axis](OpReader& in) -> OpPtr {
    const int a = axis(in);
    return std::make_shared<CumOp>(a, in.flag());
  };
  loaders["argsort"] = [axis](OpReader& in) -> OpPtr { return std::make_shared<ArgSort>(axis(in)); };
  loaders["take_along_axis"] = [axis](OpReader& in) -> OpPtr { return std::make_shared<TakeAlongAxis>(axis(in)); };
  loaders["inc_along_axis"] = [axis](OpReader& in) -> OpPtr { return std::make_shared<IncAlongAxis>(axis(in)); };
}
}  // namespace hypatia
