// ifelse: the branch taken, lazily (the other branch's steps never run), tuples, gradients, inside scan,
// the constant-condition rewrite, and errors.
#include "test_util.h"

namespace hypatia {
namespace {

using testing::arrays_close;
using testing::expect_grad_ok;
using testing::run_every_mode;
using testing::throws_with;

TEST(IfElse, PicksTheBranchOutputByOutput) {
  Variable a = scalar("a"), b = scalar("b"), x = vector("x"), y = vector("y");
  std::vector<Variable> both = ifelse(lt(a, b), {x * 2.0, sum(x)}, {y + 1.0, sum(y) * 10.0});
  Variable number = ifelse(gt(a, b), sum(x), 7);
  const Array xv = Array::from({1, 2}), yv = Array::from({3, 4, 5});
  std::vector<Array> taken = run_every_mode({a, b, x, y}, {both[0], both[1], number}, {Array::scalar(1), Array::scalar(2), xv, yv});
  EXPECT_TRUE(arrays_close(taken[0], Array::from({2, 4})));
  EXPECT_TRUE(arrays_close(taken[1], Array::scalar(3)));
  EXPECT_TRUE(arrays_close(taken[2], Array::scalar(7)));
  std::vector<Array> other = run_every_mode({a, b, x, y}, {both[0], both[1], number}, {Array::scalar(2), Array::scalar(1), xv, yv});
  EXPECT_TRUE(arrays_close(other[0], Array::from({4, 5, 6})));
  EXPECT_TRUE(arrays_close(other[1], Array::scalar(120)));
  EXPECT_TRUE(arrays_close(other[2], Array::scalar(3)));
}

TEST(IfElse, TheBranchNotTakenNeverRuns) {
  // x[5] on a 2-element x fails when it runs: only the taken branch may run it. Nested ifelse too.
  Variable c = scalar("c"), d = scalar("d"), x = vector("x");
  Variable out = ifelse(c, exp(x[{5}]) * 2.0, ifelse(d, sum(x), log(x[{7}])));
  for (Mode mode : {Mode::Unoptimized, Mode::FastCompile, Mode::FastRun}) {
    FunctionOptions options;
    options.mode = mode;
    Function f = function({c, d, x}, {out}, {}, {}, options);
    const Array xv = Array::from({1, 2});
    EXPECT_TRUE(arrays_close(f({Array::scalar(0), Array::scalar(1), xv})[0], Array::scalar(3)));
    EXPECT_TRUE(throws_with<IndexError>([&] { f({Array::scalar(1), Array::scalar(1), xv}); }, {"5"}));
    EXPECT_TRUE(throws_with<IndexError>([&] { f({Array::scalar(0), Array::scalar(0), xv}); }, {"7"}));
  }
}

TEST(IfElse, GradientsFlowToTheBranchTaken) {
  for (double c : {0.0, 1.0})
    expect_grad_ok(
        [c](const std::vector<Variable>& v) {
          std::vector<Variable> out = ifelse(constant(c) + 0.0 * sum(v[1]) > 0.5, {sum(exp(v[0])), v[0] * 3.0},
                                             {sum(v[1] * v[1]), v[1][{slice(0, 2)}]});
          return out[0] + sum(out[1] * out[1]);
        },
        {Array::from({0.1, 0.2}), Array::from({0.3, -0.4, 0.5})});
  Variable c = scalar("c"), x = vector("x");
  std::vector<Variable> g = grad(sum(ifelse(c, x * x, x * 3.0)), std::vector<Variable>{x});
  std::vector<Array> got = run_every_mode({c, x}, g, {Array::scalar(1), Array::from({1, 2})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({2, 4})));
  got = run_every_mode({c, x}, g, {Array::scalar(0), Array::from({1, 2})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({3, 3})));
}

TEST(IfElse, InsideScan) {
  // Collatz-like: halve even numbers, else 3x+1 (on floats), lazily per step.
  Variable x0 = scalar("x0");
  ScanOptions six;
  six.n_steps = 6;
  ScanResult walk = scan(
      [](const std::vector<Variable>& a) {
        Variable x = a[0];
        return ScanStep(ifelse(eq(x - 2.0 * floor(x / 2.0), 0.0), x / 2.0, 3.0 * x + 1.0));
      },
      {}, {OutputInfo(x0)}, {}, six);
  std::vector<Array> got = run_every_mode({x0}, {walk[0]}, {Array::scalar(6)});
  EXPECT_TRUE(arrays_close(got[0], Array::from({3, 10, 5, 16, 8, 4})));
}

TEST(IfElse, AConstantConditionLeavesOnlyItsBranch) {
  Variable x = vector("x");
  Function f = function({x}, {ifelse(constant(1.0), exp(x), log(x))});
  EXPECT_THAT(f.debugprint(), ::testing::Not(::testing::HasSubstr("if_else")));
  EXPECT_THAT(f.debugprint(), ::testing::Not(::testing::HasSubstr("log")));
  EXPECT_TRUE(arrays_close(f({Array::from({0, 1})})[0], Array::from({1, std::exp(1.0)})));
}

TEST(IfElse, AConstantConditionKeepsHowTheOutputBroadcasts) {
  // The then branch has a static size 1 the else branch lacks: the output cannot become it.
  Variable r = vector("r"), m = matrix("m");
  Variable out = ifelse(constant(1.0), expand_dims(r, 0), m) * 2.0;
  std::vector<Array> got = run_every_mode({r, m}, {out}, {Array::from({1, 2}), Array::from({{1, 1}, {2, 2}})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({{2, 4}})));
}

TEST(IfElse, ErrorsNameTheMismatch) {
  Variable x = vector("x"), y = vector("y", DType::Float32), m = matrix("m");
  EXPECT_TRUE(throws_with<TypeError>([&] { ifelse(x, x, x); }, {"[ifelse]", "condition must be a scalar", "float64(?,)"}));
  EXPECT_TRUE(throws_with<TypeError>([&] { ifelse(sum(x), x, y); }, {"[ifelse]", "float64(?,)", "float32(?,)", "test_ifelse.cpp"}));
  EXPECT_TRUE(throws_with<TypeError>([&] { ifelse(sum(x), x, m); }, {"number of dimensions"}));
  EXPECT_TRUE(throws_with<ValueError>([&] { ifelse(sum(x), std::vector<Variable>{x, x}, std::vector<Variable>{x}); },
                                      {"2 outputs", "else branch 1"}));
}

}  // namespace
}  // namespace hypatia
