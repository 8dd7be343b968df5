// A backend computes a compiled program's steps on one device. Program talks to this interface only:
// it asks the backend for one kernel per node and runs them in order; which nodes may write into an
// input's buffer comes from the op (Op::destination_input) and the kernel (writes_into_any_input), never
// from casts to concrete ops. The CPU backend (backend/cpu/) generates C++ loops; device backends
// (OpenCL, CUDA) plug in here with their own kernels, memory and queues.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "hypatia/device.h"
#include "hypatia/graph.h"

namespace hypatia {

// The code that computes one node on a backend's device.
class Kernel {
 public:
  virtual ~Kernel() = default;
  // As Op::perform: outputs that arrive set are destinations the kernel may write into.
  virtual void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const = 0;
  // Whether output 0 may be written into the buffer of any input of its shape and dtype (an elementwise
  // loop reads each element before it writes it).
  virtual bool writes_into_any_input() const { return false; }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual Device device() const = 0;
  // Whether the backend computes `node` on its device (its inputs then come in its memory); the
  // placement pass puts every other node on the host, with transfers around it.
  virtual bool runs(const Apply& node) const = 0;
  // Inputs a node it runs still reads on the host (GEMM's alpha and beta, passed to the library by value):
  // the op's own list (Op::reads_on_host).
  virtual bool reads_on_host(const Apply& node, int input) const { return node.op().reads_on_host(input); }
  // Outputs of a node it runs that its kernel leaves on the host (a random draw's advanced state).
  virtual bool output_on_host(const Apply&, int /*output*/) const { return false; }
  // A copy of a host array in this backend's memory, and a host copy of one of its arrays (the CPU's:
  // the arrays themselves).
  virtual Array to_device(const Array& host) const = 0;
  virtual Array to_host(const Array& value) const = 0;
  // A contiguous copy of one of its arrays, in its memory.
  virtual Array copy(const Array& value) const { return to_device(to_host(value)); }
  // An uninitialized array in its memory, and `source` (one of its arrays) written into `destination` (a
  // view of one, of the same shape), converted to its dtype: what a loop over steps (scan) stores with.
  virtual Array empty(const Shape& shape, DType dtype) const = 0;
  virtual void copy_into(const Array& destination, const Array& source) const = 0;
  // One kernel per node of a schedule; null where the node runs its op's perform() on the host.
  virtual std::vector<std::shared_ptr<const Kernel>> lower(const std::vector<std::shared_ptr<Apply>>& nodes) const = 0;
};

// The backend of `device`: ValueError naming the devices this build and machine have when it is not one.
const Backend& backend_for(const Device& device);

}  // namespace hypatia
