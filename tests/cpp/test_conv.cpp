// Convolutions, pooling, batch normalization and neighbours through the C++ API (hypatia/conv.h): small
// arrays whose results are worked out by hand in the comments, gradients by finite differences, saving and
// loading graphs of these ops, and the errors' messages.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::run1;
using hp::testing::run_every_mode;
using hp::testing::values;
using hp::testing::throws_with;

namespace {


// 1..n in the given shape.
Array counting(const hp::Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> data;
  for (int64_t i = 1; i <= n; ++i) data.push_back(static_cast<double>(i));
  return values(data, shape);
}

hp::Variable tensor5(const std::string& name) { return hp::tensor(DType::Float64, {-1, -1, -1, -1, -1}, name); }

// The 3x3 image 1..9 and the 2x2 kernel [[1, 2], [3, 4]] of most tests.
const Array kImage = counting({1, 1, 3, 3});
const Array kKernel = counting({1, 1, 2, 2});

}  // namespace

TEST(Conv, Conv2dByHand) {
  auto x = hp::tensor4("x"), w = hp::tensor4("w");
  // Cross-correlation: out[i, j] = sum x[i + a, j + b] w[a, b]:
  //   (0, 0) 1*1 + 2*2 + 4*3 + 5*4 = 37, (0, 1) 2 + 6 + 15 + 24 = 47, (1, 0) 4 + 10 + 21 + 32 = 67, (1, 1) 77.
  hp::ConvOptions xcorr;
  xcorr.filter_flip = false;
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, xcorr), {kImage, kKernel}), values({37, 47, 67, 77}, {1, 1, 2, 2})));
  // Convolution: the kernel flipped, [[4, 3], [2, 1]]: (0, 0) 4 + 6 + 8 + 5 = 23, (0, 1) 8 + 9 + 10 + 6 = 33,
  // (1, 0) 16 + 15 + 14 + 8 = 53, (1, 1) 20 + 18 + 16 + 9 = 63.
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w), {kImage, kKernel}), values({23, 33, 53, 63}, {1, 1, 2, 2})));
  // A zero border of 1 and strides of 2, cross-correlation: the padded 5x5 image's windows at rows and
  // columns 0 and 2: (0, 0) only x[0, 0] under the 4: 4; (0, 2) 2*3 + 3*4 = 18; (2, 0) 4*2 + 7*4 = 36;
  // (2, 2) 5 + 12 + 24 + 36 = 77.
  hp::ConvOptions padded = xcorr;
  padded.padding = {1};
  padded.subsample = {2, 2};
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, padded), {kImage, kKernel}), values({4, 18, 36, 77}, {1, 1, 2, 2})));
}

TEST(Conv, FullHalfAndDilationOnARow) {
  auto x = hp::tensor4("x"), w = hp::tensor4("w");
  const Array row = values({1, 2, 3}, {1, 1, 1, 3}), ones = values({1, 1}, {1, 1, 1, 2});
  hp::ConvOptions full;
  full.border_mode = hp::BorderMode::Full;
  // [1, 2, 3] * [1, 1] in full: [1, 3, 5, 3].
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, full), {row, ones}), values({1, 3, 5, 3}, {1, 1, 1, 4})));
  // Dilation 2 makes the kernel [1, 0, 1]: full convolution [1, 2, 1 + 3, 2, 3].
  full.filter_dilation = {1, 2};
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, full), {row, ones}), values({1, 2, 4, 2, 3}, {1, 1, 1, 5})));
  // 'half' with a kernel of 3 ([1, 1, 1]) keeps the size: [1 + 2, 1 + 2 + 3, 2 + 3].
  hp::ConvOptions half;
  half.border_mode = hp::BorderMode::Half;
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, half), {row, values({1, 1, 1}, {1, 1, 1, 3})}),
                           values({3, 6, 5}, {1, 1, 1, 3})));
}

