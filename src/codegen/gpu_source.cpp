#include "codegen/gpu_source.h"

#include <map>
#include <sstream>

namespace hypatia {

std::optional<std::string> gpu_type(DType dtype, bool has_double) {
  switch (dtype) {
    case DType::Bool: return "uchar";
    case DType::Int8: return "char";
    case DType::Int16: return "short";
    case DType::Int32: return "int";
    case DType::Int64: return "long";
    case DType::UInt8: return "uchar";
    case DType::UInt16: return "ushort";
    case DType::UInt32: return "uint";
    case DType::UInt64: return "ulong";
    case DType::Float32: return "float";
    case DType::Float64: return has_double ? std::optional<std::string>("double") : std::nullopt;
    // Complex numbers as two-float vectors (.x real, .y imaginary), laid out as std::complex.
    case DType::Complex64: return "float2";
    case DType::Complex128: return has_double ? std::optional<std::string>("double2") : std::nullopt;
    default: return std::nullopt;
  }
}

// Whether kernels of this dtype spell doubles (OpenCL needs the cl_khr_fp64 pragma then).
bool needs_double(DType dtype) { return dtype == DType::Float64 || dtype == DType::Complex128; }

std::optional<std::string> gpu_stored_type(DType dtype, bool has_double) {
  return dtype == DType::Float16 ? std::optional<std::string>("ushort") : gpu_type(dtype, has_double);
}

std::optional<std::string> gpu_held_type(DType dtype, bool has_double) {
  return dtype == DType::Float16 ? std::optional<std::string>("float") : gpu_type(dtype, has_double);
}

namespace {

// Functions kernels call for what one expression cannot say exactly (Python's floor division and modulo,
// integer powers), defined per type as scalar_math.h defines them for the CPU: name -> definition.
using Helpers = std::map<std::string, std::string>;

// The unsigned type of the same width (wrapping arithmetic without signed overflow).
std::string unsigned_of(DType dtype) {
  switch (dtype) {
    case DType::Int8: return "uchar";
    case DType::Int16: return "ushort";
    case DType::Int32: return "uint";
    case DType::Int64: return "ulong";
    default: return *gpu_type(dtype, true);
  }
}

// The helper `op` ("floordiv", "mod", "ipow") for `dtype`, registered in `helpers`; its name.
std::string helper(Helpers& helpers, const std::string& op, DType dtype) {
  const std::string t = *gpu_type(dtype, true), u = unsigned_of(dtype);
  const std::string name = "hp_" + op + "_" + t;
  if (helpers.count(name)) return name;
  std::string body;
  const std::string head = "HP_FUNCTION " + t + " " + name + "(const " + t + " a, const " + t + " b) {\n";
  if (op == "floordiv") {
    if (is_float(dtype))  // NumPy's divmod: the quotient consistent with fmod (1.0 // 0.1 is 9)
      body = "  if (b == 0) return a / b;\n  const " + t + " r = fmod(a, b);\n  " + t + " q = (a - r) / b;\n"
             "  if (r != 0 && ((b < 0) != (r < 0))) q -= 1;\n  if (q == 0) return copysign((" + t + ")0, a / b);\n"
             "  const " + t + " f = floor(q);\n  return q - f > (" + t + ")0.5 ? f + 1 : f;\n";
    else if (dtype == DType::Bool) body = "  return b ? a : 0;\n";
    else if (is_unsigned(dtype)) body = "  return b == 0 ? 0 : a / b;\n";
    else  // division by zero gives 0 (NumPy); b == -1 wraps as negation does
      body = "  if (b == 0) return 0;\n  if (b == -1) return (" + t + ")(0 - (" + u + ")a);\n  " + t + " q = a / b;\n"
             "  if (a % b != 0 && ((a < 0) != (b < 0))) q -= 1;\n  return q;\n";
  } else if (op == "mod") {
    if (is_float(dtype))  // the divisor's sign, zeros included
      body = "  " + t + " r = fmod(a, b);\n  if (r != 0 && ((r < 0) != (b < 0))) r += b;\n"
             "  else if (r == 0) r = copysign((" + t + ")0, b);\n  return r;\n";
    else if (dtype == DType::Bool) body = "  return 0;\n";
    else if (is_unsigned(dtype)) body = "  return b == 0 ? 0 : a % b;\n";
    else
      body = "  if (b == 0 || b == -1) return 0;\n  " + t + " r = a % b;\n  if (r != 0 && ((r < 0) != (b < 0))) r += b;\n"
             "  return r;\n";
  } else {  // ipow: by squaring, wrapping; negative powers exact only for bases 1 and -1 (0 otherwise)
    if (dtype == DType::Bool) body = "  return a || !b;\n";
    else
      body = std::string(is_unsigned(dtype) ? "" : "  if (b < 0) return a == 1 ? 1 : a == -1 ? ((b % 2) ? -1 : 1) : 0;\n") +
             "  " + u + " result = 1, base = (" + u + ")a;\n  for (" + t + " e = b; e > 0; e >>= 1) {\n"
             "    if (e & 1) result *= base;\n    base *= base;\n  }\n  return (" + t + ")result;\n";
  }
  // (Guarded: kernels sharing a translation unit may each define it.)
  helpers[name] = "#ifndef " + name + "_defined\n#define " + name + "_defined\n" + head + body + "}\n#endif\n";
  return name;
}

// float16 values live in memory as their bits (a ushort) and in registers as the float of equal value;
// these convert between the two, rounding to nearest even as NumPy and the CPU's _Float16 do (bit
// operations, so they need neither cl_khr_fp16 nor cuda_fp16.h, and run the same on every device).
void add_half_helpers(Helpers& helpers, bool from_double) {
  if (helpers.count("hp_half") && (!from_double || helpers.count("hp_half_double"))) return;
  helpers["hp_half"] =
      "#ifndef hp_half_defined\n#define hp_half_defined\n"
      "HP_FUNCTION float hp_half_to_float(const ushort h) {\n"
      "  const uint sign = ((uint)h & 0x8000u) << 16, e = ((uint)h >> 10) & 0x1fu, m = (uint)h & 0x3ffu;\n"
      "  if (e == 0x1fu) return as_float(sign | 0x7f800000u | (m << 13));\n"
      "  if (e == 0u) {  // subnormal: m * 2^-24\n"
      "    const float f = (float)m * 5.9604644775390625e-8f;\n"
      "    return sign ? -f : f;\n"
      "  }\n"
      "  return as_float(sign | ((e + 112u) << 23) | (m << 13));\n"
      "}\n"
      "HP_FUNCTION ushort hp_float_to_half(const float f) {\n"
      "  const uint x = as_uint(f), sign = (x >> 16) & 0x8000u, ax = x & 0x7fffffffu;\n"
      "  if (ax > 0x7f800000u) return (ushort)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu));  // NaN, quiet\n"
      "  if (ax >= 0x477ff000u) return (ushort)(sign | 0x7c00u);  // past 65504 + half an ulp: infinity\n"
      "  if (ax < 0x38800000u) return (ushort)(sign | (uint)rint(as_float(ax) * 16777216.0f));  // subnormal\n"
      "  return (ushort)(sign | ((ax + 0xc8000fffu + ((ax >> 13) & 1u)) >> 13));  // rebias, round to even\n"
      "}\n"
      "#endif\n";
  if (from_double)  // (defined after hp_half: the map orders it so)
    helpers["hp_half_double"] =
        "#ifndef hp_half_double_defined\n#define hp_half_double_defined\n"
        "// Rounded to odd at float's 24 bits, then to nearest at half's 11: one correct rounding (24 >= 2 * 11 + 2).\n"
        "HP_FUNCTION ushort hp_double_to_half(const double d) {\n"
        "  float f = (float)d;\n"
        "  if ((double)f != d && d == d && !isinf(f)) {\n"
        "    const uint b = as_uint(f);\n"
        "    if ((b & 1u) == 0u) f = as_float(fabs((double)f) < fabs(d) ? b + 1u : b - 1u);\n"
        "  }\n"
        "  return hp_float_to_half(f);\n"
        "}\n"
        "#endif\n";
}

// prefix followed by n ("v3"; appended: GCC 12 warns falsely of overlapping copies in "v" + std::to_string(n)).
std::string numbered(const char* prefix, int n) {
  std::string text(prefix);
  text += std::to_string(n);
  return text;
}

// A value held in registers (`held`: a float for float16) as it is written to memory in `dtype`;
// `from_double` where the held value is a double (rounded once to float16, not through float).
std::string stored_as(DType dtype, const std::string& held, bool has_double, Helpers& helpers, bool from_double = false) {
  // (Appends: GCC 12 warns falsely of overlapping copies in "(" + text.)
  std::string text = dtype != DType::Float16 ? std::string("(").append(*gpu_type(dtype, has_double)).append(")")
                                             : std::string(from_double ? "hp_double_to_half" : "hp_float_to_half");
  if (dtype == DType::Float16) add_half_helpers(helpers, from_double);
  return text.append("(").append(held).append(")");
}

// The complex arithmetic of `dtype` (complex64: float2, complex128: double2), registered in `helpers`:
// functions hp_c<op>_<type> with the CPU's (std::complex's) meaning, signed zeros on the branch cuts
// included, accurate except near overflow (squares of |z| past the type's range) and, for acosh and acos,
// near their branch points; hp_make_<type>(re, im) builds one. The name suffix.
std::string complex_helpers(Helpers& helpers, DType dtype) {
  const std::string C = *gpu_type(dtype, true), R = dtype == DType::Complex64 ? "float" : "double";
  const std::string x = "_" + C;
  std::string& text = helpers["hp_complex" + x];
  if (!text.empty()) return x;
  const std::string f = "HP_FUNCTION " + C + " hp_c";
  const std::string make = "hp_make" + x;
  text = "#ifndef hp_complex" + x + "_defined\n#define hp_complex" + x + "_defined\n" +
         "HP_FUNCTION " + C + " " + make + "(const " + R + " re, const " + R + " im) {\n  " + C +
         " z;\n  z.x = re;\n  z.y = im;\n  return z;\n}\n" +
         f + "add" + x + "(const " + C + " a, const " + C + " b) { return " + make + "(a.x + b.x, a.y + b.y); }\n" +
         f + "sub" + x + "(const " + C + " a, const " + C + " b) { return " + make + "(a.x - b.x, a.y - b.y); }\n" +
         f + "mul" + x + "(const " + C + " a, const " + C + " b) { return " + make + "(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x); }\n" +
         f + "neg" + x + "(const " + C + " a) { return " + make + "(-a.x, -a.y); }\n" +
         "// Smith's division (no overflow of |b|^2).\n" +
         f + "div" + x + "(const " + C + " a, const " + C + " b) {\n"
         "  if (fabs(b.x) >= fabs(b.y)) {\n"
         "    if (b.x == 0) return " + make + "(a.x / fabs(b.x), a.y / fabs(b.x));\n"
         "    const " + R + " r = b.y / b.x, d = b.x + b.y * r;\n"
         "    return " + make + "((a.x + a.y * r) / d, (a.y - a.x * r) / d);\n"
         "  }\n"
         "  const " + R + " r = b.x / b.y, d = b.x * r + b.y;\n"
         "  return " + make + "((a.x * r + a.y) / d, (a.y * r - a.x) / d);\n"
         "}\n" +
         f + "exp" + x + "(const " + C + " a) {\n"
         "  if (a.y == 0) return " + make + "(exp(a.x), a.y);\n"
         "  const " + R + " e = exp(a.x);\n"
         "  return " + make + "(e * cos(a.y), e * sin(a.y));\n"
         "}\n" +
         f + "log" + x + "(const " + C + " a) { return " + make + "(log(hypot(a.x, a.y)), atan2(a.y, a.x)); }\n" +
         "// The principal root, without cancellation (Kahan).\n" +
         f + "sqrt" + x + "(const " + C + " a) {\n"
         "  if (a.x == 0 && a.y == 0) return " + make + "(0, a.y);\n"
         "  const " + R + " t = sqrt((fabs(a.x) + hypot(a.x, a.y)) / 2);\n"
         "  if (a.x >= 0) return " + make + "(t, a.y / (2 * t));\n"
         "  return " + make + "(fabs(a.y) / (2 * t), copysign(t, a.y));\n"
         "}\n" +
         f + "sin" + x + "(const " + C + " a) { return " + make + "(sin(a.x) * cosh(a.y), cos(a.x) * sinh(a.y)); }\n" +
         f + "cos" + x + "(const " + C + " a) { return " + make + "(cos(a.x) * cosh(a.y), -sin(a.x) * sinh(a.y)); }\n" +
         f + "sinh" + x + "(const " + C + " a) { return " + make + "(sinh(a.x) * cos(a.y), cosh(a.x) * sin(a.y)); }\n" +
         f + "cosh" + x + "(const " + C + " a) { return " + make + "(cosh(a.x) * cos(a.y), sinh(a.x) * sin(a.y)); }\n" +
         "// (Past |x| = 20 tanh is +-1 to double precision, and cosh(2x) would overflow a float.)\n" +
         f + "tanh" + x + "(const " + C + " a) {\n"
         "  if (fabs(a.x) > 20) return " + make + "(copysign((" + R + ")1, a.x), copysign((" + R + ")0, sin(2 * a.y)));\n"
         "  const " + R + " d = cosh(2 * a.x) + cos(2 * a.y);\n"
         "  return " + make + "(sinh(2 * a.x) / d, sin(2 * a.y) / d);\n"
         "}\n" +
         "// tan z = -i tanh(iz), and likewise for the inverse functions below.\n" +
         f + "tan" + x + "(const " + C + " a) {\n  const " + C + " w = hp_ctanh" + x + "(" + make +
         "(-a.y, a.x));\n  return " + make + "(w.y, -w.x);\n}\n" +
         "// log(1 + u), accurate for small u.\n" +
         f + "log1p" + x + "(const " + C + " u) {\n"
         "  return " + make + "((" + R + ")0.5 * log1p(u.x * (2 + u.x) + u.y * u.y), atan2(u.y, 1 + u.x));\n"
         "}\n" +
         "// asinh and atanh are odd and conjugate-symmetric: computed on the first quadrant, their parts take\n"
         "// z's signs, which puts signed zeros on the branch cuts where C99 (and std::complex) puts them.\n"
         "// asinh z = log1p(z + z^2 / (1 + sqrt(1 + z^2))): no cancellation near 0.\n" +
         f + "asinh" + x + "(const " + C + " a) {\n"
         "  const " + C + " w = " + make + "(fabs(a.x), fabs(a.y)), w2 = hp_cmul" + x + "(w, w), one = " + make + "(1, 0);\n"
         "  const " + C + " r = hp_clog1p" + x + "(hp_cadd" + x + "(w, hp_cdiv" + x + "(w2, hp_cadd" + x + "(one, hp_csqrt" + x +
         "(hp_cadd" + x + "(one, w2))))));\n"
         "  return " + make + "(copysign(r.x, a.x), copysign(r.y, a.y));\n"
         "}\n" +
         "// atanh z: real part log(((1 + x)^2 + y^2) / ((1 - x)^2 + y^2)) / 4, imaginary atan2(2y, 1 - x^2 - y^2) / 2.\n" +
         f + "atanh" + x + "(const " + C + " a) {\n"
         "  const " + R + " re = fabs(a.x), im = fabs(a.y);\n"
         "  const " + R + " real = log1p(4 * re / ((1 - re) * (1 - re) + im * im)) / 4;\n"
         "  const " + R + " imag = atan2(2 * im, (1 - re) * (1 + re) - im * im) / 2;\n"
         "  return " + make + "(copysign(real, a.x), copysign(imag, a.y));\n"
         "}\n" +
         "// acosh z = log(z + sqrt(z + 1) sqrt(z - 1)), conjugate-symmetric: computed with Im z >= 0.\n" +
         f + "acosh" + x + "(const " + C + " a) {\n"
         "  const " + C + " w = " + make + "(a.x, fabs(a.y)), one = " + make + "(1, 0);\n"
         "  const " + C + " root = hp_cmul" + x + "(hp_csqrt" + x + "(hp_cadd" + x + "(w, one)), hp_csqrt" + x + "(hp_csub" + x +
         "(w, one)));\n"
         "  const " + C + " r = hp_clog" + x + "(hp_cadd" + x + "(w, root));\n"
         "  return " + make + "(r.x, copysign(r.y, a.y));\n"
         "}\n" +
         f + "asin" + x + "(const " + C + " a) {\n  const " + C + " w = hp_casinh" + x + "(" + make +
         "(-a.y, a.x));\n  return " + make + "(w.y, -w.x);\n}\n" +
         f + "acos" + x + "(const " + C + " a) {\n  const " + C + " w = hp_casin" + x + "(a);\n  return " + make +
         "((" + R + ")1.5707963267948966 - w.x, -w.y);\n}\n" +
         f + "atan" + x + "(const " + C + " a) {\n  const " + C + " w = hp_catanh" + x + "(" + make +
         "(-a.y, a.x));\n  return " + make + "(w.y, -w.x);\n}\n" +
         "// (0 to a power: NumPy's 1, 0 or NaN.)\n" +
         f + "pow" + x + "(const " + C + " a, const " + C + " b) {\n"
         "  if (a.x == 0 && a.y == 0) {\n"
         "    if (b.x == 0 && b.y == 0) return " + make + "(1, 0);\n"
         "    if (b.y == 0 && b.x > 0) return " + make + "(0, 0);\n"
         "    return " + make + "(NAN, NAN);\n"
         "  }\n"
         "  return hp_cexp" + x + "(hp_cmul" + x + "(b, hp_clog" + x + "(a)));\n"
         "}\n" +
         "#endif\n";
  return x;
}

// A value of dtype `from` held in registers, converted to `to` (complex numbers from their parts, a real
// number as a real part).
std::string converted(const std::string& value, DType from, DType to, Helpers& helpers) {
  if (to == DType::Bool)
    return is_complex(from) ? "(uchar)((" + value + ").x != 0 || (" + value + ").y != 0)" : "(uchar)(" + value + " != 0)";
  if (!is_complex(to)) return "(" + *gpu_held_type(to, true) + ")" + (is_complex(from) ? "(" + value + ").x" : value);
  const std::string R = to == DType::Complex64 ? "float" : "double";
  const std::string make = "hp_make" + complex_helpers(helpers, to);
  if (is_complex(from)) return make + "((" + R + ")(" + value + ").x, (" + R + ")(" + value + ").y)";
  return make + "((" + R + ")(" + value + "), 0)";
}

// One instruction of a complex `compute` type as a C expression of its (converted) arguments.
std::optional<std::string> spell_complex(ScalarOpId id, DType compute, const std::vector<std::string>& a, Helpers& helpers) {
  const std::string x = complex_helpers(helpers, compute);
  auto call = [&](const char* op) {
    std::string text = std::string("hp_c") + op + x + "(" + a[0];
    for (size_t k = 1; k < a.size(); ++k) text += ", " + a[k];
    return text + ")";
  };
  const std::string R = compute == DType::Complex64 ? "(float)" : "(double)";
  switch (id) {
    case ScalarOpId::add: return call("add");
    case ScalarOpId::sub: return call("sub");
    case ScalarOpId::mul: return call("mul");
    case ScalarOpId::true_div: return call("div");
    case ScalarOpId::neg: return call("neg");
    case ScalarOpId::sqr: return "hp_cmul" + x + "(" + a[0] + ", " + a[0] + ")";
    case ScalarOpId::reciprocal: return "hp_cdiv" + x + "(hp_make" + x + "(1, 0), " + a[0] + ")";
    case ScalarOpId::abs: return "hypot(" + a[0] + ".x, " + a[0] + ".y)";
    case ScalarOpId::exp: return call("exp");
    case ScalarOpId::exp2: return "hp_cexp" + x + "(hp_cmul" + x + "(" + a[0] + ", hp_make" + x + "(" + R + "0.6931471805599453, 0)))";
    case ScalarOpId::log: return call("log");
    case ScalarOpId::log2:
    case ScalarOpId::log10: {
      const std::string scale = id == ScalarOpId::log2 ? "0.6931471805599453" : "2.302585092994046";
      return "hp_cdiv" + x + "(hp_clog" + x + "(" + a[0] + "), hp_make" + x + "(" + R + scale + ", 0))";
    }
    case ScalarOpId::sqrt: return call("sqrt");
    case ScalarOpId::sin: return call("sin");
    case ScalarOpId::cos: return call("cos");
    case ScalarOpId::tan: return call("tan");
    case ScalarOpId::sinh: return call("sinh");
    case ScalarOpId::cosh: return call("cosh");
    case ScalarOpId::tanh: return call("tanh");
    case ScalarOpId::arcsin: return call("asin");
    case ScalarOpId::arccos: return call("acos");
    case ScalarOpId::arctan: return call("atan");
    case ScalarOpId::arcsinh: return call("asinh");
    case ScalarOpId::arccosh: return call("acosh");
    case ScalarOpId::arctanh: return call("atanh");
    case ScalarOpId::pow: return call("pow");
    case ScalarOpId::eq: return "(" + a[0] + ".x == " + a[1] + ".x && " + a[0] + ".y == " + a[1] + ".y)";
    case ScalarOpId::neq: return "(" + a[0] + ".x != " + a[1] + ".x || " + a[0] + ".y != " + a[1] + ".y)";
    case ScalarOpId::isnan: return "(" + a[0] + ".x != " + a[0] + ".x || " + a[0] + ".y != " + a[0] + ".y)";
    case ScalarOpId::isinf: return "(isinf(" + a[0] + ".x) || isinf(" + a[0] + ".y))";
    case ScalarOpId::real: return a[0] + ".x";
    case ScalarOpId::imag: return a[0] + ".y";
    case ScalarOpId::conj: return "hp_make" + x + "(" + a[0] + ".x, -" + a[0] + ".y)";
    case ScalarOpId::angle: return "atan2(" + a[0] + ".y, " + a[0] + ".x)";
    // (The condition arrives converted to the branches' type, as on the CPU.)
    case ScalarOpId::where: return "((" + a[0] + ".x != 0 || " + a[0] + ".y != 0) ? " + a[1] + " : " + a[2] + ")";
    case ScalarOpId::second: return a[1];
    default: return std::nullopt;
  }
}

// A value read from memory in `dtype`, as it is held in registers.
std::string loaded_as(DType dtype, const std::string& stored, Helpers& helpers) {
  if (dtype != DType::Float16) return stored;
  add_half_helpers(helpers, false);
  return "hp_half_to_float(" + stored + ")";
}

// A value held in registers, rounded as storing it in `dtype` and reading it back would (float16: to
// half precision; other dtypes: a conversion).
std::string rounded_to(DType dtype, const std::string& held, bool has_double, Helpers& helpers, bool from_double = false) {
  return loaded_as(dtype, stored_as(dtype, held, has_double, helpers, from_double), helpers);
}

// NaN after every number, as ArgSort's and searchsorted's comparisons on the CPU (a and b held in `dtype`).
std::string sorts_before(DType dtype, const std::string& a, const std::string& b) {
  if (!is_float(dtype)) return "(" + a + " < " + b + ")";
  return "(" + a + " < " + b + " || (" + b + " != " + b + " && " + a + " == " + a + "))";
}

// The sum of two `dtype` values read from memory, as written back (the scatter-adds' increment).
std::string sum_stored(DType dtype, const std::string& a, const std::string& b, bool has_double, Helpers& helpers) {
  if (is_complex(dtype)) return "hp_cadd" + complex_helpers(helpers, dtype) + "(" + a + ", " + b + ")";
  return stored_as(dtype, loaded_as(dtype, a, helpers) + " + " + loaded_as(dtype, b, helpers), has_double, helpers);
}

// One instruction as a C expression (valid OpenCL C and CUDA C++) of its (already converted) arguments, with NumPy's (and the
// reference's) semantics; nullopt where this dialect has no spelling yet.
std::optional<std::string> spell(ScalarOpId id, DType compute, const std::vector<std::string>& a, Helpers& helpers) {
  if (is_complex(compute)) return spell_complex(id, compute, a, helpers);
  const bool real = is_float(compute);
  auto fn = [&](const char* name) { return std::string(name) + "(" + a[0] + ")"; };
  switch (id) {
    // The complex parts of a real number (NumPy's), and a complex number from real parts.
    case ScalarOpId::real:
    case ScalarOpId::conj: return a[0];
    case ScalarOpId::imag: return std::string("0");
    case ScalarOpId::angle:
      if (real) return "atan2((" + *gpu_held_type(compute, true) + ")0, " + a[0] + ")";
      break;
    case ScalarOpId::complex:
      if (real) return "hp_make" + complex_helpers(helpers, complex_dtype(compute)) + "(" + a[0] + ", " + a[1] + ")";
      break;
    case ScalarOpId::add: return "(" + a[0] + " + " + a[1] + ")";
    case ScalarOpId::sub: return "(" + a[0] + " - " + a[1] + ")";
    case ScalarOpId::mul: return "(" + a[0] + " * " + a[1] + ")";
    case ScalarOpId::neg: return "(-" + a[0] + ")";
    case ScalarOpId::sqr: return "(" + a[0] + " * " + a[0] + ")";
    case ScalarOpId::second: return a[1];
    case ScalarOpId::maximum:
      return real ? "((" + a[0] + " != " + a[0] + " || " + a[0] + " > " + a[1] + ") ? " + a[0] + " : " + a[1] + ")"
                  : "(" + a[0] + " < " + a[1] + " ? " + a[1] + " : " + a[0] + ")";
    case ScalarOpId::minimum:
      return real ? "((" + a[0] + " != " + a[0] + " || " + a[0] + " < " + a[1] + ") ? " + a[0] + " : " + a[1] + ")"
                  : "(" + a[1] + " < " + a[0] + " ? " + a[1] + " : " + a[0] + ")";
    case ScalarOpId::clip:
      return "(" + a[0] + " < " + a[1] + " ? " + a[1] + " : (" + a[0] + " > " + a[2] + " ? " + a[2] + " : " + a[0] + "))";
    // (OpenCL C takes only integer conditions in ?:.)
    case ScalarOpId::where: return "((" + a[0] + ") != 0 ? " + a[1] + " : " + a[2] + ")";
    case ScalarOpId::eq: return "(" + a[0] + " == " + a[1] + ")";
    case ScalarOpId::neq: return "(" + a[0] + " != " + a[1] + ")";
    case ScalarOpId::lt: return "(" + a[0] + " < " + a[1] + ")";
    case ScalarOpId::le: return "(" + a[0] + " <= " + a[1] + ")";
    case ScalarOpId::gt: return "(" + a[0] + " > " + a[1] + ")";
    case ScalarOpId::ge: return "(" + a[0] + " >= " + a[1] + ")";
    case ScalarOpId::logical_not: return "(!" + a[0] + ")";
    case ScalarOpId::logical_and: return "(" + a[0] + " && " + a[1] + ")";
    case ScalarOpId::logical_or: return "(" + a[0] + " || " + a[1] + ")";
    case ScalarOpId::logical_xor: return "((" + a[0] + " != 0) != (" + a[1] + " != 0))";
    case ScalarOpId::bitwise_and:
      if (!real) return "(" + a[0] + " & " + a[1] + ")";
      break;
    case ScalarOpId::bitwise_or:
      if (!real) return "(" + a[0] + " | " + a[1] + ")";
      break;
    case ScalarOpId::bitwise_xor:
      if (!real) return "(" + a[0] + " ^ " + a[1] + ")";
      break;
    case ScalarOpId::invert:
      if (compute == DType::Bool) return "(!" + a[0] + ")";
      if (!real) return "(~" + a[0] + ")";
      break;
    default: break;
  }
  auto call = [&](const char* op) { return helper(helpers, op, compute) + "(" + a[0] + ", " + a[1] + ")"; };
  if (id == ScalarOpId::int_div) return call("floordiv");
  if (id == ScalarOpId::mod) return call("mod");
  if (id == ScalarOpId::pow && !real) return call("ipow");
  if (!real) {
    const std::string t = *gpu_type(compute, true), u = unsigned_of(compute);
    const bool is_signed = !is_unsigned(compute) && compute != DType::Bool;
    switch (id) {
      case ScalarOpId::abs:  // (the most negative value stays itself, as NumPy's wraps)
        return is_signed ? "(" + a[0] + " < 0 ? (" + t + ")(0 - (" + u + ")" + a[0] + ") : " + a[0] + ")" : a[0];
      case ScalarOpId::sign: return is_signed ? "((" + a[0] + " > 0) - (" + a[0] + " < 0))" : "(" + a[0] + " > 0)";
      case ScalarOpId::round: return a[0];
      case ScalarOpId::isnan:
      case ScalarOpId::isinf: return std::string("0");
      default: return std::nullopt;  // the rest takes floats only
    }
  }
  switch (id) {
    case ScalarOpId::true_div: return "(" + a[0] + " / " + a[1] + ")";
    case ScalarOpId::abs: return fn("fabs");
    case ScalarOpId::exp: return fn("exp");
    case ScalarOpId::exp2: return fn("exp2");
    case ScalarOpId::expm1: return fn("expm1");
    case ScalarOpId::log: return fn("log");
    case ScalarOpId::log2: return fn("log2");
    case ScalarOpId::log10: return fn("log10");
    case ScalarOpId::log1p: return fn("log1p");
    case ScalarOpId::sqrt: return fn("sqrt");
    case ScalarOpId::reciprocal: return "(1 / " + a[0] + ")";
    case ScalarOpId::tanh: return fn("tanh");
    case ScalarOpId::sin: return fn("sin");
    case ScalarOpId::cos: return fn("cos");
    case ScalarOpId::tan: return fn("tan");
    case ScalarOpId::arcsin: return fn("asin");
    case ScalarOpId::arccos: return fn("acos");
    case ScalarOpId::arctan: return fn("atan");
    case ScalarOpId::sinh: return fn("sinh");
    case ScalarOpId::cosh: return fn("cosh");
    case ScalarOpId::arcsinh: return fn("asinh");
    case ScalarOpId::arccosh: return fn("acosh");
    case ScalarOpId::arctanh: return fn("atanh");
    case ScalarOpId::erf: return fn("erf");
    case ScalarOpId::erfc: return fn("erfc");
    case ScalarOpId::floor: return fn("floor");
    case ScalarOpId::ceil: return fn("ceil");
    case ScalarOpId::trunc: return fn("trunc");
    case ScalarOpId::round: return fn("rint");  // half to even, as NumPy
    case ScalarOpId::pow: return "pow(" + a[0] + ", " + a[1] + ")";
    case ScalarOpId::arctan2: return "atan2(" + a[0] + ", " + a[1] + ")";
    case ScalarOpId::isnan: return "(" + a[0] + " != " + a[0] + ")";
    case ScalarOpId::isinf: return "(isinf(" + a[0] + ") != 0)";
    case ScalarOpId::sign: return "(" + a[0] + " > 0 ? 1 : (" + a[0] + " < 0 ? -1 : " + a[0] + "))";
    // As the reference: stable for large |x|, never exp of a large positive number.
    case ScalarOpId::sigmoid: return "(" + a[0] + " >= 0 ? 1 / (1 + exp(-" + a[0] + ")) : exp(" + a[0] + ") / (1 + exp(" + a[0] + ")))";
    case ScalarOpId::softplus: return "(fmax(" + a[0] + ", 0) + log1p(exp(-fabs(" + a[0] + "))))";
    // (The other special functions have no spelling in both dialects: their nodes run on the host.)
    case ScalarOpId::gamma: return fn("tgamma");
    case ScalarOpId::gammaln: return fn("lgamma");
    case ScalarOpId::log1mexp:
      return "(" + a[0] + " > -0.6931471805599453 ? log(-expm1(" + a[0] + ")) : log1p(-exp(" + a[0] + ")))";
    default: return std::nullopt;
  }
}

}  // namespace

namespace {

// What differs between the dialects: the kernel's declaration, the global address space, the thread's
// index, and a prelude (CUDA gets OpenCL's type names and constants; OpenCL enables doubles).
struct Spelling {
  const char* kernel;
  const char* global;
  const char* thread_index;
};

Spelling spelling(GpuDialect dialect) {
  if (dialect == GpuDialect::Cuda) return {"extern \"C\" __global__ void", "", "((long)blockIdx.x * blockDim.x + threadIdx.x)"};
  return {"__kernel void", "__global ", "get_global_id(0)"};
}

std::string prelude(GpuDialect dialect, bool uses_double) {
  if (dialect == GpuDialect::Cuda)
    return "typedef unsigned char uchar;\ntypedef unsigned short ushort;\ntypedef unsigned int uint;\n"
           "typedef unsigned long ulong;\n#ifndef INFINITY\n#define INFINITY __int_as_float(0x7f800000)\n#endif\n"
           "#ifndef NAN\n#define NAN __int_as_float(0x7fffffff)\n#endif\n"
           "#define LONG_MIN (-9223372036854775807L - 1)\n#define LONG_MAX 9223372036854775807L\n"
           "#define ULONG_MAX 18446744073709551615UL\n"
           "#ifndef hp_bits_defined\n#define hp_bits_defined\n"
           "static __device__ __forceinline__ uint as_uint(const float x) { return __float_as_uint(x); }\n"
           "static __device__ __forceinline__ float as_float(const uint x) { return __uint_as_float(x); }\n#endif\n";
  // (No contraction into fused multiply-adds, as the CPU kernels and NVRTC's --fmad=false.)
  return std::string(uses_double ? "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n" : "") + "#pragma OPENCL FP_CONTRACT OFF\n";
}

// The helpers' definitions, in the dialect (CUDA's are device functions).
std::string helper_definitions(const Helpers& helpers, GpuDialect dialect) {
  std::string text;
  for (const auto& [name, definition] : helpers) text += definition;
  const std::string qualifier = dialect == GpuDialect::Cuda ? "static __device__" : "static";
  for (size_t at = text.find("HP_FUNCTION"); at != std::string::npos; at = text.find("HP_FUNCTION", at))
    text.replace(at, 11, qualifier);
  return text;
}

// Kernel text adding to offsets[k] (k < operands) the position of flat element `index` in row-major
// order over `rank` sizes at sizes[axis], each axis weighted by the operand's stride `stride(k, axis)`.
std::string add_position(const std::string& indent, const std::string& index, const std::string& rank,
                         const std::string& sizes, const std::string& offsets, int operands, const std::string& stride) {
  return indent + "for (long axis = " + rank + " - 1, rest = " + index + "; axis >= 0; --axis) {\n" + indent +
         "  const long i = rest % " + sizes + "[axis];\n" + indent + "  rest /= " + sizes + "[axis];\n" + indent +
         "  for (int k = 0; k < " + std::to_string(operands) + "; ++k) " + offsets + "[k] += i * " + stride + ";\n" + indent +
         "}\n";
}

// The statements computing every instruction from v0..v{n-1}; nullopt where one has no spelling.
// (float16 values are held as floats, each result rounded to float16 as the CPU's _Float16 stores it.)
std::optional<std::string> render_body(const Composite& composite, bool has_double, bool& uses_double, Helpers& helpers) {
  const int num_inputs = composite.num_inputs();
  std::ostringstream body;
  auto type_of = [&](DType dtype) {
    uses_double = uses_double || needs_double(dtype);
    return gpu_held_type(dtype, has_double);
  };
  for (int i = 0; i < num_inputs; ++i)
    if (!type_of(composite.input_dtypes[i])) return std::nullopt;
  for (size_t n = 0; n < composite.code.size(); ++n) {
    const Composite::Instruction& instruction = composite.code[n];
    const auto compute = type_of(instruction.typing.compute), out = type_of(instruction.typing.out);
    if (!compute || !out) return std::nullopt;
    std::vector<std::string> args;
    for (int ref : instruction.args) {
      const std::string v = numbered("v", ref);
      if (composite.dtype_of(ref) == instruction.typing.compute) {
        args.push_back(v);
      } else {
        if (!type_of(composite.dtype_of(ref))) return std::nullopt;
        args.push_back(converted(v, composite.dtype_of(ref), instruction.typing.compute, helpers));
      }
    }
    std::optional<std::string> expression;
    bool from_double = instruction.typing.compute == DType::Float64;
    if (instruction.op.id == ScalarOpId::cast && instruction.typing.out == DType::Float16) {
      // Straight from the source's value (a double rounds once to float16, as NumPy's astype).
      expression = numbered("v", instruction.args[0]);
      from_double = composite.dtype_of(instruction.args[0]) == DType::Float64;
    } else if (instruction.op.id == ScalarOpId::cast) {
      expression = instruction.typing.out == DType::Bool ? "(" + args[0] + " != 0)" : args[0];
      if (is_float(instruction.typing.compute) && is_integer(instruction.typing.out)) expression = "trunc(" + args[0] + ")";
    } else {
      expression = spell(instruction.op.id, instruction.typing.compute, args, helpers);
    }
    if (!expression) return std::nullopt;
    if (instruction.typing.out == DType::Float16)
      expression = rounded_to(DType::Float16, *expression, has_double, helpers, from_double);
    body << "  const " << *out << " v" << num_inputs + static_cast<int>(n) << " = (" << *out << ")(" << *expression << ");\n";
  }
  return body.str();
}

}  // namespace

std::optional<std::string> render_gpu_elemwise(const Composite& composite, const std::string& name, bool has_double,
                                               GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const int num_inputs = composite.num_inputs();
  bool uses_double = false;
  auto type_of = [&](DType dtype) {
    uses_double = uses_double || needs_double(dtype);
    return gpu_stored_type(dtype, has_double);
  };
  Helpers helpers;
  const auto body = render_body(composite, has_double, uses_double, helpers);
  if (!body) return std::nullopt;
  for (int ref : composite.outputs)
    if (!type_of(composite.dtype_of(ref))) return std::nullopt;
  const int num_outputs = static_cast<int>(composite.outputs.size());
  const int operands = num_outputs + num_inputs;
  std::ostringstream loads, stores;
  for (int i = 0; i < num_inputs; ++i)
    loads << "  const " << *gpu_held_type(composite.input_dtypes[i], has_double) << " v" << i << " = "
          << loaded_as(composite.input_dtypes[i], numbered("p", i) + "[offset[" + std::to_string(num_outputs + i) + "]]", helpers)
          << ";\n";
  for (int k = 0; k < num_outputs; ++k)  // (a float16 output is held already rounded: its store is exact)
    stores << "  o" << k << "[offset[" << k << "]] = "
           << stored_as(composite.dtype_of(composite.outputs[k]), numbered("v", composite.outputs[k]), has_double, helpers) << ";\n";
  std::ostringstream source;
  source << prelude(dialect, uses_double) << helper_definitions(helpers, dialect) << say.kernel << " " << name << "(";
  for (int k = 0; k < num_outputs; ++k) source << global << *type_of(composite.dtype_of(composite.outputs[k])) << "* o" << k << ", ";
  for (int i = 0; i < num_inputs; ++i) source << global << "const " << *type_of(composite.input_dtypes[i]) << "* p" << i << ", ";
  source << global << "const long* layout, const long total) {\n"
         << "  const long gid = " << say.thread_index << ";\n"
         << "  if (gid >= total) return;\n"
         << "  const long ndim = layout[0];\n"
         << "  long offset[" << operands << "];\n"
         << "  for (int k = 0; k < " << operands << "; ++k) offset[k] = layout[1 + ndim * " << operands + 1 << " + k];\n"
         << add_position("  ", "gid", "ndim", "(layout + 1)", "offset", operands, "layout[1 + ndim * (k + 1) + axis]")
         << loads.str() << *body << stores.str() << "}\n";
  return source.str();
}

DType reduce_partial_dtype(ReduceKind kind, DType dtype, bool has_double) {
  if (kind == ReduceKind::Any || kind == ReduceKind::All) return DType::Int32;
  if (is_float(dtype)) return has_double ? DType::Float64 : DType::Float32;
  if (is_complex(dtype)) return has_double ? DType::Complex128 : DType::Complex64;
  return is_unsigned(dtype) ? DType::UInt64 : DType::Int64;
}

std::optional<std::string> render_gpu_reduce(const Composite& composite, ReduceKind kind, DType dtype, const std::string& name,
                                             bool has_double, GpuDialect dialect, bool partial) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  if (composite.outputs.size() != 1) return std::nullopt;
  const bool logical = kind == ReduceKind::Any || kind == ReduceKind::All;
  const int num_inputs = composite.num_inputs();
  bool uses_double = false;
  Helpers helpers;
  const auto body = render_body(composite, has_double, uses_double, helpers);
  if (!body) return std::nullopt;
  const auto out = gpu_stored_type(dtype, has_double);
  if (!out || (dtype == DType::Bool) != logical) return std::nullopt;
  const bool complex = is_complex(dtype);
  if (complex && kind != ReduceKind::Sum && kind != ReduceKind::Prod) return std::nullopt;
  // The accumulator: double for floats where the device has it (as the CPU kernels), long/ulong for ints,
  // a truth value for any and all (a NaN is true, as in NumPy); complex sums and products in double2.
  const DType acc_dtype = reduce_partial_dtype(kind, dtype, has_double);
  std::string acc = logical ? "int" : *gpu_type(acc_dtype, has_double);
  uses_double = uses_double || acc == "double" || acc == "double2";
  std::string init, combine;
  const std::string value = numbered("v", composite.outputs[0]);
  const std::string v = logical   ? "(" + value + " != 0)"
                        : complex ? converted(value, composite.dtype_of(composite.outputs[0]), acc_dtype, helpers)
                                  : "((" + acc + ")" + value + ")";
  const std::string suffix = complex ? complex_helpers(helpers, acc_dtype) : "";
  switch (kind) {
    case ReduceKind::Any: init = "0"; combine = "acc || x"; break;
    case ReduceKind::All: init = "1"; combine = "acc && x"; break;
    case ReduceKind::Sum:
      init = complex ? "hp_make" + suffix + "(0, 0)" : "0";
      combine = complex ? "hp_cadd" + suffix + "(acc, x)" : "acc + x";
      break;
    case ReduceKind::Prod:
      init = complex ? "hp_make" + suffix + "(1, 0)" : "1";
      combine = complex ? "hp_cmul" + suffix + "(acc, x)" : "acc * x";
      break;
    case ReduceKind::Max:
      init = is_float(dtype) ? "-INFINITY" : !is_unsigned(dtype) ? "LONG_MIN" : "0";
      combine = is_float(dtype) ? "(acc != acc || acc > x) ? acc : x" : "acc < x ? x : acc";
      break;
    case ReduceKind::Min:
      init = is_float(dtype) ? "INFINITY" : !is_unsigned(dtype) ? "LONG_MAX" : "ULONG_MAX";
      combine = is_float(dtype) ? "(acc != acc || acc < x) ? acc : x" : "x < acc ? x : acc";
      break;
    default: return std::nullopt;
  }
  // A partial result keeps the accumulator's type (reduce_partial_dtype), for the second pass to finish.
  const DType stored_dtype = partial ? acc_dtype : dtype;
  const std::string stored = *gpu_stored_type(stored_dtype, has_double);
  const std::string result = complex ? converted("acc", acc_dtype, stored_dtype, helpers)
                                     : stored_as(stored_dtype, "acc", has_double, helpers, acc == "double");
  std::ostringstream loads;
  for (int i = 0; i < num_inputs; ++i) {
    if (!gpu_stored_type(composite.input_dtypes[i], has_double)) return std::nullopt;
    loads << "    const " << *gpu_held_type(composite.input_dtypes[i], has_double) << " v" << i << " = "
          << loaded_as(composite.input_dtypes[i], numbered("p", i) + "[offset[" + std::to_string(i) + "]]", helpers) << ";\n";
  }
  std::ostringstream source;
  source << prelude(dialect, uses_double) << helper_definitions(helpers, dialect) << say.kernel << " " << name << "(" << global
         << stored << "* o, ";
  for (int i = 0; i < num_inputs; ++i)
    source << global << "const " << *gpu_stored_type(composite.input_dtypes[i], has_double) << "* p" << i << ", ";
  // Work item gid reduces chunk gid % chunks of kept element gid / chunks: with one chunk, all of it.
  source << global << "const long* layout, const long total, const long reduced, const long chunks) {\n"
         << "  const long gid = " << say.thread_index << ";\n"
         << "  if (gid >= total * chunks) return;\n"
         << "  const long per = (reduced + chunks - 1) / chunks, first = (gid % chunks) * per;\n"
         << "  const long last = first + per < reduced ? first + per : reduced;\n"
         << "  const long nk = layout[0], nr = layout[1 + nk];\n"
         << "  " << global << "const long* kept = layout + 1;\n"
         << "  " << global << "const long* red = layout + 2 + nk;\n"
         << "  " << global << "const long* strides = layout + 2 + nk + nr;  // per input: nk kept, nr reduced, 1 offset\n"
         << "  long base[" << std::max(num_inputs, 1) << "];\n"
         << "  for (int k = 0; k < " << num_inputs << "; ++k) base[k] = strides[k * (nk + nr + 1) + nk + nr];\n"
         << add_position("  ", "gid / chunks", "nk", "kept", "base", num_inputs, "strides[k * (nk + nr + 1) + axis]")
         << "  " << acc << " acc = " << init << ";\n"
         << "  for (long r = first; r < last; ++r) {\n"
         << "    long offset[" << std::max(num_inputs, 1) << "];\n"
         << "    for (int k = 0; k < " << num_inputs << "; ++k) offset[k] = base[k];\n"
         << add_position("    ", "r", "nr", "red", "offset", num_inputs, "strides[k * (nk + nr + 1) + nk + axis]");
  source << loads.str() << *body << "    const " << acc << " x = " << v << ";\n"
         << "    acc = " << combine << ";\n"
         << "  }\n"
         << "  o[gid] = " << result << ";\n"
         << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_crossentropy(DType dtype, DType label_dtype, bool from_logits, const std::string& name,
                                                   bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double), held = gpu_held_type(dtype, has_double), label = gpu_type(label_dtype, has_double);
  if (!t || !label || !is_float(dtype) || !is_integer(label_dtype)) return std::nullopt;
  const std::string acc = has_double ? "double" : "float";
  Helpers helpers;
  auto at = [&](const std::string& j) { return loaded_as(dtype, "row[" + j + "]", helpers); };
  std::ostringstream body;
  if (from_logits) {
    // As the reference: the max as std::max finds it, a -inf max counting as 0.
    body << "  " << *held << " peak = " << at("0") << ";\n"
         << "  for (long j = 1; j < classes; ++j) {\n"
         << "    const " << *held << " x = " << at("j * s1") << ";\n"
         << "    peak = peak < x ? x : peak;\n"
         << "  }\n"
         << "  if (isinf(peak) && peak < 0) peak = 0;\n"
         << "  " << acc << " total = 0;\n"
         << "  for (long j = 0; j < classes; ++j) total += exp((" << acc << ")(" << at("j * s1") << " - peak));\n"
         << "  out[i] = " << stored_as(dtype, "log(total) - (" + acc + ")(" + at("label * s1") + " - peak)", has_double, helpers, has_double)
         << ";\n";
  } else {
    body << "  out[i] = " << stored_as(dtype, "-log(" + at("label * s1") + ")", has_double, helpers) << ";\n";
  }
  std::ostringstream source;
  source << prelude(dialect, has_double || dtype == DType::Float64) << helper_definitions(helpers, dialect) << say.kernel << " " << name
         << "(" << global << *t << "* out, " << global << "const " << *t << "* p, " << global << "const " << *label << "* labels, "
         << global << "int* bad, "
         << "const long rows, const long classes, const long s0, const long s1, const long p_offset, const long ls, "
            "const long l_offset) {\n"
         << "  const long i = " << say.thread_index << ";\n"
         << "  if (i >= rows) return;\n"
         << "  const long label = (long)labels[l_offset + i * ls];\n"
         << "  if (label < 0 || label >= classes) {\n    bad[0] = 1;\n    return;\n  }\n"
         << "  " << global << "const " << *t << "* row = p + p_offset + i * s0;\n"
         << body.str() << "}\n";
  return source.str();
}

