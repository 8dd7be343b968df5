// Forward mode and higher-order derivatives: Rop against finite differences and against the double-Lop
// trick for the ops of the library, Lop against grad, jacobian and hessian against hand-derived values.
#include <random>

#include "test_util.h"

namespace hypatia {
namespace {

using testing::arrays_close;
using testing::throws_with;
using Builder = std::function<Variable(const std::vector<Variable>&)>;

Array random_like(const Array& like, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> uniform(-1, 1);
  Array out = Array::empty(like.shape(), DType::Float64);
  for (int64_t i = 0; i < out.size(); ++i) out.set_from_double(i, uniform(rng));
  return out;
}

std::vector<Variable> symbolic_like(const std::vector<Array>& values) {
  std::vector<Variable> inputs;
  for (size_t i = 0; i < values.size(); ++i)
    inputs.push_back(tensor(values[i].dtype(), std::vector<int64_t>(values[i].ndim(), -1), "in" + std::to_string(i)));
  return inputs;
}

// Rop(f, float inputs, u) against central differences along u and against the double-Lop trick.
void expect_rop_ok(const std::string& label, const Builder& build, const std::vector<Array>& point) {
  SCOPED_TRACE(label);
  std::mt19937_64 rng(7);
  std::vector<Variable> x = symbolic_like(point);
  Variable f = build(x);
  std::vector<Variable> wrt, tangents;
  std::vector<Array> directions;
  for (size_t i = 0; i < x.size(); ++i)
    if (is_float(x[i].dtype())) {
      wrt.push_back(x[i]);
      tangents.push_back(tensor(DType::Float64, std::vector<int64_t>(x[i].ndim(), -1), "u" + std::to_string(i)));
      directions.push_back(random_like(point[i], rng));
    }
  Variable jvp = Rop(std::vector<Variable>{f}, wrt, tangents).at(0);
  std::vector<Variable> inputs = x;
  inputs.insert(inputs.end(), tangents.begin(), tangents.end());
  std::vector<Array> values = point;
  values.insert(values.end(), directions.begin(), directions.end());
  FunctionOptions lenient;  // the tangent of a linear expression does not read x
  lenient.on_unused_input = UnusedInput::Ignore;
  Array forward = function(inputs, {jvp}, {}, {}, lenient)(values)[0];

  // Central differences of f along the directions.
  Function f_of_x = function(x, {f});
  const double eps = 1e-6;
  std::vector<Array> plus, minus;
  for (const Array& p : point) {
    plus.push_back(p.copy());
    minus.push_back(p.copy());
  }
  for (size_t i = 0, d = 0; i < x.size(); ++i)
    if (is_float(x[i].dtype())) {
      for (int64_t k = 0; k < point[i].size(); ++k) {
        plus[i].set_from_double(k, point[i].get_as_double(k) + eps * directions[d].get_as_double(k));
        minus[i].set_from_double(k, point[i].get_as_double(k) - eps * directions[d].get_as_double(k));
      }
      ++d;
    }
  Array high = f_of_x(plus)[0], low = f_of_x(minus)[0];
  Array numeric = Array::empty(high.shape(), DType::Float64);
  for (int64_t k = 0; k < numeric.size(); ++k) numeric.set_from_double(k, (high.get_as_double(k) - low.get_as_double(k)) / (2 * eps));
  EXPECT_TRUE(arrays_close(forward.astype(DType::Float64), numeric, 1e-5, 1e-6)) << "Rop vs finite differences";

  // The double-Lop trick: the pullback is linear in v, so Lop(Lop(f, x, v), v, u) = J u.
  Variable v = tensor(f.dtype(), std::vector<int64_t>(f.ndim(), -1), "v");
  std::vector<Variable> pulled = Lop({f}, wrt, {v}, Disconnected::Ignore);
  Variable twice = Lop(pulled, {v}, tangents, Disconnected::Ignore).at(0);
  std::vector<Variable> with_v = inputs;
  with_v.push_back(v);
  std::vector<Array> values_v = values;
  values_v.push_back(random_like(high, rng).astype(f.dtype()));
  Array reverse = function(with_v, {twice}, {}, {}, lenient)(values_v)[0];
  EXPECT_TRUE(arrays_close(forward, reverse, 1e-9, 1e-12)) << "Rop vs double Lop";
}

TEST(Rop, EveryOpFamilyMatchesFiniteDifferencesAndTheDoubleLop) {
  const Array v3 = Array::from({0.3, -0.7, 1.2}), w3 = Array::from({0.5, 0.9, -0.4});
  const Array m23 = Array::from({{0.1, -0.2, 0.3}, {0.4, 0.5, -0.6}}), m32 = Array::from({{0.2, 0.1}, {-0.3, 0.4}, {0.5, -0.1}});
  const Array t223 = Array::from_vector(std::vector<double>{0.1, 0.2, -0.3, 0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 0.15, -0.25, 0.35},
                                        Shape{2, 2, 3});
  const Array labels = Array::from({2, 0}, DType::Int64);
  struct Case {
    std::string name;
    Builder build;
    std::vector<Array> point;
  };
  const std::vector<Case> cases = {
      {"exp, log, tanh, sigmoid, softplus", [](auto& a) { return exp(a[0]) * log(a[0] * a[0] + 1.0) + tanh(a[0]) - sigmoid(a[0]) + softplus(a[0]); }, {v3}},
      {"mul, div, pow, arctan2", [](auto& a) { return a[0] * a[1] / (a[1] * a[1] + 2.0) + pow(abs(a[0]) + 1.0, a[1]) + arctan2(a[0], a[1]); }, {v3, w3}},
      {"maximum, where, sqrt", [](auto& a) { return maximum(a[0], a[1]) + where(gt(a[0], 0.0), a[0] * 2.0, a[1]) + sqrt(a[0] * a[0] + 1.0) + cast(a[0] * a[1], DType::Float64); }, {v3, w3}},
      {"broadcasting", [](auto& a) { return a[0] * a[1] + a[1]; }, {m23, v3}},
      {"dot matrix-vector and matrix-matrix", [](auto& a) { return dot(dot(a[0], a[1]), a[2]); }, {m23, m32, Array::from({0.3, -0.2})}},
      {"matmul", [](auto& a) { return matmul(a[0], a[1]); }, {t223, Array::from_vector(std::vector<double>{0.1, 0.2, 0.3, 0.4, 0.5, 0.6}, Shape{3, 2})}},
      {"dimshuffle, reshape, flatten", [](auto& a) { return flatten(reshape(transpose(a[0]), {2, 3}) * 2.0); }, {m23}},
      {"subtensor, inc and set", [](auto& a) { return inc_subtensor(a[0][{slice(1, std::nullopt)}], a[1][{slice(0, 2)}]) + set_subtensor(a[0][{0}], a[1][{2}] * 3.0); }, {v3, w3}},
      {"advanced indexing", [](auto& a) { return take(a[0], constant(Array::from({2, 0, 2}, DType::Int64))) * a[1]; }, {v3, w3}},
      {"sum, prod, max, mean, var", [](auto& a) { return sum(a[0], {1}) + prod(a[0], {1}) + max(a[0], {1}) + mean(a[0], {1}) + var(a[0], {1}); }, {m23}},
      {"softmax, log_softmax, logsumexp", [](auto& a) { return softmax(a[0]) + log_softmax(a[0]) + expand_dims(logsumexp(a[0], {1}), 1); }, {m23}},
      {"crossentropy with integer labels", [&](auto& a) { return categorical_crossentropy(softmax(a[0]), a[1]); }, {m23, labels}},
      {"relu, elu", [](auto& a) { return relu(a[0]) + elu(a[0]); }, {v3}},
      {"concatenate, stack, split", [](auto& a) { return concatenate({a[0], a[1] * 2.0}) + concatenate({split(a[0], {1, 2})[1], stack({a[1]})[{0}][{slice(0, 1)}], a[0]}); }, {v3, w3}},
      {"tile, repeat, alloc", [](auto& a) { return tile(a[0], {2}) + repeat(a[1], 2) + alloc(sum(a[0]), {6}); }, {v3, w3}},
      {"cumsum, cumprod, sort", [](auto& a) { return cumsum(a[0]) * cumprod(a[1]) + sort(a[0] * a[1]); }, {v3, w3}},
      {"diagonal, diag, trace", [](auto& a) { return diag(diagonal(dot(a[0], a[1]))) + trace(dot(a[0], a[1])); }, {m23, m32}},
      {"scan", [](auto& a) {
         ScanResult h = scan([](const std::vector<Variable>& s) { return ScanStep(tanh(s[0] + dot(s[1], s[2]))); }, {a[0]},
                             {OutputInfo(a[1])}, {a[2]});
         return h[0];
       }, {m23.transpose().copy(), Array::from({0.1, -0.1}), Array::from({{0.5, -0.3}, {0.2, 0.4}})}},
      {"ifelse", [](auto& a) { return ifelse(gt(sum(a[1]), 0.0), a[0] * a[1], exp(a[0])); }, {v3, w3}},
  };
  for (const Case& c : cases) expect_rop_ok(c.name, c.build, c.point);
}

TEST(Rop, AnExpressionNotDependingOnWrtGetsZerosAndErrorsSayWhy) {
  Variable x = vector("x"), y = vector("y"), u = vector("u");
  Variable r = Rop(exp(y), x, u);
  EXPECT_TRUE(arrays_close(eval(r, {{y, Array::from({1, 2})}}), Array::from({0, 0})));
  EXPECT_TRUE(throws_with<ValueError>([&] { Rop(std::vector<Variable>{x}, {x}, {}); }, {"[Rop]", "1 wrt variables but 0 eval points"}));
  EXPECT_TRUE(throws_with<ValueError>([&] { Rop(x, x, matrix("m")); }, {"[Rop]", "does not match", "test_rop.cpp"}));
}

TEST(Lop, MatchesGradOfTheWeightedSum) {
  Variable x = vector("x"), v = vector("v");
  Variable f = exp(x) * 3.0;
  Variable lop = Lop({f}, {x}, {v}).at(0);
  Variable through_grad = grad(sum(f * v), x);
  const std::vector<std::pair<Variable, Array>> at{{x, Array::from({0.1, 0.2})}, {v, Array::from({2, -1})}};
  EXPECT_TRUE(arrays_close(eval(lop, at), eval(through_grad, at), 1e-12));
}

TEST(Jacobian, OfVectorAndMatrixExpressions) {
  Variable x = vector("x"), m = matrix("m");
  const Array xv = Array::from({1, 2, 3});
  // d(x^2)/dx = diag(2x); d(m x)/dx = m; d(m x)/dm[i, :, j, :] = delta_ij x.
  Array j_square = eval(jacobian(x * x, x), {{x, xv}});
  EXPECT_TRUE(arrays_close(j_square, Array::from({{2, 0, 0}, {0, 4, 0}, {0, 0, 6}})));
  const Array mv = Array::from({{1, 2, 3}, {4, 5, 6}});
  std::vector<Variable> both = jacobian(dot(m, x), {x, m});
  EXPECT_TRUE(arrays_close(eval(both[0], {{x, xv}, {m, mv}}), mv));
  Array j_m = eval(both[1], {{x, xv}, {m, mv}});
  EXPECT_EQ(j_m.shape(), (Shape{2, 2, 3}));
  EXPECT_TRUE(arrays_close(j_m.index(0, 0).index(0, 0), xv));
  EXPECT_TRUE(arrays_close(j_m.index(0, 0).index(0, 1), Array::zeros({3})));
  // A scalar expression's jacobian is its gradient.
  EXPECT_TRUE(arrays_close(eval(jacobian(sum(x * x), x), {{x, xv}}), Array::from({2, 4, 6})));
}

TEST(Hessian, AndHessianVectorProducts) {
  Variable x = vector("x"), v = vector("v");
  // cost = sum(x^3) + x0 x1: H = diag(6x) + [[0,1,0],[1,0,0],[0,0,0]].
  Variable cost = sum(x * x * x) + x[{0}] * x[{1}];
  const Array xv = Array::from({1, 2, 3}), vv = Array::from({1, -1, 2});
  Array h = eval(hessian(cost, x), {{x, xv}});
  EXPECT_TRUE(arrays_close(h, Array::from({{6, 1, 0}, {1, 12, 0}, {0, 0, 18}})));
  Array hv = eval(hessian_vector_product(cost, {x}, {v}).at(0), {{x, xv}, {v, vv}});
  EXPECT_TRUE(arrays_close(hv, Array::from({5, -11, 36})));
  // The R op of the gradient and the double backward agree (the tutorial's two ways).
  Variable g = grad(cost, x);
  Array by_grad = eval(grad(sum(g * v), x), {{x, xv}, {v, vv}});
  EXPECT_TRUE(arrays_close(hv, by_grad));
}

}  // namespace
}  // namespace hypatia
