// Searching, counting and index conversion: argtopk (topk gathers by it), bincount, searchsorted, unique,
// nonzero, unravel_index, ravel_multi_index; and grad_clip, an identity whose gradient is clipped.
//
// Ops whose output length depends on the data (bincount, unique, nonzero) keep that dimension unknown
// and claim no infer_shape rule for it: Op::infer_shape's default reads it from the computed output.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "hypatia/elemwise.h"
#include "hypatia/extra_ops.h"
#include "hypatia/shape_ops.h"
#include "hypatia/subtensor.h"
#include "ops/op_support.h"
#include "ops/reduce.h"
#include "ir/serialize.h"

namespace hypatia {
namespace {

// NumPy's sort order: NaN after every number, so sorting, searching and deduplicating agree on it.
template <class T> bool sorts_before(T a, T b) {
  if constexpr (is_float_v<T>) {  // x != x: std::isnan has no float16 overload
    if (a != a) return false;
    if (b != b) return true;
  }
  return a < b;
}

template <class T> bool same_value(T a, T b) {
  if constexpr (is_float_v<T>)
    if (a != a && b != b) return true;  // np.unique's equal_nan
  return a == b;
}

void require_integer_scalar(const Variable& v, const std::string& op, const std::string& what) {
  if (v.ndim() != 0 || !is_integer(v.dtype()))
    throw TypeError("[" + op + "] " + what + " must be an integer scalar, got " + v.type().str());
}

int64_t max_index_of(DType dtype) {
  return dispatch_dtype(dtype, []<class T>() {
    // uint64's maximum does not fit an int64; every position does. (Float idx_dtypes are refused earlier.)
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
      return static_cast<int64_t>(std::min<uint64_t>(std::numeric_limits<T>::max(), INT64_MAX));
    else return int64_t{1};
  });
}

// ---- argtopk ----

// Positions of the |kth| largest (kth > 0) or smallest (kth < 0) entries along `axis`, in that order
// (largest, resp. smallest, first; ties by position), so sorted and unsorted requests get the same answer.
class ArgTopK : public Op {
 public:
  std::string save() const override {
    OpWriter out("argtopk");
    out.integer(axis_);
    out.dtype(idx_dtype_);
    return out.bytes();
  }
  ArgTopK(int axis, DType idx_dtype) : axis_(axis), idx_dtype_(idx_dtype) {}
  std::string name() const override { return "argtopk"; }
  std::string props() const override {
    return "axis=" + std::to_string(axis_) + ", idx_dtype=" + std::string(dtype_name(idx_dtype_));
  }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &x = inputs.at(0), &kth = inputs.at(1);
    if (is_complex(x.dtype())) refuse_complex(name(), x.dtype());
    if (x.ndim() == 0) throw ValueError("[topk] needs at least one dimension, got the scalar " + x.type().str());
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[topk] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    if (!is_integer(idx_dtype_))
      throw TypeError("[topk] idx_dtype must be an integer dtype, got " + std::string(dtype_name(idx_dtype_)));
    require_integer_scalar(kth, "topk", "kth");
    std::vector<int64_t> shape = x.type().shape;
    const int64_t length = shape[axis_];
    shape[axis_] = TensorType::kUnknown;
    if (std::optional<int64_t> k = constant_int(kth)) {
      if (length != TensorType::kUnknown) check_kth(*k, length, x.type().str());
      shape[axis_] = std::abs(*k);
    }
    return {TensorType(idx_dtype_, shape)};
  }

  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array& x = inputs[0];
    const int64_t k = static_cast<int64_t>(inputs[1].item());
    const int64_t length = x.shape()[axis_];
    check_kth(k, length, x.shape_dtype_str());
    if (length - 1 > max_index_of(idx_dtype_))
      throw ValueError("[topk] positions up to " + std::to_string(length - 1) + " along axis " + std::to_string(axis_) +
                       " do not fit idx_dtype " + std::string(dtype_name(idx_dtype_)));
    const int64_t chosen = std::abs(k);
    const AxisLast rows = move_axis_last(x, axis_, x.dtype());
    Shape out_shape = rows.rows.shape();
    out_shape.back() = chosen;
    Array out = Array::empty(out_shape, DType::Int64);
    dispatch_real_dtype(x.dtype(), name(), [&]<class T>() {
      std::vector<int64_t> order(length);
      for (int64_t r = 0; r < rows.count; ++r) {
        const T* row = rows.rows.template data<T>() + r * length;
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + chosen, order.end(), [&](int64_t a, int64_t b) {
          if (same_value(row[a], row[b])) return a < b;
          return k > 0 ? sorts_before(row[b], row[a]) : sorts_before(row[a], row[b]);
        });
        std::copy(order.begin(), order.begin() + chosen, out.data<int64_t>() + r * chosen);
      }
    });
    outputs[0] = out.transpose(rows.inverse).astype(idx_dtype_);
  }

  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable(), Variable()}; }

  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<Variable> dims = shapes[0];
    dims[axis_] = cast(abs(node.input(1)), DType::Int64);
    return {dims};
  }

 private:
  void check_kth(int64_t k, int64_t length, const std::string& input) const {
    if (k == 0 || std::abs(k) > length)
      throw ValueError("[topk] kth=" + std::to_string(k) + " is out of range for axis " + std::to_string(axis_) +
                       " of " + input + ": it must be nonzero with |kth| <= " + std::to_string(length));
  }
  int axis_;
  DType idx_dtype_;
};

