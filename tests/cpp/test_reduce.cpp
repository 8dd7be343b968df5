// Reductions: values over axes, keepdims, dtypes, empty inputs, NaN, gradients, errors.
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
const Array kMatrix = Array::from({{1, 5, 3}, {4, 2, 6}});
}  // namespace

TEST(Reduce, SumProdMaxMinOverAxes) {
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x); }, kMatrix).item(), 21);
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::sum(x, 0); }, kMatrix), Array::from({5, 7, 9})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::sum(x, -1); }, kMatrix), Array::from({9, 12})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::prod(x, 1); }, kMatrix), Array::from({15, 48})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::max(x, 0); }, kMatrix), Array::from({4, 5, 6})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::min(x, 1); }, kMatrix), Array::from({1, 2})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::max(x, {0, 1}); }, kMatrix).item(), 6);
  Array cube = Array::arange(24, DType::Float64).reshape({2, 3, 4});
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::sum(x, {0, 2}); }, cube), Array::from({60, 92, 124})));
}

TEST(Reduce, Keepdims) {
  Array out = evaluate_on([](auto& x) { return hp::sum(x, 1, true); }, kMatrix);
  EXPECT_EQ(out.shape(), (hp::Shape{2, 1}));
  auto x = hp::matrix("x");
  EXPECT_EQ(hp::max(x, 0, true).type().str(), "float64(1, ?)");
  EXPECT_EQ(hp::sum(x, {}, true).type().str(), "float64(1, 1)");
}

TEST(Reduce, AnyAll) {
  Array b = Array::from_vector<bool>({true, false, false, false}, {2, 2});
  EXPECT_TRUE(evaluate_on([](auto& x) { return hp::any(x, 1); }, b).equals(Array::from_vector<bool>({true, false})));
  EXPECT_TRUE(evaluate_on([](auto& x) { return hp::all(x, 0); }, b).equals(Array::from_vector<bool>({false, false})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::all(x); }, Array::zeros({0})).item(), 1);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::any(x); }, Array::zeros({0})).item(), 0);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::any(x); }, Array::from({0.0, -2.0})).item(), 1);
}

TEST(Reduce, DtypesFollowNumPy) {
  auto i32 = hp::vector("i", DType::Int32), b = hp::vector("b", DType::Bool), f = hp::vector("f", DType::Float32);
  EXPECT_EQ(hp::sum(i32).dtype(), DType::Int64);
  EXPECT_EQ(hp::sum(b).dtype(), DType::Int64);
  // Unsigned sums and products are uint64, as np.sum and np.prod of uint8 ... uint64 arrays are.
  EXPECT_EQ(hp::prod(hp::vector("u", DType::UInt8)).dtype(), DType::UInt64);
  EXPECT_EQ(hp::sum(hp::vector("u", DType::UInt32)).dtype(), DType::UInt64);
  EXPECT_EQ(hp::mean(hp::vector("u", DType::UInt16)).dtype(), DType::Float64);
  EXPECT_EQ(hp::sum(f).dtype(), DType::Float32);
  EXPECT_EQ(hp::max(i32).dtype(), DType::Int32);
  EXPECT_EQ(hp::mean(i32).dtype(), DType::Float64);
  EXPECT_EQ(hp::mean(f).dtype(), DType::Float32);
  EXPECT_EQ(hp::argmax(f).dtype(), DType::Int64);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x); }, Array::from_vector<bool>({true, true, false})).item(), 2);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x); }, Array::from_vector<int8_t>({100, 100})).item(), 200);
  const Array large = Array::from_vector<uint32_t>({4000000000u, 4000000000u});
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x); }, large).data<uint64_t>()[0], 8000000000u);
}