namespace {

// The head of a kernel with a work item per row along one axis (gpu_source.h's row layout), up to `row`
// (x's row: element j at row[j * xs]) and `o` (out's row, or its element where out drops the axis), the
// helpers the body calls defined before it.
std::string along_axis_head(const Spelling& say, bool uses_double, GpuDialect dialect, const std::string& name,
                            const std::string& out_type, const std::string& x_type, const Helpers& helpers) {
  const std::string global = say.global;
  return prelude(dialect, uses_double) + helper_definitions(helpers, dialect) + say.kernel + " " + name + "(" + global + out_type +
         "* out, " + global + "const " + x_type + "* x, " + global +
         "const long* layout, const long rows, const long length, const long xs, const long os, " + "const long x_offset) {\n" +
         "  const long gid = " + say.thread_index + ";\n" + "  if (gid >= rows) return;\n" + "  const long nk = layout[0];\n" +
         "  long offset[2] = {x_offset, 0};\n" +
         add_position("  ", "gid", "nk", "(layout + 1)", "offset", 2, "layout[1 + nk * (k + 1) + axis]") + "  " + global + "const " +
         x_type + "* row = x + offset[0];\n" + "  " + global + out_type + "* o = out + offset[1];\n";
}

}  // namespace

std::optional<std::string> render_gpu_softmax(DType dtype, bool log, const std::string& name, bool has_double, GpuDialect dialect) {
  const auto t = gpu_stored_type(dtype, has_double), held = gpu_held_type(dtype, has_double);
  if (!t || !is_float(dtype)) return std::nullopt;
  const std::string acc = has_double ? "double" : "float";
  Helpers helpers;
  const std::string x = loaded_as(dtype, "row[j * xs]", helpers);
  std::ostringstream body;
  // As the reference: the max as std::max finds it, a -inf max counting as 0, exp summed in double.
  body << "  " << *held << " peak = " << loaded_as(dtype, "row[0]", helpers) << ";\n"
       << "  for (long j = 1; j < length; ++j) {\n"
       << "    const " << *held << " x = " << x << ";\n"
       << "    peak = peak < x ? x : peak;\n"
       << "  }\n"
       << "  if (isinf(peak) && peak < 0) peak = 0;\n"
       << "  " << acc << " total = 0;\n"
       << "  for (long j = 0; j < length; ++j) total += exp((" << acc << ")(" << x << " - peak));\n";
  if (log)
    body << "  const " << acc << " log_total = log(total);\n"
         << "  for (long j = 0; j < length; ++j) o[j * os] = "
         << stored_as(dtype, "(" + acc + ")(" + x + " - peak) - log_total", has_double, helpers, has_double) << ";\n";
  else
    body << "  for (long j = 0; j < length; ++j) o[j * os] = "
         << stored_as(dtype, "exp((" + acc + ")(" + x + " - peak)) / total", has_double, helpers, has_double) << ";\n";
  return along_axis_head(spelling(dialect), has_double, dialect, name, *t, *t, helpers) + body.str() + "}\n";
}

