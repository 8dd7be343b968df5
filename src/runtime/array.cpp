#include "hypatia/array.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <unordered_map>
#include <ostream>

#include "hypatia/error.h"
#include "hypatia/sparse_array.h"
#include "scalar/scalar_math.h"

namespace hypatia {

// ---- Storage ----

namespace {

// Blocks freed by one step of a loop are asked for again by the next: keeping them (up to a bound)
// saves the allocator's round trips to the kernel and the page faults of fresh memory.
class BlockCache {
 public:
  static constexpr size_t kMaxCachedBytes = size_t{256} << 20;

  void* take(size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* block = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= bytes;
        return block;
      }
    }
    return std::aligned_alloc(Storage::kAlignment, bytes);
  }

  void give_back(void* block, size_t bytes) {
#ifndef HYPATIA_NO_BLOCK_CACHE
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_bytes_ + bytes <= kMaxCachedBytes) {
        free_[bytes].push_back(block);
        cached_bytes_ += bytes;
        return;
      }
    }
#endif
    std::free(block);
  }

  ~BlockCache() {
    for (auto& [bytes, blocks] : free_)
      for (void* block : blocks) std::free(block);
  }

 private:
  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  size_t cached_bytes_ = 0;
};

BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache();  // never destroyed: arrays may outlive static destructors
  return *cache;
}

size_t rounded_size(size_t nbytes) {
  // aligned_alloc wants a multiple of the alignment; an empty array still gets a valid pointer.
  return std::max<size_t>((nbytes + Storage::kAlignment - 1) / Storage::kAlignment * Storage::kAlignment,
                          Storage::kAlignment);
}

}  // namespace

Storage::Storage(size_t nbytes) : nbytes_(nbytes) {
  const size_t rounded = rounded_size(nbytes);
  data_ = rounded >= nbytes ? block_cache().take(rounded) : nullptr;
  if (!data_) throw MemoryError("[array] cannot allocate " + std::to_string(nbytes) + " bytes");
}

Storage::~Storage() {
  if (!owner_ && !device_buffer_) block_cache().give_back(data_, rounded_size(nbytes_));
}

// ---- Shapes ----

int64_t shape_size(const Shape& shape) {
  int64_t size = 1;
  for (int64_t dim : shape)
    if (__builtin_mul_overflow(size, dim, &size))
      throw MemoryError("[array] shape " + shape_str(shape) + " has more elements than fit in 64 bits");
  return size;
}

std::string shape_str(const Shape& shape) {
  std::string result = "(";
  for (size_t i = 0; i < shape.size(); ++i) result += (i ? ", " : "") + std::to_string(shape[i]);
  if (shape.size() == 1) result += ",";
  return result + ")";
}

Strides contiguous_strides(const Shape& shape) {
  Strides strides(shape.size());
  int64_t stride = 1;
  for (int axis = static_cast<int>(shape.size()) - 1; axis >= 0; --axis) {
    strides[axis] = stride;
    stride *= std::max<int64_t>(shape[axis], 1);
  }
  return strides;
}

void check_dtype_access(DType have, DType want, const char* what) {
  if (have != want)
    throw TypeError(std::string("[array] ") + what + "<" + std::string(dtype_name(want)) + ">() on a " +
                    std::string(dtype_name(have)) + " array");
}

void check_index(const Array& array, const std::vector<int64_t>& index) {
  if (array.is_sparse()) refuse_sparse_access(array, "at");
  if (static_cast<int>(index.size()) != array.ndim())
    throw IndexError("[array] index of length " + std::to_string(index.size()) + " for an array of shape " +
                     shape_str(array.shape()));
  for (size_t axis = 0; axis < index.size(); ++axis) {
    int64_t dim = array.shape()[axis];
    if (index[axis] < -dim || index[axis] >= dim)
      throw IndexError("[array] index " + std::to_string(index[axis]) + " is out of bounds for axis " +
                       std::to_string(axis) + " with size " + std::to_string(dim) + " (shape " +
                       shape_str(array.shape()) + ")");
  }
}

void check_from_vector_size(size_t count, const Shape& shape) {
  if (static_cast<int64_t>(count) != shape_size(shape))
    throw ShapeError("[array] " + std::to_string(count) + " values cannot fill shape " + shape_str(shape));
}

