// Neural-network ops.
#pragma once
#include "hypatia/graph.h"
#include "hypatia/reduce.h"

namespace hypatia {

Variable softmax(const Operand& x, int axis = -1);
Variable log_softmax(const Operand& x, int axis = -1);
Variable logsumexp(const Operand& x, Axes axes = {}, bool keepdims = false);
Variable relu(const Operand& x);
// Per-row cross-entropy -sum(t * log(p)). `targets` is either integer class labels (one per row) or
// a one-hot / probability matrix of p's shape.
Variable categorical_crossentropy(const Operand& predictions, const Operand& targets);
// Elementwise -(t log p + (1 - t) log(1 - p)).
Variable binary_crossentropy(const Operand& predictions, const Operand& targets);

}  // namespace hypatia
