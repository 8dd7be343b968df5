// GPU kernel source for fused elementwise loops and reductions: the same Composite the CPU renderer prints
// as C++, rendered once and printed as OpenCL C or as CUDA C++ (the dialects differ only by a small table
// of spellings: the kernel's declaration, the address space, the thread index, a prelude). Each work item
// computes one output element; operands are read through per-axis element strides (0 where broadcast)
// and offsets, passed with the shape in one small int64 buffer.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ops/fused_elemwise.h"

namespace hypatia {

enum class GpuDialect : uint8_t { OpenCL, Cuda };

// The kernel type of a dtype (bool is uchar); nullopt for dtypes kernels do not take (complex; float64
// where the device lacks doubles) and for float16, which kernels store and hold in different types:
std::optional<std::string> gpu_type(DType dtype, bool has_double);
// a dtype's type in device memory (float16: its bits, a ushort) and in a kernel's registers (float16: the
// float of equal value, rounded back to float16 after each operation); otherwise gpu_type.
std::optional<std::string> gpu_stored_type(DType dtype, bool has_double);
std::optional<std::string> gpu_held_type(DType dtype, bool has_double);

// The kernel `name` computing `composite` (outputs first, then inputs, then the int64 layout buffer and
// the element count); nullopt when an instruction or dtype has no spelling (the node then runs on the
// host). Layout buffer: ndim, the shape, each operand's strides, each operand's element offset
// (operands: outputs first).
std::optional<std::string> render_gpu_elemwise(const Composite& composite, const std::string& name, bool has_double,
                                               GpuDialect dialect = GpuDialect::OpenCL);

// The kernel `name` reducing (sum, prod, max, min, any, all; result `dtype`) the one output of `composite` over some
// axes: a work item per kept element, looping over the reduced ones, accumulating as the CPU kernels do
// (floats in double where the device has it). Arguments: the output, the inputs, the int64 layout buffer
// (the kept rank and sizes, the reduced rank and sizes, then per input its kept strides, its reduced
// strides and its offset), the number of outputs, of reduced elements and of chunks.
// With `chunks` (the last argument) above 1, work item g reduces the g % chunks-th of chunks equal parts
// of the reduced elements of kept element g / chunks; a `partial` kernel stores that in the accumulator's
// type (reduce_partial_dtype) for a second reduction over the chunks to finish.
std::optional<std::string> render_gpu_reduce(const Composite& composite, ReduceKind kind, DType dtype, const std::string& name,
                                             bool has_double, GpuDialect dialect = GpuDialect::OpenCL, bool partial = false);
DType reduce_partial_dtype(ReduceKind kind, DType dtype, bool has_double);

// The kernel `name` of the cross-entropy of each row of a `dtype` matrix against an integer label
// (CrossentropyCategorical1Hot): one work item per row; from logits, logsumexp(row) - row[label] shifted
// by the row's max (accumulated in double where the device has it), else -log(row[label]). A label
// outside 0..classes-1 sets bad[0] to 1 (the caller raises IndexError). Arguments: out, p, labels, bad
// (an int), then the int64 rows, classes, p's two strides and offset, the labels' stride and offset.
std::optional<std::string> render_gpu_crossentropy(DType dtype, DType label_dtype, bool from_logits, const std::string& name,
                                                   bool has_double, GpuDialect dialect = GpuDialect::OpenCL);

// The kernel `name` drawing standard uniform or normal `dtype` values exactly as random::Generator does
// (Philox4x32-10 in double, Box-Muller for normals): work item j computes Philox block counter + j and
// writes elements 2j and 2j + 1. Arguments: out, then the int64 count, key and counter. nullopt without
// doubles (the draw then stays on the host).
std::optional<std::string> render_gpu_random(bool normal, DType dtype, const std::string& name, bool has_double,
                                             GpuDialect dialect = GpuDialect::OpenCL);

// The kernel `name` of x[i0, i1, ...] for integer index arrays (of `index_dtypes`) on some axes of a
// `dtype` array (AdvancedSubtensor): a work item per element of the contiguous result; negative indices
// count from the end; one out of bounds sets bad[0] to 1 (the caller raises). Arguments: out, x, the
// index arrays, bad (an int), the int64 layout buffer (the result's rank and shape; the strides over the
// result's axes of x (0 along the index dimensions) and of each index array (0 along x's axes, broadcast
// strides along the index dimensions); x's and each index's offsets; per indexed axis its size and x's
// stride), then the element count.
std::optional<std::string> render_gpu_take(DType dtype, const std::vector<DType>& index_dtypes, const std::string& name,
                                           bool has_double, GpuDialect dialect = GpuDialect::OpenCL);

// Kernels along one axis take a work item per row (every position of the other axes) and the arguments:
// out, x, the int64 row layout buffer (the rank of the other axes, their sizes, x's strides on them,
// out's strides on them), then the int64 row count, the axis length, x's and out's strides along the
// axis (out's unused where out drops the axis), and x's offset.

// softmax (or log-softmax) of a `dtype` array along one axis, computed as Softmax::perform does (the
// row's max subtracted, exp summed in double where the device has it).
std::optional<std::string> render_gpu_softmax(DType dtype, bool log, const std::string& name, bool has_double,
                                              GpuDialect dialect = GpuDialect::OpenCL);

// argmax / argmin (int64 result) of a `dtype` array along one axis: the first extreme, a NaN winning,
// as ArgReduce does; the axis must not be empty.
std::optional<std::string> render_gpu_arg_reduce(DType dtype, bool is_max, const std::string& name, bool has_double,
                                                 GpuDialect dialect = GpuDialect::OpenCL);

// cumsum / cumprod of a `dtype` array along one axis in `out_dtype`, step by step as CumOp does
// (integers wrapping).
std::optional<std::string> render_gpu_cumulative(DType dtype, DType out_dtype, bool product, const std::string& name, bool has_double,
                                                 GpuDialect dialect = GpuDialect::OpenCL);

// out = (accumulate ? out : 0) + scale[0] * a @ b for a sparse a (its values, indices and indptr, contiguous) and a
// dense contiguous b (rows of n): by_rows (csr), one work item per element of out (lines * n items); by columns
// (csc), one work item per column of out (n items) walking every stored entry, so no two items write one element.
std::optional<std::string> render_gpu_sparse_product(DType dtype, DType indices_dtype, DType indptr_dtype, bool by_rows,
                                                     const std::string& name, bool has_double, GpuDialect dialect);

// The kernel `name` assigning (`set`) or adding a contiguous value into out at x[i0, i1, ...]
// (AdvancedIncSubtensor: x[...] = value, np.add.at): a work item per element of x's other axes, walking
// the index positions in order (repeats accumulate; the last assignment stays). value holds the index
// positions first, then x's other axes. Arguments: out, value, the index arrays, bad (an int), the int64
// layout buffer (see the kernel's text), then the other axes' element count and the index positions'.
std::optional<std::string> render_gpu_put(DType dtype, const std::vector<DType>& index_dtypes, bool set, const std::string& name,
                                          bool has_double, GpuDialect dialect = GpuDialect::OpenCL);

// One pass of a stable merge sort of the rows along one axis of a `dtype` array (argsort; NaN last): a
// work item per element, moving element p of the permutation `perm` (the identity where `first`) from
// its sorted run of `width` to its place in the merged run of 2 * width, found by binary search in the
// other run. Arguments: out (int64 rows x length), x, perm (the same), the int64 row layout buffer (the
// rank of the other axes, their sizes, x's strides on them), then the int64 rows, length, x's stride
// along the axis and offset, width, first.
std::optional<std::string> render_gpu_merge_pass(DType dtype, const std::string& name, bool has_double,
                                                 GpuDialect dialect = GpuDialect::OpenCL);

// np.searchsorted(x, v, side) of a sorted vector x (NaN last) for each element of v: a work item per
// element, a binary search in the common dtype. Arguments: out (int64, contiguous), x, v, the int64 layout
// buffer (v's rank, shape, strides, offset), then the int64 count, x's length, stride and offset.
std::optional<std::string> render_gpu_searchsorted(DType x_dtype, DType v_dtype, bool right, const std::string& name, bool has_double,
                                                   GpuDialect dialect = GpuDialect::OpenCL);

// np.add.at along one axis (inc_along_axis, the gradient of take_along_axis): out at each index's position
// on the axis plus the value beside the index; a work item per line along the axis, in order. An index
// out of bounds sets bad[0] to 1. Arguments: out, value, indices, bad, the int64 layout buffer (see the
// kernel's text), then the int64 line count and the axis length.
std::optional<std::string> render_gpu_inc_along_axis(DType dtype, DType index_dtype, const std::string& name, bool has_double,
                                                     GpuDialect dialect = GpuDialect::OpenCL);

// The kernel `name` multiplying each of `count` contiguous `dtype` (float32 or float64) values by a factor
// passed as the bits of a double (of a float where the device lacks doubles), computed as the host does
// (in double where the device has it). Arguments: out, then the int64 count and the factor's bits.
std::optional<std::string> render_gpu_scale(DType dtype, const std::string& name, bool has_double,
                                            GpuDialect dialect = GpuDialect::OpenCL);
// The kernel `name` zeroing the imaginary parts of the first and (where `even`) last values of each of
// `rows` contiguous rows of `length` complex values, stored as pairs of `dtype` (float32 or float64): the
// parts a complex-to-real transform ignores (frequency 0 and n / 2). Arguments: the values, then the int64
// rows, length and even.
std::optional<std::string> render_gpu_real_edges(DType dtype, const std::string& name, bool has_double,
                                                 GpuDialect dialect = GpuDialect::OpenCL);
// Kernels the device's linear algebra runs between the library's calls, on a contiguous batch of `count`
// row-major n x n matrices (float32 or float64):
// the rows of each n x k right-hand side exchanged as LAPACK's int32 pivots say (row i with row pivots[i] - 1,
// for i ascending or descending): a work item per column of each entry; a pivot outside 1..n sets bad[0].
// Arguments: x, pivots, bad, then the int64 count, n, k, ascending.
std::optional<std::string> render_gpu_pivot_rows(DType dtype, const std::string& name, bool has_double,
                                                 GpuDialect dialect = GpuDialect::OpenCL);
// the triangle above (lower) or below the diagonal zeroed: a work item per element. Arguments: m, then the
// int64 count, n, lower.
std::optional<std::string> render_gpu_keep_triangle(DType dtype, const std::string& name, bool has_double,
                                                    GpuDialect dialect = GpuDialect::OpenCL);
// the determinant from LU factors and LAPACK's pivots, as ops/linalg.cpp's lu_determinant (in double where
// the device has it): det into first, or (logarithm) the sign into first and log|det| into second; a pivot
// outside 1..n sets bad[0]. A work item per entry. Arguments: first, second, lu, pivots, bad, then the
// int64 count, n.
std::optional<std::string> render_gpu_lu_determinant(DType dtype, bool logarithm, const std::string& name, bool has_double,
                                                     GpuDialect dialect = GpuDialect::OpenCL);
// per entry in flags (int32): with `diagonal`, 1 + the first zero on the diagonal (0 where none), else 1
// where a value is NaN or infinite: a work item per entry. Arguments: m, flags, then the int64 count, n.
std::optional<std::string> render_gpu_matrix_flags(DType dtype, bool diagonal, const std::string& name, bool has_double,
                                                   GpuDialect dialect = GpuDialect::OpenCL);
}  // namespace hypatia
