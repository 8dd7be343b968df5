// Batch normalization's training passes (Theano's AbstractBatchNormTrain and AbstractBatchNormTrainGrad):
// statistics over `axes`, one set per position of the other (kept) axes. Per-channel values (gamma, beta,
// the statistics and their gradients) come either with the input's ndim and size 1 on the reduced axes,
// or as the kept axes alone; the outputs take gamma's form. perform() is the reference; the CPU backend
// runs per-channel nodes (every axis reduced but axis 1) on oneDNN.
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

enum class BatchNormPass : uint8_t {
  Train,      // (x, gamma, beta) -> (out, mean, invstd)
  TrainGrad,  // (x, output gradient, gamma, mean, invstd) -> (x's gradient, gamma's, beta's)
};

class BatchNormalization : public Op {
 public:
  BatchNormalization(BatchNormPass pass, double epsilon, std::vector<int> axes)
      : pass_(pass), epsilon_(epsilon), axes_(std::move(axes)) {}
  std::string name() const override { return pass_ == BatchNormPass::Train ? "batch_norm_train" : "batch_norm_train_grad"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;

  BatchNormPass pass() const { return pass_; }
  double epsilon() const { return epsilon_; }
  const std::vector<int>& axes() const { return axes_; }
  // Whether the statistics are per channel: every axis of an ndim-d input reduced but axis 1.
  bool per_channel(int ndim) const;
  // How many statistics (kept positions) and samples each; ShapeError naming the shapes when the inputs
  // do not fit.
  struct Layout {
    int64_t groups, samples;
  };
  Layout checked_layout(std::span<const Array> inputs) const;

 private:
  BatchNormPass pass_;
  double epsilon_;
  std::vector<int> axes_;
};

}  // namespace hypatia
