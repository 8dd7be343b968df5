#include "backend/gpu/gpu_backend.h"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "backend/cpu/lowering.h"
#include "codegen/cpu_source.h"
#include "hypatia/sparse_array.h"
#include "ops/sparse.h"
#include "ops/blas.h"
#include "ops/conv.h"
#include "ops/fft.h"
#include "ops/linalg.h"
#include "ops/op_support.h"
#include "ops/pool.h"
#include "ops/nnet.h"
#include "ops/random_op.h"
#include "ops/shape_query.h"
#include "ops/subtensor.h"

namespace hypatia {

std::optional<BlasOperand> blas_operand(const Array& matrix) {
  const int64_t rows = matrix.shape()[0], cols = matrix.shape()[1];
  const int64_t s0 = matrix.strides()[0], s1 = matrix.strides()[1];
  if (rows == 0 || cols == 0) return BlasOperand{false, std::max<int64_t>(cols, 1)};
  // Rows (or columns) one after another, forward, without overlap: reversed or broadcast views are not.
  if ((s1 == 1 || cols == 1) && (rows == 1 || s0 >= cols)) return BlasOperand{false, std::max<int64_t>({s0, cols, 1})};
  if ((s0 == 1 || rows == 1) && (cols == 1 || s1 >= rows)) return BlasOperand{true, std::max<int64_t>({s1, rows, 1})};
  return std::nullopt;
}

namespace {

// A node's output in device memory; a MemoryError names the node's op as well as the bytes.
Array allocate(GpuRuntime& runtime, const Apply& node, const Shape& shape, DType dtype) {
  try {
    return runtime.empty(shape, dtype);
  } catch (const MemoryError& error) {
    throw MemoryError("[" + node.op().name() + "] " + error.what() + " for a " + std::string(dtype_name(dtype)) + shape_str(shape) + " result");
  }
}

// A kernel's layout buffers in device memory, kept for the layouts it saw last: a function called again
// with the same shapes launches without uploading its layout (a synchronizing copy on CUDA).
class LayoutCache {
 public:
  Array get(GpuRuntime& runtime, const std::vector<int64_t>& layout) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [kept, on_device] : entries_)
      if (kept == layout) return on_device;
    Array on_device = runtime.to_device(Array::from_vector<int64_t>(layout));
    if (entries_.size() == kEntries) entries_.erase(entries_.begin());
    entries_.emplace_back(layout, on_device);
    return on_device;
  }

 private:
  static constexpr size_t kEntries = 4;
  std::mutex mutex_;
  std::vector<std::pair<std::vector<int64_t>, Array>> entries_;
};

// Runs an elementwise kernel (gpu_source.h's layout) over `shape`: outputs allocated by the caller, inputs
// read through their strides (0 along broadcast axes) and offsets.
void run_elementwise(GpuRuntime& runtime, const std::string& source, const std::string& name, const Shape& shape,
                     std::span<const Array> outputs, std::span<const Array> inputs, LayoutCache* layouts = nullptr) {
  const int64_t total = shape_size(shape);
  if (total == 0) return;
  // ndim, the shape, each operand's strides, then each operand's element offset (views made on the
  // device, such as transposes, start inside a buffer).
  std::vector<int64_t> layout{static_cast<int64_t>(shape.size())};
  layout.insert(layout.end(), shape.begin(), shape.end());
  for (const Array& output : outputs) layout.insert(layout.end(), output.strides().begin(), output.strides().end());
  for (const Array& input : inputs) {
    const Strides strides = input.broadcast_to(shape).strides();
    layout.insert(layout.end(), strides.begin(), strides.end());
  }
  std::vector<const Array*> arrays;
  for (const Array& output : outputs) {
    layout.push_back(output.offset());
    arrays.push_back(&output);
  }
  for (const Array& input : inputs) {
    layout.push_back(input.offset());
    arrays.push_back(&input);
  }
  const Array layout_on_device = layouts ? layouts->get(runtime, layout) : runtime.to_device(Array::from_vector<int64_t>(layout));
  arrays.push_back(&layout_on_device);
  runtime.launch(source, name, arrays, {total}, total);
}

// The composite writing its one input converted to `to` (a copy where the dtypes agree).
Composite conversion(DType from, DType to) {
  Composite composite;
  composite.input_dtypes = {from};
  composite.outputs = {from == to ? 0 : composite.add(ScalarOp{ScalarOpId::cast, to}, {0})};
  return composite;
}

// `source` written into `destination` (a view in device memory of the same shape), converted to its dtype.
void convert_into(GpuRuntime& runtime, const Array& destination, const Array& source) {
  if (destination.shape() != source.shape())
    throw ShapeError("[" + runtime.device().str() + "] cannot copy " + source.shape_dtype_str() + " into " + destination.shape_dtype_str());
  const std::string from(dtype_name(source.dtype())), to(dtype_name(destination.dtype()));
  const std::string name = "hypatia_convert_" + from + "_" + to;
  auto text = render_gpu_elemwise(conversion(source.dtype(), destination.dtype()), name, runtime.has_double(), runtime.dialect());
  if (!text) throw ValueError("[" + runtime.device().str() + "] no device copy of " + source.shape_dtype_str() + " as " + to);
  run_elementwise(runtime, *text, name, destination.shape(), std::span<const Array>(&destination, 1), std::span<const Array>(&source, 1));
}

// A complex array read as its real and imaginary parts: a view with one more axis of 2.
Array as_parts(const Array& value) {
  Shape shape = value.shape();
  Strides strides = value.strides();
  for (auto& stride : strides) stride *= 2;
  shape.push_back(2);
  strides.push_back(1);
  return Array(real_dtype(value.dtype()), shape, value.storage(), strides, value.offset() * 2);
}

// A contiguous device copy of `value` in `dtype` (for operands kernels or BLAS read contiguously). Complex
// values, which kernels do not take, are copied as their parts.
Array converted_on_device(GpuRuntime& runtime, const Array& value, DType dtype) {
  Array result = runtime.empty(value.shape(), dtype);
  if (is_complex(dtype) && dtype == value.dtype()) convert_into(runtime, as_parts(result), as_parts(value));
  else convert_into(runtime, result, value);
  return result;
}

Array contiguous_on_device(GpuRuntime& runtime, const Array& value) { return converted_on_device(runtime, value, value.dtype()); }

// Whether the program handed `input`'s own buffer over as `output` (an update in place: the kernel may
// write into it), as it is.
bool handed_over(const Array& input, const Array& output) {
  return output.storage() && output.storage() == input.storage() && output.offset() == input.offset() &&
         output.shape() == input.shape() && output.strides() == input.strides();
}

// A kernel's text with its placeholder name replaced by one naming the text (so equal kernels share
// their built program).
std::pair<std::string, std::string> named(std::string source, const char* prefix) {
  constexpr const char* kPlaceholder = "hypatia_kernel";
  const std::string name = prefix + hex64(stable_hash(source));
  source.replace(source.find(kPlaceholder), std::string(kPlaceholder).size(), name);
  return {std::move(source), name};
}

// A kernel of generated source the runtime builds and launches: what every kernel below but GEMM holds.
class SourceKernel : public Kernel {
 public:
  SourceKernel(GpuRuntime& runtime, std::string source, std::string name)
      : runtime_(runtime), source_(std::move(source)), name_(std::move(name)) {}

 protected:
  // Launches with a device int flag as the argument after `arrays` (kept zero by this object; then the
  // arrays `after_flag`), which the kernel sets on bad input; whether it was set (the caller then finds the culprit on the host, and raises).
  bool launch_flagging(std::vector<const Array*> arrays, const std::vector<int64_t>& scalars, int64_t total,
                       const std::vector<const Array*>& after_flag = {}) const {
    std::lock_guard<std::mutex> lock(flag_mutex_);
    if (!flag_.storage()) flag_ = runtime_.to_device(Array::zeros({1}, DType::Int32));
    arrays.push_back(&flag_);
    arrays.insert(arrays.end(), after_flag.begin(), after_flag.end());
    runtime_.launch(source_, name_, arrays, scalars, total);
    if (runtime_.to_host(flag_).item() == 0) return false;
    flag_ = Array();  // (a fresh zero for the next call)
    return true;
  }

  GpuRuntime& runtime_;
  std::string source_, name_;
  mutable LayoutCache layouts_;

 private:
  mutable std::mutex flag_mutex_;
  mutable Array flag_;
};

class ElemwiseKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Shape shape = broadcast_shapes_for(node, inputs);
    for (size_t k = 0; k < node.num_outputs(); ++k)
      if (!outputs[k].storage() || outputs[k].shape() != shape || outputs[k].dtype() != node.output(k).dtype() ||
          outputs[k].device() != runtime_.device() || !outputs[k].is_contiguous())
        outputs[k] = allocate(runtime_, node, shape, node.output(k).dtype());
    run_elementwise(runtime_, source_, name_, shape, outputs, inputs, &layouts_);
  }
  bool writes_into_any_input() const override { return true; }
};

// alloc(value, *dims): the value (on the device) broadcast to the shape the dims (read on the host) give,
// written by the copy kernel.
class AllocKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    Shape shape;
    for (size_t i = 1; i < inputs.size(); ++i) {
      const auto d = static_cast<int64_t>(inputs[i].item());
      if (d < 0) throw ValueError("[alloc] negative dimension " + std::to_string(d));
      shape.push_back(d);
    }
    const Array value = inputs[0].broadcast_to(shape);  // (a ShapeError as on the CPU when it does not fit)
    outputs[0] = allocate(runtime_, node, shape, node.output(0).dtype());
    run_elementwise(runtime_, source_, name_, shape, outputs.subspan(0, 1), std::span<const Array>(&value, 1), &layouts_);
  }
};