namespace {

using scalar_math::convert;

// Calls fn(outer_offset_a, outer_offset_b) for every row of the last axis of two same-shaped arrays.
template <class Fn> void for_each_row(const Shape& shape, const Strides& a, const Strides& b, Fn fn) {
  const int ndim = static_cast<int>(shape.size());
  if (shape_size(shape) == 0) return;
  if (ndim == 0) {
    fn(int64_t{0}, int64_t{0});
    return;
  }
  Shape outer(shape.begin(), shape.end() - 1);
  IndexIterator it(outer);
  do {
    int64_t oa = 0, ob = 0;
    for (int axis = 0; axis < ndim - 1; ++axis) {
      oa += it.index()[axis] * a[axis];
      ob += it.index()[axis] * b[axis];
    }
    fn(oa, ob);
  } while (it.next());
}

// Copies `src` into `dst` (same shape), converting dtypes; any strides.
void copy_convert(const Array& src, const Array& dst) {
  if (src.size() == 0) return;
  dispatch_dtype(src.dtype(), [&]<class From>() {
    dispatch_dtype(dst.dtype(), [&]<class To>() {
      const From* in = static_cast<const From*>(src.storage()->data()) + src.offset();
      To* out = static_cast<To*>(dst.storage()->data()) + dst.offset();
      if constexpr (std::is_same_v<From, To>) {
        if (src.is_contiguous() && dst.is_contiguous()) {
          std::memcpy(out, in, src.size() * sizeof(From));
          return;
        }
      }
      const int ndim = src.ndim();
      const int64_t inner = ndim ? src.shape()[ndim - 1] : 1;
      const int64_t si = ndim ? src.strides()[ndim - 1] : 0, so = ndim ? dst.strides()[ndim - 1] : 0;
      // Rows in order, and rows of one broadcast value (alloc's), are plain loops the compiler vectorizes.
      for_each_row(src.shape(), src.strides(), dst.strides(), [&](int64_t oa, int64_t ob) {
        if (so == 1 && si == 1) {
          for (int64_t j = 0; j < inner; ++j) out[ob + j] = convert<To>(in[oa + j]);
        } else if (so == 1 && si == 0) {
          std::fill(out + ob, out + ob + inner, convert<To>(in[oa]));
        } else {
          for (int64_t j = 0; j < inner; ++j) out[ob + j * so] = convert<To>(in[oa + j * si]);
        }
      });
    });
  });
}

int64_t flat_to_position(const Array& array, int64_t flat) {
  if (flat < 0 || flat >= array.size())
    throw IndexError("[array] flat index " + std::to_string(flat) + " is out of bounds for size " +
                     std::to_string(array.size()));
  int64_t position = array.offset();
  for (int axis = array.ndim() - 1; axis >= 0; --axis) {
    int64_t dim = array.shape()[axis];
    position += (flat % dim) * array.strides()[axis];
    flat /= dim;
  }
  return position;
}

}  // namespace

// ---- Construction ----

Array::Array() : shape_{0}, strides_{1} {}

Array::Array(DType dtype, Shape shape, std::shared_ptr<Storage> storage, Strides strides, int64_t offset)
    : storage_(std::move(storage)), dtype_(dtype), shape_(std::move(shape)), strides_(std::move(strides)), offset_(offset) {}

Array Array::empty(const Shape& shape, DType dtype) {
  for (int64_t dim : shape)
    if (dim < 0) throw ValueError("[array] negative dimension in shape " + shape_str(shape));
  size_t nbytes;
  if (__builtin_mul_overflow(static_cast<size_t>(shape_size(shape)), dtype_size(dtype), &nbytes))
    throw MemoryError("[array] an array of shape " + shape_str(shape) + " does not fit in memory");
  auto storage = std::make_shared<Storage>(nbytes);
  return Array(dtype, shape, std::move(storage), contiguous_strides(shape), 0);
}

Array Array::zeros(const Shape& shape, DType dtype) {
  Array result = empty(shape, dtype);
  std::memset(result.storage_->data(), 0, result.storage_->nbytes());
  return result;
}

Array Array::full(const Shape& shape, double value, DType dtype) {
  Array result = empty(shape, dtype);
  dispatch_dtype(dtype, [&]<class T>() { std::fill_n(result.data<T>(), result.size(), convert<T>(value)); });
  return result;
}

Array Array::ones(const Shape& shape, DType dtype) { return full(shape, 1.0, dtype); }
Array Array::scalar(double value, DType dtype) { return full({}, value, dtype); }

Array Array::arange(int64_t n, DType dtype) {
  Array result = empty({n}, dtype);
  for (int64_t i = 0; i < n; ++i) result.set_from_double(i, static_cast<double>(i));
  return result;
}

Array Array::from(std::initializer_list<double> values, DType dtype) {
  return from_vector(std::vector<double>(values)).astype(dtype);
}

