// cuDNN, loaded at run time like the driver and cuBLAS: convolutions (forward, weight and input gradients)
// and pooling for the CUDA runtime, in float32 (without TF32) and float64. The algorithm of each
// convolution is chosen once per shape (cuDNN's heuristics) and kept; the workspace grows as needed.
#pragma once
#include <span>
#include <string>
#include <vector>

#include "backend/cuda/driver.h"
#include "hypatia/array.h"

namespace hypatia {
class Convolution;
class Pooling;
struct ConvGeometry;
struct PoolGeometry;
}  // namespace hypatia

namespace hypatia::cuda {

// Whether libcudnn could be loaded with every function this file calls; its version (91000 for 9.10).
bool cudnn_available();
size_t cudnn_version();

// The output sizes cuDNN's descriptors give a forward convolution of this geometry (descriptors only: no
// GPU needed), so a test checks they are Theano's where no GPU is present.
std::vector<int> cudnn_convolution_output(const Convolution& op, const ConvGeometry& g, DType dtype);
// Likewise for pooling (cuDNN pads both sides alike, so it takes nodes with ignore_border only).
std::vector<int> cudnn_pooling_output(const Pooling& op, const PoolGeometry& g, DType dtype);

// One pass of a convolution on `context`'s default stream: a and b are the node's first two inputs,
// `out` its (contiguous, allocated) output; pointers are the buffers' starts (offsets applied here).
// A forward pass's epilogue follows on the result (bias: the node's third input, or null).
void convolution(CUcontext context, const Convolution& op, const ConvGeometry& g, const Array& a, CUdeviceptr a_base,
                 const Array& b, CUdeviceptr b_base, const Array* bias, CUdeviceptr bias_base, Array& out, CUdeviceptr out_base);
// Pooling forward or gradient: `inputs` the node's inputs with their buffers.
void pooling(CUcontext context, const Pooling& op, const PoolGeometry& g, std::span<const Array> inputs,
             std::span<const CUdeviceptr> bases, Array& out, CUdeviceptr out_base);

}  // namespace hypatia::cuda
