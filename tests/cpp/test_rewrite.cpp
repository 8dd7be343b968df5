// The rewrite pipeline: each pass before and after, the modes, and rewritten graphs against the graph
// as built on random expressions.
#include <cctype>
#include <cstdlib>

#include "ir/function_graph.h"
#include "rewrite/passes/passes.h"
#include "rewrite/pipeline.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::throws_with;

namespace {

// Nodes of the op `name`, counting the scalar ops inside fused nodes too.
int count_ops(const hp::FunctionGraph& graph, const std::string& name) {
  int count = 0;
  for (const auto& node : graph.nodes()) {
    count += node->op().name() == name;
    if (node->op().name() != "fused") continue;
    const std::string expression = " " + node->op().props();
    for (size_t at = expression.find(name + "("); at != std::string::npos; at = expression.find(name + "(", at + 1))
      count += !std::isalnum(static_cast<unsigned char>(expression[at - 1])) && expression[at - 1] != '_';
  }
  return count;
}

}  // namespace

TEST(Rewrite, MergeMakesOneNodePerComputation) {
  auto x = hp::vector("x");
  hp::FunctionGraph graph({x}, {hp::exp(x) * 2.0 + hp::exp(x) * 2.0});
  EXPECT_EQ(count_ops(graph, "exp"), 2);
  EXPECT_GT(hp::merge_duplicates(graph), 0);
  EXPECT_EQ(count_ops(graph, "exp"), 1);
  EXPECT_EQ(count_ops(graph, "mul"), 1);  // equal constants merged first, so the products are twins
  // -0.0 and 0.0 are different constants: 1 / x tells them apart.
  auto f = hp::function({}, {1.0 / hp::constant(-0.0), 1.0 / hp::constant(0.0)});
  auto out = f({});
  EXPECT_LT(out[0].item(), 0);
  EXPECT_GT(out[1].item(), 0);
}

TEST(Rewrite, ConstantFoldingComputesWhatIsKnown) {
  auto x = hp::vector("x");
  auto two = hp::constant(2.0), three = hp::constant(3.0);
  hp::FunctionGraph graph({x}, {x + hp::exp(two * three)});
  EXPECT_GT(hp::fold_constants(graph), 0);
  EXPECT_EQ(count_ops(graph, "exp"), 0);
  EXPECT_EQ(count_ops(graph, "mul"), 0);
  EXPECT_EQ(graph.nodes().size(), 1u);  // the add
  // Large results are made at run time, not stored.
  hp::FunctionGraph big({}, {hp::zeros({1000, 1000})});
  hp::fold_constants(big);
  EXPECT_EQ(count_ops(big, "alloc"), 1);
  // Sizes whose product does not fit in int64 are not folded either; the call reports them.
  auto huge = hp::function({}, {hp::zeros({1L << 40, 1L << 40})});
  EXPECT_TRUE(throws_with<hp::Error>([&] { huge({}); }, {"[array]"}));
  // A constant computation that fails is left for the call, which names where it was built.
  auto bad = hp::take(hp::constant(Array::arange(3, DType::Float64)), hp::constant(Array::from_vector<int64_t>({5})));
  auto f = hp::function({}, {bad});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({}); }, {"[take] index 5 is out of bounds", "test_rewrite.cpp"}));
}

TEST(Rewrite, CanonicalizeRemovesIdentities) {
  auto x = hp::vector("x");
  auto check = [&](const hp::Variable& out, const char* what) {
    hp::FunctionGraph graph({x}, {out});
    hp::fold_constants(graph);  // the constants' dimshuffles fold first, as in the pipeline
    hp::canonicalize(graph);
    EXPECT_TRUE(graph.outputs()[0].is(x)) << what << ": " << hp::debugprint(graph.outputs());
  };
  check(x * 1.0, "x * 1");
  check(1.0 * x, "1 * x");
  check(x + hp::constant(-0.0), "x + (-0)");
  check(x - 0.0, "x - 0");
  check(x / 1.0, "x / 1");
  check(hp::pow(x, 1.0), "x ** 1");
  check(-(-x), "-(-x)");
  check(hp::cast(x, DType::Float64), "cast to the same dtype");
  check(hp::dimshuffle(hp::dimshuffle(x, {0, hp::kNewAxis}), {0}), "dimshuffle of dimshuffle");
  // Not identities: x + 0.0 (-0.0 + 0.0 is +0.0), a constant that widens the shape, a different dtype.
  hp::FunctionGraph plus_zero({x}, {x + 0.0});
  hp::fold_constants(plus_zero);
  hp::canonicalize(plus_zero);
  EXPECT_EQ(count_ops(plus_zero, "add"), 1);
  hp::FunctionGraph wide({x}, {x * hp::constant(Array::ones({3}))});
  hp::canonicalize(wide);
  EXPECT_FALSE(wide.outputs()[0].is(x));
  auto i = hp::vector("i", DType::Int32);
  hp::FunctionGraph cast({i}, {hp::cast(i, DType::Float64)});
  hp::canonicalize(cast);
  EXPECT_EQ(count_ops(cast, "cast"), 1);
}

