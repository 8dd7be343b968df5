// Compiled functions: inputs, outputs, updates, givens and their errors.
#include "test_util.h"

namespace hp = hypatia;
using hp::testing::arrays_close;
using hp::testing::throws_with;

TEST(Function, ComputesOutputs) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto f = hp::function({x, y}, {x + y, x * y});
  auto out = f({hp::Array::from({1, 2}), hp::Array::from({3, 4})});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(arrays_close(out[0], hp::Array::from({4, 6})));
  EXPECT_TRUE(arrays_close(out[1], hp::Array::from({3, 8})));
}

TEST(Function, UpdatesUseTheValuesFromBeforeTheCall) {
  auto a = hp::shared(hp::Array::from({1.0}), "a");
  auto b = hp::shared(hp::Array::from({10.0}), "b");
  // Swap through updates: both right-hand sides read the old values.
  auto f = hp::function({}, {a + b}, {{a, hp::Variable(b)}, {b, hp::Variable(a)}});
  auto out = f({});
  EXPECT_EQ(out[0].get_as_double(0), 11.0);
  EXPECT_EQ(a.get_value().get_as_double(0), 10.0);
  EXPECT_EQ(b.get_value().get_as_double(0), 1.0);
}

TEST(Function, AccumulatorUpdatesAcrossCalls) {
  auto state = hp::shared(hp::Array::scalar(0.0), "state");
  auto inc = hp::scalar("inc");
  auto accumulate = hp::function({inc}, {state}, {{state, state + inc}});
  EXPECT_EQ(accumulate({hp::Array::scalar(1.0)})[0].item(), 0.0);
  EXPECT_EQ(accumulate({hp::Array::scalar(10.0)})[0].item(), 1.0);
  EXPECT_EQ(state.get_value().item(), 11.0);
}

TEST(Function, FailedCallChangesNoSharedVariable) {
  auto w = hp::shared(hp::Array::from({1.0, 2.0}), "w");
  auto c = hp::shared(hp::Array::from({5.0}), "c");
  auto x = hp::vector("x");
  // The first update is fine; the output fails at run time when x has the wrong length.
  auto f = hp::function({x}, {x + w}, {{c, c + 1.0}, {w, w * 2.0}});
  EXPECT_THROW(f({hp::Array::from({1.0, 2.0, 3.0})}), hp::ShapeError);
  EXPECT_TRUE(arrays_close(w.get_value(), hp::Array::from({1.0, 2.0})));
  EXPECT_TRUE(arrays_close(c.get_value(), hp::Array::from({5.0})));
  f({hp::Array::from({1.0, 1.0})});
  EXPECT_TRUE(arrays_close(w.get_value(), hp::Array::from({2.0, 4.0})));
  EXPECT_TRUE(arrays_close(c.get_value(), hp::Array::from({6.0})));
}

TEST(Function, GivensReplaceVariables) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto data = hp::shared(hp::Array::from({1.0, 2.0, 3.0}), "data");
  auto f = hp::function({y}, {x * y}, {}, {{x, hp::Variable(data)}});
  EXPECT_TRUE(arrays_close(f({hp::Array::from({2.0, 2.0, 2.0})})[0], hp::Array::from({2.0, 4.0, 6.0})));
}

TEST(Function, OutputsNeverAliasSharedOrInputMemory) {
  auto s = hp::shared(hp::Array::from({1.0, 2.0}), "s");
  auto x = hp::vector("x");
  auto f = hp::function({x}, {hp::Variable(s), x});
  hp::Array input = hp::Array::from({7.0});
  auto out = f({input});
  out[0].set_from_double(0, 100.0);
  out[1].set_from_double(0, 100.0);
  EXPECT_EQ(s.get_value().get_as_double(0), 1.0);
  EXPECT_EQ(input.get_as_double(0), 7.0);
}

TEST(Function, AcceptsLosslessInputConversions) {
  auto x = hp::vector("x");
  auto f = hp::function({x}, {x * 2.0});
  EXPECT_TRUE(arrays_close(f({hp::Array::from_vector<int32_t>({1, 2})})[0], hp::Array::from({2.0, 4.0})));
  auto i = hp::vector("i", hp::DType::Int32);
  auto g = hp::function({i}, {i + 1});
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { g({hp::Array::from({1.5})}); },
                                         {"[function]", "input 0", "'i'", "int32(?,)", "float64(1,)"}));
}

TEST(Function, ChecksInputCountAndShapes) {
  auto x = hp::tensor(hp::DType::Float64, {-1, 3}, "x");
  auto f = hp::function({x}, {x * 2.0});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({}); }, {"[function] expected 1 inputs, got 0"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { f({hp::Array::zeros({2, 4})}); },
                                         {"input 0", "'x'", "float64(?, 3)", "float64(2, 4)", "test_function.cpp"}));
}

TEST(Function, MissingInputIsNamedWithItsPath) {
  auto x = hp::vector("x"), hidden = hp::vector("hidden");
  auto out = hp::tanh(x + hidden);
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {out}); },
                                          {"[function]", "'hidden'", "not in the inputs", "add -> tanh -> output 0",
                                           "test_function.cpp"}));
}