// ---- bincount ----

class Bincount : public Op {
 public:
  std::string save() const override {
    OpWriter out("bincount");
    out.integer(minlength_);
    return out.bytes();
  }
  explicit Bincount(int64_t minlength) : minlength_(minlength) {}
  std::string name() const override { return "bincount"; }
  std::string props() const override { return "minlength=" + std::to_string(minlength_); }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (x.ndim() != 1 || !(is_integer(x.dtype()) || is_bool(x.dtype())))
      throw TypeError("[bincount] x must be a vector of integers, got " + x.type().str());
    if (inputs.size() == 1) return {TensorType(DType::Int64, {TensorType::kUnknown})};
    const Variable& weights = inputs[1];
    if (weights.ndim() != 1)
      throw TypeError("[bincount] weights must be a vector like x, got " + weights.type().str() + " for x " + x.type().str());
    // Weighted sums keep the weights' dtype (Theano); bool weights count as integers.
    return {TensorType(is_bool(weights.dtype()) ? DType::Int64 : weights.dtype(), {TensorType::kUnknown})};
  }

  void perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array x = inputs[0].astype(DType::Int64);
    const int64_t* values = x.size() ? x.data<int64_t>() : nullptr;
    int64_t length = minlength_;
    for (int64_t i = 0; i < x.size(); ++i) {
      if (values[i] < 0)
        throw ValueError("[bincount] x holds the negative value " + std::to_string(values[i]) + " at position " +
                         std::to_string(i) + "; bincount counts non-negative integers");
      length = std::max(length, values[i] + 1);
    }
    const DType dtype = node.output(0).dtype();
    Array out = Array::zeros({length}, dtype);
    if (inputs.size() == 1) {
      for (int64_t i = 0; i < x.size(); ++i) ++out.data<int64_t>()[values[i]];
    } else {
      if (inputs[1].shape() != x.shape())
        throw ShapeError("[bincount] weights of shape " + shape_str(inputs[1].shape()) + " do not match x of shape " +
                         shape_str(x.shape()));
      const Array weights = inputs[1].astype(dtype);
      dispatch_real_dtype(dtype, name(), [&]<class T>() {
        if constexpr (!std::is_same_v<T, bool>)
          for (int64_t i = 0; i < x.size(); ++i) out.data<T>()[values[i]] += weights.data<T>()[i];
      });
    }
    outputs[0] = std::move(out);
  }

  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    if (node.inputs().size() == 1 || !is_float(node.input(1).dtype())) return std::vector<Variable>(node.inputs().size());
    // Weight i went to bin x[i], so its gradient is the gradient of that bin.
    return {Variable(), take(output_grads[0], cast(node.input(0), DType::Int64), 0)};
  }

 private:
  int64_t minlength_;
};