// A reduction (sum, prod, max, min, any, all) with its fused elementwise producer: one work item per kept
// element, or, where few elements are kept and many reduced (sum(x) of a large x), one per chunk of a
// kept element's reduced elements, then a second pass over the chunks' partial results.
class ReduceKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Reduce& reduce = *reduce_of(node.op());
    const Shape full = broadcast_shapes_for(node, inputs);
    const std::vector<int>& axes = reduce.axes();
    auto reduced = [&](int axis) { return std::find(axes.begin(), axes.end(), axis) != axes.end(); };
    Shape kept, red;
    for (int axis = 0; axis < static_cast<int>(full.size()); ++axis) (reduced(axis) ? red : kept).push_back(full[axis]);
    const int64_t total = shape_size(kept), count = shape_size(red);
    if (count == 0 && (reduce.kind() == ReduceKind::Max || reduce.kind() == ReduceKind::Min) && total > 0 && !reduce.initial())
      throw ValueError("[" + node.op().name() + "] a zero-size reduction of " + shape_str(full) + " has no identity");
    outputs[0] = allocate(runtime_, node, kept, node.output(0).dtype());
    if (total == 0) return;
    std::vector<int64_t> layout{static_cast<int64_t>(kept.size())};
    layout.insert(layout.end(), kept.begin(), kept.end());
    layout.push_back(static_cast<int64_t>(red.size()));
    layout.insert(layout.end(), red.begin(), red.end());
    for (const Array& input : inputs) {
      const Strides strides = input.broadcast_to(full).strides();  // 0 along broadcast axes
      for (int pass = 0; pass < 2; ++pass)
        for (int axis = 0; axis < static_cast<int>(full.size()); ++axis)
          if (reduced(axis) == (pass == 1)) layout.push_back(strides[axis]);
      layout.push_back(input.offset());
    }
    const Array layout_on_device = layouts_.get(runtime_, layout);
    std::vector<const Array*> arrays{&outputs[0]};
    for (const Array& input : inputs) arrays.push_back(&input);
    arrays.push_back(&layout_on_device);
    const int64_t chunks = total >= kFewKept || count < kManyReduced ? 1 : std::min((count + kChunk - 1) / kChunk, kWorkItems / total);
    if (chunks <= 1) return runtime_.launch(source_, name_, arrays, {total, count, 1}, total);
    const auto& [partial, finish] = passes(node);
    const DType partial_dtype = reduce_partial_dtype(reduce.kind(), node.output(0).dtype(), runtime_.has_double());
    const Array partials = allocate(runtime_, node, {total, chunks}, partial_dtype);
    arrays[0] = &partials;
    runtime_.launch(partial.first, partial.second, arrays, {total, count, chunks}, total * chunks);
    // The partials (total, chunks), reduced over their last axis.
    const Array finish_layout = layouts_.get(runtime_, {1, total, 1, chunks, chunks, 1, 0});
    runtime_.launch(finish.first, finish.second, {&outputs[0], &partials, &finish_layout}, {total, chunks, 1}, total);
  }

 private:
  static constexpr int64_t kFewKept = 4096, kManyReduced = 8192, kChunk = 1024, kWorkItems = 65536;

  // The kernels of the two passes (partial results per chunk, then their reduction), rendered on first use.
  const std::pair<std::pair<std::string, std::string>, std::pair<std::string, std::string>>& passes(const Apply& node) const {
    std::lock_guard<std::mutex> lock(passes_mutex_);
    if (!passes_) {
      ReduceKernelSpec spec;
      reduce_kernel_spec(node, spec);
      const DType dtype = node.output(0).dtype(), partial_dtype = reduce_partial_dtype(spec.kind, dtype, runtime_.has_double());
      const auto partial = render_gpu_reduce(spec.composite, spec.kind, dtype, "hypatia_kernel", runtime_.has_double(), runtime_.dialect(), true);
      const auto finish = render_gpu_reduce(conversion(partial_dtype, partial_dtype), spec.kind, dtype, "hypatia_kernel",
                                            runtime_.has_double(), runtime_.dialect());
      if (!partial || !finish) throw ValueError("[" + node.op().name() + "] no two-pass reduction on " + runtime_.device().str());
      passes_.emplace(named(*partial, "hypatia_partial_"), named(*finish, "hypatia_reduce_"));
    }
    return *passes_;
  }

  mutable std::mutex passes_mutex_;
  mutable std::optional<std::pair<std::pair<std::string, std::string>, std::pair<std::string, std::string>>> passes_;
};

// dot(x, y) of matrices and vectors, and gemm(z, alpha, x, y, beta), through the runtime's BLAS.
class GemmKernel final : public Kernel {
 public:
  explicit GemmKernel(GpuRuntime& runtime) : runtime_(runtime) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const DType dtype = node.output(0).dtype();
    if (dtype != DType::Float16) return multiply(node, inputs, outputs, dtype);
    // As the CPU: float16 products in float32, then rounded to float16 (into z's buffer where handed over).
    std::vector<Array> wide(inputs.begin(), inputs.end());
    for (size_t i = 0; i < wide.size(); ++i)
      if (wide[i].device() == runtime_.device()) wide[i] = converted_on_device(runtime_, wide[i], DType::Float32);
    Array product;
    multiply(node, wide, std::span<Array>(&product, 1), DType::Float32);
    if (wide.size() == 5 && handed_over(inputs[0], outputs[0])) convert_into(runtime_, outputs[0], product);
    else outputs[0] = converted_on_device(runtime_, product, DType::Float16);
  }

 private:
  // The product in `dtype` (the node's, or float32 for a float16 node).
  void multiply(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs, DType dtype) const {
    const bool is_gemm = inputs.size() == 5;
    Array x = inputs[is_gemm ? 2 : 0], y = inputs[is_gemm ? 3 : 1];
    // A vector operand of dot is a one-row (left) or one-column (right) matrix: a view.
    if (x.ndim() == 1) x = x.expand_dims(0);
    if (y.ndim() == 1) y = y.expand_dims(1);
    if (x.shape()[1] != y.shape()[0]) {  // (as the CPU says it)
      const Array &given_x = inputs[is_gemm ? 2 : 0], &given_y = inputs[is_gemm ? 3 : 1];
      throw ShapeError("[" + node.op().name() + "] shapes " + shape_str(given_x.shape()) + " and " + shape_str(given_y.shape()) +
                       " not aligned: " + std::to_string(x.shape()[1]) + " (axis " + std::to_string(given_x.ndim() - 1) + ") != " +
                       std::to_string(y.shape()[0]) + " (axis 0)");
    }
    if (!blas_operand(x)) x = contiguous_on_device(runtime_, x);
    if (!blas_operand(y)) y = contiguous_on_device(runtime_, y);
    const Shape shape{x.shape()[0], y.shape()[1]};
    double alpha = 1, beta = 0;
    if (is_gemm) {
      const Array& z = inputs[0];
      if (z.shape() != shape)
        throw ShapeError("[gemm] z " + z.shape_dtype_str() + " does not have the product's shape " + shape_str(shape));
      alpha = inputs[1].item();
      beta = inputs[4].item();
      // z's buffer when the program hands it over (an update in place), else a copy of z.
      if (!(outputs[0].storage() && outputs[0].storage() == z.storage() && z.is_contiguous() && z.offset() == 0))
        outputs[0] = contiguous_on_device(runtime_, z);
    } else {
      outputs[0] = allocate(runtime_, node, shape, dtype);
    }
    if (x.shape()[1] > 0) runtime_.gemm(alpha, x, y, beta, outputs[0]);
    else scale_by(outputs[0], is_gemm ? beta : 0.0);  // (an empty sum: beta z, which BLAS libraries do not all give)
    if (outputs[0].ndim() != node.output(0).ndim()) {  // (a product with a vector: the matrix's view as the result)
      Shape result;
      if (inputs[0].ndim() == 2) result.push_back(shape[0]);
      if (inputs[1].ndim() == 2) result.push_back(shape[1]);
      outputs[0] = outputs[0].reshape(result);
    }
  }

  // out *= factor, by an elementwise kernel (0: zeros, whatever out held).
  void scale_by(const Array& out, double factor) const {
    Composite composite;
    composite.input_dtypes = {out.dtype()};
    if (factor != 0) {
      composite.input_dtypes.push_back(out.dtype());
      composite.outputs = {composite.add(ScalarOp{ScalarOpId::mul}, {0, 1})};
    } else {
      composite.outputs = {0};
    }
    const std::string name = "hypatia_scale_" + std::string(dtype_name(out.dtype())) + (factor != 0 ? "" : "_zero");
    const auto source = render_gpu_elemwise(composite, name, runtime_.has_double(), runtime_.dialect());
    const Array factor_on_device = runtime_.to_device(Array::scalar(factor).astype(out.dtype())).broadcast_to(out.shape());
    const std::vector<Array> operands = factor != 0 ? std::vector<Array>{out, factor_on_device} : std::vector<Array>{factor_on_device};
    run_elementwise(runtime_, *source, name, out.shape(), std::span<const Array>(&out, 1), operands);
  }

  GpuRuntime& runtime_;
};

