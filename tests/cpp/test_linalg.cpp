// Linear algebra through the C++ API (hypatia/linalg.h): small matrices whose results are worked out by
// hand in the comments, gradients by finite differences, the rewrites, saving and loading, and errors.
#include <cmath>

#include "hypatia/linalg.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::run1;
using hp::testing::run_every_mode;
using hp::testing::values;
using hp::testing::throws_with;

namespace {


// [[4, 2], [2, 3]]: symmetric positive definite, det 8, inverse [[3, -2], [-2, 4]] / 8.
const Array kSpd = values({4, 2, 2, 3}, {2, 2});
// [[1, 2], [3, 4]]: det -2, inverse [[-2, 1], [1.5, -0.5]].
const Array kGeneral = values({1, 2, 3, 4}, {2, 2});

std::vector<std::string> op_names(const hp::Variable& out, const std::vector<hp::Variable>& inputs) {
  hp::Function f = hp::function(inputs, {out});
  std::vector<std::string> names;
  for (const auto& node : hp::toposort(f.graph_outputs())) names.push_back(node->op().name());
  return names;
}

}  // namespace

TEST(Linalg, InverseDeterminantAndSlogdetByHand) {
  auto a = hp::matrix("a");
  EXPECT_TRUE(arrays_close(run1({a}, hp::matrix_inverse(a), {kGeneral}), values({-2, 1, 1.5, -0.5}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::det(a), {kGeneral}), Array::scalar(-2)));
  hp::SignLogDet s = hp::slogdet(a);
  std::vector<Array> r = run_every_mode({a}, {s.sign, s.logabsdet}, {kGeneral});
  EXPECT_TRUE(arrays_close(r[0], Array::scalar(-1)));
  EXPECT_TRUE(arrays_close(r[1], Array::scalar(std::log(2.0))));
  // A singular matrix: det 0 and (0, -inf), as NumPy.
  const Array singular = values({1, 2, 2, 4}, {2, 2});
  EXPECT_TRUE(arrays_close(run1({a}, hp::det(a), {singular}), Array::scalar(0)));
  r = run_every_mode({a}, {s.sign, s.logabsdet}, {singular});
  EXPECT_EQ(r[0].item(), 0.0);
  EXPECT_TRUE(std::isinf(r[1].item()) && r[1].item() < 0);
}

TEST(Linalg, BatchesOfMatrices) {
  auto a = hp::tensor3("a");
  // det of [[2, 0], [0, 3]] is 6 and of [[1, 2], [3, 4]] is -2.
  const Array batch = values({2, 0, 0, 3, 1, 2, 3, 4}, {2, 2, 2});
  EXPECT_TRUE(arrays_close(run1({a}, hp::det(a), {batch}), values({6, -2}, {2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::matrix_inverse(a), {batch}), values({0.5, 0, 0, 1.0 / 3, -2, 1, 1.5, -0.5}, {2, 2, 2})));
}

TEST(Linalg, CholeskyReadsOneTriangle) {
  auto a = hp::matrix("a");
  // [[4, 2], [2, 3]] = L L^T with L = [[2, 0], [1, sqrt(2)]].
  const Array lower = values({2, 0, 1, std::sqrt(2.0)}, {2, 2});
  EXPECT_TRUE(arrays_close(run1({a}, hp::cholesky(a), {kSpd}), lower));
  EXPECT_TRUE(arrays_close(run1({a}, hp::cholesky(a, false), {kSpd}), values({2, 1, 0, std::sqrt(2.0)}, {2, 2})));
  // The upper triangle is not read: 99 there changes nothing.
  EXPECT_TRUE(arrays_close(run1({a}, hp::cholesky(a), {values({4, 99, 2, 3}, {2, 2})}), lower));
  hp::Function f = hp::function({a}, {hp::cholesky(a)});
  EXPECT_TRUE((throws_with<hp::LinAlgError>([&] { f({kGeneral}); }, {"[cholesky]", "not positive definite", "test_linalg.cpp"})));
}

TEST(Linalg, SolvesByHand) {
  auto a = hp::matrix("a"), b = hp::vector("b");
  // [[1, 2], [3, 4]] x = [5, 6]: x = inverse * b = [-2*5 + 6, 1.5*5 - 0.5*6] = [-4, 4.5].
  const Array rhs = values({5, 6}, {2});
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve(a, b), {kGeneral, rhs}), values({-4, 4.5}, {2})));
  // Transposed: [[1, 3], [2, 4]] x = [5, 6]: x = [[-2, 1.5], [1, -0.5]] [5, 6] = [-1, 2].
  hp::SolveOptions transposed;
  transposed.transposed = true;
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve(a, b, transposed), {kGeneral, rhs}), values({-1, 2}, {2})));
  // Lower triangle of [[1, 2], [3, 4]] is [[1, 0], [3, 4]]: x0 = 5, x1 = (6 - 15) / 4 = -2.25.
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve_triangular(a, b, true), {kGeneral, rhs}), values({5, -2.25}, {2})));
  // Upper: [[1, 2], [0, 4]]: x1 = 1.5, x0 = 5 - 3 = 2. With a unit diagonal: x1 = 6, x0 = 5 - 12 = -7.
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve_triangular(a, b, false), {kGeneral, rhs}), values({2, 1.5}, {2})));
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve_triangular(a, b, false, false, true), {kGeneral, rhs}), values({-7, 6}, {2})));
  // [[4, 2], [2, 3]] x = [8, 7]: x = [[3, -2], [-2, 4]] / 8 [8, 7] = [10 / 8, 12 / 8].
  const Array spd_rhs = values({8, 7}, {2});
  for (hp::MatrixStructure structure : {hp::MatrixStructure::General, hp::MatrixStructure::Symmetric,
                                        hp::MatrixStructure::PositiveDefinite}) {
    hp::SolveOptions options;
    options.structure = structure;
    EXPECT_TRUE(arrays_close(run1({a, b}, hp::solve(a, b, options), {kSpd, spd_rhs}), values({1.25, 1.5}, {2})));
  }
  // cho_solve with L = [[2, 0], [1, sqrt 2]]: the same system.
  const Array factor = values({2, 0, 1, std::sqrt(2.0)}, {2, 2});
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::cho_solve(a, b), {factor, spd_rhs}), values({1.25, 1.5}, {2})));
  hp::Function f = hp::function({a, b}, {hp::solve(a, b)});
  EXPECT_TRUE((throws_with<hp::LinAlgError>([&] { f({values({1, 2, 2, 4}, {2, 2}), rhs}); }, {"[solve]", "singular"})));
}

