#include "ops/transfer.h"

#include "hypatia/device.h"
#include "ir/serialize.h"
#include "ops/op_support.h"

namespace hypatia {

std::vector<TensorType> Transfer::output_types(const std::vector<Variable>& inputs) const { return {inputs.at(0).type()}; }

void Transfer::perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const {
  outputs[0] = to_device(inputs[0], to_);
}

std::vector<Variable> Transfer::grad(const Apply&, const std::vector<Variable>& output_grads) const {
  return {output_grads[0]};  // the same values, wherever they live
}

std::vector<std::vector<Variable>> Transfer::infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const {
  return {shapes[0]};
}

std::string Transfer::save() const {
  OpWriter out("transfer");
  out.text(to_.str());
  return out.bytes();
}

void register_transfer_loaders(OpLoaders& loaders) {
  loaders["transfer"] = [](OpReader& in) -> OpPtr { return std::make_shared<Transfer>(Device::parse(in.text())); };
}

Variable transfer(const Variable& x, const Device& to) { return apply_op1(std::make_shared<Transfer>(to), {x}, x.where()); }

}  // namespace hypatia
