// Saving and loading ops and graphs in Hypatia's own binary format, versioned (kSaveFormatVersion):
// Python's pickling of variables, graphs and compiled functions is built on it. Loading data of another
// format version, or damaged data, throws ValueError naming what is wrong; it never crashes.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

inline constexpr uint32_t kSaveFormatVersion = 2;  // 2: variables record their layout (dense, csr, csc)

// One op with its parameters (a loop's or a branch's inner graph included).
std::string save_op(const Op& op);
OpPtr load_op(const std::string& bytes);

// The graph from `inputs` to `outputs`: inputs, constants (with their values) and every node between.
// Shared variables cannot be saved this way (their state belongs to the caller; pickling saves them).
std::string save_graph(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs);
// New variables: the inputs (fresh roots of the saved types and names) and the outputs computed from them.
std::pair<std::vector<Variable>, std::vector<Variable>> load_graph(const std::string& bytes);

// An array's dtype, shape and values (any layout; loads contiguous); a sparse matrix's format, shape and arrays.
std::string save_array(const Array& array);
Array load_array(const std::string& bytes);

}  // namespace hypatia