TEST(Linalg, EigenvaluesAndSingularValuesByHand) {
  auto a = hp::matrix("a");
  // [[2, 1], [1, 2]]: eigenvalues 1 and 3, eigenvectors (1, -1) / sqrt 2 and (1, 1) / sqrt 2.
  const Array sym = values({2, 1, 1, 2}, {2, 2});
  hp::Eigen e = hp::eigh(a);
  std::vector<Array> r = run_every_mode({a}, {e.values, e.vectors}, {sym});
  EXPECT_TRUE(arrays_close(r[0], values({1, 3}, {2})));
  const double h = 1 / std::sqrt(2.0);
  EXPECT_NEAR(std::fabs(r[1].at<double>({0, 1})), h, 1e-12);
  EXPECT_NEAR(r[1].at<double>({0, 0}) * r[1].at<double>({1, 0}), -0.5, 1e-12);  // (1, -1) up to sign
  // Singular values of [[3, 0], [4, 5]]: A^T A = [[25, 20], [20, 25]] has eigenvalues 45 and 5.
  EXPECT_TRUE(arrays_close(run1({a}, hp::singular_values(a), {values({3, 0, 4, 5}, {2, 2})}),
                           values({std::sqrt(45.0), std::sqrt(5.0)}, {2})));
  // A rotation by 90 degrees has eigenvalues +-i.
  hp::Eigen g = hp::eig(a);
  r = run_every_mode({a}, {g.values}, {values({0, -1, 1, 0}, {2, 2})});
  EXPECT_EQ(r[0].dtype(), DType::Complex128);
  EXPECT_NEAR(std::fabs(r[0].at<std::complex<double>>({0}).imag()), 1.0, 1e-12);
  EXPECT_NEAR(r[0].at<std::complex<double>>({0}).real(), 0.0, 1e-12);
}