TEST(Rewrite, ModesChooseThePasses) {
  auto x = hp::vector("x");
  auto out = hp::exp(x) * (hp::constant(2.0) * 0.5) + hp::exp(x);
  auto nodes = [&](hp::Mode mode) {
    hp::FunctionGraph graph({x}, {out});
    hp::optimize(graph, mode);
    return graph.nodes().size();
  };
  EXPECT_EQ(nodes(hp::Mode::Unoptimized), 6u);  // exp, mul, mul, dimshuffle, exp, add
  EXPECT_EQ(nodes(hp::Mode::FastCompile), 3u);  // one exp, the folded constant times it, the add
  EXPECT_EQ(nodes(hp::Mode::FastRun), 1u);      // and x * 1 is x, and exp(x) + exp(x) one fused loop
  for (hp::Mode mode : {hp::Mode::Unoptimized, hp::Mode::FastCompile, hp::Mode::FastRun}) {
    auto f = hp::function({x}, {out}, {}, {}, {.mode = mode});
    EXPECT_TRUE(arrays_close(f({Array::from({0.0, 1.0})})[0], Array::from({2.0, 2 * std::exp(1.0)})));
  }
}

TEST(Rewrite, DebugprintAfterANamedPass) {
  auto x = hp::vector("x");
  setenv("HYPATIA_DEBUGPRINT_AFTER", "constant_folding", 1);
  ::testing::internal::CaptureStderr();
  hp::function({x}, {x * (hp::constant(1.0) + 1.0)});
  std::string printed = ::testing::internal::GetCapturedStderr();
  unsetenv("HYPATIA_DEBUGPRINT_AFTER");
  EXPECT_THAT(printed, ::testing::HasSubstr("graph after constant_folding"));
  EXPECT_THAT(printed, ::testing::Not(::testing::HasSubstr("graph after merge ")));
}

// Random expressions over two vectors and a matrix, with identities and constant subexpressions
// sprinkled in: FastRun must give the values of the graph as built.
TEST(Rewrite, RandomGraphsMatchTheUnoptimizedGraph) {
  hp::random::Generator rng(7);
  auto x = hp::vector("x"), y = hp::vector("y");
  auto m = hp::matrix("m");
  const Array xv = rng.uniform({4}, -1, 1), yv = rng.uniform({4}, -1, 1), mv = rng.uniform({3, 4}, -1, 1);
  auto pick = [&](int n) { return static_cast<int>(rng.uniform({1}, 0, n).item()); };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<hp::Variable> pool = {x, y, x * 1.0, hp::constant(2.0) * 0.5};
    for (int step = 0; step < 8; ++step) {
      const hp::Variable& a = pool[pick(pool.size())];
      const hp::Variable& b = pool[pick(pool.size())];
      switch (pick(9)) {
        case 0: pool.push_back(a + b); break;
        case 1: pool.push_back(a * b); break;
        case 2: pool.push_back(a - b); break;
        case 3: pool.push_back(-(-a)); break;
        case 4: pool.push_back(hp::tanh(a) + 0.0); break;
        case 5: pool.push_back(hp::exp(hp::cast(a, DType::Float64) * 0.1)); break;
        case 6: pool.push_back(a / (hp::constant(3.0) - 2.0)); break;
        case 7: pool.push_back(hp::sum(m * a, 0)); break;
        default:
          if (a.ndim() == 1) pool.push_back(hp::dimshuffle(hp::dimshuffle(a, {hp::kNewAxis, 0}), {1}));
          break;
      }
    }
    std::vector<hp::Variable> outputs(pool.end() - 3, pool.end());
    hp::FunctionOptions lenient{.on_unused_input = hp::UnusedInput::Ignore};
    auto reference = hp::function({x, y, m}, outputs, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore,
                                                               .mode = hp::Mode::Unoptimized});
    auto fast = hp::function({x, y, m}, outputs, {}, {}, lenient);
    auto expected = reference({xv, yv, mv}), actual = fast({xv, yv, mv});
    for (size_t k = 0; k < outputs.size(); ++k)
      ASSERT_TRUE(arrays_close(actual[k], expected[k], 1e-12, 1e-12)) << "trial " << trial << "\n"
                                                                       << hp::debugprint(outputs[k]);
  }
}