Array Array::from(std::initializer_list<std::initializer_list<double>> rows, DType dtype) {
  std::vector<double> values;
  const int64_t cols = rows.size() ? static_cast<int64_t>(rows.begin()->size()) : 0;
  for (const auto& row : rows) {
    if (static_cast<int64_t>(row.size()) != cols) throw ShapeError("[array] ragged rows in Array::from");
    values.insert(values.end(), row.begin(), row.end());
  }
  return from_vector(values, {static_cast<int64_t>(rows.size()), cols}).astype(dtype);
}

// ---- Properties ----

int64_t Array::shape(int axis) const { return shape_[normalize_axis(axis, ndim(), "array")]; }

bool Array::is_contiguous() const {
  if (sparse_) return true;  // nothing to make contiguous: its arrays are read through sparse()
  int64_t expected = 1;
  for (int axis = ndim() - 1; axis >= 0; --axis) {
    if (shape_[axis] == 0) return true;
    if (shape_[axis] != 1 && strides_[axis] != expected) return false;
    expected *= shape_[axis];
  }
  return true;
}

void refuse_device_access(const Array& array) {
  throw ValueError("[array] a " + array.shape_dtype_str() + " value in " + array.device().str() +
                   "'s memory cannot be read or written on the host: transfer it first");
}

void refuse_sparse_access(const Array& array, const char* what) {
  throw ValueError(std::string("[array] ") + what + "() on a sparse matrix (" + array.shape_dtype_str() +
                   "): read its arrays through sparse(), or convert it with sparse().to_dense()");
}

void* Array::raw_data() const {
  if (!storage_) {
    if (sparse_) refuse_sparse_access(*this, "raw_data");
    return nullptr;
  }
  if (storage_->device_buffer()) refuse_device_access(*this);
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(itemsize());
}

double Array::item() const {
  if (size() != 1) throw ValueError("[array] item() needs an array of size 1, got shape " + shape_str(shape_));
  return get_as_double(0);
}

double Array::get_as_double(int64_t flat_index) const {
  if (sparse_) refuse_sparse_access(*this, "get_as_double");
  if (storage_ && storage_->device_buffer()) refuse_device_access(*this);
  int64_t position = flat_to_position(*this, flat_index);
  return dispatch_dtype(dtype_, [&]<class T>() { return convert<double>(static_cast<const T*>(storage_->data())[position]); });
}

void Array::set_from_double(int64_t flat_index, double value) {
  if (sparse_) refuse_sparse_access(*this, "set_from_double");
  if (storage_ && storage_->device_buffer()) refuse_device_access(*this);
  int64_t position = flat_to_position(*this, flat_index);
  dispatch_dtype(dtype_, [&]<class T>() { static_cast<T*>(storage_->data())[position] = convert<T>(value); });
}

// ---- Views ----

Array Array::view_as(const Shape& shape, const Strides& strides, int64_t offset) const {
  if (sparse_) refuse_sparse_access(*this, "view_as");
  return Array(dtype_, shape, storage_, strides, offset);
}

Array Array::transpose() const {
  std::vector<int> perm(ndim());
  for (int i = 0; i < ndim(); ++i) perm[i] = ndim() - 1 - i;
  return transpose(perm);
}

Array Array::transpose(const std::vector<int>& perm) const {
  if (static_cast<int>(perm.size()) != ndim())
    throw ValueError("[transpose] permutation of length " + std::to_string(perm.size()) + " for shape " + shape_str(shape_));
  if (sparse_) {  // a CSR matrix's transpose is the same arrays read as CSC
    const int first = normalize_axis(perm[0], 2, "transpose"), second = normalize_axis(perm[1], 2, "transpose");
    if (first == second) throw ValueError("[transpose] axis " + std::to_string(perm[1]) + " repeats in the permutation");
    return first == 0 ? *this : from_sparse(sparse_->transpose());
  }
  std::vector<bool> seen(ndim(), false);
  Shape shape;
  Strides strides;
  for (int axis : perm) {
    int resolved = normalize_axis(axis, ndim(), "transpose");
    if (seen[resolved]) throw ValueError("[transpose] axis " + std::to_string(axis) + " repeats in the permutation");
    seen[resolved] = true;
    shape.push_back(shape_[resolved]);
    strides.push_back(strides_[resolved]);
  }
  return view_as(shape, strides, offset_);
}

