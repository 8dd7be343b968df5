// The seed's Theano program, line for line in C++ (squared error of a tanh output, plain SGD).
#pragma once
#include <vector>

#include "hypatia/hypatia.h"

// Trains on x (n x 784) and y (n x 10) in minibatches of 100 for `iterations` steps, cycling through
// the data; returns the error of every step.
std::vector<double> train_seed_network(const hypatia::Array& x, const hypatia::Array& y, int iterations, double lr);
