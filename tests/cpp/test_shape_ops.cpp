// Shape ops: dimshuffle, reshape, joins and splits, allocation, ranges, shape queries.
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::expect_infer_shape_ok;
using hp::testing::throws_with;

namespace {
const Array kA = Array::from({{1, 2, 3}, {4, 5, 6}});
}

TEST(ShapeOps, DimshuffleTransposeExpandSqueeze) {
  auto x = hp::matrix("x");
  EXPECT_TRUE(arrays_close(hp::eval(x.T(), {{x, kA}}), Array::from({{1, 4}, {2, 5}, {3, 6}})));
  EXPECT_EQ(hp::dimshuffle(x, {1, hp::kNewAxis, 0}).type().str(), "float64(?, 1, ?)");
  EXPECT_EQ(hp::eval(hp::dimshuffle(x, {1, hp::kNewAxis, 0}), {{x, kA}}).shape(), (hp::Shape{3, 1, 2}));
  EXPECT_EQ(hp::expand_dims(x, -1).type().str(), "float64(?, ?, 1)");
  auto r = hp::row("r");
  EXPECT_EQ(hp::squeeze(r).type().str(), "float64(?,)");
  EXPECT_TRUE(arrays_close(hp::eval(hp::squeeze(r, {0}), {{r, Array::from({{7, 8}})}}), Array::from({7, 8})));
  auto t = hp::tensor3("t");
  EXPECT_EQ(hp::eval(hp::transpose(t, {2, 0, 1}), {{t, Array::zeros({2, 3, 4})}}).shape(), (hp::Shape{4, 2, 3}));
  EXPECT_TRUE(hp::dimshuffle(x, {0, 1}).is(x));  // identity adds no node
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::dimshuffle(x, {0}); },
                                          {"[dimshuffle] pattern (0) drops axis 1", "not broadcastable", "test_shape_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::dimshuffle(x, {0, 0}); }, {"repeats axis 0"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::transpose(x, {0, 2}); }, {"[transpose] axis 2 is out of range"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::squeeze(x, {3}); }, {"[squeeze] axis 3"}));
}

TEST(ShapeOps, Reshape) {
  auto x = hp::matrix("x");
  EXPECT_TRUE(arrays_close(hp::eval(hp::reshape(x, {3, 2}), {{x, kA}}), Array::from({{1, 2}, {3, 4}, {5, 6}})));
  EXPECT_EQ(hp::reshape(x, {-1, 2}).type().str(), "float64(?, 2)");
  EXPECT_EQ(hp::eval(hp::reshape(x, {-1}), {{x, kA}}).shape(), (hp::Shape{6}));
  auto known = hp::tensor(DType::Float64, {2, 3}, "known");
  EXPECT_EQ(hp::reshape(known, {-1, 2}).type().str(), "float64(3, 2)");  // -1 inferred statically
  auto n = hp::scalar("n", DType::Int64);
  EXPECT_EQ(hp::eval(hp::reshape(x, {n, -1}), {{x, kA}, {n, Array::scalar(1, DType::Int64)}}).shape(), (hp::Shape{1, 6}));
  EXPECT_TRUE(arrays_close(hp::eval(hp::flatten(x), {{x, kA}}), Array::from({1, 2, 3, 4, 5, 6})));
  auto t = hp::tensor3("t");
  EXPECT_EQ(hp::eval(hp::flatten(t, 2), {{t, Array::zeros({2, 3, 4})}}).shape(), (hp::Shape{2, 12}));
  // Reshaping a transposed (non-contiguous) input copies.
  EXPECT_TRUE(arrays_close(hp::eval(hp::reshape(x.T(), {6}), {{x, kA}}), Array::from({1, 4, 2, 5, 3, 6})));
}

TEST(ShapeOps, ReshapeErrors) {
  auto known = hp::tensor(DType::Float64, {2, 3}, "known");
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::reshape(known, {4, 2}); }, {"[reshape] cannot reshape float64(2, 3)", "test_shape_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::reshape(known, {-1, -1}); }, {"only infer one dimension"}));
  auto x = hp::matrix("x");
  auto f = hp::function({x}, {hp::reshape(x, {4, 2})});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({kA}); }, {"[reshape] cannot reshape array of shape (2, 3) into shape (4, 2)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::reshape(x, {hp::scalar("f")}); }, {"dimensions must be integer scalars"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::flatten(x, 3); }, {"[flatten] ndim 3"}));
}

