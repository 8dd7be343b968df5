// Newton's method with hessian on L2-regularized logistic regression (examples/newton.py in C++).
#pragma once
#include <vector>

// Runs `iterations` Newton steps from w = 0 on a fixed synthetic problem; returns |gradient| at each.
std::vector<double> newton_logistic_regression(int iterations);
