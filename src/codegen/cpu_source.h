// C++ source for the CPU backend's generated kernels. A function's kernels go into one translation
// unit: the prelude (the scalar definitions the reference uses, and block math functions calling the
// vector math library's variants), then one extern "C" function per kernel.
#pragma once
#include <string>
#include <vector>

#include "ops/fused_elemwise.h"

namespace hypatia {

// An elementwise kernel: the scalar program, and which inputs are scalars by their static type
// (read once per call rather than per element).
struct ElemwiseKernelSpec {
  Composite composite;
  std::vector<bool> scalar_inputs;
  // Inputs whose static type broadcasts along the last axis: read once per row, so a row of
  // (m, 1) + (m, n) still runs as a vector loop.
  std::vector<bool> invariant_inner;
  bool operator==(const ElemwiseKernelSpec&) const = default;
};

// A reduction kernel: sum, prod, max or min of a one-output composite over the middle axis of a
// (K1, R, K2) view of the broadcast operands.
struct ReduceKernelSpec {
  Composite composite;
  std::vector<bool> scalar_inputs;
  // Inputs whose static type broadcasts along the reduced axes (e.g. logsumexp's max) or along the
  // kept axes after them: read once per loop instead of per element.
  std::vector<bool> invariant_r, invariant_k2;
  ReduceKind kind;
  bool operator==(const ReduceKernelSpec&) const = default;
};
// sizes = {K1, R, K2}; data = the output (K1 * K2 contiguous values), then the inputs; strides: three
// per input (along K1, R and K2, in elements).
using ReduceKernelFn = void (*)(const int64_t* sizes, char* const* data, const int64_t* strides, int threads);
std::string render_reduce_kernel(const ReduceKernelSpec& spec, const std::string& symbol);

// The generated kernels' calling convention. Operands are the outputs, then the inputs; `strides`
// holds ndim strides (in elements) per operand, row-major, over dimensions the caller collapsed.
using ElemwiseKernelFn = void (*)(int64_t ndim, const int64_t* shape, char* const* data, const int64_t* strides,
                                  int threads);

// The kernel's function definition, named `symbol`. Callers name kernels by a hash of their
// definition, so equal kernels share a name across functions and processes.
std::string render_elemwise_kernel(const ElemwiseKernelSpec& spec, const std::string& symbol);
// The libm functions generated kernels call in blocks of 8 lanes (cpu_source.cpp's "Block form"), and
// their number of arguments.
const std::vector<std::string>& block_math_functions();
int math_function_arity(const std::string& name);
// A function of the vector math library, with the x86 ISA of the variant the block math calls ('e': AVX-512,
// 'd': AVX2, 'b': SSE): the widest the CPU and the library both have for it, of those the module cache
// offers (AVX2 and SSE: module_cache.cpp says why not AVX-512).
struct VectorMathFunction {
  std::string name;
  char isa;
};
// The lanes of one call of the prelude's block math functions (hypatia_block_<name>); kernels run vector
// math in blocks of a multiple of it.
constexpr int kBlockMathLanes = 16;
// What every translation unit starts with: the scalar definitions, and the block math functions, which
// call the vector math library's variants of `vector_functions` and libm for the others. The module cache
// chooses them from the library it links and the CPU. Without complex numbers the prelude is lean (no
// <cmath> or <complex>: scalar_math.h says why).
std::string cpu_module_prelude(const std::vector<VectorMathFunction>& vector_functions, bool complex_numbers);
// Whether a kernel of this composite computes with complex numbers (its module needs <complex>).
bool uses_complex_numbers(const Composite& composite);
// The rest of a translation unit: the given function definitions.
std::string render_cpu_module(const std::vector<std::string>& definitions);

// 64-bit FNV-1a: stable across processes and builds, for symbols and cache keys.
uint64_t stable_hash(const std::string& text, uint64_t seed = 0xcbf29ce484222325ull);
std::string hex64(uint64_t value);

}  // namespace hypatia