std::optional<std::string> render_gpu_arg_reduce(DType dtype, bool is_max, const std::string& name, bool has_double,
                                                  GpuDialect dialect) {
  const auto t = gpu_stored_type(dtype, has_double);
  if (!t || is_complex(dtype)) return std::nullopt;  // (NumPy orders complex numbers lexicographically: the host)
  Helpers helpers;
  const std::string x = loaded_as(dtype, "row[j * xs]", helpers), best = loaded_as(dtype, "row[best * xs]", helpers);
  std::ostringstream body;
  body << "  long best = 0;\n"
       << "  for (long j = 1; j < length; ++j) {\n";
  if (is_float(dtype))  // (a NaN wins: the first one)
    body << "    if (" << best << " != " << best << ") break;\n"
         << "    if (" << x << " != " << x << ") {\n      best = j;\n      break;\n    }\n";
  body << "    if (" << x << (is_max ? " > " : " < ") << best << ") best = j;\n"
       << "  }\n"
       << "  o[0] = best;\n";
  return along_axis_head(spelling(dialect), dtype == DType::Float64, dialect, name, "long", *t, helpers) + body.str() + "}\n";
}

std::optional<std::string> render_gpu_cumulative(DType dtype, DType out_dtype, bool product, const std::string& name, bool has_double,
                                                  GpuDialect dialect) {
  const auto t = gpu_stored_type(dtype, has_double), out = gpu_stored_type(out_dtype, has_double);
  const auto held = gpu_held_type(out_dtype, has_double);
  if (!t || !out || out_dtype == DType::Bool || is_complex(out_dtype)) return std::nullopt;
  Helpers helpers;
  // Integers wrap as NumPy's do (unsigned arithmetic, no signed overflow); float16 sums round at each
  // step, as the CPU's _Float16 accumulator does.
  const std::string op = product ? " * " : " + ";
  std::string combine = is_float(out_dtype) ? "acc" + op + "x" : "(" + *held + ")((ulong)acc" + op + "(ulong)x)";
  if (out_dtype == DType::Float16) combine = rounded_to(out_dtype, combine, has_double, helpers);
  auto read = [&](const std::string& j) {
    const std::string x = loaded_as(dtype, "row[" + j + "]", helpers);
    return dtype == out_dtype ? x : rounded_to(out_dtype, x, has_double, helpers, dtype == DType::Float64);
  };
  std::ostringstream body;
  body << "  " << *held << " acc = (" << *held << ")" << read("0") << ";\n"
       << "  o[0] = " << stored_as(out_dtype, "acc", has_double, helpers) << ";\n"
       << "  for (long j = 1; j < length; ++j) {\n"
       << "    const " << *held << " x = (" << *held << ")" << read("j * xs") << ";\n"
       << "    acc = " << combine << ";\n"
       << "    o[j * os] = " << stored_as(out_dtype, "acc", has_double, helpers) << ";\n"
       << "  }\n";
  return along_axis_head(spelling(dialect), dtype == DType::Float64 || out_dtype == DType::Float64, dialect, name, *out, *t, helpers) +
         body.str() + "}\n";
}

