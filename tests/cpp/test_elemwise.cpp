// Every row of the scalar op table: values, dtypes, broadcasting, gradients and errors.
#include <cmath>
#include <limits>

#include "test_util.h"

namespace hp = hypatia;
using hp::Array;
using hp::DType;
using hp::testing::arrays_close;
using hp::testing::expect_grad_ok;
using hp::testing::throws_with;

namespace {

using Unary = hp::Variable (*)(const hp::Operand&);
using Binary = hp::Variable (*)(const hp::Operand&, const hp::Operand&);

Array apply_unary(Unary f, const Array& x) {
  return hp::testing::evaluate_on([f](const hp::Variable& v) { return f(v); }, x);
}

Array apply_binary(Binary f, const Array& x, const Array& y) {
  auto a = hp::tensor(x.dtype(), std::vector<int64_t>(x.ndim(), -1), "a");
  auto b = hp::tensor(y.dtype(), std::vector<int64_t>(y.ndim(), -1), "b");
  return hp::eval(f(a, b), {{a, x}, {b, y}});
}

constexpr double kPi = 3.141592653589793;
constexpr double kNan = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

struct UnaryCase {
  const char* name;
  Unary f;
  std::vector<double> in, expected;
};

}  // namespace

TEST(Elemwise, UnaryFloatOpsMatchHandComputedValues) {
  const UnaryCase cases[] = {
      {"neg", hp::neg, {2, -0.5}, {-2, 0.5}},
      {"abs", hp::abs, {-3, 2.5}, {3, 2.5}},
      {"sign", hp::sign, {-2, 0, 5}, {-1, 0, 1}},
      {"exp", hp::exp, {0, 1, -1}, {1, 2.718281828459045, 0.36787944117144233}},
      {"exp2", hp::exp2, {3, -1}, {8, 0.5}},
      {"log", hp::log, {1, 2.718281828459045, 10}, {0, 1, 2.302585092994046}},
      {"log2", hp::log2, {8, 0.25}, {3, -2}},
      {"log10", hp::log10, {1000, 0.01}, {3, -2}},
      {"log1p", hp::log1p, {1e-10, 1}, {9.9999999995e-11, 0.6931471805599453}},
      {"expm1", hp::expm1, {1e-10, 1}, {1.00000000005e-10, 1.718281828459045}},
      {"sqrt", hp::sqrt, {4, 2}, {2, 1.4142135623730951}},
      {"sqr", hp::sqr, {-3, 0.5}, {9, 0.25}},
      {"reciprocal", hp::reciprocal, {4, -0.5}, {0.25, -2}},
      {"tanh", hp::tanh, {0, 1}, {0, 0.7615941559557649}},
      {"sigmoid", hp::sigmoid, {0, 2, 800, -800}, {0.5, 0.8807970779778823, 1, 0}},
      {"softplus", hp::softplus, {0, 1000, -1000}, {0.6931471805599453, 1000, 0}},
      {"sin", hp::sin, {kPi / 2, 0}, {1, 0}},
      {"cos", hp::cos, {0, kPi}, {1, -1}},
      {"tan", hp::tan, {kPi / 4, 0}, {1, 0}},
      {"arcsin", hp::arcsin, {1, 0}, {kPi / 2, 0}},
      {"arccos", hp::arccos, {1, 0}, {0, kPi / 2}},
      {"arctan", hp::arctan, {1, 0}, {kPi / 4, 0}},
      {"sinh", hp::sinh, {1, 0}, {1.1752011936438014, 0}},
      {"cosh", hp::cosh, {1, 0}, {1.5430806348152437, 1}},
      {"erf", hp::erf, {1, 0}, {0.8427007929497149, 0}},
      {"erfc", hp::erfc, {1, 0}, {0.15729920705028513, 1}},
      {"floor", hp::floor, {-1.5, 2.7}, {-2, 2}},
      {"ceil", hp::ceil, {-1.5, 2.2}, {-1, 3}},
      {"round", hp::round, {2.5, 3.5, -0.5, 1.4}, {2, 4, -0.0, 1}},
  };
  for (const UnaryCase& c : cases)
    for (DType dtype : {DType::Float64, DType::Float32}) {
      const double rtol = dtype == DType::Float32 ? 1e-6 : 1e-12;
      Array out = apply_unary(c.f, Array::from_vector(c.in).astype(dtype));
      EXPECT_EQ(out.dtype(), dtype) << c.name;
      EXPECT_TRUE(arrays_close(out, Array::from_vector(c.expected).astype(dtype), rtol, 1e-12)) << c.name;
    }
}