TEST(Linalg, QrPinvLstsqExpmByHand) {
  auto a = hp::matrix("a"), b = hp::vector("b");
  // [[3], [4]] = q r with |r| = 5, q = (3, 4) / 5 (up to a shared sign).
  std::vector<hp::Variable> qr = hp::qr(a);
  std::vector<Array> r = run_every_mode({a}, qr, {values({3, 4}, {2, 1})});
  EXPECT_NEAR(std::fabs(r[1].item()), 5.0, 1e-12);
  EXPECT_NEAR(r[0].at<double>({0, 0}) * r[1].item(), 3.0, 1e-12);
  // pinv of the column (3, 4) is (3, 4) / 25.
  EXPECT_TRUE(arrays_close(run1({a}, hp::pinv(a), {values({3, 4}, {2, 1})}), values({0.12, 0.16}, {1, 2})));
  // Least squares of [1, 1, 1]^T x = [1, 2, 6]: x = 3, residual 4 + 1 + 9 = 14, rank 1.
  hp::LeastSquares ls = hp::lstsq(a, b);
  r = run_every_mode({a, b}, {ls.x, ls.residuals, ls.rank, ls.s}, {values({1, 1, 1}, {3, 1}), values({1, 2, 6}, {3})});
  EXPECT_TRUE(arrays_close(r[0], values({3}, {1})));
  EXPECT_TRUE(arrays_close(r[1], values({14}, {1})));
  EXPECT_EQ(r[2].item(), 1.0);
  EXPECT_TRUE(arrays_close(r[3], values({std::sqrt(3.0)}, {1})));
  // exp([[0, t], [-t, 0]]) is the rotation [[cos t, sin t], [-sin t, cos t]]; exp of a nilpotent N is I + N.
  const double t = 0.7;
  EXPECT_TRUE(arrays_close(run1({a}, hp::expm(a), {values({0, t, -t, 0}, {2, 2})}),
                           values({std::cos(t), std::sin(t), -std::sin(t), std::cos(t)}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::expm(a), {values({0, 40, 0, 0}, {2, 2})}), values({1, 40, 0, 1}, {2, 2})));
  // A large norm takes the squarings: exp(diag(10, -10)).
  EXPECT_TRUE(arrays_close(run1({a}, hp::expm(a), {values({10, 0, 0, -10}, {2, 2})}),
                           values({std::exp(10.0), 0, 0, std::exp(-10.0)}, {2, 2}), 1e-12, 1e-15));
}

TEST(Linalg, CompositionsByHand) {
  auto a = hp::matrix("a"), v = hp::vector("v");
  // [[1, 2], [3, 4]]^3 = [[37, 54], [81, 118]]; ^0 the identity; ^-1 the inverse.
  EXPECT_TRUE(arrays_close(run1({a}, hp::matrix_power(a, 3), {kGeneral}), values({37, 54, 81, 118}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::matrix_power(a, 0), {kGeneral}), values({1, 0, 0, 1}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::matrix_power(a, -1), {kGeneral}), values({-2, 1, 1.5, -0.5}, {2, 2})));
  // kron([1, 2], [[1, 2], [3, 4]]) = [[1, 2, 2, 4], [3, 4, 6, 8]].
  EXPECT_TRUE(arrays_close(run1({v, a}, hp::kron(v, a), {values({1, 2}, {2}), kGeneral}), values({1, 2, 2, 4, 3, 4, 6, 8}, {2, 4})));
  // Norms of [[1, 2], [3, 4]]: Frobenius sqrt 30, 1-norm max column sum 6, inf-norm max row sum 7.
  EXPECT_TRUE(arrays_close(run1({a}, hp::norm(a), {kGeneral}), Array::scalar(std::sqrt(30.0))));
  EXPECT_TRUE(arrays_close(run1({a}, hp::norm(a, 1), {kGeneral}), Array::scalar(6)));
  EXPECT_TRUE(arrays_close(run1({a}, hp::norm(a, INFINITY), {kGeneral}), Array::scalar(7)));
  EXPECT_TRUE(arrays_close(run1({v}, hp::norm(v, 3), {values({1, -2}, {2})}), Array::scalar(std::cbrt(9.0))));
  // tril and triu.
  EXPECT_TRUE(arrays_close(run1({a}, hp::tril(a), {kGeneral}), values({1, 0, 3, 4}, {2, 2})));
  EXPECT_TRUE(arrays_close(run1({a}, hp::triu(a, 1), {kGeneral}), values({0, 2, 0, 0}, {2, 2})));
}