namespace {

// The index arrays' parameters ("const long* i0, ...") and, for each, the statement reading its entry at
// offset[first + k], wrapping a negative one and flagging one out of bounds (axis k's size and stride at
// `sizes`[2k] and [2k + 1]), then moving `position` there.
std::optional<std::pair<std::string, std::string>> index_reads(const std::vector<DType>& index_dtypes, bool has_double,
                                                               const std::string& global, const std::string& indent, int first,
                                                               const std::string& sizes, const std::string& position) {
  std::string parameters, reads;
  for (size_t k = 0; k < index_dtypes.size(); ++k) {
    const auto type = gpu_type(index_dtypes[k], has_double);
    if (!type || !is_integer(index_dtypes[k]) || index_dtypes[k] == DType::Bool) return std::nullopt;
    const std::string n = std::to_string(k), size = sizes + "[" + std::to_string(2 * k) + "]";
    parameters += global + "const " + *type + "* i" + n + ", ";
    reads += indent + "{\n" + indent + "  long at = (long)i" + n + "[offset[" + std::to_string(first + static_cast<int>(k)) + "]];\n" +
             indent + "  if (at < 0) at += " + size + ";\n" + indent + "  if (at < 0 || at >= " + size + ") {\n" + indent +
             "    bad[0] = 1;\n" + indent + "    return;\n" + indent + "  }\n" + indent + "  " + position + " += at * " + sizes +
             "[" + std::to_string(2 * k + 1) + "];\n" + indent + "}\n";
  }
  return std::make_pair(parameters, reads);
}

}  // namespace

