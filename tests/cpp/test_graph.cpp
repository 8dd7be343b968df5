// Types, variables, shared variables, Operand weak scalars, printing.
#include <cmath>
#include <sstream>

#include "test_util.h"

namespace hp = hypatia;
using hp::testing::arrays_close;
using hp::testing::throws_with;
using hp::Array;

TEST(TensorType, PrintsKnownAndUnknownDimensions) {
  EXPECT_EQ(hp::TensorType(hp::DType::Float64, {-1, 500}).str(), "float64(?, 500)");
  EXPECT_EQ(hp::TensorType(hp::DType::Int32, {3}).str(), "int32(3,)");
  EXPECT_EQ(hp::TensorType(hp::DType::Bool, {}).str(), "bool()");
}

TEST(TensorType, AcceptsArraysMatchingKnownDimensions) {
  hp::TensorType type(hp::DType::Float32, {-1, 3});
  EXPECT_TRUE(type.accepts(hp::Array::zeros({5, 3}, hp::DType::Float32)));
  EXPECT_FALSE(type.accepts(hp::Array::zeros({5, 4}, hp::DType::Float32)));
  EXPECT_FALSE(type.accepts(hp::Array::zeros({5, 3}, hp::DType::Float64)));
  EXPECT_FALSE(type.accepts(hp::Array::zeros({5}, hp::DType::Float32)));
}

TEST(Variable, DeclaredRootsHaveTheirTypes) {
  auto x = hp::matrix("x");
  EXPECT_EQ(x.type().str(), "float64(?, ?)");
  EXPECT_EQ(x.name(), "x");
  EXPECT_TRUE(x.is_root());
  EXPECT_EQ(hp::row("r", hp::DType::Float32).type().str(), "float32(1, ?)");
  EXPECT_EQ(hp::col().type().str(), "float64(?, 1)");
  EXPECT_EQ(hp::tensor3().ndim(), 3);
  EXPECT_EQ(hp::tensor4().ndim(), 4);
  EXPECT_EQ(hp::scalar("s", hp::DType::Int32).type().str(), "int32()");
}

TEST(Variable, ApplyOutputsKeepTheirGraphAlive) {
  hp::Variable y;
  {
    auto x = hp::vector("x");
    y = hp::exp(x) + 1.0;
  }
  auto owner = y.owner();
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->op().name(), "add");
  EXPECT_EQ(owner->input(0).owner()->op().name(), "exp");
  EXPECT_EQ(owner->input(0).owner()->input(0).name(), "x");
}

TEST(Variable, WeakScalarsTakeTheTensorsDtype) {
  auto f = hp::vector("f", hp::DType::Float32);
  auto i = hp::vector("i", hp::DType::Int8);
  EXPECT_EQ((f * 2.0).dtype(), hp::DType::Float32);
  EXPECT_EQ((2 * f).dtype(), hp::DType::Float32);
  EXPECT_EQ((i + 1).dtype(), hp::DType::Int8);
  EXPECT_EQ((i * 0.5).dtype(), hp::DType::Float64);
  EXPECT_EQ((i + 1000).dtype(), hp::DType::Int64);  // does not fit int8
}

TEST(SharedVariable, GetAndSetValueCopyUnlessBorrowed) {
  hp::Array value = hp::Array::from({1.0, 2.0});
  auto s = hp::shared(value, "s");
  value.set_from_double(0, 10.0);
  EXPECT_EQ(s.get_value().get_as_double(0), 1.0);  // the constructor copied
  hp::Array got = s.get_value();
  got.set_from_double(1, 20.0);
  EXPECT_EQ(s.get_value().get_as_double(1), 2.0);  // get_value copied
  hp::Array borrowed = s.get_value(/*borrow=*/true);
  borrowed.set_from_double(1, 30.0);
  EXPECT_EQ(s.get_value().get_as_double(1), 30.0);  // borrow aliases
  EXPECT_EQ(s.type().str(), "float64(?,)");  // shared shapes may change
  s.set_value(hp::Array::from({1.0, 2.0, 3.0}));
  EXPECT_EQ(s.get_value().size(), 3);
}

TEST(SharedVariable, SetValueRefusesAnotherType) {
  auto s = hp::shared(hp::Array::zeros({2}), "weights");
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { s.set_value(hp::Array::zeros({2}, hp::DType::Float32)); },
                                         {"[shared]", "weights", "float64(?,)", "float32(2,)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { s.set_value(hp::Array::zeros({2, 2})); }, {"[shared]", "float64(2, 2)"}));
}

TEST(Variable, NullVariableUseIsAnError) {
  hp::Variable null;
  EXPECT_FALSE(null);
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { (void)null.type(); }, {"[variable]", "null"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::exp(null); }, {"null Variable", "test_graph.cpp"}));
}