TEST(Linalg, GradientsByFiniteDifferences) {
  const Array m = values({2.0, 0.5, -0.3, 0.4, 1.5, 0.2, 0.1, -0.6, 1.8}, {3, 3});
  const Array spd = values({4.0, 1.0, 0.5, 1.0, 3.0, 0.2, 0.5, 0.2, 2.0}, {3, 3});
  const Array rhs = values({1.0, -2.0, 0.5, 0.3, 2.0, -1.0}, {3, 2});
  using V = std::vector<hp::Variable>;
  expect_grad_ok([](const V& x) { return hp::matrix_inverse(x[0]); }, {m});
  expect_grad_ok([](const V& x) { return hp::det(x[0]); }, {m});
  expect_grad_ok([](const V& x) { return hp::slogdet(x[0]).logabsdet; }, {m});
  expect_grad_ok([](const V& x) { return hp::cholesky(x[0]); }, {spd});
  expect_grad_ok([](const V& x) { return hp::solve(x[0], x[1]); }, {m, rhs});
  expect_grad_ok([](const V& x) { return hp::solve_triangular(x[0], x[1], true, true); }, {m, rhs});
  expect_grad_ok([](const V& x) { return hp::cho_solve(x[0], x[1]); }, {values({2, 0, 0, 1, 3, 0, 0.5, 0.2, 1.5}, {3, 3}), rhs});
  expect_grad_ok([](const V& x) { return hp::eigh(x[0]).values; }, {spd});
  expect_grad_ok([](const V& x) { return hp::singular_values(x[0]); }, {m});
  expect_grad_ok([](const V& x) { return hp::qr(x[0])[1]; }, {rhs});
  expect_grad_ok([](const V& x) { return hp::pinv(x[0]); }, {rhs});
  expect_grad_ok([](const V& x) { return hp::expm(x[0]); }, {m});
  // Cholesky's shortcuts: a log-determinant (equal and unequal weights) and solves with the factor, for
  // both triangles, with a term of Murray's beside them.
  for (bool lower : {true, false}) {
    expect_grad_ok(
        [lower](const V& x) {
          const hp::Variable l = hp::cholesky(x[0], lower);
          const hp::Variable logs = hp::log(hp::diagonal(l));
          return hp::sum(logs) + hp::sum(logs * hp::constant(values({1, 2, 3}, {3}))) + hp::sum(hp::sqr(hp::cho_solve(l, x[1], lower))) +
                 hp::sum(l * l);
        },
        {spd, rhs});
  }
}

TEST(Linalg, TheLogDeterminantsGradientThroughCholeskyByHand) {
  // d/dK sum(log(diag(chol(K)))) = d/dK log(det(K)) / 2 = K^-1 / 2 on the read triangle, each off-diagonal
  // entry counted twice: K = [[4, 2], [2, 3]], K^-1 = [[3, -2], [-2, 4]] / 8, so [[3/16, 0], [-1/4, 1/4]].
  auto a = hp::matrix("a");
  const hp::Variable cost = hp::sum(hp::log(hp::diagonal(hp::cholesky(a))));
  EXPECT_TRUE(arrays_close(run1({a}, hp::grad(cost, a), {kSpd}), values({3.0 / 16, 0, -0.25, 0.25}, {2, 2})));
  const std::vector<std::string> names = op_names(hp::grad(cost, a), {a});
  EXPECT_TRUE(std::find(names.begin(), names.end(), "cholesky_inverse") != names.end());
}

TEST(Linalg, RewritesRemoveWork) {
  auto a = hp::matrix("a"), b = hp::matrix("b");
  // dot(inv(A), B) is one solve; the values are the solve's.
  EXPECT_EQ(op_names(hp::dot(hp::matrix_inverse(a), b), {a, b}), std::vector<std::string>{"solve"});
  const Array rhs = values({1, 2, 3, 4}, {2, 2});
  // inv([[1, 2], [3, 4]]) [[1, 2], [3, 4]] = I.
  EXPECT_TRUE(arrays_close(run1({a, b}, hp::dot(hp::matrix_inverse(a), b), {kGeneral, rhs}), values({1, 0, 0, 1}, {2, 2})));
  // det of a Cholesky factor: the product of its diagonal, 2 * sqrt 2.
  const hp::Variable d = hp::det(hp::cholesky(a));
  const std::vector<std::string> names = op_names(d, {a});
  EXPECT_TRUE(std::find(names.begin(), names.end(), "det") == names.end());
  EXPECT_TRUE(arrays_close(run1({a}, d, {kSpd}), Array::scalar(2 * std::sqrt(2.0))));
  // log(det(A)) of a matrix whose determinant overflows float64: 400 * log(1e3) through slogdet.
  hp::Function logdet = hp::function({a}, {hp::log(hp::det(a))});
  Array scaled = Array::zeros({400, 400});
  for (int64_t i = 0; i < 400; ++i) scaled.set<double>({i, i}, 1e3);
  EXPECT_NEAR(logdet({scaled})[0].item(), 400 * std::log(1e3), 1e-9);
}

