// Array::str(): NumPy's repr for arrays, close enough to read side by side with NumPy output.
#include <cmath>
#include <cstdio>
#include <complex>
#include <string>
#include <vector>

#include "hypatia/array.h"
#include "hypatia/sparse_array.h"

namespace hypatia {
namespace {

constexpr int64_t kSummarizeAbove = 1000;  // NumPy's threshold
constexpr int kEdgeItems = 3;
constexpr size_t kLineWidth = 75;

std::string format_plain_float(double v, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, v);
  std::string text = buffer;
  // "1.50000" -> "1.5", "2.000" -> "2."
  if (text.find('.') == std::string::npos) return text + ".";
  while (text.back() == '0') text.pop_back();
  return text;
}

// Shortest of up to 8 significant decimals that reads back within float precision (a float16 value:
// reads back as the same half), NumPy style.
int decimals_needed(double v, DType dtype) {
  for (int d = 0; d < 8; ++d) {
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%.*f", d, v);
    double back = std::strtod(buffer, nullptr);
    if (dtype == DType::Float16 ? static_cast<_Float16>(back) == static_cast<_Float16>(v)
                                : std::fabs(back - v) <= 1e-8 * std::max(1.0, std::fabs(v)) * 0.5)
      return d;
  }
  return 8;
}

struct Formatter {
  DType dtype;
  bool scientific = false;
  int decimals = 0;
  size_t int_width = 0, frac_width = 0, width = 0;
  std::vector<Formatter> parts;  // complex: the real parts' formatter and the imaginary magnitudes'

  std::string raw(double v) const {
    if (dtype == DType::Bool) return v != 0 ? "True" : "False";
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    if (scientific) {
      char buffer[64];
      std::snprintf(buffer, sizeof buffer, "%.*e", decimals, v);
      std::string text = buffer;
      size_t e = text.find('e');
      std::string mantissa = text.substr(0, e), exponent = text.substr(e);
      if (mantissa.find('.') != std::string::npos)
        while (mantissa.back() == '0') mantissa.pop_back();
      else mantissa += ".";
      return mantissa + exponent;
    }
    return format_plain_float(v, decimals);
  }

  // `element` is 0-d. Integers are read in their own type: a double cannot hold every int64 or uint64.
  std::string operator()(const Array& element) const {
    if (is_complex(dtype)) {
      const auto z = dispatch_dtype(dtype, [&]<class T>() {
        if constexpr (is_complex_v<T>) return std::complex<double>(*element.data<T>());
        else return std::complex<double>();
      });
      std::string imag_text = parts[1](Array::scalar(std::fabs(z.imag()), DType::Float64));
      imag_text.erase(0, imag_text.find_first_not_of(' '));
      return padded(parts[0](Array::scalar(z.real(), DType::Float64)) + (std::signbit(z.imag()) ? "-" : "+") + imag_text + "j");
    }
    if (is_integer(dtype))
      return padded(dispatch_real_dtype(dtype, "print", [&]<class T>() {
        if constexpr (std::is_integral_v<T>) return std::to_string(*element.data<T>());
        else return std::string();  // not reached: integers only
      }));
    const double v = element.item();
    std::string text = raw(v);
    if (is_float(dtype) && !scientific && std::isfinite(v)) {
      size_t dot = text.find('.');
      std::string left = text.substr(0, dot), right = text.substr(dot);
      if (left.size() < int_width) left.insert(0, int_width - left.size(), ' ');
      if (right.size() < frac_width) right.append(frac_width - right.size(), ' ');
      return left + right;
    }
    return padded(std::move(text));
  }

