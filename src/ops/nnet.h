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
  std::string save() const override;
  int axis() const { return axis_; }
  bool log() const { return log_; }

 private:
  int axis_;
  bool log_;
};

// -log(p[i, labels[i]]) for each row i of a matrix of probabilities; with from_logits, of
// p = softmax(x) given the logits x, computed stably as logsumexp(x[i]) - x[i, labels[i]], with the
// fused gradient (softmax(x) - onehot(labels)) * g. categorical_crossentropy(softmax(x), labels) builds
// the fused form, and stabilize rewrites the pattern where it appears later.
class CrossentropyCategorical1Hot : public Op {
 public:
  explicit CrossentropyCategorical1Hot(bool from_logits = false) : from_logits_(from_logits) {}
  std::string name() const override {
    return from_logits_ ? "crossentropy_softmax_1hot" : "crossentropy_categorical_1hot";
  }
  bool from_logits() const { return from_logits_; }
  HYPATIA_OP_METHODS
  std::string save() const override;

 private:
  bool from_logits_;
};

}  // namespace hypatia
