// Neural-network ops.
#pragma once
#include "hypatia/graph.h"
#include "hypatia/reduce.h"

namespace hypatia {

Variable softmax(const Operand& x, int axis = -1);
Variable log_softmax(const Operand& x, int axis = -1);
Variable logsumexp(const Operand& x, Axes axes = {}, bool keepdims = false);
// max(x, 0), or leaky with slope alpha below zero.
Variable relu(const Operand& x, double alpha = 0.0);
Variable elu(const Operand& x, double alpha = 1.0);
Variable softsign(const Operand& x);
Variable hard_sigmoid(const Operand& x);  // clip(0.2 x + 0.5, 0, 1)
Variable log_sigmoid(const Operand& x);   // -softplus(-x), stable
// Per-row cross-entropy -sum(t * log(p)). `targets` is either integer class labels (one per row) or
// a one-hot / probability matrix of p's shape.
Variable categorical_crossentropy(const Operand& predictions, const Operand& targets);
// Elementwise -(t log p + (1 - t) log(1 - p)).
Variable binary_crossentropy(const Operand& predictions, const Operand& targets);

}  // namespace hypatia
