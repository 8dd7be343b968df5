// dot, matmul and outer against hand-computed products, across layouts and dtypes.
#include <cmath>
#include <tuple>

#include "ir/function_graph.h"
#include "ops/blas.h"
#include "rewrite/pipeline.h"
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
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::matmul(hp::scalar("s"), x); }, {"[matmul] does not take scalars"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::outer(x, x); }, {"[outer] takes two vectors"}));
}

// np.dot above two dimensions (Theano's dot): the last axis of x against the second-to-last of y, so
// (2, 2, 3)·(3, 2) is (2, 2, 2) and (2)·(2, 2, 2) sums v[i] * t[j, i, k]; a 0-d operand multiplies.
TEST(Dot, AboveTwoDimensionsFollowsNumpyDot) {
  auto t = hp::tensor3("t"), m = hp::matrix("m"), v = hp::vector("v"), s = hp::scalar("s");
  Array t_value = Array::from_vector<double>({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  // np.dot(t, t)[i, j, k, m] = sum_l t[i, j, l] t[k, l, m]: [1, 0, 1, 1] = 4*5 + 5*7 = 55
  Array tt = hp::eval(hp::dot(t, t), {{t, t_value}});
  EXPECT_EQ(tt.shape(), (hp::Shape{2, 2, 2, 2}));
  EXPECT_EQ(tt.at<double>({1, 0, 1, 1}), 55.0);
  // np.dot([1, 2], t)[j, k] = t[j, 0, k] + 2 t[j, 1, k]: [[4, 7], [16, 19]]
  Array vt = hp::eval(hp::dot(v, t), {{v, Array::from({1.0, 2.0})}, {t, t_value}});
  EXPECT_TRUE(arrays_close(vt, Array::from_vector<double>({4, 7, 16, 19}, {2, 2})));
  Array tm = hp::eval(hp::dot(t, m), {{t, t_value}, {m, Array::from_vector<double>({1, 0, 0, 1}, {2, 2})}});
  EXPECT_TRUE(arrays_close(tm, t_value));
  Array ts = hp::eval(hp::dot(t, s), {{t, t_value}, {s, Array::scalar(2.0)}});
  EXPECT_EQ(ts.at<double>({1, 1, 1}), 14.0);
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

namespace {

int count_gemm(const hp::Function& f) {
  int count = 0;
  for (const auto& node : hp::toposort(f.graph_outputs())) count += node->op().name() == "gemm";
  return count;
}

}  // namespace

TEST(Gemm, DotWithScaledAccumulationBecomesOneGemm) {
  auto z = hp::matrix("z"), x = hp::matrix("x"), y = hp::matrix("y");
  auto a = hp::scalar("a");
  const Array zv = hp::random::uniform({3, 4}, -1, 1), xv = hp::random::uniform({3, 5}, -1, 1),
              yv = hp::random::uniform({4, 5}, -1, 1), av = Array::scalar(0.25);
  // y arrives transposed: BLAS reads it in place.
  const std::vector<std::pair<const char*, hp::Variable>> forms = {
      {"z + dot", z + hp::dot(x, y.T())},
      {"dot + z", hp::dot(x, y.T()) + z},
      {"z - a * dot", z - a * hp::dot(x, y.T())},
      {"z + dot * 0.5", z + hp::dot(x, y.T()) * 0.5},
      {"a * dot - z", a * hp::dot(x, y.T()) - z},
  };
  for (const auto& [name, out] : forms) {
    auto f = hp::function({z, x, y, a}, {out}, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
    EXPECT_EQ(count_gemm(f), 1) << name << "\n" << f.debugprint();
    auto reference = hp::function({z, x, y, a}, {out}, {}, {},
                                  {.on_unused_input = hp::UnusedInput::Ignore, .mode = hp::Mode::Unoptimized});
    EXPECT_TRUE(arrays_close(f({zv, xv, yv, av})[0], reference({zv, xv, yv, av})[0], 1e-12, 1e-12)) << name;
  }
}

TEST(Gemm, StaysADotWhenZBroadcastsOrTheProductIsReadElsewhere) {
  auto z = hp::matrix("z"), x = hp::matrix("x"), y = hp::matrix("y");
  auto b = hp::row("b");
  auto product = hp::dot(x, y);
  EXPECT_EQ(count_gemm(hp::function({x, y, b}, {product + b})), 0);       // a bias row: fusion's job
  EXPECT_EQ(count_gemm(hp::function({x, y, z}, {product + z, product * 2.0})), 0);  // the product is needed too
  auto i = hp::matrix("i", DType::Int64);
  EXPECT_EQ(count_gemm(hp::function({i}, {i + hp::dot(i, i)})), 0);  // BLAS is for floats
}

TEST(Gemm, UpdatesOfTheSeedNetworkUseGemmAndMatchTheReference) {
  auto x = hp::matrix("x", DType::Float32);
  auto w = hp::shared(hp::random::uniform({6, 4}, -1, 1, DType::Float32), "w");
  auto cost = hp::sum(hp::tanh(hp::dot(x, w)));
  auto step = w - 0.1 * hp::grad(cost, w);
  const Array xv = hp::random::uniform({5, 6}, -1, 1, DType::Float32);
  auto fast = hp::function({x}, {step});
  EXPECT_EQ(count_gemm(fast), 1) << fast.debugprint();
  auto reference = hp::function({x}, {step}, {}, {}, {.mode = hp::Mode::Unoptimized});
  EXPECT_TRUE(arrays_close(fast({xv})[0], reference({xv})[0], 1e-5, 1e-6));
}

TEST(Gemm, GradientsShapesAndErrors) {
  auto gemm = [](const std::vector<hp::Variable>& v) {
    return hp::apply_op1(std::make_shared<hp::Gemm>(), {v[0], v[1], v[2], v[3], v[4]});
  };
  expect_grad_ok([&](const std::vector<hp::Variable>& v) { return hp::sum(hp::sqr(gemm(v))); },
                 {hp::random::uniform({2, 3}, -1, 1), Array::scalar(0.7), hp::random::uniform({2, 4}, -1, 1),
                  hp::random::uniform({4, 3}, -1, 1), Array::scalar(-0.4)});
  auto z = hp::matrix("z"), x = hp::matrix("x"), y = hp::matrix("y"), s = hp::scalar("s");
  auto out = hp::apply_op1(std::make_shared<hp::Gemm>(), {z, s, x, y, s});
  auto f = hp::function({z, s, x, y}, {out});
  EXPECT_TRUE(throws_with<hp::ShapeError>(
      [&] { f({Array::zeros({2, 2}), Array::scalar(1), Array::zeros({2, 3}), Array::zeros({4, 2})}); },
      {"[gemm]", "(2, 3)", "(4, 2)", "test_blas.cpp"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>(
      [&] { f({Array::zeros({3, 2}), Array::scalar(1), Array::zeros({2, 3}), Array::zeros({3, 2})}); },
      {"[gemm] z has shape (3, 2)"}));
  // An empty inner dimension: beta * z.
  EXPECT_TRUE(arrays_close(f({Array::ones({2, 2}), Array::scalar(3), Array::zeros({2, 0}), Array::zeros({0, 2})})[0],
                           Array::full({2, 2}, 3.0)));
  EXPECT_TRUE(throws_with<hp::TypeError>(
      [&] { hp::apply_op1(std::make_shared<hp::Gemm>(), {z, x, x, y, s}); }, {"[gemm] alpha and beta must be scalars"}));
}

TEST(Gemm, MatrixVectorProductsAccumulateThroughGemm) {
  auto z = hp::vector("z"), v = hp::vector("v"), a = hp::matrix("a");
  const Array zv = hp::random::uniform({3}, -1, 1), vv = hp::random::uniform({4}, -1, 1),
              av = hp::random::uniform({3, 4}, -1, 1);
  // A @ v (GEMV) and v @ A^T, with transposed and strided matrices.
  const std::vector<std::pair<const char*, hp::Variable>> forms = {
      {"z - 0.5 * A @ v", z - 0.5 * hp::dot(a, v)},
      {"v @ A.T + z", hp::dot(v, a.T()) + z},
  };
  for (const auto& [name, out] : forms) {
    auto f = hp::function({z, v, a}, {out});
    EXPECT_EQ(count_gemm(f), 1) << name << "\n" << f.debugprint();
    auto reference = hp::function({z, v, a}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized});
    for (const Array& matrix : {av, hp::random::uniform({4, 3}, -1, 1).transpose(),
                                hp::random::uniform({6, 8}, -1, 1).slice({{0, 6, 2}, {0, 8, 2}})})
      EXPECT_TRUE(arrays_close(f({zv, vv, matrix})[0], reference({zv, vv, matrix})[0], 1e-12, 1e-12)) << name;
  }
}

TEST(Gemm, OneColumnOneRowAndOneDeepProductsMatchTheReference) {
  // These take GEMV (one column or row out) and GER (one deep, beta = 1) inside Gemm; every operand
  // layout BLAS can read in place, one it cannot (reversed), and beta = 0 on fresh memory.
  auto z = hp::matrix("z"), x = hp::matrix("x"), y = hp::matrix("y");
  auto a = hp::scalar("a");
  const std::vector<std::pair<const char*, hp::Variable>> forms = {
      {"z + a * dot", z + a * hp::dot(x, y)},
      {"a * dot - z", a * hp::dot(x, y) - z},
      {"z * 0 + dot", hp::dot(x, y) + z * 0.0},
  };
  auto layouts = [](const Array& m) {
    const int64_t rows = m.shape()[0], cols = m.shape()[1];
    return std::vector<Array>{m, m.transpose().copy().transpose(),
                              hp::random::uniform({rows * 2, cols * 3}, -1, 1).slice({{0, rows * 2, 2}, {0, cols * 3, 3}}),
                              m.slice({{hp::Slice::kNone, hp::Slice::kNone, -1}, {hp::Slice::kNone, hp::Slice::kNone, -1}})};
  };
  for (const auto& [m, k, n] : std::vector<std::array<int64_t, 3>>{{5, 4, 1}, {1, 4, 5}, {5, 1, 4}, {1, 1, 1}, {1, 3, 1}}) {
    const Array zv = hp::random::uniform({m, n}, -1, 1), av = Array::scalar(-0.75);
    for (const auto& [name, out] : forms) {
      auto f = hp::function({z, x, y, a}, {out}, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
      auto reference = hp::function({z, x, y, a}, {out}, {}, {},
                                    {.on_unused_input = hp::UnusedInput::Ignore, .mode = hp::Mode::Unoptimized});
      for (const Array& xv : layouts(hp::random::uniform({m, k}, -1, 1)))
        for (const Array& yv : layouts(hp::random::uniform({k, n}, -1, 1)))
          EXPECT_TRUE(arrays_close(f({zv, xv, yv, av})[0], reference({zv, xv, yv, av})[0], 1e-12, 1e-12))
              << name << " m=" << m << " k=" << k << " n=" << n;
    }
  }
}

namespace {

TEST(Gemm, ATransposedAccumulatorIsUpdatedThroughItsOwnBuffer) {
  // dot(a, b).T + dot(x, y) (gradients often look so): GEMM computes (dot(a, b) + y.T @ x.T).T in place
  // in dot(a, b)'s result instead of copying its transpose first. Values against the reference.
  auto a = hp::matrix("a"), b = hp::matrix("b"), x = hp::matrix("x"), y = hp::matrix("y");
  auto out = hp::dot(a, b).T() + hp::dot(x, y) * 0.5;
  hp::FunctionGraph graph({a, b, x, y}, {out});
  hp::optimize(graph, hp::Mode::FastRun);
  bool transposed_accumulator = false;
  int gemms = 0;
  for (const auto& node : graph.nodes())
    if (node->op().name() == "gemm") {
      ++gemms;
      const auto owner = node->input(0).owner();
      transposed_accumulator = transposed_accumulator || (owner && owner->op().name() == "dimshuffle");
    }
  EXPECT_EQ(gemms, 1) << hp::debugprint(graph.outputs());
  EXPECT_FALSE(transposed_accumulator) << hp::debugprint(graph.outputs());
  const std::vector<Array> args{hp::random::uniform({3, 4}, -1, 1), hp::random::uniform({4, 5}, -1, 1),
                                hp::random::uniform({5, 2}, -1, 1), hp::random::uniform({2, 3}, -1, 1)};
  auto fast = hp::function({a, b, x, y}, {out});
  auto reference = hp::function({a, b, x, y}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized});
  EXPECT_TRUE(arrays_close(fast(args)[0], reference(args)[0]));
  // A transpose that also drops a size-1 axis is not a 2-d accumulator: the product stays a GEMM of its own.
  auto w = hp::tensor(DType::Float64, {-1, -1, 1}, "w");
  auto dropped = hp::dimshuffle(w, {1, 0}) + hp::dot(x, y);
  auto g = hp::function({w, x, y}, {dropped});
  auto g_reference = hp::function({w, x, y}, {dropped}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const std::vector<Array> g_args{hp::random::uniform({3, 5, 1}, -1, 1), args[2], args[3]};
  EXPECT_TRUE(arrays_close(g(g_args)[0], g_reference(g_args)[0]));
}

}  // namespace

TEST(Blas, ProductsSplitAmongThreadsMatchAPlainLoop) {
  // A large float64 product splits among OpenMP threads (by rows or by columns, operands transposed or
  // not), each block one OpenBLAS call; each block must land where a plain loop puts it.
  const int saved_threads = hp::config().openmp_threads;
  hp::config().openmp_threads = 2;
  for (auto [m, k, n] : {std::tuple<int64_t, int64_t, int64_t>{300, 200, 90}, {70, 200, 333}, {250, 130, 250}})
    for (bool trans_a : {false, true})
      for (bool trans_b : {false, true}) {
        auto a = hp::matrix("a", DType::Float64), b = hp::matrix("b", DType::Float64);
        auto f = hp::function({a, b}, {hp::dot(trans_a ? a.T() : a, trans_b ? b.T() : b)});
        Array av = Array::empty(trans_a ? hp::Shape{k, m} : hp::Shape{m, k}), bv = Array::empty(trans_b ? hp::Shape{n, k} : hp::Shape{k, n});
        for (int64_t i = 0; i < av.size(); ++i) av.data<double>()[i] = std::sin(0.37 * i);
        for (int64_t i = 0; i < bv.size(); ++i) bv.data<double>()[i] = std::cos(0.11 * i);
        const Array out = f({av, bv})[0];
        double worst = 0;
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double expected = 0;
            for (int64_t p = 0; p < k; ++p)
              expected += (trans_a ? av.data<double>()[p * m + i] : av.data<double>()[i * k + p]) *
                          (trans_b ? bv.data<double>()[j * k + p] : bv.data<double>()[p * n + j]);
            worst = std::max(worst, std::abs(out.data<double>()[i * n + j] - expected));
          }
        EXPECT_LT(worst, 1e-11) << m << "x" << k << "x" << n << " trans_a " << trans_a << " trans_b " << trans_b;
      }
  hp::config().openmp_threads = saved_threads;
}