// The logistic function written out rounds to 1 for z > 37: log(1 - p) is -inf and its gradient NaN
// in the graph as built; stabilized, both stay finite and match the exact values.
TEST(Rewrite, StabilizeKeepsTheLogisticsTail) {
  auto z = hp::vector("z");
  auto p = 1.0 / (1.0 + hp::exp(-z));
  auto cost = hp::sum(hp::log(1.0 - p) + hp::log(p));
  auto g = hp::grad(cost, z);
  const Array zv = Array::from({-50.0, 0.0, 50.0});
  auto naive = hp::function({z}, {cost, g}, {}, {}, {.mode = hp::Mode::Unoptimized})({zv});
  EXPECT_TRUE(std::isinf(naive[0].item()));  // log(1 - 1) = -inf
  auto stable = hp::function({z}, {cost, g})({zv});
  // log(sigmoid(z)) + log(sigmoid(-z)) = -softplus(-z) - softplus(z); its derivative is 1 - 2 sigmoid(z).
  const double expected = -(std::log1p(std::exp(-50.0)) + 50.0) * 2 - 2 * std::log(2.0);
  EXPECT_NEAR(stable[0].item(), expected, 1e-9);
  EXPECT_TRUE(arrays_close(stable[1], Array::from({1.0, 0.0, -1.0}), 1e-9, 1e-12));
  auto x = hp::vector("x");
  hp::FunctionGraph graph({x}, {hp::log(1.0 / (1.0 + hp::exp(x)))});
  hp::optimize(graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(graph, "softplus"), 1);
  EXPECT_EQ(count_ops(graph, "exp"), 0);
}

// Each of these underflows or rounds away in the graph as built; stabilized it is exact.
TEST(Rewrite, StabilizeLog1pExpm1AndLogSoftmax) {
  auto x = hp::vector("x");
  auto both = [&](const hp::Variable& out, const Array& value) {
    auto naive = hp::function({x}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized})({value})[0];
    auto stable = hp::function({x}, {out})({value})[0];
    return std::pair{naive, stable};
  };
  const Array tiny = Array::from({1e-20, 1e-10});
  auto [log_naive, log_stable] = both(hp::log(1.0 + x), tiny);
  EXPECT_EQ(log_naive.get_as_double(0), 0.0);  // 1 + 1e-20 is 1
  EXPECT_NEAR(log_stable.get_as_double(0), 1e-20, 1e-35);
  auto [exp_naive, exp_stable] = both(hp::exp(x) - 1.0, tiny);
  EXPECT_EQ(exp_naive.get_as_double(0), 0.0);
  EXPECT_NEAR(exp_stable.get_as_double(0), 1e-20, 1e-35);
  auto m = hp::matrix("m");
  auto logp = hp::log(hp::softmax(m));
  const Array wide = Array::from({{0.0, 1000.0}});
  auto naive = hp::function({m}, {logp}, {}, {}, {.mode = hp::Mode::Unoptimized})({wide})[0];
  auto stable = hp::function({m}, {logp})({wide})[0];
  EXPECT_TRUE(std::isinf(naive.at<double>({0, 0})));  // softmax gives exactly 0 there
  EXPECT_TRUE(arrays_close(stable, Array::from({{-1000.0, 0.0}})));
  hp::FunctionGraph graph({m}, {logp});
  hp::stabilize(graph);
  EXPECT_EQ(count_ops(graph, "log_softmax"), 1);
  EXPECT_EQ(count_ops(graph, "softmax"), 0);
}

// FAST_RUN computes softmax and log_softmax as a max, a fused exp-and-sum and one fused loop; the
// values are the reference op's, also where a row's max is infinite.
TEST(Rewrite, SpecializeSoftmaxIntoFusedLoops) {
  auto m = hp::matrix("m");
  const double inf = INFINITY;
  const Array values = Array::from({{0.0, 1000.0, -3.0}, {-inf, -inf, -inf}, {-inf, 2.0, 1.0}, {1e-3, 2e-3, -1e-3}});
  for (int axis : {0, 1})
    for (bool log : {false, true}) {
      auto out = log ? hp::log_softmax(m, axis) : hp::softmax(m, axis);
      auto fast = hp::function({m}, {out});
      int softmax_nodes = 0;
      for (const auto& node : hp::toposort(fast.graph_outputs()))
        softmax_nodes += node->op().name() == "softmax" || node->op().name() == "log_softmax";
      EXPECT_EQ(softmax_nodes, 0) << fast.debugprint();
      auto reference = hp::function({m}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized})({values})[0];
      auto got = fast({values})[0];
      for (int64_t i = 0; i < got.size(); ++i) {
        const double a = got.get_as_double(i), b = reference.get_as_double(i);
        EXPECT_TRUE(a == b || (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-12 * std::fabs(b) + 1e-300)
            << "axis " << axis << " log " << log << " element " << i << ": " << a << " vs " << b;
      }
    }
}