TEST(ShapeOps, ConcatenateStackSplit) {
  auto x = hp::matrix("x"), y = hp::matrix("y");
  Array b = Array::from({{7, 8, 9}});
  EXPECT_TRUE(arrays_close(hp::eval(hp::concatenate({x, y}), {{x, kA}, {y, b}}), Array::from({{1, 2, 3}, {4, 5, 6}, {7, 8, 9}})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::concatenate({x, x}, 1), {{x, b}}), Array::from({{7, 8, 9, 7, 8, 9}})));
  auto v = hp::vector("v"), w = hp::vector("w");
  Array stacked = hp::eval(hp::stack({v, w}, 1), {{v, Array::from({1, 2})}, {w, Array::from({3, 4})}});
  EXPECT_TRUE(arrays_close(stacked, Array::from({{1, 3}, {2, 4}})));
  auto pieces = hp::split(v, {1, 3}, 0);
  ASSERT_EQ(pieces.size(), 2u);
  auto out = hp::function({v}, pieces)({Array::from({1, 2, 3, 4})});
  EXPECT_TRUE(arrays_close(out[0], Array::from({1})));
  EXPECT_TRUE(arrays_close(out[1], Array::from({2, 3, 4})));
  // dtypes promote like NumPy.
  auto i = hp::vector("i", DType::Int32);
  EXPECT_EQ(hp::concatenate({i, hp::vector("f", DType::Float32)}).dtype(), DType::Float64);
  EXPECT_EQ(hp::concatenate({hp::tensor(DType::Float64, {2}), hp::tensor(DType::Float64, {3})}).type().str(), "float64(5,)");
}

TEST(ShapeOps, ConcatenateSplitErrors) {
  auto x = hp::tensor(DType::Float64, {2, 3}), y = hp::tensor(DType::Float64, {2, 4});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::concatenate({x, y}); }, {"[concatenate] shapes float64(2, 3) and float64(2, 4) differ on axis 1", "test_shape_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::concatenate({x, hp::vector("v")}); }, {"same rank"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::concatenate({x}, 2); }, {"[concatenate] axis 2 is out of range"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::concatenate({}); }, {"at least one"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::split(x, {1, 1}, 1); }, {"[split] sizes sum to 2 but axis 1", "test_shape_ops.cpp"}));
  auto v = hp::vector("v");
  auto f = hp::function({v}, hp::split(v, {1, 1}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::zeros({3})}); }, {"[split] sizes sum to 2", "(3,)"}));
  auto m = hp::matrix("m"), n = hp::matrix("n");
  auto g = hp::function({m, n}, {hp::concatenate({m, n})});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { g({Array::zeros({1, 2}), Array::zeros({1, 3})}); }, {"[concatenate]", "differ on axis 1"}));
}

TEST(ShapeOps, AllocZerosOnesFull) {
  auto n = hp::scalar("n", DType::Int64);
  Array z = hp::eval(hp::zeros({n, 2}), {{n, Array::scalar(3, DType::Int64)}});
  EXPECT_TRUE(arrays_close(z, Array::zeros({3, 2})));
  EXPECT_EQ(hp::zeros({2, 3}, DType::Int32).type().str(), "int32(2, 3)");
  EXPECT_TRUE(hp::eval(hp::ones({2}, DType::Int8)).equals(Array::from_vector<int8_t>({1, 1})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::full({2, 2}, 7.5)), Array::full({2, 2}, 7.5)));
  auto v = hp::vector("v");
  EXPECT_TRUE(arrays_close(hp::eval(hp::alloc(v, {2, 3}), {{v, Array::from({1, 2, 3})}}), Array::from({{1, 2, 3}, {1, 2, 3}})));
  auto x = hp::matrix("x");
  EXPECT_TRUE(arrays_close(hp::eval(hp::zeros_like(x), {{x, kA}}), Array::zeros({2, 3})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::ones_like(x), {{x, kA}}), Array::ones({2, 3})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::full_like(x, 4), {{x, kA}}), Array::full({2, 3}, 4)));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::zeros({-2}); }, {"[alloc] negative dimension -2", "test_shape_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { hp::alloc(hp::tensor(DType::Float64, {3}), {2, 4}); }, {"[alloc]", "cannot broadcast"}));
}

TEST(ShapeOps, ArangeAndEye) {
  EXPECT_TRUE(hp::eval(hp::arange(4)).equals(Array::from_vector<int64_t>({0, 1, 2, 3})));
  EXPECT_EQ(hp::arange(4).type().str(), "int64(4,)");
  EXPECT_TRUE(arrays_close(hp::eval(hp::arange(1.0, 2.0, 0.25)), Array::from({1, 1.25, 1.5, 1.75})));
  EXPECT_EQ(hp::arange(1.0, 2.0, 0.25).dtype(), DType::Float64);
  EXPECT_TRUE(hp::eval(hp::arange(5, 0, -2)).equals(Array::from_vector<int64_t>({5, 3, 1})));
  EXPECT_EQ(hp::eval(hp::arange(3, 1)).size(), 0);
  EXPECT_EQ(hp::arange(0, 3, 1, DType::Float32).dtype(), DType::Float32);
  auto n = hp::scalar("n", DType::Int64);
  EXPECT_EQ(hp::eval(hp::arange(n), {{n, Array::scalar(6, DType::Int64)}}).size(), 6);
  EXPECT_TRUE(arrays_close(hp::eval(hp::eye(2)), Array::from({{1, 0}, {0, 1}})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::eye(2, 3, 1)), Array::from({{0, 1, 0}, {0, 0, 1}})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::eye(3, 2, -1)), Array::from({{0, 0}, {1, 0}, {0, 1}})));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::arange(0, 5, 0); }, {"[arange] step must not be zero", "test_shape_ops.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::eye(-1); }, {"[eye] negative size -1"}));
}

