// The GPU kernel dialect: every scalar op of the table, in every dtype it takes, and the reductions, are
// rendered once and printed as OpenCL C and as CUDA C++. The OpenCL kernels build on the machine's
// OpenCL device (PoCL); the CUDA ones compile with NVRTC to a cubin for a current architecture even with
// no GPU here. A kernel that does not compile is a failing test.
#include <gtest/gtest.h>

#include "backend/cuda/nvrtc.h"
#include "backend/opencl/runtime.h"
#include "codegen/gpu_source.h"
#include "hypatia/hypatia.h"
#include "ops/fused_elemwise.h"
#include "test_util.h"

namespace hp = hypatia;
using hp::DType;
using hp::GpuDialect;

namespace {

struct Rendered {
  std::vector<std::string> names, opencl, cuda;
  int skipped = 0;  // (op, dtype) pairs the dialect cannot spell: those nodes run on the host
};

// Every (op, dtype) the scalar table types, as one-op composites, plus reductions of a fused product.
Rendered render_everything() {
  Rendered out;
  const std::vector<DType> dtypes = {DType::Bool, DType::Int8, DType::Int32, DType::Int64, DType::UInt8, DType::UInt64,
                                     DType::Float16, DType::Float32, DType::Float64, DType::Complex64, DType::Complex128};
  std::vector<hp::ScalarOp> ops;
#define HYPATIA_SCALAR_OP(name, arity, rule, ...) ops.push_back(hp::ScalarOp{hp::ScalarOpId::name});
#include "scalar/scalar_ops.def"
#undef HYPATIA_SCALAR_OP
  for (DType target : {DType::Bool, DType::Int32, DType::Float16, DType::Float32, DType::Float64})
    ops.push_back({hp::ScalarOpId::cast, target});
  auto add = [&](const std::string& name, const std::optional<std::string>& opencl, const std::optional<std::string>& cuda) {
    if (!opencl || !cuda) {
      ++out.skipped;
      return;
    }
    out.names.push_back(name);
    out.opencl.push_back(*opencl);
    out.cuda.push_back(*cuda);
  };
  for (const hp::ScalarOp& op : ops) {
    const int arity = hp::scalar_op_info(op.id).arity;
    for (DType dtype : dtypes) {
      hp::Composite composite;
      composite.input_dtypes.assign(arity, dtype);
      std::vector<int> args(arity);
      for (int i = 0; i < arity; ++i) args[i] = i;
      if (op.id == hp::ScalarOpId::where) composite.input_dtypes[0] = DType::Bool;
      try {
        composite.outputs.push_back(composite.add(op, args));
      } catch (const hp::Error&) {
        continue;  // the table does not take this dtype (sin of bools, bit operations of floats...)
      }
      const std::string name = "k" + std::to_string(out.names.size() + out.skipped) + "_" +
                               std::string(hp::scalar_op_info(op.id).name) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_elemwise(composite, name, true, GpuDialect::OpenCL),
          hp::render_gpu_elemwise(composite, name, true, GpuDialect::Cuda));
    }
  }
  for (DType dtype : {DType::Int32, DType::Int64, DType::UInt64, DType::Float16, DType::Float32, DType::Float64, DType::Complex64})
    for (hp::ReduceKind kind : {hp::ReduceKind::Sum, hp::ReduceKind::Prod, hp::ReduceKind::Max, hp::ReduceKind::Min}) {
      if (hp::is_complex(dtype) && (kind == hp::ReduceKind::Max || kind == hp::ReduceKind::Min)) continue;  // (no order)
      hp::Composite composite;
      composite.input_dtypes = {dtype, dtype};
      const int product = composite.add({hp::ScalarOpId::mul}, {0, 1});
      composite.outputs.push_back(composite.add({hp::ScalarOpId::sqr}, {product}));
      const DType result = kind == hp::ReduceKind::Sum || kind == hp::ReduceKind::Prod
                               ? (hp::is_inexact(dtype) ? dtype : hp::is_unsigned(dtype) ? DType::UInt64 : DType::Int64)
                               : dtype;
      for (bool partial : {false, true}) {  // (one pass, or the first of two)
        const std::string name = "r" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
        add(name, hp::render_gpu_reduce(composite, kind, result, name, true, GpuDialect::OpenCL, partial),
            hp::render_gpu_reduce(composite, kind, result, name, true, GpuDialect::Cuda, partial));
      }
    }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64})
    for (DType label : {DType::Int32, DType::Int64})
      for (bool from_logits : {false, true}) {
        const std::string name = "x" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
        add(name, hp::render_gpu_crossentropy(dtype, label, from_logits, name, true, GpuDialect::OpenCL),
            hp::render_gpu_crossentropy(dtype, label, from_logits, name, true, GpuDialect::Cuda));
      }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64, DType::Complex128, DType::Int64, DType::Bool})
    for (const std::vector<DType>& index : std::vector<std::vector<DType>>{{DType::Int32}, {DType::Int64, DType::UInt8}}) {
      const std::string name = "t" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_take(dtype, index, name, true, GpuDialect::OpenCL), hp::render_gpu_take(dtype, index, name, true, GpuDialect::Cuda));
      for (bool set : {false, true}) {
        const std::string put = "p" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
        add(put, hp::render_gpu_put(dtype, index, set, put, true, GpuDialect::OpenCL),
            hp::render_gpu_put(dtype, index, set, put, true, GpuDialect::Cuda));
      }
    }
  for (DType dtype : {DType::Float32, DType::Float64})
    for (DType index : {DType::Int32, DType::Int64})
      for (bool by_rows : {true, false}) {
        const std::string name = "sp" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
        add(name, hp::render_gpu_sparse_product(dtype, index, index, by_rows, name, true, GpuDialect::OpenCL),
            hp::render_gpu_sparse_product(dtype, index, index, by_rows, name, true, GpuDialect::Cuda));
      }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64})
    for (bool log : {false, true}) {
      const std::string name = "s" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_softmax(dtype, log, name, true, GpuDialect::OpenCL),
          hp::render_gpu_softmax(dtype, log, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float32, DType::Float64, DType::Int32, DType::UInt8, DType::Bool})
    for (hp::ReduceKind kind : {hp::ReduceKind::Any, hp::ReduceKind::All}) {
      hp::Composite composite;
      composite.input_dtypes = {dtype};
      composite.outputs = {0};
      const std::string name = "l" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_reduce(composite, kind, DType::Bool, name, true, GpuDialect::OpenCL),
          hp::render_gpu_reduce(composite, kind, DType::Bool, name, true, GpuDialect::Cuda));
    }
  for (auto [dtype, result] : std::vector<std::pair<DType, DType>>{{DType::Float16, DType::Float16}, {DType::Float32, DType::Float32},
                                                                   {DType::Float64, DType::Float64},
                                                                   {DType::Int32, DType::Int64}, {DType::Bool, DType::Int64},
                                                                   {DType::UInt8, DType::UInt64}})
    for (bool product : {false, true}) {
      const std::string name = "c" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_cumulative(dtype, result, product, name, true, GpuDialect::OpenCL),
          hp::render_gpu_cumulative(dtype, result, product, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64, DType::Int32, DType::UInt8, DType::Bool})
    for (bool is_max : {false, true}) {
      const std::string name = "a" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_arg_reduce(dtype, is_max, name, true, GpuDialect::OpenCL),
          hp::render_gpu_arg_reduce(dtype, is_max, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64})
    for (bool normal : {false, true}) {
      const std::string name = "d" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_random(normal, dtype, name, true, GpuDialect::OpenCL),
          hp::render_gpu_random(normal, dtype, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64, DType::Int32, DType::Int64, DType::UInt8, DType::Bool}) {
    const std::string name = "m" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    add(name, hp::render_gpu_merge_pass(dtype, name, true, GpuDialect::OpenCL), hp::render_gpu_merge_pass(dtype, name, true, GpuDialect::Cuda));
  }
  for (auto [x, v] : std::vector<std::pair<DType, DType>>{{DType::Float64, DType::Float64}, {DType::Int32, DType::Float32},
                                                          {DType::Float16, DType::Float16}, {DType::Int64, DType::UInt8}})
    for (bool right : {false, true}) {
      const std::string name = "q" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(x));
      add(name, hp::render_gpu_searchsorted(x, v, right, name, true, GpuDialect::OpenCL),
          hp::render_gpu_searchsorted(x, v, right, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float16, DType::Float32, DType::Float64, DType::Complex64, DType::Int64})
    for (DType index : {DType::Int32, DType::Int64}) {
      const std::string name = "i" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(name, hp::render_gpu_inc_along_axis(dtype, index, name, true, GpuDialect::OpenCL),
          hp::render_gpu_inc_along_axis(dtype, index, name, true, GpuDialect::Cuda));
    }
  for (DType dtype : {DType::Float32, DType::Float64}) {
    const std::string scale = "s" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    add(scale, hp::render_gpu_scale(dtype, scale, true, GpuDialect::OpenCL), hp::render_gpu_scale(dtype, scale, true, GpuDialect::Cuda));
    const std::string edges = "e" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    add(edges, hp::render_gpu_real_edges(dtype, edges, true, GpuDialect::OpenCL),
        hp::render_gpu_real_edges(dtype, edges, true, GpuDialect::Cuda));
    const std::string pivots = "p" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    add(pivots, hp::render_gpu_pivot_rows(dtype, pivots, true, GpuDialect::OpenCL),
        hp::render_gpu_pivot_rows(dtype, pivots, true, GpuDialect::Cuda));
    const std::string triangle = "t" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    add(triangle, hp::render_gpu_keep_triangle(dtype, triangle, true, GpuDialect::OpenCL),
        hp::render_gpu_keep_triangle(dtype, triangle, true, GpuDialect::Cuda));
    // Devices without doubles: the factor's bits as a float, the determinant accumulated in float.
    const std::string single = "sf" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
    if (dtype == DType::Float32) {
      add(single, hp::render_gpu_scale(dtype, single, false, GpuDialect::OpenCL), hp::render_gpu_scale(dtype, single, false, GpuDialect::Cuda));
      const std::string det = "df" + std::to_string(out.names.size());
      add(det, hp::render_gpu_lu_determinant(dtype, true, det, false, GpuDialect::OpenCL),
          hp::render_gpu_lu_determinant(dtype, true, det, false, GpuDialect::Cuda));
    }
    for (bool logarithm : {false, true}) {
      const std::string det = "d" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(det, hp::render_gpu_lu_determinant(dtype, logarithm, det, true, GpuDialect::OpenCL),
          hp::render_gpu_lu_determinant(dtype, logarithm, det, true, GpuDialect::Cuda));
    }
    for (bool diagonal : {false, true}) {
      const std::string flags = "f" + std::to_string(out.names.size()) + "_" + std::string(hp::dtype_name(dtype));
      add(flags, hp::render_gpu_matrix_flags(dtype, diagonal, flags, true, GpuDialect::OpenCL),
          hp::render_gpu_matrix_flags(dtype, diagonal, flags, true, GpuDialect::Cuda));
    }
  }
  return out;
}

}  // namespace

