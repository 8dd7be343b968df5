// A bag-of-words classifier on sparse inputs:  sparse_logreg [epochs]
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "sparse_logreg.h"

int main(int argc, char** argv) {
  try {
    const SparseLogregRun run = train_sparse_logreg(argc > 1 ? std::atoi(argv[1]) : 5);
    for (size_t epoch = 0; epoch < run.losses.size(); ++epoch)
      std::printf("epoch %zu: loss %.4f, test accuracy %.3f\n", epoch, run.losses[epoch], run.accuracies[epoch]);
  } catch (const std::exception& e) {
    std::cerr << "sparse_logreg: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
