#include "ops/sparse_kernels.h"

#include <omp.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "hypatia/error.h"

namespace hypatia::sparse_kernels {
namespace {

// Work (multiply-adds over scattered rows) below which a kernel stays on one thread: measured on the sparse
// logistic regression's step (bench/sparse.py), a second thread slows 256k of them down (the rows each reads
// are cached on the other core) and speeds 8M up 1.8x.
constexpr int64_t kParallelWork = int64_t{1} << 20;

Array fit(const Array& a, DType dtype) { return a.dtype() == dtype ? a.contiguous() : a.astype(dtype); }


// (row, column) of the entry at minor index `m` on major line `line`.
inline int64_t row_of(SparseFormat f, int64_t line, int64_t m) { return f == SparseFormat::Csr ? line : m; }
inline int64_t col_of(SparseFormat f, int64_t line, int64_t m) { return f == SparseFormat::Csr ? m : line; }

// Growable result arrays for kernels that learn the number of entries as they go.
template <class T> struct Builder {
  std::vector<T> data;
  std::vector<int64_t> indices;
  std::vector<int64_t> indptr{0};
  void end_line() { indptr.push_back(static_cast<int64_t>(indices.size())); }
  SparseArray finish(SparseFormat format, int64_t rows, int64_t cols, DType dtype) {
    const DType index = index_dtype_for(std::max({rows, cols, static_cast<int64_t>(indices.size())}));
    Array d = Array::empty({static_cast<int64_t>(data.size())}, dtype);
    std::copy(data.begin(), data.end(), d.data<T>());
    auto ints = [&](const std::vector<int64_t>& v) {
      Array out = Array::empty({static_cast<int64_t>(v.size())}, index);
      dispatch_index(index, [&]<class I>() { std::transform(v.begin(), v.end(), out.data<I>(), [](int64_t x) { return I(x); }); });
      return out;
    };
    return assemble(format, rows, cols, std::move(d), ints(indices), ints(indptr));
  }
};

// Calls fn(line, begin, end) with the line's entries as positions into data/indices.
template <class I, class Fn> void for_lines(const Compressed& x, Fn fn) {
  const I* ptr = x.indptr.data<I>();
  for (int64_t line = 0; line < x.major; ++line) fn(line, int64_t(ptr[line]), int64_t(ptr[line + 1]));
}

}  // namespace

DType index_dtype_for(int64_t largest) { return largest > INT32_MAX ? DType::Int64 : DType::Int32; }

Compressed prepare(const SparseArray& x, DType dtype) {
  const DType index = x.indices().dtype() == DType::Int32 && x.indptr().dtype() == DType::Int32 ? DType::Int32 : DType::Int64;
  return {x.format(), x.rows(), x.cols(), x.major(), x.minor(), fit(x.data(), dtype), fit(x.indices(), index), fit(x.indptr(), index)};
}

SparseArray assemble(SparseFormat format, int64_t rows, int64_t cols, Array data, Array indices, Array indptr) {
  return SparseArray::unchecked(format, rows, cols, std::move(data), std::move(indices), std::move(indptr));
}

Array sparse_dense_product(const SparseArray& a, const Array& b, DType dtype) {
  Array out = Array::zeros(b.ndim() == 2 ? Shape{a.rows(), b.shape()[1]} : Shape{a.rows()}, dtype);
  add_product(out, 1.0, a, b);
  return out;
}

namespace {

// a * b, as `and` for bools (which C++ would multiply as ints).
template <class T> T times(T a, T b) {
  if constexpr (std::is_same_v<T, bool>) return a && b;
  else return static_cast<T>(a * b);
}

// The products' inner loops over a range of rows (CSR) or of result columns (CSC). The library is built for any
// x86-64; for float32 and float64 these loops are also compiled for AVX2 and AVX-512, and the loader picks the
// widest the machine runs.
template <class T, class I>
[[gnu::always_inline]] inline void csr_rows_impl(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n, T scale,
                                                 int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    T* row = o + i * n;
    if (n == 1) {
      T acc = T(0);
      for (int64_t p = ptr[i]; p < ptr[i + 1]; ++p) acc += v[p] * x[idx[p]];
      row[0] += scale * acc;
      continue;
    }
    for (int64_t p = ptr[i]; p < ptr[i + 1]; ++p) {
      const T value = times(scale, v[p]);
      const T* source = x + int64_t(idx[p]) * n;
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) row[j] += value * source[j];
    }
  }
}