TEST(GpuKernels, EveryRenderedCudaKernelCompilesWithNvrtc) {
  if (!hp::cuda::nvrtc_available()) GTEST_SKIP() << "NVRTC (the CUDA toolkit's libnvrtc.so) is not installed";
  const Rendered rendered = render_everything();
  ASSERT_GT(rendered.names.size(), 200u);
  std::printf("%zu kernels rendered (%d op and dtype pairs left to the host)\n", rendered.names.size(), rendered.skipped);
  // One translation unit, compiled for a real architecture (a cubin), as a GPU run would load it.
  std::string unit;
  for (const std::string& source : rendered.cuda) unit += source + "\n";
  const hp::cuda::Compiled compiled = hp::cuda::compile(unit, "sm_80");
  EXPECT_TRUE(compiled.ok) << compiled.log.substr(0, 4000);
  EXPECT_FALSE(compiled.cubin.empty());
  for (const std::string& name : rendered.names) EXPECT_NE(compiled.ptx.find(name), std::string::npos) << name;
}

TEST(GpuKernels, EveryRenderedOpenCLKernelBuilds) {
  std::string why;
  const std::string device = hp::testing::first_device(hp::Device::Kind::OpenCL, why);
  if (device.empty()) GTEST_SKIP() << why;
  auto& context = hp::opencl::context_for(hp::Device::parse(device));
  const Rendered rendered = render_everything();
  std::string unit;
  for (const std::string& source : rendered.opencl) unit += source + "\n";
  for (size_t k = 0; k < rendered.names.size(); ++k) {
    if (!context.has_double() && rendered.opencl[k].find("double") != std::string::npos) continue;
    EXPECT_NO_THROW(context.kernel(unit, rendered.names[k])) << rendered.names[k];
  }
  // What the dialect does not spell yet runs on the host; it stays a minority of the table.
  EXPECT_LT(rendered.skipped, static_cast<int>(rendered.names.size()) / 2) << rendered.skipped << " skipped";
}
