#include "fashion_mnist.h"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace fashion_mnist {
namespace {

constexpr uint8_t kUnsignedByteType = 0x08;

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw DataError("[fashion_mnist] " + path + ": " + problem);
}

struct GzCloser {
  void operator()(gzFile file) const { gzclose(file); }
};

// Reads exactly `size` bytes or explains why not.
void read_exactly(gzFile file, const std::string& path, void* buffer, size_t size, const char* what) {
  auto* out = static_cast<char*>(buffer);
  size_t done = 0;
  while (done < size) {
    unsigned chunk = static_cast<unsigned>(std::min<size_t>(size - done, 1u << 30));
    int got = gzread(file, out + done, chunk);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file, &code);
      fail(path, std::string("corrupt gzip data while reading the ") + what + " (" + message + ")");
    }
    if (got == 0) {
      fail(path, std::string("truncated: the ") + what + " needs " + std::to_string(size) + " bytes, the file has " +
                     std::to_string(done));
    }
    done += static_cast<size_t>(got);
  }
}

}  // namespace

IdxFile read_idx(const std::string& path, int64_t max_items) {
  std::unique_ptr<gzFile_s, GzCloser> file(gzopen(path.c_str(), "rb"));
  if (!file)
    throw DataError("[fashion_mnist] cannot open " + path + ": " + std::strerror(errno) +
                    "; install the Debian package dataset-fashion-mnist or pass --data-dir");
  gzbuffer(file.get(), 1 << 20);
  uint8_t magic[4];
  read_exactly(file.get(), path, magic, 4, "header");
  if (magic[0] != 0 || magic[1] != 0) fail(path, "bad magic number: not an IDX file");
  if (magic[2] != kUnsignedByteType)
    fail(path, "IDX element type 0x" + std::to_string(magic[2]) + " is not supported (only unsigned bytes, 0x08)");
  const int ndim = magic[3];
  if (ndim < 1 || ndim > 4) fail(path, "IDX files with " + std::to_string(ndim) + " dimensions are not supported");
  IdxFile idx;
  int64_t items = 1;
  for (int axis = 0; axis < ndim; ++axis) {
    uint8_t bytes[4];
    read_exactly(file.get(), path, bytes, 4, "header");
    int64_t dim = (int64_t{bytes[0]} << 24) | (int64_t{bytes[1]} << 16) | (int64_t{bytes[2]} << 8) | bytes[3];
    idx.dims.push_back(dim);
    items *= dim;
  }
  if (max_items > 0 && max_items < idx.dims[0]) {
    items = items / std::max<int64_t>(idx.dims[0], 1) * max_items;
    idx.dims[0] = max_items;
  }
  idx.data.resize(static_cast<size_t>(items));
  read_exactly(file.get(), path, idx.data.data(), idx.data.size(), "data");
  return idx;
}

Dataset load(const std::string& dir, const std::string& split, int64_t limit) {
  const std::string images_path = dir + "/" + split + "-images-idx3-ubyte.gz";
  const std::string labels_path = dir + "/" + split + "-labels-idx1-ubyte.gz";
  IdxFile images = read_idx(images_path, limit);
  IdxFile labels = read_idx(labels_path, limit);
  if (images.dims.size() != 3) fail(images_path, "expected 3 dimensions (count, rows, columns)");
  if (labels.dims.size() != 1) fail(labels_path, "expected 1 dimension (count)");
  if (images.dims[0] != labels.dims[0])
    fail(labels_path, std::to_string(labels.dims[0]) + " labels for " + std::to_string(images.dims[0]) + " images");
  Dataset data;
  data.num_examples = images.dims[0];
  data.rows = images.dims[1];
  data.cols = images.dims[2];
  data.images.resize(images.data.size());
  for (size_t i = 0; i < images.data.size(); ++i) data.images[i] = static_cast<float>(images.data[i]) / 255.0f;
  data.labels.resize(labels.data.size());
  for (size_t i = 0; i < labels.data.size(); ++i) {
    if (labels.data[i] > 9) fail(labels_path, "label " + std::to_string(labels.data[i]) + " at " + std::to_string(i) + " is outside 0..9");
    data.labels[i] = labels.data[i];
  }
  return data;
}

}  // namespace fashion_mnist
