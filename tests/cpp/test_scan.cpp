// scan, map, reduce, foldl, foldr: values against loops written by hand, every mode against the
// unoptimized graph, gradients against finite differences, and the errors users meet.
#include "ops/scan.h"

#include <cmath>

#include "test_util.h"

namespace hypatia {
namespace {

using testing::arrays_close;
using testing::expect_grad_ok;
using testing::run_every_mode;
using testing::throws_with;

TEST(Scan, CumulativeSumAndElmanStepMatchLoopsWrittenByHand) {
  Variable x = matrix("x"), h0 = vector("h0"), w = matrix("w");
  ScanResult cumulative = scan([](const std::vector<Variable>& a) { return ScanStep(a[0] + a[1]); }, {x}, {h0});
  ScanResult elman = scan([](const std::vector<Variable>& a) { return ScanStep(tanh(a[0] + dot(a[1], a[2]))); }, {x},
                          {h0}, {w});
  Array xv = Array::from({{1, 2}, {3, 4}, {5, 6}}), h0v = Array::from({0.5, -1}), wv = Array::from({{0.1, 0.2}, {-0.3, 0.4}});
  std::vector<Array> got = run_every_mode({x, h0, w}, {cumulative[0], elman[0]}, {xv, h0v, wv});
  EXPECT_TRUE(arrays_close(got[0], Array::from({{1.5, 1}, {4.5, 5}, {9.5, 11}})));
  std::vector<double> h{0.5, -1};
  Array expected = Array::zeros({3, 2});
  for (int t = 0; t < 3; ++t) {
    std::vector<double> next(2);
    for (int j = 0; j < 2; ++j)
      next[j] = std::tanh(xv.at<double>({t, j}) + h[0] * wv.at<double>({0, j}) + h[1] * wv.at<double>({1, j}));
    h = next;
    for (int j = 0; j < 2; ++j) expected.set<double>({t, j}, h[j]);
  }
  EXPECT_TRUE(arrays_close(got[1], expected, 1e-12));
}

TEST(Scan, TapsOfSequencesAndOutputsReachBackAndForward) {
  // Sequence taps {-1, 0, 1}: step i sees x[i], x[i+1], x[i+2]; Fibonacci reads the output 2 steps back.
  Variable x = vector("x"), f0 = vector("f0");
  ScanResult window = scan([](const std::vector<Variable>& a) { return ScanStep(a[0] - 2.0 * a[1] + a[2]); },
                           {Sequence(x, {-1, 0, 1})}, {OutputInfo()});
  ScanOptions five;
  five.n_steps = 5;
  ScanResult fibonacci = scan([](const std::vector<Variable>& a) { return ScanStep(a[0] + a[1]); }, {},
                              {OutputInfo(f0, {-2, -1})}, {}, five);
  std::vector<Array> got = run_every_mode({x, f0}, {window[0], fibonacci[0]}, {Array::from({1, 4, 9, 16, 25}), Array::from({0, 1})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({2, 2, 2})));
  EXPECT_TRUE(arrays_close(got[1], Array::from({1, 2, 3, 5, 8})));
}

TEST(Scan, OutputsNotFedBackAndNStepsAlone) {
  Variable a = scalar("a"), x = vector("x");
  ScanOptions four;
  four.n_steps = 4;
  // Powers of a: state times a, plus a collected output (not fed back) of the state plus one.
  ScanResult powers = scan(
      [&](const std::vector<Variable>& s) { return ScanStep({s[0] * a, s[0] + 1.0}); }, {},
      {OutputInfo(ones_like(a)), OutputInfo()}, {}, four);
  ScanResult squares = map([](const std::vector<Variable>& s) { return ScanStep(s[0] * s[0]); }, {x});
  std::vector<Array> got = run_every_mode({a, x}, {powers[0], powers[1], squares[0]}, {Array::scalar(3), Array::from({1, -2})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({3, 9, 27, 81})));
  EXPECT_TRUE(arrays_close(got[1], Array::from({2, 4, 10, 28})));
  EXPECT_TRUE(arrays_close(got[2], Array::from({1, 4})));
}

TEST(Scan, GoBackwardsReduceFoldlAndFoldr) {
  Variable x = vector("x"), zero = scalar("zero");
  ScanOptions backwards;
  backwards.go_backwards = true;
  auto running = [](const std::vector<Variable>& a) { return ScanStep(a[0] + 10.0 * a[1]); };
  ScanResult reverse = scan(running, {x}, {OutputInfo(zero)}, {}, backwards);
  ScanResult left = foldl(running, {x}, {OutputInfo(zero)});
  ScanResult right = foldr(running, {x}, {OutputInfo(zero)});
  ScanResult total = reduce([](const std::vector<Variable>& a) { return ScanStep(a[0] + a[1]); }, {x}, {OutputInfo(zero)});
  std::vector<Array> got = run_every_mode({x, zero}, {reverse[0], left[0], right[0], total[0]},
                                          {Array::from({1, 2, 3}), Array::scalar(0)});
  EXPECT_TRUE(arrays_close(got[0], Array::from({3, 32, 321})));
  EXPECT_TRUE(arrays_close(got[1], Array::scalar(123)));
  EXPECT_TRUE(arrays_close(got[2], Array::scalar(321)));
  EXPECT_TRUE(arrays_close(got[3], Array::scalar(6)));
  // reduce keeps only the rows its taps need, not one per step.
  const auto& node = *total[0].owner()->input(0).owner();
  EXPECT_EQ(static_cast<const Scan&>(node.op()).layout().keep, std::vector<int64_t>{1});
}

TEST(Scan, ZeroStepsGiveEmptyOutputsAndTheInitialState) {
  Variable x = vector("x"), zero = scalar("zero");
  ScanResult sums = scan([](const std::vector<Variable>& a) { return ScanStep({a[0] + a[1], a[0] * 2.0}); }, {x},
                         {OutputInfo(zero), OutputInfo()});
  ScanResult total = reduce([](const std::vector<Variable>& a) { return ScanStep(a[0] + a[1]); }, {x}, {OutputInfo(zero)});
  std::vector<Array> got = run_every_mode({x, zero}, {sums[0], sums[1], total[0]}, {Array::zeros({0}), Array::scalar(7)});
  EXPECT_EQ(got[0].shape(), Shape{0});
  EXPECT_EQ(got[1].shape(), Shape{0});
  EXPECT_TRUE(arrays_close(got[2], Array::scalar(7)));
}

TEST(Scan, ZeroStepsKeepTheStepShapeAndGradientsWork) {
  // NumPy's answer for an empty map over rows of 3: shape (0, 3); the gradient is an empty (0, 3) too.
  Variable x = matrix("x"), h0 = vector("h0");
  ScanResult doubled = map([](const std::vector<Variable>& a) { return ScanStep(a[0] * 2.0); }, {x});
  ScanResult h = scan([](const std::vector<Variable>& a) { return ScanStep(tanh(a[0] + a[1])); }, {x}, {OutputInfo(h0)});
  Variable gx = grad(sum(h[0]) + sum(doubled[0]), x);
  std::vector<Array> got = run_every_mode({x, h0}, {doubled[0], gx}, {Array::zeros({0, 3}), Array::zeros({3})});
  EXPECT_EQ(got[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(got[1].shape(), (Shape{0, 3}));
  // The last state of a loop that ran no step is an error in every mode (the kept rows do not hide it).
  ScanOptions none;
  none.n_steps = Operand(scalar("n", DType::Int64));
  ScanResult counted = scan([](const std::vector<Variable>& a) { return ScanStep(a[0] + 1.0); }, {}, {OutputInfo(h0)}, {}, none);
  for (Mode mode : {Mode::Unoptimized, Mode::FastRun}) {
    FunctionOptions options;
    options.mode = mode;
    Function last = function({h0, none.n_steps->variable()}, {counted[0][{-1}]}, {}, {}, options);
    EXPECT_TRUE(arrays_close(last({Array::zeros({2}), Array::scalar(3, DType::Int64)})[0], Array::from({3, 3})));
    EXPECT_TRUE(throws_with<IndexError>([&] { last({Array::zeros({2}), Array::scalar(0, DType::Int64)}); }, {"-1"}));
  }
}

TEST(Scan, StrictAcceptsExpressionsOfWhatItWasGiven) {
  Variable x = matrix("x"), h0 = vector("h0"), w = matrix("w");
  ScanOptions strict;
  strict.strict = true;
  ScanResult h = scan([](const std::vector<Variable>& a) { return ScanStep(tanh(a[0] + dot(a[1], a[2] * 2.0))); }, {x},
                      {OutputInfo(h0)}, {transpose(w)}, strict);
  std::vector<Array> got = run_every_mode({x, h0, w}, {h[0]}, {Array::zeros({1, 2}), Array::from({1, 0}),
                                                           Array::from({{0.5, 0}, {0.25, 0}})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({{std::tanh(1.0), std::tanh(0.5)}})));
}

TEST(Scan, SharedVariablesUpdatedInsideTheLoopAdvanceThroughItsUpdates) {
  SharedVariable counter = shared(Array::scalar(0), "counter");
  Variable x = vector("x");
  ScanResult running = scan(
      [&](const std::vector<Variable>& a) { return ScanStep({a[0] * counter}, {{counter, counter + 1.0}}); }, {x}, {OutputInfo()});
  ASSERT_EQ(running.updates.size(), 1u);
  Function f = function({x}, {running[0]}, running.updates);
  EXPECT_TRUE(arrays_close(f({Array::from({5, 5, 5})})[0], Array::from({0, 5, 10})));
  EXPECT_TRUE(arrays_close(counter.get_value(), Array::scalar(3)));
  EXPECT_TRUE(arrays_close(f({Array::from({1, 1})})[0], Array::from({3, 4})));

  // A random stream drawn inside fn gives every step its own numbers, and the loop advances its state.
  RandomStream stream(7);
  ScanOptions three;
  three.n_steps = 3;
  ScanResult draws = scan([&](const std::vector<Variable>&) { return ScanStep(stream.uniform({2})); }, {}, {OutputInfo()}, {}, three);
  ASSERT_EQ(draws.updates.size(), 1u);
  Function g = function({}, {draws[0]}, draws.updates);
  Array first = g({})[0], second = g({})[0];
  EXPECT_EQ(first.shape(), (Shape{3, 2}));
  EXPECT_FALSE(first.index(0, 0).equals(first.index(0, 1)));
  EXPECT_FALSE(first.equals(second));
  // Theano's rule for a draw made before the loop: read by fn, it is drawn anew at every step; passed
  // as a non-sequence, it is one value for the whole loop.
  Variable before = stream.uniform({2});
  ScanResult reads = scan([&](const std::vector<Variable>&) { return ScanStep(before * 1.0); }, {}, {OutputInfo()}, {}, three);
  ASSERT_EQ(reads.updates.size(), 1u);
  Array fresh = function({}, {reads[0]}, reads.updates)({})[0];
  EXPECT_FALSE(fresh.index(0, 0).equals(fresh.index(0, 2)));
  ScanResult frozen = scan([&](const std::vector<Variable>& a) { return ScanStep(a[0] * 1.0); }, {}, {OutputInfo()}, {before}, three);
  EXPECT_TRUE(frozen.updates.empty());
  Array same = function({}, {frozen[0]})({})[0];
  EXPECT_TRUE(same.index(0, 0).equals(same.index(0, 2)));
}

TEST(Scan, GradientsMatchFiniteDifferences) {
  Array xv = Array::from({{0.3, -0.2}, {0.1, 0.5}, {-0.4, 0.2}, {0.6, 0.1}});
  Array h0v = Array::from({0.1, -0.3}), wv = Array::from({{0.5, -0.4}, {0.3, 0.8}});
  // Elman network: gradients for the sequence, the initial state and the weights.
  expect_grad_ok(
      [](const std::vector<Variable>& v) {
        ScanResult h = scan([](const std::vector<Variable>& a) { return ScanStep(tanh(a[0] + dot(a[1], a[2]))); }, {v[0]},
                            {OutputInfo(v[1])}, {v[2]});
        return sum(h[0] * h[0]);
      },
      {xv, h0v, wv});
  // Taps back two steps, sequence taps, an output not fed back, and the weights read as a closure.
  Array f0v = Array::from({{0.2, 0.1}, {-0.1, 0.3}});
  expect_grad_ok(
      [](const std::vector<Variable>& v) {
        Variable w = v[2];
        ScanResult out = scan(
            [&](const std::vector<Variable>& a) {
              Variable next = tanh(a[0] * a[1] + dot(a[2], w) - 0.5 * a[3]);
              return ScanStep({next, next * a[1]});
            },
            {Sequence(v[0], {-1, 0})}, {OutputInfo(v[1], {-2, -1}), OutputInfo()});
        return sum(out[0]) + sum(out[1] * out[1]);
      },
      {xv, f0v, wv});
  // go_backwards, reduce (only the last state kept) and an integer n_steps.
  expect_grad_ok(
      [](const std::vector<Variable>& v) {
        ScanOptions backwards;
        backwards.go_backwards = true;
        ScanResult out = reduce([](const std::vector<Variable>& a) { return ScanStep(sin(a[1] * a[0] + a[2])); }, {v[0]},
                                {OutputInfo(v[1])}, {v[2]}, backwards);
        return sum(out[0]);
      },
      {xv, h0v, Array::from({0.2, -0.1})});
}

TEST(Scan, TruncatedGradientsStopAfterTheLastSteps) {
  // h_t = a * h_{t-1} + x_t, cost = h_T: dcost/dx_t = a^(T-1-t); truncated after 2 steps only the last
  // two entries remain, and the initial state gets nothing.
  Variable x = vector("x"), h0 = scalar("h0"), a = scalar("a");
  ScanOptions truncated;
  truncated.truncate_gradient = 2;
  ScanResult h = scan([&](const std::vector<Variable>& s) { return ScanStep(a * s[1] + s[0]); }, {x}, {OutputInfo(h0)}, {}, truncated);
  Variable cost = h[0][{-1}];
  std::vector<Variable> g = grad(cost, {x, h0});
  std::vector<Array> got = run_every_mode({x, h0, a}, g, {Array::from({1, 2, 3, 4}), Array::scalar(1), Array::scalar(3)});
  EXPECT_TRUE(arrays_close(got[0], Array::from({0, 0, 3, 1})));
  EXPECT_TRUE(arrays_close(got[1], Array::scalar(0)));
  ScanResult full = scan([&](const std::vector<Variable>& s) { return ScanStep(a * s[1] + s[0]); }, {x}, {OutputInfo(h0)});
  std::vector<Variable> g_full = grad(full[0][{-1}], {x, h0});
  got = run_every_mode({x, h0, a}, g_full, {Array::from({1, 2, 3, 4}), Array::scalar(1), Array::scalar(3)});
  EXPECT_TRUE(arrays_close(got[0], Array::from({27, 9, 3, 1})));
  EXPECT_TRUE(arrays_close(got[1], Array::scalar(81)));
}

TEST(Scan, ScanInsideScanAndItsGradient) {
  // Each row of x is summed by an inner loop; the outer loop accumulates the products with a weight.
  auto build = [](const std::vector<Variable>& v) {
    ScanResult outer = scan(
        [&](const std::vector<Variable>& a) {
          ScanResult inner = reduce([](const std::vector<Variable>& b) { return ScanStep(b[1] + tanh(b[0] * b[2])); }, {a[0]},
                                    {OutputInfo(zeros_like(a[1]))}, {v[1]});
          return ScanStep(a[1] * 0.5 + inner[0]);
        },
        {v[0]}, {OutputInfo(zeros_like(v[1]))});
    return outer[0];
  };
  Variable x = matrix("x"), w = scalar("w");
  Array xv = Array::from({{0.1, 0.2, 0.3}, {0.4, -0.5, 0.6}}), wv = Array::scalar(0.7);
  Array got = run_every_mode({x, w}, {build({x, w})}, {xv, wv})[0];
  double state = 0;
  std::vector<double> expected;
  for (int i = 0; i < 2; ++i) {
    double inner = 0;
    for (int j = 0; j < 3; ++j) inner += std::tanh(xv.at<double>({i, j}) * 0.7);
    state = state * 0.5 + inner;
    expected.push_back(state);
  }
  EXPECT_TRUE(arrays_close(got, Array::from({expected[0], expected[1]})));
  expect_grad_ok([&](const std::vector<Variable>& v) { return sum(build(v)); }, {xv, wv});
}

TEST(Scan, DebugprintShowsTheInnerGraphAsBuiltAndAsCompiled) {
  Variable x = matrix("x"), h0 = vector("h0");
  ScanResult h = scan([](const std::vector<Variable>& a) { return ScanStep(tanh(a[0] * 1.0 + a[1])); }, {x}, {OutputInfo(h0)});
  const std::string built = debugprint(h[0]);
  EXPECT_THAT(built, ::testing::HasSubstr("Inner graphs:"));
  EXPECT_THAT(built, ::testing::HasSubstr("mul"));  // x * 1 as built
  const std::string compiled = function({x, h0}, {h[0]}).debugprint();
  EXPECT_THAT(compiled, ::testing::HasSubstr("Inner graphs:"));
  EXPECT_THAT(compiled, ::testing::HasSubstr("fused{tanh(add(i0, i1))}"));  // x * 1 rewritten away, then fused
}

TEST(Scan, CompiledLoopsComputeOnlyWhatIsRead) {
  // The last state only: the loop keeps the initial state and one row (so a loop of no step still
  // fails to give out[-1]); the unread output leaves the loop.
  Variable x = matrix("x"), h0 = vector("h0");
  ScanResult out = scan([](const std::vector<Variable>& a) { return ScanStep({a[0] + a[1], exp(a[0])}); }, {x},
                        {OutputInfo(h0), OutputInfo()});
  Variable last = out[0][{-1}];
  std::vector<Array> got = run_every_mode({x, h0}, {last}, {Array::from({{1, 2}, {3, 4}, {5, 6}}), Array::from({1, 1})});
  EXPECT_TRUE(arrays_close(got[0], Array::from({10, 13})));
  const std::string compiled = function({x, h0}, {last}).debugprint();
  EXPECT_THAT(compiled, ::testing::HasSubstr("[-1]keep2"));
  EXPECT_THAT(compiled, ::testing::HasSubstr("plain=0"));
  EXPECT_THAT(compiled, ::testing::Not(::testing::HasSubstr("exp")));
  // Read whole, the output keeps every row.
  EXPECT_THAT(function({x, h0}, {out[0], last}).debugprint(), ::testing::Not(::testing::HasSubstr("keep")));
}

TEST(Scan, ShapeInferenceOfTheOutputs) {
  Variable x = matrix("x"), h0 = vector("h0");
  ScanResult out = scan([](const std::vector<Variable>& a) { return ScanStep({a[0] + a[1], a[0] * 2.0}); }, {Sequence(x, {0, 2})},
                        {OutputInfo(h0), OutputInfo()});
  const std::vector<Array> values{Array::ones({5, 3}), Array::zeros({3})};
  testing::expect_infer_shape_ok({x, h0}, out[0].owner()->input(0), values);
  testing::expect_infer_shape_ok({x, h0}, out[1], values);
}

TEST(Scan, ErrorsNameTheLoopTheOutputAndTheShapes) {
  Variable x = matrix("x"), h0 = vector("h0"), h32 = vector("h32", DType::Float32);
  auto add = [](const std::vector<Variable>& a) { return ScanStep(a[0] + a[1]); };
  EXPECT_TRUE(throws_with<TypeError>([&] { scan(add, {x}, {OutputInfo(h32)}); }, {"[scan]", "output 0", "float32", "float64"}));
  EXPECT_TRUE(throws_with<ValueError>([&] { scan(add, {x}, {OutputInfo(h0), OutputInfo()}); },
                                      {"fn returned 1 outputs but outputs_info describes 2", "test_scan.cpp"}));
  EXPECT_TRUE(throws_with<ValueError>([&] { scan(add, {}, {OutputInfo(h0)}); }, {"n_steps must be given"}));
  Variable w = matrix("w");
  ScanOptions strict;
  strict.strict = true;
  EXPECT_TRUE(throws_with<ValueError>(
      [&] { scan([&](const std::vector<Variable>& a) { return ScanStep(dot(a[1], w)); }, {x}, {OutputInfo(h0)}, {}, strict); },
      {"strict", "'w'"}));
  // A step whose output changes shape, and sequences too short for n_steps: errors at run time.
  ScanResult growing = scan([](const std::vector<Variable>& a) { return ScanStep(concatenate({a[1], a[0][{slice(0, 1)}]})); },
                            {x}, {OutputInfo(h0)});
  Function f = function({x, h0}, {growing[0]});
  EXPECT_TRUE(throws_with<ShapeError>([&] { f({Array::ones({2, 2}), Array::zeros({2})}); }, {"[scan]", "step 0", "(3,)", "(2,)"}));
  ScanOptions ten;
  ten.n_steps = 10;
  ScanResult too_long = scan(add, {x}, {OutputInfo(h0)}, {}, ten);
  Function g = function({x, h0}, {too_long[0]});
  EXPECT_TRUE(throws_with<ValueError>([&] { g({Array::ones({2, 2}), Array::zeros({2})}); }, {"too short for n_steps=10", "float64(2, 2)"}));
  // An error inside a step names the step and where the failing node was built.
  ScanResult indexing = scan([](const std::vector<Variable>& a) { return ScanStep(a[1] + a[0][{5}]); }, {x}, {OutputInfo(h0[{0}])});
  Function h = function({x, h0}, {indexing[0]});
  EXPECT_TRUE(throws_with<IndexError>([&] { h({Array::ones({2, 2}), Array::zeros({2})}); }, {"[scan]", "step 0", "test_scan.cpp"}));
}

// Theano's until: the loop stops after the first step whose condition holds; n_steps bounds it.
TEST(Scan, UntilStopsTheLoopAfterTheConditionHolds) {
  Variable limit = scalar("limit"), start = scalar("start");
  ScanOptions bound;
  bound.n_steps = 100;
  ScanResult powers = scan(
      [&](const std::vector<Variable>& a) {
        Variable next = a[0] * 2.0;
        return ScanStep({next}, {}, gt(next, a[1]));
      },
      {}, {OutputInfo(start)}, {limit}, bound);
  Function f = function({limit, start}, {powers[0], powers[0][{-1}]});
  std::vector<Array> got = f({Array::scalar(45), Array::scalar(1)});
  EXPECT_TRUE(arrays_close(got[0], Array::from({2, 4, 8, 16, 32, 64})));
  EXPECT_EQ(got[1].item(), 64);
  EXPECT_EQ(f({Array::scalar(1e300), Array::scalar(1)})[0].shape(), (Shape{100}));  // never holds: every step runs
  // The gradient walks the steps that ran (Theano's as_while gradient): sum = (2 + 4 + ... + 64) * start.
  Function slope = function({limit, start}, {grad(sum(powers[0]), start)});
  EXPECT_DOUBLE_EQ(slope({Array::scalar(45), Array::scalar(1)})[0].item(), 126.0);
  EXPECT_DOUBLE_EQ(slope({Array::scalar(45), Array::scalar(3)})[0].item(), 2.0 + 4 + 8 + 16);  // stops at 48
}

}  // namespace
}  // namespace hypatia