TEST(Rewrite, SpecializePowByConstants) {
  auto x = hp::vector("x");
  const Array value = Array::from({0.5, 2.0, 9.0});
  for (double c : {2.0, 3.0, 4.0, -1.0}) {
    auto out = hp::pow(x, c);
    hp::FunctionGraph graph({x}, {out});
    hp::optimize(graph, hp::Mode::FastRun);
    EXPECT_EQ(count_ops(graph, "pow"), 0) << "x ** " << c;
    Array expected = Array::empty({3});
    for (int64_t k = 0; k < 3; ++k) expected.set_from_double(k, std::pow(value.get_as_double(k), c));
    EXPECT_TRUE(arrays_close(hp::function({x}, {out})({value})[0], expected, 1e-15, 0)) << "x ** " << c;
  }
  auto i = hp::vector("i", DType::Int64);
  Array cubes = hp::function({i}, {hp::pow(i, 3)})({Array::from_vector<int64_t>({-2, 3})})[0];
  EXPECT_TRUE(cubes.equals(Array::from_vector<int64_t>({-8, 27})));
  hp::FunctionGraph other({x}, {hp::pow(x, 1.5)});
  hp::optimize(other, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(other, "pow"), 1);
}

// Cases where a rewrite once changed a value, a type or an error: each must behave exactly as the
// graph as built.
TEST(Rewrite, RewritesKeepValuesTypesAndErrors) {
  auto same = [](const std::vector<hp::Variable>& inputs, const hp::Variable& out, const std::vector<Array>& values) {
    hp::FunctionOptions options{.on_unused_input = hp::UnusedInput::Ignore, .mode = hp::Mode::Unoptimized};
    Array expected = hp::function(inputs, {out}, {}, {}, options)(values)[0];
    options.mode = hp::Mode::FastRun;
    Array actual = hp::function(inputs, {out}, {}, {}, options)(values)[0];
    EXPECT_EQ(actual.dtype(), expected.dtype());
    EXPECT_EQ(actual.shape(), expected.shape());
    // Exact, signs of zeros included, but for the last bits of vector math (the generated kernels call
    // libmvec's exp, within 4 ulp of the reference's libm).
    const double ulp = expected.dtype() == DType::Float32 ? 0x1p-23 : 0x1p-52;
    for (int64_t k = 0; k < expected.size(); ++k) {
      const double a = actual.get_as_double(k), e = expected.get_as_double(k);
      EXPECT_TRUE((std::isnan(a) && std::isnan(e)) ||
                  (std::signbit(a) == std::signbit(e) && (a == e || std::fabs(a - e) <= 4 * ulp * std::fabs(e))))
          << hp::debugprint(out) << " element " << k << ": " << a << " vs " << e;
    }
  };
  auto x = hp::vector("x");
  const Array zeros = Array::from({-0.0, 0.0, -INFINITY});
  same({x}, 1.0 / (x + 0.0), {zeros});              // -0.0 + 0.0 is +0.0
  same({x}, 1.0 / (x - hp::constant(-0.0)), {zeros});
  same({x}, hp::pow(x, 0.5), {zeros});              // pow, not sqrt: they differ at -0.0 and -inf
  auto t = hp::vector("t", DType::UInt8);
  const Array small = Array::from_vector<uint8_t>({0, 3, 200});
  same({t}, 1.0 / (1.0 + hp::exp(t)), {small});     // no negation of unsigned integers
  same({t}, 1.0 - hp::sigmoid(t), {small});
  same({t}, hp::log(hp::sigmoid(t)), {small});
  // Twins whose types differ (one knows its size) are not merged.
  auto v = hp::scalar("v");
  auto a = hp::alloc(v, {1}), b = hp::alloc(v, {hp::Operand(hp::constant(0.0, DType::Int64) + 1)});
  auto f = hp::function({v}, {a, b});
  auto out = f({Array::scalar(2.0)});
  EXPECT_EQ(out[0].item() + out[1].item(), 4.0);
  // A constant with one element but a type of unknown size may not vanish with its shape check.
  auto one = hp::reshape(hp::constant(Array::from({1.0})), hp::constant(Array::from_vector<int64_t>({1})), 1);
  auto g = hp::function({x}, {x * one});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { g({Array::from({1.0, 2.0, 3.0})}); }, {"[mul]"}));
  auto z = hp::vector("z");
  auto second = hp::function({x, z}, {hp::second(x, z)});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { second({Array::from({1.0, 2.0, 3.0}), Array::from({4.0, 5.0})}); },
                                          {"[second]"}));
}

TEST(Rewrite, StabilizeLogSumExp) {
  auto m = hp::matrix("m");
  const Array big = Array::from({{1000.0, 1000.0}, {-1000.0, 0.0}});
  for (bool keepdims : {false, true}) {
    auto out = hp::log(hp::sum(hp::exp(m), 1, keepdims));
    auto naive = hp::function({m}, {out}, {}, {}, {.mode = hp::Mode::Unoptimized})({big})[0];
    auto stable = hp::function({m}, {out})({big})[0];
    EXPECT_TRUE(std::isinf(naive.get_as_double(0)));  // exp(1000) overflows
    const Array expected = Array::from({1000.0 + std::log(2.0), 0.0});
    EXPECT_TRUE(arrays_close(stable.reshape({2}), expected, 1e-12, 1e-12)) << "keepdims " << keepdims;
    EXPECT_EQ(stable.shape(), keepdims ? (hp::Shape{2, 1}) : (hp::Shape{2}));
    // Rewritten once: logsumexp's own log(sum(exp(m - max))) is not rewritten again.
    hp::FunctionGraph graph({m}, {out});
    hp::optimize(graph, hp::Mode::FastRun);
    EXPECT_EQ(count_ops(graph, "max") + count_ops(graph, "fused_max"), 1);
  }
}