TEST(Elemwise, SpecialValues) {
  Array special = Array::from({kNan, kInf, -kInf, 1.0});
  EXPECT_TRUE(apply_unary(hp::isnan, special).equals(Array::from_vector<bool>({true, false, false, false})));
  EXPECT_TRUE(apply_unary(hp::isinf, special).equals(Array::from_vector<bool>({false, true, true, false})));
  EXPECT_TRUE(std::isnan(apply_unary(hp::sign, Array::from({kNan})).item()));
  EXPECT_TRUE(std::isnan(apply_binary(hp::maximum, Array::from({1.0}), Array::from({kNan})).item()));
  EXPECT_TRUE(std::isnan(apply_binary(hp::minimum, Array::from({kNan}), Array::from({1.0})).item()));
  EXPECT_TRUE(std::signbit(apply_unary(hp::round, Array::from({-0.4})).item()));
}

TEST(Elemwise, BinaryOpsMatchHandComputedValues) {
  struct Case { const char* name; Binary f; std::vector<double> a, b, expected; };
  const Case cases[] = {
      {"add", hp::add, {1, -2}, {3, 0.5}, {4, -1.5}},
      {"sub", hp::sub, {1, -2}, {3, 0.5}, {-2, -2.5}},
      {"mul", hp::mul, {1.5, -2}, {2, 3}, {3, -6}},
      {"true_div", hp::true_div, {1, -3}, {4, 2}, {0.25, -1.5}},
      {"int_div", hp::int_div, {7.5, -7}, {2, 2}, {3, -4}},
      {"mod", hp::mod, {-7.5, 7}, {2, -2}, {0.5, -1}},
      {"pow", hp::pow, {2, 9}, {10, 0.5}, {1024, 3}},
      {"arctan2", hp::arctan2, {1, 1}, {1, -1}, {kPi / 4, 3 * kPi / 4}},
      {"maximum", hp::maximum, {1, 5}, {3, 2}, {3, 5}},
      {"minimum", hp::minimum, {1, 5}, {3, 2}, {1, 2}},
  };
  for (const Case& c : cases) {
    Array out = apply_binary(c.f, Array::from_vector(c.a), Array::from_vector(c.b));
    EXPECT_TRUE(arrays_close(out, Array::from_vector(c.expected), 1e-12)) << c.name;
  }
}

TEST(Elemwise, IntegerArithmeticFollowsPython) {
  Array a = Array::from_vector<int32_t>({-7, 7, -7, 7, 5});
  Array b = Array::from_vector<int32_t>({2, -2, -2, 2, 0});
  EXPECT_TRUE(apply_binary(hp::int_div, a, b).equals(Array::from_vector<int32_t>({-4, -4, 3, 3, 0})));
  EXPECT_TRUE(apply_binary(hp::mod, a, b).equals(Array::from_vector<int32_t>({1, -1, -1, 1, 0})));
  EXPECT_EQ(apply_binary(hp::int_div, a, b).dtype(), DType::Int32);
  EXPECT_TRUE(apply_binary(hp::pow, Array::from_vector<int64_t>({2, 3, -2}), Array::from_vector<int64_t>({10, 0, 3}))
                  .equals(Array::from_vector<int64_t>({1024, 1, -8})));
  // INT_MIN / -1 and overflow wrap as in NumPy instead of trapping.
  Array int_min = Array::from_vector<int32_t>({std::numeric_limits<int32_t>::min()});
  EXPECT_EQ(apply_binary(hp::int_div, int_min, Array::from_vector<int32_t>({-1})).item(), std::numeric_limits<int32_t>::min());
  EXPECT_EQ(apply_binary(hp::add, Array::from_vector<int8_t>({127}), Array::from_vector<int8_t>({1})).item(), -128);
  EXPECT_EQ(apply_binary(hp::mul, Array::from_vector<int64_t>({INT64_MAX}), Array::from_vector<int64_t>({2})).item(), -2.0);
  EXPECT_EQ(apply_unary(hp::abs, Array::from_vector<int8_t>({-128})).item(), -128);
  EXPECT_TRUE(apply_unary(hp::sign, Array::from_vector<int16_t>({-5, 0, 3})).equals(Array::from_vector<int16_t>({-1, 0, 1})));
  EXPECT_TRUE(apply_unary(hp::sqr, Array::from_vector<uint8_t>({16})).equals(Array::from_vector<uint8_t>({0})));  // 256 wraps
}

