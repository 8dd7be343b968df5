// The demo's network at small scale: the loss falls and the model learns something.
#include <filesystem>

#include "backend/cuda/driver.h"
#include "fashion_mnist.h"
#include "mlp.h"
#include "test_util.h"

namespace hp = hypatia;

TEST(MnistTraining, LossFallsOnAFewHundredExamples) {
  if (!std::filesystem::exists(fashion_mnist::kDefaultDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto data = fashion_mnist::load(fashion_mnist::kDefaultDir, "train", 300);
  hp::Array images = hp::Array::from_vector(data.images, {data.num_examples, data.features()});
  hp::Array labels = hp::Array::from_vector(data.labels);
  MlpConfig config;
  config.hidden = 64;
  config.learning_rate = 0.2;
  Mlp mlp(config);
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 10; ++epoch) {
    double total = 0;
    for (int64_t start = 0; start < 300; start += 50) {
      hp::Slice rows{start, start + 50, 1};
      total += mlp.train_step(images.slice({rows}), labels.slice({rows}));
    }
    if (epoch == 0) first = total / 6;
    last = total / 6;
  }
  EXPECT_LT(last, first * 0.6) << "first epoch loss " << first << ", last " << last;
  EXPECT_GT(mlp.accuracy(images, labels), 0.6);
}

TEST(MnistTraining, Float64TrainsToo) {
  // Synthetic data keeps this independent of the dataset: two blobs, labels 0 and 1.
  hp::random::Generator rng(7);
  hp::Array images = rng.uniform({40, 8}, 0.0, 1.0);
  std::vector<int64_t> label_values(40);
  for (int64_t i = 0; i < 40; ++i) {
    label_values[i] = i % 2;
    for (int64_t j = 0; j < 4; ++j) images.set<double>({i, j + 4 * (i % 2)}, 2.0);
  }
  hp::Array labels = hp::Array::from_vector(label_values);
  MlpConfig config;
  config.inputs = 8;
  config.hidden = 16;
  config.classes = 2;
  config.dtype = hp::DType::Float64;
  config.learning_rate = 0.5;
  Mlp mlp(config);
  double first = mlp.train_step(images, labels), last = first;
  for (int step = 0; step < 50; ++step) last = mlp.train_step(images, labels);
  EXPECT_LT(last, first * 0.5);
  EXPECT_DOUBLE_EQ(mlp.accuracy(images, labels), 1.0);
}

// The seed's network on each kind of device (OpenCL: PoCL in make test; CUDA where a GPU is present):
// the same losses and accuracy as on the CPU, its weights in device memory, the ops with no device kernel
// on the host with transfers.
class MnistTrainingOnDevice : public ::testing::TestWithParam<hp::Device::Kind> {};

TEST_P(MnistTrainingOnDevice, TrainsAsOnTheCpu) {
  if (!std::filesystem::exists(fashion_mnist::kDefaultDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  std::string why;
  const std::string device = hp::testing::first_device(GetParam(), why);
  if (device.empty()) GTEST_SKIP() << why;
  auto data = fashion_mnist::load(fashion_mnist::kDefaultDir, "train", 300);
  hp::Array images = hp::Array::from_vector(data.images, {data.num_examples, data.features()});
  hp::Array labels = hp::Array::from_vector(data.labels);
  auto train = [&](const std::string& on) {
    MlpConfig config;
    config.hidden = 64;
    config.learning_rate = 0.2;
    config.device = on;
    Mlp mlp(config);
    std::vector<double> losses;
    for (int epoch = 0; epoch < 3; ++epoch)
      for (int64_t start = 0; start < 300; start += 50) {
        hp::Slice rows{start, start + 50, 1};
        losses.push_back(mlp.train_step(images.slice({rows}), labels.slice({rows})));
      }
    return std::make_pair(losses, mlp.accuracy(images, labels));
  };
  const auto [device_losses, device_accuracy] = train(device);
  const auto [cpu_losses, cpu_accuracy] = train("cpu");
  for (size_t k = 0; k < cpu_losses.size(); ++k) EXPECT_NEAR(device_losses[k], cpu_losses[k], 1e-4) << k;
  EXPECT_NEAR(device_accuracy, cpu_accuracy, 0.005);
}

INSTANTIATE_TEST_SUITE_P(, MnistTrainingOnDevice, ::testing::Values(hp::Device::Kind::OpenCL, hp::Device::Kind::Cuda),
                         [](const ::testing::TestParamInfo<hp::Device::Kind>& info) {
                           return std::string(info.param == hp::Device::Kind::OpenCL ? "opencl" : "cuda");
                         });