TEST(Function, RefusesBadInputsAndUpdates) {
  auto x = hp::vector("x");
  auto s = hp::shared(hp::Array::from({1.0}), "s");
  auto s32 = hp::shared(hp::Array::from({1.0}, hp::DType::Float32), "s32");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x, x}, {x}); }, {"listed twice"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({hp::exp(x)}, {x}); }, {"must be root variables"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::function({s}, {x}); }, {"shared variable", "'s'"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::function({x}, {x}, {{s32, s32 + x}}); },
                                          {"update of 's32'", "float64", "float32", "use cast"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x}, {{s, s + x}, {s, s - x}}); },
                                          {"updated twice"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {hp::Variable()}); }, {"null Variable"}));
}

TEST(Function, RuntimeErrorsNameTheOpAndWhereItWasBuilt) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto f = hp::function({x, y}, {x + y});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({hp::Array::zeros({2}), hp::Array::zeros({3})}); },
                                          {"[add]", "(2,)", "(3,)", "node built at test_function.cpp"}));
}

TEST(Function, EvalEvaluatesOnce) {
  auto x = hp::scalar("x");
  EXPECT_EQ(hp::eval(x * x + 1.0, {{x, hp::Array::scalar(3.0)}}).item(), 10.0);
  EXPECT_EQ(hp::eval(hp::constant(2.0) * 4.0).item(), 8.0);
}

TEST(Function, DebugprintShowsTheCompiledGraph) {
  auto x = hp::vector("x");
  auto f = hp::function({x}, {hp::exp(x)});
  EXPECT_NE(f.debugprint().find("exp"), std::string::npos);
}

TEST(Function, GivensCanReplaceAnIntermediate) {
  auto x = hp::vector("x");
  auto hidden = hp::exp(x);
  auto out = hidden * 2.0;
  auto y = hp::vector("y");
  // Replacing exp(x) by y cuts x out of the graph.
  auto f = hp::function({y}, {out}, {}, {{hidden, y}});
  EXPECT_TRUE(arrays_close(f({hp::Array::from({1.0, 3.0})})[0], hp::Array::from({2.0, 6.0})));
}

TEST(Function, UpdatesWithoutOutputsAndRepeatedOutputs) {
  auto counter = hp::shared(hp::Array::scalar(0.0, hp::DType::Int64), "counter");
  auto tick = hp::function({}, {}, {{counter, counter + 1}});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(tick({}).empty());
  EXPECT_EQ(counter.get_value().item(), 3);
  auto x = hp::vector("x");
  auto y = x * 2.0;
  auto out = hp::function({x}, {y, y})({hp::Array::from({1.0})});
  out[0].set_from_double(0, 100.0);
  EXPECT_EQ(out[1].get_as_double(0), 2.0);  // the two outputs do not share memory
}

TEST(Function, SharedValuesChangedBySetValueAreSeen) {
  auto w = hp::shared(hp::Array::from({1.0}), "w");
  auto x = hp::vector("x");
  auto f = hp::function({x}, {x * w});
  EXPECT_EQ(f({hp::Array::from({3.0})})[0].item(), 3.0);
  w.set_value(hp::Array::from({5.0}));
  EXPECT_EQ(f({hp::Array::from({3.0})})[0].item(), 15.0);
}

TEST(Function, UpdateMustKeepTheRank) {
  auto s = hp::shared(hp::Array::from({1.0, 2.0}), "s");
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::function({}, {}, {{s, hp::sum(s)}}); },
                                          {"update of 's'", "float64()", "expected float64(?,)"}));
}

TEST(Function, UnusedInputsRaiseUnlessAllowed) {
  auto x = hp::vector("x"), unused = hp::vector("unused");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x, unused}, {x * 2.0}); },
                                          {"[function] input 1 'unused'", "not used by any output or update", "test_function.cpp"}));
  auto f = hp::function({x, unused}, {x * 2.0}, {}, {}, {.on_unused_input = hp::UnusedInput::Ignore});
  EXPECT_EQ(f({hp::Array::from({1.0}), hp::Array::from({5.0})})[0].item(), 2.0);
  static std::vector<std::string> warnings;
  hp::set_warning_handler([](const std::string& message) { warnings.push_back(message); });
  EXPECT_NO_THROW(hp::function({x, unused}, {x}, {}, {}, {.on_unused_input = hp::UnusedInput::Warn}));
  hp::set_warning_handler(nullptr);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("[function] input 1 'unused'"));
  // An input read only by an update counts as used.
  auto s = hp::shared(hp::Array::from({0.0}), "s");
  EXPECT_NO_THROW(hp::function({unused}, {}, {{s, s + unused}}));
}

// FunctionOptions::node_monitor (Theano's MonitorMode) sees every step before and after it runs.
TEST(Function, NodeMonitorSeesEveryStepAndItsValues) {
  auto x = hp::vector("x");
  std::vector<std::string> seen;
  hp::FunctionOptions options;
  options.node_monitor = [&](size_t index, const hp::Apply& node, std::span<const hp::Array> inputs,
                             std::span<const hp::Array> outputs, bool after) {
    seen.push_back(std::to_string(index) + (after ? " after " : " before ") + node.op().name() + " " +
                   std::to_string(inputs.size()) + " " + std::to_string(outputs.size()));
    if (after) EXPECT_DOUBLE_EQ(outputs[0].at<double>({1}), 2.0 * std::exp(1.0));
  };
  auto f = hp::function({x}, {hp::exp(x) * 2.0}, {}, {}, options);
  f({hp::Array::from({0.0, 1.0})});
  ASSERT_EQ(seen.size(), 2u);  // one fused step
  EXPECT_EQ(seen[0].substr(0, 9), "0 before ");
  EXPECT_EQ(seen[1].substr(0, 8), "0 after ");
}