TEST(Elemwise, UnsignedArithmeticWrapsAsInNumPy) {
  // Expected values by hand, modulo 2^16, 2^32 and 2^64; read as the element type (a double cannot
  // tell 2^64 - 1 from 2^64 - 2).
  auto u16 = [](std::vector<uint16_t> v) { return Array::from_vector<uint16_t>(v); };
  auto u32 = [](std::vector<uint32_t> v) { return Array::from_vector<uint32_t>(v); };
  auto u64 = [](std::vector<uint64_t> v) { return Array::from_vector<uint64_t>(v); };
  auto values = [](const Array& a) {
    return hp::dispatch_real_dtype(a.dtype(), "test", [&]<class T>() {
      std::vector<uint64_t> result;
      for (int64_t i = 0; i < a.size(); ++i) result.push_back(static_cast<uint64_t>(a.data<T>()[i]));
      return result;
    });
  };
  using V = std::vector<uint64_t>;
  EXPECT_EQ(values(apply_binary(hp::sub, u16({1, 7}), u16({2, 3}))), (V{65535, 4}));
  EXPECT_EQ(values(apply_binary(hp::add, u32({4000000000u}), u32({500000000u}))), (V{205032704}));
  EXPECT_EQ(values(apply_binary(hp::mul, u32({65536}), u32({65536}))), (V{0}));
  EXPECT_EQ(values(apply_binary(hp::mul, u16({300}), u16({300}))), (V{24464}));  // 90000 - 65536
  EXPECT_EQ(values(apply_unary(hp::neg, u64({1, 0}))), (V{UINT64_MAX, 0}));
  EXPECT_EQ(values(apply_unary(hp::abs, u32({4000000000u}))), (V{4000000000u}));
  EXPECT_EQ(values(apply_unary(hp::sign, u16({0, 5}))), (V{0, 1}));
  // Floor division and modulo of unsigned values are plain; by zero they give 0, as for signed ints.
  EXPECT_EQ(values(apply_binary(hp::int_div, u64({UINT64_MAX, 7}), u64({2, 0}))), (V{9223372036854775807u, 0}));
  EXPECT_EQ(values(apply_binary(hp::mod, u64({UINT64_MAX, 7}), u64({10, 0}))), (V{5, 0}));
  EXPECT_EQ(values(apply_binary(hp::pow, u32({3}), u32({21}))), (V{1870418611}));  // 3^21 mod 2^32
  EXPECT_EQ(values(apply_unary(hp::invert, u16({0, 1}))), (V{65535, 65534}));
}

