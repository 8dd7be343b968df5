// argmax / argmin: the index of the extreme along one axis (first on ties; NaN wins, as in NumPy).
#include <cmath>

#include "hypatia/reduce.h"
#include "hypatia/shape_ops.h"
#include "ops/reduce.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

class ArgReduce : public Op {
 public:
  std::string save() const override {
    OpWriter out("arg_reduce");
    out.flag(is_max_);
    out.integer(axis_);
    return out.bytes();
  }
  ArgReduce(bool is_max, int axis) : is_max_(is_max), axis_(axis) {}
  std::string name() const override { return is_max_ ? "argmax" : "argmin"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  bool is_max() const { return is_max_; }
  int axis() const { return axis_; }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const TensorType& in = inputs.at(0).type();
    if (is_complex(in.dtype)) refuse_complex(name(), in.dtype);
    if (axis_ < 0 || axis_ >= in.ndim())
      throw ValueError("[" + name() + "] axis " + std::to_string(axis_) + " is out of range for " + in.str());
    std::vector<int64_t> shape = in.shape;
    shape.erase(shape.begin() + axis_);
    return {TensorType(DType::Int64, shape)};
  }

  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    const int64_t length = x.shape()[axis_];
    std::vector<int> perm;
    Shape out_shape;
    for (int axis = 0; axis < x.ndim(); ++axis)
      if (axis != axis_) {
        perm.push_back(axis);
        out_shape.push_back(x.shape()[axis]);
      }
    perm.push_back(axis_);
    const int64_t count = shape_size(out_shape);
    if (length == 0 && count > 0)
      throw ValueError("[" + name() + "] of an empty sequence: axis " + std::to_string(axis_) + " of shape " +
                       shape_str(x.shape()) + " has size 0");
    const Array rows = x.transpose(perm).contiguous();
    Array out = Array::empty(out_shape, DType::Int64);
    int64_t* result = out.data<int64_t>();
    dispatch_real_dtype(x.dtype(), name(), [&]<class T>() {
      const T* data = count ? rows.data<T>() : nullptr;
      for (int64_t r = 0; r < count; ++r) {
        const T* row = data + r * length;
        int64_t best = 0;
        for (int64_t j = 1; j < length; ++j) {
          if constexpr (is_float_v<T>) {  // NaN wins (x != x: std::isnan has no float16 overload)
            if (row[best] != row[best]) break;
            if (row[j] != row[j]) { best = j; break; }
          }
          if (is_max_ ? row[j] > row[best] : row[j] < row[best]) best = j;
        }
        result[r] = best;
      }
    });
    outputs[0] = std::move(out);
  }

  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable()}; }

  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims = shapes[0];
    dims.erase(dims.begin() + axis_);
    return {dims};
  }

 private:
  bool is_max_;
  int axis_;
};

Variable arg_reduce(bool is_max, const Operand& x, std::optional<int> axis, bool keepdims) {
  Variable input = x.as_variable();
  const char* name = is_max ? "argmax" : "argmin";
  if (!axis) {
    // Over the flattened tensor, as NumPy does without an axis.
    Variable flat = input.ndim() == 1 ? input : flatten(Operand(input, x.where()), 1);
    Variable out = apply_op1(std::make_shared<ArgReduce>(is_max, 0), {flat}, x.where());
    if (!keepdims) return out;
    return dimshuffle(Operand(out, x.where()), std::vector<int>(input.ndim(), kNewAxis));
  }
  int resolved = at_location(x.where(), [&] { return normalize_axis(*axis, input.ndim(), name); });
  Variable out = apply_op1(std::make_shared<ArgReduce>(is_max, resolved), {input}, x.where());
  return keepdims ? restore_reduced_axes(out, input.ndim(), {resolved}) : out;
}

}  // namespace

std::optional<ArgReduceSpec> arg_reduce_of(const Op& op) {
  const auto* arg_reduce = dynamic_cast<const ArgReduce*>(&op);
  if (!arg_reduce) return std::nullopt;
  return ArgReduceSpec{arg_reduce->is_max(), arg_reduce->axis()};
}

Variable argmax(const Operand& x, std::optional<int> axis, bool keepdims) { return arg_reduce(true, x, axis, keepdims); }
Variable argmin(const Operand& x, std::optional<int> axis, bool keepdims) { return arg_reduce(false, x, axis, keepdims); }

void register_arg_reduce_loaders(OpLoaders& loaders) {
  loaders["arg_reduce"] = [](OpReader& in) -> OpPtr {
    const bool is_max = in.flag();
    return std::make_shared<ArgReduce>(is_max, static_cast<int>(in.integer_in(-1, 64, "an axis")));
  };
}
}  // namespace hypatia
