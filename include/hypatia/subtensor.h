// Indexing: integers, slices (symbolic bounds allowed), newaxis, ellipsis and integer arrays,
// plus set_subtensor / inc_subtensor for each.
#pragma once
#include <optional>
#include <variant>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

struct NewAxis {};
struct Ellipsis {};
inline constexpr NewAxis newaxis{};
inline constexpr Ellipsis ellipsis{};

// A slice whose bounds are absent, constant or symbolic int scalars.
struct SliceIndex {
  std::optional<Operand> start, stop, step;
};
// slice(stop), slice(start, stop), slice(start, stop, step); std::nullopt for an absent bound.
SliceIndex slice(std::optional<Operand> start, std::optional<Operand> stop,
                 std::optional<Operand> step = std::nullopt);
inline SliceIndex slice_all() { return {}; }

// One entry of an index: integer (constant or int scalar Variable), slice, newaxis, ellipsis, or an
// integer vector Variable (advanced indexing along that axis, NumPy's take).
class Index {
 public:
  Index(int i) : value_(Operand(i)) {}
  Index(long i) : value_(Operand(i)) {}
  Index(const Variable& v) : value_(Operand(v)) {}
  Index(const SharedVariable& v) : value_(Operand(static_cast<const Variable&>(v))) {}
  Index(SliceIndex s) : value_(std::move(s)) {}
  Index(NewAxis) : value_(NewAxis{}) {}
  Index(Ellipsis) : value_(Ellipsis{}) {}
  const std::variant<Operand, SliceIndex, NewAxis, Ellipsis>& value() const { return value_; }

 private:
  std::variant<Operand, SliceIndex, NewAxis, Ellipsis> value_;
};

// The argument of Variable::operator[]; records where the user indexed.
struct IndexList {
  IndexList(std::initializer_list<Index> indices,
            std::source_location where = std::source_location::current())
      : indices(indices), where(where) {}
  IndexList(std::vector<Index> indices, std::source_location where = std::source_location::current())
      : indices(std::move(indices)), where(where) {}
  IndexList(const Index& single, std::source_location where = std::source_location::current())
      : indices{single}, where(where) {}
  // x[0] and x[i] (one conversion, so C++ allows them without braces).
  IndexList(int single, std::source_location where = std::source_location::current())
      : indices{Index(single)}, where(where) {}
  IndexList(long single, std::source_location where = std::source_location::current())
      : indices{Index(single)}, where(where) {}
  IndexList(const Variable& single, std::source_location where = std::source_location::current())
      : indices{Index(single)}, where(where) {}
  std::vector<Index> indices;
  std::source_location where;
};

// What built an indexing result: the indexed variable and the index list as written.
struct IndexRecord {
  Variable x;
  IndexList indices;
};

Variable subtensor(const Variable& x, const IndexList& indices);
// x with x[indices] replaced by / incremented by `value` (broadcast to the indexed shape).
Variable set_subtensor(const Variable& x, const IndexList& indices, const Operand& value);
Variable inc_subtensor(const Variable& x, const IndexList& indices, const Operand& value);
// Theano's form: `indexed` is x[indices] itself, e.g. set_subtensor(x[{hp::slice(1, 3)}], y).
Variable set_subtensor(const Variable& indexed, const Operand& value,
                       std::source_location where = std::source_location::current());
Variable inc_subtensor(const Variable& indexed, const Operand& value,
                       std::source_location where = std::source_location::current());
// NumPy's take along one axis with an integer index tensor.
Variable take(const Operand& x, const Operand& indices, int axis = 0);

}  // namespace hypatia