std::optional<std::string> render_gpu_take(DType dtype, const std::vector<DType>& index_dtypes, const std::string& name, bool has_double,
                                           GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double);  // (a copy of the stored bits)
  const int K = static_cast<int>(index_dtypes.size()), operands = 1 + K;
  const auto indices = index_reads(index_dtypes, has_double, global, "  ", 1, "axes", "offset[0]");
  if (!t || !indices || K == 0) return std::nullopt;
  std::ostringstream source;
  source << prelude(dialect, needs_double(dtype)) << say.kernel << " " << name << "(" << global << *t << "* out, " << global
         << "const " << *t << "* x, " << indices->first << global << "int* bad, " << global << "const long* layout, const long total) {\n"
         << "  const long gid = " << say.thread_index << ";\n"
         << "  if (gid >= total) return;\n"
         << "  const long nd = layout[0];\n"
         << "  long offset[" << operands << "];\n"
         << "  for (int k = 0; k < " << operands << "; ++k) offset[k] = layout[1 + nd * " << operands + 1 << " + k];\n"
         << add_position("  ", "gid", "nd", "(layout + 1)", "offset", operands, "layout[1 + nd * (k + 1) + axis]")
         << "  " << global << "const long* axes = layout + 1 + nd * " << operands + 1 << " + " << operands << ";\n"
         << indices->second << "  out[gid] = x[offset[0]];\n"
         << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_sparse_product(DType dtype, DType indices_dtype, DType indptr_dtype, bool by_rows,
                                                     const std::string& name, bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double), ti = gpu_stored_type(indices_dtype, has_double),
             tp = gpu_stored_type(indptr_dtype, has_double);
  const auto is_index = [](DType d) { return d == DType::Int32 || d == DType::Int64; };
  if (!t || !ti || !tp || (dtype != DType::Float32 && dtype != DType::Float64) || !is_index(indices_dtype) || !is_index(indptr_dtype))
    return std::nullopt;
  std::ostringstream source;
  source << prelude(dialect, needs_double(dtype)) << say.kernel << " " << name << "(" << global << *t << "* out, " << global << "const "
         << *t << "* values, " << global << "const " << *ti << "* indices, " << global << "const " << *tp << "* indptr, " << global
         << "const " << *t << "* b, " << global << "const " << *t << "* scale, const long lines, const long rows, const long n, "
         << "const long accumulate) {\n";
  if (by_rows) {
    source << "  const long gid = " << say.thread_index << ";\n"
           << "  if (gid >= lines * n) return;\n"
           << "  const long i = gid / n, j = gid % n;\n"
           << "  " << *t << " acc = 0;\n"
           << "  for (long p = indptr[i]; p < indptr[i + 1]; ++p) acc += values[p] * b[(long)indices[p] * n + j];\n"
           << "  out[gid] = (accumulate ? out[gid] : 0) + scale[0] * acc;\n";
  } else {
    source << "  const long j = " << say.thread_index << ";\n"
           << "  if (j >= n) return;\n"
           << "  if (!accumulate) for (long i = 0; i < rows; ++i) out[i * n + j] = 0;\n"
           << "  for (long k = 0; k < lines; ++k)\n"
           << "    for (long p = indptr[k]; p < indptr[k + 1]; ++p) out[(long)indices[p] * n + j] += scale[0] * values[p] * b[k * n + j];\n";
  }
  source << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_put(DType dtype, const std::vector<DType>& index_dtypes, bool set, const std::string& name,
                                          bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double);
  const int K = static_cast<int>(index_dtypes.size());
  const auto indices = index_reads(index_dtypes, has_double, global, "    ", 0, "axes", "position");
  if (!t || !indices || K == 0 || (!set && dtype == DType::Bool)) return std::nullopt;
  Helpers helpers;
  const std::string read = "value[e * inner + r]";
  const std::string assigned = set ? read : sum_stored(dtype, "*destination", read, has_double, helpers);
  std::ostringstream source;
  source << prelude(dialect, needs_double(dtype)) << helper_definitions(helpers, dialect) << say.kernel << " " << name << "(" << global
         << *t << "* out, " << global << "const " << *t << "* value, " << indices->first << global << "int* bad, " << global
         << "const long* layout, const long inner, const long count) {\n"
         << "  const long r = " << say.thread_index << ";\n"
         << "  if (r >= inner) return;\n"
         // layout: ni, the other axes' sizes, out's strides on them, out's offset; nb, the indices' broadcast
         // shape, each index's strides on it, each index's offset; then per index its axis' size and stride.
         << "  const long ni = layout[0];\n"
         << "  long base[1] = {layout[1 + 2 * ni]};\n"
         << add_position("  ", "r", "ni", "(layout + 1)", "base", 1, "layout[1 + ni + axis]")
         << "  " << global << "const long* b = layout + 2 + 2 * ni;\n"
         << "  const long nb = b[0];\n"
         << "  " << global << "const long* axes = b + 1 + nb * " << K + 1 << " + " << K << ";\n"
         // Each work item walks the index positions in order, so repeated positions accumulate (or the
         // last write stays) exactly as the CPU's loop does, with no atomics.
         << "  for (long e = 0; e < count; ++e) {\n"
         << "    long offset[" << K << "];\n"
         << "    for (int k = 0; k < " << K << "; ++k) offset[k] = b[1 + nb * " << K + 1 << " + k];\n"
         << add_position("    ", "e", "nb", "(b + 1)", "offset", K, "b[1 + nb * (k + 1) + axis]")
         << "    long position = base[0];\n"
         << indices->second << "    " << global << *t << "* destination = out + position;\n"
         << "    *destination = " << assigned << ";\n"
         << "  }\n"
         << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_merge_pass(DType dtype, const std::string& name, bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double), held = gpu_held_type(dtype, has_double);
  if (!t || is_complex(dtype)) return std::nullopt;
  Helpers helpers;
  auto key = [&](const std::string& k) { return loaded_as(dtype, "row[(" + k + ") * xs]", helpers); };
  auto less = [&](const std::string& a, const std::string& b) { return sorts_before(dtype, a, b); };
  std::ostringstream body;
  body << "  const " << *held << " key = " << key("me") << ";\n"
       << "  long lo, hi;\n"
       // An element of the left run goes after the right run's smaller elements; one of the right run after
       // the left run's smaller or equal ones: equal keys keep their order (a stable sort).
       << "  if (p < mid) {\n"
       << "    lo = mid;\n    hi = end;\n"
       << "    while (lo < hi) {\n      const long m = (lo + hi) / 2;\n"
       << "      const " << *held << " other = " << key("first ? m : in[m]") << ";\n"
       << "      if " << less("other", "key") << " lo = m + 1;\n      else hi = m;\n    }\n"
       << "    out[r * length + p + (lo - mid)] = me;\n"
       << "  } else {\n"
       << "    lo = start;\n    hi = mid;\n"
       << "    while (lo < hi) {\n      const long m = (lo + hi) / 2;\n"
       << "      const " << *held << " other = " << key("first ? m : in[m]") << ";\n"
       << "      if (!" << less("key", "other") << ") lo = m + 1;\n      else hi = m;\n    }\n"
       << "    out[r * length + (p - mid) + lo] = me;\n"
       << "  }\n";
  std::ostringstream source;
  source << prelude(dialect, needs_double(dtype)) << helper_definitions(helpers, dialect) << say.kernel << " " << name << "("
         << global << "long* out, " << global << "const " << *t << "* x, " << global << "const long* perm, " << global
         << "const long* layout, const long rows, const long length, const long xs, const long x_offset, const long width, "
            "const long first) {\n"
         << "  const long gid = " << say.thread_index << ";\n"
         << "  if (gid >= rows * length) return;\n"
         << "  const long r = gid / length, p = gid % length;\n"
         << "  const long nk = layout[0];\n"
         << "  long offset[1] = {x_offset};\n"
         << add_position("  ", "r", "nk", "(layout + 1)", "offset", 1, "layout[1 + nk + axis]")
         << "  " << global << "const " << *t << "* row = x + offset[0];\n"
         << "  " << global << "const long* in = perm + r * length;\n"
         << "  const long start = p / (2 * width) * (2 * width);\n"
         << "  const long mid = start + width < length ? start + width : length;\n"
         << "  const long end = start + 2 * width < length ? start + 2 * width : length;\n"
         << "  const long me = first ? p : in[p];\n"
         << body.str() << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_searchsorted(DType x_dtype, DType v_dtype, bool right, const std::string& name, bool has_double,
                                                   GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const DType common = promote_types(x_dtype, v_dtype);
  const auto tx = gpu_stored_type(x_dtype, has_double), tv = gpu_stored_type(v_dtype, has_double);
  const auto held = gpu_held_type(common, has_double);
  if (!tx || !tv || !held || is_complex(common)) return std::nullopt;
  Helpers helpers;
  auto value = [&](const std::string& stored, DType dtype) { return converted(loaded_as(dtype, stored, helpers), dtype, common, helpers); };
  auto less = [&](const std::string& a, const std::string& b) { return sorts_before(common, a, b); };
  std::ostringstream kernel;
  kernel << say.kernel << " " << name << "(" << global << "long* out, " << global << "const " << *tx << "* x, " << global << "const "
         << *tv << "* v, " << global << "const long* layout, const long total, const long n, const long xs, const long x_offset) {\n"
         << "  const long gid = " << say.thread_index << ";\n"
         << "  if (gid >= total) return;\n"
         << "  const long nd = layout[0];\n"
         << "  long offset[1] = {layout[1 + 2 * nd]};\n"
         << add_position("  ", "gid", "nd", "(layout + 1)", "offset", 1, "layout[1 + nd + axis]")
         << "  const " << *held << " key = " << value("v[offset[0]]", v_dtype) << ";\n"
         << "  long lo = 0, hi = n;\n"
         // The first position where key sorts before x (right), or x does not sort before key (left).
         << "  while (lo < hi) {\n"
         << "    const long m = (lo + hi) / 2;\n"
         << "    const " << *held << " at = " << value("x[x_offset + m * xs]", x_dtype) << ";\n"
         << "    if (" << (right ? "!" + less("key", "at") : less("at", "key")) << ") lo = m + 1;\n"
         << "    else hi = m;\n"
         << "  }\n"
         << "  out[gid] = lo;\n"
         << "}\n";
  // (The helpers the loads registered come before the kernel.)
  return prelude(dialect, needs_double(common)) + helper_definitions(helpers, dialect) + kernel.str();
}

