// The seed's network: 784-500-10, a tanh hidden layer and a softmax output trained with
// cross-entropy by minibatch SGD. Shared by examples/mnist_mlp.cpp and its test.
#pragma once
#include <cstdint>
#include <string>

#include "hypatia/hypatia.h"

struct MlpConfig {
  int64_t inputs = 784;
  int64_t hidden = 500;
  int64_t classes = 10;
  double learning_rate = 0.1;
  hypatia::DType dtype = hypatia::DType::Float32;
  uint64_t seed = 1234;
  bool profile = false;  // time every node of the training function (Function::profile_summary)
  std::string device;    // where the functions run ("cpu", "opencl0:0"); empty: config().device
};

class Mlp {
 public:
  explicit Mlp(const MlpConfig& config);
  // One SGD step on a batch; returns the batch's mean loss (before the step).
  double train_step(const hypatia::Array& images, const hypatia::Array& labels);
  hypatia::Array predict(const hypatia::Array& images);  // int64 class labels
  double accuracy(const hypatia::Array& images, const hypatia::Array& labels);
  const hypatia::Function& train_function() const { return train_; }

 private:
  hypatia::Function train_, predict_;
};
