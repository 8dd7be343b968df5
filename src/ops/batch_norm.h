// Batch normalization over every axis but the channels (axis 1): Theano's 'spatial' mode, and
// 'per-activation' of a matrix. One op class for training's forward pass and its gradient (Theano's
// AbstractBatchNormTrain and AbstractBatchNormTrainGrad); other axes are composed from reductions
// (batch_norm.cpp). perform() is the reference; the CPU backend runs nodes on oneDNN.
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

enum class BatchNormPass : uint8_t {
  Train,      // (x, gamma, beta) -> (out, mean, invstd); gamma, beta, mean and invstd have one value per channel
  TrainGrad,  // (x, output gradient, gamma, mean, invstd) -> (x's gradient, gamma's, beta's)
};

class BatchNormalization : public Op {
 public:
  BatchNormalization(BatchNormPass pass, double epsilon) : pass_(pass), epsilon_(epsilon) {}
  std::string name() const override { return pass_ == BatchNormPass::Train ? "batch_norm_train" : "batch_norm_train_grad"; }
  std::string props() const override;
  HYPATIA_OP_METHODS
  std::string save() const override;

  BatchNormPass pass() const { return pass_; }
  double epsilon() const { return epsilon_; }
  // (batch and spatial sizes merged, channels, positions per batch entry) of an input of this shape.
  struct Layout {
    int64_t batch, channels, positions;
  };
  static Layout layout(const Shape& x);
  // The layout of a run with these inputs; ShapeError naming the shapes when they do not fit.
  Layout checked_layout(std::span<const Array> inputs) const;

 private:
  BatchNormPass pass_;
  double epsilon_;
};

}  // namespace hypatia