TEST(Elemwise, ComparisonsAndLogicalOpsGiveBool) {
  Array a = Array::from({1, 2, 3}), b = Array::from({2, 2, 2});
  EXPECT_TRUE(apply_binary(hp::eq, a, b).equals(Array::from_vector<bool>({false, true, false})));
  EXPECT_TRUE(apply_binary(hp::neq, a, b).equals(Array::from_vector<bool>({true, false, true})));
  EXPECT_TRUE(apply_binary(hp::lt, a, b).equals(Array::from_vector<bool>({true, false, false})));
  EXPECT_TRUE(apply_binary(hp::le, a, b).equals(Array::from_vector<bool>({true, true, false})));
  EXPECT_TRUE(apply_binary(hp::gt, a, b).equals(Array::from_vector<bool>({false, false, true})));
  EXPECT_TRUE(apply_binary(hp::ge, a, b).equals(Array::from_vector<bool>({false, true, true})));
  Array p = Array::from_vector<bool>({true, true, false, false}), q = Array::from_vector<bool>({true, false, true, false});
  EXPECT_TRUE(apply_binary(hp::logical_and, p, q).equals(Array::from_vector<bool>({true, false, false, false})));
  EXPECT_TRUE(apply_binary(hp::logical_or, p, q).equals(Array::from_vector<bool>({true, true, true, false})));
  EXPECT_TRUE(apply_binary(hp::logical_xor, p, q).equals(Array::from_vector<bool>({false, true, true, false})));
  EXPECT_TRUE(apply_unary(hp::logical_not, p).equals(Array::from_vector<bool>({false, false, true, true})));
  // Logical ops read any dtype by truthiness.
  EXPECT_TRUE(apply_binary(hp::logical_and, Array::from({0.0, 2.0}), Array::from({1.0, -1.0}))
                  .equals(Array::from_vector<bool>({false, true})));
  // Mixed signed and unsigned compare by value.
  EXPECT_TRUE(apply_binary(hp::lt, Array::from_vector<int8_t>({-1}), Array::from_vector<uint8_t>({200})).equals(
      Array::from_vector<bool>({true})));
}

TEST(Elemwise, BitwiseOnIntegersLogicalOnBools) {
  Array a = Array::from_vector<int32_t>({5, 6, 12, -1}), b = Array::from_vector<int32_t>({3, 3, 3, 7});
  EXPECT_TRUE(apply_binary(hp::bitwise_and, a, b).equals(Array::from_vector<int32_t>({1, 2, 0, 7})));
  EXPECT_TRUE(apply_binary(hp::bitwise_or, a, b).equals(Array::from_vector<int32_t>({7, 7, 15, -1})));
  EXPECT_TRUE(apply_binary(hp::bitwise_xor, a, b).equals(Array::from_vector<int32_t>({6, 5, 15, -8})));
  EXPECT_TRUE(apply_unary(hp::invert, a).equals(Array::from_vector<int32_t>({-6, -7, -13, 0})));
  EXPECT_TRUE(apply_unary(hp::invert, Array::from_vector<uint8_t>({0, 200})).equals(Array::from_vector<uint8_t>({255, 55})));
  // Mixed kinds promote as NumPy does: int8 & uint8 is int16.
  Array mixed = apply_binary(hp::bitwise_and, Array::from_vector<int8_t>({-1}), Array::from_vector<uint8_t>({200}));
  EXPECT_EQ(mixed.dtype(), DType::Int16);
  EXPECT_EQ(mixed.item(), 200);
  Array p = Array::from_vector<bool>({true, true, false, false}), q = Array::from_vector<bool>({true, false, true, false});
  EXPECT_TRUE(apply_binary(hp::bitwise_and, p, q).equals(Array::from_vector<bool>({true, false, false, false})));
  EXPECT_TRUE(apply_unary(hp::invert, p).equals(Array::from_vector<bool>({false, false, true, true})));
  auto x = hp::vector("x", DType::Int64);
  EXPECT_EQ((x & 3).dtype(), DType::Int64);  // a literal takes the tensor's dtype
  auto flags = hp::vector("flags", DType::Bool);
  EXPECT_EQ((flags & true).dtype(), DType::Bool);  // a weak bool stays bool
  EXPECT_EQ((flags + true).dtype(), DType::Bool);
  EXPECT_TRUE(throws_with<hp::TypeError>([] { hp::vector("f") & hp::vector("g"); },
                                         {"[bitwise_and] is defined for integers and bools", "float64"}));
}