// Column k of a scatters v * b[k, :] into the rows it stores; only result columns j0..j1-1.
template <class T, class I>
[[gnu::always_inline]] inline void csc_columns_impl(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n, T scale,
                                                    int64_t cols, int64_t j0, int64_t j1) {
  for (int64_t k = 0; k < cols; ++k) {
    const T* source = x + k * n;
    for (int64_t p = ptr[k]; p < ptr[k + 1]; ++p) {
      const T value = times(scale, v[p]);
      T* row = o + int64_t(idx[p]) * n;
#pragma omp simd
      for (int64_t j = j0; j < j1; ++j) row[j] += value * source[j];
    }
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HYPATIA_WIDE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HYPATIA_WIDE_CLONES
#endif

#define HYPATIA_CLONED_LOOPS(T, I, suffix)                                                                              \
  HYPATIA_WIDE_CLONES void csr_rows_##suffix(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n, T scale, \
                                             int64_t begin, int64_t end) {                                             \
    csr_rows_impl<T, I>(v, idx, ptr, x, o, n, scale, begin, end);                                                      \
  }                                                                                                                    \
  HYPATIA_WIDE_CLONES void csc_columns_##suffix(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n,     \
                                                T scale, int64_t cols, int64_t j0, int64_t j1) {                       \
    csc_columns_impl<T, I>(v, idx, ptr, x, o, n, scale, cols, j0, j1);                                                 \
  }
HYPATIA_CLONED_LOOPS(float, int32_t, f32_i32)
HYPATIA_CLONED_LOOPS(float, int64_t, f32_i64)
HYPATIA_CLONED_LOOPS(double, int32_t, f64_i32)
HYPATIA_CLONED_LOOPS(double, int64_t, f64_i64)
#undef HYPATIA_CLONED_LOOPS

template <class T, class I> void csr_rows(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n, T scale, int64_t begin, int64_t end) {
  if constexpr (std::is_same_v<T, float> && std::is_same_v<I, int32_t>) csr_rows_f32_i32(v, idx, ptr, x, o, n, scale, begin, end);
  else if constexpr (std::is_same_v<T, float> && std::is_same_v<I, int64_t>) csr_rows_f32_i64(v, idx, ptr, x, o, n, scale, begin, end);
  else if constexpr (std::is_same_v<T, double> && std::is_same_v<I, int32_t>) csr_rows_f64_i32(v, idx, ptr, x, o, n, scale, begin, end);
  else if constexpr (std::is_same_v<T, double> && std::is_same_v<I, int64_t>) csr_rows_f64_i64(v, idx, ptr, x, o, n, scale, begin, end);
  else csr_rows_impl<T, I>(v, idx, ptr, x, o, n, scale, begin, end);
}

template <class T, class I>
void csc_columns(const T* v, const I* idx, const I* ptr, const T* x, T* o, int64_t n, T scale, int64_t cols, int64_t j0, int64_t j1) {
  if constexpr (std::is_same_v<T, float> && std::is_same_v<I, int32_t>) csc_columns_f32_i32(v, idx, ptr, x, o, n, scale, cols, j0, j1);
  else if constexpr (std::is_same_v<T, float> && std::is_same_v<I, int64_t>) csc_columns_f32_i64(v, idx, ptr, x, o, n, scale, cols, j0, j1);
  else if constexpr (std::is_same_v<T, double> && std::is_same_v<I, int32_t>) csc_columns_f64_i32(v, idx, ptr, x, o, n, scale, cols, j0, j1);
  else if constexpr (std::is_same_v<T, double> && std::is_same_v<I, int64_t>) csc_columns_f64_i64(v, idx, ptr, x, o, n, scale, cols, j0, j1);
  else csc_columns_impl<T, I>(v, idx, ptr, x, o, n, scale, cols, j0, j1);
}

}  // namespace

