// Hypatia's binary format for ops, graphs and arrays (include/hypatia/serialize.h). Little-endian;
// integers and lengths are int64, reals are IEEE doubles, texts are a length then bytes. A saved op or
// graph starts with a magic word and kSaveFormatVersion.
#include "hypatia/serialize.h"

#include <cstring>
#include <unordered_map>

#include "ir/serialize.h"

#include "hypatia/sparse_array.h"

namespace hypatia {
namespace {

constexpr char kOpMagic[4] = {'H', 'Y', 'O', 'P'};
constexpr char kGraphMagic[4] = {'H', 'Y', 'G', 'R'};
constexpr char kArrayMagic[4] = {'H', 'Y', 'A', 'R'};

const OpLoaders& op_loaders() {
  static const OpLoaders* loaders = [] {
    auto* made = new OpLoaders();
    register_elemwise_loaders(*made);
    register_reduce_loaders(*made);
    register_arg_reduce_loaders(*made);
    register_dimshuffle_loaders(*made);
    register_shape_loaders(*made);
    register_shape_query_loaders(*made);
    register_type_assertion_loaders(*made);
    register_transfer_loaders(*made);
    register_subtensor_loaders(*made);
    register_blas_loaders(*made);
    register_nnet_loaders(*made);
    register_extra_loaders(*made);
    register_diagonal_loaders(*made);
    register_random_loaders(*made);
    register_scan_loaders(*made);
    register_ifelse_loaders(*made);
    register_gradient_loaders(*made);
    register_search_loaders(*made);
    register_print_loaders(*made);
    register_conv_loaders(*made);
    register_pool_loaders(*made);
    register_neighbours_loaders(*made);
    register_batch_norm_loaders(*made);
    register_linalg_loaders(*made);
    register_fft_loaders(*made);
    register_sparse_loaders(*made);
    register_sparse_dot_loaders(*made);
    return made;
  }();
  return *loaders;
}

std::string with_header(const char (&magic)[4], const std::string& body) {
  std::string out(magic, 4);
  const uint32_t version = kSaveFormatVersion;
  out.append(reinterpret_cast<const char*>(&version), 4);
  return out + body;
}

// The body after a checked header.
std::string body_of(const char (&magic)[4], const std::string& bytes, const char* what) {
  if (bytes.size() < 8 || std::memcmp(bytes.data(), magic, 4) != 0)
    throw ValueError(std::string("[load] the data is not a saved ") + what + " (or it is damaged)");
  uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 4, 4);
  if (version != kSaveFormatVersion)
    throw ValueError(std::string("[load] the ") + what + " was saved in format version " + std::to_string(version) +
                     "; this Hypatia reads version " + std::to_string(kSaveFormatVersion));
  return bytes.substr(8);
}

OpPtr load_op_body(OpReader& in) {
  const std::string tag = in.text();
  auto it = op_loaders().find(tag);
  if (it == op_loaders().end()) in.damaged("no op is saved as '" + tag + "'");
  return it->second(in);
}

enum class Kind : int64_t { Input = 0, Constant = 1, Output = 2 };

}  // namespace

// ---- OpWriter / OpReader ----

void OpWriter::integer(int64_t value) { bytes_.append(reinterpret_cast<const char*>(&value), 8); }
void OpWriter::real(double value) { bytes_.append(reinterpret_cast<const char*>(&value), 8); }
void OpWriter::text(const std::string& value) {
  integer(static_cast<int64_t>(value.size()));
  bytes_ += value;
}
void OpWriter::integers(const std::vector<int>& values) {
  integer(static_cast<int64_t>(values.size()));
  for (int v : values) integer(v);
}

