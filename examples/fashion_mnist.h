// Reads Fashion-MNIST (or MNIST) from the gzip-compressed IDX files of Debian's dataset-fashion-mnist.
#pragma once
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fashion_mnist {

inline constexpr const char* kDefaultDir = "/usr/share/datasets/fashion-mnist";

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Dataset {
  std::vector<float> images;    // num_examples x rows*cols, scaled to [0, 1]
  std::vector<int64_t> labels;  // num_examples, values 0..9
  int64_t num_examples = 0, rows = 0, cols = 0;
  int64_t features() const { return rows * cols; }
};

// An IDX file of unsigned bytes: its dimensions and data (gzip-compressed or plain).
struct IdxFile {
  std::vector<int64_t> dims;
  std::vector<uint8_t> data;
};
// max_items > 0 reads only that many items along the first dimension.
IdxFile read_idx(const std::string& path, int64_t max_items = 0);

// Reads "<dir>/<split>-images-idx3-ubyte.gz" and "<dir>/<split>-labels-idx1-ubyte.gz"; split is
// "train" or "t10k"; limit > 0 reads only the first `limit` examples.
Dataset load(const std::string& dir, const std::string& split, int64_t limit = 0);

}  // namespace fashion_mnist
