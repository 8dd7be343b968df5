// An Elman RNN trained with scan on the adding problem (the sum of two marked numbers in a sequence);
// the same network as examples/rnn.py.
#pragma once
#include <vector>

// Trains for `steps` minibatches of 32 sequences of `length` steps; returns the test MSE before training
// and after every 250 steps. Predicting the mean scores about 0.167.
std::vector<double> train_adding_rnn(int steps, int length = 10, int hidden = 32, double lr = 0.001);
