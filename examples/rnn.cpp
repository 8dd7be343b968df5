// The Elman network of examples/rnn.py in C++: scan over the sequence, grad through time, RMSprop.
#include "rnn.h"

#include <random>

#include "hypatia/hypatia.h"

namespace hp = hypatia;

namespace {

struct Batch {
  hp::Array inputs, targets;  // (length, batch, 2): a number and a marker per step; (batch, 1)
};

Batch adding_problem(std::mt19937_64& rng, int batch, int length) {
  std::uniform_real_distribution<double> uniform(0, 1);
  std::uniform_int_distribution<int> position(0, length - 1);
  Batch b{hp::Array::zeros({length, batch, 2}), hp::Array::zeros({batch, 1})};
  for (int j = 0; j < batch; ++j) {
    int first = position(rng), second = position(rng);
    while (second == first) second = position(rng);
    double target = 0;
    for (int t = 0; t < length; ++t) {
      const double value = uniform(rng);
      const bool marked = t == first || t == second;
      b.inputs.set<double>({t, j, 0}, value);
      b.inputs.set<double>({t, j, 1}, marked ? 1.0 : 0.0);
      if (marked) target += value;
    }
    b.targets.set<double>({j, 0}, target);
  }
  return b;
}

hp::Array normal(std::mt19937_64& rng, hp::Shape shape, double scale) {
  std::normal_distribution<double> gauss(0, scale);
  hp::Array a = hp::Array::empty(shape);
  for (int64_t i = 0; i < a.size(); ++i) a.set_from_double(i, gauss(rng));
  return a;
}

}  // namespace

std::vector<double> train_adding_rnn(int steps, int length, int hidden, double lr) {
  std::mt19937_64 rng(0);
  hp::Array recurrent = normal(rng, {hidden, hidden}, 0.01);
  for (int i = 0; i < hidden; ++i) recurrent.set<double>({i, i}, recurrent.at<double>({i, i}) + 0.9);
  hp::SharedVariable W_in = hp::shared(normal(rng, {2, hidden}, 0.5), "W_in");
  hp::SharedVariable W_rec = hp::shared(recurrent, "W_rec");
  hp::SharedVariable b = hp::shared(hp::Array::zeros({hidden}), "b");
  hp::SharedVariable W_out = hp::shared(normal(rng, {hidden, 1}, 0.1), "W_out");
  hp::SharedVariable b_out = hp::shared(hp::Array::ones({1}), "b_out");
  const std::vector<hp::SharedVariable> params{W_in, W_rec, b, W_out, b_out};

  hp::Variable x = hp::tensor3("x"), y = hp::matrix("y");
  hp::Variable h0 = hp::zeros({hp::shape_i(x, 1), hidden});
  hp::ScanResult h = hp::scan(
      [&](const std::vector<hp::Variable>& a) {
        return hp::ScanStep(hp::tanh(hp::dot(a[0], W_in) + hp::dot(a[1], W_rec) + b));
      },
      {x}, {hp::OutputInfo(h0)});
  hp::Variable prediction = hp::dot(h[0][{-1}], W_out) + b_out;
  hp::Variable loss = hp::mean(hp::sqr(prediction - y));
  std::vector<hp::Variable> wrt(params.begin(), params.end());
  std::vector<hp::Variable> grads = hp::grad(loss, wrt);
  hp::Updates updates;
  for (size_t k = 0; k < params.size(); ++k) {
    hp::SharedVariable mean_square = hp::shared(hp::Array::zeros(params[k].get_value().shape()));
    hp::Variable new_mean_square = 0.9 * mean_square + 0.1 * hp::sqr(grads[k]);
    updates.emplace_back(mean_square, new_mean_square);
    updates.emplace_back(params[k], params[k] - lr * grads[k] / (hp::sqrt(new_mean_square) + 1e-6));
  }
  hp::Function train = hp::function({x, y}, {loss}, updates);
  hp::Function evaluate = hp::function({x, y}, {loss});

  const Batch test = adding_problem(rng, 500, length);
  std::vector<double> losses{evaluate({test.inputs, test.targets})[0].item()};
  for (int step = 1; step <= steps; ++step) {
    const Batch batch = adding_problem(rng, 32, length);
    train({batch.inputs, batch.targets});
    if (step % 250 == 0) losses.push_back(evaluate({test.inputs, test.targets})[0].item());
  }
  return losses;
}
