// What ops use to save and load their parameters (include/hypatia/serialize.h is the public side).
// A saved op is its tag, then its parameters in the order save() writes them; load reads them back in
// that order. Every read is checked: damaged data throws ValueError, never reads past the end.
#pragma once
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "hypatia/graph.h"

namespace hypatia {

class OpWriter {
 public:
  explicit OpWriter(const std::string& tag) { text(tag); }
  void integer(int64_t value);
  void real(double value);
  void text(const std::string& value);
  void flag(bool value) { integer(value ? 1 : 0); }
  void dtype(DType value) { text(std::string(dtype_name(value))); }
  void integers(const std::vector<int>& values);
  void graph(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs);
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

class OpReader {
 public:
  explicit OpReader(const std::string& bytes) : bytes_(bytes) {}
  int64_t integer();
  double real();
  std::string text();
  bool flag() { return integer() != 0; }
  DType dtype();
  std::vector<int> integers();
  std::pair<std::vector<Variable>, std::vector<Variable>> graph();
  // A checked integer parameter in [low, high].
  int64_t integer_in(int64_t low, int64_t high, const char* what);
  [[noreturn]] void damaged(const std::string& why) const;
  bool at_end() const { return at_ == bytes_.size(); }

 private:
  const char* take(size_t n);
  const std::string& bytes_;
  size_t at_ = 0;
};

using OpLoader = std::function<OpPtr(OpReader&)>;
using OpLoaders = std::unordered_map<std::string, OpLoader>;

// Each op family registers the loaders of its ops (by the tag their save() writes); serialize.cpp calls them all.
void register_elemwise_loaders(OpLoaders& loaders);
void register_sparse_loaders(OpLoaders& loaders);
void register_sparse_dot_loaders(OpLoaders& loaders);
void register_reduce_loaders(OpLoaders& loaders);
void register_arg_reduce_loaders(OpLoaders& loaders);
void register_dimshuffle_loaders(OpLoaders& loaders);
void register_shape_loaders(OpLoaders& loaders);
void register_shape_query_loaders(OpLoaders& loaders);
void register_type_assertion_loaders(OpLoaders& loaders);
void register_transfer_loaders(OpLoaders& loaders);
void register_subtensor_loaders(OpLoaders& loaders);
void register_blas_loaders(OpLoaders& loaders);
void register_nnet_loaders(OpLoaders& loaders);
void register_extra_loaders(OpLoaders& loaders);
void register_linalg_loaders(OpLoaders& loaders);
void register_fft_loaders(OpLoaders& loaders);
void register_diagonal_loaders(OpLoaders& loaders);
void register_random_loaders(OpLoaders& loaders);
void register_scan_loaders(OpLoaders& loaders);
void register_ifelse_loaders(OpLoaders& loaders);
void register_gradient_loaders(OpLoaders& loaders);
void register_search_loaders(OpLoaders& loaders);
void register_print_loaders(OpLoaders& loaders);
void register_conv_loaders(OpLoaders& loaders);
void register_pool_loaders(OpLoaders& loaders);
void register_neighbours_loaders(OpLoaders& loaders);
void register_batch_norm_loaders(OpLoaders& loaders);

}  // namespace hypatia
