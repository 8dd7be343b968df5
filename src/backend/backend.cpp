#include "backend/backend.h"

#include "hypatia/sparse_array.h"

#include <cctype>

#include "backend/cpu/cpu_backend.h"
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/driver.h"
#include "backend/opencl/opencl_backend.h"
#include "backend/opencl/runtime.h"

namespace hypatia {
namespace {

// Digits at text[at...], or -1 when there are none.
int read_number(const std::string& text, size_t& at) {
  if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at]))) return -1;
  int value = 0;
  while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])) && value < 100000) value = value * 10 + (text[at++] - '0');
  return value;
}

}  // namespace

Device Device::parse(const std::string& name) {
  auto bad = [&]() -> Device {
    throw ValueError("[device] unknown device '" + name + "': use cpu, opencl<platform>:<device> (opencl0:0) or cuda<index> (cuda0)");
  };
  if (name == "cpu") return Device{};
  Device device;
  size_t at = 0;
  if (name.rfind("opencl", 0) == 0) {
    device.kind = Kind::OpenCL;
    at = 6;
    if (at == name.size()) return device;  // "opencl": the first platform's first device
    device.platform = read_number(name, at);
    if (device.platform < 0 || at >= name.size() || name[at++] != ':') return bad();
    device.index = read_number(name, at);
  } else if (name.rfind("cuda", 0) == 0) {
    device.kind = Kind::Cuda;
    at = 4;
    if (at == name.size()) return device;
    device.index = read_number(name, at);
  } else {
    return bad();
  }
  if (device.index < 0 || at != name.size()) return bad();
  return device;
}

std::string Device::str() const {
  switch (kind) {
    case Kind::Cpu: return "cpu";
    case Kind::OpenCL: return "opencl" + std::to_string(platform) + ":" + std::to_string(index);
    case Kind::Cuda: return "cuda" + std::to_string(index);
  }
  return "?";
}

std::vector<Device> available_devices() {
  std::vector<Device> devices{Device{}};
  for (const opencl::DeviceInfo& info : opencl::devices()) devices.push_back(info.device);
  for (const cuda::DeviceInfo& info : cuda::devices()) devices.push_back(info.device);
  return devices;
}

namespace {

// A sparse matrix moves (or is copied) as its three arrays.
template <class Move> Array sparse_moved(const Array& value, Move move) {
  const SparseArray& m = value.sparse();
  return Array::from_sparse(SparseArray::unchecked(m.format(), m.rows(), m.cols(), move(m.data()), move(m.indices()), move(m.indptr())));
}

}  // namespace

Array to_host(const Array& value) {
  if (value.device().is_cpu()) return value;
  if (value.is_sparse()) return sparse_moved(value, [](const Array& part) { return to_host(part); });
  return backend_for(value.device()).to_host(value);
}

Array to_device(const Array& value, const Device& device) {
  if (value.device() == device) return value;
  if (device.is_cpu()) return to_host(value);
  if (value.is_sparse()) return sparse_moved(value, [&](const Array& part) { return to_device(part, device); });
  return backend_for(device).to_device(to_host(value));
}

Array copy_where_it_is(const Array& value) {
  if (value.device().is_cpu()) return value.copy();
  if (value.is_sparse()) return sparse_moved(value, [](const Array& part) { return copy_where_it_is(part); });
  return backend_for(value.device()).copy(value);
}

std::string why_unavailable(const Device& device) {
  try {
    backend_for(device);
    return "";
  } catch (const Error& error) {
    return error.what();
  }
}

const Backend& backend_for(const Device& device) {
  if (device.kind == Device::Kind::Cpu) return cpu_backend();
  if (device.kind == Device::Kind::OpenCL) return opencl_backend(device);
  if (device.kind == Device::Kind::Cuda) return cuda_backend(device);
  std::string have;
  for (const Device& d : available_devices()) have += (have.empty() ? "" : ", ") + d.str();
  throw ValueError("[device] " + device.str() + " is not available in this build (devices here: " + have + ")");
}

}  // namespace hypatia