void OpWriter::graph(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs) {
  std::unordered_map<const VariableNode*, int64_t> index;
  std::vector<Variable> variables;
  auto add = [&](const Variable& v) {
    if (index.emplace(v.node(), static_cast<int64_t>(variables.size())).second) variables.push_back(v);
  };
  for (const Variable& v : inputs) add(v);
  const auto order = toposort(outputs);
  for (const auto& node : order) {
    for (const Variable& v : node->inputs()) add(v);
    for (const Variable& v : node->outputs()) add(v);
  }
  for (const Variable& v : outputs) add(v);
  std::unordered_map<const Apply*, int64_t> node_index;
  for (size_t n = 0; n < order.size(); ++n) node_index[order[n].get()] = static_cast<int64_t>(n);
  std::unordered_map<const VariableNode*, bool> is_input;
  for (const Variable& v : inputs) is_input[v.node()] = true;

  integer(static_cast<int64_t>(variables.size()));
  for (const Variable& v : variables) {
    if (v.is_shared() && !is_input.count(v.node()))
      throw ValueError("[save] the graph reads the shared variable " + v.str() + "; pass it as an input (pickling saves "
                       "shared variables with their values)");
    const bool root = v.is_root();
    if (root && !v.is_constant() && !is_input.count(v.node()))
      throw ValueError("[save] the graph reads " + v.str() + ", which is not among its inputs");
    integer(static_cast<int64_t>(is_input.count(v.node()) ? Kind::Input : v.is_constant() ? Kind::Constant : Kind::Output));
    dtype(v.dtype());
    integer(!v.is_sparse() ? 0 : *v.type().format == SparseFormat::Csr ? 1 : 2);
    integer(v.ndim());
    for (int64_t d : v.type().shape) integer(d);
    text(v.name());
    text(v.where().file ? v.where().file : "");
    integer(v.where().line);
    if (!is_input.count(v.node()) && v.is_constant()) text(save_array(v.constant_value()));
  }
  integer(static_cast<int64_t>(order.size()));
  for (const auto& node : order) {
    text(node->op().save());
    integer(static_cast<int64_t>(node->inputs().size()));
    for (const Variable& v : node->inputs()) integer(index.at(v.node()));
    integer(static_cast<int64_t>(node->num_outputs()));
    for (const Variable& v : node->outputs()) integer(index.at(v.node()));
    text(node->where().file ? node->where().file : "");
    integer(node->where().line);
  }
  integer(static_cast<int64_t>(inputs.size()));
  for (const Variable& v : inputs) integer(index.at(v.node()));
  integer(static_cast<int64_t>(outputs.size()));
  for (const Variable& v : outputs) integer(index.at(v.node()));
}

const char* OpReader::take(size_t n) {
  if (n > bytes_.size() - at_) damaged("it ends early");
  const char* data = bytes_.data() + at_;
  at_ += n;
  return data;
}

void OpReader::damaged(const std::string& why) const { throw ValueError("[load] the saved data is damaged: " + why); }

int64_t OpReader::integer() {
  int64_t value;
  std::memcpy(&value, take(8), 8);
  return value;
}

double OpReader::real() {
  double value;
  std::memcpy(&value, take(8), 8);
  return value;
}

std::string OpReader::text() {
  const int64_t length = integer();
  if (length < 0 || static_cast<uint64_t>(length) > bytes_.size() - at_) damaged("a text runs past the end");
  return std::string(take(static_cast<size_t>(length)), static_cast<size_t>(length));
}

int64_t OpReader::integer_in(int64_t low, int64_t high, const char* what) {
  const int64_t value = integer();
  if (value < low || value > high)
    damaged(std::string(what) + " " + std::to_string(value) + " is outside " + std::to_string(low) + ".." + std::to_string(high));
  return value;
}

DType OpReader::dtype() {
  const std::string name = text();
#define HYPATIA_DTYPE_NAMED(enumerator, ctype, spelled) \
  if (name == spelled) return DType::enumerator;
  HYPATIA_FOR_EACH_DTYPE(HYPATIA_DTYPE_NAMED)
#undef HYPATIA_DTYPE_NAMED
  damaged("unknown dtype '" + name + "'");
}

