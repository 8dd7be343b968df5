#include "hypatia/dtype.h"

#include "hypatia/error.h"

namespace hypatia {

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
#define HYPATIA_DTYPE_NAME(name, ctype, str) \
  case DType::name: return str;
    HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_NAME)
#undef HYPATIA_DTYPE_NAME
  }
  return "?";
}

DType dtype_from_name(std::string_view name) {
#define HYPATIA_DTYPE_FROM_NAME(enumerator, ctype, str) \
  if (name == str) return DType::enumerator;
  HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_FROM_NAME)
#undef HYPATIA_DTYPE_FROM_NAME
  throw TypeError("[dtype] unknown dtype '" + std::string(name) +
                  "' (known: bool, int8, int16, int32, int64, uint8, float32, float64)");
}

size_t dtype_size(DType dtype) {
  return dispatch_dtype(dtype, []<class T>() { return sizeof(T); });
}

bool is_float(DType dtype) { return dtype == DType::Float32 || dtype == DType::Float64; }
bool is_bool(DType dtype) { return dtype == DType::Bool; }
bool is_integer(DType dtype) { return !is_float(dtype) && !is_bool(dtype); }
bool is_signed(DType dtype) { return dtype != DType::Bool && dtype != DType::UInt8; }

DType promote_types(DType a, DType b) {
  // np.result_type for array dtypes, in the order of HYPATIA_FOR_EACH_DTYPE:
  // bool, int8, int16, int32, int64, uint8, float32, float64.
  using D = DType;
  static constexpr D kTable[kNumDTypes][kNumDTypes] = {
      /* bool    */ {D::Bool, D::Int8, D::Int16, D::Int32, D::Int64, D::UInt8, D::Float32, D::Float64},
      /* int8    */ {D::Int8, D::Int8, D::Int16, D::Int32, D::Int64, D::Int16, D::Float32, D::Float64},
      /* int16   */ {D::Int16, D::Int16, D::Int16, D::Int32, D::Int64, D::Int16, D::Float32, D::Float64},
      /* int32   */ {D::Int32, D::Int32, D::Int32, D::Int32, D::Int64, D::Int32, D::Float64, D::Float64},
      /* int64   */ {D::Int64, D::Int64, D::Int64, D::Int64, D::Int64, D::Int64, D::Float64, D::Float64},
      /* uint8   */ {D::UInt8, D::Int16, D::Int16, D::Int32, D::Int64, D::UInt8, D::Float32, D::Float64},
      /* float32 */ {D::Float32, D::Float32, D::Float32, D::Float64, D::Float64, D::Float32, D::Float32, D::Float64},
      /* float64 */ {D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64, D::Float64},
  };
  return kTable[static_cast<int>(a)][static_cast<int>(b)];
}

DType upgrade_to_float(DType dtype) {
  switch (dtype) {
    case DType::Bool:
    case DType::Int8:
    case DType::UInt8:
    case DType::Int16:
      return DType::Float32;
    case DType::Int32:
    case DType::Int64:
      return DType::Float64;
    default:
      return dtype;
  }
}

}  // namespace hypatia
