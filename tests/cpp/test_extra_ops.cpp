// cumsum/cumprod, sort/argsort/take_along_axis, diagonal/diag/trace.
#include <cmath>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::evaluate_on;
using hp::testing::expect_grad_ok;
using hp::testing::expect_infer_shape_ok;
using hp::testing::throws_with;

namespace {
const Array kM = Array::from({{1, 2, 3}, {4, 5, 6}});
}  // namespace

TEST(ExtraOps, Cumulative) {
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::cumsum(x, 1); }, kM), Array::from({{1, 3, 6}, {4, 9, 15}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::cumsum(x, 0); }, kM), Array::from({{1, 2, 3}, {5, 7, 9}})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::cumsum(x); }, kM), Array::from({1, 3, 6, 10, 15, 21})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::cumprod(x, -1); }, kM), Array::from({{1, 2, 6}, {4, 20, 120}})));
  Array ints = evaluate_on([](auto& x) { return hp::cumsum(x); }, Array::from_vector<int32_t>({1, 2, 3}));
  EXPECT_EQ(ints.dtype(), DType::Int64);
  EXPECT_TRUE(ints.equals(Array::from_vector<int64_t>({1, 3, 6})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::cumsum(x, 0); }, Array::zeros({0, 2})).shape(), (hp::Shape{0, 2}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::cumsum(hp::matrix("m"), 2); }, {"[cumsum] axis 2", "test_extra_ops.cpp"}));
}

TEST(ExtraOps, SortArgsortTakeAlongAxis) {
  Array x = Array::from({{3, 1, 2}, {-1, NAN, -5}});
  Array sorted = evaluate_on([](auto& v) { return hp::sort(v); }, x);
  EXPECT_EQ(sorted.at<double>({0, 0}), 1);
  EXPECT_EQ(sorted.at<double>({0, 2}), 3);
  EXPECT_EQ(sorted.at<double>({1, 0}), -5);
  EXPECT_EQ(sorted.at<double>({1, 1}), -1);
  EXPECT_TRUE(std::isnan(sorted.at<double>({1, 2})));  // NaN last
  EXPECT_TRUE(evaluate_on([](auto& v) { return hp::argsort(v); }, x).equals(Array::from_vector<int64_t>({1, 2, 0, 2, 0, 1}, {2, 3})));
  EXPECT_TRUE(evaluate_on([](auto& v) { return hp::argsort(v, 0); }, kM).equals(Array::from_vector<int64_t>({0, 0, 0, 1, 1, 1}, {2, 3})));
  // Stable: equal keys keep their order.
  EXPECT_TRUE(evaluate_on([](auto& v) { return hp::argsort(v); }, Array::from({2, 1, 2, 1})).equals(Array::from_vector<int64_t>({1, 3, 0, 2})));
  auto m = hp::matrix("m");
  auto idx = hp::matrix("idx", DType::Int64);
  Array taken = hp::eval(hp::take_along_axis(m, idx, 1), {{m, kM}, {idx, Array::from_vector<int64_t>({2, 2, 0, -1}, {2, 2})}});
  EXPECT_TRUE(arrays_close(taken, Array::from({{3, 3}, {4, 6}})));
  auto f = hp::function({m, idx}, {hp::take_along_axis(m, idx, 1)});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({kM, Array::from_vector<int64_t>({3, 0}, {2, 1})}); },
                                          {"[take_along_axis] index 3 is out of bounds"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({kM, Array::from_vector<int64_t>({0, 0, 0}, {3, 1})}); },
                                          {"[take_along_axis] indices of shape (3, 1) do not fit"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::take_along_axis(m, hp::vector("v", DType::Int64), 0); }, {"x's rank"}));
}

TEST(ExtraOps, DiagonalDiagTrace) {
  Array square = Array::arange(9, DType::Float64).reshape({3, 3});
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diagonal(x); }, square), Array::from({0, 4, 8})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diagonal(x, 1); }, square), Array::from({1, 5})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diagonal(x, -2); }, square), Array::from({6})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::diagonal(x, 5); }, square).size(), 0);
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diag(x); }, kM), Array::from({1, 5})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diag(x, 1); }, Array::from({7, 8})),
                           Array::from({{0, 7, 0}, {0, 0, 8}, {0, 0, 0}})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::trace(x); }, square).item(), 12);
  Array cube = Array::arange(8, DType::Float64).reshape({2, 2, 2});
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::diagonal(x, 0, 1, 2); }, cube), Array::from({{0, 3}, {4, 7}})));
  EXPECT_EQ(hp::diagonal(hp::tensor(DType::Float64, {3, 5}), 1).type().str(), "float64(3,)");
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::diagonal(hp::vector("v")); }, {"[diagonal] needs at least 2", "test_extra_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::diagonal(hp::matrix("m"), 0, 1, -1); }, {"same axis"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { hp::diag(hp::tensor3("t")); }, {"[diag] takes a vector or a matrix"}));
}

TEST(ExtraOps, Gradients) {
  const Array point = Array::from({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::cumsum(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::cumsum(in[0]); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::cumprod(in[0], 0); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::sort(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::sort(in[0], 0); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::take_along_axis(in[0], hp::constant(Array::from_vector<int64_t>({0, 0, 2, 1}, {2, 2})), 1);
  }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::diagonal(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::diag(in[0], -1); }, {Array::from({0.5, 2.0})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::trace(in[0]); }, {point});
}

TEST(ExtraOps, InferShape) {
  auto x = hp::matrix("x");
  expect_infer_shape_ok({x}, hp::cumsum(x, 0), {kM});
  expect_infer_shape_ok({x}, hp::argsort(x), {kM});
  expect_infer_shape_ok({x}, hp::diagonal(x, 1), {kM});
  expect_infer_shape_ok({x}, hp::diagonal(x, -1), {kM});
}