Array Array::slice(const std::vector<Slice>& slices) const {
  if (sparse_) refuse_sparse_access(*this, "slice");
  if (static_cast<int>(slices.size()) > ndim())
    throw IndexError("[array] " + std::to_string(slices.size()) + " slices for an array of shape " + shape_str(shape_));
  Shape shape = shape_;
  Strides strides = strides_;
  int64_t offset = offset_;
  for (size_t axis = 0; axis < slices.size(); ++axis) {
    const Slice& s = slices[axis];
    if (s.step == 0) throw ValueError("[array] slice step cannot be zero");
    if (s.step == INT64_MIN) throw ValueError("[array] slice step is out of range");
    const int64_t n = shape_[axis];
    int64_t start, stop, length;
    auto clamp = [](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(v, hi)); };
    if (s.step > 0) {
      start = s.start == Slice::kNone ? 0 : clamp(s.start < 0 ? s.start + n : s.start, 0, n);
      stop = s.stop == Slice::kNone ? n : clamp(s.stop < 0 ? s.stop + n : s.stop, 0, n);
      length = stop > start ? (stop - start + s.step - 1) / s.step : 0;
    } else {
      start = s.start == Slice::kNone ? n - 1 : clamp(s.start < 0 ? s.start + n : s.start, -1, n - 1);
      stop = s.stop == Slice::kNone ? -1 : clamp(s.stop < 0 ? s.stop + n : s.stop, -1, n - 1);
      length = start > stop ? (start - stop + (-s.step) - 1) / (-s.step) : 0;
    }
    if (length > 0) offset += start * strides_[axis];
    shape[axis] = length;
    strides[axis] = strides_[axis] * s.step;
  }
  return view_as(shape, strides, offset);
}

Array Array::index(int axis, int64_t i) const {
  if (sparse_) refuse_sparse_access(*this, "index");
  int resolved = normalize_axis(axis, ndim(), "array");
  int64_t n = shape_[resolved];
  if (i < -n || i >= n)
    throw IndexError("[array] index " + std::to_string(i) + " is out of bounds for axis " + std::to_string(resolved) +
                     " with size " + std::to_string(n));
  if (i < 0) i += n;
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + resolved);
  strides.erase(strides.begin() + resolved);
  return view_as(shape, strides, offset_ + i * strides_[resolved]);
}

Array Array::broadcast_to(const Shape& target) const {
  if (sparse_) refuse_sparse_access(*this, "broadcast_to");
  const int lead = static_cast<int>(target.size()) - ndim();
  auto fail = [&] {
    throw ShapeError("[broadcast_to] cannot broadcast an array of shape " + shape_str(shape_) + " to shape " +
                     shape_str(target));
  };
  if (lead < 0) fail();
  Strides strides(target.size(), 0);
  for (int axis = 0; axis < ndim(); ++axis) {
    int64_t have = shape_[axis], want = target[lead + axis];
    if (have == want) strides[lead + axis] = strides_[axis];
    else if (have != 1) fail();
  }
  return view_as(target, strides, offset_);
}

Array Array::expand_dims(int axis) const {
  if (sparse_) refuse_sparse_access(*this, "expand_dims");
  int resolved = normalize_axis(axis, ndim() + 1, "expand_dims");
  Shape shape = shape_;
  Strides strides = strides_;
  shape.insert(shape.begin() + resolved, 1);
  strides.insert(strides.begin() + resolved, 0);
  return view_as(shape, strides, offset_);
}

Array Array::squeeze(int axis) const {
  if (sparse_) refuse_sparse_access(*this, "squeeze");
  int resolved = normalize_axis(axis, ndim(), "squeeze");
  if (shape_[resolved] != 1)
    throw ValueError("[squeeze] axis " + std::to_string(axis) + " has size " + std::to_string(shape_[resolved]) +
                     ", not 1 (shape " + shape_str(shape_) + ")");
  Shape shape = shape_;
  Strides strides = strides_;
  shape.erase(shape.begin() + resolved);
  strides.erase(strides.begin() + resolved);
  return view_as(shape, strides, offset_);
}

// ---- Copies ----

Array Array::copy() const { return astype(dtype_); }

Array Array::contiguous() const { return is_contiguous() ? *this : copy(); }

Array Array::astype(DType dtype) const {
  if (sparse_)
    return from_sparse(SparseArray(sparse_->format(), sparse_->rows(), sparse_->cols(), sparse_->data().astype(dtype),
                                   sparse_->indices().copy(), sparse_->indptr().copy()));
  Array result = empty(shape_, dtype);
  copy_convert(*this, result);
  return result;
}