// ---- searchsorted ----

class SearchSorted : public Op {
 public:
  std::string save() const override {
    OpWriter out("searchsorted");
    out.flag(right_);
    return out.bytes();
  }
  explicit SearchSorted(bool right) : right_(right) {}
  std::string name() const override { return "searchsorted"; }
  bool right() const { return right_; }
  std::string props() const override { return right_ ? "side=right" : "side=left"; }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &x = inputs.at(0), &v = inputs.at(1);
    if (is_complex(promote_types(x.dtype(), v.dtype()))) refuse_complex(name(), promote_types(x.dtype(), v.dtype()));
    if (x.ndim() != 1) throw TypeError("[searchsorted] x must be a vector, got " + x.type().str());
    if (inputs.size() == 3 && (inputs[2].ndim() != 1 || !is_integer(inputs[2].dtype())))
      throw TypeError("[searchsorted] sorter must be a vector of integers, got " + inputs[2].type().str());
    return {TensorType(DType::Int64, v.type().shape)};
  }

  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const DType common = promote_types(inputs[0].dtype(), inputs[1].dtype());
    Array x = inputs[0].astype(common);
    const int64_t n = x.size();
    if (inputs.size() == 3) x = sorted_by(x, inputs[2]);
    const Array v = inputs[1].astype(common);
    Array out = Array::empty(v.shape(), DType::Int64);
    dispatch_real_dtype(common, name(), [&]<class T>() {
      const T* sorted = n ? x.data<T>() : nullptr;
      const T* values = v.size() ? v.data<T>() : nullptr;
      for (int64_t i = 0; i < v.size(); ++i) {
        const T* at = right_ ? std::upper_bound(sorted, sorted + n, values[i], sorts_before<T>)
                             : std::lower_bound(sorted, sorted + n, values[i], sorts_before<T>);
        out.data<int64_t>()[i] = at - sorted;
      }
    });
    outputs[0] = std::move(out);
  }

  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    return std::vector<Variable>(node.inputs().size());  // piecewise constant: zero almost everywhere
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[1]};
  }

 private:
  // x[sorter], checking that sorter indexes x (NumPy's rules: same length, every entry in range).
  static Array sorted_by(const Array& x, const Array& sorter_in) {
    const Array sorter = sorter_in.astype(DType::Int64);
    if (sorter.size() != x.size())
      throw ValueError("[searchsorted] sorter of shape " + shape_str(sorter.shape()) + " must have x's length " +
                       std::to_string(x.size()));
    Array result = Array::empty(x.shape(), x.dtype());
    for (int64_t i = 0; i < x.size(); ++i) {
      const int64_t at = sorter.data<int64_t>()[i];
      if (at < 0 || at >= x.size())
        throw ValueError("[searchsorted] sorter entry " + std::to_string(at) + " is out of range for x of length " +
                         std::to_string(x.size()));
      result.set_from_double(i, x.get_as_double(at));
    }
    return result;
  }
  bool right_;
};

// ---- unique ----

