#include "hypatia/sparse_array.h"

#include <algorithm>
#include <numeric>
#include <vector>

#include "hypatia/error.h"
#include "ops/sparse_kernels.h"

namespace hypatia {
namespace {

using sparse_kernels::dispatch_index;

// An index array's values as int64 (contiguous copies where the array is strided or int32).
std::vector<int64_t> as_int64(const Array& index) {
  const Array contiguous = index.contiguous();
  std::vector<int64_t> out(contiguous.size());
  dispatch_index(contiguous.dtype(), [&]<class I>() { std::copy_n(contiguous.data<I>(), out.size(), out.begin()); });
  return out;
}

Array index_array(const std::vector<int64_t>& values, DType dtype) {
  Array out = Array::empty({static_cast<int64_t>(values.size())}, dtype);
  dispatch_index(dtype, [&]<class I>() { std::transform(values.begin(), values.end(), out.data<I>(), [](int64_t v) { return I(v); }); });
  return out;
}

}  // namespace

const char* sparse_format_name(SparseFormat format) { return format == SparseFormat::Csr ? "csr" : "csc"; }

Array Array::from_sparse(SparseArray matrix) {
  Array value;
  value.dtype_ = matrix.dtype();
  value.shape_ = matrix.shape();
  value.strides_.clear();
  value.sparse_ = std::make_shared<const SparseArray>(std::move(matrix));
  return value;
}

const SparseArray& Array::sparse() const {
  if (!sparse_) throw ValueError("[array] sparse() on a dense array " + shape_dtype_str());
  return *sparse_;
}

std::vector<const Storage*> Array::storages() const {
  std::vector<const Storage*> found;
  if (storage_) found.push_back(storage_.get());
  if (sparse_)
    for (const Array* part : {&sparse_->data(), &sparse_->indices(), &sparse_->indptr()})
      if (part->storage()) found.push_back(part->storage().get());
  return found;
}

bool Array::shares_sparse_storage_with(const Array& other) const {
  const std::vector<const Storage*> mine = storages(), theirs = other.storages();
  for (const Storage* s : mine)
    if (std::find(theirs.begin(), theirs.end(), s) != theirs.end()) return true;
  return false;
}

Device Array::sparse_device() const { return sparse_->data().device(); }

std::optional<SparseFormat> Array::format() const {
  if (!sparse_) return std::nullopt;
  return sparse_->format();
}

SparseArray SparseArray::unchecked(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr) {
  return SparseArray(Unchecked{}, format, rows, cols, std::move(data), std::move(indices), std::move(indptr));
}

SparseArray::SparseArray(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr)
    : format_(format), rows_(rows), cols_(cols), data_(std::move(data)), indices_(std::move(indices)), indptr_(std::move(indptr)) {
  // The message's parts are made only when a check fails: a matrix passed to every call is checked every call.
  const auto fail = [&](const std::string& why) {
    throw ValueError(std::string("[") + sparse_format_name(format) + "_matrix] " + why + " (data " + data_.shape_dtype_str() + ", indices " +
                     indices_.shape_dtype_str() + ", indptr " + indptr_.shape_dtype_str() + ", shape (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + "))");
  };
  if (rows < 0 || cols < 0) fail("a negative shape");
  if (rows > (int64_t{1} << 62) || cols > (int64_t{1} << 62)) fail("a shape too large to index");
  if (data_.ndim() != 1 || indices_.ndim() != 1 || indptr_.ndim() != 1) fail("data, indices and indptr must be 1-d");
  if (data_.dtype() == DType::Float16) throw TypeError(std::string("[") + sparse_format_name(format) + "_matrix] float16 values are not supported (SciPy has no float16 sparse matrices)");
  for (const Array* index : {&indices_, &indptr_})
    if (index->dtype() != DType::Int32 && index->dtype() != DType::Int64)
      fail("indices and indptr must be int32 or int64");
  if (indices_.size() != data_.size()) fail("data and indices differ in length");
  if (indptr_.size() != major() + 1)
    fail("indptr needs " + std::to_string(major() + 1) + " entries (one more than the " +
                     (format == SparseFormat::Csr ? "rows" : "columns") + ")");
  // Read in their own dtypes, in place where contiguous: a matrix passed to every call is checked every call.
  const Array starts = indptr_.contiguous(), index = indices_.contiguous();
  dispatch_index(starts.dtype(), [&]<class P>() {
    const P* ptr = starts.data<P>();
    if (ptr[0] != 0 || int64_t(ptr[major()]) != nnz()) fail("indptr must run from 0 to the number stored");
    for (int64_t i = 1; i <= major(); ++i)
      if (ptr[i] < ptr[i - 1]) fail("indptr decreases at " + std::to_string(i));
  });
  dispatch_index(index.dtype(), [&]<class I>() {
    const I* idx = index.data<I>();
    const int64_t limit = minor();
    bool inside = true;
    for (int64_t p = 0; p < nnz(); ++p) inside &= int64_t(idx[p]) >= 0 && int64_t(idx[p]) < limit;
    if (inside) return;
    for (int64_t p = 0; p < nnz(); ++p)
      if (int64_t(idx[p]) < 0 || int64_t(idx[p]) >= limit)
        fail("index " + std::to_string(int64_t(idx[p])) + " at " + std::to_string(p) + " is outside 0.." +
                         std::to_string(limit - 1));
  });
}

