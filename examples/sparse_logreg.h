// A bag-of-words classifier on sparse inputs (examples/sparse_logreg.py in C++): softmax regression over word
// counts of synthetic documents, trained by minibatch SGD.
#pragma once
#include <vector>

struct SparseLogregRun {
  std::vector<double> losses;      // mean training loss per epoch
  std::vector<double> accuracies;  // held-out accuracy after each epoch
};

// Makes the documents (Zipf-distributed words plus a few topic words per class) and trains for `epochs`.
SparseLogregRun train_sparse_logreg(int epochs, int documents = 4000, int vocabulary = 20000);