// The distinct slices of x along `axis`, sorted lexicographically: outputs the position of each one's
// first occurrence, each slice's distinct-slice number (inverse) and each distinct slice's count.
// The values themselves are gathered by the first positions, so they carry a gradient.
class Unique : public Op {
 public:
  std::string save() const override {
    OpWriter out("unique");
    out.integer(axis_);
    return out.bytes();
  }
  explicit Unique(int axis) : axis_(axis) {}
  std::string name() const override { return "unique"; }
  std::string props() const override { return "axis=" + std::to_string(axis_); }

  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& x = inputs.at(0);
    if (is_complex(x.dtype())) refuse_complex(name(), x.dtype());
    if (axis_ < 0 || axis_ >= x.ndim())
      throw ValueError("[unique] axis " + std::to_string(axis_) + " is out of range for " + x.type().str());
    const TensorType distinct(DType::Int64, {TensorType::kUnknown});
    return {distinct, TensorType(DType::Int64, {x.type().shape[axis_]}), distinct};
  }

  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    // Slices along axis become rows: move axis first, then each row is one slice in C order.
    std::vector<int> perm{axis_};
    for (int a = 0; a < inputs[0].ndim(); ++a)
      if (a != axis_) perm.push_back(a);
    const Array slices = inputs[0].transpose(perm).copy();
    const int64_t n = inputs[0].shape()[axis_];
    const int64_t width = n ? slices.size() / n : 0;
    std::vector<int64_t> order(n), first, counts;
    Array inverse = Array::empty({n}, DType::Int64);
    dispatch_real_dtype(slices.dtype(), name(), [&]<class T>() {
      const T* data = slices.size() ? slices.template data<T>() : nullptr;
      auto compare = [&](int64_t a, int64_t b) {  // -1, 0, 1 lexicographically
        for (int64_t j = 0; j < width; ++j) {
          const T p = data[a * width + j], q = data[b * width + j];
          if (same_value(p, q)) continue;
          return sorts_before(p, q) ? -1 : 1;
        }
        return 0;
      };
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
      for (int64_t i = 0; i < n; ++i) {
        if (i == 0 || compare(order[i - 1], order[i]) != 0) {
          first.push_back(order[i]);  // stable: the earliest occurrence leads its run
          counts.push_back(0);
        }
        ++counts.back();
        inverse.data<int64_t>()[order[i]] = static_cast<int64_t>(first.size()) - 1;
      }
    });
    outputs[0] = Array::from_vector(first);
    outputs[1] = std::move(inverse);
    outputs[2] = Array::from_vector(counts);
  }

  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable()}; }

  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<std::vector<Variable>> result = Op::infer_shape(node, shapes);  // the distinct count needs the data
    result[1] = {shapes[0][axis_]};
    return result;
  }

 private:
  int axis_;
};

// ---- nonzero ----

// The coordinates of a's nonzero entries in C order, one row per dimension: shape (ndim, count).
class Nonzero : public Op {
 public:
  std::string save() const override { return OpWriter("nonzero").bytes(); }
  std::string name() const override { return "nonzero"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& a = inputs.at(0);
    if (a.ndim() == 0) throw ValueError("[nonzero] needs at least one dimension, got the scalar " + a.type().str());
    return {TensorType(DType::Int64, {a.ndim(), TensorType::kUnknown})};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array a = inputs[0].contiguous();
    std::vector<std::vector<int64_t>> coordinates(a.ndim());
    dispatch_dtype(a.dtype(), [&]<class T>() {
      if (a.size() == 0) return;
      const T* data = a.template data<T>();
      IndexIterator it(a.shape());
      int64_t flat = 0;
      do {
        if (data[flat++] != T(0))  // NaN is nonzero, as in NumPy
          for (int d = 0; d < a.ndim(); ++d) coordinates[d].push_back(it.index()[d]);
      } while (it.next());
    });
    const int64_t count = static_cast<int64_t>(coordinates[0].size());
    Array out = Array::empty({a.ndim(), count}, DType::Int64);
    for (int d = 0; d < a.ndim(); ++d) std::copy(coordinates[d].begin(), coordinates[d].end(), out.data<int64_t>() + d * count);
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    std::vector<std::vector<Variable>> result = Op::infer_shape(node, shapes);  // the count needs the data
    result[0][0] = constant(node.input(0).ndim(), DType::Int64);
    return result;
  }
};

// ---- unravel_index / ravel_multi_index ----