TEST(Conv, GroupsAndConv3d) {
  auto x = hp::tensor4("x"), w = hp::tensor4("w");
  // Two groups of one channel: channel 0 ([1, 2]) times 10, channel 1 ([3, 4]) times 100.
  hp::ConvOptions groups;
  groups.num_groups = 2;
  EXPECT_TRUE(arrays_close(run1({x, w}, hp::conv2d(x, w, groups), {counting({1, 2, 1, 2}), values({10, 100}, {2, 1, 1, 1})}),
                           values({10, 20, 300, 400}, {1, 2, 1, 2})));
  // conv3d of 1..8 (2x2x2) with a kernel of ones: 36; with 'full' the corner is 1 * 1 = 1 and the centre 36.
  auto x5 = tensor5("x5"), w5 = tensor5("w5");
  const Array cube = counting({1, 1, 2, 2, 2}), ones = Array::ones({1, 1, 2, 2, 2});
  EXPECT_TRUE(arrays_close(run1({x5, w5}, hp::conv3d(x5, w5), {cube, ones}), values({36}, {1, 1, 1, 1, 1})));
  hp::ConvOptions full;
  full.border_mode = hp::BorderMode::Full;
  Array out = run1({x5, w5}, hp::conv3d(x5, w5, full), {cube, ones});
  ASSERT_EQ(out.shape(), (hp::Shape{1, 1, 3, 3, 3}));
  EXPECT_EQ(out.get_as_double(0), 1);
  EXPECT_EQ(out.get_as_double(13), 36);
  EXPECT_EQ(out.get_as_double(26), 8);
}

