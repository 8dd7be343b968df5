// The CUDA runtime's parts that run without a GPU: the driver API's symbols (checked against the
// toolkit's stub libcuda.so), the error a missing GPU gives, and the cubin cache on disk. The kernels
// themselves run in test_device_backends.cpp where a GPU is present (scripts/gpu_check.sh).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "backend/backend.h"
#include "backend/checked_file.h"
#include "backend/cuda/cudnn.h"
#include "backend/cuda/cublas.h"
#include "backend/cuda/cufft.h"
#include "backend/cuda/cusolver.h"
#include "backend/cuda/cusparse.h"
#include "backend/cuda/driver.h"
#include "backend/cuda/kernel_cache.h"
#include "backend/cuda/nvrtc.h"
#include "hypatia/hypatia.h"
#include "ops/conv.h"
#include "ops/pool.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::testing::throws_with;

TEST(Cuda, TheDriverApiResolvesInTheToolkitsStubLibrary) {
  // The stub has every entry point a driver has (so the names and versions this build asks for exist),
  // and says it is not a driver when initialized.
  std::string stub;
  for (const char* candidate : {"/usr/local/cuda/lib64/stubs/libcuda.so", "/usr/local/cuda/targets/x86_64-linux/lib/stubs/libcuda.so"})
    if (std::filesystem::exists(candidate)) stub = candidate;
  if (stub.empty()) GTEST_SKIP() << "the CUDA toolkit's stub libcuda.so is not installed";
  const hp::cuda::DriverProbe probe = hp::cuda::probe_driver(stub);
  EXPECT_TRUE(probe.loaded) << probe.init_error;
  EXPECT_EQ(probe.missing, "");
  EXPECT_NE(probe.init_error.find("cuInit"), std::string::npos) << probe.init_error;
  EXPECT_NE(probe.init_error.find("stub"), std::string::npos) << probe.init_error;
  const hp::cuda::DriverProbe absent = hp::cuda::probe_driver("libcuda-that-does-not-exist.so");
  EXPECT_FALSE(absent.loaded);
  EXPECT_NE(absent.init_error.find("no CUDA driver"), std::string::npos);
}

TEST(Cuda, WithoutAGpuACudaDeviceIsAClearError) {
  if (!hp::cuda::devices().empty()) GTEST_SKIP() << "a CUDA GPU is present: test_device_backends.cpp runs on it";
  EXPECT_FALSE(hp::cuda::unavailable_reason().empty());
  for (const hp::Device& device : hp::available_devices()) EXPECT_NE(device.kind, hp::Device::Kind::Cuda);
  auto x = hp::vector("x");
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "cuda0"}); },
                                          {"[function]", "cuda0", "not a CUDA device here", hp::cuda::unavailable_reason(),
                                           "devices here: cpu"}));
}

TEST(Cuda, CufftLoadsWithEveryFunctionTheFourierTransformsCall) {
  // The transforms themselves need a GPU (test_devices.py runs them there through scripts/gpu_check.sh).
  if (!std::filesystem::exists("/usr/local/cuda/lib64/libcufft.so")) GTEST_SKIP() << "the CUDA toolkit's cuFFT is not installed";
  ASSERT_TRUE(hp::cuda::cufft_available());
  EXPECT_GE(hp::cuda::cufft_version(), 10000);
}

TEST(Cuda, CusolverAndCublasLoadWithEveryFunctionTheLinearAlgebraCalls) {
  // The factorizations need a GPU (test_device_linalg.cpp runs them there through scripts/gpu_check.sh).
  if (!std::filesystem::exists("/usr/local/cuda/lib64/libcusolver.so")) GTEST_SKIP() << "the CUDA toolkit's cuSOLVER is not installed";
  ASSERT_TRUE(hp::cuda::cusolver_available());
  EXPECT_GE(hp::cuda::cusolver_version(), 10000);
  EXPECT_TRUE(hp::cuda::cublas_available());  // (gemm and trsm)
}

TEST(Cuda, CusparseLoadsWithEveryFunctionTheSparseProductsCall) {
  // The products need a GPU (test_sparse.py runs them there through scripts/gpu_check.sh).
  if (!std::filesystem::exists("/usr/local/cuda/lib64/libcusparse.so")) GTEST_SKIP() << "the CUDA toolkit's cuSPARSE is not installed";
  EXPECT_TRUE(hp::cuda::cusparse_available());
}