TEST(Reduce, EmptyInputs) {
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x); }, Array::zeros({0})).item(), 0);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::prod(x); }, Array::zeros({0})).item(), 1);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::sum(x, 0); }, Array::zeros({0, 3})).shape(), (hp::Shape{3}));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::max(x, 0); }, Array::zeros({3, 0})).shape(), (hp::Shape{0}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { evaluate_on([](auto& x) { return hp::max(x); }, Array::zeros({0})); },
                                          {"[max] zero-size reduction", "(0,)", "no identity", "test_reduce.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([] { evaluate_on([](auto& x) { return hp::argmin(x); }, Array::zeros({0})); },
                                          {"[argmin] of an empty sequence"}));
}

TEST(Reduce, NaNPropagates) {
  Array with_nan = Array::from({1.0, NAN, 3.0});
  EXPECT_TRUE(std::isnan(evaluate_on([](auto& x) { return hp::max(x); }, with_nan).item()));
  EXPECT_TRUE(std::isnan(evaluate_on([](auto& x) { return hp::min(x); }, with_nan).item()));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::argmax(x); }, with_nan).item(), 1);
}

TEST(Reduce, RowsOfManyLanesKeepNaNAndInfinities) {
  // Whole rows long enough for the generated kernels' 16-lane loops: a NaN anywhere (first, in a lane
  // block, in the tail) makes the row's max and min NaN; infinities win; zeros of either sign compare equal.
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const int64_t rows = 6, cols = 37;
    std::vector<double> values(rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) values[i] = std::sin(0.7 * i);
    values[0 * cols + 0] = NAN;                       // row 0: first
    values[1 * cols + 20] = NAN;                      // row 1: inside a block
    values[2 * cols + 36] = NAN;                      // row 2: in the tail
    values[3 * cols + 9] = INFINITY;                  // row 3: max inf
    values[3 * cols + 30] = -INFINITY;                //        min -inf
    values[4 * cols + 3] = NAN;                       // row 4: NaN beside infinities
    values[4 * cols + 4] = INFINITY;
    values[4 * cols + 5] = -INFINITY;
    for (int64_t j = 0; j < cols; ++j) values[5 * cols + j] = j % 2 ? 0.0 : -0.0;  // row 5: zeros
    const Array x = Array::from_vector<double>(values, {rows, cols}).astype(dtype);
    const Array most = evaluate_on([](auto& v) { return hp::max(v, 1); }, x).astype(DType::Float64);
    const Array least = evaluate_on([](auto& v) { return hp::min(v, 1); }, x).astype(DType::Float64);
    for (int64_t r : {0, 1, 2, 4}) {
      EXPECT_TRUE(std::isnan(most.data<double>()[r])) << "row " << r << " " << dtype_name(dtype);
      EXPECT_TRUE(std::isnan(least.data<double>()[r])) << "row " << r << " " << dtype_name(dtype);
    }
    EXPECT_EQ(most.data<double>()[3], INFINITY);
    EXPECT_EQ(least.data<double>()[3], -INFINITY);
    EXPECT_EQ(most.data<double>()[5], 0.0);
    EXPECT_EQ(least.data<double>()[5], 0.0);
  }
}

TEST(Reduce, OuterAxesOfManyOrFewColumnsSplitIntoChunks) {
  // Outer-axis reductions large enough to run threaded: 20000 columns (more than one chunk of 8192
  // accumulators) and 100 columns (chunks of 16 or more among the threads), over more rows than one pass
  // reads; on one thread and on two. Each column's sum and max against a plain loop.
  const int saved_threads = hp::config().openmp_threads;
  for (const auto& [rows, cols] : {std::pair<int64_t, int64_t>{72, 20000}, {20003, 100}}) {
    std::vector<double> values(rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) values[i] = std::sin(0.37 * i) * (1 + i % 7);
    std::vector<double> sums(cols, 0.0), maxes(cols, -INFINITY);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        sums[c] += values[r * cols + c];
        maxes[c] = std::max(maxes[c], values[r * cols + c]);
      }
    const Array x = Array::from_vector<double>(values, {rows, cols});
    for (const int threads : {1, 2}) {
      hp::config().openmp_threads = threads;
      hp::Variable v = hp::tensor(DType::Float64, {-1, -1}, "x");
      auto f = hp::function({v}, {hp::sum(v, 0), hp::max(v * 1.0, 0)});
      const auto got = f({x});
      EXPECT_TRUE(arrays_close(got[0], Array::from_vector<double>(sums, {cols}), 1e-9, 1e-9)) << cols << " columns, " << threads << " threads";
      EXPECT_TRUE(arrays_close(got[1], Array::from_vector<double>(maxes, {cols}), 0, 0)) << cols << " columns, " << threads << " threads";
    }
  }
  hp::config().openmp_threads = saved_threads;
}