// A dimension of a computed value comes from its inputs' shapes: the value need not be computed.
TEST(Rewrite, CanonicalizeReadsShapesFromInputs) {
  auto x = hp::matrix("x"), w = hp::matrix("w");
  auto hidden = hp::tanh(hp::dot(x, w) + 1.0);
  auto rows = hp::shape_i(hidden, 0), cols = hp::shape_i(hidden, 1);
  hp::FunctionGraph graph({x, w}, {rows * cols});
  hp::canonicalize(graph);
  EXPECT_EQ(count_ops(graph, "tanh"), 0);
  EXPECT_EQ(count_ops(graph, "dot"), 0);
  auto f = hp::function({x, w}, {rows * cols});
  EXPECT_EQ(f({Array::zeros({3, 4}), Array::zeros({4, 5})})[0].item(), 15.0);
  // The MLP's gradient reads the softmax's width: after rewriting, the shape comes from the weights.
  auto y = hp::vector("y", DType::Int64);
  auto v = hp::shared(Array::zeros({5, 2}), "v");
  auto cost = hp::mean(hp::categorical_crossentropy(hp::softmax(hp::dot(hidden, v)), y));
  auto g = hp::function({x, w, y}, {hp::grad(cost, w)});
  auto reference = hp::function({x, w, y}, {hp::grad(cost, w)}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const Array xv = hp::random::uniform({3, 4}, -1, 1), wv = hp::random::uniform({4, 5}, -1, 1);
  const Array yv = Array::from_vector<int64_t>({0, 1, 1});
  EXPECT_TRUE(arrays_close(g({xv, wv, yv})[0], reference({xv, wv, yv})[0], 1e-10, 1e-12));
}

TEST(Rewrite, CanonicalizeLiftsTransposesThroughElementwiseOps) {
  auto x = hp::matrix("x"), y = hp::matrix("y");
  // (x.T * y.T + 2).T is x * y + 2: the transposes meet and cancel.
  auto out = (x.T() * y.T() + 2.0).T();
  hp::FunctionGraph graph({x, y}, {out});
  hp::canonicalize(graph);
  EXPECT_EQ(count_ops(graph, "dimshuffle"), 0) << hp::debugprint(graph.outputs());
  auto f = hp::function({x, y}, {out, x.T() * y.T(), x.T() + y});  // the last: mixed, stays as built
  auto reference = hp::function({x, y}, {out, x.T() * y.T(), x.T() + y}, {}, {}, {.mode = hp::Mode::Unoptimized});
  const Array square = hp::random::uniform({3, 3}, -1, 1);
  auto got = f({square, square.transpose()}), expected = reference({square, square.transpose()});
  for (size_t k = 0; k < got.size(); ++k) EXPECT_TRUE(arrays_close(got[k], expected[k], 0, 0)) << k;
}

TEST(Rewrite, SpecializeSumsOfProductsIntoDots) {
  auto u = hp::vector("u"), v = hp::vector("v"), a = hp::matrix("a"), b = hp::matrix("b");
  hp::Variable row = hp::dimshuffle(v, {hp::kNewAxis, 0}), column = hp::dimshuffle(u, {0, hp::kNewAxis});
  auto a3 = hp::dimshuffle(a, {0, 1, hp::kNewAxis}), b3 = hp::dimshuffle(b, {hp::kNewAxis, 0, 1});
  const std::vector<std::pair<const char*, hp::Variable>> dots = {
      {"sum(u * u)", hp::sum(u * u)},
      {"sum(a * v[None, :], 1)", hp::sum(a * row, {1})},
      {"sum(v[None, :] * a, 1)", hp::sum(row * a, {1})},
      {"sum(a * v, 1) (v without the axis)", hp::sum(a * v, {1})},
      {"sum(u[:, None] * a, 0)", hp::sum(column * a, {0})},
      {"sum(a[:, :, None] * b[None, :, :], 1)", hp::sum(a3 * b3, {1})},
      {"sum(b[None] * a[..., None], 1) kept", 1.0 + hp::sum(b3 * a3, {1}, /*keepdims=*/true)},
      {"sum(a[:, :, None] * b[:, None, :], 0)", hp::sum(a3 * hp::dimshuffle(b, {0, hp::kNewAxis, 1}), {0})},
      {"sum(a[:, None, :] * b[None, :, :], 2)", hp::sum(hp::dimshuffle(a, {0, hp::kNewAxis, 1}) * b3, {2})},
  };
  const Array uv = hp::random::uniform({4}, -1, 1), vv = hp::random::uniform({4}, -1, 1), av = hp::random::uniform({4, 4}, -1, 1),
              bv = hp::random::uniform({4, 4}, -1, 1);
  for (const auto& [name, out] : dots) {
    auto f = hp::function({u, v, a, b}, {out}, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
    hp::FunctionGraph graph({u, v, a, b}, {out});
    hp::optimize(graph, hp::Mode::FastRun);
    EXPECT_EQ(count_ops(graph, "sum"), 0) << name << "\n" << f.debugprint();
    EXPECT_EQ(count_ops(graph, "dot") + count_ops(graph, "gemm"), 1) << name << "\n" << f.debugprint();
    auto reference = hp::function({u, v, a, b}, {out}, {}, {},
                                  {.on_unused_input = hp::UnusedInput::Ignore, .mode = hp::Mode::Unoptimized});
    EXPECT_TRUE(arrays_close(f({uv, vv, av, bv})[0], reference({uv, vv, av, bv})[0], 1e-13, 1e-14)) << name;
  }
  // Products that are not matrix products stay sums: a row-wise dot, a full sum of a matrix product,
  // integers, a product read elsewhere.
  auto i = hp::vector("i", DType::Int64);
  const std::vector<std::pair<const char*, std::vector<hp::Variable>>> sums = {
      {"sum(a * b, 1)", {hp::sum(a * b, {1})}},
      {"sum(a * v)", {hp::sum(a * row)}},
      {"sum(i * i)", {hp::sum(i * i)}},
      {"the product is an output", {hp::sum(u * v), u * v}},
  };
  for (const auto& [name, outputs] : sums) {
    hp::FunctionGraph graph({u, v, a, b, i}, outputs);
    hp::optimize(graph, hp::Mode::FastRun);
    EXPECT_EQ(count_ops(graph, "dot") + count_ops(graph, "gemm"), 0) << name;
  }
  // A shape mismatch is still reported, with the line that built the sum.
  auto f = hp::function({u, v}, {hp::sum(u * v)});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({uv, Array::zeros({3})}); }, {"(4", "(3", "test_rewrite.cpp"}));
}