TEST(Elemwise, OperatorsBuildTheSameOps) {
  auto x = hp::vector("x"), y = hp::vector("y");
  auto f = hp::function({x, y}, {x + y, x - y, x * y, x / y, x % y, -x, x < y, x <= y, x > y, x >= y});
  auto out = f({Array::from({5.0}), Array::from({2.0})});
  const double expected[] = {7, 3, 10, 2.5, 1, -5, 0, 0, 1, 1};
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i].item(), expected[i]) << "output " << i;
  auto p = hp::vector("p", DType::Bool), q = hp::vector("q", DType::Bool);
  auto g = hp::function({p, q}, {p & q, p | q, p ^ q, ~p});
  auto bools = g({Array::from_vector<bool>({true}), Array::from_vector<bool>({false})});
  EXPECT_EQ(bools[0].item(), 0);
  EXPECT_EQ(bools[1].item(), 1);
  EXPECT_EQ(bools[2].item(), 1);
  EXPECT_EQ(bools[3].item(), 0);
  EXPECT_EQ(hp::eval(2.0 - hp::constant(0.5)).item(), 1.5);
}

TEST(Elemwise, ClipWhereAndCast) {
  EXPECT_TRUE(arrays_close(hp::eval(hp::clip(hp::constant(Array::from({-2, 0.5, 3})), 0.0, 1.0)), Array::from({0, 0.5, 1})));
  auto c = hp::constant(Array::from_vector<bool>({true, false}));
  EXPECT_TRUE(arrays_close(hp::eval(hp::where(c, hp::constant(Array::from({1, 2})), 10.0)), Array::from({1, 10})));
  EXPECT_TRUE(arrays_close(hp::eval(hp::switch_(c, 1.0, hp::constant(Array::from({5, 6})))), Array::from({1, 6})));
  Array casted = hp::eval(hp::cast(hp::constant(Array::from({-1.7, 2.9})), DType::Int32));
  EXPECT_TRUE(casted.equals(Array::from_vector<int32_t>({-1, 2})));
  auto x = hp::vector("x");
  EXPECT_TRUE(hp::cast(x, DType::Float64).is(x));  // casting to its own dtype adds no node
  EXPECT_EQ(hp::cast(x, DType::Float32).owner()->op().str(), "cast{dtype=float32}");
}

TEST(Elemwise, ResultDtypesFollowTheano) {
  auto t = [](DType d) { return hp::vector("", d); };
  EXPECT_EQ((t(DType::Int32) + t(DType::Float32)).dtype(), DType::Float64);
  EXPECT_EQ((t(DType::Int8) + t(DType::UInt8)).dtype(), DType::Int16);
  EXPECT_EQ((t(DType::Bool) + t(DType::Bool)).dtype(), DType::Bool);
  EXPECT_EQ(hp::exp(t(DType::Int32)).dtype(), DType::Float64);
  EXPECT_EQ(hp::exp(t(DType::Int8)).dtype(), DType::Float32);
  EXPECT_EQ((t(DType::Int64) / t(DType::Int64)).dtype(), DType::Float64);
  EXPECT_EQ((t(DType::Float32) < t(DType::Float64)).dtype(), DType::Bool);
  EXPECT_EQ(hp::isnan(t(DType::Float32)).dtype(), DType::Bool);
  EXPECT_EQ(hp::where(t(DType::Bool), t(DType::Int32), t(DType::Float32)).dtype(), DType::Float64);
  // Theano's rule for floor and ceil of integers: upgraded to float like true division.
  EXPECT_EQ(hp::floor(t(DType::Int16)).dtype(), DType::Float32);
  EXPECT_EQ(hp::ceil(t(DType::Int64)).dtype(), DType::Float64);
  EXPECT_TRUE(arrays_close(apply_binary(hp::add, Array::from_vector<bool>({true, false}), Array::from_vector<bool>({true, false})),
                           Array::from_vector<bool>({true, false})));
}

TEST(Elemwise, Broadcasting) {
  auto r = hp::row("r"), c = hp::col("c");
  Array out = hp::eval(r + c, {{r, Array::from({{1, 2, 3}})}, {c, Array::from_vector<double>({10, 20}, {2, 1})}});
  EXPECT_TRUE(arrays_close(out, Array::from({{11, 12, 13}, {21, 22, 23}})));
  auto m = hp::matrix("m"), v = hp::vector("v");
  EXPECT_EQ((m + v).type().str(), "float64(?, ?)");
  EXPECT_TRUE(arrays_close(hp::eval(m * v, {{m, Array::from({{1, 2}, {3, 4}})}, {v, Array::from({10, 100})}}),
                           Array::from({{10, 200}, {30, 400}})));
  // Size-zero dimensions broadcast to size-zero results.
  Array empty = hp::eval(m + v, {{m, Array::zeros({0, 2})}, {v, Array::from({1, 2})}});
  EXPECT_EQ(empty.shape(), (hp::Shape{0, 2}));
  // Scalars broadcast everywhere.
  auto s = hp::scalar("s");
  EXPECT_TRUE(arrays_close(hp::eval(m * s, {{m, Array::ones({2, 2})}, {s, Array::scalar(3)}}), Array::full({2, 2}, 3)));
}

