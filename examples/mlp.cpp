#include "mlp.h"

namespace hp = hypatia;

Mlp::Mlp(const MlpConfig& config) {
  const hp::DType dt = config.dtype;
  hp::random::Generator rng(config.seed);

  // symbol declarations
  auto x = hp::matrix("x", dt);
  auto y = hp::vector("y", hp::DType::Int64);  // class labels
  auto w = hp::shared(rng.normal({config.inputs, config.hidden}, 0.0, 0.1, dt), "w");
  auto b = hp::shared(hp::Array::zeros({config.hidden}, dt), "b");
  auto v = hp::shared(hp::Array::zeros({config.hidden, config.classes}, dt), "v");
  auto c = hp::shared(hp::Array::zeros({config.classes}, dt), "c");

  // symbolic expression-building
  auto hid = hp::tanh(hp::dot(x, w) + b);
  auto out = hp::softmax(hp::dot(hid, v) + c);
  auto err = hp::mean(hp::categorical_crossentropy(out, y));
  auto g = hp::grad(err, {w, b, v, c});

  // compile a training function and a prediction function
  const double lr = config.learning_rate;
  train_ = hp::function({x, y}, {err},
                        {{w, w - lr * g[0]}, {b, b - lr * g[1]}, {v, v - lr * g[2]}, {c, c - lr * g[3]}}, {},
                        {.device = config.device, .profile = config.profile});
  predict_ = hp::function({x}, {hp::argmax(out, 1)}, {}, {}, {.device = config.device});
}

double Mlp::train_step(const hp::Array& images, const hp::Array& labels) {
  return train_({images, labels})[0].item();
}

hp::Array Mlp::predict(const hp::Array& images) { return predict_({images})[0]; }

double Mlp::accuracy(const hp::Array& images, const hp::Array& labels) {
  hp::Array predicted = predict(images);
  int64_t correct = 0;
  for (int64_t i = 0; i < labels.size(); ++i) correct += predicted.at<int64_t>({i}) == labels.at<int64_t>({i});
  return labels.size() ? static_cast<double>(correct) / static_cast<double>(labels.size()) : 0.0;
}
