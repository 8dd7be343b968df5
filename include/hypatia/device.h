// Devices: where values live and kernels run, named as in Theano ("cpu", "opencl0:0", "cuda0").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hypatia {

struct Device {
  enum class Kind : uint8_t { Cpu, OpenCL, Cuda };
  Kind kind = Kind::Cpu;
  int platform = 0, index = 0;
  // "cpu", "opencl<platform>:<device>" ("opencl": 0:0), "cuda<index>" ("cuda": 0); ValueError otherwise.
  static Device parse(const std::string& name);
  std::string str() const;
  bool is_cpu() const { return kind == Kind::Cpu; }
  bool operator==(const Device&) const = default;
};

// The devices this build and machine have: the CPU, then each OpenCL device, then each CUDA GPU found.
std::vector<Device> available_devices();
// Why `device` cannot be used here, naming the devices there are ("" when it can).
std::string why_unavailable(const Device& device);

class Array;

// A host copy of `value` (`value` itself when it is on the host), and `value` in `device`'s memory
// (itself when it is there already).
Array to_host(const Array& value);
Array to_device(const Array& value, const Device& device);
// A copy of `value` where it is (a new buffer on its device).
Array copy_where_it_is(const Array& value);

// Memory a device backend allocated; the backend frees it when the last Storage holding it goes.
class DeviceBuffer {
 public:
  virtual ~DeviceBuffer() = default;
  virtual Device device() const = 0;
};

}  // namespace hypatia
