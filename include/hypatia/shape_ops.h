// Ops that rearrange, build or query shapes.
#pragma once
#include <optional>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

inline constexpr int kNewAxis = -1;  // in a dimshuffle pattern: Theano's 'x'

// Theano's dimshuffle: pattern lists input axes in output order; kNewAxis inserts a broadcastable
// axis; input axes left out must be broadcastable (known size 1).
Variable dimshuffle(const Operand& x, const std::vector<int>& pattern);
Variable transpose(const Operand& x);  // reverses the axes
Variable transpose(const Operand& x, const std::vector<int>& axes);
// Reshape to a shape of known length; one entry may be -1. Dimensions may be symbolic.
Variable reshape(const Operand& x, const std::vector<Operand>& shape);
Variable reshape(const Operand& x, const Variable& shape_vector, int ndim);
Variable flatten(const Operand& x, int ndim = 1);  // keeps ndim-1 leading axes, merges the rest
Variable expand_dims(const Operand& x, int axis);
Variable squeeze(const Operand& x);  // drops every broadcastable axis
Variable squeeze(const Operand& x, const std::vector<int>& axes);
Variable concatenate(const std::vector<Variable>& xs, int axis = 0,
                     std::source_location where = std::source_location::current());
Variable stack(const std::vector<Variable>& xs, int axis = 0,
               std::source_location where = std::source_location::current());
// Splits along `axis` into pieces of the given (constant) sizes.
std::vector<Variable> split(const Operand& x, const std::vector<int64_t>& sizes, int axis = 0);

Variable shape(const Operand& x);               // int64 vector
Variable shape_i(const Operand& x, int axis);   // int64 scalar
Variable alloc(const Operand& value, const std::vector<Operand>& shape);  // broadcast value to shape
Variable zeros(const std::vector<Operand>& shape, DType dtype = DType::Float64);
Variable ones(const std::vector<Operand>& shape, DType dtype = DType::Float64);
Variable full(const std::vector<Operand>& shape, const Operand& value, DType dtype = DType::Float64);
Variable zeros_like(const Operand& x);
Variable ones_like(const Operand& x);
Variable full_like(const Operand& x, const Operand& value);
Variable arange(const Operand& stop);
Variable arange(const Operand& start, const Operand& stop, const Operand& step = 1,
                std::optional<DType> dtype = std::nullopt);
Variable eye(const Operand& n, std::optional<Operand> m = std::nullopt, int k = 0,
             DType dtype = DType::Float64);
// Builds an int64 vector from scalars (Theano's MakeVector).
Variable make_vector(const std::vector<Operand>& elements, DType dtype = DType::Int64);

// Theano's broadcast declarations: addbroadcast declares axes of size 1 (checked when the graph runs),
// unbroadcast makes size-1 axes ordinary ones, patternbroadcast sets every axis. specify_shape declares
// the sizes (constants become part of the static type), checked when the graph runs.
Variable addbroadcast(const Operand& x, const std::vector<int>& axes);
Variable unbroadcast(const Operand& x, const std::vector<int>& axes);
Variable patternbroadcast(const Operand& x, const std::vector<bool>& broadcastable);
Variable specify_shape(const Operand& x, const std::vector<Operand>& shape);
// Theano's Assert: x, with a check when the graph runs that every scalar condition is nonzero
// (ValueError with `message` otherwise).
Variable assert_op(const Operand& x, const std::vector<Operand>& conditions, const std::string& message = "");

// NumPy's rearrangements, composed from the ops above (so they differentiate for free).
Variable swapaxes(const Operand& x, int axis1, int axis2);
Variable flip(const Operand& x, const std::vector<int>& axes = {});  // no axes: every axis
Variable roll(const Operand& x, const Operand& shift, std::optional<int> axis = std::nullopt);
Variable tile(const Operand& x, const std::vector<int64_t>& reps);
Variable repeat(const Operand& x, int64_t repeats, std::optional<int> axis = std::nullopt);

}  // namespace hypatia