TEST(Reduce, MeanVarStd) {
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::mean(x, 0); }, kMatrix), Array::from({2.5, 3.5, 4.5})));
  EXPECT_DOUBLE_EQ(evaluate_on([](auto& x) { return hp::mean(x); }, kMatrix).item(), 3.5);
  // var of {1, 5, 3} is 8/3; with ddof=1 it is 4.
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::var(x, 1); }, kMatrix), Array::from({8.0 / 3, 8.0 / 3})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::var(x, 1, false, 1); }, kMatrix), Array::from({4, 4})));
  EXPECT_TRUE(arrays_close(evaluate_on([](auto& x) { return hp::std(x, 1, false, 1); }, kMatrix), Array::from({2, 2})));
  EXPECT_DOUBLE_EQ(evaluate_on([](auto& x) { return hp::mean(x); }, Array::from_vector<int32_t>({1, 2})).item(), 1.5);
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::mean(x, 0, true); }, kMatrix).shape(), (hp::Shape{1, 3}));
  auto known = hp::tensor(DType::Float64, {2, 3}, "known");  // known sizes use a constant count
  EXPECT_DOUBLE_EQ(hp::eval(hp::mean(known), {{known, kMatrix}}).item(), 3.5);
}

TEST(Reduce, ArgmaxArgmin) {
  EXPECT_TRUE(evaluate_on([](auto& x) { return hp::argmax(x, 1); }, kMatrix).equals(Array::from_vector<int64_t>({1, 2})));
  EXPECT_TRUE(evaluate_on([](auto& x) { return hp::argmin(x, 0); }, kMatrix).equals(Array::from_vector<int64_t>({0, 1, 0})));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::argmax(x); }, kMatrix).item(), 5);  // over the flattened matrix
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::argmax(x); }, Array::from({3, 3, 1})).item(), 0);  // first on ties
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::argmax(x, -1, true); }, kMatrix).shape(), (hp::Shape{2, 1}));
  EXPECT_EQ(evaluate_on([](auto& x) { return hp::argmax(x, std::nullopt, true); }, kMatrix).shape(), (hp::Shape{1, 1}));
}

