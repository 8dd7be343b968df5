// The adding problem learned by an Elman RNN built with scan:  rnn [steps] [sequence length]
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "rnn.h"

int main(int argc, char** argv) {
  const int steps = argc > 1 ? std::atoi(argv[1]) : 2000, length = argc > 2 ? std::atoi(argv[2]) : 10;
  try {
    std::vector<double> losses = train_adding_rnn(steps, length);
    std::printf("adding problem, sequences of %d: test MSE %.4f before training\n", length, losses[0]);
    for (size_t k = 1; k < losses.size(); ++k) std::printf("step %zu: test MSE %.4f\n", k * 250, losses[k]);
  } catch (const std::exception& e) {
    std::cerr << "rnn: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
