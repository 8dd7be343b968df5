// The pooling family (Theano's tensor.signal.pool): one op class for the forward pass, its gradient
// (MaxPoolGrad, AveragePoolGrad) and max-pooling's gradient of the gradient (DownsampleFactorMaxGradGrad),
// over the last 2 or 3 axes. perform() is the reference; the CPU backend runs nodes on oneDNN.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "hypatia/conv.h"
#include "hypatia/graph.h"

namespace hypatia {

enum class PoolPass : uint8_t {
  Forward,   // (x) -> pooled
  Grad,      // max: (x, pooled, output gradient); the others: (x, output gradient) -> gradient of x
  GradGrad,  // max only: (x, pooled, gradient of x's gradient) -> gradient of the output gradient
};

struct PoolSettings {
  int spatial = 2;
  std::vector<int64_t> window, stride, pad;
  bool ignore_border = false;
  PoolMode mode = PoolMode::Max;

  // Checks Theano's rules (ValueError naming `op`); the stride defaults to the window.
  static PoolSettings from(const std::vector<int64_t>& ws, const PoolOptions& options, int spatial, const char* op);
  // Theano's Pool.out_shape along `axis` for an input of `size` samples.
  int64_t output_size(int axis, int64_t size) const;
  bool operator==(const PoolSettings&) const = default;
};

// One node's sizes: leading axes merged into `planes`, spatial lists padded to 3 axes at the front. The
// libraries see (batch, channels): the input's own for (N, C, *spatial), else the planes and one channel.
struct PoolGeometry {
  int64_t planes = 0, batch = 0, channels = 1;
  std::array<int64_t, 3> input{1, 1, 1}, output{1, 1, 1}, window{1, 1, 1}, stride{1, 1, 1}, pad{0, 0, 0};
  int64_t input_size() const { return input[0] * input[1] * input[2]; }
  int64_t output_size() const { return output[0] * output[1] * output[2]; }
};

class Pooling : public Op {
 public:
  Pooling(PoolPass pass, PoolSettings settings) : pass_(pass), settings_(std::move(settings)) {}
  std::string name() const override;
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;
  std::optional<Shape> result_shape(const Apply& node, std::span<const Array> inputs) const override;

  PoolPass pass() const { return pass_; }
  const PoolSettings& settings() const { return settings_; }
  // The sizes for an input x of this shape.
  PoolGeometry geometry(const Shape& x) const;
  Shape pooled_shape(const Shape& x) const;

 private:
  PoolPass pass_;
  PoolSettings settings_;
};

Variable pooling(PoolPass pass, const PoolSettings& settings, std::vector<Variable> inputs, CodeLocation where);

}  // namespace hypatia
