// The IDX reader on small files written here, its error paths, and the installed dataset.
#include <zlib.h>

#include <filesystem>
#include <fstream>

#include "fashion_mnist.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {

std::vector<uint8_t> idx_bytes(uint8_t type, const std::vector<int64_t>& dims, const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes = {0, 0, type, static_cast<uint8_t>(dims.size())};
  for (int64_t d : dims)
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_gz(const fs::path& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  ASSERT_EQ(gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size())), static_cast<int>(bytes.size()));
  gzclose(file);
}

class FashionMnistReader : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("hypatia_idx_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // Two 2x2 images with labels 3 and 9.
  void write_split(const std::string& split, std::vector<uint8_t> labels = {3, 9}, int64_t label_count = 2) {
    write_gz(dir_ / (split + "-images-idx3-ubyte.gz"), idx_bytes(0x08, {2, 2, 2}, {0, 255, 51, 102, 1, 2, 3, 4}));
    write_gz(dir_ / (split + "-labels-idx1-ubyte.gz"), idx_bytes(0x08, {label_count}, labels));
  }
  template <class Fn> std::string error_of(Fn fn) {
    try {
      fn();
    } catch (const fashion_mnist::DataError& e) {
      return e.what();
    }
    return "no error";
  }
  fs::path dir_;
};

}  // namespace

TEST_F(FashionMnistReader, ReadsImagesAndLabels) {
  write_split("train");
  auto data = fashion_mnist::load(dir_, "train");
  EXPECT_EQ(data.num_examples, 2);
  EXPECT_EQ(data.rows, 2);
  EXPECT_EQ(data.features(), 4);
  EXPECT_EQ(data.labels, (std::vector<int64_t>{3, 9}));
  EXPECT_FLOAT_EQ(data.images[1], 1.0f);
  EXPECT_FLOAT_EQ(data.images[2], 0.2f);
  auto first = fashion_mnist::load(dir_, "train", 1);
  EXPECT_EQ(first.num_examples, 1);
  EXPECT_EQ(first.images.size(), 4u);
}

TEST_F(FashionMnistReader, ReadsUncompressedFiles) {
  auto bytes = idx_bytes(0x08, {3}, {7, 8, 9});
  std::ofstream(dir_ / "plain.idx", std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  auto idx = fashion_mnist::read_idx(dir_ / "plain.idx");
  EXPECT_EQ(idx.dims, (std::vector<int64_t>{3}));
  EXPECT_EQ(idx.data, (std::vector<uint8_t>{7, 8, 9}));
}

TEST_F(FashionMnistReader, ErrorsAreClear) {
  EXPECT_THAT(error_of([&] { fashion_mnist::load(dir_, "train"); }),
              ::testing::AllOf(::testing::HasSubstr("cannot open"), ::testing::HasSubstr("No such file"),
                               ::testing::HasSubstr("dataset-fashion-mnist")));
  write_gz(dir_ / "magic.gz", {1, 2, 8, 1, 0, 0, 0, 0});
  EXPECT_THAT(error_of([&] { fashion_mnist::read_idx(dir_ / "magic.gz"); }), ::testing::HasSubstr("bad magic number"));
  write_gz(dir_ / "type.gz", idx_bytes(0x0D, {1}, {0, 0, 0, 0}));
  EXPECT_THAT(error_of([&] { fashion_mnist::read_idx(dir_ / "type.gz"); }), ::testing::HasSubstr("not supported"));
  write_gz(dir_ / "short.gz", idx_bytes(0x08, {10}, {1, 2, 3}));
  EXPECT_THAT(error_of([&] { fashion_mnist::read_idx(dir_ / "short.gz"); }), ::testing::HasSubstr("truncated"));
  auto bytes = idx_bytes(0x08, {4}, {1, 2, 3, 4});
  write_gz(dir_ / "corrupt.gz", bytes);
  {
    std::fstream file(dir_ / "corrupt.gz", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(12);
    file.write("\xff\xff\xff\xff", 4);
  }
  EXPECT_THAT(error_of([&] { fashion_mnist::read_idx(dir_ / "corrupt.gz"); }),
              ::testing::AnyOf(::testing::HasSubstr("corrupt"), ::testing::HasSubstr("truncated"), ::testing::HasSubstr("magic")));
}

TEST_F(FashionMnistReader, InconsistentSplitsAreRefused) {
  write_split("train", {3, 9, 1}, 3);
  EXPECT_THAT(error_of([&] { fashion_mnist::load(dir_, "train"); }), ::testing::HasSubstr("3 labels for 2 images"));
  write_split("t10k", {3, 12});
  EXPECT_THAT(error_of([&] { fashion_mnist::load(dir_, "t10k"); }), ::testing::HasSubstr("label 12 at 1 is outside 0..9"));
}

TEST(FashionMnist, InstalledDataset) {
  if (!fs::exists(fashion_mnist::kDefaultDir)) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto data = fashion_mnist::load(fashion_mnist::kDefaultDir, "train", 100);
  EXPECT_EQ(data.num_examples, 100);
  EXPECT_EQ(data.rows, 28);
  EXPECT_EQ(data.cols, 28);
  for (int64_t label : data.labels) EXPECT_TRUE(label >= 0 && label <= 9);
  for (float pixel : data.images) EXPECT_TRUE(pixel >= 0.0f && pixel <= 1.0f);
}