void add_product(Array& out, double alpha, const SparseArray& a, const Array& b) {
  const DType dtype = out.dtype();
  const Compressed A = prepare(a, dtype);
  const Array B = fit(b, dtype);
  const int64_t n = b.ndim() == 2 ? b.shape()[1] : 1;
  const int64_t work = a.nnz() * n;
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(A.index_dtype(), [&]<class I>() {
      const T *v = A.data.data<T>(), *x = B.data<T>();
      const I *idx = A.indices.data<I>(), *ptr = A.indptr.data<I>();
      const T scale = static_cast<T>(alpha);
      T* o = out.data<T>();
      if (A.format == SparseFormat::Csr) {
        // Rows of the result are independent: blocks of 64 rows, shared out as threads free up.
        const int64_t blocks = (A.rows + 63) / 64;
#pragma omp parallel for schedule(dynamic, 1) if (work > kParallelWork)
        for (int64_t block = 0; block < blocks; ++block)
          csr_rows<T, I>(v, idx, ptr, x, o, n, scale, block * 64, std::min(A.rows, (block + 1) * 64));
      } else {
        // Threads split the result's columns, so no two write one element.
#pragma omp parallel if (work > kParallelWork && n >= 16)
        {
          const int parts = omp_get_num_threads(), part = omp_get_thread_num();
          csc_columns<T, I>(v, idx, ptr, x, o, n, scale, A.cols, n * part / parts, n * (part + 1) / parts);
        }
      }
    });
  });
}

Array dense_sparse_product(const Array& a, const SparseArray& b, DType dtype) {
  const Compressed Bc = prepare(b, dtype);
  const Array A = fit(a, dtype);
  const int64_t m = a.shape()[0], k = a.shape()[1], n = b.cols();
  Array out = Array::zeros({m, n}, dtype);
  const int64_t work = m * b.nnz();
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(Bc.index_dtype(), [&]<class I>() {
      const T *v = Bc.data.data<T>(), *x = A.data<T>();
      const I *idx = Bc.indices.data<I>(), *ptr = Bc.indptr.data<I>();
      T* o = out.data<T>();
      // Each row of the result reads one row of a: rows are independent.
#pragma omp parallel for schedule(static) if (work > kParallelWork)
      for (int64_t i = 0; i < m; ++i) {
        const T* arow = x + i * k;
        T* orow = o + i * n;
        if (Bc.format == SparseFormat::Csc) {
          for (int64_t j = 0; j < n; ++j) {
            T acc = T(0);
            for (int64_t p = ptr[j]; p < ptr[j + 1]; ++p) acc += arow[idx[p]] * v[p];
            orow[j] = acc;
          }
        } else {
          for (int64_t l = 0; l < k; ++l) {
            const T ail = arow[l];  // zeros too: 0 * inf is NaN, as in the CSC branch and SciPy
            for (int64_t p = ptr[l]; p < ptr[l + 1]; ++p) orow[idx[p]] += ail * v[p];
          }
        }
      }
    });
  });
  return out;
}

SparseArray sparse_product(const SparseArray& a, const SparseArray& b, SparseFormat format, DType dtype) {
  const Compressed A = prepare(a.as_format(SparseFormat::Csr), dtype), B = prepare(b.as_format(SparseFormat::Csr), dtype);
  const int64_t m = a.rows(), n = b.cols();
  SparseArray result = dispatch_dtype(dtype, [&]<class T>() {
    Builder<T> out;
    std::unique_ptr<T[]> accumulator(new T[n]());  // not std::vector: vector<bool> has no T&
    std::vector<int64_t> marker(n, -1), columns;
    dispatch_index(A.index_dtype(), [&]<class IA>() {
      dispatch_index(B.index_dtype(), [&]<class IB>() {
        const T *av = A.data.data<T>(), *bv = B.data.data<T>();
        const IA *ai = A.indices.data<IA>(), *ap = A.indptr.data<IA>();
        const IB *bi = B.indices.data<IB>(), *bp = B.indptr.data<IB>();
        for (int64_t i = 0; i < m; ++i) {
          columns.clear();
          for (int64_t p = ap[i]; p < ap[i + 1]; ++p) {
            const T value = av[p];
            const int64_t l = ai[p];
            for (int64_t q = bp[l]; q < bp[l + 1]; ++q) {
              const int64_t j = bi[q];
              if (marker[j] != i) {
                marker[j] = i;
                accumulator[j] = T(0);
                columns.push_back(j);
              }
              accumulator[j] += value * bv[q];
            }
          }
          std::sort(columns.begin(), columns.end());
          for (int64_t j : columns) {
            out.indices.push_back(j);
            out.data.push_back(accumulator[j]);
          }
          out.end_line();
        }
      });
    });
    return out.finish(SparseFormat::Csr, m, n, dtype);
  });
  return result.as_format(format);
}

