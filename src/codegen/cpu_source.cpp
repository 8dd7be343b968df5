#include "codegen/cpu_source.h"

#include <sstream>

#include "codegen/embedded_sources.h"

namespace hypatia {
namespace {

std::string c_type(DType dtype) {
  switch (dtype) {
#define HYPATIA_C_TYPE(name, ctype, str) \
  case DType::name: return #ctype;
    HYPATIA_FOR_EACH_DTYPE(HYPATIA_C_TYPE)
#undef HYPATIA_C_TYPE
  }
  __builtin_unreachable();
}

bool is_transcendental(ScalarOpId id) {
  switch (id) {
    case ScalarOpId::exp: case ScalarOpId::exp2: case ScalarOpId::log: case ScalarOpId::log2: case ScalarOpId::log10:
    case ScalarOpId::log1p: case ScalarOpId::expm1: case ScalarOpId::tanh: case ScalarOpId::sigmoid:
    case ScalarOpId::softplus: case ScalarOpId::sin: case ScalarOpId::cos: case ScalarOpId::tan: case ScalarOpId::arcsin:
    case ScalarOpId::arccos: case ScalarOpId::arctan: case ScalarOpId::sinh: case ScalarOpId::cosh: case ScalarOpId::erf:
    case ScalarOpId::arcsinh: case ScalarOpId::arccosh: case ScalarOpId::arctanh:
    case ScalarOpId::erfc: case ScalarOpId::pow: case ScalarOpId::arctan2: case ScalarOpId::sqrt: case ScalarOpId::true_div:
    case ScalarOpId::gamma: case ScalarOpId::gammaln: case ScalarOpId::psi: case ScalarOpId::tri_gamma:
    case ScalarOpId::polygamma: case ScalarOpId::gammainc: case ScalarOpId::gammaincc: case ScalarOpId::gammau:
    case ScalarOpId::gammal: case ScalarOpId::chi2sf: case ScalarOpId::erfinv: case ScalarOpId::erfcinv:
    case ScalarOpId::erfcx: case ScalarOpId::i0: case ScalarOpId::i1: case ScalarOpId::iv: case ScalarOpId::j0:
    case ScalarOpId::j1: case ScalarOpId::jv: case ScalarOpId::log1mexp:
      return true;
    default: return false;
  }
}

}  // namespace

const std::vector<std::string>& vectorizable_math_functions() {
  static const std::vector<std::string> names = {"exp",  "exp2", "log", "log2", "log10", "log1p", "expm1", "tanh",
                                                 "sin",  "cos",  "tan", "asin", "acos",  "atan",  "sinh",  "cosh",
                                                 "asinh", "acosh", "atanh", "erf",  "erfc", "pow", "atan2", "fmod"};
  return names;
}

int math_function_arity(const std::string& name) { return name == "pow" || name == "atan2" || name == "fmod" ? 2 : 1; }


uint64_t stable_hash(const std::string& text, uint64_t seed) {
  uint64_t h = seed;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string hex64(uint64_t value) {
  static const char* digits = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, value >>= 4) text[i] = digits[value & 15];
  return text;
}

namespace {

// The statements computing every instruction of `composite` from v0..v{n-1} (the inputs' values):
// "const float v3 = static_cast<float>(hypatia::scalar_math::exp(v2));".
std::string render_instructions(const Composite& composite, const std::string& indent) {
  std::ostringstream b;
  const int num_inputs = composite.num_inputs();
  for (size_t n = 0; n < composite.code.size(); ++n) {
    const Composite::Instruction& instruction = composite.code[n];
    const std::string compute = c_type(instruction.typing.compute), result = c_type(instruction.typing.out);
    b << indent << "const " << result << " v" << num_inputs + static_cast<int>(n) << " = static_cast<" << result
      << ">(hypatia::scalar_math::" << scalar_op_info(instruction.op.id).name << "(";
    for (size_t a = 0; a < instruction.args.size(); ++a) {
      const int ref = instruction.args[a];
      b << (a ? ", " : "");
      if (composite.dtype_of(ref) == instruction.typing.compute) b << "v" << ref;
      else b << "hypatia::scalar_math::convert<" << compute << ">(v" << ref << ")";
    }
    b << "));\n";
  }
  return b.str();
}

int composite_cost(const Composite& composite) {
  int cost = 0;
  for (const Composite::Instruction& instruction : composite.code) cost += is_transcendental(instruction.op.id) ? 16 : 1;
  return std::max(cost, 1);
}

}  // namespace

std::string render_reduce_kernel(const ReduceKernelSpec& spec, const std::string& symbol) {
  const Composite& composite = spec.composite;
  const int num_inputs = composite.num_inputs();
  const DType value = composite.dtype_of(composite.outputs[0]), result = reduce_output_dtype(spec.kind, value);
  const bool additive = spec.kind == ReduceKind::Sum || spec.kind == ReduceKind::Prod;
  // Floats accumulate in double and integers in uint64 (wrapping), as the reference does; max and
  // min keep the value type and propagate NaN.
  // float16 max and min compare in float32 (std::numeric_limits knows no _Float16 in GCC 12).
  const bool half = value == DType::Float16;
  const std::string acc = !additive           ? (half ? "float" : c_type(value))
                          : is_float(value)    ? "double"
                          : is_complex(value)  ? "std::complex<double>"
                                               : "uint64_t";
  std::string init, combine;
  switch (spec.kind) {
    case ReduceKind::Sum: init = "Acc(0)"; combine = "acc + static_cast<Acc>(VALUE)"; break;
    case ReduceKind::Prod: init = "Acc(1)"; combine = "acc * static_cast<Acc>(VALUE)"; break;
    case ReduceKind::Max:
      init = is_float(value) ? "-std::numeric_limits<Acc>::infinity()" : "std::numeric_limits<Acc>::lowest()";
      combine = "hypatia::scalar_math::maximum(acc, VALUE)";
      break;
    case ReduceKind::Min:
      init = is_float(value) ? "std::numeric_limits<Acc>::infinity()" : "std::numeric_limits<Acc>::max()";
      combine = "hypatia::scalar_math::minimum(acc, VALUE)";
      break;
    default: throw Error("[codegen] no generated kernel for " + std::string("any/all"));
  }
  // acc_name combined with `operand` (default: the composite's result).
  auto combined = [&](const std::string& acc_name, std::string operand = "") {
    std::string text = combine;
    text.replace(text.find("acc"), 3, acc_name);
    // Integers reach a uint64 accumulator through int64, sign-extended as the reference does.
    if (operand.empty()) operand = "v" + std::to_string(composite.outputs[0]);
    if (additive && !is_inexact(value)) operand = "static_cast<int64_t>(" + operand + ")";
    if (!additive && half) operand = "static_cast<float>(" + operand + ")";
    text.replace(text.find("VALUE"), 5, operand);
    return text;
  };
  // In the unit-stride loops an invariant input is read once, before the loop (as h<i>). `row`
  // names the row pointers (q<i><row>, h<i><row>) where several rows are read in one loop.
  auto loads = [&](const std::string& position, const char* stride_prefix, bool unit, const std::vector<bool>& invariant,
                   const std::string& row = "") {
    std::ostringstream b;
    for (int i = 0; i < num_inputs; ++i) {
      b << "          const " << c_type(composite.input_dtypes[i]) << " v" << i << " = ";
      if (spec.scalar_inputs[i]) b << "s" << i << ";\n";
      else if (unit && invariant[i]) b << "h" << i << row << ";\n";
      else if (unit) b << "q" << i << row << "[" << position << "];\n";
      else b << "q" << i << "[" << position << " * " << stride_prefix << i << "];\n";
    }
    return b.str();
  };
  auto hoisted = [&](const std::vector<bool>& invariant, const std::string& indent, const std::string& row = "") {
    std::ostringstream b;
    for (int i = 0; i < num_inputs; ++i)
      if (!spec.scalar_inputs[i] && invariant[i])
        b << indent << "const " << c_type(composite.input_dtypes[i]) << " h" << i << row << " = q" << i << row << "[0];\n";
    return b.str();
  };
  // Outer reductions read kRows rows per pass over a tile of accumulators: the tile is loaded and
  // stored once per kRows values instead of per value (twice as fast on sum(axis=0)). Fewer rows
  // for costly composites keep the unrolled loop small.
  const int rows_per_pass = composite_cost(composite) <= 2 ? 8 : 4;
  std::ostringstream out;
  out << "// " << Reduce(spec.kind, {}).name() << " of " << composite.str() << "\n";
  out << "extern \"C\" void " << symbol
      << "(const int64_t* sizes, char* const* data, const int64_t* strides, int threads) {\n"
      << "  using Acc = " << acc << ";\n"
      << "  " << c_type(result) << "* const o = reinterpret_cast<" << c_type(result) << "*>(data[0]);\n";
  for (int i = 0; i < num_inputs; ++i) {
    const std::string type = c_type(composite.input_dtypes[i]);
    if (spec.scalar_inputs[i])
      out << "  const " << type << " s" << i << " = *reinterpret_cast<const " << type << "*>(data[" << 1 + i << "]);\n";
    else
      out << "  const " << type << "* const p" << i << " = reinterpret_cast<const " << type << "*>(data[" << 1 + i << "]);\n"
          << "  const int64_t a" << i << " = strides[" << 3 * i << "], b" << i << " = strides[" << 3 * i + 1 << "], c" << i
          << " = strides[" << 3 * i + 2 << "];\n";
  }
  out << "  const int64_t K1 = sizes[0], R = sizes[1], K2 = sizes[2];\n"
         "  bool unit_r = true, unit_k2 = true;\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "  unit_r = unit_r && b" << i << " == " << (spec.invariant_r[i] ? 0 : 1) << ";\n  unit_k2 = unit_k2 && c" << i
          << " == " << (spec.invariant_k2[i] ? 0 : 1) << ";\n";
  out << "  constexpr int64_t kWidth = 512, kRows = " << rows_per_pass << ";\n"
         "  const int64_t chunks = K2 == 1 ? 1 : (K2 + kWidth - 1) / kWidth;\n"
         "  auto item = [&](int64_t index) {\n"
         "    const int64_t k1 = index / chunks, chunk = index % chunks;\n"
         "    if (K2 == 1) {\n"
         "      Acc acc = " << init << ";\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "      const " << c_type(composite.input_dtypes[i]) << "* __restrict q" << i << " = p" << i << " + k1 * a" << i << ";\n";
  // Max and min vectorize through a declared reduction that keeps their NaN propagation.
  // OpenMP reduces arithmetic types only; a complex sum runs as a plain loop.
  const std::string simd = is_complex(value)               ? ""
                           : spec.kind == ReduceKind::Sum    ? "#pragma omp simd reduction(+:acc)\n"
                           : spec.kind == ReduceKind::Prod ? "#pragma omp simd reduction(*:acc)\n"
                                                           : "#pragma omp simd reduction(extremum:acc)\n";
  if (!additive)
    out << "#pragma omp declare reduction(extremum : Acc : omp_out = hypatia::scalar_math::"
        << (spec.kind == ReduceKind::Max ? "maximum" : "minimum") << "(omp_out, omp_in)) initializer(omp_priv = " << init
        << ")\n";
  out << "      if (unit_r) {\n" << hoisted(spec.invariant_r, "        ") << simd
      << "        for (int64_t r = 0; r < R; ++r) {\n" << loads("r", "b", true, spec.invariant_r)
      << render_instructions(composite, "          ")
      << "          acc = " << combined("acc") << ";\n        }\n"
      << "      } else {\n"
      << "        for (int64_t r = 0; r < R; ++r) {\n" << loads("r", "b", false, spec.invariant_r)
      << render_instructions(composite, "          ")
      << "          acc = " << combined("acc") << ";\n        }\n"
      << "      }\n"
      << "      o[k1] = static_cast<" << c_type(result) << ">(acc);\n"
      << "      return;\n"
      << "    }\n"
      << "    const int64_t begin = chunk * kWidth, end = begin + kWidth < K2 ? begin + kWidth : K2;\n"
      << "    Acc accs[kWidth];\n"
      << "    for (int64_t k = 0; k < end - begin; ++k) accs[k] = " << init << ";\n"
      << "    int64_t r = 0;\n"
      << "    if (unit_k2) {\n"
      << "      for (; r + kRows <= R; r += kRows) {\n";
  for (int row = 0; row < rows_per_pass; ++row)
    for (int i = 0; i < num_inputs; ++i)
      if (!spec.scalar_inputs[i])
        out << "        const " << c_type(composite.input_dtypes[i]) << "* __restrict q" << i << "_" << row << " = p" << i
            << " + k1 * a" << i << " + (r + " << row << ") * b" << i << ";\n";
  for (int row = 0; row < rows_per_pass; ++row) out << hoisted(spec.invariant_k2, "        ", "_" + std::to_string(row));
  out << "#pragma omp simd\n"
         "        for (int64_t k = begin; k < end; ++k) {\n"
         "          Acc part = " << init << ";\n";
  for (int row = 0; row < rows_per_pass; ++row)
    out << "          {\n" << loads("k", "c", true, spec.invariant_k2, "_" + std::to_string(row))
        << render_instructions(composite, "          ") << "          part = " << combined("part") << ";\n          }\n";
  out << "          accs[k - begin] = " << combined("accs[k - begin]", "part") << ";\n"
         "        }\n"
         "      }\n"
         "    }\n"
         "    for (; r < R; ++r) {\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "      const " << c_type(composite.input_dtypes[i]) << "* __restrict q" << i << " = p" << i << " + k1 * a" << i
          << " + r * b" << i << ";\n";
  out << "      if (unit_k2) {\n" << hoisted(spec.invariant_k2, "        ") << "#pragma omp simd\n"
         "        for (int64_t k = begin; k < end; ++k) {\n" << loads("k", "c", true, spec.invariant_k2)
      << render_instructions(composite, "          ")
      << "          accs[k - begin] = " << combined("accs[k - begin]") << ";\n        }\n"
      << "      } else {\n"
         "        for (int64_t k = begin; k < end; ++k) {\n" << loads("k", "c", false, spec.invariant_k2)
      << render_instructions(composite, "          ")
      << "          accs[k - begin] = " << combined("accs[k - begin]") << ";\n        }\n"
      << "      }\n"
      << "    }\n"
      << "    for (int64_t k = begin; k < end; ++k) o[k1 * K2 + k] = static_cast<" << c_type(result) << ">(accs[k - begin]);\n"
      << "  };\n"
      << "  const int64_t items = K1 * chunks;\n"
      << "  constexpr int64_t kCost = " << composite_cost(composite) << ";\n"
         "#ifdef _OPENMP\n"
         "  if (threads > 1 && items > 1 && K1 * R * K2 * kCost >= (int64_t{1} << 20)) {\n"
         "#pragma omp parallel for num_threads(threads) schedule(static)\n"
         "    for (int64_t index = 0; index < items; ++index) item(index);\n"
         "    return;\n"
         "  }\n"
         "#endif\n"
         "  for (int64_t index = 0; index < items; ++index) item(index);\n"
         "}\n";
  return out.str();
}

std::string render_elemwise_kernel(const ElemwiseKernelSpec& spec, const std::string& symbol) {
  const Composite& composite = spec.composite;
  const int num_inputs = composite.num_inputs();
  const int num_outputs = static_cast<int>(composite.outputs.size());
  const int num_operands = num_outputs + num_inputs;
  const int cost = composite_cost(composite);
  std::ostringstream out;
  auto is_scalar = [&](int operand) { return operand >= num_outputs && spec.scalar_inputs[operand - num_outputs]; };

  out << "// " << composite.str() << "\n";
  out << "extern \"C\" void " << symbol
      << "(int64_t ndim, const int64_t* shape, char* const* data, const int64_t* strides, int threads) {\n";
  for (int k = 0; k < num_outputs; ++k)
    out << "  " << c_type(composite.dtype_of(composite.outputs[k])) << "* const o" << k << " = reinterpret_cast<"
        << c_type(composite.dtype_of(composite.outputs[k])) << "*>(data[" << k << "]);\n";
  for (int i = 0; i < num_inputs; ++i) {
    const std::string type = c_type(composite.input_dtypes[i]);
    if (spec.scalar_inputs[i])
      out << "  const " << type << " s" << i << " = *reinterpret_cast<const " << type << "*>(data[" << num_outputs + i << "]);\n";
    else
      out << "  const " << type << "* const p" << i << " = reinterpret_cast<const " << type << "*>(data[" << num_outputs + i
          << "]);\n";
  }
  auto is_invariant = [&](int operand) { return operand >= num_outputs && spec.invariant_inner[operand - num_outputs]; };
  out << "  constexpr int kOperands = " << num_operands << ";\n";
  out << "  constexpr bool kScalar[kOperands] = {";
  for (int k = 0; k < num_operands; ++k) out << (k ? ", " : "") << (is_scalar(k) ? "true" : "false");
  out << "};\n";
  out << "  constexpr int64_t kUnitStride[kOperands] = {";  // 0 for inputs read once per row
  for (int k = 0; k < num_operands; ++k) out << (k ? ", " : "") << (is_invariant(k) ? 0 : 1);
  out << "};\n";
  out << "  const int64_t inner = shape[ndim - 1];\n"
         "  int64_t total = inner;\n"
         "  for (int64_t a = 0; a + 1 < ndim; ++a) total *= shape[a];\n"
         "  bool unit = true;\n"
         "  for (int k = 0; k < kOperands; ++k) unit = unit && (kScalar[k] || strides[k * ndim + ndim - 1] == kUnitStride[k]);\n";
  for (int k = 0; k < num_operands; ++k)
    if (!is_scalar(k)) out << "  const int64_t q" << k << " = strides[" << k << " * ndim + ndim - 1];\n";

  // The element body: load the inputs, run the instructions, store the outputs.
  auto body = [&](bool unit_stride) {
    std::ostringstream b;
    auto index = [&](int operand) { return unit_stride ? std::string("[x]") : "[x * q" + std::to_string(operand) + "]"; };
    for (int i = 0; i < num_inputs; ++i) {
      b << "        const " << c_type(composite.input_dtypes[i]) << " v" << i << " = ";
      if (spec.scalar_inputs[i]) b << "s" << i << ";\n";
      else if (unit_stride && spec.invariant_inner[i]) b << "h" << i << ";\n";
      else b << "r" << num_outputs + i << index(num_outputs + i) << ";\n";
    }
    b << render_instructions(composite, "        ");
    for (int k = 0; k < num_outputs; ++k)
      b << "        r" << k << index(k) << " = static_cast<" << c_type(composite.dtype_of(composite.outputs[k])) << ">(v"
        << composite.outputs[k] << ");\n";
    return b.str();
  };

  // A range of the flattened index space: row by row, each row's base found by unravelling its index.
  // No __restrict: an in-place update's output is one of the inputs (omp simd still vectorizes).
  out << "  auto run_range = [&](int64_t start, int64_t stop) {\n"
         "    int64_t row = start / inner, j = start % inner;\n"
         "    while (start < stop) {\n"
         "      const int64_t end = inner < j + (stop - start) ? inner : j + (stop - start);\n"
         "      int64_t offset[kOperands] = {};\n"
         "      for (int64_t a = ndim - 2, r = row; a >= 0; --a) {\n"
         "        const int64_t i = r % shape[a];\n"
         "        r /= shape[a];\n"
         "        for (int k = 0; k < kOperands; ++k) offset[k] += i * strides[k * ndim + a];\n"
         "      }\n";
  for (int k = 0; k < num_outputs; ++k)
    out << "      " << c_type(composite.dtype_of(composite.outputs[k])) << "* r" << k << " = o" << k << " + offset["
        << k << "];\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "      const " << c_type(composite.input_dtypes[i]) << "* r" << num_outputs + i << " = p" << i
          << " + offset[" << num_outputs + i << "];\n";
  out << "      if (unit) {\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i] && spec.invariant_inner[i])
      out << "        const " << c_type(composite.input_dtypes[i]) << " h" << i << " = r" << num_outputs + i << "[0];\n";
  out << "#pragma omp simd\n"
         "        for (int64_t x = j; x < end; ++x) {\n"
      << body(true)
      << "        }\n"
         "      } else {\n"
         "        for (int64_t x = j; x < end; ++x) {\n"
      << body(false)
      << "        }\n"
         "      }\n"
         "      start += end - j;\n"
         "      j = 0;\n"
         "      ++row;\n"
         "    }\n"
         "  };\n";
  // Threads only pay off on enough work to hide waking them: about 2^20 simple operations, fewer
  // elements when costly.
  out << "  constexpr int64_t kCost = " << cost << ";\n"
         "#ifdef _OPENMP\n"
         "  if (threads > 1 && total * kCost >= (int64_t{1} << 20)) {\n"
         "#pragma omp parallel num_threads(threads)\n"
         "    {\n"
         "      const int64_t parts = omp_get_num_threads(), part = omp_get_thread_num();\n"
         "      const int64_t chunk = (total + parts - 1) / parts;\n"
         "      const int64_t begin = part * chunk < total ? part * chunk : total;\n"
         "      run_range(begin, begin + chunk < total ? begin + chunk : total);\n"
         "    }\n"
         "    return;\n"
         "  }\n"
         "#endif\n"
         "  run_range(0, total);\n"
         "}\n";
  return out.str();
}

std::string cpu_module_prelude(const std::vector<std::string>& vector_functions) {
  std::ostringstream out;
  out << "// Generated by Hypatia: what the kernels of every compiled function include.\n"
         "#include <cstdint>\n"
         "#ifdef _OPENMP\n"
         "#include <omp.h>\n"
         "#endif\n"
         "#define HYPATIA_GENERATED_MODULE 1\n"
      << kScalarMathSource << "\nextern \"C\" {\n";
  for (const std::string& name : vector_functions) {
    const std::string params = math_function_arity(name) == 2 ? "(double, double)" : "(double)";
    const std::string float_params = math_function_arity(name) == 2 ? "(float, float)" : "(float)";
    out << "#pragma omp declare simd notinbranch\ndouble " << name << params << ";\n"
        << "#pragma omp declare simd notinbranch\nfloat " << name << "f" << float_params << ";\n";
  }
  out << "}\n";
  return out.str();
}

std::string render_cpu_module(const std::vector<std::string>& definitions) {
  std::string out = "// Generated by Hypatia: the kernels of one compiled function.\n";
  for (const std::string& definition : definitions) out += definition + "\n";
  return out;
}

}  // namespace hypatia
