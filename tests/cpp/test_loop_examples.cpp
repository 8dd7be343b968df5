// The loop and higher-order examples: the RNN's loss falls steadily, Newton's method converges quadratically.
#include <gtest/gtest.h>

#include "newton.h"
#include "rnn.h"

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
