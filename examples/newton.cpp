// Newton's method: the compiled function gives the cost, its gradient and its Hessian; each step solves
// H d = g (a 5 x 5 system, by Gaussian elimination with partial pivoting).
#include "newton.h"

#include <cmath>
#include <random>
#include <utility>

#include "hypatia/hypatia.h"

namespace hp = hypatia;

namespace {

// Solves a x = b for a small dense a (n x n) in place.
std::vector<double> solve(std::vector<std::vector<double>> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t row = col + 1; row < n; ++row)
      if (std::abs(a[row][col]) > std::abs(a[pivot][col])) pivot = row;
    std::swap(a[col], a[pivot]);
    std::swap(b[col], b[pivot]);
    for (size_t row = col + 1; row < n; ++row) {
      const double factor = a[row][col] / a[col][col];
      for (size_t k = col; k < n; ++k) a[row][k] -= factor * a[col][k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (size_t row = n; row-- > 0;) {
    double sum = b[row];
    for (size_t k = row + 1; k < n; ++k) sum -= a[row][k] * x[k];
    x[row] = sum / a[row][row];
  }
  return x;
}

}  // namespace

std::vector<double> newton_logistic_regression(int iterations) {
  const int samples = 200, features = 5;
  std::mt19937_64 rng(0);
  std::normal_distribution<double> gauss(0, 1);
  hp::Array X = hp::Array::empty({samples, features}), y = hp::Array::empty({samples});
  std::vector<double> true_w(features);
  for (double& w : true_w) w = gauss(rng);
  for (int i = 0; i < samples; ++i) {
    double margin = 0.5 * gauss(rng);
    for (int j = 0; j < features; ++j) {
      X.set<double>({i, j}, gauss(rng));
      margin += X.at<double>({i, j}) * true_w[j];
    }
    y.set<double>({i}, margin > 0 ? 1.0 : -1.0);
  }

  hp::Variable w = hp::vector("w");
  hp::Variable margins = hp::constant(y) * hp::dot(hp::constant(X), w);
  hp::Variable cost = hp::mean(hp::softplus(-margins)) + 0.5 * 0.1 * hp::sum(hp::sqr(w));
  hp::Function derivatives = hp::function({w}, {hp::grad(cost, w), hp::hessian(cost, w)});

  std::vector<double> weights(features, 0.0), norms;
  for (int k = 0; k < iterations; ++k) {
    std::vector<hp::Array> gh = derivatives({hp::Array::from_vector(weights)});
    std::vector<double> g(features);
    std::vector<std::vector<double>> H(features, std::vector<double>(features));
    double norm = 0;
    for (int i = 0; i < features; ++i) {
      g[i] = gh[0].at<double>({i});
      norm += g[i] * g[i];
      for (int j = 0; j < features; ++j) H[i][j] = gh[1].at<double>({i, j});
    }
    norms.push_back(std::sqrt(norm));
    const std::vector<double> step = solve(H, g);
    for (int i = 0; i < features; ++i) weights[i] -= step[i];
  }
  return norms;
}