std::vector<int> OpReader::integers() {
  const int64_t count = integer_in(0, static_cast<int64_t>(bytes_.size() - at_) / 8, "a list length");
  std::vector<int> values;
  for (int64_t i = 0; i < count; ++i) values.push_back(static_cast<int>(integer_in(INT32_MIN, INT32_MAX, "a list entry")));
  return values;
}

std::pair<std::vector<Variable>, std::vector<Variable>> OpReader::graph() {
  const int64_t limit = static_cast<int64_t>(bytes_.size() - at_);
  const int64_t count = integer_in(0, limit, "the number of variables");
  std::vector<Variable> variables(static_cast<size_t>(count));
  std::vector<Kind> kinds;
  std::vector<TensorType> types;
  std::vector<std::string> names;
  for (int64_t i = 0; i < count; ++i) {
    const Kind kind = static_cast<Kind>(integer_in(0, 2, "a variable kind"));
    const DType d = dtype();
    const int64_t layout = integer_in(0, 2, "a layout");
    const int64_t ndim = integer_in(layout ? 2 : 0, layout ? 2 : 64, "a number of dimensions");
    std::vector<int64_t> shape;
    for (int64_t a = 0; a < ndim; ++a) shape.push_back(integer_in(TensorType::kUnknown, INT64_MAX, "a dimension"));
    std::string name = text(), file = text();
    const int64_t line = integer_in(0, UINT32_MAX, "a line");
    const CodeLocation where(intern_file_name(file), static_cast<uint32_t>(line));
    if (kind == Kind::Input) {
      ForeignCallSite site(where);
      variables[i] = tensor(d, shape, name);
      if (layout) variables[i].node()->type.format = layout == 1 ? SparseFormat::Csr : SparseFormat::Csc;
    } else if (kind == Kind::Constant) {
      Array value = load_array(text());
      if (value.dtype() != d || value.ndim() != ndim || value.is_sparse() != (layout != 0)) damaged("a constant does not have its recorded type");
      ForeignCallSite site(where);
      variables[i] = constant(value, name);
    }
    kinds.push_back(kind);
    types.push_back(TensorType(d, shape));
    names.push_back(std::move(name));
  }
  const int64_t nodes = integer_in(0, limit, "the number of nodes");
  for (int64_t n = 0; n < nodes; ++n) {
    const std::string op_bytes = text();
    OpReader op_reader(op_bytes);
    OpPtr op = load_op_body(op_reader);
    std::vector<Variable> inputs;
    const int64_t num_inputs = integer_in(0, count, "a number of inputs");
    for (int64_t i = 0; i < num_inputs; ++i) {
      const Variable& input = variables[static_cast<size_t>(integer_in(0, count - 1, "an input index"))];
      if (!input) damaged("a node reads a variable computed after it");
      inputs.push_back(input);
    }
    const int64_t num_outputs = integer_in(0, count, "a number of outputs");
    std::vector<int64_t> output_slots;
    for (int64_t k = 0; k < num_outputs; ++k) output_slots.push_back(integer_in(0, count - 1, "an output index"));
    const std::string file = text();
    const CodeLocation where(intern_file_name(file), static_cast<uint32_t>(integer_in(0, UINT32_MAX, "a line")));
    std::vector<Variable> outputs = apply_op(op, inputs, where);
    if (outputs.size() != output_slots.size()) damaged(op->str() + " gives " + std::to_string(outputs.size()) + " outputs, not " +
                                                        std::to_string(output_slots.size()));
    for (size_t k = 0; k < outputs.size(); ++k) {
      const size_t slot = static_cast<size_t>(output_slots[k]);
      if (kinds[slot] != Kind::Output || variables[slot]) damaged("an output slot is taken twice");
      if (!names[slot].empty()) outputs[k].set_name(names[slot]);
      variables[slot] = outputs[k];
    }
  }
  auto indices = [&](const char* what) {
    std::vector<Variable> result;
    const int64_t n = integer_in(0, count, what);
    for (int64_t i = 0; i < n; ++i) {
      const Variable& v = variables[static_cast<size_t>(integer_in(0, count - 1, what))];
      if (!v) damaged(std::string(what) + " names a variable nothing computes");
      result.push_back(v);
    }
    return result;
  };
  std::vector<Variable> inputs = indices("the graph's inputs");
  std::vector<Variable> outputs = indices("the graph's outputs");
  return {std::move(inputs), std::move(outputs)};
}

