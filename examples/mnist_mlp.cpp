// `make demo`: the seed's network trained on Fashion-MNIST from C++.
//
//   mnist_mlp [--data-dir DIR] [--epochs N] [--batch-size N] [--lr X] [--dtype float32|float64]
//             [--seed N] [--limit N] [--device cpu|opencl0:0]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "batches.h"
#include "fashion_mnist.h"
#include "mlp.h"

namespace hp = hypatia;

namespace {

struct Options {
  std::string data_dir = fashion_mnist::kDefaultDir;
  int epochs = 5;
  int64_t batch_size = 100;
  double learning_rate = 0.1;
  hp::DType dtype = hp::DType::Float32;
  uint64_t seed = 1234;
  int64_t limit = 0;  // 0: every training example
  std::string device;  // empty: config().device (HYPATIA_FLAGS=device=...)
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "mnist_mlp: " << problem << "\n"
            << "usage: mnist_mlp [--data-dir DIR] [--epochs N] [--batch-size N] [--lr X]\n"
            << "                 [--dtype float32|float64] [--seed N] [--limit N] [--device cpu|opencl0:0]\n";
  std::exit(2);
}

Options parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage("trains the seed's MLP on Fashion-MNIST");
    if (i + 1 >= argc) usage("missing value after " + flag);
    std::string value = argv[++i];
    try {
      if (flag == "--data-dir") options.data_dir = value;
      else if (flag == "--epochs") options.epochs = std::stoi(value);
      else if (flag == "--batch-size") options.batch_size = std::stoll(value);
      else if (flag == "--lr") options.learning_rate = std::stod(value);
      else if (flag == "--dtype") options.dtype = hp::dtype_from_name(value);
      else if (flag == "--seed") options.seed = std::stoull(value);
      else if (flag == "--limit") options.limit = std::stoll(value);
      else if (flag == "--device") options.device = value == "opencl" ? "opencl0:0" : value;
      else usage("unknown flag " + flag);
    } catch (const std::logic_error&) {
      usage("bad value '" + value + "' for " + flag);
    } catch (const hp::Error& e) {
      usage(e.what());
    }
  }
  if (options.epochs < 0 || options.batch_size <= 0 || options.learning_rate <= 0 || options.limit < 0)
    usage("epochs, batch size, learning rate and limit must be positive");
  if (!hp::is_float(options.dtype)) usage("--dtype must be float32 or float64");
  return options;
}

void draw_progress(int epoch, int64_t done, int64_t total, double loss, bool interactive) {
  if (!interactive) return;
  constexpr int kWidth = 30;
  int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::fprintf(stderr, "\repoch %d [%s%s] %3d%%  loss %.4f", epoch, std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), total ? static_cast<int>(100 * done / total) : 100, loss);
  if (done == total) std::fprintf(stderr, "\r%*s\r", kWidth + 40, "");
  std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse_options(argc, argv);
  try {
    auto t0 = std::chrono::steady_clock::now();
    Split train = to_arrays(fashion_mnist::load(options.data_dir, "train", options.limit), options.dtype);
    Split test = to_arrays(fashion_mnist::load(options.data_dir, "t10k"), options.dtype);
    std::printf("Fashion-MNIST: %lld training and %lld test images of %lld pixels (%s), loaded in %.2f s\n",
                static_cast<long long>(train.images.shape(0)), static_cast<long long>(test.images.shape(0)),
                static_cast<long long>(train.images.shape(1)), std::string(hp::dtype_name(options.dtype)).c_str(),
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

    MlpConfig config;
    config.inputs = train.images.shape(1);
    config.learning_rate = options.learning_rate;
    config.dtype = options.dtype;
    config.seed = options.seed;
    config.device = options.device;
    Mlp mlp(config);
    std::printf("MLP %lld-%lld-%lld, batch %lld, learning rate %g, on %s\n", static_cast<long long>(config.inputs),
                static_cast<long long>(config.hidden), static_cast<long long>(config.classes),
                static_cast<long long>(options.batch_size), options.learning_rate,
                (options.device.empty() ? hp::config().device : options.device).c_str());

    hp::random::Generator shuffler(options.seed + 1);
    const bool interactive = isatty(fileno(stderr));
    const int64_t n = train.images.shape(0);
    const int64_t batches = n / options.batch_size;
    for (int epoch = 1; epoch <= options.epochs; ++epoch) {
      auto start = std::chrono::steady_clock::now();
      hp::Array order = shuffler.permutation(n);
      hp::Array images = gather_rows(train.images, order), labels = gather_rows(train.labels, order);
      double loss_sum = 0;
      for (int64_t i = 0; i < batches; ++i) {
        hp::Slice rows{i * options.batch_size, (i + 1) * options.batch_size, 1};
        loss_sum += mlp.train_step(images.slice({rows}), labels.slice({rows}));
        draw_progress(epoch, i + 1, batches, loss_sum / static_cast<double>(i + 1), interactive);
      }
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      double accuracy = mlp.accuracy(test.images, test.labels);
      std::printf("epoch %d  train loss %.4f  test accuracy %.4f  %.2f s\n", epoch,
                  batches ? loss_sum / static_cast<double>(batches) : 0.0, accuracy, seconds);
      std::fflush(stdout);
    }
  } catch (const fashion_mnist::DataError& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 1;
  } catch (const hp::Error& e) {
    std::cerr << "mnist_mlp: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