TEST(Elemwise, StridedAndTransposedInputs) {
  auto m = hp::matrix("m");
  Array base = Array::arange(6, DType::Float64).reshape({2, 3});
  Array transposed = base.transpose();                                    // (3, 2), not contiguous
  Array stepped = base.slice({{hp::Slice::kNone, hp::Slice::kNone, 1}, {0, 3, 2}});  // (2, 2)
  EXPECT_TRUE(arrays_close(hp::eval(m * 2.0, {{m, transposed}}), Array::from({{0, 6}, {2, 8}, {4, 10}})));
  EXPECT_TRUE(arrays_close(hp::eval(m + 1.0, {{m, stepped}}), Array::from({{1, 3}, {4, 6}})));
}

TEST(Elemwise, BroadcastErrorsNameShapesAndPlace) {
  auto a = hp::tensor(DType::Float64, {3, 4}, "a"), b = hp::tensor(DType::Float64, {5, 4}, "b");
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { (void)(a + b); },
                                          {"[add] shapes cannot broadcast", "float64(3, 4)", "float64(5, 4)", "test_elemwise.cpp"}));
  auto x = hp::vector("x"), y = hp::vector("y");
  auto f = hp::function({x, y}, {x * y});
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({Array::zeros({2}), Array::zeros({3})}); },
                                          {"[mul] shape mismatch", "float64(2,)", "float64(3,)", "test_elemwise.cpp"}));
  EXPECT_TRUE(throws_with<hp::ShapeError>([&] { f({Array::zeros({1}), Array::zeros({3})}); },
                                          {"broadcasts only when its type says size 1"}));
}

TEST(Elemwise, BoolIsRefusedWhereNumPyRefusesIt) {
  auto p = hp::vector("p", DType::Bool);
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { (void)(p - p); }, {"[sub] is not defined for bool", "test_elemwise.cpp"}));
  EXPECT_TRUE(throws_with<hp::TypeError>([&] { (void)(-p); }, {"[neg]"}));
}