TEST(ShapeOps, ShapeQueriesAndMakeVector) {
  auto x = hp::matrix("x");
  EXPECT_TRUE(hp::eval(hp::shape(x), {{x, kA}}).equals(Array::from_vector<int64_t>({2, 3})));
  EXPECT_EQ(hp::eval(hp::shape_i(x, 1), {{x, kA}}).item(), 3);
  EXPECT_TRUE(hp::shape_i(hp::tensor(DType::Float64, {5}), 0).is_constant());  // known: no node
  auto n = hp::scalar("n", DType::Int32);
  EXPECT_TRUE(hp::eval(hp::make_vector({n, 4}), {{n, Array::scalar(2, DType::Int32)}}).equals(Array::from_vector<int64_t>({2, 4})));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::shape_i(x, 2); }, {"[shape_i] axis 2"}));
}

TEST(ShapeOps, Gradients) {
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::dimshuffle(in[0], {1, hp::kNewAxis, 0}); }, {kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::reshape(in[0], {3, 2}); }, {kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::flatten(in[0].T()); }, {kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::concatenate({in[0], in[1] * 2.0}, 1); },
                 {kA, Array::from_vector<double>({1, 2}, {2, 1})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::stack({in[0], in[1]}); }, {Array::from({1, 2}), Array::from({3, 4})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::split(in[0], {1, 2}, 1)[1] * 3.0; }, {kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    auto parts = hp::split(in[0], {2, 1}, 1);
    return hp::sum(parts[0]) + hp::sum(hp::sqr(parts[1]));
  }, {kA});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::alloc(in[0], {2, 3}); }, {Array::from({1, 2, 3})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::alloc(in[0], {2, 3}) * 1.0; }, {Array::scalar(0.5)});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::make_vector({in[0], in[0] * 2.0}, DType::Float64); },
                 {Array::scalar(0.5)});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::squeeze(hp::expand_dims(in[0], 0)); }, {kA});
}

TEST(ShapeOps, InferShape) {
  auto x = hp::matrix("x"), y = hp::matrix("y");
  expect_infer_shape_ok({x}, hp::dimshuffle(x, {1, hp::kNewAxis, 0}), {kA});
  expect_infer_shape_ok({x}, hp::reshape(x, {3, 2}), {kA});
  expect_infer_shape_ok({x, y}, hp::concatenate({x, y}), {kA, Array::zeros({4, 3})});
  expect_infer_shape_ok({x}, hp::split(x, {1, 2}, 1)[1], {kA});
  auto n = hp::scalar("n", DType::Int64);
  expect_infer_shape_ok({n}, hp::zeros({n, 2}), {Array::scalar(3, DType::Int64)});
  expect_infer_shape_ok({n}, hp::arange(1, n, 2), {Array::scalar(6, DType::Int64)});
  expect_infer_shape_ok({n}, hp::eye(n, 4), {Array::scalar(3, DType::Int64)});
}

// Theano's Assert: the value passes through, each condition is checked when the graph runs (never
// folded away, even with constant inputs), the gradient reaches the value only, and it saves and loads.
TEST(ShapeOps, AssertChecksItsConditionsWhenTheGraphRuns) {
  auto x = hp::scalar("x");
  auto checked = hp::assert_op(x, {hp::gt(x, 0.0), hp::lt(x, 10.0)}, "x must be in (0, 10)");
  auto f = hp::function({x}, {checked * 2.0, hp::grad(checked * 3.0, x)});
  auto got = f({Array::scalar(2.0)});
  EXPECT_EQ(got[0].item(), 4.0);
  EXPECT_EQ(got[1].item(), 3.0);
  for (double bad : {-1.0, 12.0})
    EXPECT_TRUE(throws_with<hp::ValueError>([&] { f({Array::scalar(bad)}); }, {"[assert]", "x must be in (0, 10)", "test_shape_ops.cpp"}));
  auto constant_check = hp::assert_op(hp::constant(1.0), {hp::constant(0.0)}, "never true");
  auto g = hp::function({}, {constant_check});
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { g({}); }, {"never true"}));
  auto [inputs, outputs] = hp::load_graph(hp::save_graph({x}, {checked}));
  auto loaded = hp::function(inputs, outputs);
  EXPECT_EQ(loaded({Array::scalar(5.0)})[0].item(), 5.0);
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { loaded({Array::scalar(-5.0)}); }, {"x must be in (0, 10)"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::assert_op(x, {hp::vector("v")}); }, {"[assert]", "scalars"}));
}
