// The convolutional-network tutorial's LeNet in C++: two convolution + max-pooling layers (20 and 50 filters
// of 5x5, tanh after the pooling and the bias), a 500-unit tanh layer and logistic regression, trained
// by minibatch SGD on the mean negative log-likelihood. Shared by examples/lenet_main.cpp and its test.
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "hypatia/hypatia.h"

struct LeNetConfig {
  int64_t batch_size = 20;  // the tutorial's is 500 (for 200 epochs); 20 reaches 0.89 within 5
  std::array<int64_t, 2> kernels{20, 50};
  int64_t hidden = 500;
  int64_t classes = 10;
  double learning_rate = 0.1;
  uint64_t seed = 23455;
  bool profile = false;
  std::string device;  // empty: config().device
};

class LeNet {
 public:
  explicit LeNet(const LeNetConfig& config);
  // One SGD step on a batch of batch_size images (rows of 784 pixels) and int64 labels; the mean loss.
  double train_step(const hypatia::Array& images, const hypatia::Array& labels);
  hypatia::Array predict(const hypatia::Array& images);  // int64 labels, any number of images
  double accuracy(const hypatia::Array& images, const hypatia::Array& labels);
  const hypatia::Function& train_function() const { return train_; }

 private:
  hypatia::Function train_, predict_;
};