Array sampled_product(const Array& x, const Array& y, const SparseArray& p, DType dtype) {
  const Compressed P = prepare(p, dtype);
  const Array X = fit(x, dtype), Y = fit(y, dtype);
  const int64_t k = x.shape()[1];
  Array out = Array::empty({p.nnz()}, dtype);
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(P.index_dtype(), [&]<class I>() {
      const T *xs = X.data<T>(), *ys = Y.data<T>();
      const I *idx = P.indices.data<I>(), *ptr = P.indptr.data<I>();
      T* o = out.data<T>();
#pragma omp parallel for schedule(dynamic, 64) if (p.nnz() * k > kParallelWork)
      for (int64_t line = 0; line < P.major; ++line)
        for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q) {
          const T* xr = xs + row_of(P.format, line, idx[q]) * k;
          const T* yr = ys + col_of(P.format, line, idx[q]) * k;
          T acc = T(0);
          for (int64_t l = 0; l < k; ++l) acc += xr[l] * yr[l];
          o[q] = acc;
        }
    });
  });
  return out;
}

Array values_at(const Array& g, const SparseArray& p, DType dtype) {
  Array out = Array::empty({p.nnz()}, dtype);
  if (p.nnz() == 0) return out;
  const Compressed P = prepare(p, dtype);
  if (g.is_sparse()) {
    // Against g's lines in p's format, sorted with duplicates summed: one binary search per entry of p.
    const Compressed G = prepare(g.sparse().as_format(p.format()).canonical(), dtype);
    dispatch_dtype(dtype, [&]<class T>() {
      dispatch_index(P.index_dtype(), [&]<class I>() {
        dispatch_index(G.index_dtype(), [&]<class J>() {
          const I *idx = P.indices.data<I>(), *ptr = P.indptr.data<I>();
          const J *gi = G.indices.data<J>(), *gp = G.indptr.data<J>();
          const T* gv = G.data.data<T>();
          T* o = out.data<T>();
          for (int64_t line = 0; line < P.major; ++line)
            for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q) {
              const J* found = std::lower_bound(gi + gp[line], gi + gp[line + 1], J(idx[q]));
              o[q] = found != gi + gp[line + 1] && *found == J(idx[q]) ? gv[found - gi] : T(0);
            }
        });
      });
    });
    return out;
  }
  const Array G = (g.dtype() == dtype ? g : g.astype(dtype)).broadcast_to(p.shape());
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(P.index_dtype(), [&]<class I>() {
      const I *idx = P.indices.data<I>(), *ptr = P.indptr.data<I>();
      const T* base = G.data<T>();
      const int64_t s0 = G.strides()[0], s1 = G.strides()[1];
      T* o = out.data<T>();
#pragma omp parallel for schedule(static) if (p.nnz() > kParallelWork)
      for (int64_t line = 0; line < P.major; ++line)
        for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q)
          o[q] = base[row_of(P.format, line, idx[q]) * s0 + col_of(P.format, line, idx[q]) * s1];
    });
  });
  return out;
}

