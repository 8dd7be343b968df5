// Newton's method with hessian on logistic regression:  newton [iterations]
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "newton.h"

int main(int argc, char** argv) {
  try {
    const std::vector<double> norms = newton_logistic_regression(argc > 1 ? std::atoi(argv[1]) : 8);
    for (size_t k = 0; k < norms.size(); ++k) std::printf("iteration %zu: |gradient| %.3e\n", k, norms[k]);
  } catch (const std::exception& e) {
    std::cerr << "newton: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
