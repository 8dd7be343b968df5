// The documents are made here: each word is drawn from a Zipf law over the vocabulary, or (with a small
// probability) from its class's topic words. A batch is a csr matrix of dampened counts, log(1 + count).
#include "sparse_logreg.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "hypatia/hypatia.h"

namespace hp = hypatia;

namespace {

constexpr int kClasses = 5, kTopicWords = 40, kLength = 60;
constexpr double kTopicShare = 0.1, kLearningRate = 1.0;

struct Document {
  std::vector<int32_t> words;  // distinct, increasing
  std::vector<float> values;   // log(1 + count)
  int32_t label;
};

std::vector<Document> make_documents(std::mt19937_64& rng, int documents, int vocabulary) {
  std::vector<double> zipf(vocabulary);
  for (int w = 0; w < vocabulary; ++w) zipf[w] = 1.0 / (w + 1);
  std::discrete_distribution<int> background(zipf.begin(), zipf.end());
  std::vector<int> shuffled(vocabulary);
  std::iota(shuffled.begin(), shuffled.end(), 0);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);  // topic words: distinct, anywhere in the vocabulary
  std::uniform_int_distribution<int> pick_class(0, kClasses - 1), pick_topic(0, kTopicWords - 1);
  std::poisson_distribution<int> length(kLength);
  std::bernoulli_distribution from_topic(kTopicShare);
  std::vector<Document> result;
  for (int d = 0; d < documents; ++d) {
    const int label = pick_class(rng);
    std::map<int32_t, int> counts;
    for (int n = length(rng) + 1; n > 0; --n)
      ++counts[from_topic(rng) ? shuffled[label * kTopicWords + pick_topic(rng)] : background(rng)];
    Document doc{{}, {}, label};
    for (const auto& [word, count] : counts) {
      doc.words.push_back(word);
      doc.values.push_back(static_cast<float>(std::log1p(count)));
    }
    result.push_back(std::move(doc));
  }
  return result;
}

// The documents listed, as a csr matrix (documents x vocabulary) and their labels.
std::pair<hp::Array, hp::Array> batch(const std::vector<Document>& docs, const std::vector<int>& which, int vocabulary) {
  std::vector<float> data;
  std::vector<int32_t> indices, indptr{0}, labels;
  for (int d : which) {
    data.insert(data.end(), docs[d].values.begin(), docs[d].values.end());
    indices.insert(indices.end(), docs[d].words.begin(), docs[d].words.end());
    indptr.push_back(static_cast<int32_t>(indices.size()));
    labels.push_back(docs[d].label);
  }
  hp::SparseArray x(hp::SparseFormat::Csr, static_cast<int64_t>(which.size()), vocabulary, hp::Array::from_vector(data),
                    hp::Array::from_vector(indices), hp::Array::from_vector(indptr));
  return {hp::Array::from_sparse(std::move(x)), hp::Array::from_vector(labels)};
}

}  // namespace

SparseLogregRun train_sparse_logreg(int epochs, int documents, int vocabulary) {
  std::mt19937_64 rng(0);
  const std::vector<Document> docs = make_documents(rng, documents, vocabulary);
  const int split = documents * 4 / 5, batch_size = 256;

  // The model, as examples/sparse_logreg.py writes it.
  hp::Variable x = hp::sparse::csr_matrix("x", hp::DType::Float32), y = hp::vector("y", hp::DType::Int32);
  hp::SharedVariable W = hp::shared(hp::Array::zeros({vocabulary, kClasses}, hp::DType::Float32), "W");
  hp::SharedVariable b = hp::shared(hp::Array::zeros({kClasses}, hp::DType::Float32), "b");
  hp::Variable p_y = hp::softmax(hp::dot(x, W) + b);  // dot of a sparse x is structured_dot
  hp::Variable xent = -hp::mean(hp::log(p_y)[{hp::arange(hp::shape_i(y, 0)), y}]);
  const std::vector<hp::Variable> g = hp::grad(xent, {W, b});
  hp::Function train = hp::function({x, y}, {xent}, {{W, W - kLearningRate * g[0]}, {b, b - kLearningRate * g[1]}});
  hp::Function predict = hp::function({x}, {hp::argmax(p_y, 1)});

  std::vector<int> order(split), held_out(documents - split);
  std::iota(order.begin(), order.end(), 0);
  std::iota(held_out.begin(), held_out.end(), split);
  const auto [test_x, test_y] = batch(docs, held_out, vocabulary);
  SparseLogregRun run;
  for (int epoch = 0; epoch < epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double total = 0;
    for (int start = 0; start < split; start += batch_size) {
      const std::vector<int> rows(order.begin() + start, order.begin() + std::min(split, start + batch_size));
      const auto [bx, by] = batch(docs, rows, vocabulary);
      total += train({bx, by})[0].item() * static_cast<double>(rows.size());
    }
    run.losses.push_back(total / split);
    const hp::Array predicted = predict({test_x})[0].astype(hp::DType::Int32);
    int correct = 0;
    for (int64_t k = 0; k < predicted.size(); ++k) correct += predicted.data<int32_t>()[k] == test_y.data<int32_t>()[k];
    run.accuracies.push_back(static_cast<double>(correct) / static_cast<double>(predicted.size()));
  }
  return run;
}
