// The seed's Theano program in C++, on Fashion-MNIST with one-hot targets:
//   seed_network [--iterations N] [--lr X] [--data-dir DIR]
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include "fashion_mnist.h"
#include "seed_network.h"

namespace hp = hypatia;

int main(int argc, char** argv) {
  int iterations = 1000;
  double lr = 1e-7;  // the seed leaves lr open; its error sums over the batch before squaring, so it must be small
  std::string data_dir = fashion_mnist::kDefaultDir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--iterations") iterations = std::atoi(argv[i + 1]);
    else if (flag == "--lr") lr = std::atof(argv[i + 1]);
    else if (flag == "--data-dir") data_dir = argv[i + 1];
    else {
      std::cerr << "usage: seed_network [--iterations N] [--lr X] [--data-dir DIR]\n";
      return 2;
    }
  }
  try {
    auto data = fashion_mnist::load(data_dir, "train", 10000);
    hp::Array x = hp::Array::from_vector(data.images, {data.num_examples, data.features()}).astype(hp::DType::Float64);
    hp::Array y = hp::Array::zeros({data.num_examples, 10});
    for (int64_t i = 0; i < data.num_examples; ++i) y.set<double>({i, data.labels[i]}, 1.0);
    std::vector<double> errors = train_seed_network(x, y, iterations, lr);
    for (size_t i = 0; i < errors.size(); i += std::max<size_t>(errors.size() / 10, 1))
      std::printf("iteration %4zu  err %.4f\n", i, errors[i]);
    std::printf("iteration %4zu  err %.4f\n", errors.size() - 1, errors.back());
  } catch (const std::exception& e) {
    std::cerr << "seed_network: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