// The dims input as integers, checked like NumPy does.
std::vector<int64_t> read_dims(const Array& dims_in, const char* op) {
  const Array dims = dims_in.astype(DType::Int64);
  std::vector<int64_t> dims_list(dims.data<int64_t>(), dims.data<int64_t>() + dims.size());
  for (int64_t d : dims_list)
    if (d < 0) throw ValueError(std::string("[") + op + "] dims " + dims.str() + " must be non-negative");
  return dims_list;
}

// Strides (in elements) of an array with `dims` in C or Fortran order.
std::vector<int64_t> element_strides(const std::vector<int64_t>& dims, bool fortran_order) {
  std::vector<int64_t> strides(dims.size());
  int64_t step = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    const size_t d = fortran_order ? i : dims.size() - 1 - i;
    strides[d] = step;
    step *= dims[d];
  }
  return strides;
}

void check_dims_vector(const Variable& dims, const char* op) {
  if (dims.ndim() != 1 || !is_integer(dims.dtype()) || dims.type().shape[0] == TensorType::kUnknown)
    throw TypeError(std::string("[") + op + "] dims must be an integer vector of known length, got " + dims.type().str());
  if (dims.type().shape[0] == 0) throw ValueError(std::string("[") + op + "] dims must name at least one dimension");
}

class UnravelIndex : public Op {
 public:
  std::string save() const override {
    OpWriter out("unravel_index");
    out.flag(fortran_order_);
    return out.bytes();
  }
  explicit UnravelIndex(bool fortran_order) : fortran_order_(fortran_order) {}
  std::string name() const override { return "unravel_index"; }
  std::string props() const override { return fortran_order_ ? "order=F" : "order=C"; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable &indices = inputs.at(0), &dims = inputs.at(1);
    if (!is_integer(indices.dtype()))
      throw TypeError("[unravel_index] indices must be integers, got " + indices.type().str());
    check_dims_vector(dims, "unravel_index");
    return std::vector<TensorType>(dims.type().shape[0], TensorType(DType::Int64, indices.type().shape));
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const Array indices = inputs[0].astype(DType::Int64);
    const std::vector<int64_t> dims = read_dims(inputs[1], "unravel_index");
    const std::vector<int64_t> strides = element_strides(dims, fortran_order_);
    const int64_t size = std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
    for (size_t d = 0; d < dims.size(); ++d) outputs[d] = Array::empty(indices.shape(), DType::Int64);
    for (int64_t i = 0; i < indices.size(); ++i) {
      const int64_t flat = indices.data<int64_t>()[i];
      if (flat < 0 || flat >= size)
        throw ValueError("[unravel_index] index " + std::to_string(flat) + " is out of bounds for dims " +
                         inputs[1].str() + " of size " + std::to_string(size));
      for (size_t d = 0; d < dims.size(); ++d) outputs[d].data<int64_t>()[i] = flat / strides[d] % dims[d];
    }
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>&) const override { return {Variable(), Variable()}; }
  std::vector<std::vector<Variable>> infer_shape(const Apply& node, const std::vector<std::vector<Variable>>& shapes) const override {
    return std::vector<std::vector<Variable>>(node.num_outputs(), shapes[0]);
  }

 private:
  bool fortran_order_;
};

