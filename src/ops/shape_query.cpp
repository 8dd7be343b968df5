// Shape and Shape_i: a tensor's runtime shape as an int64 vector or scalar.
#include "ops/shape_query.h"

#include "hypatia/shape_ops.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

class ShapeOp : public Op {
 public:
  std::string save() const override { return OpWriter("shape").bytes(); }
  std::string name() const override { return "shape"; }
  bool reads_only_shape(int) const override { return true; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    return {TensorType(DType::Int64, {inputs.at(0).ndim()})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = Array::from_vector<int64_t>(inputs[0].shape(), Shape{inputs[0].ndim()});
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override { return {Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>&) const override {
    return {{constant(static_cast<double>(node.input(0).ndim()), DType::Int64)}};
  }
};

class ShapeIOp : public Op {
 public:
  std::string save() const override {
    OpWriter out("shape_i");
    out.integer(axis_);
    return out.bytes();
  }
  explicit ShapeIOp(int axis) : axis_(axis) {}
  std::string name() const override { return "shape_i"; }
  bool reads_only_shape(int) const override { return true; }
  std::string props() const override { return std::to_string(axis_); }
  int axis() const { return axis_; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (axis_ < 0 || axis_ >= inputs.at(0).ndim())
      throw ValueError("[shape_i] axis " + std::to_string(axis_) + " is out of range for " + inputs[0].type().str());
    return {TensorType(DType::Int64, {})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = Array::scalar(static_cast<double>(inputs[0].shape()[axis_]), DType::Int64);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override { return {Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>&) const override {
    return {{}};
  }

 private:
  int axis_;
};

}  // namespace

bool is_shape(const Op& op) { return dynamic_cast<const ShapeOp*>(&op) != nullptr; }

int shape_i_axis(const Op& op) {
  const auto* shape_i_op = dynamic_cast<const ShapeIOp*>(&op);
  return shape_i_op ? shape_i_op->axis() : -1;
}

Variable shape(const Operand& x) { return apply_op1(std::make_shared<ShapeOp>(), {x.as_variable()}, x.where()); }

Variable shape_i(const Operand& x, int axis) {
  Variable input = x.as_variable();
  int resolved = axis < 0 ? axis + input.ndim() : axis;
  // A statically known dimension needs no node.
  if (resolved >= 0 && resolved < input.ndim() && input.type().shape[resolved] != TensorType::kUnknown)
    return constant(static_cast<double>(input.type().shape[resolved]), DType::Int64, x.where());
  return apply_op1(std::make_shared<ShapeIOp>(resolved), {input}, x.where());
}

void register_shape_query_loaders(OpLoaders& loaders) {
  loaders["shape"] = [](OpReader&) -> OpPtr { return std::make_shared<ShapeOp>(); };
  loaders["shape_i"] = [](OpReader& in) -> OpPtr { return std::make_shared<ShapeIOp>(static_cast<int>(in.integer_in(0, 64, "an axis"))); };
}
}  // namespace hypatia
