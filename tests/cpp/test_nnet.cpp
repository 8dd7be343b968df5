// softmax, log_softmax, logsumexp, relu and the cross-entropies.
#include <cmath>

#include "ops/nnet.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::throws_with;

TEST(Softmax, ValuesByHand) {
  // softmax([1, 2, 3]) = e^k / (e + e^2 + e^3).
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), total = e1 + e2 + e3;
  auto x = hp::matrix("x");
  Array out = hp::eval(hp::softmax(x), {{x, Array::from({{1, 2, 3}, {0, 0, 0}})}});
  EXPECT_TRUE(arrays_close(out, Array::from({{e1 / total, e2 / total, e3 / total}, {1.0 / 3, 1.0 / 3, 1.0 / 3}})));
  Array along0 = hp::eval(hp::softmax(x, 0), {{x, Array::from({{1, 5}, {1, 5}})}});
  EXPECT_TRUE(arrays_close(along0, Array::from({{0.5, 0.5}, {0.5, 0.5}})));
  Array log_out = hp::eval(hp::log_softmax(x), {{x, Array::from({{1, 2, 3}})}});
  EXPECT_TRUE(arrays_close(log_out, Array::from({{1 - std::log(total), 2 - std::log(total), 3 - std::log(total)}})));
}

TEST(Softmax, StableForLargeInputs) {
  auto x = hp::matrix("x", DType::Float32);
  Array big = Array::from({{1000, 1001}}, DType::Float32);
  const double p0 = 1 / (1 + std::exp(1.0));
  EXPECT_TRUE(arrays_close(hp::eval(hp::softmax(x), {{x, big}}), Array::from({{p0, 1 - p0}}, DType::Float32), 1e-6));
  Array log_p = hp::eval(hp::log_softmax(x), {{x, big}});
  EXPECT_TRUE(arrays_close(log_p, Array::from({{std::log(p0), std::log(1 - p0)}}, DType::Float32), 1e-5));
  auto v = hp::vector("v");
  EXPECT_NEAR(hp::eval(hp::logsumexp(v), {{v, Array::from({1000, 1000})}}).item(), 1000 + std::log(2.0), 1e-9);
  EXPECT_NEAR(hp::eval(hp::logsumexp(v), {{v, Array::from({-1000, -1000})}}).item(), -1000 + std::log(2.0), 1e-9);
  EXPECT_EQ(hp::eval(hp::logsumexp(v), {{v, Array::from({-INFINITY, -INFINITY})}}).item(), -INFINITY);
  auto m = hp::matrix("m");
  Array rows = hp::eval(hp::logsumexp(m, 1, true), {{m, Array::from({{0, 0}, {1000, 1000}})}});
  EXPECT_EQ(rows.shape(), (hp::Shape{2, 1}));
  EXPECT_NEAR(rows.get_as_double(1), 1000 + std::log(2.0), 1e-9);
}

TEST(Softmax, RowsSumToOne) {
  auto x = hp::matrix("x");
  Array out = hp::eval(hp::sum(hp::softmax(x), 1), {{x, hp::random::Generator(3).normal({5, 7}, 0, 10)}});
  EXPECT_TRUE(arrays_close(out, Array::ones({5})));
}

TEST(Nnet, ReluAndCrossEntropies) {
  EXPECT_TRUE(arrays_close(hp::eval(hp::relu(hp::constant(Array::from({-1, 0, 2})))), Array::from({0, 0, 2})));
  auto p = hp::matrix("p");
  auto labels = hp::vector("labels", DType::Int64);
  Array probabilities = Array::from({{0.25, 0.75}, {0.5, 0.5}});
  Array ce = hp::eval(hp::categorical_crossentropy(p, labels), {{p, probabilities}, {labels, Array::from_vector<int64_t>({1, 0})}});
  EXPECT_TRUE(arrays_close(ce, Array::from({-std::log(0.75), -std::log(0.5)})));
  auto one_hot = hp::matrix("t");
  Array ce_hot = hp::eval(hp::categorical_crossentropy(p, one_hot), {{p, probabilities}, {one_hot, Array::from({{0, 1}, {1, 0}})}});
  EXPECT_TRUE(arrays_close(ce_hot, ce));
  auto q = hp::vector("q"), t = hp::vector("t2");
  Array bce = hp::eval(hp::binary_crossentropy(q, t), {{q, Array::from({0.25, 0.9})}, {t, Array::from({1, 0})}});
  EXPECT_TRUE(arrays_close(bce, Array::from({-std::log(0.25), -std::log(0.1)})));
}