class RavelMultiIndex : public Op {
 public:
  std::string save() const override {
    OpWriter out("ravel_multi_index");
    std::vector<int> modes;
    for (IndexMode mode : modes_) modes.push_back(static_cast<int>(mode));
    out.integers(modes);
    out.flag(fortran_order_);
    return out.bytes();
  }
  RavelMultiIndex(std::vector<IndexMode> modes, bool fortran_order) : modes_(std::move(modes)), fortran_order_(fortran_order) {}
  std::string name() const override { return "ravel_multi_index"; }
  std::string props() const override {
    std::string text = "mode=";
    for (IndexMode mode : modes_) text += mode == IndexMode::Raise ? "r" : mode == IndexMode::Wrap ? "w" : "c";
    return text + (fortran_order_ ? ", order=F" : ", order=C");
  }
  // Inputs: one index array per dimension (already broadcast to one shape), then dims.
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    const Variable& dims = inputs.back();
    check_dims_vector(dims, "ravel_multi_index");
    const size_t count = inputs.size() - 1;
    if (static_cast<int64_t>(count) != dims.type().shape[0])
      throw ValueError("[ravel_multi_index] multi_index has " + std::to_string(count) + " index arrays for " +
                       std::to_string(dims.type().shape[0]) + " dims");
    if (modes_.size() != 1 && modes_.size() != count)
      throw ValueError("[ravel_multi_index] give one mode or one per dimension, got " + std::to_string(modes_.size()));
    for (size_t i = 0; i < count; ++i)
      if (!is_integer(inputs[i].dtype()))
        throw TypeError("[ravel_multi_index] multi_index must hold integer arrays, got " + inputs[i].type().str());
    return {TensorType(DType::Int64, inputs[0].type().shape)};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    const size_t count = inputs.size() - 1;
    const std::vector<int64_t> dims = read_dims(inputs.back(), "ravel_multi_index");
    const std::vector<int64_t> strides = element_strides(dims, fortran_order_);
    std::vector<Array> coordinates;
    for (size_t d = 0; d < count; ++d) {
      if (inputs[d].shape() != inputs[0].shape())
        throw ShapeError("[ravel_multi_index] index arrays of shapes " + shape_str(inputs[0].shape()) + " and " +
                         shape_str(inputs[d].shape()) + " do not match");
      coordinates.push_back(inputs[d].astype(DType::Int64));
    }
    Array out = Array::zeros(inputs[0].shape(), DType::Int64);
    for (int64_t i = 0; i < out.size(); ++i) {
      int64_t flat = 0;
      for (size_t d = 0; d < count; ++d) {
        int64_t c = coordinates[d].data<int64_t>()[i];
        const int64_t n = dims[d];
        switch (modes_.size() == 1 ? modes_[0] : modes_[d]) {
          case IndexMode::Raise:
            if (c < 0 || c >= n)
              throw ValueError("[ravel_multi_index] index " + std::to_string(c) + " is out of bounds for dimension " +
                               std::to_string(d) + " of size " + std::to_string(n) + " (mode='raise')");
            break;
          case IndexMode::Wrap:
            if (n == 0) throw ValueError("[ravel_multi_index] cannot wrap an index into dimension " + std::to_string(d) + " of size 0");
            c = (c % n + n) % n;
            break;
          case IndexMode::Clip:
            if (n == 0) throw ValueError("[ravel_multi_index] cannot clip an index into dimension " + std::to_string(d) + " of size 0");
            c = std::clamp<int64_t>(c, 0, n - 1);
            break;
        }
        flat += c * strides[d];
      }
      out.data<int64_t>()[i] = flat;
    }
    outputs[0] = std::move(out);
  }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>&) const override {
    return std::vector<Variable>(node.inputs().size());
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }

 private:
  std::vector<IndexMode> modes_;
  bool fortran_order_;
};

// ---- grad_clip ----

// Identity forward; the gradient flowing back is clipped elementwise to [lower, upper] (Theano's GradClip).
class GradClip : public Op {
 public:
  std::string save() const override {
    OpWriter out("grad_clip");
    out.real(lower_);
    out.real(upper_);
    return out.bytes();
  }
  GradClip(double lower, double upper) : lower_(lower), upper_(upper) {}
  std::string name() const override { return "grad_clip"; }
  std::string props() const override { return "lower=" + std::to_string(lower_) + ", upper=" + std::to_string(upper_); }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override { return {inputs.at(0).type()}; }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override { outputs[0] = inputs[0]; }
  std::vector<Variable> grad(const Apply& node, const std::vector<Variable>& output_grads) const override {
    if (!is_float(node.input(0).dtype()) || !output_grads[0]) return {Variable()};
    return {clip(output_grads[0], lower_, upper_)};
  }
  std::vector<Variable> r_op(const Apply&, const std::vector<Variable>& eval_points) const override {
    return {eval_points.empty() ? Variable() : eval_points[0]};  // the forward map is the identity
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  ViewMap view_map() const override { return {{0, 0}}; }

 private:
  double lower_, upper_;
};

// The flattened input and axis 0 when no axis is given, as NumPy does.
std::pair<Variable, int> input_and_axis(const Operand& x, std::optional<int> axis, const char* op) {
  Variable input = x.as_variable();
  if (!axis) return {input.ndim() == 1 ? input : flatten(Operand(input, x.where())), 0};
  if (input.ndim() == 0) throw ValueError(std::string("[") + op + "] needs at least one dimension, got the scalar " + input.type().str());
  return {input, normalize_axis(*axis, input.ndim(), op)};
}

}  // namespace

