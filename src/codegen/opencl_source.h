// OpenCL C source for fused elementwise loops: the same Composite the CPU renderer prints as C++, spelled
// for OpenCL C. Each work item computes one element of the output shape; operands are read through
// per-axis element strides (0 where broadcast), passed with the shape in one small buffer.
#pragma once
#include <optional>
#include <string>

#include "ops/fused_elemwise.h"

namespace hypatia {

// The OpenCL C type of a dtype (bool is uchar); nullopt for dtypes kernels do not take (float16, complex;
// float64 where the device lacks cl_khr_fp64).
std::optional<std::string> opencl_type(DType dtype, bool has_double);

// The kernel `name` computing `composite` (outputs first, then inputs, then the int64 layout buffer and
// the element count); nullopt when an instruction or dtype has no OpenCL spelling (the node then runs
// on the host). Layout buffer: ndim, the shape, each operand's strides, each operand's element offset
// (operands: outputs first).
std::optional<std::string> render_opencl_elemwise(const Composite& composite, const std::string& name, bool has_double);

// The kernel `name` reducing (sum, prod, max, min; result `dtype`) the one output of `composite` over some
// axes: a work item
// per kept element, looping over the reduced ones, accumulating as the CPU kernels do (floats in double where
// the device has it). Arguments: the output, the inputs, the int64 layout buffer (the kept rank and sizes,
// the reduced rank and sizes, then per input its kept strides, its reduced strides and its offset), the
// number of outputs and of reduced elements.
std::optional<std::string> render_opencl_reduce(const Composite& composite, ReduceKind kind, DType dtype,
                                                const std::string& name, bool has_double);

}  // namespace hypatia