TEST(Linalg, OneMatrixIsFactoredOnce) {
  auto a = hp::matrix("a"), v = hp::vector("v");
  // A likelihood's solve and log-determinant and their gradients (solves of A^T, an inverse) read one LU.
  const hp::Variable cost = 0.5 * hp::dot(v, hp::solve(a, v)) + 0.5 * hp::slogdet(a).logabsdet;
  const hp::Variable g = hp::grad(cost, a);
  std::vector<std::string> names = op_names(cost + hp::sum(g), {a, v});
  EXPECT_EQ(std::count(names.begin(), names.end(), "lu_factor"), 1);
  // [[4, 2], [2, 3]], v = [8, 7]: solve = [1.25, 1.5], v.x = 10 + 10.5 = 20.5, log det 8; the gradient is
  // -x x^T / 2 + inv(A)^T / 2 = -[[1.5625, 1.875], [1.875, 2.25]] / 2 + [[3, -2], [-2, 4]] / 16.
  std::vector<hp::Array> r = run_every_mode({a, v}, {cost, g}, {kSpd, values({8, 7}, {2})});
  EXPECT_NEAR(r[0].item(), 0.5 * 20.5 + 0.5 * std::log(8.0), 1e-12);
  EXPECT_TRUE(arrays_close(r[1], values({-1.5625 / 2 + 3.0 / 16, -1.875 / 2 - 2.0 / 16, -1.875 / 2 - 2.0 / 16, -2.25 / 2 + 4.0 / 16}, {2, 2})));
  // A singular matrix: the shared factors report it where each op would.
  hp::Function f = hp::function({a, v}, {hp::solve(a, v), hp::det(a)});
  EXPECT_TRUE((throws_with<hp::LinAlgError>([&] { f({values({1, 2, 2, 4}, {2, 2}), values({1, 1}, {2})}); }, {"[solve]", "singular"})));
}

TEST(Linalg, SavedAndLoaded) {
  auto a = hp::matrix("a"), b = hp::matrix("b");
  hp::SolveOptions options;
  options.structure = hp::MatrixStructure::PositiveDefinite;
  options.lower = true;
  const hp::Variable out = hp::solve(a, b, options) + hp::expm(a) + hp::qr(a)[0] + hp::svd(a, false).u;
  const auto [inputs, outputs] = hp::load_graph(hp::save_graph({a, b}, {out}));
  const Array x = run1(inputs, outputs[0], {kSpd, kGeneral}), y = run1({a, b}, out, {kSpd, kGeneral});
  EXPECT_TRUE(arrays_close(x, y));
}

TEST(Linalg, ErrorsNameTheOpAndShapes) {
  auto a = hp::matrix("a"), v = hp::vector("v");
  EXPECT_TRUE((throws_with<hp::ValueError>([&] { hp::matrix_inverse(v); }, {"[matrix_inverse]", "float64(?,)"})));
  auto rect = hp::tensor(DType::Float64, {2, 3}, "rect");
  EXPECT_TRUE((throws_with<hp::ValueError>([&] { hp::det(rect); }, {"[det]", "square", "float64(2, 3)", "test_linalg.cpp"})));
  EXPECT_TRUE((throws_with<hp::TypeError>([&] { hp::matrix_inverse(hp::matrix("z", DType::Complex128)); }, {"[matrix_inverse]", "complex128"})));
  EXPECT_EQ(hp::matrix_inverse(hp::matrix("h", DType::Float16)).dtype(), DType::Float32);  // SciPy's rule
  EXPECT_EQ(hp::solve(hp::matrix("i", DType::Int8), hp::vector("f", DType::Float32)).dtype(), DType::Float32);
  hp::Function f = hp::function({a}, {hp::matrix_inverse(a)});
  EXPECT_TRUE((throws_with<hp::LinAlgError>([&] { f({Array::zeros({2, 2})}); }, {"[matrix_inverse]", "singular", "test_linalg.cpp"})));
  EXPECT_TRUE((throws_with<hp::ValueError>([&] { f({Array::zeros({2, 3})}); }, {"[matrix_inverse]", "square", "(2, 3)"})));
  hp::Function s = hp::function({a, v}, {hp::solve(a, v)});
  EXPECT_TRUE((throws_with<hp::ShapeError>([&] { s({kGeneral, values({1, 2, 3}, {3})}); }, {"[solve]", "do not fit"})));
}
