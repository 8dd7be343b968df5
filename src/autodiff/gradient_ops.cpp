// Identity ops that only change what flows back: disconnected_grad and zero_grad.
#include "hypatia/grad.h"
#include "hypatia/shape_ops.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

class GradientBarrier : public Op {
 public:
  std::string save() const override {
    OpWriter out("gradient_barrier");
    out.flag(zero_);
    return out.bytes();
  }
  explicit GradientBarrier(bool zero) : zero_(zero) {}
  std::string name() const override { return zero_ ? "zero_grad" : "disconnected_grad"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.size() != 1) throw TypeError("[" + name() + "] takes one input");
    return {inputs[0].type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = inputs[0];
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    if (zero_ && is_inexact(node.input(0).dtype())) return {zeros_like(node.input(0))};
    return {Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}}; }
  bool gradient_connected() const override { return zero_; }

 private:
  bool zero_;
};

}  // namespace

Variable disconnected_grad(const Operand& x) {
  return apply_op1(std::make_shared<GradientBarrier>(false), {x.as_variable()}, x.where());
}
Variable zero_grad(const Operand& x) { return apply_op1(std::make_shared<GradientBarrier>(true), {x.as_variable()}, x.where()); }

void register_gradient_loaders(OpLoaders& loaders) {
  loaders["gradient_barrier"] = [](OpReader& in) -> OpPtr { return std::make_shared<GradientBarrier>(in.flag()); };
}
}  // namespace hypatia
