// The convolution family: one op class for Theano's AbstractConv, AbstractConv_gradWeights and
// AbstractConv_gradInputs over 2 or 3 spatial axes. Each pass's gradient is made of the other passes, so
// gradients of gradients are convolutions too. perform() is the reference (im2col + GEMM); the CPU
// backend runs nodes on oneDNN (backend/cpu/onednn.cpp), the CUDA backend on cuDNN.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "hypatia/conv.h"
#include "hypatia/graph.h"

namespace hypatia {

enum class ConvPass : uint8_t {
  Forward,      // inputs (image, filters[, bias]) -> output
  GradWeights,  // inputs (image, output gradient, filter spatial shape) -> filter gradient
  GradInputs,   // inputs (filters, output gradient, image spatial shape) -> image gradient
};

// A convolution's parameters, resolved to one entry per spatial axis.
struct ConvSettings {
  int spatial = 2;
  BorderMode border_mode = BorderMode::Explicit;
  std::vector<int64_t> padding, subsample, dilation;
  bool filter_flip = true;
  int64_t groups = 1;

  // Checks the options (ValueError naming `op`) and spreads single values over the axes.
  static ConvSettings from(const ConvOptions& options, int spatial, const char* op);
  // Zeros added on each side of `axis` for a kernel of `kernel` taps (kUnknown when it is unknown).
  int64_t pad(int axis, int64_t kernel) const;
  int64_t dilated(int axis, int64_t kernel) const { return (kernel - 1) * dilation[axis] + 1; }
  // The output size along `axis` of an image of `image` samples; < 1 when the kernel does not fit.
  int64_t output_size(int axis, int64_t image, int64_t kernel) const;
  bool operator==(const ConvSettings&) const = default;
};

// One node's sizes, each spatial list padded to 3 axes at the front (a 2-d convolution has depth 1).
struct ConvGeometry {
  int64_t batch = 0, channels = 0, filters = 0, groups = 1;
  std::array<int64_t, 3> image{1, 1, 1}, kernel{1, 1, 1}, output{1, 1, 1};
  std::array<int64_t, 3> pad{0, 0, 0}, stride{1, 1, 1}, dilation{1, 1, 1};
  bool flip = true;
  int64_t image_size() const { return image[0] * image[1] * image[2]; }
  int64_t kernel_size() const { return kernel[0] * kernel[1] * kernel[2]; }
  int64_t output_size() const { return output[0] * output[1] * output[2]; }
};

// What a forward convolution may apply to its result before storing it (fused by the conv_epilogues
// pass, so the libraries apply it as the result is written: oneDNN's post-ops, cuDNN's bias and activation).
enum class ConvActivation : uint8_t { None, Relu, Tanh, Sigmoid };
struct ConvEpilogue {
  bool bias = false;  // a third input: one value per output channel, added
  ConvActivation activation = ConvActivation::None;
  bool operator==(const ConvEpilogue&) const = default;
  explicit operator bool() const { return bias || activation != ConvActivation::None; }
};

class Convolution : public Op {
 public:
  Convolution(ConvPass pass, ConvSettings settings, ConvEpilogue epilogue = {})
      : pass_(pass), settings_(std::move(settings)), epilogue_(epilogue) {}
  std::string name() const override;
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  bool reads_on_host(int input) const override { return input == 2; }  // the spatial shape
  std::optional<Shape> result_shape(const Apply& node, std::span<const Array> inputs) const override;

  ConvPass pass() const { return pass_; }
  const ConvSettings& settings() const { return settings_; }
  const ConvEpilogue& epilogue() const { return epilogue_; }
  // The sizes of a node's run with these inputs; ShapeError (naming the shapes) when they do not fit.
  ConvGeometry geometry(std::span<const Array> inputs) const;
  // The shape of the output for that geometry.
  Shape output_shape(const ConvGeometry& g) const;

 private:
  ConvPass pass_;
  ConvSettings settings_;
  ConvEpilogue epilogue_;
};

// The epilogue's activation applied to x (reference and gradients), and its derivative given the output y
// (relu's is 0 at 0, where maximum(x, 0)'s passes the gradient: it matters only for gradients of graphs
// already rewritten).
Variable conv_activation(ConvActivation activation, const Variable& x);
Variable conv_activation_slope(ConvActivation activation, const Variable& y);

// Builds one pass of a convolution (the builders of conv.h and the gradients use it).
Variable convolution(ConvPass pass, const ConvSettings& settings, const Variable& a, const Variable& b,
                     const Variable& spatial_shape, CodeLocation where);
// Entry i of a vector of sizes, as an int64 scalar (for infer_shape).
Variable size_at(const Variable& sizes, int i);
// The spatial sizes of x (its axes from 2 on) as an int64 vector: a constant where they are known.
Variable spatial_shape(const Variable& x);

}  // namespace hypatia
