#include "seed_network.h"

namespace hp = hypatia;

std::vector<double> train_seed_network(const hp::Array& x, const hp::Array& y, int iterations, double lr) {
  // symbol declarations
  auto sx = hp::matrix();
  auto sy = hp::matrix();
  auto w = hp::shared(hp::random::normal({784, 500}, 0, .1));
  auto b = hp::shared(hp::Array::zeros({500}));
  auto v = hp::shared(hp::Array::zeros({500, 10}));
  auto c = hp::shared(hp::Array::zeros({10}));

  // symbolic expression-building
  auto hid = hp::tanh(hp::dot(sx, w) + b);
  auto out = hp::tanh(hp::dot(hid, v) + c);
  auto err = 0.5 * hp::sqr(hp::sum(out - sy));
  auto g = hp::grad(err, {w, b, v, c});
  auto [gw, gb, gv, gc] = std::tie(g[0], g[1], g[2], g[3]);

  // compile a fast training function
  auto train = hp::function({sx, sy}, {err},
                            {{w, w - lr * gw},
                             {b, b - lr * gb},
                             {v, v - lr * gv},
                             {c, c - lr * gc}});

  // now do the computations
  const int64_t batchsize = 100, batches = x.shape(0) / batchsize;
  std::vector<double> errors;
  for (int i = 0; i < iterations; ++i) {
    const int64_t k = i % batches;
    hp::Array x_i = x.slice({{k * batchsize, (k + 1) * batchsize, 1}});
    hp::Array y_i = y.slice({{k * batchsize, (k + 1) * batchsize, 1}});
    errors.push_back(train({x_i, y_i})[0].item());
  }
  return errors;
}