TEST(Cuda, CudnnDescriptorsGiveTheanosConvolutionAndPoolingSizes) {
  // cuDNN's descriptors need no GPU: the sizes they compute from the geometry Hypatia hands them must be
  // Theano's, for every border mode, stride, dilation and group count (and pooling with ignore_border).
  if (!hp::cuda::cudnn_available()) GTEST_SKIP() << "cuDNN (libcudnn.so.9) is not installed";
  EXPECT_GE(hp::cuda::cudnn_version(), 8000u);
  int checked = 0;
  for (int spatial : {2, 3})
    for (hp::BorderMode border : {hp::BorderMode::Explicit, hp::BorderMode::Full, hp::BorderMode::Half})
      for (int64_t stride : {1, 2, 3})
        for (int64_t dilation : {1, 2})
          for (int64_t groups : {1, 2}) {
            hp::ConvOptions options;
            options.border_mode = border;
            if (border == hp::BorderMode::Explicit) options.padding = {stride - 1};
            options.subsample = {stride};
            options.filter_dilation = {dilation};
            options.num_groups = groups;
            options.filter_flip = stride != 2;
            const hp::Convolution op(hp::ConvPass::Forward, hp::ConvSettings::from(options, spatial, "conv"));
            hp::Shape image{2, 4, 11, 9}, filters{6, 4 / groups, 3, 2};
            if (spatial == 3) {
              image.insert(image.begin() + 2, 7);
              filters.insert(filters.begin() + 2, 2);
            }
            const std::vector<hp::Array> operands{hp::Array::zeros(image), hp::Array::zeros(filters)};
            const hp::ConvGeometry g = op.geometry(operands);
            const std::vector<int> dims = hp::cuda::cudnn_convolution_output(op, g, hp::DType::Float32);
            const hp::Shape expected = op.output_shape(g);
            ASSERT_EQ(dims.size(), expected.size());
            for (size_t i = 0; i < dims.size(); ++i) EXPECT_EQ(dims[i], expected[i]) << op.str() << " axis " << i;
            ++checked;
          }
  for (int64_t stride : {1, 2, 3})
    for (int64_t pad : {0, 1}) {
      hp::PoolOptions options;
      options.ignore_border = true;
      options.stride = {stride, stride};
      options.pad = {pad, pad};
      options.mode = pad ? hp::PoolMode::AverageIncPad : hp::PoolMode::Max;
      const hp::Pooling op(hp::PoolPass::Forward, hp::PoolSettings::from({3, 2}, options, 2, "pool_2d"));
      const hp::Shape x{2, 3, 10, 7};
      const std::vector<int> dims = hp::cuda::cudnn_pooling_output(op, op.geometry(x), hp::DType::Float64);
      const hp::Shape expected = op.pooled_shape(x);
      EXPECT_EQ(dims[2], expected[2]) << op.str();
      EXPECT_EQ(dims[3], expected[3]) << op.str();
      ++checked;
    }
  EXPECT_EQ(checked, 2 * 3 * 3 * 2 * 2 + 6);
}

TEST(Cuda, KernelsAreCompiledOnceAndKeptOnDiskAsCubins) {
  if (!hp::cuda::nvrtc_available()) GTEST_SKIP() << "NVRTC (the CUDA toolkit's libnvrtc.so) is not installed";
  const std::string saved = hp::config().compiledir;
  const std::string directory = ::testing::TempDir() + "hypatia_cubin_cache";
  std::filesystem::remove_all(directory);
  hp::config().compiledir = directory;
  const std::string source = "extern \"C\" __global__ void twice(float* x, long n) {\n"
                             "  const long i = blockIdx.x * (long)blockDim.x + threadIdx.x;\n  if (i < n) x[i] *= 2;\n}\n";
  const auto first = hp::cuda::binary_for(source, "twice", "sm_80");
  EXPECT_FALSE(first.from_disk);
  EXPECT_TRUE(std::filesystem::exists(first.path)) << first.path;
  EXPECT_EQ(first.image.substr(1, 3), "ELF");  // a cubin, for the device's architecture
  const auto second = hp::cuda::binary_for(source, "twice", "sm_80");
  EXPECT_TRUE(second.from_disk);
  EXPECT_EQ(second.image, first.image);
  // An entry cut short (a process killed while writing, a full disk) is compiled again, not loaded.
  std::filesystem::resize_file(first.path, std::filesystem::file_size(first.path) / 2);
  const auto third = hp::cuda::binary_for(source, "twice", "sm_80");
  EXPECT_FALSE(third.from_disk);
  EXPECT_EQ(third.image, first.image);
  // A kernel that does not compile names its source's file and gives the log.
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::cuda::binary_for("extern \"C\" __global__ void broken( {", "broken", "sm_80"); },
                                          {"[cuda]", "broken", "does not compile", directory + "/cuda/broken.cu"}));
  EXPECT_TRUE(std::filesystem::exists(directory + "/cuda/broken.cu"));
  hp::config().compiledir = saved;
  std::filesystem::remove_all(directory);
}

TEST(Cuda, CheckedFilesReadBackWholeOrNotAtAll) {
  // The cache files of device kernels (CUDA and OpenCL binaries): what was written, or nothing.
  const std::string path = ::testing::TempDir() + "hypatia_checked/entry.bin";
  std::filesystem::remove_all(::testing::TempDir() + "hypatia_checked");
  EXPECT_EQ(hp::read_checked_file(path), "");
  std::string contents("binary\0with a zero", 18);
  hp::write_checked_file(path, contents);
  EXPECT_EQ(hp::read_checked_file(path), contents);
  {  // one byte changed: the hash no longer matches
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(2);
    file.put('X');
  }
  EXPECT_EQ(hp::read_checked_file(path), "");
  hp::write_checked_file(path, contents);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  EXPECT_EQ(hp::read_checked_file(path), "");
  std::filesystem::remove_all(::testing::TempDir() + "hypatia_checked");
}
