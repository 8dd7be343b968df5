// The backend interface: device names as Theano spells them, the choice of a device per function, and
// the in-place rules Program takes from ops and kernels rather than from concrete op types.
#include <gtest/gtest.h>

#include "backend/backend.h"
#include "hypatia/hypatia.h"
#include "ops/blas.h"
#include "ops/ifelse.h"
#include "ops/subtensor.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::Device;
using hp::testing::arrays_close;
using hp::testing::throws_with;

TEST(Backend, DeviceNamesParseAsTheanosDo) {
  EXPECT_EQ(Device::parse("cpu"), Device{});
  const Device opencl = Device::parse("opencl1:2");
  EXPECT_EQ(opencl.kind, Device::Kind::OpenCL);
  EXPECT_EQ(opencl.platform, 1);
  EXPECT_EQ(opencl.index, 2);
  EXPECT_EQ(opencl.str(), "opencl1:2");
  EXPECT_EQ(Device::parse("opencl").str(), "opencl0:0");
  EXPECT_EQ(Device::parse("cuda3").str(), "cuda3");
  EXPECT_EQ(Device::parse("cuda").str(), "cuda0");
  for (const char* bad : {"gpu", "opencl1", "opencl:1", "cuda-1", "cuda0x", "CPU", ""})
    EXPECT_TRUE(throws_with<hp::ValueError>([&] { Device::parse(bad); }, {"[device]", "unknown device", "opencl0:0", "cuda0"}))
        << bad;
}

TEST(Backend, AFunctionRunsOnTheDeviceItNames) {
  auto x = hp::vector("x");
  auto f = hp::function({x}, {hp::exp(x) + 1.0}, {}, {}, {.device = "cpu"});
  EXPECT_TRUE(arrays_close(f({Array::from({0.0})})[0], Array::from({2.0})));
  EXPECT_EQ(hp::backend_for(Device{}).device(), Device{});
  EXPECT_EQ(hp::available_devices().front(), Device{});
  // A device this build does not have: a clear error naming those it has, when the function is built.
  // (A CUDA device needs a driver and a GPU; OpenCL devices are those the ICD loader finds.)
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "cuda99"}); },
                                          {"[function]", "cuda99", "not a CUDA device here", "devices here: cpu", "test_backend.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "opencl9:9"}); },
                                          {"[function]", "opencl9:9", "test_backend.cpp"}));
  EXPECT_TRUE(throws_with<hp::ValueError>([&] { hp::function({x}, {x * 2.0}, {}, {}, {.device = "tpu"}); }, {"unknown device"}));
}

TEST(Backend, OpsDeclareWhichInputTheirResultMayOverwrite) {
  // GEMM writes into z, the indexed increments into x; elementwise ops have no fixed destination (their
  // generated kernels may write into any input); ifelse declares its branches.
  EXPECT_EQ(hp::Gemm().destination_input(), 0);
  EXPECT_EQ(hp::IncSubtensor({}, false).destination_input(), 0);
  EXPECT_EQ(hp::AdvancedIncSubtensor({0}, true).destination_input(), 0);
  EXPECT_EQ(hp::IfElse(3).branch_outputs(), 3);
  auto x = hp::vector("x");
  auto y = hp::exp(x);
  EXPECT_EQ(y.owner()->op().destination_input(), -1);
  EXPECT_EQ(y.owner()->op().branch_outputs(), 0);
  const std::vector<Array> values{Array::from({1.0, 2.0})};
  EXPECT_EQ(y.owner()->op().result_shape(*y.owner(), values), (hp::Shape{2}));
  // The CPU backend's generated elementwise kernel may write into an input; a perform()-only node gets none.
  auto sorted = hp::sort(x, 0);
  const auto kernels = hp::backend_for(Device{}).lower({y.owner(), sorted.owner()});
  ASSERT_EQ(kernels.size(), 2u);
  if (!hp::config().cxx.empty()) {  // (without a C++ compiler every node keeps perform())
    ASSERT_NE(kernels[0], nullptr);
    EXPECT_TRUE(kernels[0]->writes_into_any_input());
  }
  EXPECT_EQ(kernels[1], nullptr);
}