TEST(Constant, HoldsACopyOfItsValue) {
  hp::Array value = hp::Array::from({1.0, 2.0});
  auto c = hp::constant(value);
  value.set_from_double(0, 5.0);
  EXPECT_TRUE(c.is_constant());
  EXPECT_EQ(c.constant_value().get_as_double(0), 1.0);
  EXPECT_EQ(c.type().str(), "float64(2,)");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { (void)hp::vector("v").constant_value(); }, {"is not a constant"}));
}

TEST(Printing, DebugprintShowsTheTreeWithIdsAndTypes) {
  auto x = hp::matrix("x");
  auto w = hp::shared(hp::Array::zeros({3, 2}), "w");
  auto y = hp::tanh(x * w) + hp::tanh(x * w);
  std::string text = hp::debugprint(y);
  EXPECT_NE(text.find("add [id A] float64(?, ?)"), std::string::npos) << text;
  EXPECT_NE(text.find(" |tanh [id B] float64(?, ?)"), std::string::npos) << text;
  EXPECT_NE(text.find("x [id"), std::string::npos) << text;
  EXPECT_NE(text.find("w [shared]"), std::string::npos) << text;
}

TEST(Printing, DebugprintMarksSharedSubtrees) {
  auto x = hp::vector("x");
  auto t = hp::exp(x);
  std::string text = hp::debugprint(t * t);
  EXPECT_NE(text.find("(printed above)"), std::string::npos) << text;
}

TEST(Printing, ToDotEmitsGraphviz) {
  auto x = hp::vector("x");
  std::string dot = hp::to_dot(hp::exp(x) * 2.0);
  EXPECT_EQ(dot.rfind("digraph hypatia {", 0), 0u);
  EXPECT_NE(dot.find("label=\"exp\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("label=\"mul\""), std::string::npos) << dot;
  EXPECT_NE(dot.find("->"), std::string::npos);
}

TEST(Op, EqualOpsCompareEqualAndHashAlike) {
  auto x = hp::matrix("x");
  auto a = hp::sum(x, 1).owner();
  auto b = hp::sum(x, 1).owner();
  auto c = hp::sum(x, 0).owner();
  EXPECT_TRUE(a->op().equals(b->op()));
  EXPECT_EQ(a->op().hash(), b->op().hash());
  EXPECT_FALSE(a->op().equals(c->op()));
  EXPECT_FALSE(hp::exp(x).owner()->op().equals(hp::log(x).owner()->op()));
  EXPECT_EQ(c->op().str(), "sum{axis=(0,)}");
}

TEST(Variable, LongChainsAreFreedWithoutRecursion) {
  // A million nodes: releasing them recursively overflows the stack (it did before ~Apply queued them).
  auto x = hp::scalar("x");
  {
    hp::Variable y = x;
    for (int i = 0; i < 1000000; ++i) y = y + 1.0;
  }
  SUCCEED();
}

TEST(Variable, LongChainsCompileAndDifferentiate) {
  auto x = hp::scalar("x");
  hp::Variable y = x;
  for (int i = 0; i < 50000; ++i) y = y + 1.0;
  EXPECT_EQ(hp::eval(y, {{x, hp::Array::scalar(0.5)}}).item(), 50000.5);
  EXPECT_EQ(hp::eval(hp::grad(y, x), {{x, hp::Array::scalar(0.5)}}).item(), 1.0);
}

TEST(Graph, CloneReplaceCopiesAndSubstitutes) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto out = hp::exp(x) + x;
  auto replaced = hp::clone_replace({out}, {{x, y * 2.0}})[0];
  EXPECT_FALSE(replaced.is(out));
  EXPECT_TRUE(arrays_close(hp::eval(replaced, {{y, hp::Array::from({0.0, 0.5})}}),
                           hp::Array::from({1.0, std::exp(1.0) + 1.0})));
  // The original graph is unchanged.
  EXPECT_TRUE(arrays_close(hp::eval(out, {{x, hp::Array::from({0.0})}}), hp::Array::from({1.0})));
  auto copy = hp::clone_replace({out})[0];
  EXPECT_FALSE(copy.owner().get() == out.owner().get());
  EXPECT_TRUE(copy.owner()->op().equals(out.owner()->op()));
  auto order = hp::toposort({out});
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0]->op().name(), "exp");
  EXPECT_EQ(order[1]->op().name(), "add");
}

TEST(Graph, ReplacementsAreUsedAsGiven) {
  auto x = hp::scalar("x");
  auto out = hp::clone_replace({x * 3.0}, {{x, x * 2.0}})[0];  // the inner x is not replaced again
  EXPECT_EQ(hp::eval(out, {{x, hp::Array::scalar(1.0)}}).item(), 6.0);
  auto y = hp::scalar("y");
  auto h = hp::exp(x);
  auto both = hp::clone_replace({h + h, x}, {{h, y}, {x, y}});
  EXPECT_EQ(hp::eval(both[0], {{y, hp::Array::scalar(2.0)}}).item(), 4.0);
  EXPECT_TRUE(both[1].is(y));
}