namespace {

// Merges the sorted, duplicate-free lines of x and y (one format): `keep_one` says whether an index stored
// in only one of them is kept (a sum) or dropped (a product).
template <class T, class Combine>
SparseArray merge(const SparseArray& x, const SparseArray& y, DType dtype, bool keep_one, Combine combine) {
  const Compressed X = prepare(x.canonical(), dtype), Y = prepare(y.as_format(x.format()).canonical(), dtype);
  {
    Builder<T> out;
    dispatch_index(X.index_dtype(), [&]<class I>() {
      dispatch_index(Y.index_dtype(), [&]<class J>() {
        const I *xi = X.indices.data<I>(), *xp = X.indptr.data<I>();
        const J *yi = Y.indices.data<J>(), *yp = Y.indptr.data<J>();
        const T *xv = X.data.data<T>(), *yv = Y.data.data<T>();
        for (int64_t line = 0; line < X.major; ++line) {
          int64_t p = xp[line], q = yp[line];
          const int64_t p_end = xp[line + 1], q_end = yp[line + 1];
          while (p < p_end || q < q_end) {
            const int64_t a = p < p_end ? int64_t(xi[p]) : INT64_MAX, b = q < q_end ? int64_t(yi[q]) : INT64_MAX;
            if (a == b) {
              out.indices.push_back(a);
              out.data.push_back(combine(xv[p++], yv[q++]));
            } else if (a < b) {
              if (keep_one) {
                out.indices.push_back(a);
                out.data.push_back(xv[p]);
              }
              ++p;
            } else {
              if (keep_one) {
                out.indices.push_back(b);
                out.data.push_back(yv[q]);
              }
              ++q;
            }
          }
          out.end_line();
        }
      });
    });
    return out.finish(x.format(), x.rows(), x.cols(), dtype);
  }
}

}  // namespace

SparseArray add(const SparseArray& x, const SparseArray& y, DType dtype) {
  return dispatch_dtype(dtype, [&]<class T>() {
    return merge<T>(x, y, dtype, true, [](T a, T b) { return static_cast<T>(a + b); });
  });
}

SparseArray multiply(const SparseArray& x, const SparseArray& y, DType dtype) {
  return dispatch_dtype(dtype, [&]<class T>() {
    if constexpr (std::is_same_v<T, bool>) return merge<T>(x, y, dtype, false, [](T a, T b) { return a && b; });
    else return merge<T>(x, y, dtype, false, [](T a, T b) { return static_cast<T>(a * b); });
  });
}

Array add_to_dense(const SparseArray& x, const Array& y, DType dtype) {
  Array out = y.astype(dtype);  // a fresh contiguous copy
  const Compressed X = prepare(x, dtype);
  const int64_t cols = x.cols();
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I *idx = X.indices.data<I>(), *ptr = X.indptr.data<I>();
      const T* v = X.data.data<T>();
      T* o = out.data<T>();
      for (int64_t line = 0; line < X.major; ++line)
        for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q) {
          T& cell = o[row_of(X.format, line, idx[q]) * cols + col_of(X.format, line, idx[q])];
          cell = static_cast<T>(cell + v[q]);
        }
    });
  });
  return out;
}

Array sum(const SparseArray& x, std::optional<int> axis, DType dtype) {
  const Compressed X = prepare(x, dtype);
  Array out = axis ? Array::zeros({*axis == 0 ? x.cols() : x.rows()}, dtype) : Array::zeros({}, dtype);
  dispatch_dtype(dtype, [&]<class T>() {
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I *idx = X.indices.data<I>(), *ptr = X.indptr.data<I>();
      const T* v = X.data.data<T>();
      T* o = out.data<T>();
      if (!axis) {
        T acc = T(0);
        for (int64_t q = 0; q < x.nnz(); ++q) acc = static_cast<T>(acc + v[q]);
        o[0] = acc;
        return;
      }
      // Along the lines when the sum runs along them (CSR by rows), else scattered by index.
      const bool along_lines = (*axis == 1) == (X.format == SparseFormat::Csr);
      for (int64_t line = 0; line < X.major; ++line)
        for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q) {
          T& cell = along_lines ? o[line] : o[idx[q]];
          cell = static_cast<T>(cell + v[q]);
        }
    });
  });
  return out;
}

SparseArray remove_zeros(const SparseArray& x) {
  const Compressed X = prepare(x, x.dtype());
  return dispatch_dtype(x.dtype(), [&]<class T>() {
    Builder<T> out;
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I* idx = X.indices.data<I>();
      const T* v = X.data.data<T>();
      for_lines<I>(X, [&](int64_t, int64_t begin, int64_t end) {
        for (int64_t q = begin; q < end; ++q)
          if (v[q] != T(0)) {
            out.indices.push_back(idx[q]);
            out.data.push_back(v[q]);
          }
        out.end_line();
      });
    });
    return out.finish(x.format(), x.rows(), x.cols(), x.dtype());
  });
}