// A sparse matrix times a dense one (structured_dot), or z + alpha times it (usmm, into z's buffer where the
// program hands it over): through the runtime's sparse library where it has one, else a generated kernel
// (by rows for csr, by result columns for csc).
class SparseProductKernel final : public Kernel {
 public:
  explicit SparseProductKernel(GpuRuntime& runtime) : runtime_(runtime) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const bool accumulate = is_usmm(node);
    const SparseArray& given = inputs[accumulate ? 2 : 0].sparse();
    const DType dtype = node.output(0).dtype();
    const Array b = as_kernel_operand(inputs[accumulate ? 3 : 1], dtype);
    if (given.cols() != b.shape()[0])
      throw ShapeError("[" + node.op().name() + "] the inner dimensions differ: " + given.shape_dtype_str() + " @ " + b.shape_dtype_str());
    const int64_t n = b.shape()[1];
    double alpha = 1;
    if (accumulate) {
      const Array& z = inputs[0];
      if (z.shape() != Shape{given.rows(), n})
        throw ShapeError("[usmm] z " + z.shape_dtype_str() + " does not have the product's shape (" + std::to_string(given.rows()) + ", " +
                         std::to_string(n) + ")");
      alpha = inputs[1].item();
      if (!(outputs[0].storage() && outputs[0].storage() == z.storage() && z.is_contiguous() && z.offset() == 0))
        outputs[0] = contiguous_on_device(runtime_, z);
    } else {
      outputs[0] = allocate(runtime_, node, {given.rows(), n}, dtype);
    }
    // The matrix's arrays contiguous, its values in the result's dtype.
    const SparseArray a = SparseArray::unchecked(given.format(), given.rows(), given.cols(), as_kernel_operand(given.data(), dtype),
                                                 as_kernel_operand(given.indices(), given.indices().dtype()),
                                                 as_kernel_operand(given.indptr(), given.indptr().dtype()));
    if (runtime_.sparse_product(a, b, alpha, accumulate ? 1.0 : 0.0, outputs[0])) return;
    const bool by_rows = a.format() == SparseFormat::Csr;
    const std::string name = std::string("hypatia_sparse_product_") + (by_rows ? "rows_" : "columns_") + std::string(dtype_name(dtype)) +
                             "_" + std::string(dtype_name(a.indices().dtype())) + "_" + std::string(dtype_name(a.indptr().dtype()));
    const auto source = render_gpu_sparse_product(dtype, a.indices().dtype(), a.indptr().dtype(), by_rows, name, runtime_.has_double(),
                                                  runtime_.dialect());
    if (!source) throw Error("[" + node.op().name() + "] internal error: no device kernel for " + given.shape_dtype_str());
    const Array scale = runtime_.to_device(Array::scalar(alpha, dtype));
    const int64_t total = by_rows ? a.rows() * n : n;
    if (total > 0)
      runtime_.launch(*source, name, {&outputs[0], &a.data(), &a.indices(), &a.indptr(), &b, &scale}, {a.major(), a.rows(), n, accumulate ? 1 : 0},
                      total);
  }

 private:
  // The array as the kernels take it: contiguous at offset 0 in `dtype` (a copy only where it is not).
  Array as_kernel_operand(const Array& value, DType dtype) const {
    if (value.dtype() == dtype && value.offset() == 0 && value.is_contiguous()) return value;
    return converted_on_device(runtime_, value, dtype);
  }

  GpuRuntime& runtime_;
};

// The cross-entropy of each row against its label (CrossentropyCategorical1Hot), from probabilities or
// logits. A bad label is flagged by the kernel in a device int kept by the kernel object, read after each
// launch (the call then raises as the CPU does, naming the label).
class CrossentropyKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &p = inputs[0], &labels = inputs[1];
    const int64_t rows = p.shape()[0], classes = p.shape()[1];
    if (labels.size() != rows)
      throw ShapeError("[categorical_crossentropy] " + std::to_string(labels.size()) + " labels for predictions of shape " +
                       shape_str(p.shape()));
    outputs[0] = allocate(runtime_, node, {rows}, node.output(0).dtype());
    if (rows == 0) return;
    if (!launch_flagging({&outputs[0], &p, &labels},
                         {rows, classes, p.strides()[0], p.strides()[1], p.offset(), labels.strides()[0], labels.offset()}, rows))
      return;
    const Array host_labels = runtime_.to_host(labels).astype(DType::Int64);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t label = static_cast<int64_t>(host_labels.get_as_double(i));
      if (label < 0 || label >= classes)
        throw IndexError("[categorical_crossentropy] label " + std::to_string(label) + " of row " + std::to_string(i) +
                         " is outside 0.." + std::to_string(classes - 1) + " (" + std::to_string(classes) + " classes)");
    }
  }
};

// A standard uniform or normal draw, the same numbers as on the CPU for the same state: the sample on the
// device, the advanced state (read and written on the host) as Generator leaves it, ceil(n / 2) blocks on.
class RandomKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& state = inputs[0];
    if (state.size() != 2)
      throw ValueError("[" + node.op().name() + "] the state must hold [key, counter], got " + shape_str(state.shape()));
    Shape shape;
    for (size_t axis = 1; axis < inputs.size(); ++axis) {
      const auto d = static_cast<int64_t>(inputs[axis].item());
      if (d < 0) throw ValueError("[" + node.op().name() + "] negative dimension " + std::to_string(d));
      shape.push_back(d);
    }
    const int64_t key = state.at<int64_t>({0}), counter = state.at<int64_t>({1});
    const int64_t n = shape_size(shape), blocks = (n + 1) / 2;
    outputs[1] = allocate(runtime_, node, shape, node.output(1).dtype());
    if (n > 0) runtime_.launch(source_, name_, {&outputs[1]}, {n, key, counter}, blocks);
    outputs[0] = Array::from_vector<int64_t>({key, counter + blocks});
  }
};

// Raises the IndexError the CPU raises for the first index out of bounds (positions in order, the last
// axis first, as AdvancedSubtensor's loop checks them), reading the indices on the host.
void raise_bad_index(std::span<const Array> indices, const Shape& broadcast, const std::vector<int>& axes, const Shape& x_shape,
                     const char* op) {
  std::vector<Array> host;
  for (const Array& index : indices) host.push_back(to_host(index).astype(DType::Int64).broadcast_to(broadcast).contiguous());
  for (int64_t e = 0; e < shape_size(broadcast); ++e)
    for (size_t k = axes.size(); k-- > 0;) checked_index(host[k].data<int64_t>()[e], x_shape[axes[k]], axes[k], x_shape, op);
}

// The shape of a result (or region) whose axes advanced_result_axes lists.
Shape advanced_result_shape(const std::vector<int>& result_axes, const Shape& x_shape, const Shape& broadcast) {
  Shape shape;
  for (int axis : result_axes) shape.push_back(axis >= 0 ? x_shape[axis] : broadcast[-1 - axis]);
  return shape;
}

// x[i0, i1, ...] with integer index arrays on some axes (AdvancedSubtensor: np.take, x[rows, columns]): a
// work item per result element; an index out of bounds is flagged by the kernel and raised as on the CPU.
class TakeKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const auto& op = static_cast<const AdvancedSubtensor&>(node.op());
    const Array& x = inputs[0];
    const std::span<const Array> indices = inputs.subspan(1);
    const Shape broadcast = broadcast_index_shape(indices, "take");
    const std::vector<int> result_axes = advanced_result_axes(x.ndim(), op.axes(), static_cast<int>(broadcast.size()), op.dims_first());
    const Shape shape = advanced_result_shape(result_axes, x.shape(), broadcast);
    outputs[0] = allocate(runtime_, node, shape, node.output(0).dtype());
    const int64_t total = shape_size(shape);
    if (total == 0) {
      if (shape_size(broadcast) > 0) raise_bad_index(indices, broadcast, op.axes(), x.shape(), "take");
      return;
    }
    // The result's shape; x's and each index array's strides over the result's axes; their offsets; per
    // indexed axis its size and x's stride.
    std::vector<int64_t> layout{static_cast<int64_t>(shape.size())};
    layout.insert(layout.end(), shape.begin(), shape.end());
    for (int axis : result_axes) layout.push_back(axis >= 0 ? x.strides()[axis] : 0);
    for (const Array& index : indices) {
      const Strides strides = index.broadcast_to(broadcast).strides();
      for (int axis : result_axes) layout.push_back(axis >= 0 ? 0 : strides[-1 - axis]);
    }
    layout.push_back(x.offset());
    for (const Array& index : indices) layout.push_back(index.offset());
    for (int axis : op.axes()) {
      layout.push_back(x.shape()[axis]);
      layout.push_back(x.strides()[axis]);
    }
    const Array layout_on_device = layouts_.get(runtime_, layout);
    std::vector<const Array*> arrays{&outputs[0], &x};
    for (const Array& index : indices) arrays.push_back(&index);
    if (launch_flagging(arrays, {total}, total, {&layout_on_device})) raise_bad_index(indices, broadcast, op.axes(), x.shape(), "take");
  }
};

// x[i0, i1, ...] = value and np.add.at(x, (i0, i1, ...), value) (AdvancedIncSubtensor): x's buffer where
// the program hands it over, else a copy; the value broadcast to the region, converted to x's dtype and
// laid out index positions first; repeats in index order as on the CPU; an index out of bounds flagged
// and raised naming it.
class PutKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const auto& op = static_cast<const AdvancedIncSubtensor&>(node.op());
    const char* name = op.sets() ? "set_subtensor" : "inc_subtensor";
    const Array& x = inputs[0];
    const std::span<const Array> indices = inputs.subspan(2);
    const Shape broadcast = broadcast_index_shape(indices, name);
    const std::vector<int> region_axes = advanced_result_axes(x.ndim(), op.axes(), static_cast<int>(broadcast.size()), op.dims_first());
    const Array value = broadcast_value(inputs[1], node.input(1).type(), advanced_result_shape(region_axes, x.shape(), broadcast), name);
    // (In place only where neither the value nor an index array is x itself: the kernel reads them as it writes.)
    bool in_place = handed_over(x, outputs[0]);
    for (const Array& read : inputs.subspan(1)) in_place = in_place && !read.shares_storage_with(x);
    Array out = in_place ? outputs[0] : contiguous_on_device(runtime_, x);
    outputs[0] = out;
    // The value's index dimensions first, then x's other axes (in order, as in the region).
    std::vector<int> order, other_axes;
    for (int d = 0; d < static_cast<int>(broadcast.size()); ++d)
      order.push_back(static_cast<int>(std::find(region_axes.begin(), region_axes.end(), -1 - d) - region_axes.begin()));
    for (int position = 0; position < static_cast<int>(region_axes.size()); ++position)
      if (region_axes[position] >= 0) {
        order.push_back(position);
        other_axes.push_back(region_axes[position]);
      }
    int64_t inner = 1;
    for (int axis : other_axes) inner *= x.shape()[axis];
    const int64_t count = shape_size(broadcast);
    if (count == 0) return;
    if (inner == 0) return raise_bad_index(indices, broadcast, op.axes(), x.shape(), name);
    const Array laid_out = converted_on_device(runtime_, value.transpose(order), x.dtype());
    // x's other axes (sizes, out's strides, out's offset); the index dimensions (rank, sizes, each index's
    // strides, their offsets); per indexed axis its size and out's stride.
    std::vector<int64_t> layout{static_cast<int64_t>(other_axes.size())};
    for (int axis : other_axes) layout.push_back(x.shape()[axis]);
    for (int axis : other_axes) layout.push_back(out.strides()[axis]);
    layout.push_back(out.offset());
    layout.push_back(static_cast<int64_t>(broadcast.size()));
    layout.insert(layout.end(), broadcast.begin(), broadcast.end());
    for (const Array& index : indices) {
      const Strides strides = index.broadcast_to(broadcast).strides();
      layout.insert(layout.end(), strides.begin(), strides.end());
    }
    for (const Array& index : indices) layout.push_back(index.offset());
    for (int axis : op.axes()) {
      layout.push_back(x.shape()[axis]);
      layout.push_back(out.strides()[axis]);
    }
    const Array layout_on_device = layouts_.get(runtime_, layout);
    std::vector<const Array*> arrays{&out, &laid_out};
    for (const Array& index : indices) arrays.push_back(&index);
    if (launch_flagging(arrays, {inner, count}, inner, {&layout_on_device}))
      raise_bad_index(indices, broadcast, op.axes(), x.shape(), name);
  }
};