TEST(Conv, TransposeAndWeightGradientByHand) {
  auto g = hp::tensor4("g"), w = hp::tensor4("w"), x = hp::tensor4("x");
  const Array top = counting({1, 1, 2, 2}), ones = Array::ones({1, 1, 2, 2});
  // The image gradient of a 2x2 kernel of ones over a 3x3 image: each output adds its gradient to its
  // window: [[1, 1 + 2, 2], [1 + 3, 1 + 2 + 3 + 4, 2 + 4], [3, 3 + 4, 4]].
  EXPECT_TRUE(arrays_close(run1({g, w}, hp::conv_transpose(g, w, {3, 3}), {top, ones}),
                           values({1, 3, 2, 4, 10, 6, 3, 7, 4}, {1, 1, 3, 3})));
  // Strides of 2: the windows do not overlap. 4x4 and 5x5 images both give 2x2 outputs; the 5x5 one's last
  // row and column get nothing.
  hp::ConvOptions strided;
  strided.subsample = {2, 2};
  EXPECT_TRUE(arrays_close(run1({g, w}, hp::conv_transpose(g, w, {4, 4}, strided), {top, ones}),
                           values({1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, {1, 1, 4, 4})));
  Array five = run1({g, w}, hp::conv_transpose(g, w, {1, 1, 5, 5}, strided), {top, ones});
  ASSERT_EQ(five.shape(), (hp::Shape{1, 1, 5, 5}));
  EXPECT_EQ(five.get_as_double(4), 0);
  EXPECT_EQ(five.get_as_double(24), 0);
  EXPECT_EQ(five.get_as_double(18), 4);
  // The kernel gradient with output gradients of ones (cross-correlation): each tap sums its 2x2 window of
  // the image: (0, 0) 1 + 2 + 4 + 5 = 12, (0, 1) 16, (1, 0) 24, (1, 1) 28; a convolution flips it.
  hp::ConvOptions xcorr;
  xcorr.filter_flip = false;
  EXPECT_TRUE(arrays_close(run1({x, g}, hp::conv_grad_weights(x, g, {2, 2}, xcorr), {kImage, ones}),
                           values({12, 16, 24, 28}, {1, 1, 2, 2})));
  EXPECT_TRUE(arrays_close(run1({x, g}, hp::conv_grad_weights(x, g, {2, 2}), {kImage, ones}),
                           values({28, 24, 16, 12}, {1, 1, 2, 2})));
}

TEST(Conv, GradientsAreTheGradientOps) {
  // grad(sum(conv2d(x, w) * g)) is conv_transpose(g, w) and conv_grad_weights(x, g), at a strided,
  // dilated, grouped configuration.
  hp::ConvOptions options;
  options.border_mode = hp::BorderMode::Half;
  options.subsample = {2, 1};
  options.filter_dilation = {1, 2};
  options.num_groups = 2;
  options.filter_flip = false;
  auto x = hp::tensor4("x"), w = hp::tensor4("w"), g = hp::tensor4("g");
  auto cost = hp::sum(hp::conv2d(x, w, options) * g);
  auto grads = hp::grad(cost, {x, w});
  auto image_grad = hp::conv_transpose(g, w, {hp::shape_i(x, 2), hp::shape_i(x, 3)}, options);
  auto kernel_grad = hp::conv_grad_weights(x, g, {3, 2}, options);
  hp::random::Generator rng(7);
  const Array xv = rng.normal({2, 4, 5, 6}, 0, 1), wv = rng.normal({4, 2, 3, 2}, 0, 1);
  const Array gv = rng.normal({2, 4, 3, 6}, 0, 1);  // half: pads (1, 1); rows (5 + 2 - 3) / 2 + 1 = 3
  auto got = run_every_mode({x, w, g}, {grads[0], grads[1], image_grad, kernel_grad}, {xv, wv, gv});
  EXPECT_TRUE(arrays_close(got[0], got[2]));
  EXPECT_TRUE(arrays_close(got[1], got[3]));
  EXPECT_EQ(got[0].shape(), xv.shape());
  EXPECT_EQ(got[1].shape(), wv.shape());
}

TEST(Conv, VerifyGrad) {
  hp::random::Generator rng(11);
  hp::ConvOptions options;
  options.border_mode = hp::BorderMode::Full;
  options.subsample = {2, 1};
  options.filter_dilation = {2, 1};
  options.num_groups = 2;
  expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::conv2d(in[0], in[1], options); },
                 {rng.normal({1, 4, 4, 5}, 0, 1), rng.normal({2, 2, 2, 3}, 0, 1)});
  hp::ConvOptions half;
  half.border_mode = hp::BorderMode::Half;
  half.subsample = {1, 2, 2};
  expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::conv3d(in[0], in[1], half); },
                 {rng.normal({1, 2, 3, 4, 4}, 0, 1), rng.normal({2, 2, 3, 2, 3}, 0, 1)});
  // The gradient ops' own gradients (second derivatives).
  hp::ConvOptions strided;
  strided.subsample = {2, 2};
  strided.padding = {1, 0};
  expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::conv_transpose(in[0], in[1], {5, 5}, strided); },
                 {rng.normal({2, 3, 3, 2}, 0, 1), rng.normal({3, 2, 2, 2}, 0, 1)});
  expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::conv_grad_weights(in[0], in[1], {2, 2}, strided); },
                 {rng.normal({2, 2, 5, 5}, 0, 1), rng.normal({2, 3, 3, 2}, 0, 1)});
}

