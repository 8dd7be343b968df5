// Reverse-mode gradients: values, higher order, options and errors.
#include "test_util.h"

namespace hp = hypatia;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::throws_with;

TEST(Grad, PolynomialByHand) {
  auto x = hp::scalar("x");
  auto cost = x * x * x + 2.0 * x;  // d/dx = 3x^2 + 2
  auto g = hp::grad(cost, x);
  EXPECT_DOUBLE_EQ(hp::eval(g, {{x, hp::Array::scalar(2.0)}}).item(), 14.0);
}

TEST(Grad, SumsContributionsOfEveryPath) {
  auto x = hp::vector("x");
  auto y = hp::exp(x);
  auto cost = hp::sum(y * y + y);  // d/dx = 2 e^{2x} + e^x
  auto g = hp::eval(hp::grad(cost, x), {{x, hp::Array::from({0.0, 1.0})}});
  EXPECT_TRUE(arrays_close(g, hp::Array::from({3.0, 2 * std::exp(2.0) + std::exp(1.0)})));
}

TEST(Grad, HessianVectorProductByHand) {
  // f(x) = sum(x^3); grad = 3x^2; Hessian = diag(6x); H v = 6 x v.
  auto x = hp::vector("x"), v = hp::vector("v");
  auto cost = hp::sum(x * x * x);
  auto g = hp::grad(cost, x);
  auto hv = hp::grad(hp::sum(g * v), x);
  auto out = hp::eval(hv, {{x, hp::Array::from({1.0, 2.0, -1.0})}, {v, hp::Array::from({1.0, 0.5, 2.0})}});
  EXPECT_TRUE(arrays_close(out, hp::Array::from({6.0, 6.0, -12.0})));
}

TEST(Grad, GradientsKeepTheInputDtype) {
  auto x = hp::vector("x", hp::DType::Float32);
  auto g = hp::grad(hp::sum(x * 2.0), x);
  EXPECT_EQ(g.dtype(), hp::DType::Float32);
  EXPECT_TRUE(arrays_close(hp::eval(g, {{x, hp::Array::from({1.0, 2.0}, hp::DType::Float32)}}),
                           hp::Array::from({2.0, 2.0}, hp::DType::Float32)));
}

TEST(Grad, BroadcastInputsGetSummedGradients) {
  auto m = hp::matrix("m");
  auto b = hp::vector("b");
  auto g = hp::grad(hp::sum(m + b), b);  // b broadcasts over the rows
  auto out = hp::eval(g, {{m, hp::Array::zeros({3, 2})}, {b, hp::Array::zeros({2})}});
  EXPECT_TRUE(arrays_close(out, hp::Array::from({3.0, 3.0})));
}

TEST(Grad, KnownGradsSeedTheGraph) {
  auto x = hp::vector("x");
  auto y = x * 3.0;
  auto seed = hp::constant(hp::Array::from({1.0, 10.0}));
  hp::GradOptions options;
  options.known_grads = {{y, seed}};
  auto g = hp::grad(hp::Variable(), std::vector<hp::Variable>{x}, options);
  EXPECT_TRUE(arrays_close(hp::eval(g[0], {{x, hp::Array::from({0.0, 0.0})}}), hp::Array::from({3.0, 30.0})));
}

TEST(Grad, ConsiderConstantStopsTheFlow) {
  auto x = hp::scalar("x");
  auto y = x * x;
  hp::GradOptions options;
  options.consider_constant = {y};
  auto g = hp::grad(y * x, std::vector<hp::Variable>{x}, options)[0];  // y held constant: d/dx = y
  EXPECT_DOUBLE_EQ(hp::eval(g, {{x, hp::Array::scalar(3.0)}}).item(), 9.0);
}

