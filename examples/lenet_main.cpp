// The convolutional-network tutorial's LeNet trained on Fashion-MNIST from C++ (lenet.py is the same model
// written with Theano's Python API).
//
//   lenet [--data-dir DIR] [--epochs N] [--batch-size N] [--lr X] [--limit N] [--device cpu|opencl0:0] [--profile]
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>

#include "batches.h"
#include "lenet.h"

namespace hp = hypatia;

namespace {

struct Options {
  std::string data_dir = fashion_mnist::kDefaultDir;
  int epochs = 5;
  LeNetConfig model;
  int64_t limit = 0;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "lenet: " << problem << "\n"
            << "usage: lenet [--data-dir DIR] [--epochs N] [--batch-size N] [--lr X] [--limit N] [--device D] [--profile]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("trains the LeNet tutorial's network on Fashion-MNIST");
    if (flag == "--profile") {
      options.model.profile = true;
      continue;
    }
    if (i + 1 >= argc) usage("missing value after " + flag);
    std::string value = argv[++i];
    try {
      if (flag == "--data-dir") options.data_dir = value;
      else if (flag == "--epochs") options.epochs = std::stoi(value);
      else if (flag == "--batch-size") options.model.batch_size = std::stoll(value);
      else if (flag == "--lr") options.model.learning_rate = std::stod(value);
      else if (flag == "--limit") options.limit = std::stoll(value);
      else if (flag == "--device") options.model.device = value == "opencl" ? "opencl0:0" : value;
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    }
  }
  if (options.epochs < 0 || options.model.batch_size <= 0 || options.model.learning_rate <= 0 || options.limit < 0)
    usage("epochs, batch size, learning rate and limit must be positive");
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  try {
    Split train = to_arrays(fashion_mnist::load(options.data_dir, "train", options.limit), hp::DType::Float32);
    Split test = to_arrays(fashion_mnist::load(options.data_dir, "t10k"), hp::DType::Float32);
    LeNet lenet(options.model);
    std::printf("LeNet (conv 5x5 x%lld, pool 2, conv 5x5 x%lld, pool 2, tanh %lld, softmax %lld), batch %lld, learning rate %g\n",
                static_cast<long long>(options.model.kernels[0]), static_cast<long long>(options.model.kernels[1]),
                static_cast<long long>(options.model.hidden), static_cast<long long>(options.model.classes),
                static_cast<long long>(options.model.batch_size), options.model.learning_rate);
    hp::random::Generator shuffler(options.model.seed + 1);
    const int64_t n = train.images.shape(0), batches = n / options.model.batch_size;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      auto start = std::chrono::steady_clock::now();
      hp::Array order = shuffler.permutation(n);
      hp::Array images = gather_rows(train.images, order), labels = gather_rows(train.labels, order);
      double loss_sum = 0;
      for (int64_t i = 0; i < batches; ++i) {
        hp::Slice rows{i * options.model.batch_size, (i + 1) * options.model.batch_size, 1};
        loss_sum += lenet.train_step(images.slice({rows}), labels.slice({rows}));
      }
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("epoch %d  train loss %.4f  test accuracy %.4f  %.1f s\n", epoch, loss_sum / static_cast<double>(std::max<int64_t>(batches, 1)),
                  lenet.accuracy(test.images, test.labels), seconds);
      std::fflush(stdout);
    }
    if (options.model.profile) std::printf("%s", lenet.train_function().profile_summary().c_str());
  } catch (const fashion_mnist::DataError& e) {
    std::cerr << "lenet: " << e.what() << "\n";
    return 1;
  } catch (const hp::Error& e) {
    std::cerr << "lenet: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
