// The loop, higher-order and sparse examples: the RNN's loss falls steadily, Newton's method converges
// quadratically, the bag-of-words classifier learns.
#include <gtest/gtest.h>

#include "newton.h"
#include "rnn.h"
#include "sparse_logreg.h"

TEST(Examples, RnnLearnsTheAddingProblem) {
  const std::vector<double> losses = train_adding_rnn(1000);
  ASSERT_EQ(losses.size(), 5u);
  EXPECT_LT(losses.back(), 0.08);          // predicting the mean scores about 0.167
  EXPECT_LT(losses.back(), losses[1] * 0.8);  // and it keeps improving after the first 250 steps
}

TEST(Examples, NewtonConvergesQuadratically) {
  const std::vector<double> norms = newton_logistic_regression(6);
  EXPECT_GT(norms[0], 0.1);
  EXPECT_LT(norms[4], 1e-9);
  EXPECT_LT(norms[3], norms[2] * norms[2] * 10);  // quadratic: each error about the square of the last
}

TEST(Examples, SparseBagOfWordsClassifierLearns) {
  const SparseLogregRun run = train_sparse_logreg(4, 2000, 5000);
  ASSERT_EQ(run.losses.size(), 4u);
  EXPECT_LT(run.losses.back(), run.losses.front() * 0.9);
  for (size_t k = 1; k < run.losses.size(); ++k) EXPECT_LT(run.losses[k], run.losses[k - 1]);
  EXPECT_GT(run.accuracies.back(), 0.5);  // 5 classes: chance is 0.2
}
