// The LeNet example at small scale: the loss falls and the model learns something.
#include <filesystem>

#include "fashion_mnist.h"
#include "lenet.h"
#include "test_util.h"

namespace hp = hypatia;

TEST(LeNetTraining, LossFallsOnAFewHundredExamples) {
  if (!std::filesystem::exists(fashion_mnist::kDefaultDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto data = fashion_mnist::load(fashion_mnist::kDefaultDir, "train", 500);
  hp::Array images = hp::Array::from_vector(data.images, {data.num_examples, data.features()});
  hp::Array labels = hp::Array::from_vector(data.labels);
  LeNetConfig config;
  config.batch_size = 50;
  config.kernels = {8, 16};
  config.hidden = 64;
  LeNet lenet(config);
  double first = 0, last = 0;
  for (int epoch = 0; epoch < 6; ++epoch) {
    double total = 0;
    for (int64_t start = 0; start < 500; start += 50) {
      hp::Slice rows{start, start + 50, 1};
      total += lenet.train_step(images.slice({rows}), labels.slice({rows}));
    }
    if (epoch == 0) first = total / 10;
    last = total / 10;
  }
  EXPECT_LT(last, first * 0.7) << "first epoch loss " << first << ", last " << last;
  EXPECT_GT(lenet.accuracy(images, labels), 0.6);
}