std::optional<bool> searchsorted_side_of(const Op& op) {
  const auto* search = dynamic_cast<const SearchSorted*>(&op);
  if (!search) return std::nullopt;
  return search->right();
}

Variable argtopk(const Operand& x, const Operand& kth, std::optional<int> axis, DType idx_dtype) {
  return at_location(x.where(), [&] {
    auto [input, resolved] = input_and_axis(x, axis, "topk");
    return apply_op1(std::make_shared<ArgTopK>(resolved, idx_dtype), {input, kth.as_variable(DType::Int64)}, x.where());
  });
}

std::pair<Variable, Variable> topk_and_argtopk(const Operand& x, const Operand& kth, std::optional<int> axis,
                                               DType idx_dtype) {
  return at_location(x.where(), [&] {
    auto [input, resolved] = input_and_axis(x, axis, "topk");
    Variable positions = argtopk(Operand(input, x.where()), kth, resolved, idx_dtype);
    // Gathering by the positions makes the gradient a scatter back to the chosen entries.
    return std::pair{take_along_axis(Operand(input, x.where()), Operand(positions, x.where()), resolved), positions};
  });
}

Variable topk(const Operand& x, const Operand& kth, std::optional<int> axis) { return topk_and_argtopk(x, kth, axis).first; }

Variable bincount(const Operand& x, std::optional<Operand> weights, int64_t minlength) {
  return at_location(x.where(), [&] {
    if (minlength < 0) throw ValueError("[bincount] minlength must be non-negative, got " + std::to_string(minlength));
    std::vector<Variable> inputs{x.as_variable()};
    if (weights) inputs.push_back(weights->as_variable());
    return apply_op1(std::make_shared<Bincount>(minlength), inputs, x.where());
  });
}

Variable searchsorted(const Operand& x, const Operand& v, bool right, std::optional<Operand> sorter) {
  return at_location(x.where(), [&] {
    Variable sorted = x.as_variable();
    std::vector<Variable> inputs{sorted, v.as_variable(sorted)};
    if (sorter) inputs.push_back(sorter->as_variable(DType::Int64));
    return apply_op1(std::make_shared<SearchSorted>(right), inputs, x.where());
  });
}

UniqueResult unique(const Operand& ar, std::optional<int> axis) {
  return at_location(ar.where(), [&] {
    auto [input, resolved] = input_and_axis(ar, axis, "unique");
    std::vector<Variable> parts = apply_op(std::make_shared<Unique>(resolved), {input}, ar.where());
    return UniqueResult{take(Operand(input, ar.where()), Operand(parts[0], ar.where()), resolved), parts[0], parts[1],
                        parts[2]};
  });
}

Variable nonzero_matrix(const Operand& a) {
  return apply_op1(std::make_shared<Nonzero>(), {a.as_variable()}, a.where());
}

std::vector<Variable> nonzero(const Operand& a) {
  Variable coordinates = nonzero_matrix(a);
  std::vector<Variable> rows;
  for (int d = 0; d < static_cast<int>(coordinates.type().shape[0]); ++d) rows.push_back(coordinates[d]);
  return rows;
}