TEST(Rewrite, CanonicalizeGathersConstantsAndDropsUselessReshapes) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto i = hp::vector("i", DType::Int32), j = hp::vector("j", DType::Int32);
  auto canonical = [](const std::vector<hp::Variable>& inputs, const hp::Variable& out) {
    auto graph = std::make_unique<hp::FunctionGraph>(inputs, std::vector<hp::Variable>{out});
    hp::fold_constants(*graph);
    hp::canonicalize(*graph);
    return graph;
  };
  struct Case {
    const char* name;
    std::vector<hp::Variable> inputs;
    hp::Variable out;
    const char* op;
    int count;  // of `op` after canonicalize
  };
  const std::vector<Case> cases = {
      {"(x * 2) * 3", {x}, (x * 2.0) * 3.0, "mul", 1},
      {"3 * (y * (x * 2))", {x, y}, 3.0 * (y * (x * 2.0)), "mul", 2},
      {"(x * 2) * 0.5 is x", {x}, (x * 2.0) * 0.5, "mul", 0},
      {"(x + 1) + 2", {x}, (x + 1.0) + 2.0, "add", 1},
      {"(i + 1) - 4 (integers: signs mix)", {i}, (i + 1) - 4, "add", 1},
      {"x + 1e20 - 1e20 stays", {x}, (x + 1e20) - 1e20, "sub", 1},
      {"i * 3 * j * 5", {i, j}, i * 3 * j * 5, "mul", 2},
      {"i - i", {i}, i - i, "sub", 0},
      {"x - x stays (NaN for inf)", {x}, x - x, "sub", 1},
      {"reshape(x, x.shape)", {x}, hp::reshape(x, hp::shape(x), 1), "reshape", 0},
      {"reshape(x, (x.shape[0],))", {x}, hp::reshape(x, std::vector<hp::Operand>{hp::shape_i(x, 0)}), "reshape", 0},
      {"reshape(x, (-1,)) stays", {x}, hp::reshape(x, std::vector<hp::Operand>{-1}), "reshape", 1},
      {"reshape(x, y.shape) stays", {x, y}, hp::reshape(x, hp::shape(y), 1), "reshape", 1},
  };
  const Array xv = Array::from({0.5, -2.0, 3.0e38, INFINITY}), yv = Array::from({1.0, 4.0, -1.0, 2.0});
  const Array iv = Array::from_vector<int32_t>({1, -7, 2147483647, 0}), jv = Array::from_vector<int32_t>({3, 2, 5, -1});
  for (const Case& c : cases) {
    auto graph = canonical(c.inputs, c.out);
    EXPECT_EQ(count_ops(*graph, c.op), c.count) << c.name << "\n" << hp::debugprint(graph->outputs());
    std::vector<Array> values;
    for (const hp::Variable& input : c.inputs)
      values.push_back(input.is(x) ? xv : input.is(y) ? yv : input.is(i) ? iv : jv);
    auto fast = hp::function(c.inputs, {c.out})(values)[0];
    auto slow = hp::function(c.inputs, {c.out}, {}, {}, {.mode = hp::Mode::Unoptimized})(values)[0];
    // Integers wrap alike; floats agree within rounding, NaN where both are.
    bool same = fast.shape() == slow.shape() && fast.dtype() == slow.dtype();
    for (int64_t k = 0; same && k < fast.size(); ++k) {
      const double a = fast.get_as_double(k), b = slow.get_as_double(k);
      same = a == b || (std::isnan(a) && std::isnan(b)) || (is_float(fast.dtype()) && std::fabs(a - b) <= 1e-15 * std::fabs(b));
    }
    EXPECT_TRUE(same) << c.name << "\n" << fast.str() << "\n" << slow.str();
  }
  // A reshape that cannot be done still fails as built (the -1 on an empty array is NumPy's error).
  auto f = hp::function({x}, {hp::reshape(x, std::vector<hp::Operand>{0, -1})});
  EXPECT_TRUE(throws_with<hp::Error>([&] { f({Array::zeros({0})}); }, {"reshape"}));
}

