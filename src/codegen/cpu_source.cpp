#include "codegen/cpu_source.h"

#include <algorithm>
#include <functional>
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

int math_function_arity(const std::string& name) { return name == "pow" || name == "atan2" ? 2 : 1; }


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

// Block form. A generated module is compiled twice, at -O0 for the first calls and at -O2 for the rest
// (module_cache.h), and both must give the same values, bit for bit (only a NaN's sign and payload may
// differ, as the compiler may swap an addition's operands). Plain arithmetic does at any optimization level
// (no contraction into FMAs, no reassociation); library math would not: the vectorizer calls a vector
// variant in a loop's body and another or the scalar function in its tail, and -O0 calls the scalar one
// everywhere. So modules declare no SIMD variants, and composites with vector math run in blocks of
// kLanes values, where each math call is one explicit call of one variant (hypatia_block_<name> in the
// prelude): every element goes through the same function, whatever the loop, its position or the level.
// A quick build (HYPATIA_QUICK_BUILD) compiles only each loop's general form (strided operands, blocks of
// any length), which computes every value as the fast forms do and in the same order; the optimized build
// adds the fast forms.

// The scalar ops whose float cases run in blocks: the prelude's hypatia_block_<name>, which calls the libm
// function of that name through the vector math library, or (composed) is built from others as
// scalar_math builds it.
struct BlockMath {
  ScalarOpId op;
  const char* name;
  bool composed;
};
constexpr BlockMath kBlockMath[] = {
    {ScalarOpId::exp, "exp", false},       {ScalarOpId::exp2, "exp2", false},     {ScalarOpId::expm1, "expm1", false},
    {ScalarOpId::log, "log", false},       {ScalarOpId::log2, "log2", false},     {ScalarOpId::log10, "log10", false},
    {ScalarOpId::log1p, "log1p", false},   {ScalarOpId::tanh, "tanh", false},     {ScalarOpId::sin, "sin", false},
    {ScalarOpId::cos, "cos", false},       {ScalarOpId::tan, "tan", false},       {ScalarOpId::arcsin, "asin", false},
    {ScalarOpId::arccos, "acos", false},   {ScalarOpId::arctan, "atan", false},   {ScalarOpId::sinh, "sinh", false},
    {ScalarOpId::cosh, "cosh", false},     {ScalarOpId::arcsinh, "asinh", false}, {ScalarOpId::arccosh, "acosh", false},
    {ScalarOpId::arctanh, "atanh", false}, {ScalarOpId::erf, "erf", false},       {ScalarOpId::erfc, "erfc", false},
    {ScalarOpId::pow, "pow", false},       {ScalarOpId::arctan2, "atan2", false}, {ScalarOpId::sigmoid, "sigmoid", true},
    {ScalarOpId::softplus, "softplus", true},
};

// The prelude's block function for an instruction, or null when it runs lane by lane.
const char* block_math_function(const Composite::Instruction& instruction) {
  const DType compute = instruction.typing.compute;
  if (compute != DType::Float32 && compute != DType::Float64) return nullptr;
  for (const BlockMath& row : kBlockMath)
    if (row.op == instruction.op.id) return row.name;
  return nullptr;
}

bool has_block_math(const Composite& composite) {
  for (const Composite::Instruction& instruction : composite.code)
    if (block_math_function(instruction)) return true;
  return false;
}

// A loop over the lanes of a block; `unrolled`: completely, so that the lane arrays become registers.
std::string lane_loop(const std::string& indent, bool unrolled) {
  return (unrolled ? "#pragma GCC unroll 16\n" : "") + indent + "for (int l = 0; l < kLanes; ++l) ";
}

// Declares the inputs' lane arrays: "float v0[kLanes];".
std::string render_block_inputs(const Composite& composite, const std::string& indent) {
  std::ostringstream b;
  for (int i = 0; i < composite.num_inputs(); ++i) b << indent << c_type(composite.input_dtypes[i]) << " v" << i << "[kLanes];\n";
  return b.str();
}