// A kernel of generated source working along one axis of its first input.
class AxisKernel : public SourceKernel {
 public:
  AxisKernel(GpuRuntime& runtime, std::string source, std::string name, int axis)
      : SourceKernel(runtime, std::move(source), std::move(name)), axis_(axis) {}

 protected:
  int axis_;
};

// A kernel along one axis (softmax, cumsum, argmax: gpu_source.h's row layout): a work item per row, the
// result contiguous, with the axis (softmax, the running sums and products) or without it (argmax, argmin).
class AlongAxisKernel final : public AxisKernel {
 public:
  AlongAxisKernel(GpuRuntime& runtime, std::string source, std::string name, int axis, bool keeps_axis)
      : AxisKernel(runtime, std::move(source), std::move(name), axis), keeps_axis_(keeps_axis) {}

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    Shape shape = x.shape();
    if (!keeps_axis_) shape.erase(shape.begin() + axis_);
    Array& out = outputs[0] = allocate(runtime_, node, shape, node.output(0).dtype());
    const int64_t length = x.shape()[axis_], rows = shape_size(shape) / (keeps_axis_ ? std::max<int64_t>(length, 1) : 1);
    if (out.size() == 0) return;
    if (length == 0)  // (as the CPU says it)
      throw ValueError("[" + node.op().name() + "] of an empty sequence: axis " + std::to_string(axis_) + " of shape " +
                       shape_str(x.shape()) + " has size 0");
    std::vector<int64_t> layout{x.ndim() - 1};
    for (int pass = 0; pass < 3; ++pass)
      for (int d = 0; d < x.ndim(); ++d)
        if (d != axis_)
          layout.push_back(pass == 0 ? x.shape()[d] : pass == 1 ? x.strides()[d] : out.strides()[keeps_axis_ || d < axis_ ? d : d - 1]);
    const Array layout_on_device = layouts_.get(runtime_, layout);
    runtime_.launch(source_, name_, {&out, &x, &layout_on_device},
                    {rows, length, x.strides()[axis_], keeps_axis_ ? out.strides()[axis_] : 0, x.offset()}, rows);
  }

 private:
  bool keeps_axis_;
};

// set_subtensor / inc_subtensor with basic indices: the region of x (a view of x's buffer where the
// program hands it over, else of a copy) assigned or incremented by the broadcast value, converted to
// x's dtype, by an elementwise kernel.
class IncSubtensorKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const auto& op = static_cast<const IncSubtensor&>(node.op());
    const std::string name = op.name();
    Array out = handed_over(inputs[0], outputs[0]) && !inputs[1].shares_storage_with(inputs[0]) ? outputs[0]
                                                                                                 : contiguous_on_device(runtime_, inputs[0]);
    Array region = apply_basic_index(out, op.entries(), inputs.subspan(2));
    const Array value = broadcast_value(inputs[1], node.input(1).type(), region.shape(), name.c_str());
    const std::vector<Array> operands = op.sets() ? std::vector<Array>{value} : std::vector<Array>{region, value};
    run_elementwise(runtime_, source_, name_, region.shape(), std::span<const Array>(&region, 1), operands, &layouts_);
    outputs[0] = std::move(out);
  }
};

// Whether indices fit x along `axis` (take_along_axis: the same rank, the same sizes off the axis).
bool fits_along_axis(const Shape& x, const Shape& indices, int axis) {
  if (x.size() != indices.size()) return false;
  for (size_t d = 0; d < x.size(); ++d)
    if (static_cast<int>(d) != axis && x[d] != indices[d]) return false;
  return true;
}

// Raises what the CPU raises for `node`'s inputs (an index out of bounds a kernel flagged, shapes that
// do not fit), running the op's perform() on host copies; where it does not raise, says the device and
// the CPU disagree.
[[noreturn]] void raise_as_on_the_cpu(const Apply& node, std::span<const Array> inputs) {
  std::vector<Array> host;
  for (const Array& input : inputs) host.push_back(to_host(input));
  std::vector<Array> outputs(node.num_outputs());
  node.op().perform(node, host, outputs);
  throw ValueError("[" + node.op().name() + "] the device flagged an input the CPU accepts");
}

// argsort along one axis: log2(length) merge passes over the rows (the axis moved last), ping-ponging
// between two permutation buffers; the result in x's layout.
class ArgSortKernel final : public AxisKernel {
 public:
  using AxisKernel::AxisKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    const int64_t length = x.shape()[axis_], rows = length ? x.size() / length : 0;
    Shape rows_shape;  // (the other axes, then the axis)
    std::vector<int64_t> layout{x.ndim() - 1};
    for (int pass = 0; pass < 2; ++pass)
      for (int d = 0; d < x.ndim(); ++d)
        if (d != axis_) layout.push_back(pass == 0 ? x.shape()[d] : x.strides()[d]);
    for (int d = 0; d < x.ndim(); ++d)
      if (d != axis_) rows_shape.push_back(x.shape()[d]);
    rows_shape.push_back(length);
    Array permutation = allocate(runtime_, node, rows_shape, DType::Int64);
    if (x.size() > 0) {
      Array other = allocate(runtime_, node, rows_shape, DType::Int64);
      const Array layout_on_device = layouts_.get(runtime_, layout);
      int64_t width = 1;
      do {  // (one pass at least: it writes the identity of rows of one)
        runtime_.launch(source_, name_, {&other, &x, &permutation, &layout_on_device},
                        {rows, length, x.strides()[axis_], x.offset(), width, width == 1}, rows * length);
        std::swap(permutation, other);
        width *= 2;
      } while (width < length);
    }
    std::vector<int> back(x.ndim());  // rows_shape's axes back in x's order
    for (int d = 0, k = 0; d < x.ndim(); ++d) back[d] = d == axis_ ? x.ndim() - 1 : k++;
    outputs[0] = axis_ == x.ndim() - 1 ? permutation : contiguous_on_device(runtime_, permutation.transpose(back));
  }

};

// searchsorted(x, v) of a sorted vector: a binary search per element of v.
class SearchSortedKernel final : public SourceKernel {
 public:
  using SourceKernel::SourceKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &x = inputs[0], &v = inputs[1];
    outputs[0] = allocate(runtime_, node, v.shape(), DType::Int64);
    if (v.size() == 0) return;
    std::vector<int64_t> layout{v.ndim()};
    layout.insert(layout.end(), v.shape().begin(), v.shape().end());
    layout.insert(layout.end(), v.strides().begin(), v.strides().end());
    layout.push_back(v.offset());
    const Array layout_on_device = layouts_.get(runtime_, layout);
    runtime_.launch(source_, name_, {&outputs[0], &x, &v, &layout_on_device}, {v.size(), x.size(), x.strides()[0], x.offset()}, v.size());
  }
};

// take_along_axis(x, indices): the gather kernel of x[i0, ...] (render_gpu_take) with one index array of
// x's rank, read at each result position, on the axis.
class TakeAlongAxisKernel final : public AxisKernel {
 public:
  using AxisKernel::AxisKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &x = inputs[0], &indices = inputs[1];
    if (!fits_along_axis(x.shape(), indices.shape(), axis_)) raise_as_on_the_cpu(node, inputs);
    const Shape& shape = indices.shape();
    outputs[0] = allocate(runtime_, node, shape, node.output(0).dtype());
    const int64_t total = shape_size(shape);
    if (total == 0) return;
    // The result's rank and shape; x's strides (none along the axis) and the indices'; their offsets; the
    // axis's size and x's stride on it.
    std::vector<int64_t> layout{static_cast<int64_t>(shape.size())};
    layout.insert(layout.end(), shape.begin(), shape.end());
    for (int d = 0; d < x.ndim(); ++d) layout.push_back(d == axis_ ? 0 : x.strides()[d]);
    layout.insert(layout.end(), indices.strides().begin(), indices.strides().end());
    layout.insert(layout.end(), {x.offset(), indices.offset(), x.shape()[axis_], x.strides()[axis_]});
    const Array layout_on_device = layouts_.get(runtime_, layout);
    if (launch_flagging({&outputs[0], &x, &indices}, {total}, total, {&layout_on_device})) raise_as_on_the_cpu(node, inputs);
  }

};