TEST(Nnet, Gradients) {
  const Array point = Array::from({{0.5, -1.0, 2.0}, {1.5, 0.25, -0.75}});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::softmax(in[0]); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::softmax(in[0], 0); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::log_softmax(in[0]); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::logsumexp(in[0], 1); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::logsumexp(in[0]); }, {point});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::relu(in[0]); }, {point});
  const Array probabilities = Array::from({{0.2, 0.3, 0.5}, {0.6, 0.3, 0.1}});
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::categorical_crossentropy(in[0], hp::constant(Array::from_vector<int64_t>({2, 0})));
  }, {probabilities});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::categorical_crossentropy(in[0], in[1]); },
                 {probabilities, Array::from({{0, 0, 1}, {0.5, 0.5, 0}})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::binary_crossentropy(in[0], in[1]); },
                 {Array::from({0.3, 0.8}), Array::from({1, 0})});
  // The composition the demo trains: softmax then cross-entropy with labels.
  expect_grad_ok([](const std::vector<hp::Variable>& in) {
    return hp::categorical_crossentropy(hp::softmax(in[0]), hp::constant(Array::from_vector<int64_t>({1, 2})));
  }, {point});
}

TEST(Nnet, Errors) {
  auto p = hp::matrix("p");
  auto labels = hp::vector("labels", DType::Int64);
  auto f = hp::function({p, labels}, {hp::categorical_crossentropy(p, labels)});
  EXPECT_TRUE(throws_with<hp::IndexError>([&] { f({Array::from({{0.5, 0.5}}), Array::from_vector<int64_t>({2})}); },
                                          {"[categorical_crossentropy] label 2", "outside 0..1", "2 classes", "test_nnet.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::softmax(p, 2); }, {"[softmax] axis 2 is out of range", "test_nnet.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::softmax(hp::vector("i", DType::Int32)); }, {"[softmax] needs a float input"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::categorical_crossentropy(hp::vector("v"), labels); },
                                         {"predictions must be a float matrix"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { hp::categorical_crossentropy(p, hp::vector("f")); },
                                         {"must be integer labels or match predictions"}));
}

TEST(Nnet, InferShape) {
  auto x = hp::matrix("x");
  hp::testing::expect_infer_shape_ok({x}, hp::softmax(x), {Array::zeros({2, 3})});
  auto labels = hp::vector("labels", DType::Int64);
  hp::testing::expect_infer_shape_ok({x, labels}, hp::categorical_crossentropy(x + 1.0, labels),
                                     {Array::ones({2, 3}), Array::from_vector<int64_t>({0, 1})});
}

// The cross-entropy of a softmax is one op on the logits: where softmax underflows to 0 (-log(0) is
// inf, and its gradient NaN), the fused loss and gradient are finite and exact.
TEST(Nnet, CrossEntropyOfSoftmaxIsFusedAndStable) {
  auto x = hp::matrix("x");
  auto y = hp::vector("y", DType::Int64);
  auto loss = hp::sum(hp::categorical_crossentropy(hp::softmax(x), y));
  auto g = hp::grad(loss, x);
  const Array logits = Array::from({{0.0, 1000.0, -5.0}, {1.0, 2.0, 3.0}});
  const Array labels = Array::from_vector<int64_t>({0, 2});
  auto out = hp::function({x, y}, {loss, g})({logits, labels});
  // Row 0: logsumexp = 1000 (to double precision), minus x[0, 0] = 0; row 1: log(e + e^2 + e^3) - 3.
  const double row1 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0)) - 3.0;
  EXPECT_NEAR(out[0].item(), 1000.0 + row1, 1e-9);
  const double s = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
  const Array expected_grad = Array::from({{-1.0, 1.0, 0.0}, {std::exp(1.0) / s, std::exp(2.0) / s, std::exp(3.0) / s - 1.0}});
  EXPECT_TRUE(arrays_close(out[1], expected_grad, 1e-9, 1e-12));
  // The graph as the naive ops would compute it overflows: softmax gives exactly 0 for the label.
  auto p = hp::softmax(x);
  auto naive = hp::sum(hp::apply_op1(std::make_shared<hp::CrossentropyCategorical1Hot>(), {p, y}));
  auto naive_value = hp::function({x, y}, {naive}, {}, {}, {.mode = hp::Mode::Unoptimized})({logits, labels})[0];
  EXPECT_TRUE(std::isinf(naive_value.item()));
  // stabilize rewrites that form too.
  auto stable_value = hp::function({x, y}, {naive})({logits, labels})[0];
  EXPECT_NEAR(stable_value.item(), 1000.0 + row1, 1e-9);
  // Labels out of range still say so; the gradient agrees with finite differences.
  auto f = hp::function({x, y}, {loss});
  EXPECT_TRUE(hp::testing::throws_with<hp::IndexError>([&] { f({logits, Array::from_vector<int64_t>({0, 3})}); },
                                                       {"label 3 of row 1"}));
  expect_grad_ok([&](const std::vector<hp::Variable>& v) {
    return hp::sum(hp::categorical_crossentropy(hp::softmax(v[0]), hp::constant(labels)));
  }, {Array::from({{0.1, -0.4, 2.0}, {0.3, 0.2, -1.0}})});
}
