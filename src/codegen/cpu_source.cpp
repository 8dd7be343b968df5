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
    case ScalarOpId::erfc: case ScalarOpId::pow: case ScalarOpId::arctan2: case ScalarOpId::sqrt: case ScalarOpId::true_div:
      return true;
    default: return false;
  }
}

}  // namespace

const std::vector<std::string>& vectorizable_math_functions() {
  static const std::vector<std::string> names = {"exp",  "exp2", "log", "log2", "log10", "log1p", "expm1", "tanh",
                                                 "sin",  "cos",  "tan", "asin", "acos",  "atan",  "sinh",  "cosh",
                                                 "erf",  "erfc", "pow", "atan2", "fmod"};
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

std::string render_elemwise_kernel(const ElemwiseKernelSpec& spec, const std::string& symbol) {
  const Composite& composite = spec.composite;
  const int num_inputs = composite.num_inputs();
  const int num_outputs = static_cast<int>(composite.outputs.size());
  const int num_operands = num_outputs + num_inputs;
  int cost = 0;
  for (const Composite::Instruction& instruction : composite.code) cost += is_transcendental(instruction.op.id) ? 16 : 1;
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
  out << "  constexpr int kOperands = " << num_operands << ";\n";
  out << "  constexpr bool kScalar[kOperands] = {";
  for (int k = 0; k < num_operands; ++k) out << (k ? ", " : "") << (is_scalar(k) ? "true" : "false");
  out << "};\n";
  out << "  const int64_t inner = shape[ndim - 1];\n"
         "  int64_t total = inner;\n"
         "  for (int64_t a = 0; a + 1 < ndim; ++a) total *= shape[a];\n"
         "  bool unit = true;\n"
         "  for (int k = 0; k < kOperands; ++k) unit = unit && (kScalar[k] || strides[k * ndim + ndim - 1] == 1);\n";
  for (int k = 0; k < num_operands; ++k)
    if (!is_scalar(k)) out << "  const int64_t q" << k << " = strides[" << k << " * ndim + ndim - 1];\n";

  // The element body: load the inputs, run the instructions, store the outputs.
  auto body = [&](bool unit_stride) {
    std::ostringstream b;
    auto index = [&](int operand) { return unit_stride ? std::string("[x]") : "[x * q" + std::to_string(operand) + "]"; };
    for (int i = 0; i < num_inputs; ++i) {
      b << "        const " << c_type(composite.input_dtypes[i]) << " v" << i << " = ";
      if (spec.scalar_inputs[i]) b << "s" << i << ";\n";
      else b << "r" << num_outputs + i << index(num_outputs + i) << ";\n";
    }
    for (size_t n = 0; n < composite.code.size(); ++n) {
      const Composite::Instruction& instruction = composite.code[n];
      const std::string compute = c_type(instruction.typing.compute), result = c_type(instruction.typing.out);
      b << "        const " << result << " v" << num_inputs + static_cast<int>(n) << " = static_cast<" << result
        << ">(hypatia::scalar_math::" << scalar_op_info(instruction.op.id).name << "(";
      for (size_t a = 0; a < instruction.args.size(); ++a) {
        const int ref = instruction.args[a];
        b << (a ? ", " : "");
        if (composite.dtype_of(ref) == instruction.typing.compute) b << "v" << ref;
        else b << "hypatia::scalar_math::convert<" << compute << ">(v" << ref << ")";
      }
      b << "));\n";
    }
    for (int k = 0; k < num_outputs; ++k)
      b << "        r" << k << index(k) << " = static_cast<" << c_type(composite.dtype_of(composite.outputs[k])) << ">(v"
        << composite.outputs[k] << ");\n";
    return b.str();
  };

  // A range of the flattened index space: row by row, each row's base found by unravelling its index.
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
    out << "      " << c_type(composite.dtype_of(composite.outputs[k])) << "* __restrict r" << k << " = o" << k << " + offset["
        << k << "];\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "      const " << c_type(composite.input_dtypes[i]) << "* __restrict r" << num_outputs + i << " = p" << i
          << " + offset[" << num_outputs + i << "];\n";
  out << "      if (unit) {\n"
         "#pragma omp simd\n"
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
  out << "  constexpr int64_t kCost = " << std::max(cost, 1) << ";\n"
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
