// dot, matmul and outer against hand-computed products, across layouts and dtypes.
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::throws_with;

namespace {
const Array kA = Array::from({{1, 2, 3}, {4, 5, 6}});          // (2, 3)
const Array kB = Array::from({{1, 0}, {0, 1}, {2, -1}});       // (3, 2)
const Array kAB = Array::from({{7, -1}, {16, -1}});             // A @ B by hand
hp::Variable like(const Array& a, const char* name) {
  return hp::tensor(a.dtype(), std::vector<int64_t>(a.ndim(), -1), name);
}
Array product(const Array& a, const Array& b, bool use_matmul = false) {
  auto x = like(a, "x"), y = like(b, "y");
  return hp::eval(use_matmul ? hp::matmul(x, y) : hp::dot(x, y), {{x, a}, {y, b}});
}
}  // namespace

TEST(Dot, AllVectorMatrixCombinations) {
  EXPECT_TRUE(arrays_close(product(kA, kB), kAB));
  EXPECT_TRUE(arrays_close(product(kA, Array::from({1, 1, 1})), Array::from({6, 15})));
  EXPECT_TRUE(arrays_close(product(Array::from({1, -1}), kA), Array::from({-3, -3, -3})));
  EXPECT_EQ(product(Array::from({1, 2, 3}), Array::from({4, 5, 6})).item(), 32);
  EXPECT_EQ(product(Array::from({1, 2, 3}), Array::from({4, 5, 6})).ndim(), 0);
  auto s = hp::scalar("s");
  auto v = hp::vector("v");
  EXPECT_TRUE(arrays_close(hp::eval(hp::dot(s, v), {{s, Array::scalar(2)}, {v, Array::from({1, 2})}}), Array::from({2, 4})));
}

TEST(Dot, TransposedAndStridedOperandsNeedNoCopyToBeRight) {
  Array at = kA.transpose().copy().transpose();  // (2, 3) stored column-major
  Array bt = kB.transpose().copy().transpose();
  EXPECT_TRUE(arrays_close(product(at, kB), kAB));
  EXPECT_TRUE(arrays_close(product(kA, bt), kAB));
  EXPECT_TRUE(arrays_close(product(at, bt), kAB));
  Array wide = Array::arange(12, DType::Float64).reshape({2, 6});
  Array stepped = wide.slice({{hp::Slice::kNone, hp::Slice::kNone, 1}, {0, 6, 2}});  // columns 0, 2, 4
  EXPECT_TRUE(arrays_close(product(stepped, kB), Array::from({{8, -2}, {26, -2}})));
  Array reversed = Array::from({3, 2, 1}).slice({{hp::Slice::kNone, hp::Slice::kNone, -1}});  // [1, 2, 3]
  EXPECT_TRUE(arrays_close(product(kA, reversed), Array::from({14, 32})));
}

TEST(Dot, DtypesAndEmptyInnerDimension) {
  Array out32 = product(kA.astype(DType::Float32), kB.astype(DType::Float32));
  EXPECT_EQ(out32.dtype(), DType::Float32);
  EXPECT_TRUE(arrays_close(out32, kAB.astype(DType::Float32)));
  Array mixed = product(kA.astype(DType::Float32), kB);
  EXPECT_EQ(mixed.dtype(), DType::Float64);
  Array ints = product(kA.astype(DType::Int32), kB.astype(DType::Int32));
  EXPECT_EQ(ints.dtype(), DType::Int32);
  EXPECT_TRUE(ints.equals(kAB));
  EXPECT_TRUE(product(kA.astype(DType::Int64), kB.astype(DType::Int8)).equals(kAB));
  EXPECT_TRUE(arrays_close(product(Array::zeros({2, 0}), Array::zeros({0, 3})), Array::zeros({2, 3})));
  EXPECT_EQ(product(Array::zeros({0, 3}), kB).shape(), (hp::Shape{0, 2}));
}

TEST(Dot, ShapeErrors) {
  auto a = hp::tensor(DType::Float64, {3, 4}, "a"), b = hp::tensor(DType::Float64, {5, 2}, "b");
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::dot(a, b); },
                                          {"[dot] shapes float64(3, 4) and float64(5, 2) not aligned: 4 (axis 1) != 5 (axis 0)",
                                           "test_blas.cpp"}));
  auto x = hp::matrix("x"), y = hp::matrix("y");
  auto f = hp::function({x, y}, {hp::dot(x, y)});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({Array::zeros({3, 4}), Array::zeros({5, 2})}); },
                                          {"[dot] shapes (3, 4) and (5, 2) not aligned", "test_blas.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::dot(hp::tensor3("t"), x); }, {"[dot]", "use matmul"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::matmul(hp::scalar("s"), x); }, {"[matmul] does not take scalars"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::outer(x, x); }, {"[outer] takes two vectors"}));
}

TEST(Matmul, BatchesBroadcast) {
  Array batch = Array::from_vector<double>({1, 2, 3, 4, 5, 6, 1, 0, 0, 1, 0, 0}, {2, 2, 3});  // two (2, 3) matrices
  Array out = product(batch, kB, true);
  EXPECT_EQ(out.shape(), (hp::Shape{2, 2, 2}));
  EXPECT_TRUE(arrays_close(out.index(0, 0), kAB));
  EXPECT_TRUE(arrays_close(out.index(0, 1), Array::from({{1, 0}, {1, 0}})));
  // A vector on the right is promoted and its axis removed again.
  Array mv = product(batch, Array::from({1, 1, 1}), true);
  EXPECT_EQ(mv.shape(), (hp::Shape{2, 2}));
  EXPECT_TRUE(arrays_close(mv, Array::from({{6, 15}, {1, 1}})));
  EXPECT_TRUE(arrays_close(product(kA, kB, true), kAB));
  auto x = hp::tensor(DType::Float64, {2, 2, 3}, "x"), y = hp::tensor(DType::Float64, {3, 3, 2}, "y");
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::matmul(x, y); }, {"[matmul] batch dimensions", "cannot broadcast"}));
}

TEST(Outer, Vectors) {
  EXPECT_TRUE(arrays_close(hp::eval(hp::outer(hp::constant(Array::from({1, 2})), hp::constant(Array::from({3, 4, 5})))),
                           Array::from({{3, 4, 5}, {6, 8, 10}})));
}

TEST(Dot, Gradients) {
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::dot(in[0], in[1]); }, {kA, kB});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::dot(in[0], in[1]); }, {kA, Array::from({0.5, -1, 2})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::dot(in[0], in[1]); }, {Array::from({0.5, -1}), kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::dot(in[0], in[1]); },
                 {Array::from({0.5, -1, 2}), Array::from({1, 2, 3})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::outer(in[0], in[1]); },
                 {Array::from({0.5, -1}), Array::from({1, 2, 3})});
  Array batch = Array::from_vector<double>({1, 2, 3, 4, 5, 6, 1, 0, 0, 1, 0, 0}, {2, 2, 3});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::matmul(in[0], in[1]); }, {batch, kB});
}

TEST(Dot, InferShape) {
  auto x = hp::matrix("x"), y = hp::matrix("y"), v = hp::vector("v");
  hp::testing::expect_infer_shape_ok({x, y}, hp::dot(x, y), {kA, kB});
  hp::testing::expect_infer_shape_ok({x, v}, hp::dot(x, v), {kA, Array::from({1, 2, 3})});
  auto t = hp::tensor3("t");
  hp::testing::expect_infer_shape_ok({t, y}, hp::matmul(t, y), {Array::zeros({4, 2, 3}), kB});
}