SparseArray SparseArray::from_dense(const Array& dense, SparseFormat format) {
  if (dense.ndim() != 2) throw ValueError(std::string("[") + sparse_format_name(format) + "_from_dense] needs a matrix, got " + dense.shape_dtype_str());
  const Array lines = format == SparseFormat::Csr ? dense.contiguous() : dense.transpose().contiguous();
  const int64_t major = lines.shape()[0], minor = lines.shape()[1];
  std::vector<int64_t> indptr{0}, indices;
  Array data;
  dispatch_dtype(dense.dtype(), [&]<class T>() {
    std::vector<T> values;
    const T* at = lines.data<T>();
    for (int64_t i = 0; i < major; ++i) {
      for (int64_t j = 0; j < minor; ++j)
        if (at[i * minor + j] != T(0)) {
          values.push_back(at[i * minor + j]);
          indices.push_back(j);
        }
      indptr.push_back(static_cast<int64_t>(indices.size()));
    }
    data = Array::empty({static_cast<int64_t>(values.size())}, dense.dtype());
    std::copy(values.begin(), values.end(), data.data<T>());
  });
  const DType index_dtype = sparse_kernels::index_dtype_for(std::max({major, minor, static_cast<int64_t>(indices.size())}));
  return unchecked(format, dense.shape()[0], dense.shape()[1], data, index_array(indices, index_dtype), index_array(indptr, index_dtype));
}

Array SparseArray::to_dense() const {
  Array out = Array::zeros(shape(), dtype());
  const std::vector<int64_t> starts = as_int64(indptr_), index = as_int64(indices_);
  const Array values = data_.contiguous();
  dispatch_dtype(dtype(), [&]<class T>() {
    T* o = out.data<T>();
    const T* v = values.data<T>();
    for (int64_t i = 0; i < major(); ++i)
      for (int64_t p = starts[i]; p < starts[i + 1]; ++p) {
        T& cell = format_ == SparseFormat::Csr ? o[i * cols_ + index[p]] : o[index[p] * cols_ + i];
        cell = static_cast<T>(cell + v[p]);
      }
  });
  return out;
}

SparseArray SparseArray::transpose() const {
  return unchecked(format_ == SparseFormat::Csr ? SparseFormat::Csc : SparseFormat::Csr, cols_, rows_, data_, indices_, indptr_);
}

SparseArray SparseArray::as_format(SparseFormat format) const {
  if (format == format_) return *this;
  // The other compression of the same entries: a counting sort by the minor index, stable, so each new
  // line lists its entries by increasing old line.
  const std::vector<int64_t> starts = as_int64(indptr_), index = as_int64(indices_);
  std::vector<int64_t> new_starts(minor() + 1, 0), new_index(nnz()), position(nnz());
  for (int64_t j : index) ++new_starts[j + 1];
  std::partial_sum(new_starts.begin(), new_starts.end(), new_starts.begin());
  std::vector<int64_t> next(new_starts.begin(), new_starts.end() - 1);
  for (int64_t i = 0; i < major(); ++i)
    for (int64_t p = starts[i]; p < starts[i + 1]; ++p) {
      const int64_t q = next[index[p]]++;
      new_index[q] = i;
      position[q] = p;
    }
  const Array values = data_.contiguous();
  Array data = Array::empty({nnz()}, dtype());
  dispatch_dtype(dtype(), [&]<class T>() {
    for (int64_t q = 0; q < nnz(); ++q) data.data<T>()[q] = values.data<T>()[position[q]];
  });
  const DType index_dtype = indices_.dtype() == DType::Int64 || indptr_.dtype() == DType::Int64 ? DType::Int64 : DType::Int32;
  return unchecked(format, rows_, cols_, data, index_array(new_index, index_dtype), index_array(new_starts, index_dtype));
}

