// NumPy's rearrangements and nnet activations built from other ops: values, gradients, errors.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::evaluate_on;
using hp::testing::expect_grad_ok;
using hp::testing::throws_with;

namespace {
const Array kM = Array::from({{1, 2, 3}, {4, 5, 6}});
}  // namespace

TEST(Compositions, SwapaxesFlipRoll) {
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::swapaxes(x, 0, -1); }, kM), Array::from({{1, 4}, {2, 5}, {3, 6}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::flip(x); }, kM), Array::from({{6, 5, 4}, {3, 2, 1}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::flip(x, {1}); }, kM), Array::from({{3, 2, 1}, {6, 5, 4}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::roll(x, 1, 1); }, kM), Array::from({{3, 1, 2}, {6, 4, 5}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::roll(x, -1, 0); }, kM), Array::from({{4, 5, 6}, {1, 2, 3}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::roll(x, 7); }, kM), Array::from({{6, 1, 2}, {3, 4, 5}})));
  auto shift = hp::scalar("shift", DType::Int64);
  auto v = hp::vector("v");
  EXPECT_TRUE(arrays_close(hp::eval(hp::roll(v, shift, 0), {{v, Array::from({1, 2, 3, 4})}, {shift, Array::scalar(-3, DType::Int64)}}),
                           Array::from({4, 1, 2, 3})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::roll(x, 2, 0); }, Array::zeros({0})).size(), 0);
}

TEST(Compositions, TileAndRepeat) {
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::tile(x, {2, 2}); }, Array::from({{1, 2}})),
                           Array::from({{1, 2, 1, 2}, {1, 2, 1, 2}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::tile(x, {3}); }, Array::from({1, 2})), Array::from({1, 2, 1, 2, 1, 2})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::tile(x, {2, 1, 1}); }, kM).shape(), (hp::Shape{2, 2, 3}));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::repeat(x, 2, 0); }, kM), Array::from({{1, 2, 3}, {1, 2, 3}, {4, 5, 6}, {4, 5, 6}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::repeat(x, 2, 1); }, Array::from({{1, 2}})), Array::from({{1, 1, 2, 2}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::repeat(x, 2); }, Array::from({{1, 2}, {3, 4}})),
                           Array::from({1, 1, 2, 2, 3, 3, 4, 4})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::repeat(x, 0, 1); }, kM).shape(), (hp::Shape{2, 0}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::tile(hp::vector("v"), {-1}); }, {"[tile] repetitions must be non-negative", "test_compositions.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::repeat(hp::vector("v"), 2, 1); }, {"[repeat] axis 1 is out of range", "test_compositions.cpp"}));
}

TEST(Compositions, Tensordot) {
  Array a = Array::arange(24, DType::Float64).reshape({2, 3, 4});
  Array b = Array::arange(12, DType::Float64).reshape({4, 3});
  // sum_k a[i, j, k] * b[k, l], by hand for one entry: a[1, 2, :] = 20..23, b[:, 1] = 1, 4, 7, 10.
  Array out = hp::eval(hp::tensordot(hp::constant(a), hp::constant(b), 1));
  EXPECT_EQ(out.shape(), (hp::Shape{2, 3, 3}));
  EXPECT_EQ(out.at<double>({1, 2, 1}), 20 * 1 + 21 * 4 + 22 * 7 + 23 * 10);
  // Contract axes 1 and 2 of a with axes 1 and 0 of b: sum_{j,k} a[i, j, k] * b[k, j].
  Array pair = hp::eval(hp::tensordot(hp::constant(a), hp::constant(b), {1, 2}, {1, 0}));
  double expected = 0;
  for (int j = 0; j < 3; ++j)
    for (int k = 0; k < 4; ++k) expected += a.at<double>({0, j, k}) * b.at<double>({k, j});
  EXPECT_EQ(pair.shape(), (hp::Shape{2}));
  EXPECT_DOUBLE_EQ(pair.get_as_double(0), expected);
  EXPECT_DOUBLE_EQ(hp::eval(hp::tensordot(hp::constant(kM), hp::constant(kM), 2)).item(), 91);
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::tensordot(hp::constant(a), hp::constant(b), {0}, {0}); },
                                          {"[tensordot] axis 0", "differ", "test_compositions.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::tensordot(hp::constant(kM), hp::constant(kM), 3); }, {"cannot sum 3 axes"}));
}

TEST(Compositions, Activations) {
  Array x = Array::from({-2.0, 0.5});
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& v) { return hp::relu(v, 0.1); }, x), Array::from({-0.2, 0.5})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& v) { return hp::elu(v); }, x), Array::from({std::expm1(-2.0), 0.5})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& v) { return hp::softsign(v); }, x), Array::from({-2.0 / 3, 0.5 / 1.5})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& v) { return hp::hard_sigmoid(v); }, Array::from({-5.0, 0.5, 5.0})), Array::from({0, 0.6, 1})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& v) { return hp::log_sigmoid(v); }, Array::from({-800.0, 0.0})), Array::from({-800.0, -std::log(2.0)})));
}

TEST(Compositions, IscloseAllclose) {
  auto a = hp::constant(Array::from({1.0, INFINITY, NAN, 1.0}));
  auto b = hp::constant(Array::from({1.0 + 1e-9, INFINITY, NAN, 1.1}));
  EXPECT_TRUE(hp::eval(hp::isclose(a, b)).equals(Array::from_vector<bool>({true, true, false, false})));
  EXPECT_EQ(hp::eval(hp::allclose(a, a)).item(), 0);  // NaN is never close
  EXPECT_EQ(hp::eval(hp::allclose(hp::constant(kM), hp::constant(kM) + 1e-9)).item(), 1);
}

TEST(Compositions, Gradients) {
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::swapaxes(in[0], 0, 1); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::flip(in[0], {1}); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::roll(in[0], 2, 1); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::roll(in[0], 1); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::tile(in[0], {2, 3}); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::repeat(in[0], 3, 1); }, {kM});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::tensordot(in[0], in[1], 1); },
                 {kM, Array::from({{0.5, -1}, {2, 1}, {0, 3}})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::elu(in[0]) + hp::softsign(in[0]) + hp::log_sigmoid(in[0]); },
                 {Array::from({-1.5, 0.7})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::relu(in[0], 0.2) + hp::hard_sigmoid(in[0]); },
                 {Array::from({-1.5, 0.7})});
}