  std::string padded(std::string text) const {
    if (text.size() < width) text.insert(0, width - text.size(), ' ');
    return text;
  }
};

Formatter make_formatter(const Array& array, const std::vector<Array>& elements) {
  Formatter f{array.dtype()};
  if (is_complex(array.dtype())) {
    std::vector<Array> real_parts, imag_parts;
    for (const Array& element : elements) {
      const Array z = element.astype(DType::Complex128);
      real_parts.push_back(Array::scalar(z.data<std::complex<double>>()->real(), DType::Float64));
      imag_parts.push_back(Array::scalar(std::fabs(z.data<std::complex<double>>()->imag()), DType::Float64));
    }
    const Array like = Array::empty({}, DType::Float64);
    f.parts = {make_formatter(like, real_parts), make_formatter(like, imag_parts)};
    f.parts[1].width = 0;
  }
  if (is_float(array.dtype())) {
    std::vector<double> values;
    for (const Array& element : elements) values.push_back(element.item());
    double max_abs = 0, min_abs = INFINITY;
    for (double v : values)
      if (std::isfinite(v) && v != 0) {
        max_abs = std::max(max_abs, std::fabs(v));
        min_abs = std::min(min_abs, std::fabs(v));
      }
    f.scientific = max_abs >= 1e8 || (min_abs < 1e-4 && min_abs != INFINITY) || (max_abs / min_abs > 1e3 && min_abs < 1);
    for (double v : values)
      if (std::isfinite(v)) {
        if (f.scientific) {
          double mantissa = v / std::pow(10.0, std::floor(std::log10(std::fabs(v == 0 ? 1 : v))));
          f.decimals = std::max(f.decimals, decimals_needed(mantissa, DType::Float64));
        } else {
          f.decimals = std::max(f.decimals, decimals_needed(v, array.dtype()));
        }
      }
    if (!f.scientific)
      for (double v : values) {
        if (!std::isfinite(v)) continue;
        std::string text = format_plain_float(v, f.decimals);
        size_t dot = text.find('.');
        f.int_width = std::max(f.int_width, dot);
        f.frac_width = std::max(f.frac_width, text.size() - dot);
      }
  }
  for (const Array& element : elements) f.width = std::max(f.width, f(element).size());
  if (array.dtype() == DType::Bool) f.width = 5;  // NumPy pads to "False" even when all are True
  if (is_float(array.dtype()) && !f.scientific) f.width = std::max(f.width, f.int_width + f.frac_width);
  return f;
}

// Positions printed along an axis of size n (all, or the edges around "...").
std::vector<int64_t> shown(int64_t n, bool summarize) {
  std::vector<int64_t> result;
  if (!summarize || n <= 2 * kEdgeItems) {
    for (int64_t i = 0; i < n; ++i) result.push_back(i);
  } else {
    for (int64_t i = 0; i < kEdgeItems; ++i) result.push_back(i);
    result.push_back(-1);  // "..."
    for (int64_t i = n - kEdgeItems; i < n; ++i) result.push_back(i);
  }
  return result;
}

void collect(const Array& a, bool summarize, std::vector<Array>& elements) {
  if (a.ndim() == 0) {
    elements.push_back(a);
    return;
  }
  for (int64_t i : shown(a.shape()[0], summarize))
    if (i >= 0) collect(a.index(0, i), summarize, elements);
}

void render(const Array& a, const Formatter& f, bool summarize, size_t indent, std::string& out) {
  if (a.ndim() == 0) {
    out += f(a);
    return;
  }
  out += "[";
  const auto positions = shown(a.shape()[0], summarize);
  if (a.ndim() == 1) {
    size_t line_start = out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1;
    for (size_t k = 0; k < positions.size(); ++k) {
      std::string item = positions[k] < 0 ? "..." : f(a.index(0, positions[k]));
      if (k) {
        out += ",";
        if (out.size() - line_start + item.size() + 2 > kLineWidth) {
          out += "\n" + std::string(indent + 1, ' ');
          line_start = out.size() - indent - 1;
        } else {
          out += " ";
        }
      }
      out += item;
    }
  } else {
    for (size_t k = 0; k < positions.size(); ++k) {
      if (k) out += "," + std::string(a.ndim() - 1, '\n') + std::string(indent + 1, ' ');
      if (positions[k] < 0) out += "...";
      else render(a.index(0, positions[k]), f, summarize, indent + 1, out);
    }
  }
  out += "]";
}

}  // namespace

std::string Array::str() const {
  if (sparse_)  // as SciPy prints a sparse matrix
    return std::string("<Compressed Sparse ") + (*format() == SparseFormat::Csr ? "Row" : "Column") + " sparse matrix of dtype '" +
           std::string(dtype_name(dtype_)) + "'\n\twith " + std::to_string(sparse_->nnz()) + " stored elements and shape " + shape_str(shape_) + ">";
  if (storage_ && storage_->device_buffer()) return "<" + shape_dtype_str() + " in " + device().str() + "'s memory>";
  const bool default_dtype =
      dtype_ == DType::Float64 || dtype_ == DType::Int64 || dtype_ == DType::Bool || dtype_ == DType::Complex128;
  const std::string dtype_suffix = default_dtype ? "" : ", dtype=" + std::string(dtype_name(dtype_));
  if (size() == 0) {
    std::string shape_part = ndim() == 1 ? "" : ", shape=" + shape_str(shape_);
    return "array([]" + shape_part + ", dtype=" + std::string(dtype_name(dtype_)) + ")";
  }
  const bool summarize = size() > kSummarizeAbove;
  std::vector<Array> elements;
  collect(*this, summarize, elements);
  Formatter f = make_formatter(*this, elements);
  std::string out = "array(";
  render(*this, f, summarize, 6, out);
  return out + dtype_suffix + ")";
}

}  // namespace hypatia