TEST(Printing, PprintWritesInfixWithTheNeededParentheses) {
  auto x = hp::matrix("x"), w = hp::matrix("w"), b = hp::vector("b");
  EXPECT_EQ(hp::pprint(hp::tanh(hp::dot(x, w) + b)), "tanh(dot(x, w) + dimshuffle{(x,0)}(b))");
  auto a = hp::scalar("a"), c = hp::scalar("c"), d = hp::scalar("d");
  EXPECT_EQ(hp::pprint(a - (c - d)), "a - (c - d)");
  EXPECT_EQ(hp::pprint((a - c) - d), "a - c - d");
  EXPECT_EQ(hp::pprint((a + c) * d), "(a + c) * d");
  EXPECT_EQ(hp::pprint(-(a * c)), "-(a * c)");
  EXPECT_EQ(hp::pprint(hp::exp(a) * 2.0), "exp(a) * 2");
  EXPECT_EQ(hp::pprint(hp::sum(x, 1)), "sum{axis=(1,)}(x)");
  std::ostringstream out;
  out << (a < c);
  EXPECT_EQ(out.str(), "a < c");
}

TEST(Graph, ForeignCallSiteNamesTheFrontEndsLine) {
  hp::Variable x, sum;
  {
    hp::ForeignCallSite site(hp::CodeLocation("/home/user/train.py", 42));
    x = hp::vector("x");
    sum = x + 1.0;
    EXPECT_TRUE(throws_with<hp::ShapeError>([] { hp::tensor(hp::DType::Float64, {3}) + hp::tensor(hp::DType::Float64, {4}); },
                                            {"[add]", "(node built at train.py:42)"}));
  }
  EXPECT_EQ(hp::format_location(x.where()), "train.py:42");
  EXPECT_EQ(hp::format_location(sum.owner()->where()), "train.py:42");
  EXPECT_EQ(hp::format_location(hp::vector("y").where()).rfind("test_graph.cpp:", 0), 0u);
}

TEST(Graph, SharedWithStaticShape) {
  auto r = hp::shared(Array::zeros({1, 3}), "r", false, {1, -1});
  EXPECT_EQ(r.type().str(), "float64(1, ?)");
  auto m = hp::matrix("m");
  EXPECT_EQ((m + r).type().str(), "float64(?, ?)");  // r broadcasts along axis 0
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { r.set_value(Array::zeros({2, 3})); }, {"float64(1, ?)", "float64(2, 3)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([] { hp::shared(Array::zeros({2, 3}), "bad", false, {1, -1}); },
                                         {"static shape", "float64(1, ?)"}));
}

TEST(Graph, ForeignStorageIsWrappedNotCopied) {
  static double values[6] = {1, 2, 3, 4, 5, 6};
  bool released = false;
  {
    std::shared_ptr<void> owner(values, [&released](void*) { released = true; });
    auto storage = std::make_shared<hp::Storage>(values, sizeof values, owner);
    owner.reset();
    Array view(hp::DType::Float64, {2, 3}, storage, {1, 2}, 0);  // a transposed view of 3x2 memory
    EXPECT_EQ(view.raw_data(), static_cast<void*>(values));
    EXPECT_TRUE(arrays_close(view, Array::from({{1, 3, 5}, {2, 4, 6}})));
    EXPECT_FALSE(released);
  }
  EXPECT_TRUE(released);
}

namespace {
std::vector<std::string> printed;
void remember_print(const std::string& message, const std::vector<std::string>& attrs, const hypatia::Array& value) {
  for (const std::string& attr : attrs) printed.push_back(message + " " + attr + " " + std::to_string(value.size()));
}
}  // namespace

// Theano's printing.Print: the identity, printing whenever the program computes it; two prints of one value
// stay two, and a print of a constant is not run at compile time.
TEST(Print, PrintsWhenTheProgramRunsAndIsNeverMerged) {
  hypatia::set_print_handler(remember_print);
  printed.clear();
  auto x = hypatia::vector("x");
  auto shown = hypatia::print(x, "x", {"__str__", "shape"});
  auto f = hypatia::function({x}, {shown * 2.0 + hypatia::print(x, "x")});
  auto constant = hypatia::function({}, {hypatia::print(hypatia::constant(3.0), "c")});
  EXPECT_TRUE(printed.empty());
  EXPECT_TRUE(hypatia::testing::arrays_close(f({hypatia::Array::from({1.0, 2.0})})[0], hypatia::Array::from({3.0, 6.0})));
  EXPECT_EQ(printed.size(), 3u);
  constant({});
  EXPECT_EQ(printed.back(), "c __str__ 1");
  EXPECT_TRUE(hypatia::testing::arrays_close(hypatia::eval(hypatia::grad(hypatia::sum(shown * shown), x), {{x, hypatia::Array::from({1.0, 2.0})}}),
                                             hypatia::Array::from({2.0, 4.0})));
  hypatia::set_print_handler(nullptr);
}