// inc_along_axis(x, indices, values): a copy of x (x's buffer where the program hands it over) with each
// value added at its index's position on the axis, a work item per line along it.
class IncAlongAxisKernel final : public AxisKernel {
 public:
  using AxisKernel::AxisKernel;

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array &x = inputs[0], &indices = inputs[1];
    if (!fits_along_axis(x.shape(), indices.shape(), axis_) || inputs[2].shape() != indices.shape()) raise_as_on_the_cpu(node, inputs);
    bool in_place = handed_over(x, outputs[0]);
    for (const Array& read : inputs.subspan(1)) in_place = in_place && !read.shares_storage_with(x);
    Array out = in_place ? outputs[0] : contiguous_on_device(runtime_, x);
    outputs[0] = out;
    const Array value = converted_on_device(runtime_, inputs[2], x.dtype());
    const int64_t length = indices.shape()[axis_], lines = length ? indices.size() / length : 0;
    if (indices.size() == 0) return;
    // The other axes' sizes (the indices'), out's, the indices' and the value's strides on them.
    std::vector<int64_t> layout{indices.ndim() - 1};
    for (int pass = 0; pass < 4; ++pass)
      for (int d = 0; d < x.ndim(); ++d)
        if (d != axis_)
          layout.push_back(pass == 0 ? indices.shape()[d] : (pass == 1 ? out : pass == 2 ? indices : value).strides()[d]);
    layout.insert(layout.end(), {out.offset(), indices.offset(), value.offset(), indices.strides()[axis_], value.strides()[axis_],
                                 x.shape()[axis_], out.strides()[axis_]});
    const Array layout_on_device = layouts_.get(runtime_, layout);
    if (launch_flagging({&out, &value, &indices}, {lines, length}, lines, {&layout_on_device})) raise_as_on_the_cpu(node, inputs);
  }

};

// Convolutions and pooling through the runtime's DNN library, on contiguous copies of their operands.
class DnnKernel final : public Kernel {
 public:
  explicit DnnKernel(GpuRuntime& runtime) : runtime_(runtime) {}
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    std::vector<Array> operands;
    for (const Array& input : inputs) operands.push_back(input.is_contiguous() ? input : contiguous_on_device(runtime_, input));
    if (const auto* conv = dynamic_cast<const Convolution*>(&node.op())) {
      const ConvGeometry g = conv->geometry(operands);  // (the shape input is on the host: Op::reads_on_host)
      const Shape shape = conv->output_shape(g);
      if (operands[0].size() == 0 || operands[1].size() == 0) {  // (empty sums: zeros, which the library does not give)
        outputs[0] = runtime_.to_device(Array::zeros(shape, node.output(0).dtype()));
        return;
      }
      Array out = runtime_.empty(shape, node.output(0).dtype());
      const bool has_bias = conv->pass() == ConvPass::Forward && conv->epilogue().bias;
      if (out.size() > 0) runtime_.convolution(*conv, g, operands[0], operands[1], has_bias ? &operands[2] : nullptr, out);
      outputs[0] = std::move(out);
      return;
    }
    const auto& pool = static_cast<const Pooling&>(node.op());
    const Shape shape = *pool.result_shape(node, operands);
    Array out = runtime_.empty(shape, node.output(0).dtype());
    if (out.size() > 0) runtime_.pooling(pool, pool.geometry(operands[0].shape()), operands, out);
    outputs[0] = std::move(out);
  }

 private:
  GpuRuntime& runtime_;
};

// A node run by its host implementation on host copies of its inputs, its outputs copied to the device.
void run_on_host(GpuRuntime& runtime, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) {
  std::vector<Array> on_host;
  for (const Array& input : inputs) on_host.push_back(input.device().is_cpu() ? input : runtime.to_host(input));
  std::vector<Array> results(outputs.size());
  node.op().perform(node, on_host, results);
  for (size_t k = 0; k < outputs.size(); ++k) outputs[k] = runtime.to_device(results[k]);
}

// Fourier transforms through the runtime's FFT library on contiguous copies, scaled after by a kernel; where
// the library cannot plan a geometry, on the host (FFTW) with the values copied over and back.
class FftKernel final : public Kernel {
 public:
  explicit FftKernel(GpuRuntime& runtime) : runtime_(runtime) {}
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const auto& op = static_cast<const Fft&>(node.op());
    const FftGeometry g = op.geometry(inputs);  // (a complex-to-real length is on the host: Op::reads_on_host)
    const DType dtype = node.output(0).dtype();
    // The libraries take buffers at their start, and complex-to-real transforms overwrite their input.
    const Array& x = inputs[0];
    Array in = x.is_contiguous() && x.offset() == 0 && g.kind != FftKind::ComplexToReal ? x : contiguous_on_device(runtime_, x);
    Array out = runtime_.empty(g.out_shape, dtype);
    if (g.howmany == 0) {
      outputs[0] = std::move(out);
      return;
    }
    if (!(g.kind == FftKind::ComplexToReal ? complex_to_real(g, in, out) : runtime_.fft(g, in, out))) {
      run_on_host(runtime_, node, inputs, outputs);
      return;
    }
    if (g.factor != 1.0) scale(out, g.factor);
    outputs[0] = std::move(out);
  }

 private:
  // NumPy's (FFTW's) complex-to-real transforms are the inverse complex transform over the leading axes,
  // then one over the last that ignores the imaginary parts of frequencies 0 and n / 2: the libraries'
  // results are undefined where the input is not Hermitian, so those steps are taken one by one.
  bool complex_to_real(const FftGeometry& g, Array& in, Array& out) const {
    Array spectrum = in;
    const int rank = static_cast<int>(g.n.size()), ndim = in.ndim(), first = ndim - rank;
    if (rank > 1) {
      // The half-spectrum axis moved before the transformed ones, transformed as a batch, and moved back.
      std::vector<int> order;
      for (int a = 0; a < first; ++a) order.push_back(a);
      order.push_back(ndim - 1);
      for (int a = first; a < ndim - 1; ++a) order.push_back(a);
      Array moved = contiguous_on_device(runtime_, in.transpose(order));
      Array leading = runtime_.empty(moved.shape(), moved.dtype());
      const FftGeometry lead{FftKind::ComplexToComplex, true, std::vector<int>(g.n.begin(), g.n.end() - 1),
                             g.howmany * in.shape().back(), moved.shape(), 1.0};
      if (!runtime_.fft(lead, moved, leading)) return false;
      spectrum = contiguous_on_device(runtime_, leading.transpose(inverse_permutation(order)));
    }
    real_edges(spectrum, g.n.back());
    const FftGeometry last{FftKind::ComplexToReal, true, {g.n.back()}, g.howmany * (g.points() / g.n.back()), g.out_shape, 1.0};
    return runtime_.fft(last, spectrum, out);
  }

  // The imaginary parts of each row's first and (for even n) last frequency of a contiguous half spectrum zeroed.
  void real_edges(const Array& spectrum, int64_t n) const {
    const int64_t length = spectrum.shape().back(), rows = spectrum.size() / std::max<int64_t>(length, 1);
    auto source = render_gpu_real_edges(real_dtype(spectrum.dtype()), "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) throw ValueError("[" + runtime_.device().str() + "] no kernel for the edges of " + spectrum.shape_dtype_str());
    const auto [text, name] = named(std::move(*source), "hypatia_real_edges_");
    if (rows > 0) runtime_.launch(text, name, {&spectrum}, {rows, length, n % 2 == 0 ? 1 : 0}, rows);
  }

  // Every real (or part of a complex) value of contiguous `values` multiplied by `factor`.
  void scale(const Array& values, double factor) const {
    const DType real = real_dtype(values.dtype());
    const int64_t count = values.size() * (is_complex(values.dtype()) ? 2 : 1);
    auto source = render_gpu_scale(real, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) throw ValueError("[" + runtime_.device().str() + "] no scaling kernel for " + values.shape_dtype_str());
    const auto [text, name] = named(std::move(*source), "hypatia_scale_");
    int64_t bits = 0;
    if (runtime_.has_double()) {
      std::memcpy(&bits, &factor, sizeof factor);
    } else {
      const float single = static_cast<float>(factor);
      uint32_t word = 0;
      std::memcpy(&word, &single, sizeof single);
      bits = word;
    }
    runtime_.launch(text, name, {&values}, {count, bits}, count);
  }

  GpuRuntime& runtime_;
};

// Dense linear algebra through the runtime's solver, computed as the host ops compute it (ops/linalg.cpp):
// factorizations one matrix at a time with a batch's infos read at once, triangular solves by row-major
// trsm, LU pivots applied by a kernel. What the host handles specially (batch axes that broadcast, empty
// matrices, sizes beyond int) runs there, with its errors.
class LinalgKernel final : public Kernel {
 public:
  explicit LinalgKernel(GpuRuntime& runtime) : runtime_(runtime) {}

