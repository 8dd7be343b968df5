// What a GPU runtime (OpenCL, CUDA) gives the device backend (gpu_backend.h): memory on one device,
// kernels built from generated source and launched on its in-order queue/stream, and GEMM through the
// vendor's BLAS. The kernels and the decisions about which node runs where are written once, over this.
#pragma once
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codegen/gpu_source.h"
#include "hypatia/array.h"
#include "hypatia/graph.h"

namespace hypatia {

class Convolution;
class Pooling;
struct ConvGeometry;
struct PoolGeometry;
struct FftGeometry;

class GpuRuntime {
 public:
  virtual ~GpuRuntime() = default;
  virtual Device device() const = 0;
  virtual GpuDialect dialect() const = 0;
  virtual bool has_double() const = 0;
  // Device arrays (contiguous): a new one (MemoryError naming the bytes when the device has no room), a
  // copy of a host array, and a host copy of a device array (views included).
  virtual Array empty(const Shape& shape, DType dtype) = 0;
  virtual Array to_device(const Array& host) = 0;
  virtual Array to_host(const Array& value) = 0;
  // Runs kernel `name` of `source` (built once per source, then kept) over `total` work items, its
  // arguments the buffers of `arrays` (each at its start: offsets travel in the kernel's layout) then the
  // int64 `scalars`. A kernel that does not build is a ValueError with the log and the source's path.
  virtual void launch(const std::string& source, const std::string& name, const std::vector<const Array*>& arrays,
                      const std::vector<int64_t>& scalars, int64_t total) = 0;
  // GEMM through the vendor's BLAS: whether it is loaded, and c = beta c + alpha a @ b for float32/float64
  // device matrices (a and b as blas_operand reads them, c contiguous).
  virtual bool has_blas() const = 0;
  virtual void gemm(double alpha, const Array& a, const Array& b, double beta, Array& c) = 0;
  // Convolutions and pooling through the vendor's DNN library (cuDNN): whether it takes this node, and one
  // pass of a node on contiguous device arrays into `out` (allocated). None by default: the host runs them.
  virtual bool dnn_runs(const Apply&) const { return false; }
  virtual void convolution(const Convolution&, const ConvGeometry&, const Array& a, const Array& b, const Array* bias, Array& out) {}
  virtual void pooling(const Pooling&, const PoolGeometry&, std::span<const Array> inputs, Array& out) {}
  // Fourier transforms through the vendor's FFT library (cuFFT, clFFT): whether it is loaded, and the
  // transforms `g` describes (unscaled) from `in` into `out`, both contiguous device arrays at offset 0
  // (`in` is overwritten by complex-to-real transforms only, as cuFFT documents). False where the library
  // cannot plan them: the caller runs them on the host.
  virtual bool has_fft() const { return false; }
  virtual bool fft(const FftGeometry& g, Array& in, Array& out) { return false; }
  // Dense linear algebra through the vendor's libraries (cuSOLVER, cuBLAS), on one float32/float64 matrix of
  // a contiguous row-major batch at a time (a view: its offset applies), as LAPACK and row-major BLAS take
  // them: a row-major matrix is its transpose to LAPACK. The factorizations write LAPACK's info into the
  // one-element int32 view `info` without waiting for it (the caller reads a batch's infos at once).
  virtual bool has_solver() const { return false; }
  virtual void potrf(bool upper, const Array& a, const Array& info) {}
  virtual void getrf(const Array& a, const Array& pivots, const Array& info) {}  // pivots: n int32, 1-based
  virtual void syevd(bool upper, bool vectors, const Array& a, const Array& w, const Array& info) {}
  // b (n x k, row-major) <- op(t)^-1 b for one triangle of the row-major n x n matrix t (BLAS's row-major trsm).
  virtual void trsm(bool lower, bool transpose, bool unit_diagonal, const Array& t, const Array& b) {}
  // out = beta * out + alpha * a @ b through the vendor's sparse library (cuSPARSE) for a csr or csc a whose
  // arrays are contiguous device arrays, b and out contiguous row-major device matrices. False where the
  // library is missing or refuses the operands: the caller runs a generated kernel instead.
  virtual bool sparse_product(const SparseArray& a, const Array& b, double alpha, double beta, Array& out) { return false; }
};

// How a 2-d array is read by BLAS: row-major with leading dimension ld, or transposed (its transpose is
// row-major); nullopt when neither (the caller copies it contiguous first).
struct BlasOperand {
  bool transposed;
  int64_t ld;
};
std::optional<BlasOperand> blas_operand(const Array& matrix);

}  // namespace hypatia