TEST(Grad, DisconnectedGradAndZeroGrad) {
  auto x = hp::scalar("x");
  auto cost = hp::disconnected_grad(x * x) * x;  // only the outer x gets a gradient
  EXPECT_DOUBLE_EQ(hp::eval(hp::grad(cost, x), {{x, hp::Array::scalar(3.0)}}).item(), 9.0);
  auto zero = hp::zero_grad(x) * 5.0 + x;
  EXPECT_DOUBLE_EQ(hp::eval(hp::grad(zero, x), {{x, hp::Array::scalar(3.0)}}).item(), 1.0);
  EXPECT_DOUBLE_EQ(hp::eval(hp::disconnected_grad(x * 2.0), {{x, hp::Array::scalar(3.0)}}).item(), 6.0);
}

TEST(Grad, DisconnectedInputsRaiseWarnOrIgnore) {
  auto x = hp::scalar("x"), unused = hp::vector("unused");
  auto cost = x * 2.0;
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::grad(cost, {x, unused}); },
                                          {"[grad]", "does not depend on 'unused'", "test_grad.cpp"}));
  hp::GradOptions options;
  options.disconnected_inputs = hp::Disconnected::Ignore;
  auto g = hp::grad(cost, {x, unused}, options);
  EXPECT_TRUE(arrays_close(hp::eval(g[1], {{unused, hp::Array::from({1.0, 2.0})}}), hp::Array::zeros({2})));
  options.disconnected_inputs = hp::Disconnected::Warn;
  EXPECT_NO_THROW(hp::grad(cost, {x, unused}, options));
}

TEST(Grad, CostMustBeAScalar) {
  auto x = hp::vector("x");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::grad(x * 2.0, x); }, {"[grad]", "must be a scalar", "float64(?,)"}));
}

// Theano's rule: an integer cost has a float gradient of one with respect to itself, and nothing flows
// back through integers, so what it is computed from gets zeros.
TEST(Grad, IntegerCostsGiveOnesForThemselvesAndZerosBehind) {
  auto i = hp::scalar("i", hp::DType::Int32);
  auto own = hp::grad(i, i);
  EXPECT_EQ(own.dtype(), hp::DType::Float64);
  EXPECT_EQ(hp::eval(own, {{i, hp::Array::scalar(3, hp::DType::Int32)}}).item(), 1.0);
  EXPECT_EQ(hp::eval(hp::grad(i * 2, i), {{i, hp::Array::scalar(3, hp::DType::Int32)}}).item(), 0.0);
  auto x = hp::vector("x");
  auto through_argmax = hp::grad(hp::argmax(x, 0), x);
  EXPECT_TRUE(arrays_close(hp::eval(through_argmax, {{x, hp::Array::from({1.0, 3.0, 2.0})}}), hp::Array::zeros({3})));
}

TEST(Grad, ComparisonMasksPassGradientsThroughTheOtherOperand) {
  auto x = hp::vector("x");
  auto relu_like = (x > 0.0) * x;
  auto g = hp::eval(hp::grad(hp::sum(relu_like), x), {{x, hp::Array::from({-1.0, 2.0})}});
  EXPECT_TRUE(arrays_close(g, hp::Array::from({0.0, 1.0})));
}

TEST(Grad, NotDifferentiableOpsSayWhere) {
  auto x = hp::vector("x");
  auto cost = hp::sum(hp::cast(hp::argmax(x), hp::DType::Float64) * x);
  // argmax has no gradient; x's other path still does.
  auto g = hp::eval(hp::grad(cost, x), {{x, hp::Array::from({1.0, 3.0})}});
  EXPECT_TRUE(arrays_close(g, hp::Array::from({1.0, 1.0})));
}

TEST(VerifyGrad, AcceptsCorrectAndRejectsWrongGradients) {
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::tanh(in[0]) * in[1]; },
                 {hp::Array::from({0.1, -0.5}), hp::Array::from({2.0, 3.0})});
  // zero_grad makes the symbolic gradient wrong on purpose: verify_grad must notice.
  EXPECT_TRUE(throws_with<hp::ValueError>(
      [] { hp::verify_grad([](const std::vector<hp::Variable>& in) { return hp::zero_grad(in[0]) * in[0]; },
                           {hp::Array::from({1.0, 2.0})}); },
      {"[verify_grad] gradient mismatch", "input 0"}));
}