SparseArray sort_indices(const SparseArray& x) {
  const Compressed X = prepare(x, x.dtype());
  return dispatch_dtype(x.dtype(), [&]<class T>() {
    Builder<T> out;
    std::vector<int64_t> order;
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I* idx = X.indices.data<I>();
      const T* v = X.data.data<T>();
      for_lines<I>(X, [&](int64_t, int64_t begin, int64_t end) {
        order.resize(end - begin);
        std::iota(order.begin(), order.end(), begin);
        std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return idx[a] < idx[b]; });
        for (int64_t q : order) {
          out.indices.push_back(idx[q]);
          out.data.push_back(v[q]);
        }
        out.end_line();
      });
    });
    return out.finish(x.format(), x.rows(), x.cols(), x.dtype());
  });
}

SparseArray stack(const std::vector<SparseArray>& blocks, int axis, SparseFormat format, DType dtype) {
  // Stacking along the compressed axis only appends lines: vstack in CSR, hstack in CSC.
  const SparseFormat lines = axis == 0 ? SparseFormat::Csr : SparseFormat::Csc;
  int64_t rows = axis == 0 ? 0 : blocks.at(0).rows(), cols = axis == 0 ? blocks.at(0).cols() : 0;
  SparseArray result = dispatch_dtype(dtype, [&]<class T>() {
    Builder<T> out;
    for (const SparseArray& block : blocks) {
      (axis == 0 ? rows : cols) += axis == 0 ? block.rows() : block.cols();
      const Compressed B = prepare(block.as_format(lines), dtype);
      dispatch_index(B.index_dtype(), [&]<class I>() {
        const I* idx = B.indices.data<I>();
        const T* v = B.data.data<T>();
        for_lines<I>(B, [&](int64_t, int64_t begin, int64_t end) {
          out.indices.insert(out.indices.end(), idx + begin, idx + end);
          out.data.insert(out.data.end(), v + begin, v + end);
          out.end_line();
        });
      });
    }
    return out.finish(lines, rows, cols, dtype);
  });
  return result.as_format(format);
}

SparseArray take(const SparseArray& x, const std::vector<int64_t>& chosen, int axis) {
  const SparseFormat lines = axis == 0 ? SparseFormat::Csr : SparseFormat::Csc;
  const Compressed X = prepare(x.as_format(lines), x.dtype());
  const int64_t count = static_cast<int64_t>(chosen.size());
  SparseArray result = dispatch_dtype(x.dtype(), [&]<class T>() {
    Builder<T> out;
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I *idx = X.indices.data<I>(), *ptr = X.indptr.data<I>();
      const T* v = X.data.data<T>();
      for (int64_t line : chosen) {
        out.indices.insert(out.indices.end(), idx + ptr[line], idx + ptr[line + 1]);
        out.data.insert(out.data.end(), v + ptr[line], v + ptr[line + 1]);
        out.end_line();
      }
    });
    return out.finish(lines, axis == 0 ? count : x.rows(), axis == 0 ? x.cols() : count, x.dtype());
  });
  return result.as_format(x.format());
}

SparseArray window(const SparseArray& x, int64_t row_start, int64_t row_stop, int64_t col_start, int64_t col_stop) {
  const Compressed X = prepare(x, x.dtype());
  const bool csr = x.format() == SparseFormat::Csr;
  const int64_t major_start = csr ? row_start : col_start, major_stop = csr ? row_stop : col_stop;
  const int64_t minor_start = csr ? col_start : row_start, minor_stop = csr ? col_stop : row_stop;
  return dispatch_dtype(x.dtype(), [&]<class T>() {
    Builder<T> out;
    dispatch_index(X.index_dtype(), [&]<class I>() {
      const I *idx = X.indices.data<I>(), *ptr = X.indptr.data<I>();
      const T* v = X.data.data<T>();
      for (int64_t line = major_start; line < major_stop; ++line) {
        for (int64_t q = ptr[line]; q < ptr[line + 1]; ++q)
          if (idx[q] >= minor_start && idx[q] < minor_stop) {
            out.indices.push_back(idx[q] - minor_start);
            out.data.push_back(v[q]);
          }
        out.end_line();
      }
    });
    return out.finish(x.format(), row_stop - row_start, col_stop - col_start, x.dtype());
  });
}

}  // namespace hypatia::sparse_kernels