TEST(Reduce, Gradients) {
  const Array point = Array::from({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::sum(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::sum(in[0]); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::prod(in[0], 0); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::max(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::min(in[0], {0, 1}); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::mean(in[0], 0, true); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::var(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::std(in[0]); }, {point});
}

TEST(Reduce, ProdGradientWithZeros) {
  auto x = hp::vector("x");
  auto g = hp::grad(hp::prod(x), x);
  // One zero: only that position gets the product of the others.
  EXPECT_TRUE(arrays_close(hp::eval(g, {{x, Array::from({2, 0, 3})}}), Array::from({0, 6, 0})));
  // Two zeros: every partial derivative is zero.
  EXPECT_TRUE(arrays_close(hp::eval(g, {{x, Array::from({0, 0, 3})}}), Array::from({0, 0, 0})));
  EXPECT_TRUE(arrays_close(hp::eval(g, {{x, Array::from({2, 4, 3})}}), Array::from({12, 6, 8})));
}

TEST(Reduce, AxisErrors) {
  auto x = hp::matrix("x");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::sum(x, 2); }, {"[sum] axis 2 is out of range for a 2-d input", "test_reduce.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::max(x, {0, -2}); }, {"[max] axis -2 is repeated"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::argmax(x, 3); }, {"[argmax] axis 3"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::mean(x, -3); }, {"[mean] axis -3"}));
}

TEST(Reduce, InferShape) {
  auto x = hp::tensor3("x");
  hp::testing::expect_infer_shape_ok({x}, hp::sum(x, {0, 2}), {Array::zeros({2, 3, 4})});
  hp::testing::expect_infer_shape_ok({x}, hp::argmax(x, 1), {Array::zeros({2, 3, 4})});
}

// Reductions of broadcast products (sum((a[:, None] * b[None]) ** 2), a Jacobian penalty): the reduced
// axes do not collapse into one stride, so the generated kernel reduces the inner ones and the outer ones
// are looped over, their partial results combined. Every kind, several axis sets and dtypes, transposed
// operands, against the reference backend; one value by hand.
TEST(Reduce, FusedReductionsOfBroadcastProductsMatchTheReference) {
  const std::vector<std::vector<int>> axis_sets = {{0, 1, 2}, {0, 1}, {1, 2}, {0, 2}, {0}, {2}};
  for (DType dtype : {DType::Float64, DType::Float32, DType::Int32}) {
    hp::Variable a = hp::tensor(dtype, {-1, 1, -1}, "a"), b = hp::tensor(dtype, {1, -1, -1}, "b");
    const Array av = hp::random::uniform({3, 1, 4}, -2, 2).astype(dtype);
    const Array bv = hp::random::uniform({4, 5, 1}, -2, 2).astype(dtype).transpose({2, 1, 0});  // strided
    std::vector<hp::Variable> outs;
    for (const auto& axes : axis_sets) {
      hp::Variable product = a * b;
      outs.push_back(hp::sum(hp::sqr(product), axes));
      outs.push_back(hp::max(product + 1, axes));
      outs.push_back(hp::min(product - 1, axes));
      if (dtype != DType::Int32) outs.push_back(hp::prod(product * 0.1 + 1, axes));
    }
    auto fast = hp::function({a, b}, outs);
    auto reference = hp::function({a, b}, outs, {}, {}, {.mode = hp::Mode::Unoptimized});
    const auto got = fast({av, bv}), want = reference({av, bv});
    for (size_t k = 0; k < outs.size(); ++k)
      EXPECT_TRUE(arrays_close(got[k], want[k], 1e-5, 1e-5)) << hp::dtype_name(dtype) << " output " << k;
  }
  // By hand: a = [1, 2] down axis 0, b = [1, 2, 3] along axis 1: sum((a_i b_j)^2) = (1 + 4) * (1 + 4 + 9).
  hp::Variable a = hp::tensor(DType::Float64, {-1, 1}, "a"), b = hp::tensor(DType::Float64, {1, -1}, "b");
  auto f = hp::function({a, b}, {hp::sum(hp::sqr(a * b))});
  EXPECT_EQ(f({Array::from({1, 2}).reshape({2, 1}), Array::from({1, 2, 3}).reshape({1, 3})})[0].item(), 70.0);
  // Partial results are folded at the accumulator's precision: 4096 steps of 2 in float16 make 8192 (a
  // float16 running total would stop at 4096, where adding 2 rounds away).
  hp::Variable h = hp::tensor(DType::Float16, {-1, 1}, "h"), k = hp::tensor(DType::Float16, {1, -1}, "k");
  auto g = hp::function({h, k}, {hp::sum(h * k)});
  EXPECT_EQ(g({Array::ones({4096, 1}, DType::Float16), Array::ones({1, 2}, DType::Float16)})[0].item(), 8192.0);
  hp::Variable s = hp::tensor(DType::Float32, {-1, 1}, "s"), t = hp::tensor(DType::Float32, {1, -1}, "t");
  auto sum32 = hp::function({s, t}, {hp::sum(s * t)});
  const Array many = Array::full({1 << 13, 1}, 1.0).astype(DType::Float32), few = Array::full({1, 3}, 1.0 / 3).astype(DType::Float32);
  EXPECT_NEAR(sum32({many, few})[0].item(), 8192.0, 1e-3);
}
