// Identity ops that only change what flows back: disconnected_grad, zero_grad and undefined_grad.
#include "hypatia/grad.h"
#include "hypatia/shape_ops.h"
#include "ir/describe.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

enum class Barrier : uint8_t { Disconnected, Zero, Undefined };

class GradientBarrier : public Op {
 public:
  std::string save() const override {
    OpWriter out(kind_ == Barrier::Undefined ? "undefined_grad" : "gradient_barrier");
    if (kind_ != Barrier::Undefined) out.flag(kind_ == Barrier::Zero);
    return out.bytes();
  }
  explicit GradientBarrier(Barrier kind) : kind_(kind) {}
  std::string name() const override {
    return kind_ == Barrier::Zero ? "zero_grad" : kind_ == Barrier::Undefined ? "undefined_grad" : "disconnected_grad";
  }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.size() != 1) throw TypeError("[" + name() + "] takes one input");
    return {inputs[0].type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    outputs[0] = inputs[0];
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    // Theano's undefined_grad: asking for a gradient through it is the error, not the graph itself.
    if (kind_ == Barrier::Undefined)
      throw GradientError("[undefined_grad] the gradient through " + describe_variable(node.output(0)) +
                          " is undefined (undefined_grad was called on it)");
    if (kind_ == Barrier::Zero && is_inexact(node.input(0).dtype())) return {zeros_like(node.input(0))};
    return {Variable()};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}}; }
  bool gradient_connected() const override { return kind_ != Barrier::Disconnected; }

 private:
  Barrier kind_;
};

}  // namespace

Variable disconnected_grad(const Operand& x) {
  return apply_op1(std::make_shared<GradientBarrier>(Barrier::Disconnected), {x.as_variable()}, x.where());
}
Variable zero_grad(const Operand& x) {
  return apply_op1(std::make_shared<GradientBarrier>(Barrier::Zero), {x.as_variable()}, x.where());
}
Variable undefined_grad(const Operand& x) {
  return apply_op1(std::make_shared<GradientBarrier>(Barrier::Undefined), {x.as_variable()}, x.where());
}

void register_gradient_loaders(OpLoaders& loaders) {
  loaders["gradient_barrier"] = [](OpReader& in) -> OpPtr {
    return std::make_shared<GradientBarrier>(in.flag() ? Barrier::Zero : Barrier::Disconnected);
  };
  loaders["undefined_grad"] = [](OpReader&) -> OpPtr { return std::make_shared<GradientBarrier>(Barrier::Undefined); };
}
}  // namespace hypatia