TEST(ConvPool, ByHand) {
  auto x = hp::tensor4("x");
  const Array image = counting({1, 1, 3, 4});  // [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12]]
  // 2x2 windows, ignore_border=false: the last row is a partial window of one row.
  hp::PoolOptions options;
  auto pooled = [&](hp::PoolMode mode) {
    options.mode = mode;
    return run1({x}, hp::pool_2d(x, {2, 2}, options), {image});
  };
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::Max), values({6, 8, 10, 12}, {1, 1, 2, 2})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::Sum), values({14, 22, 19, 23}, {1, 1, 2, 2})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::AverageIncPad), values({3.5, 5.5, 9.5, 11.5}, {1, 1, 2, 2})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::AverageExcPad), values({3.5, 5.5, 9.5, 11.5}, {1, 1, 2, 2})));
  options.ignore_border = true;
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::Max), values({6, 8}, {1, 1, 1, 2})));
  // A zero pad of 1: the padded image is 5x6, 2x3 windows of 2x2. Rows [-1, 1) and [1, 3), columns [-1, 1),
  // [1, 3), [3, 5) of the image; only the samples inside count, except for average_inc_pad's divisor 4.
  options.pad = {1, 1};
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::Max), values({1, 3, 4, 9, 11, 12}, {1, 1, 2, 3})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::Sum), values({1, 5, 4, 14, 34, 20}, {1, 1, 2, 3})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::AverageExcPad), values({1, 2.5, 4, 7, 8.5, 10}, {1, 1, 2, 3})));
  EXPECT_TRUE(arrays_close(pooled(hp::PoolMode::AverageIncPad), values({0.25, 1.25, 1, 3.5, 8.5, 5}, {1, 1, 2, 3})));
  // Overlapping windows (stride 1 < ws 2) on one row: max of [1, 2], [2, 3], [3, 4].
  hp::PoolOptions overlapping;
  overlapping.stride = {1, 1};
  overlapping.ignore_border = true;
  EXPECT_TRUE(arrays_close(run1({x}, hp::pool_2d(x, {1, 2}, overlapping), {counting({1, 1, 1, 4})}),
                           values({2, 3, 4}, {1, 1, 1, 3})));
  // pool_3d over 1..8: max 8, sum 36.
  auto x5 = tensor5("x5");
  hp::PoolOptions sum;
  sum.mode = hp::PoolMode::Sum;
  const Array cube = counting({1, 1, 2, 2, 2});
  EXPECT_TRUE(arrays_close(run1({x5}, hp::pool_3d(x5, {2, 2, 2}), {cube}), values({8}, {1, 1, 1, 1, 1})));
  EXPECT_TRUE(arrays_close(run1({x5}, hp::pool_3d(x5, {2, 2, 2}, sum), {cube}), values({36}, {1, 1, 1, 1, 1})));
}

TEST(ConvPool, MaxGradientAndSameSize) {
  auto x = hp::tensor4("x"), gz = hp::tensor4("gz");
  const Array image = values({1, 4, 3, 2}, {1, 1, 2, 2});
  hp::PoolOptions options;
  options.ignore_border = true;
  // The gradient goes to the window's maximum, 4.
  auto gx = hp::grad(hp::sum(hp::pool_2d(x, {2, 2}, options) * gz), x);
  EXPECT_TRUE(arrays_close(run1({x, gz}, gx, {image, values({5}, {1, 1, 1, 1})}), values({0, 5, 0, 0}, {1, 1, 2, 2})));
  EXPECT_TRUE(arrays_close(run1({x}, hp::max_pool_2d_same_size(x, {2, 2}), {image}), values({0, 4, 0, 0}, {1, 1, 2, 2})));
}

TEST(ConvPool, VerifyGrad) {
  // Distinct values (no ties for the maximum).
  std::vector<double> data;
  for (int i = 0; i < 30; ++i) data.push_back(((i * 7) % 30) * 0.1 - 1.3);
  const Array point = values(data, {1, 1, 5, 6});
  for (hp::PoolMode mode : {hp::PoolMode::Max, hp::PoolMode::Sum, hp::PoolMode::AverageIncPad, hp::PoolMode::AverageExcPad}) {
    hp::PoolOptions options;
    options.mode = mode;
    options.stride = {2, 1};
    expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::pool_2d(in[0], {3, 2}, options); }, {point});
    options.ignore_border = true;
    options.pad = {1, 1};
    expect_grad_ok([&](const std::vector<hp::Variable>& in) { return hp::pool_2d(in[0], {2, 3}, options); }, {point});
  }
}

TEST(ConvPool, GradientOfTheMaxGradient) {
  // The max-pool gradient is linear in gz: d/d gz <grad_x, h> is h at each window's maximum. x = [[1, 4],
  // [3, 2]]: the maximum is at (0, 1), so the result is h[0, 1] = 7.
  auto x = hp::tensor4("x"), gz = hp::tensor4("gz"), h = hp::tensor4("h");
  hp::PoolOptions options;
  options.ignore_border = true;
  auto gx = hp::grad(hp::sum(hp::pool_2d(x, {2, 2}, options) * gz), x);
  auto ggz = hp::grad(hp::sum(gx * h), gz);
  EXPECT_TRUE(arrays_close(run1({x, gz, h}, ggz, {values({1, 4, 3, 2}, {1, 1, 2, 2}), values({5}, {1, 1, 1, 1}),
                                                  values({6, 7, 8, 9}, {1, 1, 2, 2})}),
                           values({7}, {1, 1, 1, 1})));
}

