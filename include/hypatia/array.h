// hypatia::Array: a strided view of typed, shared, aligned storage (NumPy's ndarray in C++).
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hypatia/device.h"
#include "hypatia/dtype.h"
#include "hypatia/small_vector.h"

namespace hypatia {

// Up to six axes without a heap allocation (NumPy's arrays rarely have more).
using Shape = SmallVector<int64_t, 6>;
using Strides = SmallVector<int64_t, 6>;  // in elements; negative and zero strides are allowed

// Bytes shared by every view of them: our own 64-byte-aligned blocks, or memory another library owns
// (a NumPy array's buffer), kept alive by `owner`, aligned only to its element type, and perhaps
// read-only (nothing may write into it then).
class Storage {
 public:
  static constexpr size_t kAlignment = 64;
  explicit Storage(size_t nbytes);
  Storage(void* data, size_t nbytes, std::shared_ptr<void> owner, bool writable = true)
      : data_(data), nbytes_(nbytes), owner_(std::move(owner)), writable_(writable) {}
  // Memory on a device (no host pointer: data() is null and Array refuses host access).
  Storage(std::shared_ptr<DeviceBuffer> buffer, size_t nbytes) : nbytes_(nbytes), device_buffer_(std::move(buffer)) {}
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  bool writable() const { return writable_; }
  bool foreign() const { return owner_ != nullptr; }  // memory another library (NumPy) owns
  const DeviceBuffer* device_buffer() const { return device_buffer_.get(); }
  Device device() const { return device_buffer_ ? device_buffer_->device() : Device{}; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  std::shared_ptr<void> owner_;  // set for foreign memory
  bool writable_ = true;
  std::shared_ptr<DeviceBuffer> device_buffer_;  // set for device memory
};

int64_t shape_size(const Shape& shape);
std::string shape_str(const Shape& shape);  // "(3, 4)"
Strides contiguous_strides(const Shape& shape);

// How a sparse matrix is compressed: by rows or by columns (SciPy's csr and csc).
enum class SparseFormat : uint8_t { Csr, Csc };
const char* sparse_format_name(SparseFormat format);  // "csr", "csc"
class SparseArray;                                    // sparse_array.h

// One axis of a basic index: an integer (drops the axis) or a slice start:stop:step (Python semantics).
struct Slice {
  static constexpr int64_t kNone = INT64_MIN;
  int64_t start = kNone, stop = kNone, step = 1;
};

class Array {
 public:
  Array();  // empty: shape (0,), float64, no storage (like np.array([])); costs no allocation
  Array(DType dtype, Shape shape, std::shared_ptr<Storage> storage, Strides strides, int64_t offset);

  static Array empty(const Shape& shape, DType dtype = DType::Float64);
  static Array zeros(const Shape& shape, DType dtype = DType::Float64);
  static Array ones(const Shape& shape, DType dtype = DType::Float64);
  static Array full(const Shape& shape, double value, DType dtype = DType::Float64);
  static Array scalar(double value, DType dtype = DType::Float64);
  static Array arange(int64_t n, DType dtype = DType::Int64);
  template <class T> static Array from_vector(const std::vector<T>& values, const Shape& shape);
  template <class T> static Array from_vector(const std::vector<T>& values) {
    return from_vector(values, Shape{static_cast<int64_t>(values.size())});
  }
  // from({{1, 2}, {3, 4}}) style literal of doubles.
  static Array from(std::initializer_list<double> values, DType dtype = DType::Float64);
  static Array from(std::initializer_list<std::initializer_list<double>> rows, DType dtype = DType::Float64);
  // A sparse matrix as a value, as PyTorch's sparse layouts are tensors: the matrix's shape and dtype, its
  // arrays reached through sparse(). Element access, views and reshapes refuse it (graph types keep sparse
  // values away from dense ops); copy, astype, transpose, equals and str handle it. sparse_array.h defines these.
  static Array from_sparse(SparseArray matrix);
  bool is_sparse() const { return sparse_ != nullptr; }
  const SparseArray& sparse() const;           // ValueError for a dense array
  std::optional<SparseFormat> format() const;  // nullopt for a dense array