// Zeros by construction: a gradient through floor (or integer division, or zero_grad) is zero, and
// what it feeds (products, sums, dots, additions to other gradients) folds away instead of being
// computed over the whole tensor.
TEST(Rewrite, GradientsThatAreZeroByConstructionCostNothing) {
  auto x = hp::matrix("x"), W = hp::matrix("W");
  // d/dW: zero through the integer division (x^T times zeros), zero through zero_grad, 2W from the
  // penalty. Only the penalty's term is left to compute: no product at all.
  auto cost = hp::sum(hp::int_div(hp::dot(x, W), 2.0) * 3.0) + hp::sum(hp::zero_grad(hp::sqr(W)) * W) + hp::sum(hp::sqr(W));
  auto gW = hp::grad(cost, W);
  hp::FunctionGraph graph({x, W}, {gW});
  EXPECT_EQ(count_ops(graph, "dot"), 2);  // the forward product and the one the gradient goes back through
  hp::optimize(graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(graph, "dot") + count_ops(graph, "gemm") + count_ops(graph, "int_div"), 0) << hp::debugprint(graph.outputs());
  Array xv = Array::from_vector<double>({0.5, -1.5, 2.0, 0.25}, {2, 2}), Wv = Array::from_vector<double>({1, 2, -1, 0.5}, {2, 2});
  auto fast = hp::function({x, W}, {gW});
  // zero_grad's term: its gradient reaches W through the right factor only, as sqr(W): 2W + W*W.
  Array want = Array::from_vector<double>({2 + 1, 4 + 4, -2 + 1, 1 + 0.25}, {2, 2});
  EXPECT_TRUE(arrays_close(fast({xv, Wv})[0], want));
}

TEST(Rewrite, ValuesReadOnlyForTheirShapeAreNotComputed) {
  // The gradients of L1 and L2 penalties: second(abs(W), 0) and second(sqr(W), c) need W's shape only.
  auto W = hp::matrix("W");
  hp::FunctionGraph graph({W}, {hp::second(hp::abs(W), 0.0) + hp::second(hp::sqr(W) * 3.0, 2.0)});
  hp::optimize(graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(graph, "abs"), 0) << hp::debugprint(graph.outputs());
  EXPECT_EQ(count_ops(graph, "sqr"), 0) << hp::debugprint(graph.outputs());
  auto f = hp::function({W}, {hp::second(hp::abs(W), 0.0) + hp::second(hp::sqr(W) * 3.0, 2.0)});
  EXPECT_TRUE(arrays_close(f({Array::zeros({2, 3})})[0], Array::full({2, 3}, 2.0)));
  // A dot's shape comes from its operands' shapes.
  auto x = hp::matrix("x");
  hp::FunctionGraph dotted({x, W}, {hp::second(hp::dot(x, W), 1.0)});
  hp::optimize(dotted, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(dotted, "dot") + count_ops(dotted, "gemm"), 0) << hp::debugprint(dotted.outputs());
}