void Array::add_from(const Array& source) {
  if (sparse_) refuse_sparse_access(*this, "add_from");
  if (source.shape() != shape_)
    throw ShapeError("[array] add_from of shape " + shape_str(source.shape()) + " into shape " + shape_str(shape_));
  if (source.dtype() != dtype_) return add_from(source.astype(dtype_));
  if (size() == 0) return;
  dispatch_dtype(dtype_, [&]<class T>() {
    const T* in = static_cast<const T*>(source.storage()->data()) + source.offset();
    T* out = static_cast<T*>(storage_->data()) + offset_;
    const int64_t inner = ndim() ? shape_.back() : 1;
    const int64_t si = ndim() ? source.strides().back() : 0, so = ndim() ? strides_.back() : 0;
    for_each_row(shape_, source.strides(), strides_, [&](int64_t oa, int64_t ob) {
      if constexpr (std::is_same_v<T, bool>) {
        for (int64_t j = 0; j < inner; ++j) out[ob + j * so] = out[ob + j * so] || in[oa + j * si];
      } else if (si == 1 && so == 1) {
        for (int64_t j = 0; j < inner; ++j) out[ob + j] = static_cast<T>(out[ob + j] + in[oa + j]);
      } else {
        for (int64_t j = 0; j < inner; ++j) out[ob + j * so] = static_cast<T>(out[ob + j * so] + in[oa + j * si]);
      }
    });
  });
}

void Array::copy_from(const Array& source) {
  if (sparse_) refuse_sparse_access(*this, "copy_from");
  if (source.shape() != shape_)
    throw ShapeError("[array] copy_from of shape " + shape_str(source.shape()) + " into shape " + shape_str(shape_));
  copy_convert(source, *this);
}

Array Array::reshape(const Shape& requested) const {
  if (sparse_) refuse_sparse_access(*this, "reshape");
  Shape shape = requested;
  int unknown = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (unknown != -1) throw ShapeError("[reshape] can only infer one dimension, shape " + shape_str(requested));
      unknown = static_cast<int>(i);
    } else if (shape[i] < 0) {
      throw ShapeError("[reshape] negative dimension in shape " + shape_str(requested));
    } else {
      known *= shape[i];
    }
  }
  auto fail = [&] {
    throw ShapeError("[reshape] cannot reshape array of shape " + shape_str(shape_) + " into shape " + shape_str(requested));
  };
  if (unknown != -1) {
    if (known == 0 || size() % known != 0) fail();
    shape[unknown] = size() / known;
  }
  if (shape_size(shape) != size()) fail();
  if (is_contiguous()) return view_as(shape, contiguous_strides(shape), offset_);
  return copy().reshape(shape);
}

// ---- Comparison ----

bool Array::equals(const Array& other) const {
  if (sparse_ || other.sparse_)  // as the dense matrices they stand for
    return (sparse_ ? sparse_->to_dense() : *this).equals(other.sparse_ ? other.sparse_->to_dense() : other);
  if (shape_ != other.shape_) return false;
  for (int64_t i = 0; i < size(); ++i)
    if (get_as_double(i) != other.get_as_double(i)) return false;
  return true;
}

bool Array::allclose(const Array& other, double rtol, double atol) const {
  if (sparse_ || other.sparse_)
    return (sparse_ ? sparse_->to_dense() : *this).allclose(other.sparse_ ? other.sparse_->to_dense() : other, rtol, atol);
  if (shape_ != other.shape_) return false;
  if (is_complex(dtype_) || is_complex(other.dtype_)) {  // (NumPy's: |a - b| <= atol + rtol |b|, complex magnitudes)
    const Array a = astype(DType::Complex128).contiguous(), b = other.astype(DType::Complex128).contiguous();
    for (int64_t i = 0; i < size(); ++i) {
      const std::complex<double> x = a.data<std::complex<double>>()[i], y = b.data<std::complex<double>>()[i];
      if (x == y) continue;
      if (!(std::abs(x - y) <= atol + rtol * std::abs(y))) return false;
    }
    return true;
  }
  for (int64_t i = 0; i < size(); ++i) {
    double a = get_as_double(i), b = other.get_as_double(i);
    if (a == b) continue;  // also equal infinities
    if (!(std::fabs(a - b) <= atol + rtol * std::fabs(b))) return false;
  }
  return true;
}

std::string Array::shape_dtype_str() const {
  if (sparse_) return std::string(sparse_format_name(sparse_->format())) + " " + std::string(dtype_name(dtype_)) + shape_str(shape_);
  return std::string(dtype_name(dtype_)) + shape_str(shape_);
}

std::ostream& operator<<(std::ostream& os, const Array& array) { return os << array.str(); }

}  // namespace hypatia