// ---- The public side ----

std::string save_op(const Op& op) { return with_header(kOpMagic, op.save()); }

OpPtr load_op(const std::string& bytes) {
  const std::string body = body_of(kOpMagic, bytes, "op");
  OpReader in(body);
  OpPtr op = load_op_body(in);
  if (!in.at_end()) in.damaged("bytes are left after the op");
  return op;
}

std::string save_graph(const std::vector<Variable>& inputs, const std::vector<Variable>& outputs) {
  OpWriter out("graph");
  out.graph(inputs, outputs);
  return with_header(kGraphMagic, out.bytes());
}

std::pair<std::vector<Variable>, std::vector<Variable>> load_graph(const std::string& bytes) {
  const std::string body = body_of(kGraphMagic, bytes, "graph");
  OpReader in(body);
  if (in.text() != "graph") in.damaged("it does not hold a graph");
  auto graph = in.graph();
  if (!in.at_end()) in.damaged("bytes are left after the graph");
  return graph;
}

std::string save_array(const Array& array) {
  if (array.is_sparse()) {  // its format and shape, then its three arrays
    const SparseArray& m = array.sparse();
    OpWriter out("sparse_array");
    out.integer(m.format() == SparseFormat::Csr ? 0 : 1);
    out.integer(m.rows());
    out.integer(m.cols());
    for (const Array* part : {&m.data(), &m.indices(), &m.indptr()}) out.text(save_array(*part));
    return with_header(kArrayMagic, out.bytes());
  }
  OpWriter out("array");
  out.dtype(array.dtype());
  out.integer(array.ndim());
  for (int64_t d : array.shape()) out.integer(d);
  const Array data = array.contiguous();
  out.text(std::string(static_cast<const char*>(data.raw_data()), static_cast<size_t>(data.size()) * data.itemsize()));
  return with_header(kArrayMagic, out.bytes());
}

Array load_array(const std::string& bytes) {
  const std::string body = body_of(kArrayMagic, bytes, "array");
  OpReader in(body);
  const std::string tag = in.text();
  if (tag == "sparse_array") {
    const SparseFormat format = in.integer_in(0, 1, "a sparse format") == 0 ? SparseFormat::Csr : SparseFormat::Csc;
    const int64_t rows = in.integer_in(0, INT64_MAX, "a number of rows"), cols = in.integer_in(0, INT64_MAX, "a number of columns");
    Array data = load_array(in.text()), indices = load_array(in.text()), indptr = load_array(in.text());
    try {  // the arrays are checked as any user's are
      return Array::from_sparse(SparseArray(format, rows, cols, data, indices, indptr));
    } catch (const Error& error) {
      in.damaged(std::string("a sparse matrix's arrays do not fit: ") + error.what());
    }
  }
  if (tag != "array") in.damaged("it does not hold an array");
  const DType d = in.dtype();
  const int64_t ndim = in.integer_in(0, 64, "a number of dimensions");
  Shape shape;
  int64_t size = 1;
  for (int64_t a = 0; a < ndim; ++a) {
    shape.push_back(in.integer_in(0, INT64_MAX / 16, "a dimension"));
    if (shape.back() && size > INT64_MAX / 16 / shape.back()) in.damaged("the array's size overflows");
    size *= shape.back();
  }
  const std::string data = in.text();
  if (static_cast<int64_t>(data.size()) != size * static_cast<int64_t>(dtype_size(d)))
    in.damaged("the array holds " + std::to_string(data.size()) + " bytes for " + std::to_string(size) + " elements of " +
               std::string(dtype_name(d)));
  Array out = Array::empty(shape, d);
  if (!data.empty()) std::memcpy(out.raw_data(), data.data(), data.size());
  return out;
}

}  // namespace hypatia
