// The CPU backend's oneDNN kernels: convolutions (forward, weight and input gradients), pooling (forward;
// the averages' gradient) and batch normalization (training's forward pass and gradient), in float32. Other dtypes, and shapes oneDNN refuses, run the op's reference
// perform(). Each kernel keeps its primitives per input shape (oneDNN's own cache sits behind that).
#pragma once
#include <memory>

#include "backend/backend.h"

namespace hypatia {

// Whether this build has oneDNN.
bool have_onednn();
// A kernel for a Convolution or Pooling node; null for other nodes or without oneDNN.
std::shared_ptr<const Kernel> onednn_convolution_kernel(const Apply& node);
std::shared_ptr<const Kernel> onednn_pooling_kernel(const Apply& node);
std::shared_ptr<const Kernel> onednn_batch_norm_kernel(const Apply& node);

}  // namespace hypatia
