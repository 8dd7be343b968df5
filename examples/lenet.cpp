#include "lenet.h"

#include <cmath>

namespace hp = hypatia;

namespace {

// The tutorial's LeNetConvPoolLayer: tanh(max_pool(conv2d(input, W)) + b), W uniform in +-sqrt(6 / (fan_in +
// fan_out)) where fan_out counts the pooling.
struct ConvPoolLayer {
  hp::SharedVariable w, b;
  hp::Variable output;

  ConvPoolLayer(hp::random::Generator& rng, const hp::Variable& input, std::array<int64_t, 4> filter_shape) {
    const double fan_in = static_cast<double>(filter_shape[1] * filter_shape[2] * filter_shape[3]);
    const double fan_out = static_cast<double>(filter_shape[0] * filter_shape[2] * filter_shape[3] / 4);
    const double bound = std::sqrt(6.0 / (fan_in + fan_out));
    w = hp::shared(rng.uniform({filter_shape[0], filter_shape[1], filter_shape[2], filter_shape[3]}, -bound, bound,
                               hp::DType::Float32), "W");
    b = hp::shared(hp::Array::zeros({filter_shape[0]}, hp::DType::Float32), "b");
    auto conv_out = hp::conv2d(input, w);
    auto pooled_out = hp::pool_2d(conv_out, {2, 2}, {.ignore_border = true});
    output = hp::tanh(pooled_out + hp::dimshuffle(b, {hp::kNewAxis, 0, hp::kNewAxis, hp::kNewAxis}));
  }
};

}  // namespace

LeNet::LeNet(const LeNetConfig& config) {
  hp::random::Generator rng(config.seed);
  const auto f32 = hp::DType::Float32;
  auto x = hp::matrix("x", f32);                    // rasterized images
  auto y = hp::vector("y", hp::DType::Int64);       // their labels
  auto images = hp::reshape(x, {-1, 1, 28, 28});

  ConvPoolLayer layer0(rng, images, {config.kernels[0], 1, 5, 5});                      // -> (batch, 20, 12, 12)
  ConvPoolLayer layer1(rng, layer0.output, {config.kernels[1], config.kernels[0], 5, 5});  // -> (batch, 50, 4, 4)

  const int64_t n_in = config.kernels[1] * 4 * 4;
  const double bound = std::sqrt(6.0 / static_cast<double>(n_in + config.hidden));
  auto w2 = hp::shared(rng.uniform({n_in, config.hidden}, -bound, bound, f32), "W");
  auto b2 = hp::shared(hp::Array::zeros({config.hidden}, f32), "b");
  auto hidden = hp::tanh(hp::dot(hp::flatten(layer1.output, 2), w2) + b2);

  auto w3 = hp::shared(hp::Array::zeros({config.hidden, config.classes}, f32), "W");
  auto b3 = hp::shared(hp::Array::zeros({config.classes}, f32), "b");
  auto p_y_given_x = hp::softmax(hp::dot(hidden, w3) + b3);
  auto cost = hp::mean(hp::categorical_crossentropy(p_y_given_x, y));

  std::vector<hp::SharedVariable> params{w3, b3, w2, b2, layer1.w, layer1.b, layer0.w, layer0.b};
  auto grads = hp::grad(cost, std::vector<hp::Variable>(params.begin(), params.end()));
  hp::Updates updates;
  for (size_t i = 0; i < params.size(); ++i) updates.push_back({params[i], params[i] - config.learning_rate * grads[i]});
  train_ = hp::function({x, y}, {cost}, updates, {}, {.device = config.device, .profile = config.profile});
  predict_ = hp::function({x}, {hp::argmax(p_y_given_x, 1)}, {}, {}, {.device = config.device});
}

double LeNet::train_step(const hp::Array& images, const hp::Array& labels) { return train_({images, labels})[0].item(); }

hp::Array LeNet::predict(const hp::Array& images) { return predict_({images})[0]; }

double LeNet::accuracy(const hp::Array& images, const hp::Array& labels) {
  // In batches, so the activations of the whole test set are never held at once.
  constexpr int64_t kBatch = 1000;
  int64_t correct = 0;
  for (int64_t start = 0; start < labels.size(); start += kBatch) {
    const int64_t stop = std::min(start + kBatch, labels.size());
    hp::Slice rows{start, stop, 1};
    hp::Array predicted = predict(images.slice({rows}));
    for (int64_t i = start; i < stop; ++i) correct += predicted.at<int64_t>({i - start}) == labels.at<int64_t>({i});
  }
  return labels.size() ? static_cast<double>(correct) / static_cast<double>(labels.size()) : 0.0;
}