std::optional<std::string> render_gpu_inc_along_axis(DType dtype, DType index_dtype, const std::string& name, bool has_double,
                                                     GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const std::string global = say.global;
  const auto t = gpu_stored_type(dtype, has_double), index = gpu_type(index_dtype, has_double);
  if (!t || !index || dtype == DType::Bool || !is_integer(index_dtype) || index_dtype == DType::Bool) return std::nullopt;
  Helpers helpers;
  const std::string sum = sum_stored(dtype, "*destination", "value[offset[2] + e * tail[1]]", has_double, helpers);
  std::ostringstream source;
  source << prelude(dialect, needs_double(dtype)) << helper_definitions(helpers, dialect) << say.kernel
         << " " << name << "(" << global << *t << "* out, " << global << "const " << *t << "* value, " << global << "const " << *index
         << "* indices, " << global << "int* bad, " << global << "const long* layout, const long lines, const long length) {\n"
         << "  const long r = " << say.thread_index << ";\n"
         << "  if (r >= lines) return;\n"
         // layout: nk, the other axes' sizes, out's, the indices' and the value's strides on them, their
         // offsets; then the indices' and the value's strides along the axis, out's size and stride on it.
         << "  const long nk = layout[0];\n"
         << "  long offset[3] = {layout[1 + 4 * nk], layout[2 + 4 * nk], layout[3 + 4 * nk]};\n"
         << add_position("  ", "r", "nk", "(layout + 1)", "offset", 3, "layout[1 + nk * (k + 1) + axis]")
         << "  " << global << "const long* tail = layout + 4 + 4 * nk;\n"
         // Each work item walks its line in order: repeated positions accumulate as on the CPU.
         << "  for (long e = 0; e < length; ++e) {\n"
         << "    long at = (long)indices[offset[1] + e * tail[0]];\n"
         << "    if (at < 0) at += tail[2];\n"
         << "    if (at < 0 || at >= tail[2]) {\n      bad[0] = 1;\n      return;\n    }\n"
         << "    " << global << *t << "* destination = out + offset[0] + at * tail[3];\n"
         << "    *destination = " << sum << ";\n"
         << "  }\n"
         << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_random(bool normal, DType dtype, const std::string& name, bool has_double,
                                             GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const auto t = gpu_stored_type(dtype, has_double);
  if (!has_double || !t || !is_float(dtype)) return std::nullopt;
  Helpers helpers;
  auto store = [&](const std::string& value) { return stored_as(dtype, value, has_double, helpers, true); };
  std::ostringstream body;
  if (normal)
    body << "  const double radius = sqrt(-2.0 * log(1.0 - a)), angle = 6.283185307179586 * b;\n"
         << "  out[2 * j] = " << store("radius * cos(angle)") << ";\n"
         << "  if (2 * j + 1 < n) out[2 * j + 1] = " << store("radius * sin(angle)") << ";\n";
  else
    body << "  out[2 * j] = " << store("a") << ";\n"
         << "  if (2 * j + 1 < n) out[2 * j + 1] = " << store("b") << ";\n";
  std::ostringstream source;
  // The constants of random.cpp's philox4x32; doubles from 53 bits as Generator::next_double.
  source << prelude(dialect, true) << helper_definitions(helpers, dialect) << say.kernel << " " << name << "(" << say.global << *t
         << "* out, const long n, const long key, const long counter) {\n"
         << "  const long j = " << say.thread_index << ";\n"
         << "  if (2 * j >= n) return;\n"
         << "  const ulong block = (ulong)counter + (ulong)j;\n"
         << "  uint c0 = (uint)block, c1 = (uint)(block >> 32), c2 = 0, c3 = 0;\n"
         << "  uint k0 = (uint)(ulong)key, k1 = (uint)((ulong)key >> 32);\n"
         << "  for (int round = 0; round < 10; ++round) {\n"
         << "    if (round) {\n      k0 += 0x9E3779B9u;\n      k1 += 0xBB67AE85u;\n    }\n"
         << "    const ulong p0 = (ulong)0xD2511F53u * c0, p1 = (ulong)0xCD9E8D57u * c2;\n"
         << "    const uint next0 = (uint)(p1 >> 32) ^ c1 ^ k0, next2 = (uint)(p0 >> 32) ^ c3 ^ k1;\n"
         << "    c1 = (uint)p1;\n    c3 = (uint)p0;\n    c0 = next0;\n    c2 = next2;\n"
         << "  }\n"
         << "  const double a = (double)(((((ulong)c0) << 32) | c1) >> 11) * 0x1.0p-53;\n"
         << "  const double b = (double)(((((ulong)c2) << 32) | c3) >> 11) * 0x1.0p-53;\n"
         << body.str() << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_scale(DType dtype, const std::string& name, bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const auto t = gpu_type(dtype, has_double);
  if (!t || (dtype != DType::Float32 && dtype != DType::Float64)) return std::nullopt;
  const bool cuda = dialect == GpuDialect::Cuda;
  const std::string factor = has_double ? (cuda ? "__longlong_as_double(bits)" : "as_double(bits)") : "as_float((uint)bits)";
  std::ostringstream source;
  source << prelude(dialect, has_double) << say.kernel << " " << name << "(" << say.global << *t
         << "* out, const long count, const long bits) {\n"
         << "  const long i = " << say.thread_index << ";\n"
         << "  if (i >= count) return;\n"
         << "  out[i] = (" << *t << ")(out[i] * " << factor << ");\n"
         << "}\n";
  return source.str();
}

std::optional<std::string> render_gpu_real_edges(DType dtype, const std::string& name, bool has_double, GpuDialect dialect) {
  const Spelling say = spelling(dialect);
  const auto t = gpu_type(dtype, has_double);
  if (!t || (dtype != DType::Float32 && dtype != DType::Float64)) return std::nullopt;
  std::ostringstream source;
  source << prelude(dialect, dtype == DType::Float64) << say.kernel << " " << name << "(" << say.global << *t
         << "* values, const long rows, const long length, const long even) {\n"
         << "  const long r = " << say.thread_index << ";\n"
         << "  if (r >= rows) return;\n"
         << "  values[2 * r * length + 1] = 0;\n"
         << "  if (even) values[2 * (r * length + length - 1) + 1] = 0;\n"
         << "}\n";
  return source.str();
}

namespace {

// A linear-algebra kernel over matrices of `dtype`: its parameters and body (where $G spells the global
// address space and $T the element type), the body run by work item g below `total`.
std::optional<std::string> matrix_kernel(DType dtype, const std::string& name, bool has_double, GpuDialect dialect,
                                         const std::string& parameters, const std::string& total, const std::string& body,
                                         bool uses_double = false) {
  const Spelling say = spelling(dialect);
  const auto t = gpu_type(dtype, has_double);
  if (!t || (dtype != DType::Float32 && dtype != DType::Float64)) return std::nullopt;
  auto spelled = [&](std::string text) {
    for (const auto& [placeholder, word] : {std::pair<std::string, std::string>{"$G ", say.global}, {"$T", *t}})
      for (size_t at; (at = text.find(placeholder)) != std::string::npos;) text.replace(at, placeholder.size(), word);
    return text;
  };
  return prelude(dialect, dtype == DType::Float64 || uses_double) + say.kernel + " " + name + "(" + spelled(parameters) + ") {\n" +
         "  const long g = " + say.thread_index + ";\n" + "  if (g >= " + total + ") return;\n" + spelled(body) + "}\n";
}

}  // namespace

std::optional<std::string> render_gpu_pivot_rows(DType dtype, const std::string& name, bool has_double, GpuDialect dialect) {
  return matrix_kernel(dtype, name, has_double, dialect,
                       "$G $T* x, $G const int* pivots, $G int* bad, const long count, const long n, const long k, "
                       "const long ascending",
                       "count * k",
                       "  const long e = g / k, j = g % k;\n"
                       "  $G $T* column = x + e * n * k + j;\n"
                       "  $G const int* p = pivots + e * n;\n"
                       "  for (long step = 0; step < n; ++step) {\n"
                       "    const long i = ascending ? step : n - 1 - step, to = (long)p[i] - 1;\n"
                       "    if (to < 0 || to >= n) {\n      bad[0] = 1;\n      return;\n    }\n"
                       "    if (to != i) {\n"
                       "      const $T held = column[i * k];\n"
                       "      column[i * k] = column[to * k];\n"
                       "      column[to * k] = held;\n"
                       "    }\n"
                       "  }\n");
}

std::optional<std::string> render_gpu_lu_determinant(DType dtype, bool logarithm, const std::string& name, bool has_double,
                                                     GpuDialect dialect) {
  const std::string acc = has_double ? "double" : "float";
  const std::string results = logarithm ? "  first[g] = ($T)sign;\n"
                                          "  second[g] = ($T)(sign == 0 ? -INFINITY : log_abs);\n"
                                        : "  first[g] = ($T)product;\n";
  return matrix_kernel(dtype, name, has_double, dialect,
                              "$G $T* first, $G $T* second, $G const $T* lu, $G const int* pivots, $G int* bad, const long count, "
                              "const long n",
                              "count",
                              "  $G const $T* m = lu + g * n * n;\n"
                              "  $G const int* p = pivots + g * n;\n"
                              "  " + acc + " sign = 1, log_abs = 0, product = 1;\n"
                              "  for (long i = 0; i < n; ++i) {\n"
                              "    if (p[i] < 1 || p[i] > n) {\n      bad[0] = 1;\n      return;\n    }\n"
                              "    const " + acc + " v = m[i * n + i];\n"
                              "    if (p[i] != i + 1) {\n      sign = -sign;\n      product = -product;\n    }\n"
                              // (NaN leaves the sign, as NumPy: log|det| is NaN.)
                              "    sign *= v > 0 ? 1 : v < 0 ? -1 : v == 0 ? 0 : 1;\n"
                              "    log_abs += log(fabs(v));\n"
                              "    product *= v;\n"
                              "  }\n" + results,
                              has_double);
}

std::optional<std::string> render_gpu_keep_triangle(DType dtype, const std::string& name, bool has_double, GpuDialect dialect) {
  return matrix_kernel(dtype, name, has_double, dialect, "$G $T* m, const long count, const long n, const long lower",
                       "count * n * n",
                       "  const long i = g / n % n, j = g % n;\n"
                       "  if (lower ? j > i : j < i) m[g] = 0;\n");
}

std::optional<std::string> render_gpu_matrix_flags(DType dtype, bool diagonal, const std::string& name, bool has_double,
                                                   GpuDialect dialect) {
  const std::string body = diagonal ? "  int flag = 0;\n"
                                      "  for (long i = 0; i < n && !flag; ++i)\n"
                                      "    if (matrix[i * n + i] == 0) flag = (int)i + 1;\n"
                                      "  flags[g] = flag;\n"
                                    : "  int flag = 0;\n"
                                      "  for (long i = 0; i < n * n && !flag; ++i)\n"
                                      "    if (isnan(matrix[i]) || isinf(matrix[i])) flag = 1;\n"
                                      "  flags[g] = flag;\n";
  return matrix_kernel(dtype, name, has_double, dialect, "$G const $T* m, $G int* flags, const long count, const long n", "count",
                       "  $G const $T* matrix = m + g * n * n;\n" + body);
}

}  // namespace hypatia