  // The nodes this kernel takes: which structures and forms, in the precisions the device holds.
  static bool takes(const Apply& node, bool has_double) {
    const DType dtype = node.output(0).dtype();
    if (dtype != DType::Float32 && !(dtype == DType::Float64 && has_double)) return false;
    for (const Variable& input : node.inputs())
      if (!gpu_stored_type(input.dtype(), has_double)) return false;
    const Op& op = node.op();
    if (const auto* solve = dynamic_cast<const Solve*>(&op)) return solve->options().structure != MatrixStructure::Symmetric;
    if (dynamic_cast<const Eigh*>(&op)) return node.inputs().size() == 1;  // (the pencil: the host)
    return dynamic_cast<const Cholesky*>(&op) || dynamic_cast<const LuFactor*>(&op) || dynamic_cast<const MatrixInverse*>(&op) ||
           dynamic_cast<const Determinant*>(&op);
  }

  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const auto& op = static_cast<const LinalgOp&>(node.op());
    if (!plain_batch(op, inputs)) {
      run_on_host(runtime_, node, inputs, outputs);
      return;
    }
    const Call call{node, inputs, node.output(0).dtype(), inputs[0].shape(-1), batch_of(inputs[0], 2)};
    if (const auto* cholesky = dynamic_cast<const Cholesky*>(&op)) {
      outputs[0] = this->cholesky(call, *cholesky);
    } else if (dynamic_cast<const LuFactor*>(&op)) {
      Array lu = values(call, 0), pivots = runtime_.empty(with_core(call.batch, {call.n}), DType::Int32);
      factor_lu(call, lu, pivots);
      outputs[0] = std::move(lu);
      outputs[1] = std::move(pivots);
    } else if (const auto* inverse = dynamic_cast<const MatrixInverse*>(&op)) {
      Array identity = Array::zeros(with_core(call.batch, {call.n, call.n}), call.dtype);
      for (int64_t e = 0; e < call.count(); ++e)
        for (int64_t i = 0; i < call.n; ++i) identity.set_from_double((e * call.n + i) * call.n + i, 1.0);
      Array x = runtime_.to_device(identity);
      lu_solve(call, inverse->factored(), x, call.n, false);
      outputs[0] = std::move(x);
    } else if (const auto* determinant = dynamic_cast<const Determinant*>(&op)) {
      this->determinant(call, *determinant, outputs);
    } else if (const auto* solve = dynamic_cast<const Solve*>(&op)) {
      outputs[0] = this->solve(call, *solve);
    } else {
      const auto& eigh = static_cast<const Eigh&>(op);
      eigen(call, eigh, outputs);
    }
  }

 private:
  struct Call {
    const Apply& node;
    std::span<const Array> inputs;
    DType dtype;
    int64_t n;
    Shape batch;
    int64_t count() const { return shape_size(batch); }
  };

  static Shape batch_of(const Array& x, int core) { return Shape(x.shape().begin(), x.shape().end() - core); }
  static Shape with_core(Shape shape, std::initializer_list<int64_t> core) {
    shape.insert(shape.end(), core.begin(), core.end());
    return shape;
  }

  // Square non-empty matrices, one batch shape across the inputs, sizes within int: the cases this kernel
  // computes (the host raises the errors of the others, or broadcasts).
  static bool plain_batch(const LinalgOp& op, std::span<const Array> inputs) {
    const Array& a = inputs[0];
    if (a.ndim() < 2 || a.shape(-1) != a.shape(-2) || a.shape(-1) == 0 || a.shape(-1) > INT32_MAX) return false;
    const Shape batch = batch_of(a, 2);
    for (size_t i = 0; i < inputs.size(); ++i) {
      const int core = op.core_rank(static_cast<int>(i));
      if (inputs[i].ndim() < core || batch_of(inputs[i], core) != batch) return false;
      if (!op.holds_values(static_cast<int>(i)) && (inputs[i].dtype() != DType::Int32 || inputs[i].shape(-1) != a.shape(-1)))
        return false;
      if (core >= 1 && inputs[i].shape(-1) > INT32_MAX) return false;
    }
    if (const auto* solve = dynamic_cast<const Solve*>(&op)) {
      const Array& rhs = inputs.back();
      if (rhs.shape(solve->vector_rhs() ? -1 : -2) != a.shape(-1)) return false;
    }
    return shape_size(batch) > 0;
  }

  // Input i in the compute dtype: a fresh contiguous device copy (the library writes into it).
  Array values(const Call& call, int input) const { return converted_on_device(runtime_, call.inputs[input], call.dtype); }
  // Entry e of a contiguous batch whose entries have `core` shape.
  static Array entry(const Array& batch, int64_t e, const Shape& core) {
    return batch.view_as(core, contiguous_strides(core), batch.offset() + e * shape_size(core));
  }

  [[noreturn]] void fail(const Call& call, const std::string& why, int64_t e) const {
    throw LinAlgError("[" + call.node.op().name() + "] " + why + " in " + shapes_str(call.inputs) + batch_entry_note(call.batch, e));
  }

  // A batch's int32 results (infos, flags), read at once.
  std::vector<int32_t> read(const Array& flags) const {
    const Array host = runtime_.to_host(flags);
    return std::vector<int32_t>(host.data<int32_t>(), host.data<int32_t>() + host.size());
  }

  // A kernel of the linear-algebra family over the batch.
  void launch(std::optional<std::string> source, const char* prefix, const std::vector<const Array*>& arrays,
              const std::vector<int64_t>& scalars, int64_t total) const {
    if (!source) throw ValueError("[" + runtime_.device().str() + "] no linear-algebra kernel for " + prefix);
    const auto [text, name] = named(std::move(*source), prefix);
    if (total > 0) runtime_.launch(text, name, arrays, scalars, total);
  }

  // Per entry, 1 + the first zero on the diagonal (or 1 where a value is not finite).
  std::vector<int32_t> flags(const Call& call, const Array& matrices, bool diagonal) const {
    Array flags = runtime_.empty({call.count()}, DType::Int32);
    launch(render_gpu_matrix_flags(call.dtype, diagonal, "hypatia_kernel", runtime_.has_double(), runtime_.dialect()),
           "hypatia_matrix_flags_", {&matrices, &flags}, {call.count(), call.n}, call.count());
    return read(flags);
  }

  // A factored op's pivots (input 1), checked to be LAPACK's as the host checks them (a loaded graph may
  // hold anything), contiguous at offset 0 for the kernels.
  Array checked_pivots(const Call& call) const {
    const Array& given = call.inputs[1];
    const Array host = runtime_.to_host(given);
    check_lu_pivots(call.node.op().name(), host.data<int32_t>(), host.size(), call.n);
    return given.is_contiguous() && given.offset() == 0 ? given : contiguous_on_device(runtime_, given);
  }

  // getrf of each matrix of `lu` in place: LAPACK's factors of a^T and the pivots; the infos.
  std::vector<int32_t> factor_lu(const Call& call, const Array& lu, const Array& pivots) const {
    Array infos = runtime_.empty({call.count()}, DType::Int32);
    for (int64_t e = 0; e < call.count(); ++e)
      runtime_.getrf(entry(lu, e, {call.n, call.n}), entry(pivots, e, {call.n}), entry(infos, e, {1}));
    return read(infos);
  }

  // x (n x k per entry) <- a^-1 x, or a^-T x, from a's LU factors (the node's first two inputs when
  // `factored`, else factored here), as Solve::perform applies them.
  void lu_solve(const Call& call, bool factored, const Array& x, int64_t k, bool transposed) const {
    Array lu = values(call, 0), pivots;
    if (factored) {
      pivots = checked_pivots(call);
      const std::vector<int32_t> zero = flags(call, lu, true);
      for (int64_t e = 0; e < call.count(); ++e)
        if (zero[e]) fail(call, "singular matrix", e);
    } else {
      pivots = runtime_.empty(with_core(call.batch, {call.n}), DType::Int32);
      const std::vector<int32_t> infos = factor_lu(call, lu, pivots);
      for (int64_t e = 0; e < call.count(); ++e)
        if (infos[e] > 0) fail(call, "singular matrix", e);
    }
    if (k == 0) return;
    // a^T = P L U to LAPACK: row-major, its array holds U^T on and below the diagonal and L^T above.
    if (!transposed) {  // a = U^T L^T P^T
      each_entry(call, lu, x, k, true, false, false);
      each_entry(call, lu, x, k, false, false, true);
      pivot_rows(call, pivots, x, k, false);
    } else {  // a^T = P L U
      pivot_rows(call, pivots, x, k, true);
      each_entry(call, lu, x, k, false, true, true);
      each_entry(call, lu, x, k, true, true, false);
    }
  }

  // trsm of each entry's right-hand sides by its triangle.
  void each_entry(const Call& call, const Array& t, const Array& x, int64_t k, bool lower, bool transpose, bool unit) const {
    if (k == 0) return;
    for (int64_t e = 0; e < call.count(); ++e)
      runtime_.trsm(lower, transpose, unit, entry(t, e, {call.n, call.n}), entry(x, e, {call.n, k}));
  }

  // (The pivots are the library's or were checked: the kernels' bounds checks only keep memory safe, and
  // their flag is not read back, which would wait for the device.)
  void pivot_rows(const Call& call, const Array& pivots, const Array& x, int64_t k, bool ascending) const {
    Array bad = runtime_.empty({1}, DType::Int32);
    launch(render_gpu_pivot_rows(call.dtype, "hypatia_kernel", runtime_.has_double(), runtime_.dialect()), "hypatia_pivot_rows_",
           {&x, &pivots, &bad}, {call.count(), call.n, k, ascending ? 1 : 0}, call.count() * k);
  }

  // det (or sign and log|det|) from the LU factors (the node's inputs when factored); a singular matrix
  // gives 0 (and -inf), as NumPy.
  void determinant(const Call& call, const Determinant& op, std::span<Array> outputs) const {
    Array lu = values(call, 0), pivots;
    if (op.factored()) {
      pivots = checked_pivots(call);
    } else {
      pivots = runtime_.empty(with_core(call.batch, {call.n}), DType::Int32);
      factor_lu(call, lu, pivots);  // (det(A^T) = det(A); a zero pivot gives 0)
    }
    Array first = runtime_.empty(call.batch, call.dtype), second = op.logarithm() ? runtime_.empty(call.batch, call.dtype) : first;
    Array bad = runtime_.empty({1}, DType::Int32);  // (see pivot_rows)
    launch(render_gpu_lu_determinant(call.dtype, op.logarithm(), "hypatia_kernel", runtime_.has_double(), runtime_.dialect()),
           "hypatia_lu_determinant_", {&first, &second, &lu, &pivots, &bad}, {call.count(), call.n}, call.count());
    outputs[0] = std::move(first);
    if (op.logarithm()) outputs[1] = std::move(second);
  }

  Array cholesky(const Call& call, const Cholesky& op) const {
    Array a = values(call, 0), infos = runtime_.empty({call.count()}, DType::Int32);
    // A's lower triangle is LAPACK's upper one of A^T; its U^T read back row-major is L (and vice versa).
    for (int64_t e = 0; e < call.count(); ++e) runtime_.potrf(op.lower(), entry(a, e, {call.n, call.n}), entry(infos, e, {1}));
    const std::vector<int32_t> info = read(infos);
    std::vector<int64_t> failed;
    for (int64_t e = 0; e < call.count(); ++e) {
      if (info[e] <= 0) continue;
      if (!op.nan_on_error())
        fail(call, "the matrix is not positive definite (the leading minor of order " + std::to_string(info[e]) + " is not positive)", e);
      failed.push_back(e);
    }
    launch(render_gpu_keep_triangle(call.dtype, "hypatia_kernel", runtime_.has_double(), runtime_.dialect()), "hypatia_keep_triangle_",
           {&a}, {call.count(), call.n, op.lower() ? 1 : 0}, call.count() * call.n * call.n);
    if (failed.empty()) return a;
    Array host = runtime_.to_host(a);  // (NaN for the failed entries: Theano's on_error='nan')
    for (int64_t e : failed)
      for (int64_t i = 0; i < call.n * call.n; ++i) host.set_from_double(e * call.n * call.n + i, std::nan(""));
    return runtime_.to_device(host);
  }

  Array solve(const Call& call, const Solve& op) const {
    const SolveOptions& options = op.options();
    const int64_t k = op.vector_rhs() ? 1 : call.inputs.back().shape(-1);
    Array x = values(call, static_cast<int>(call.inputs.size()) - 1);
    switch (options.structure) {
      case MatrixStructure::General: lu_solve(call, op.factored(), x, k, options.transposed); break;
      case MatrixStructure::PositiveDefinite:
      case MatrixStructure::CholeskyFactor: {
        Array factor = values(call, 0);
        if (options.structure == MatrixStructure::PositiveDefinite) {
          Array infos = runtime_.empty({call.count()}, DType::Int32);
          for (int64_t e = 0; e < call.count(); ++e)
            runtime_.potrf(options.lower, entry(factor, e, {call.n, call.n}), entry(infos, e, {1}));
          const std::vector<int32_t> info = read(infos);
          for (int64_t e = 0; e < call.count(); ++e)
            if (info[e] > 0) fail(call, "the matrix is not positive definite", e);
        }
        // Row-major, the factor is L with a = L L^T (lower) or U with a = U^T U (upper).
        each_entry(call, factor, x, k, options.lower, !options.lower, false);
        each_entry(call, factor, x, k, options.lower, options.lower, false);
        break;
      }
      case MatrixStructure::LowerTriangular:
      case MatrixStructure::UpperTriangular: {
        Array t = values(call, 0);
        if (!options.unit_diagonal) {
          const std::vector<int32_t> zero = flags(call, t, true);
          for (int64_t e = 0; e < call.count(); ++e)
            if (zero[e]) fail(call, "singular matrix: a zero on the diagonal at " + std::to_string(zero[e] - 1), e);
        }
        each_entry(call, t, x, k, options.structure == MatrixStructure::LowerTriangular, options.transposed, options.unit_diagonal);
        break;
      }
      case MatrixStructure::Symmetric: throw ValueError("[solve] a symmetric solve on the device");  // (runs() sends it to the host)
    }
    return x;
  }

  void eigen(const Call& call, const Eigh& op, std::span<Array> outputs) const {
    Array a = values(call, 0);
    const std::vector<int32_t> nonfinite = flags(call, a, false);
    for (int64_t e = 0; e < call.count(); ++e)
      if (nonfinite[e]) fail(call, "the matrix holds NaN or inf", e);
    Array w = runtime_.empty(with_core(call.batch, {call.n}), call.dtype), infos = runtime_.empty({call.count()}, DType::Int32);
    for (int64_t e = 0; e < call.count(); ++e)
      runtime_.syevd(op.lower(), op.vectors(), entry(a, e, {call.n, call.n}), entry(w, e, {call.n}), entry(infos, e, {1}));
    const std::vector<int32_t> info = read(infos);
    for (int64_t e = 0; e < call.count(); ++e)
      if (info[e] > 0) fail(call, "the eigenvalues did not converge", e);
    outputs[0] = std::move(w);
    if (!op.vectors()) return;
    // LAPACK's eigenvectors are its columns, so a read row-major holds them as rows.
    std::vector<int> swapped(a.ndim());
    for (int axis = 0; axis < a.ndim(); ++axis) swapped[axis] = axis;
    std::swap(swapped[a.ndim() - 1], swapped[a.ndim() - 2]);
    outputs[1] = contiguous_on_device(runtime_, a.transpose(swapped));
  }

  GpuRuntime& runtime_;
};