Variable flatnonzero(const Operand& a) {
  return at_location(a.where(), [&] {
    Variable input = a.as_variable();
    if (input.ndim() == 0) throw ValueError("[flatnonzero] needs at least one dimension, got the scalar " + input.type().str());
    return nonzero_matrix(Operand(flatten(Operand(input, a.where())), a.where()))[0];
  });
}

Variable nonzero_values(const Operand& a) {
  return at_location(a.where(), [&] {
    Variable flat = flatten(a);
    return take(Operand(flat, a.where()), Operand(flatnonzero(Operand(flat, a.where())), a.where()), 0);
  });
}

std::vector<Variable> unravel_index(const Operand& indices, const Operand& dims, bool fortran_order) {
  return apply_op(std::make_shared<UnravelIndex>(fortran_order), {indices.as_variable(), dims.as_variable(DType::Int64)},
                  indices.where());
}

Variable ravel_multi_index(const std::vector<Operand>& multi_index, const Operand& dims, std::vector<IndexMode> modes,
                           bool fortran_order) {
  const CodeLocation where = multi_index.empty() ? CodeLocation(dims.where()) : CodeLocation(multi_index[0].where());
  return at_location(where, [&] {
    if (multi_index.empty()) throw ValueError("[ravel_multi_index] multi_index holds no index arrays");
    // NumPy broadcasts the index arrays against each other.
    Variable shape_like = multi_index[0].as_variable(DType::Int64);
    for (const Operand& index : multi_index) shape_like = second(index, shape_like);
    std::vector<Variable> inputs;
    for (const Operand& index : multi_index) inputs.push_back(second(shape_like, index));
    inputs.push_back(dims.as_variable(DType::Int64));
    return apply_op1(std::make_shared<RavelMultiIndex>(std::move(modes), fortran_order), inputs, where);
  });
}

Variable grad_clip(const Operand& x, double lower_bound, double upper_bound) {
  return at_location(x.where(), [&] {
    if (!(lower_bound <= upper_bound))
      throw ValueError("[grad_clip] lower_bound " + std::to_string(lower_bound) + " must not exceed upper_bound " +
                       std::to_string(upper_bound));
    return apply_op1(std::make_shared<GradClip>(lower_bound, upper_bound), {x.as_variable()}, x.where());
  });
}

void register_search_loaders(OpLoaders& loaders) {
  auto axis = [](OpReader& in) { return static_cast<int>(in.integer_in(0, 64, "an axis")); };
  loaders["argtopk"] = [axis](OpReader& in) -> OpPtr {
    const int a = axis(in);
    return std::make_shared<ArgTopK>(a, in.dtype());
  };
  loaders["bincount"] = [](OpReader& in) -> OpPtr { return std::make_shared<Bincount>(in.integer_in(0, INT64_MAX, "minlength")); };
  loaders["searchsorted"] = [](OpReader& in) -> OpPtr { return std::make_shared<SearchSorted>(in.flag()); };
  loaders["unique"] = [axis](OpReader& in) -> OpPtr { return std::make_shared<Unique>(axis(in)); };
  loaders["nonzero"] = [](OpReader&) -> OpPtr { return std::make_shared<Nonzero>(); };
  loaders["unravel_index"] = [](OpReader& in) -> OpPtr { return std::make_shared<UnravelIndex>(in.flag()); };
  loaders["ravel_multi_index"] = [](OpReader& in) -> OpPtr {
    std::vector<IndexMode> modes;
    for (int mode : in.integers()) {
      if (mode < 0 || mode > static_cast<int>(IndexMode::Clip)) in.damaged("an index mode " + std::to_string(mode));
      modes.push_back(static_cast<IndexMode>(mode));
    }
    return std::make_shared<RavelMultiIndex>(modes, in.flag());
  };
  loaders["grad_clip"] = [](OpReader& in) -> OpPtr {
    const double lower = in.real();
    return std::make_shared<GradClip>(lower, in.real());
  };
}
}  // namespace hypatia