TEST(Elemwise, GradientsOfEveryDifferentiableUnaryRow) {
  struct Case { const char* name; Unary f; std::vector<double> point; };
  const Case cases[] = {
      {"neg", hp::neg, {0.3, -1.2}},       {"abs", hp::abs, {0.3, -1.2}},     {"exp", hp::exp, {0.3, -1.2}},
      {"exp2", hp::exp2, {0.3, -1.2}},     {"log", hp::log, {0.3, 2.5}},      {"log2", hp::log2, {0.3, 2.5}},
      {"log10", hp::log10, {0.3, 2.5}},    {"log1p", hp::log1p, {0.3, 2.5}},  {"expm1", hp::expm1, {0.3, -1.2}},
      {"sqrt", hp::sqrt, {0.3, 2.5}},      {"sqr", hp::sqr, {0.3, -1.2}},     {"reciprocal", hp::reciprocal, {0.3, -1.2}},
      {"tanh", hp::tanh, {0.3, -1.2}},     {"sigmoid", hp::sigmoid, {0.3, -1.2}}, {"softplus", hp::softplus, {0.3, -1.2}},
      {"sin", hp::sin, {0.3, -1.2}},       {"cos", hp::cos, {0.3, -1.2}},     {"tan", hp::tan, {0.3, -1.2}},
      {"arcsin", hp::arcsin, {0.3, -0.6}}, {"arccos", hp::arccos, {0.3, -0.6}}, {"arctan", hp::arctan, {0.3, -1.2}},
      {"sinh", hp::sinh, {0.3, -1.2}},     {"cosh", hp::cosh, {0.3, -1.2}},   {"erf", hp::erf, {0.3, -1.2}},
      {"erfc", hp::erfc, {0.3, -1.2}},     {"floor", hp::floor, {0.3, -1.2}}, {"ceil", hp::ceil, {0.3, -1.2}},
      {"round", hp::round, {0.3, -1.2}},   {"sign", hp::sign, {0.3, -1.2}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    expect_grad_ok([&](const std::vector<hp::Variable>& in) { return c.f(in[0]); }, {Array::from_vector(c.point)});
  }
}

TEST(Elemwise, GradientsOfBinaryAndTernaryRows) {
  const Array a = Array::from({0.7, 1.6}), b = Array::from({1.3, 0.45});  // away from mod's jumps
  for (Binary f : {hp::add, hp::sub, hp::mul, hp::true_div, hp::pow, hp::arctan2, hp::maximum, hp::minimum, hp::mod}) {
    expect_grad_ok([&](const std::vector<hp::Variable>& in) { return f(in[0], in[1]); }, {a, b});
  }
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::clip(in[0], 0.5, 1.0); }, {Array::from({0.2, 0.7, 1.5})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::clip(in[0], in[1], in[2]); },
                 {Array::from({0.2, 0.7, 1.5}), Array::from({0.5, 0.5, 0.5}), Array::from({1.0, 1.0, 1.0})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::where(in[0] > 0.0, in[0] * 2.0, in[1]); },
                 {Array::from({-0.5, 0.5}), Array::from({1.0, 2.0})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::cast(in[0], DType::Float32) * 1.0; },
                 {Array::from({0.5, 1.5})}, {.eps = 1e-3, .rtol = 1e-3, .atol = 1e-4});
  // Gradient of pow at a zero base stays finite.
  auto x = hp::vector("x"), y = hp::vector("y");
  auto g = hp::grad(hp::sum(hp::pow(x, y)), y);
  EXPECT_EQ(hp::eval(g, {{x, Array::from({0.0})}, {y, Array::from({2.0})}}).item(), 0.0);
}

TEST(Elemwise, GradientOfBroadcastInputSumsOverBroadcastAxes) {
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return in[0] * in[1]; },
                 {Array::from({{1, 2, 3}, {4, 5, 6}}), Array::from({{0.5, -1, 2}})});
  expect_grad_ok([](const std::vector<hp::Variable>& in) { return hp::tanh(in[0] + in[1]); },
                 {Array::from({{0.1, 0.2}, {0.3, 0.4}, {0.5, 0.6}}), Array::from({0.25, -0.5})});
}

TEST(Elemwise, InferShapeGivesTheRuntimeShape) {
  auto m = hp::matrix("m");
  auto r = hp::row("r");
  hp::testing::expect_infer_shape_ok({m, r}, m + r, {Array::zeros({3, 4}), Array::zeros({1, 4})});
  hp::testing::expect_infer_shape_ok({m}, hp::exp(m), {Array::zeros({0, 2})});
}

TEST(Elemwise, FloatFloorDivisionIsNumPys) {
  // 0.1 is slightly above one tenth, so 1 // 0.1 is 9 (fmod-consistent), and inf // 1 is NaN, as in NumPy.
  Array q = apply_binary(hp::int_div, Array::from({1.0, -1.0, 7.0, INFINITY, 1.0}), Array::from({0.1, 0.1, -0.7, 1.0, 0.0}));
  EXPECT_EQ(q.get_as_double(0), 9.0);
  EXPECT_EQ(q.get_as_double(1), -10.0);
  EXPECT_EQ(q.get_as_double(2), -11.0);  // -0.7 is slightly below -7/10
  EXPECT_TRUE(std::isnan(q.get_as_double(3)));
  EXPECT_TRUE(std::isinf(q.get_as_double(4)));
}

TEST(Elemwise, IntegerLiteralsAreExact) {
  auto x = hp::vector("x", DType::Int64);
  const long big = (1L << 53) + 1;  // not representable as a double
  Array sum = hp::eval(x + big, {{x, Array::from_vector<int64_t>({0})}});
  EXPECT_EQ(sum.at<int64_t>({0}), big);
}