bool SparseArray::indices_increase(bool strictly) const {
  const Array starts = indptr_.contiguous(), index = indices_.contiguous();
  return dispatch_index(starts.dtype(), [&]<class P>() {
    return dispatch_index(index.dtype(), [&]<class I>() {
      const P* ptr = starts.data<P>();
      const I* idx = index.data<I>();
      for (int64_t i = 0; i < major(); ++i)
        for (int64_t p = int64_t(ptr[i]) + 1; p < int64_t(ptr[i + 1]); ++p)
          if (idx[p] < idx[p - 1] || (strictly && idx[p] == idx[p - 1])) return false;
      return true;
    });
  });
}

bool SparseArray::has_sorted_indices() const { return indices_increase(false); }
bool SparseArray::has_canonical_format() const { return indices_increase(true); }

SparseArray SparseArray::canonical() const {
  if (has_canonical_format()) return *this;  // the same arrays: sums and products merge canonical lines each call
  const std::vector<int64_t> starts = as_int64(indptr_), index = as_int64(indices_);
  std::vector<int64_t> new_starts{0}, new_index, order;
  std::vector<int64_t> source_start;  // per kept entry: where its run of equal indices starts in `order`
  for (int64_t i = 0; i < major(); ++i) {
    std::vector<int64_t> line(starts[i + 1] - starts[i]);
    std::iota(line.begin(), line.end(), starts[i]);
    std::stable_sort(line.begin(), line.end(), [&](int64_t a, int64_t b) { return index[a] < index[b]; });
    for (size_t k = 0; k < line.size(); ++k) {
      if (k == 0 || index[line[k]] != index[line[k - 1]]) {
        new_index.push_back(index[line[k]]);
        source_start.push_back(static_cast<int64_t>(order.size()));
      }
      order.push_back(line[k]);
    }
    new_starts.push_back(static_cast<int64_t>(new_index.size()));
  }
  source_start.push_back(static_cast<int64_t>(order.size()));
  const Array values = data_.contiguous();
  Array data = Array::empty({static_cast<int64_t>(new_index.size())}, dtype());
  dispatch_dtype(dtype(), [&]<class T>() {
    for (size_t q = 0; q < new_index.size(); ++q) {
      T sum = values.data<T>()[order[source_start[q]]];
      for (int64_t k = source_start[q] + 1; k < source_start[q + 1]; ++k) sum = static_cast<T>(sum + values.data<T>()[order[k]]);
      data.data<T>()[q] = sum;
    }
  });
  return unchecked(format_, rows_, cols_, data, index_array(new_index, indices_.dtype()), index_array(new_starts, indptr_.dtype()));
}

std::string SparseArray::shape_dtype_str() const {
  return std::string(sparse_format_name(format_)) + " " + std::string(dtype_name(dtype())) + "(" + std::to_string(rows_) + ", " + std::to_string(cols_) +
         "), " + std::to_string(nnz()) + " stored";
}

Array sparse_dot(const SparseArray& a, const Array& b) {
  if (b.ndim() != 1 && b.ndim() != 2) throw ValueError("[sparse_dot] the dense operand must be a vector or a matrix, got " + b.shape_dtype_str());
  if (b.shape()[0] != a.cols())
    throw ShapeError("[sparse_dot] " + a.shape_dtype_str() + " @ " + b.shape_dtype_str() + ": " + std::to_string(a.cols()) +
                     " columns against " + std::to_string(b.shape()[0]) + " rows");
  return sparse_kernels::sparse_dense_product(a, b, promote_types(a.dtype(), b.dtype()));
}

}  // namespace hypatia