  DType dtype() const { return dtype_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  const Shape& shape() const { return shape_; }
  int64_t shape(int axis) const;  // negative axes count from the end
  const Strides& strides() const { return strides_; }
  int64_t offset() const { return offset_; }
  int64_t size() const { return shape_size(shape_); }
  size_t itemsize() const { return dtype_size(dtype_); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  bool is_contiguous() const;
  // Whether the two share memory (a sparse matrix's: its arrays').
  bool shares_storage_with(const Array& other) const {
    if (!sparse_ && !other.sparse_) return storage_ && storage_ == other.storage_;
    return shares_sparse_storage_with(other);
  }
  // The memory behind the value: its storage, or a sparse matrix's arrays' storages.
  std::vector<const Storage*> storages() const;
  // Where the elements live; data(), raw_data() and everything reading elements need the host.
  Device device() const { return storage_ ? storage_->device() : sparse_ ? sparse_device() : Device{}; }

  // Pointer to the first element (at `offset`); T must match dtype().
  template <class T> T* data() const;
  void* raw_data() const;

  // Element access with a full index (checked); `item` for size-1 arrays.
  template <class T> T at(std::initializer_list<int64_t> index) const;
  template <class T> T at(const std::vector<int64_t>& index) const;
  double item() const;            // as double, any dtype
  template <class T> void set(const std::vector<int64_t>& index, T value);
  double get_as_double(int64_t flat_index) const;  // C-order flat index
  void set_from_double(int64_t flat_index, double value);

  // Views (share storage).
  Array transpose() const;                               // reverse the axes
  Array transpose(const std::vector<int>& perm) const;
  Array slice(const std::vector<Slice>& slices) const;  // one Slice per leading axis
  Array index(int axis, int64_t i) const;                // drops `axis`
  Array broadcast_to(const Shape& shape) const;
  Array expand_dims(int axis) const;
  Array squeeze(int axis) const;
  Array view_as(const Shape& shape, const Strides& strides, int64_t offset) const;

  // Copies.
  Array copy() const;        // C-contiguous copy
  Array contiguous() const;  // self if already contiguous, else a copy
  Array astype(DType dtype) const;
  Array reshape(const Shape& shape) const;  // a view when contiguous; one -1 allowed
  void copy_from(const Array& source);      // same shape; casts dtypes
  void add_from(const Array& source);       // this += source elementwise (same shape; casts dtypes)

  std::string str() const;   // NumPy repr: "array([[1., 2.],\n       [3., 4.]])"
  std::string shape_dtype_str() const;  // "float32(3, 4)"

  // Elementwise comparison helpers for tests.
  bool equals(const Array& other) const;  // same shape, dtype-independent exact equality
  bool allclose(const Array& other, double rtol = 1e-5, double atol = 1e-8) const;

 private:
  std::shared_ptr<Storage> storage_;
  DType dtype_ = DType::Float64;
  Shape shape_;
  Strides strides_;
  int64_t offset_ = 0;
  std::shared_ptr<const SparseArray> sparse_;  // set for a sparse matrix (then storage_ is null)
  bool shares_sparse_storage_with(const Array& other) const;
  Device sparse_device() const;  // where a sparse matrix's arrays are
};

std::ostream& operator<<(std::ostream& os, const Array& array);

// Visits every element position of `shape` in C order; calls fn(flat, index) with the running index.
// Small helper so strided loops read plainly.
class IndexIterator {
 public:
  explicit IndexIterator(const Shape& shape) : shape_(shape), index_(shape.size(), 0) {}
  explicit IndexIterator(Shape&&) = delete;  // it keeps a reference: not to a temporary (a converted vector)
  const std::vector<int64_t>& index() const { return index_; }
  // Advances; returns false after the last position.
  bool next() {
    for (int axis = static_cast<int>(shape_.size()) - 1; axis >= 0; --axis) {
      if (++index_[axis] < shape_[axis]) return true;
      index_[axis] = 0;
    }
    return false;
  }

 private:
  const Shape& shape_;
  std::vector<int64_t> index_;
};

// ---- template definitions ----
void check_dtype_access(DType have, DType want, const char* what);
void check_index(const Array& array, const std::vector<int64_t>& index);
void check_from_vector_size(size_t count, const Shape& shape);
[[noreturn]] void refuse_device_access(const Array& array);
[[noreturn]] void refuse_sparse_access(const Array& array, const char* what);

template <class T> T* Array::data() const {
  check_dtype_access(dtype_, dtype_v<T>, "data");
  if (!storage_) {
    if (sparse_) refuse_sparse_access(*this, "data");
    return nullptr;
  }
  if (storage_->device_buffer()) refuse_device_access(*this);
  return static_cast<T*>(storage_->data()) + offset_;
}

template <class T> T Array::at(const std::vector<int64_t>& index) const {
  check_dtype_access(dtype_, dtype_v<T>, "at");
  int64_t position = offset_;
  check_index(*this, index);
  for (size_t axis = 0; axis < index.size(); ++axis) {
    int64_t i = index[axis] < 0 ? index[axis] + shape_[axis] : index[axis];
    position += i * strides_[axis];
  }
  if (storage_->device_buffer()) refuse_device_access(*this);
  return static_cast<const T*>(storage_->data())[position];
}
template <class T> T Array::at(std::initializer_list<int64_t> index) const {
  return at<T>(std::vector<int64_t>(index));
}
template <class T> void Array::set(const std::vector<int64_t>& index, T value) {
  check_dtype_access(dtype_, dtype_v<T>, "set");
  check_index(*this, index);
  int64_t position = offset_;
  for (size_t axis = 0; axis < index.size(); ++axis) {
    int64_t i = index[axis] < 0 ? index[axis] + shape_[axis] : index[axis];
    position += i * strides_[axis];
  }
  if (storage_->device_buffer()) refuse_device_access(*this);
  static_cast<T*>(storage_->data())[position] = value;
}
template <class T> Array Array::from_vector(const std::vector<T>& values, const Shape& shape) {
  Array result = empty(shape, dtype_v<T>);
  check_from_vector_size(values.size(), shape);
  T* out = result.data<T>();
  for (size_t i = 0; i < values.size(); ++i) out[i] = values[i];
  return result;
}

}  // namespace hypatia
