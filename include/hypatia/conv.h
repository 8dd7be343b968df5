// Convolutional-network ops with Theano's semantics: tensor.nnet's conv2d / conv3d / conv2d_transpose,
// tensor.signal.pool's pool_2d / pool_3d, tensor.nnet.bn's batch normalization and tensor.nnet.neighbours.
// Layouts are Theano's: images (batch, channels, *spatial), filters (out channels, in channels / groups,
// *spatial).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

// How a convolution pads its input on each side (Theano's border_mode).
enum class BorderMode : uint8_t {
  Explicit,  // ConvOptions::padding zeros ('valid' is none)
  Full,      // dilated kernel size - 1: every overlap of kernel and image
  Half,      // dilated kernel size / 2 ('same' for odd kernels and stride 1)
};

struct ConvOptions {
  BorderMode border_mode = BorderMode::Explicit;
  std::vector<int64_t> padding;          // Explicit: one per spatial axis (or one for all); empty: 'valid'
  std::vector<int64_t> subsample;        // strides; empty: 1
  bool filter_flip = true;               // true: convolution (the kernel flipped), false: cross-correlation
  std::vector<int64_t> filter_dilation;  // empty: 1
  int64_t num_groups = 1;                // channels split in groups, each convolved with its own filters
};

// image (N, C, H, W) and filters (O, C / groups, kh, kw) -> (N, O, oh, ow); conv3d likewise with depth.
Variable conv2d(const Operand& input, const Operand& filters, const ConvOptions& options = {});
Variable conv3d(const Operand& input, const Operand& filters, const ConvOptions& options = {});
// The gradient of a convolution with respect to its image, as a layer (Theano's conv2d_transpose): input
// (N, O, ...) and the filters of the convolution it transposes (O, C / groups, ...) -> (N, C, *image_shape),
// `image_shape` the spatial sizes of that convolution's image (several give one input size when strided).
Variable conv_transpose(const Operand& input, const Operand& filters, const std::vector<Operand>& image_shape,
                        const ConvOptions& options = {});
// The gradient with respect to the filters: image (N, C, ...) and output gradient (N, O, ...) ->
// (O, C / groups, *filter_shape).
Variable conv_grad_weights(const Operand& input, const Operand& output_grad, const std::vector<Operand>& filter_shape,
                           const ConvOptions& options = {});

enum class PoolMode : uint8_t { Max, Sum, AverageIncPad, AverageExcPad };

struct PoolOptions {
  std::vector<int64_t> stride;  // empty: the window size (no overlap)
  std::vector<int64_t> pad;     // zeros on both sides; empty: none (needs ignore_border)
  bool ignore_border = false;   // false: a partial window at the end of an axis gives one more output
  PoolMode mode = PoolMode::Max;
};

// Pools the last 2 (3) axes of x (at least that many) over windows of `ws`.
Variable pool_2d(const Operand& x, const std::vector<int64_t>& ws, const PoolOptions& options = {});
Variable pool_3d(const Operand& x, const std::vector<int64_t>& ws, const PoolOptions& options = {});
// x where it is the maximum of its patch (non-overlapping patches of `patch_size`), 0 elsewhere.
Variable max_pool_2d_same_size(const Operand& x, const std::vector<int64_t>& patch_size);

// Batch normalization. `axes`: the axes statistics are taken over; Theano's 'per-activation' is {0} and
// 'spatial' is {0, 2, 3, ...}. gamma, beta (and the running statistics) have the input's ndim with size 1
// on those axes, or the shape of the kept axes alone.
struct BatchNormTrain {
  Variable output, mean, invstd;
  Variable running_mean, running_var;  // set when running statistics were given
};
BatchNormTrain batch_normalization_train(const Operand& inputs, const Operand& gamma, const Operand& beta,
                                         const std::vector<int>& axes, double epsilon = 1e-4,
                                         double running_average_factor = 0.1, const Variable& running_mean = {},
                                         const Variable& running_var = {});
Variable batch_normalization_test(const Operand& inputs, const Operand& gamma, const Operand& beta, const Operand& mean,
                                  const Operand& var, const std::vector<int>& axes, double epsilon = 1e-4);
// (inputs - mean) * (gamma / std) + beta, broadcasting as written.
Variable batch_normalization(const Operand& inputs, const Operand& gamma, const Operand& beta, const Operand& mean,
                             const Operand& std);

// Theano's images2neibs: the (rows, cols) patches of each image of a 4-d tensor, one patch a row, stepping
// by `step` (empty: the patch shape). mode: "valid", "ignore_borders", "wrap_centered", "half" or "full".
Variable images2neibs(const Operand& images, const std::vector<int64_t>& patch, const std::vector<int64_t>& step = {},
                      const std::string& mode = "valid");
// Its inverse for non-overlapping patches: the images of `original_shape` (4 sizes) back from the patches.
Variable neibs2images(const Operand& neibs, const std::vector<int64_t>& patch, const std::vector<Operand>& original_shape,
                      const std::string& mode = "valid");

}  // namespace hypatia
