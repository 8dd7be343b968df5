#include "batches.h"

#include <cstring>

namespace hp = hypatia;

Split to_arrays(const fashion_mnist::Dataset& data, hp::DType dtype) {
  hp::Array images = hp::Array::from_vector(data.images, {data.num_examples, data.features()});
  return {images.astype(dtype), hp::Array::from_vector(data.labels)};
}

hp::Array gather_rows(const hp::Array& source, const hp::Array& order) {
  hp::Shape shape = source.shape();
  shape[0] = order.size();
  hp::Array result = hp::Array::empty(shape, source.dtype());
  const int64_t row_bytes = (source.size() / std::max<int64_t>(source.shape(0), 1)) * source.itemsize();
  const char* from = static_cast<const char*>(source.raw_data());
  char* to = static_cast<char*>(result.raw_data());
  const int64_t* index = order.data<int64_t>();
  for (int64_t i = 0; i < order.size(); ++i) std::memcpy(to + i * row_bytes, from + index[i] * row_bytes, row_bytes);
  return result;
}