// An op that runs wherever its values live (Op::runs_on_any_device), given this backend.
class AnyDeviceKernel final : public Kernel {
 public:
  explicit AnyDeviceKernel(const Backend& backend) : backend_(backend) {}
  void run(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    node.op().perform_on(backend_, node, inputs, outputs);
  }

 private:
  const Backend& backend_;
};

class GpuBackend final : public Backend {
 public:
  explicit GpuBackend(std::unique_ptr<GpuRuntime> runtime) : owned_(std::move(runtime)), runtime_(*owned_) {}
  Device device() const override { return runtime_.device(); }

  // Generated elementwise loops and reductions, GEMM, the nnet and indexing kernels, the library-backed
  // families (DNN, FFT, solver) where the runtime has them, and the ops that run on any device (views,
  // ifelse, scan: Op::runs_on_any_device).
  bool runs(const Apply& node) const override {
    return (node.op().runs_on_any_device() && kernels_take_dtypes_of(node)) || runs_as_gemm(node) || runtime_.dnn_runs(node) ||
           runs_as_fft(node) || runs_as_linalg(node) || runs_as_sparse_product(node) ||
           static_cast<bool>(source_of(node)) || static_cast<bool>(reduce_source_of(node)) ||
           static_cast<bool>(crossentropy_source_of(node)) || static_cast<bool>(random_source_of(node)) ||
           static_cast<bool>(alloc_source_of(node)) || static_cast<bool>(take_source_of(node)) ||
           static_cast<bool>(softmax_source_of(node)) || static_cast<bool>(inc_subtensor_source_of(node)) ||
           static_cast<bool>(put_source_of(node)) || static_cast<bool>(arg_reduce_source_of(node)) ||
           static_cast<bool>(cumulative_source_of(node)) || static_cast<bool>(sort_family_source_of(node));
  }
  // A random draw's advanced state stays on the host, where its next draw reads it.
  bool output_on_host(const Apply& node, int output) const override { return output == 0 && standard_draw_of(node.op()); }

