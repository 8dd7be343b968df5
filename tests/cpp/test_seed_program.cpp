// The seed's Theano program in C++ (examples/seed_network.cpp): its error falls.
#include <filesystem>
#include <numeric>

#include "fashion_mnist.h"
#include "seed_network.h"
#include "test_util.h"

namespace hp = hypatia;

TEST(SeedProgram, ErrorFalls) {
  if (!std::filesystem::exists(fashion_mnist::kDefaultDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto data = fashion_mnist::load(fashion_mnist::kDefaultDir, "train", 1000);
  hp::Array x = hp::Array::from_vector(data.images, {data.num_examples, data.features()}).astype(hp::DType::Float64);
  hp::Array y = hp::Array::zeros({data.num_examples, 10});
  for (int64_t i = 0; i < data.num_examples; ++i) y.set<double>({i, data.labels[i]}, 1.0);
  hp::random::seed(0);
  std::vector<double> errors = train_seed_network(x, y, 200, 1e-7);
  const double last = std::accumulate(errors.end() - 20, errors.end(), 0.0) / 20;
  EXPECT_EQ(errors.front(), 5000.0);  // out starts at 0: 0.5 * (sum of -y over 100 one-hot rows)^2
  EXPECT_LT(last, 0.5 * errors.front()) << "mean error of the last 20 steps";
}
