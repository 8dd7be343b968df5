// Neural-network ops with their own kernels: Softmax, LogSoftmax and the cross-entropy of
// probabilities against integer labels. The rest of nnet.h is composed from other ops.
#pragma once
#include "hypatia/graph.h"

namespace hypatia {

class Softmax : public Op {
 public:
  Softmax(int axis, bool log) : axis_(axis), log_(log) {}
  std::string name() const override { return log_ ? "log_softmax" : "softmax"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }
  HYPATIA_OP_METHODS
  int axis() const { return axis_; }
  bool log() const { return log_; }

 private:
  int axis_;
  bool log_;
};

// -log(p[i, labels[i]]) for each row i of a matrix of probabilities.
class CrossentropyCategorical1Hot : public Op {
 public:
  std::string name() const override { return "crossentropy_categorical_1hot"; }
  HYPATIA_OP_METHODS
};

}  // namespace hypatia