  std::vector<std::shared_ptr<const Kernel>> lower(const std::vector<std::shared_ptr<Apply>>& nodes) const override {
    std::vector<std::shared_ptr<const Kernel>> kernels(nodes.size());
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (nodes[i]->op().runs_on_any_device()) kernels[i] = std::make_shared<AnyDeviceKernel>(*this);
      else if (runs_as_gemm(*nodes[i])) kernels[i] = std::make_shared<GemmKernel>(runtime_);
      else if (runtime_.dnn_runs(*nodes[i])) kernels[i] = std::make_shared<DnnKernel>(runtime_);
      else if (runs_as_fft(*nodes[i])) kernels[i] = std::make_shared<FftKernel>(runtime_);
      else if (runs_as_linalg(*nodes[i])) kernels[i] = std::make_shared<LinalgKernel>(runtime_);
      else if (runs_as_sparse_product(*nodes[i])) kernels[i] = std::make_shared<SparseProductKernel>(runtime_);
      else if (auto source = source_of(*nodes[i])) kernels[i] = std::make_shared<ElemwiseKernel>(runtime_, source->first, source->second);
      else if (auto reduction = reduce_source_of(*nodes[i]))
        kernels[i] = std::make_shared<ReduceKernel>(runtime_, reduction->first, reduction->second);
      else if (auto crossentropy = crossentropy_source_of(*nodes[i]))
        kernels[i] = std::make_shared<CrossentropyKernel>(runtime_, crossentropy->first, crossentropy->second);
      else if (auto take = take_source_of(*nodes[i]))
        kernels[i] = std::make_shared<TakeKernel>(runtime_, take->first, take->second);
      else if (auto fill = alloc_source_of(*nodes[i]))
        kernels[i] = std::make_shared<AllocKernel>(runtime_, fill->first, fill->second);
      else if (auto draw = random_source_of(*nodes[i]))
        kernels[i] = std::make_shared<RandomKernel>(runtime_, draw->first, draw->second);
      else if (auto softmax = softmax_source_of(*nodes[i]))
        kernels[i] = std::make_shared<AlongAxisKernel>(runtime_, softmax->first, softmax->second,
                                                       static_cast<const Softmax&>(nodes[i]->op()).axis(), true);
      else if (auto running = cumulative_source_of(*nodes[i]))
        kernels[i] = std::make_shared<AlongAxisKernel>(runtime_, running->first, running->second, cumulative_of(nodes[i]->op())->axis,
                                                       true);
      else if (auto extreme = arg_reduce_source_of(*nodes[i]))
        kernels[i] = std::make_shared<AlongAxisKernel>(runtime_, extreme->first, extreme->second, arg_reduce_of(nodes[i]->op())->axis,
                                                       false);
      else if (auto inc = inc_subtensor_source_of(*nodes[i]))
        kernels[i] = std::make_shared<IncSubtensorKernel>(runtime_, inc->first, inc->second);
      else if (auto put = put_source_of(*nodes[i]))
        kernels[i] = std::make_shared<PutKernel>(runtime_, put->first, put->second);
      else if (auto sorting = sort_family_source_of(*nodes[i])) {
        const SortFamilySpec spec = *sort_family_of(nodes[i]->op());
        if (spec.op == SortFamily::ArgSort)
          kernels[i] = std::make_shared<ArgSortKernel>(runtime_, sorting->first, sorting->second, spec.axis);
        else if (spec.op == SortFamily::SearchSorted)
          kernels[i] = std::make_shared<SearchSortedKernel>(runtime_, sorting->first, sorting->second);
        else if (spec.op == SortFamily::TakeAlongAxis)
          kernels[i] = std::make_shared<TakeAlongAxisKernel>(runtime_, sorting->first, sorting->second, spec.axis);
        else
          kernels[i] = std::make_shared<IncAlongAxisKernel>(runtime_, sorting->first, sorting->second, spec.axis);
      }
    }
    return kernels;
  }

  Array to_device(const Array& host) const override { return runtime_.to_device(host); }
  Array to_host(const Array& value) const override { return runtime_.to_host(value); }
  Array copy(const Array& value) const override { return contiguous_on_device(runtime_, value); }
  Array empty(const Shape& shape, DType dtype) const override { return runtime_.empty(shape, dtype); }
  void copy_into(const Array& destination, const Array& source) const override { convert_into(runtime_, destination, source); }

 private:
  // The kernel's source and name for an elementwise node (fused or single) the dialect can spell.
  std::optional<std::pair<std::string, std::string>> source_of(const Apply& node) const {
    Composite composite;
    if (!composite_of(node, composite)) return std::nullopt;
    auto source = render_gpu_elemwise(composite, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_elemwise_");
  }

  // The kernel's source and name for a reduction (plain or with its fused producer) the dialect can spell.
  std::optional<std::pair<std::string, std::string>> reduce_source_of(const Apply& node) const {
    ReduceKernelSpec spec;
    if (!reduce_kernel_spec(node, spec)) return std::nullopt;
    auto source = render_gpu_reduce(spec.composite, spec.kind, node.output(0).dtype(), "hypatia_kernel", runtime_.has_double(),
                                    runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_reduce_");
  }

  // The cross-entropy kernel's source and name for a CrossentropyCategorical1Hot node of float32/float64.
  std::optional<std::pair<std::string, std::string>> crossentropy_source_of(const Apply& node) const {
    const auto* op = dynamic_cast<const CrossentropyCategorical1Hot*>(&node.op());
    if (!op || node.input(0).ndim() != 2 || node.input(1).ndim() != 1) return std::nullopt;
    auto source = render_gpu_crossentropy(node.input(0).dtype(), node.input(1).dtype(), op->from_logits(), "hypatia_kernel",
                                          runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_crossentropy_");
  }

  // The kernel of x[i0, i1, ...] for integer index arrays on any axes.
  std::optional<std::pair<std::string, std::string>> take_source_of(const Apply& node) const {
    if (!dynamic_cast<const AdvancedSubtensor*>(&node.op())) return std::nullopt;
    auto source = render_gpu_take(node.input(0).dtype(), index_dtypes(node, 1), "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_take_");
  }

  // The kernel of x[i0, i1, ...] = value / np.add.at(x, (i0, i1, ...), value).
  std::optional<std::pair<std::string, std::string>> put_source_of(const Apply& node) const {
    const auto* put = dynamic_cast<const AdvancedIncSubtensor*>(&node.op());
    if (!put || !gpu_stored_type(node.input(1).dtype(), runtime_.has_double())) return std::nullopt;  // (the value is converted there)
    auto source = render_gpu_put(node.input(0).dtype(), index_dtypes(node, 2), put->sets(), "hypatia_kernel", runtime_.has_double(),
                                 runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_put_");
  }

  static std::vector<DType> index_dtypes(const Apply& node, size_t first) {
    std::vector<DType> dtypes;
    for (size_t i = first; i < node.inputs().size(); ++i) dtypes.push_back(node.input(i).dtype());
    return dtypes;
  }

  // The copy kernel an alloc node writes its result with.
  std::optional<std::pair<std::string, std::string>> alloc_source_of(const Apply& node) const {
    if (!is_alloc(node.op())) return std::nullopt;
    Composite identity;
    identity.input_dtypes = {node.input(0).dtype()};
    identity.outputs = {0};
    auto source = render_gpu_elemwise(identity, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_elemwise_");
  }

  // The kernel's source and name for a standard uniform or normal draw (where the device has doubles).
  std::optional<std::pair<std::string, std::string>> random_source_of(const Apply& node) const {
    const auto draw = standard_draw_of(node.op());
    if (!draw) return std::nullopt;
    auto source = render_gpu_random(draw->normal, draw->dtype, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_random_");
  }

  // The softmax kernel for a Softmax node (log or not) of float32/float64.
  std::optional<std::pair<std::string, std::string>> softmax_source_of(const Apply& node) const {
    const auto* softmax = dynamic_cast<const Softmax*>(&node.op());
    if (!softmax) return std::nullopt;
    auto source = render_gpu_softmax(node.input(0).dtype(), softmax->log(), "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_softmax_");
  }

  // The argmax / argmin kernel along the op's axis.
  std::optional<std::pair<std::string, std::string>> arg_reduce_source_of(const Apply& node) const {
    const auto extreme = arg_reduce_of(node.op());
    if (!extreme) return std::nullopt;
    auto source = render_gpu_arg_reduce(node.input(0).dtype(), extreme->is_max, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_arg_reduce_");
  }

  // The cumsum / cumprod kernel along the op's axis.
  std::optional<std::pair<std::string, std::string>> cumulative_source_of(const Apply& node) const {
    const auto running = cumulative_of(node.op());
    if (!running) return std::nullopt;
    auto source = render_gpu_cumulative(node.input(0).dtype(), node.output(0).dtype(), running->product, "hypatia_kernel",
                                        runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_cumulative_");
  }

  // The kernel of argsort (a merge pass), take_along_axis (the gather of x[i]) or inc_along_axis.
  std::optional<std::pair<std::string, std::string>> sort_family_source_of(const Apply& node) const {
    const auto spec = sort_family_of(node.op());
    if (!spec) return std::nullopt;
    const DType dtype = node.input(0).dtype();
    std::optional<std::string> source;
    if (spec->op == SortFamily::ArgSort) source = render_gpu_merge_pass(dtype, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    else if (spec->op == SortFamily::TakeAlongAxis)
      source = render_gpu_take(dtype, {node.input(1).dtype()}, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    else if (spec->op == SortFamily::SearchSorted) {
      if (node.inputs().size() != 2) return std::nullopt;  // (x ordered by a sorter: the host)
      source = render_gpu_searchsorted(dtype, node.input(1).dtype(), spec->right, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    } else if (gpu_stored_type(node.input(2).dtype(), runtime_.has_double()))  // (the values are converted there)
      source = render_gpu_inc_along_axis(dtype, node.input(1).dtype(), "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_sorting_");
  }

  // The elementwise kernel assigning (value converted to x's dtype) or adding (x's region plus it) for a
  // set_subtensor / inc_subtensor node of basic indices.
  std::optional<std::pair<std::string, std::string>> inc_subtensor_source_of(const Apply& node) const {
    const auto* inc = dynamic_cast<const IncSubtensor*>(&node.op());
    if (!inc) return std::nullopt;
    const DType dtype = node.input(0).dtype(), value_dtype = node.input(1).dtype();
    if (!inc->sets() && dtype == DType::Bool) return std::nullopt;
    Composite composite;
    if (inc->sets()) {
      composite = conversion(value_dtype, dtype);
    } else {
      composite.input_dtypes = {dtype, value_dtype};
      const int converted = dtype == value_dtype ? 1 : composite.add(ScalarOp{ScalarOpId::cast, dtype}, {1});
      composite.outputs = {composite.add(ScalarOp{ScalarOpId::add}, {0, converted})};
      if (composite.dtype_of(composite.outputs[0]) != dtype) return std::nullopt;
    }
    auto source = render_gpu_elemwise(composite, "hypatia_kernel", runtime_.has_double(), runtime_.dialect());
    if (!source) return std::nullopt;
    return named(std::move(*source), "hypatia_elemwise_");
  }

  // Fourier transforms where the runtime's FFT library is loaded and the device holds the precision.
  bool runs_as_fft(const Apply& node) const {
    if (!dynamic_cast<const Fft*>(&node.op()) || !runtime_.has_fft()) return false;
    const DType real = real_dtype(node.input(0).dtype());
    return real == DType::Float32 || (real == DType::Float64 && runtime_.has_double());
  }

  bool runs_as_linalg(const Apply& node) const {
    return runtime_.has_solver() && LinalgKernel::takes(node, runtime_.has_double());
  }

  // Whether the device's kernels read and write every dtype the node takes and gives (an op that runs on
  // any device may copy or convert its values there: complex values stay on the host).
  bool kernels_take_dtypes_of(const Apply& node) const {
    for (const Variable& input : node.inputs())
      if (!gpu_stored_type(input.dtype(), runtime_.has_double())) return false;
    for (size_t k = 0; k < node.num_outputs(); ++k)
      if (!gpu_stored_type(node.output(k).dtype(), runtime_.has_double())) return false;
    return true;
  }

  // structured_dot of a sparse and a dense matrix, and usmm, in float32 (float64 where the device has doubles).
  bool runs_as_sparse_product(const Apply& node) const {
    if (!is_sparse_dense_product(node) && !is_usmm(node)) return false;
    const DType dtype = node.output(0).dtype();
    return dtype == DType::Float32 || (dtype == DType::Float64 && runtime_.has_double());
  }

  // Matrix products of float16 (in float32), float32, float64 or complex matrices (of one dtype; gemm's
  // scalings real), when the runtime's BLAS is loaded.
  bool runs_as_gemm(const Apply& node) const {
    const bool dot = dynamic_cast<const Dot*>(&node.op()), gemm = dynamic_cast<const Gemm*>(&node.op());
    if ((!dot && !gemm) || !runtime_.has_blas()) return false;
    const DType dtype = node.output(0).dtype();
    if (gemm && (is_complex(node.input(1).dtype()) || is_complex(node.input(4).dtype()))) return false;
    const bool doubles = dtype == DType::Float64 || dtype == DType::Complex128;
    if (dtype != DType::Float16 && dtype != DType::Float32 && dtype != DType::Complex64 && !(doubles && runtime_.has_double())) return false;
    // (dot takes vectors too: matrix-vector and inner products through the same call.)
    for (int i : dot ? std::vector<int>{0, 1} : std::vector<int>{0, 2, 3})
      if (node.input(i).ndim() != 2 - (dot && node.input(i).ndim() == 1) || node.input(i).dtype() != dtype) return false;
    return true;
  }

  std::unique_ptr<GpuRuntime> owned_;
  GpuRuntime& runtime_;
};

}  // namespace

const Backend& gpu_backend_for(const Device& device, const std::function<std::unique_ptr<GpuRuntime>()>& make_runtime) {
  static std::mutex mutex;
  static auto* backends = new std::unordered_map<std::string, std::unique_ptr<Backend>>();  // never destroyed
  std::lock_guard<std::mutex> lock(mutex);
  auto it = backends->find(device.str());
  if (it == backends->end()) it = backends->emplace(device.str(), std::make_unique<GpuBackend>(make_runtime())).first;
  return *it->second;
}

}  // namespace hypatia