TEST(ConvBatchNorm, ByHand) {
  // x = [[1, 2], [3, 6]] per activation (axis 0): means [2, 4], biased variances [1, 4], unbiased [2, 8].
  auto x = hp::matrix("x");
  const double eps = 1e-4;
  auto running_mean = hp::shared(Array::zeros({2}), "running_mean");
  auto running_var = hp::shared(Array::ones({2}), "running_var");
  hp::BatchNormTrain bn = hp::batch_normalization_train(x, hp::constant(Array::ones({2})), hp::constant(Array::zeros({2})),
                                                        {0}, eps, 0.5, running_mean, running_var);
  auto got = run_every_mode({x}, {bn.output, bn.mean, bn.invstd, bn.running_mean, bn.running_var},
                            {values({1, 2, 3, 6}, {2, 2})});
  const double s0 = std::sqrt(1 + eps), s1 = std::sqrt(4 + eps);
  EXPECT_TRUE(arrays_close(got[0], values({-1 / s0, -2 / s1, 1 / s0, 2 / s1}, {2, 2})));
  EXPECT_TRUE(arrays_close(got[1], Array::from({2, 4})));
  EXPECT_TRUE(arrays_close(got[2], Array::from({1 / s0, 1 / s1})));
  // Running averages with factor 0.5: mean 0.5 * 0 + 0.5 * [2, 4]; variance 0.5 * 1 + 0.5 * [2, 8].
  EXPECT_TRUE(arrays_close(got[3], Array::from({1, 2})));
  EXPECT_TRUE(arrays_close(got[4], Array::from({1.5, 4.5})));
  // Inference with given statistics: (x - mean) * gamma / sqrt(var + eps) + beta.
  auto test = hp::batch_normalization_test(x, hp::constant(Array::from({2, 1})), hp::constant(Array::from({0, 1})),
                                           hp::constant(Array::from({1, 2})), hp::constant(Array::from({4, 1})), {0}, eps);
  const double t0 = std::sqrt(4 + eps), t1 = std::sqrt(1 + eps);
  EXPECT_TRUE(arrays_close(run1({x}, test, {values({1, 2, 3, 6}, {2, 2})}),
                           values({0, 1, 2 * 2 / t0, 4 / t1 + 1}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({x}, hp::batch_normalization(x, 2.0, 1.0, 3.0, 4.0), {values({1, 2, 3, 7}, {2, 2})}),
                           values({0, 0.5, 1, 3}, {2, 2})));
}

TEST(ConvBatchNorm, VerifyGrad) {
  hp::random::Generator rng(13);
  const Array x = rng.normal({4, 2, 3, 2}, 0, 1), gamma = rng.normal({2}, 1, 0.2), beta = rng.normal({2}, 0, 1);
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::batch_normalization_train(in[0], in[1], in[2], {0, 2, 3}).output;
  }, {x, gamma, beta});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::batch_normalization_test(in[0], in[1], in[2], in[3], in[4], {0, 2, 3});
  }, {x, gamma, beta, rng.normal({2}, 0, 1), rng.uniform({2}, 0.5, 1.5)});
}

