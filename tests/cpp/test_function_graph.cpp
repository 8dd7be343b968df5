// FunctionGraph: a private copy with clients, and the replace edit rewrites are built on.
#include "ir/function_graph.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::testing::arrays_close;
using hp::testing::throws_with;

TEST(FunctionGraph, CopiesTheGraphAndKnowsClients) {
  auto x = hp::vector("x");
  auto e = hp::exp(x);
  auto out = e * e + x;
  hp::FunctionGraph graph({x}, {out});
  ASSERT_EQ(graph.nodes().size(), 3u);
  EXPECT_NE(graph.outputs()[0].owner().get(), out.owner().get());  // a copy
  EXPECT_EQ(graph.clients(x).size(), 2u);                         // exp and add read x
  const hp::Variable copied_exp = graph.nodes()[0]->output(0);
  EXPECT_EQ(graph.clients(copied_exp).size(), 2u);  // both inputs of mul
  EXPECT_EQ(graph.clients(graph.outputs()[0]).size(), 1u);
  EXPECT_EQ(graph.clients(graph.outputs()[0])[0].node, nullptr);  // an output
  EXPECT_EQ(graph.roots().size(), 1u);
}

TEST(FunctionGraph, ReplaceRewiresClientsAndOutputs) {
  auto x = hp::vector("x");
  auto out = hp::exp(x) * 2.0;
  hp::FunctionGraph graph({x}, {out});
  hp::Variable copied_exp = graph.nodes()[0]->output(0);
  ASSERT_EQ(copied_exp.owner()->op().name(), "exp");
  graph.replace(copied_exp, hp::sqr(x));  // exp(x) * 2 becomes sqr(x) * 2
  std::vector<std::string> names;
  for (const auto& node : graph.nodes()) names.push_back(node->op().name());
  EXPECT_EQ(names, (std::vector<std::string>{"sqr", "dimshuffle", "mul"}));
  EXPECT_TRUE(arrays_close(hp::eval(graph.outputs()[0], {{x, Array::from({3.0})}}), Array::from({18.0})));
  // The user's graph is untouched.
  EXPECT_TRUE(arrays_close(hp::eval(out, {{x, Array::from({0.0})}}), Array::from({2.0})));
  graph.replace(graph.outputs()[0], x);  // an output can be replaced too
  EXPECT_TRUE(graph.outputs()[0].is(x));
  EXPECT_TRUE(graph.nodes().empty());
}

TEST(FunctionGraph, ReplaceChecksTypes) {
  auto x = hp::vector("x");
  hp::FunctionGraph graph({x}, {hp::exp(x)});
  hp::Variable e = graph.outputs()[0];
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { graph.replace(e, hp::matrix("m")); }, {"[function_graph] cannot replace", "float64(?, ?)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { graph.replace(e, hp::vector("i", hp::DType::Int32)); }, {"int32(?,)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { graph.replace(e, hp::tensor(hp::DType::Float64, {1})); }, {"float64(1,)"}));
}

TEST(FunctionGraph, GivenGraphsAreCopiedToo) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto user_expression = y * 3.0;
  hp::FunctionGraph graph({y}, {x + 1.0}, {{x, user_expression}});
  ASSERT_EQ(graph.nodes().size(), 4u);  // mul and add, each with the dimshuffle of its scalar
  for (const auto& node : graph.nodes()) EXPECT_NE(node.get(), user_expression.owner().get());
}
