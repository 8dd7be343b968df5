// Convolution epilogues: a per-channel bias added to a forward convolution's result, and a relu, tanh or
// sigmoid of it, move into the convolution (ConvEpilogue), so the libraries apply them as they write the
// result (oneDNN's post-ops, cuDNN's bias and activation) instead of a loop reading it back.
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/conv.h"
#include "ops/dimshuffle.h"
#include "ops/elemwise.h"
#include "rewrite/passes/passes.h"
#include "rewrite/patterns.h"
#include "rewrite/rewriter.h"

namespace hypatia {
namespace {

// The forward convolution (without an epilogue part `part` already set) that computes v for `reader` alone.
const Convolution* convolution_for(const FunctionGraph& graph, const Variable& v, const Apply& reader, bool wants_bias) {
  const auto owner = v.owner();
  const auto* conv = owner ? dynamic_cast<const Convolution*>(&owner->op()) : nullptr;
  if (!conv || conv->pass() != ConvPass::Forward || !only_reader_is(graph, v, reader)) return nullptr;
  if (conv->epilogue().activation != ConvActivation::None) return nullptr;  // (nothing follows the activation)
  if (wants_bias && conv->epilogue().bias) return nullptr;
  return conv;
}

// b.dimshuffle('x', 0, 'x', 'x'[, 'x']) for a vector b: one value per channel of an n-d convolution's result.
Variable channel_bias(const Variable& v, int ndim) {
  const auto owner = v.owner();
  const auto* shuffle = owner ? dynamic_cast<const DimShuffle*>(&owner->op()) : nullptr;
  if (!shuffle || owner->input(0).ndim() != 1) return Variable();
  std::vector<int> expected(ndim, kNewAxis);
  expected[1] = 0;
  return shuffle->pattern() == expected ? owner->input(0) : Variable();
}

Variable with_epilogue(const Apply& conv_node, ConvEpilogue epilogue, const Variable& bias) {
  const auto& conv = static_cast<const Convolution&>(conv_node.op());
  std::vector<Variable> inputs{conv_node.input(0), conv_node.input(1)};
  if (epilogue.bias) inputs.push_back(bias ? bias : conv_node.input(2));
  return apply_op1(std::make_shared<Convolution>(ConvPass::Forward, conv.settings(), epilogue), inputs, conv_node.where());
}

// conv(x, w) + b[None, :, None, None]
class ConvBias : public LocalRewriter {
 public:
  std::string name() const override { return "conv_bias"; }
  std::vector<std::string> tracks() const override { return {"add"}; }
  std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const override {
    if (node.inputs().size() != 2) return {};
    for (int side : {0, 1}) {
      const Variable &result = node.input(side), &other = node.input(1 - side);
      const Convolution* conv = convolution_for(graph, result, node, true);
      if (!conv) continue;
      const Variable bias = channel_bias(other, result.ndim());
      if (!bias || bias.dtype() != result.dtype()) continue;
      // A bias of one value broadcast over every channel is not one value per channel.
      const int64_t length = bias.type().shape[0], channels = result.type().shape[1];
      if (length == 1 && channels != 1) continue;
      ConvEpilogue epilogue = conv->epilogue();
      epilogue.bias = true;
      Variable fused = with_epilogue(*result.owner(), epilogue, bias);
      if (fused.type() != node.output(0).type()) return {};
      return {fused};
    }
    return {};
  }
};

// relu(conv(...)) (maximum with 0), tanh(conv(...)), sigmoid(conv(...))
class ConvActivationRewrite : public LocalRewriter {
 public:
  std::string name() const override { return "conv_activation"; }
  std::vector<std::string> tracks() const override { return {"maximum", "tanh", "sigmoid"}; }
  std::vector<Variable> transform(const FunctionGraph& graph, const Apply& node) const override {
    const auto* elemwise = dynamic_cast<const Elemwise*>(&node.op());
    if (!elemwise) return {};
    ConvActivation activation = ConvActivation::None;
    Variable result;
    switch (elemwise->scalar_op().id) {
      case ScalarOpId::tanh: activation = ConvActivation::Tanh, result = node.input(0); break;
      case ScalarOpId::sigmoid: activation = ConvActivation::Sigmoid, result = node.input(0); break;
      case ScalarOpId::maximum:
        for (int side : {0, 1})
          if (is_scalar_constant(node.input(1 - side), 0.0)) activation = ConvActivation::Relu, result = node.input(side);
        break;
      default: break;
    }
    if (activation == ConvActivation::None || !convolution_for(graph, result, node, false)) return {};
    const Apply& conv_node = *result.owner();
    ConvEpilogue epilogue = static_cast<const Convolution&>(conv_node.op()).epilogue();
    epilogue.activation = activation;
    Variable fused = with_epilogue(conv_node, epilogue, Variable());
    if (fused.type() != node.output(0).type()) return {};
    return {fused};
  }
};

}  // namespace

int fuse_convolution_epilogues(FunctionGraph& graph) {
  return rewrite_to_equilibrium(graph, rewrite_set<ConvBias, ConvActivationRewrite>());
}

}  // namespace hypatia