// Computes every instruction over the lanes, from the inputs' arrays the caller filled.
std::string render_block_instructions(const Composite& composite, const std::string& indent) {
  std::ostringstream b;
  const int num_inputs = composite.num_inputs();
  const std::string lanes = indent + "for (int l = 0; l < kLanes; ++l) ";
  for (size_t n = 0; n < composite.code.size(); ++n) {
    const Composite::Instruction& instruction = composite.code[n];
    const int ref = num_inputs + static_cast<int>(n);
    const std::string compute = c_type(instruction.typing.compute), result = c_type(instruction.typing.out);
    b << indent << result << " v" << ref << "[kLanes];\n";
    if (const char* function = block_math_function(instruction)) {
      std::vector<std::string> args;
      for (size_t a = 0; a < instruction.args.size(); ++a) {
        const int arg = instruction.args[a];
        if (composite.dtype_of(arg) == instruction.typing.compute) {
          args.push_back("v" + std::to_string(arg));
          continue;
        }
        const std::string converted = "c" + std::to_string(ref) + "_" + std::to_string(a);
        b << indent << compute << " " << converted << "[kLanes];\n"
          << lanes << converted << "[l] = hypatia::scalar_math::convert<" << compute << ">(v" << arg << "[l]);\n";
        args.push_back(converted);
      }
      const bool same = instruction.typing.out == instruction.typing.compute;
      const std::string target = same ? "v" + std::to_string(ref) : "t" + std::to_string(ref);
      if (!same) b << indent << compute << " " << target << "[kLanes];\n";
      // (kLanes is a multiple of the block functions' lanes.)
      b << indent << "for (int h = 0; h < kLanes; h += kBlockMathLanes) hypatia_block_" << function << "(";
      for (const std::string& arg : args) b << arg << " + h, ";
      b << target << " + h);\n";
      if (!same) b << lanes << "v" << ref << "[l] = static_cast<" << result << ">(" << target << "[l]);\n";
      continue;
    }
    b << lanes << "v" << ref << "[l] = static_cast<" << result << ">(hypatia::scalar_math::"
      << scalar_op_info(instruction.op.id).name << "(";
    for (size_t a = 0; a < instruction.args.size(); ++a) {
      const int arg = instruction.args[a];
      b << (a ? ", " : "");
      if (composite.dtype_of(arg) == instruction.typing.compute) b << "v" << arg << "[l]";
      else b << "hypatia::scalar_math::convert<" << compute << ">(v" << arg << "[l])";
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
  // acc_name combined with `operand` (default: the composite's result). In a whole row's lanes, max and min
  // are scalar_math's running forms (one select: there they vectorize, and the early-return forms did not,
  // max(axis=1) at 3 ms against sum's 1.6); the loops over kept columns vectorize the plain forms better.
  auto combined = [&](const std::string& acc_name, std::string operand = "") {
    std::string text = combine;
    if (acc_name.rfind("lanes", 0) == 0 && (spec.kind == ReduceKind::Max || spec.kind == ReduceKind::Min))
      text.insert(std::string("hypatia::scalar_math::").size(), "running_");
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
  out << "extern \"C\" HYPATIA_EXPORT void " << symbol
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
  // A block of kLanes values of the composite, input i read by `load(i)` at x = `position` (an expression
  // of the lane l).
  auto block_values = [&](const std::string& position, const std::function<std::string(int)>& load, const std::string& indent) {
    std::ostringstream b;
    b << render_block_inputs(composite, indent) << indent << "for (int l = 0; l < kLanes; ++l) {\n"
      << indent << "  const int64_t x = " << position << ";\n";
    for (int i = 0; i < num_inputs; ++i) b << indent << "  v" << i << "[l] = " << load(i) << ";\n";
    b << indent << "}\n" << render_block_instructions(composite, indent);
    return b.str();
  };
  const std::string value_at_l = "v" + std::to_string(composite.outputs[0]) + "[l]";
  // A whole reduced row (K2 == 1) accumulates in kLanes lanes combined pairwise at the end: an order
  // fixed by the source, so the -O0 and -O2 builds agree (an OpenMP SIMD reduction's order is the
  // vectorizer's). Full blocks, then a short one that repeats its last position. A sum or product unrolls
  // its lanes: GCC would keep the accumulators in memory otherwise (sum(axis=1) 40% slower, the sum of
  // logsumexp's exp over rows 10%); max and min (their NaN tests) run faster rolled.
  const bool unrolled = additive;
  auto reduce_row = [&](bool unit) {
    auto load = [&](int i) -> std::string {
      if (spec.scalar_inputs[i]) return "s" + std::to_string(i);
      if (unit && spec.invariant_r[i]) return "h" + std::to_string(i);
      if (unit) return "q" + std::to_string(i) + "[x]";
      return "q" + std::to_string(i) + "[x * b" + std::to_string(i) + "]";
    };
    std::ostringstream b;
    b << "        int64_t r0 = 0;\n"
         "#ifndef HYPATIA_QUICK_BUILD\n"
         "        for (; r0 + kLanes <= R; r0 += kLanes) {\n"
      << block_values("r0 + l", load, "          ")
      << lane_loop("          ", unrolled) << "lanes[l] = " << combined("lanes[l]", value_at_l) << ";\n"
         "        }\n"
         "#endif\n"
         "        for (; r0 < R; r0 += kLanes) {\n"
         "          const int64_t n = R - r0 < kLanes ? R - r0 : kLanes;\n"
      << block_values("r0 + (l < n ? l : n - 1)", load, "          ")
      << "          for (int l = 0; l < n; ++l) lanes[l] = " << combined("lanes[l]", value_at_l) << ";\n"
         "        }\n";
    return b.str();
  };
  // Over outer axes, an item keeps accumulators for up to kWidth columns and reads its rows whole, one
  // stream each (512 columns at a time read 8 rows in 2 KB pieces: 1.4x NumPy's time for sum(axis=0); 4096
  // columns of 5000 took 1.06x the time of the whole rows); items split the columns among the threads, in
  // chunks of equal width. The order of each column's sum does not depend on the split.
  out << "  constexpr int64_t kWidth = 8192, kRows = " << rows_per_pass << ";\n"
         "  constexpr int kLanes = 16;  // four vectors of double accumulators hide the adds' latency\n"
         "  const int64_t parts = threads > 1 ? threads : 1;\n"
         "  int64_t chunks = (K2 + kWidth - 1) / kWidth;\n"
         "  chunks = (chunks + parts - 1) / parts * parts;  // as many for each thread\n"
         "  const int64_t width = K2 <= 1 ? 1 : ((K2 + chunks - 1) / chunks + 15) / 16 * 16;  // <= kWidth\n"
         "  chunks = K2 <= 1 ? 1 : (K2 + width - 1) / width;\n"
         "  auto item = [&](int64_t index) {\n"
         "    const int64_t k1 = index / chunks, chunk = index % chunks;\n"
         "    if (K2 == 1) {\n"
         "      Acc lanes[kLanes];\n"
         "      for (int l = 0; l < kLanes; ++l) lanes[l] = " << init << ";\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i])
      out << "      const " << c_type(composite.input_dtypes[i]) << "* __restrict q" << i << " = p" << i << " + k1 * a" << i << ";\n";
  out << "#ifndef HYPATIA_QUICK_BUILD\n"
         "      if (unit_r) {\n" << hoisted(spec.invariant_r, "        ") << reduce_row(true) << "      } else\n"
         "#endif\n"
         "      {\n" << reduce_row(false) << "      }\n"
      << "      for (int w = kLanes / 2; w > 0; w /= 2)\n"
         "        for (int l = 0; l < w; ++l) lanes[l] = " << combined("lanes[l]", "lanes[l + w]") << ";\n"
      << "      o[k1] = static_cast<" << c_type(result) << ">(lanes[0]);\n"
      << "      return;\n"
      << "    }\n"
    << "    const int64_t begin = chunk * width, end = begin + width < K2 ? begin + width : K2;\n"
      << "    Acc accs[kWidth];\n"
      << "    for (int64_t k = 0; k < end - begin; ++k) accs[k] = " << init << ";\n"
      << "    int64_t r = 0;\n";
  if (has_block_math(composite)) {
    // Vector math runs in blocks along the kept axis, row after row (reduce_row says why).
    auto load = [&](int i) -> std::string {
      const std::string n = std::to_string(i);
      return spec.scalar_inputs[i] ? "s" + n : "p" + n + "[k1 * a" + n + " + r * b" + n + " + x * c" + n + "]";
    };
    // With unit strides along the kept axis, full blocks read each row through its own pointer (the
    // general form's strided addressing and clamped positions made logsumexp over columns 2x slower).
    auto unit_load = [&](int i) -> std::string {
      const std::string n = std::to_string(i);
      return spec.scalar_inputs[i] ? "s" + n : spec.invariant_k2[i] ? "q" + n + "[0]" : "q" + n + "[x]";
    };
    // The block at k0 (`count` lanes of it), added into the columns' accumulators.
    auto block_into_accs = [&](const std::string& position, const std::function<std::string(int)>& loader,
                               const std::string& count, const std::string& indent) {
      return block_values(position, loader, indent) + indent + "for (int l = 0; l < " + count + "; ++l) accs[k0 + l - begin] = " +
             combined("accs[k0 + l - begin]", value_at_l) + ";\n";
    };
    const std::string short_block = "const int64_t n = end - k0 < kLanes ? end - k0 : kLanes;\n";
    out << "#ifndef HYPATIA_QUICK_BUILD\n"
           "    if (unit_k2) {\n"
           "      for (; r < R; ++r) {\n";
    for (int i = 0; i < num_inputs; ++i)
      if (!spec.scalar_inputs[i])
        out << "        const " << c_type(composite.input_dtypes[i]) << "* __restrict q" << i << " = p" << i << " + k1 * a" << i
            << " + r * b" << i << ";\n";
    out << "        int64_t k0 = begin;\n"
           "        for (; k0 + kLanes <= end; k0 += kLanes) {\n"
        << block_into_accs("k0 + l", unit_load, "kLanes", "          ")
        << "        }\n"
           "        for (; k0 < end; k0 += kLanes) {\n"
           "          " << short_block << block_into_accs("k0 + (l < n ? l : n - 1)", unit_load, "n", "          ")
        << "        }\n"
           "      }\n"
           "    } else\n"
           "#endif\n"
           "    {\n"
           "      for (; r < R; ++r) {\n"
           "        for (int64_t k0 = begin; k0 < end; k0 += kLanes) {\n"
           "          " << short_block << block_into_accs("k0 + (l < n ? l : n - 1)", load, "n", "          ")
        << "        }\n"
           "      }\n"
           "    }\n";
  } else {
    out << "    if (unit_k2) {\n"
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
        << "    }\n";
  }
  out << "    for (int64_t k = begin; k < end; ++k) o[k1 * K2 + k] = static_cast<" << c_type(result) << ">(accs[k - begin]);\n"
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
  out << "extern \"C\" HYPATIA_EXPORT void " << symbol
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
  out << "  constexpr int kOperands = " << num_operands << ", kLanes = kBlockMathLanes;\n";
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

  // The same in block form (composites with vector math): loads of kLanes elements (a short last block
  // repeats its last element), the instructions over the lanes, stores of the block's elements.
  auto block_body = [&](bool unit_stride) {
    std::ostringstream b;
    auto index = [&](int operand) { return unit_stride ? std::string("[x]") : "[x * q" + std::to_string(operand) + "]"; };
    // One block at x0: its loads, the instructions, its stores (`count` of them).
    auto block = [&](const std::string& position, const std::string& count) {
      std::ostringstream l;
      l << render_block_inputs(composite, "          ") << "          for (int l = 0; l < kLanes; ++l) {\n"
        << "            const int64_t x = " << position << ";\n";
      for (int i = 0; i < num_inputs; ++i) {
        l << "            v" << i << "[l] = ";
        if (spec.scalar_inputs[i]) l << "s" << i << ";\n";
        else if (unit_stride && spec.invariant_inner[i]) l << "h" << i << ";\n";
        else l << "r" << num_outputs + i << index(num_outputs + i) << ";\n";
      }
      l << "          }\n" << render_block_instructions(composite, "          ")
        << "          for (int l = 0; l < " << count << "; ++l) {\n            const int64_t x = x0 + l;\n";
      for (int k = 0; k < num_outputs; ++k)
        l << "            r" << k << index(k) << " = static_cast<" << c_type(composite.dtype_of(composite.outputs[k])) << ">(v"
          << composite.outputs[k] << "[l]);\n";
      l << "          }\n";
      return l.str();
    };
    b << "        int64_t x0 = j;\n"
         "#ifndef HYPATIA_QUICK_BUILD\n"
         "        for (; x0 + kLanes <= end; x0 += kLanes) {\n" << block("x0 + l", "kLanes") << "        }\n"
         "#endif\n"
         "        for (; x0 < end; x0 += kLanes) {\n"
         "          const int64_t n = end - x0 < kLanes ? end - x0 : kLanes;\n" << block("x0 + (l < n ? l : n - 1)", "n")
      << "        }\n";
    return b.str();
  };
  const bool blocks = has_block_math(composite);

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
  // A quick build compiles the strided loop only: it computes the same values in the same order.
  out << "#ifndef HYPATIA_QUICK_BUILD\n"
         "      if (unit) {\n";
  for (int i = 0; i < num_inputs; ++i)
    if (!spec.scalar_inputs[i] && spec.invariant_inner[i])
      out << "        const " << c_type(composite.input_dtypes[i]) << " h" << i << " = r" << num_outputs + i << "[0];\n";
  if (blocks)
    out << block_body(true) << "      } else\n#endif\n      {\n" << block_body(false) << "      }\n";
  else
    out << "#pragma omp simd\n"
           "        for (int64_t x = j; x < end; ++x) {\n"
        << body(true)
        << "        }\n"
           "      } else\n"
           "#endif\n"
           "      {\n"
           "        for (int64_t x = j; x < end; ++x) {\n"
        << body(false)
        << "        }\n"
           "      }\n";
  out << "      start += end - j;\n"
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

bool uses_complex_numbers(const Composite& composite) {
  for (DType dtype : composite.input_dtypes)
    if (is_complex(dtype)) return true;
  for (const Composite::Instruction& instruction : composite.code)
    if (is_complex(instruction.typing.compute) || is_complex(instruction.typing.out)) return true;
  return false;
}

const std::vector<std::string>& block_math_functions() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> library;
    for (const BlockMath& row : kBlockMath)
      if (!row.composed) library.emplace_back(row.name);
    return library;
  }();
  return names;
}

namespace {

// The prelude's hypatia_block_<name> functions: each applies one function to kBlockMathLanes lanes, through
// one vector variant of the library's (x86's vector-function ABI: ISA letter, lanes, v per argument) where
// it has one, else lane by lane through libm. sigmoid and softplus are built from them as scalar_math builds
// them.
std::string block_math_prelude(const std::vector<VectorMathFunction>& vector_functions) {
  std::ostringstream out;
  const std::string block = std::to_string(kBlockMathLanes);
  out << "constexpr int kBlockMathLanes = " << block << ";\n";
  for (const int bytes : {16, 32, 64})
    out << "typedef float hypatia_vf" << bytes << " __attribute__((vector_size(" << bytes << ")));\n"
        << "typedef double hypatia_vd" << bytes << " __attribute__((vector_size(" << bytes << ")));\n";
  for (const std::string& name : block_math_functions()) {
    const bool binary = math_function_arity(name) == 2;
    char isa = 0;
    for (const VectorMathFunction& function : vector_functions)
      if (function.name == name) isa = function.isa;
    const int bytes = isa == 'e' ? 64 : isa == 'd' ? 32 : 16;
    for (const bool single : {true, false}) {
      const std::string t = single ? "float" : "double", v = std::string(single ? "hypatia_vf" : "hypatia_vd") + std::to_string(bytes);
      const int lanes = bytes / (single ? 4 : 8);
      const std::string symbol = "_ZGV" + std::string(1, isa) + "N" + std::to_string(lanes) + (binary ? "vv_" : "v_") + name + (single ? "f" : "");
      if (isa) out << "extern \"C\" " << v << " " << symbol << (binary ? "(" + v + ", " + v + ");\n" : "(" + v + ");\n");
      out << "inline void hypatia_block_" << name << "(const " << t << "* a, " << (binary ? "const " + t + "* b, " : "") << t
          << "* out) {\n";
      if (isa) {
        out << "  for (int h = 0; h < kBlockMathLanes; h += " << lanes << ") {\n    " << v << " x" << (binary ? ", y" : "") << ";\n"
            << "    __builtin_memcpy(&x, a + h, sizeof x);\n" << (binary ? "    __builtin_memcpy(&y, b + h, sizeof y);\n" : "")
            << "    x = " << symbol << (binary ? "(x, y)" : "(x)") << ";\n    __builtin_memcpy(out + h, &x, sizeof x);\n  }\n";
      } else {
        out << "  for (int l = 0; l < kBlockMathLanes; ++l) out[l] = hypatia::scalar_math::libm::" << name
            << (binary ? "(a[l], b[l])" : "(a[l])") << ";\n";
      }
      out << "}\n";
    }
  }
  out << "template <class T> inline void hypatia_block_sigmoid(const T* a, T* out) {\n"
         "  T t[kBlockMathLanes], e[kBlockMathLanes];\n"
         "  for (int l = 0; l < kBlockMathLanes; ++l) t[l] = -hypatia::scalar_math::libm::fabs(a[l]);\n"
         "  hypatia_block_exp(t, e);\n"
         "  for (int l = 0; l < kBlockMathLanes; ++l) {\n"
         "    const T r = T(1) / (T(1) + e[l]);\n"
         "    out[l] = a[l] >= 0 ? r : e[l] * r;\n"
         "  }\n"
         "}\n"
         "template <class T> inline void hypatia_block_softplus(const T* a, T* out) {\n"
         "  T t[kBlockMathLanes], e[kBlockMathLanes], p[kBlockMathLanes];\n"
         "  for (int l = 0; l < kBlockMathLanes; ++l) t[l] = -hypatia::scalar_math::libm::fabs(a[l]);\n"
         "  hypatia_block_exp(t, e);\n"
         "  hypatia_block_log1p(e, p);\n"
         "  for (int l = 0; l < kBlockMathLanes; ++l) out[l] = (a[l] > 0 ? a[l] : T(0)) + p[l];\n"
         "}\n";
  return out.str();
}

}  // namespace

std::string cpu_module_prelude(const std::vector<VectorMathFunction>& vector_functions, bool complex_numbers) {
  std::ostringstream out;
  out << "// Generated by Hypatia: what the kernels of every compiled function include.\n"
         "#include <cstdint>\n"
         "#ifdef _OPENMP\n"
         "#include <omp.h>\n"
         "#endif\n"
         "#define HYPATIA_GENERATED_MODULE 1\n"
         "#define HYPATIA_EXPORT __attribute__((visibility(\"default\")))  // what the library looks up\n"
      << (complex_numbers ? "#define HYPATIA_MODULE_COMPLEX 1\n" : "") << kScalarMathSource << "\n"
      << block_math_prelude(vector_functions);
  return out.str();
}

std::string render_cpu_module(const std::vector<std::string>& definitions) {
  std::string out = "// Generated by Hypatia: the kernels of one compiled function.\n";
  for (const std::string& definition : definitions) out += definition + "\n";
  return out;
}

}  // namespace hypatia
