// Fashion-MNIST as hypatia Arrays, and the rows of an epoch in shuffled order (the C++ examples' training loops).
#pragma once
#include "fashion_mnist.h"
#include "hypatia/hypatia.h"

struct Split {
  hypatia::Array images, labels;  // (examples, pixels) in `dtype`; int64 labels
};

Split to_arrays(const fashion_mnist::Dataset& data, hypatia::DType dtype);

// Rows of `source` in the order of `order` (a shuffled copy for one epoch).
hypatia::Array gather_rows(const hypatia::Array& source, const hypatia::Array& order);