TEST(ConvNeighbours, ByHand) {
  auto x = hp::tensor4("x");
  const Array image = counting({1, 1, 4, 4});  // 1..16
  // 2x2 patches in row-major order of patches, each patch flattened row by row.
  const Array patches = values({1, 2, 5, 6, 3, 4, 7, 8, 9, 10, 13, 14, 11, 12, 15, 16}, {4, 4});
  EXPECT_TRUE(arrays_close(run1({x}, hp::images2neibs(x, {2, 2}), {image}), patches));
  auto n = hp::matrix("n");
  EXPECT_TRUE(arrays_close(run1({n}, hp::neibs2images(n, {2, 2}, {1, 1, 4, 4}), {patches}), image));
  // wrap_centered, one 3x3 patch centred on (0, 0) of 1..9: rows and columns (-1, 0, 1) wrap to (2, 0, 1).
  EXPECT_TRUE(arrays_close(run1({x}, hp::images2neibs(x, {3, 3}, {3, 3}, "wrap_centered"), {counting({1, 1, 3, 3})}),
                           values({9, 7, 8, 3, 1, 2, 6, 4, 5}, {1, 9})));
  // 'full' with 2x2 patches stepping 2 over the 2x4 image 1..8 (padded by 1): patches start at rows -1, 1
  // and columns -1, 1, 3.
  EXPECT_TRUE(arrays_close(run1({x}, hp::images2neibs(x, {2, 2}, {2, 2}, "full"), {counting({1, 1, 2, 4})}),
                           values({0, 0, 0, 1, 0, 0, 2, 3, 0, 0, 4, 0, 0, 5, 0, 0, 6, 7, 0, 0, 8, 0, 0, 0}, {6, 4})));
  hp::random::Generator rng(17);
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::images2neibs(in[0], {2, 3}, {1, 2}, "half"); },
                 {rng.normal({1, 2, 4, 5}, 0, 1)});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::images2neibs(in[0], {3, 1}, {1, 1}, "wrap_centered"); },
                 {rng.normal({1, 1, 3, 4}, 0, 1)});
}

TEST(Conv, GraphsRoundTrip) {
  auto x = hp::tensor4("x"), w = hp::tensor4("w");
  hp::ConvOptions options;
  options.border_mode = hp::BorderMode::Half;
  options.subsample = {2, 1};
  options.filter_dilation = {1, 2};
  options.filter_flip = false;
  options.num_groups = 2;
  hp::ConvOptions padded;
  padded.padding = {1, 2};
  padded.num_groups = 2;
  auto conv = hp::conv2d(x, w, options);
  hp::PoolOptions pool_options;
  pool_options.stride = {1, 2};
  pool_options.mode = hp::PoolMode::AverageIncPad;
  pool_options.ignore_border = true;
  pool_options.pad = {1, 0};
  hp::PoolOptions max_options;
  auto pooled = hp::pool_2d(conv, {2, 2}, pool_options) + hp::sum(hp::pool_2d(conv, {3, 1}, max_options));
  auto bn = hp::batch_normalization_train(pooled, hp::constant(Array::ones({1, 4, 1, 1})),
                                          hp::constant(Array::zeros({1, 4, 1, 1})), {0, 2, 3});
  auto cost = hp::sum(hp::sqr(bn.output)) + hp::sum(hp::images2neibs(x, {2, 2}, {1, 1}, "half")) +
              hp::sum(hp::sqr(hp::conv2d(x, w, padded)));
  auto grads = hp::grad(cost, {x, w});
  std::vector<hp::Variable> inputs{x, w}, outputs{cost, grads[0], grads[1]};
  const std::string saved = hp::save_graph(inputs, outputs);
  auto [loaded_inputs, loaded_outputs] = hp::load_graph(saved);
  ASSERT_EQ(loaded_outputs.size(), outputs.size());
  hp::random::Generator rng(19);
  const Array xv = rng.normal({2, 4, 6, 7}, 0, 1), wv = rng.normal({4, 2, 3, 2}, 0, 1);
  auto original = hp::function(inputs, outputs)({xv, wv});
  auto again = hp::function(loaded_inputs, loaded_outputs)({xv, wv});
  for (size_t k = 0; k < original.size(); ++k) EXPECT_TRUE(arrays_close(again[k], original[k])) << k;
  EXPECT_EQ(hp::save_graph(loaded_inputs, loaded_outputs).size(), saved.size());
  // Damaged bytes: a ValueError or a graph, never a crash.
  for (size_t cut = 0; cut < saved.size(); cut += 13) EXPECT_THROW(hp::load_graph(saved.substr(0, cut)), hp::ValueError) << cut;
}

