// Shared helpers for the C++ tests.
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <string>

#include "hypatia/hypatia.h"

namespace hypatia::testing {

// A private kernel cache folder (config's compiledir) for one test, so it sees its own compiles; removed
// after it. Background builds of earlier tests finish in their own folders first, and this test's in its own.
struct ScratchCompiledir {
  std::string dir, saved;
  ScratchCompiledir() {
    finish_compiling();
    char pattern[] = "/tmp/hypatia-cache-test-XXXXXX";
    dir = mkdtemp(pattern);
    saved = config().compiledir;
    config().compiledir = dir;
  }
  ~ScratchCompiledir() {
    finish_compiling();
    config().compiledir = saved;
    std::filesystem::remove_all(dir);
  }
};

// Same shape and every element close (NumPy's allclose), with a readable failure.
inline ::testing::AssertionResult arrays_close(const Array& actual, const Array& expected, double rtol = 1e-6,
                                               double atol = 1e-9) {
  if (actual.shape() != expected.shape())
    return ::testing::AssertionFailure() << "shape " << shape_str(actual.shape()) << " != expected "
                                         << shape_str(expected.shape());
  if (!actual.allclose(expected, rtol, atol))
    return ::testing::AssertionFailure() << "\nactual:   " << actual.str() << "\nexpected: " << expected.str();
  return ::testing::AssertionSuccess();
}

// Runs `fn`, expects it to throw ErrorType whose message contains every one of `fragments`.
template <class ErrorType = Error>
::testing::AssertionResult throws_with(const std::function<void()>& fn, std::initializer_list<std::string> fragments) {
  try {
    fn();
  } catch (const ErrorType& e) {
    std::string message = e.what();
    for (const std::string& fragment : fragments)
      if (message.find(fragment) == std::string::npos)
        return ::testing::AssertionFailure() << "message lacks \"" << fragment << "\": " << message;
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw another exception type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// Checks the symbolic gradient of fn against finite differences; fails the test with the message.
inline void expect_grad_ok(const std::function<Variable(const std::vector<Variable>&)>& fn,
                           const std::vector<Array>& point, VerifyGradOptions options = {}) {
  try {
    verify_grad(fn, point, options);
  } catch (const Error& e) {
    ADD_FAILURE() << e.what();
  }
}

// f applied to a symbolic input typed like `value` (same dtype and rank, unknown sizes), evaluated at `value`.
Array evaluate_on(const std::function<Variable(const Variable&)>& f, const Array& value);

// Runs the function in every mode (Unoptimized, FastCompile, FastRun) and on every device under test; each
// must match the unoptimized graph on the CPU. Returns the unoptimized results.
std::vector<Array> run_every_mode(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs,
                                  const std::vector<Array>& values, const Updates& updates = {});
// run_every_mode's result for one output.
inline Array run1(const std::vector<Variable>& inputs, const Variable& out, const std::vector<Array>& args) {
  return run_every_mode(inputs, {out}, args)[0];
}
// A float64 array of `data` in `shape` (row-major).
inline Array values(std::vector<double> data, const Shape& shape) { return Array::from_vector<double>(data, shape); }

// The devices other than the CPU this machine has (each OpenCL device, each CUDA GPU).
std::vector<Device> devices_under_test();
// The name of the first device of `kind` here, or "" with `why` there is none (the tests' skip reason).
std::string first_device(Device::Kind kind, std::string& why);

// Evaluates infer_shape of the node producing `out` and compares it with the actual output shape.
void expect_infer_shape_ok(const std::vector<Variable>& inputs, const Variable& out, const std::vector<Array>& values);

}  // namespace hypatia::testing