namespace {

TEST(Rewrite, ZerosSeenThroughReshapesFoldAway) {
  // The contractive autoencoder's Jacobian penalty: sum(J ** 2) // n with J built from reshape(W). Its
  // gradient is zero through the integer division, and reaches W through a reshape: the zeros are not
  // allocated, reshaped and added to W's other gradient.
  auto x = hp::matrix("x"), W = hp::matrix("W");
  auto J = hp::reshape(x, {2, 1, 3}) * hp::reshape(W, {1, 4, 3});
  auto cost = hp::int_div(hp::sum(hp::sqr(J)), 2.0) + hp::sum(hp::sqr(W));
  auto gW = hp::grad(cost, W);
  hp::FunctionGraph graph({x, W}, {gW});
  hp::optimize(graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(graph, "alloc") + count_ops(graph, "reshape") + count_ops(graph, "add"), 0)
      << hp::debugprint(graph.outputs());
  auto f = hp::function({x, W}, {gW});
  std::vector<double> w(12), twice(12);
  for (int i = 0; i < 12; ++i) twice[i] = 2 * (w[i] = 0.25 * i - 1.5);
  EXPECT_TRUE(arrays_close(f({hp::random::uniform({2, 3}, -1, 1), Array::from_vector<double>(w, {4, 3})})[0],
                           Array::from_vector<double>(twice, {4, 3})));
}

TEST(Rewrite, WhatIsAddedIntoZerosIsReadBackWithoutTheZeros) {
  // The cotangent of a scan's trajectory: zeros of n + 1 rows with rows 1.. incremented by v, read back at
  // rows 1 .. 1 + n (the bound built again, its operands the other way round). The read is v itself.
  auto v = hp::matrix("v");
  const hp::Variable n = hp::shape_i(v, 0), width = hp::shape_i(v, 1);
  const hp::Variable written = hp::inc_subtensor(hp::zeros({n + int64_t{1}, width})[{hp::slice(1, std::nullopt)}], v);
  const hp::Variable read_back = written[{hp::slice(1, hp::constant(1.0, DType::Int64) + n)}];
  const hp::Variable shifted = written[{hp::slice(0, n)}];  // another region: its zeros are read
  hp::FunctionGraph graph({v}, {read_back});
  hp::optimize(graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(graph, "alloc") + count_ops(graph, "inc_subtensor"), 0) << hp::debugprint(graph.outputs());
  hp::FunctionGraph kept({v}, {shifted});
  hp::optimize(kept, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(kept, "inc_subtensor"), 1) << hp::debugprint(kept.outputs());
  const Array value = Array::from_vector<double>({1, 2, 3, 4, 5, 6}, {3, 2});
  auto f = hp::function({v}, {read_back, shifted});
  const auto out = f({value});
  EXPECT_TRUE(arrays_close(out[0], value, 0, 0));
  EXPECT_TRUE(arrays_close(out[1], Array::from_vector<double>({0, 0, 1, 2, 3, 4}, {3, 2}), 0, 0));

  // set_subtensor too; and a value that does not fit the region still fails, as the increment did.
  auto u = hp::matrix("u");
  const hp::Variable rows = hp::shape_i(u, 0);
  const hp::Variable set = hp::set_subtensor(hp::zeros({rows + int64_t{1}, width})[{hp::slice(1, std::nullopt)}], v);
  const hp::Variable set_back = set[{hp::slice(1, std::nullopt)}];
  hp::FunctionGraph set_graph({u, v}, {set_back});
  hp::optimize(set_graph, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(set_graph, "set_subtensor") + count_ops(set_graph, "alloc"), 0) << hp::debugprint(set_graph.outputs());
  auto g = hp::function({u, v}, {set_back});
  EXPECT_TRUE(arrays_close(g({Array::zeros({3, 1}), value})[0], value, 0, 0));
  EXPECT_TRUE(throws_with<hp::Error>([&] { g({Array::zeros({4, 1}), value}); }, {"inc_subtensor"}));
  // An integer index is left alone (out of bounds, it must still fail).
  const hp::Variable last = hp::inc_subtensor(hp::zeros({n, width})[{-1}], v[{0}])[{-1}];
  hp::FunctionGraph indexed({v}, {last});
  hp::optimize(indexed, hp::Mode::FastRun);
  EXPECT_EQ(count_ops(indexed, "inc_subtensor"), 1) << hp::debugprint(indexed.outputs());
}

TEST(Rewrite, ReductionsOfReductionsFuseTogether) {
  // mean(sum((a * b) ** 2) // 10): the inner sum takes its elementwise producer and the outer one the
  // integer division, which reads the inner fused sum (not a second, unfused copy of it).
  auto a = hp::tensor3("a"), b = hp::tensor3("b");
  auto out = hp::mean(hp::int_div(hp::sum(hp::sqr(a * b)), 10.0));
  hp::FunctionGraph graph({a, b}, {out});
  hp::optimize(graph, hp::Mode::FastRun);
  int fused_sums = 0, plain_sums = 0;
  for (const auto& node : graph.nodes()) {
    fused_sums += node->op().name() == "fused_sum";
    plain_sums += node->op().name() == "sum";
  }
  EXPECT_EQ(fused_sums, 2) << hp::debugprint(graph.outputs());
  EXPECT_EQ(plain_sums, 0) << hp::debugprint(graph.outputs());
}

}  // namespace