TEST(Conv, ErrorsNameTheOpTheShapesAndTheLine) {
  auto x = hp::tensor(DType::Float64, {1, 3, 5, 5}, "x");
  auto w = hp::tensor(DType::Float64, {2, 2, 3, 3}, "w");
  std::string here = "test_conv.cpp:" + std::to_string(__LINE__ + 1);
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::conv2d(x, w); },
                                          {"[conv2d]", "3 channels", "(1, 3, 5, 5)", "(2, 2, 3, 3)", here}));
  auto small = hp::tensor(DType::Float64, {1, 2, 2, 5}, "small");
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::conv2d(small, w); }, {"[conv2d]", "more than the"}));
  hp::ConvOptions groups;
  groups.num_groups = 2;
  auto four_channels = hp::tensor(DType::Float64, {1, 4, 5, 5}), three_filters = hp::tensor(DType::Float64, {3, 2, 3, 3});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::conv2d(four_channels, three_filters, groups); },
                                          {"[conv2d]", "num_groups=2", "3 filters"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::conv2d(hp::matrix("m"), hp::tensor4("k")); }, {"[conv2d]", "4 dimensions"}));
  hp::ConvOptions bad;
  bad.subsample = {0, 1};
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::conv2d(hp::tensor4("a"), hp::tensor4("b"), bad); },
                                          {"[conv2d]", "subsample"}));
  hp::ConvOptions contradictory;
  contradictory.border_mode = hp::BorderMode::Full;
  contradictory.padding = {1, 1};
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::conv2d(hp::tensor4("a"), hp::tensor4("b"), contradictory); },
                                          {"[conv2d]", "padding"}));
  // At run time, with the line that built the node.
  auto a = hp::tensor4("a"), b = hp::tensor4("b");
  here = "test_conv.cpp:" + std::to_string(__LINE__ + 1);
  auto f = hp::function({a, b}, {hp::conv2d(a, b)});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({Array::ones({1, 3, 5, 5}), Array::ones({2, 2, 3, 3})}); },
                                          {"[conv2d]", "channels", here}));
  here = "test_conv.cpp:" + std::to_string(__LINE__ + 1);
  auto t = hp::function({a, b}, {hp::conv_transpose(a, b, {6, 6})});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { t({Array::ones({1, 3, 5, 4}), Array::ones({3, 2, 3, 3})}); },
                                          {"[conv2d_grad_inputs]", "6", here}));
}

TEST(ConvPool, ErrorsOfPoolingNeighboursAndBatchNorm) {
  auto x = hp::tensor4("x");
  hp::PoolOptions pad_without_ignore;
  pad_without_ignore.pad = {1, 1};
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::pool_2d(x, {2, 2}, pad_without_ignore); }, {"[pool_2d]", "ignore_border"}));
  hp::PoolOptions big_pad;
  big_pad.pad = {2, 1};
  big_pad.ignore_border = true;
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::pool_2d(x, {2, 2}, big_pad); }, {"[pool_2d]", "smaller"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::pool_2d(x, {0, 2}); }, {"[pool_2d]", "ws"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::pool_3d(x, {2, 2}); }, {"[pool_3d]", "ws"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::pool_2d(hp::vector("v"), {2, 2}); }, {"[pool_2d]"}));
  // (Theano raises TypeError when the patches do not tile the image.)
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::images2neibs(hp::tensor(DType::Float64, {1, 1, 5, 6}), {2, 2}); },
                                         {"[images2neibs]", "tile"}));
  auto f = hp::function({x}, {hp::images2neibs(x, {2, 2})});
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { f({Array::ones({1, 1, 5, 6})}); }, {"[images2neibs]", "tile", "test_conv.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::images2neibs(x, {2, 2}, {}, "other"); }, {"[images2neibs]", "mode"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] {
    hp::batch_normalization_train(x, hp::constant(Array::ones({2, 2})), hp::constant(Array::ones({2, 2})), {0, 2, 3});
  }, {"[batch_normalization_train]", "gamma"}));
}
