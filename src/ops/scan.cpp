// Scan: the loop itself. Its inner graph is compiled once per mode, like any function, and every step
// runs it on views of the sequences and of the state buffers.
#include "ops/scan.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "backend/backend.h"
#include "compile/execution_mode.h"
#include "hypatia/elemwise.h"
#include "hypatia/shape_ops.h"
#include "ops/op_support.h"
#include "ir/serialize.h"

namespace hypatia {

int ScanLayout::lag(int r) const {
  int lag = 0;
  for (int tap : recurrent_taps[r]) lag = std::max(lag, -tap);
  return lag;
}

// As in Theano, a sequence is cut as if tap 0 were among its taps: taps {-1} read input[i] and stop one
// row early ([0..3] of arange(5)); taps {2} read input[i + 2] ([2, 3, 4]).
int ScanLayout::min_tap(int s) const { return std::min(0, *std::min_element(sequence_taps[s].begin(), sequence_taps[s].end())); }

int ScanLayout::tap_span(int s) const {
  return std::max(0, *std::max_element(sequence_taps[s].begin(), sequence_taps[s].end())) - min_tap(s);
}

int ScanLayout::num_sequence_taps() const {
  int n = 0;
  for (const auto& taps : sequence_taps) n += static_cast<int>(taps.size());
  return n;
}

int ScanLayout::num_recurrent_taps() const {
  int n = 0;
  for (const auto& taps : recurrent_taps) n += static_cast<int>(taps.size());
  return n;
}

Scan::Scan(std::vector<Variable> inner_inputs, std::vector<Variable> inner_outputs, ScanLayout layout)
    : inner_inputs_(std::move(inner_inputs)), inner_outputs_(std::move(inner_outputs)), layout_(std::move(layout)) {}

std::shared_ptr<const Scan> Scan::with_keep(std::vector<int64_t> keep) const {
  ScanLayout layout = layout_;
  layout.keep = std::move(keep);
  return std::make_shared<Scan>(inner_inputs_, inner_outputs_, std::move(layout));
}

namespace {

std::string taps_str(const std::vector<int>& taps) {
  std::string text = "[";
  for (size_t i = 0; i < taps.size(); ++i) text += (i ? "," : "") + std::to_string(taps[i]);
  return text + "]";
}

}  // namespace

std::string Scan::props() const {
  std::string text = "name=" + layout_.name + ", sequences=[";
  for (int s = 0; s < layout_.num_sequences(); ++s) text += (s ? "," : "") + taps_str(layout_.sequence_taps[s]);
  text += "], recurrent=[";
  for (int r = 0; r < layout_.num_recurrent(); ++r) {
    text += (r ? "," : "") + taps_str(layout_.recurrent_taps[r]);
    if (layout_.keep[r]) text += "keep" + std::to_string(layout_.keep[r]);
  }
  text += "], plain=" + std::to_string(layout_.num_plain);
  if (layout_.truncate_gradient >= 0) text += ", truncate_gradient=" + std::to_string(layout_.truncate_gradient);
  if (layout_.until) text += ", until";
  return text;
}

bool Scan::equals(const Op& other) const {
  const auto* scan = dynamic_cast<const Scan*>(&other);
  if (!scan || !(scan->layout_ == layout_) || scan->inner_inputs_.size() != inner_inputs_.size() ||
      scan->inner_outputs_.size() != inner_outputs_.size())
    return false;
  for (size_t i = 0; i < inner_inputs_.size(); ++i)
    if (!scan->inner_inputs_[i].is(inner_inputs_[i])) return false;
  for (size_t i = 0; i < inner_outputs_.size(); ++i)
    if (!scan->inner_outputs_[i].is(inner_outputs_[i])) return false;
  return true;
}

size_t Scan::hash() const {
  size_t h = Op::hash();
  for (const Variable& v : inner_outputs_) h = h * 31 + std::hash<const void*>()(v.node());
  return h;
}

std::vector<std::vector<bool>> Scan::connection_pattern(const Apply& node) const {
  // grad asks for every node several times; the inner graph is walked once.
  std::lock_guard<std::mutex> lock(compile_mutex_);
  if (!connections_.empty()) return connections_;
  const int S = layout_.num_sequences(), R = layout_.num_recurrent(), outer_inputs = static_cast<int>(node.inputs().size());
  // The outer input each inner input comes from: sequences, then initial states, then non-sequences.
  std::unordered_map<const VariableNode*, int> source;
  size_t inner = 0;
  for (int s = 0; s < S; ++s)
    for (size_t t = 0; t < layout_.sequence_taps[s].size(); ++t) source[inner_inputs_[inner++].node()] = 1 + s;
  for (int r = 0; r < R; ++r)
    for (size_t t = 0; t < layout_.recurrent_taps[r].size(); ++t) source[inner_inputs_[inner++].node()] = 1 + S + r;
  for (int n = 0; inner < inner_inputs_.size(); ++n) source[inner_inputs_[inner++].node()] = 1 + S + R + n;
  // What each inner output reads in one step.
  std::vector<std::vector<bool>> reads(inner_outputs_.size(), std::vector<bool>(outer_inputs, false));
  for (size_t o = 0; o < inner_outputs_.size(); ++o) {
    std::vector<const VariableNode*> stack{inner_outputs_[o].node()};
    std::unordered_set<const VariableNode*> seen;
    while (!stack.empty()) {
      const VariableNode* v = stack.back();
      stack.pop_back();
      if (!seen.insert(v).second) continue;
      if (auto it = source.find(v); it != source.end()) reads[o][it->second] = true;
      if (v->owner)
        for (const Variable& input : v->owner->inputs()) stack.push_back(input.node());
    }
  }
  // Across steps: reading state r means reading whatever state r was computed from.
  for (bool changed = true; changed;) {
    changed = false;
    for (auto& row : reads)
      for (int r = 0; r < R; ++r)
        if (row[1 + S + r])
          for (int i = 0; i < outer_inputs; ++i)
            if (reads[r][i] && !row[i]) row[i] = changed = true;
  }
  std::vector<std::vector<bool>> pattern(outer_inputs, std::vector<bool>(node.num_outputs(), false));
  for (size_t o = 0; o < inner_outputs_.size() && o < node.num_outputs(); ++o)
    for (int i = 0; i < outer_inputs; ++i) pattern[i][o] = i == 0 || reads[o][i];
  return connections_ = pattern;
}

std::vector<TensorType> Scan::output_types(const std::vector<Variable>& inputs) const {
  const int S = layout_.num_sequences(), R = layout_.num_recurrent(), N = layout_.num_non_sequences;
  if (static_cast<int>(inputs.size()) != 1 + S + R + N)
    throw Error("[scan] internal error: " + std::to_string(inputs.size()) + " outer inputs for a layout of " +
                std::to_string(1 + S + R + N));
  const Variable& n_steps = inputs[0];
  if (n_steps.ndim() != 0 || !is_integer(n_steps.dtype()))
    throw TypeError("[scan] n_steps must be an integer scalar, got " + n_steps.type().str());
  std::vector<TensorType> types;
  for (int r = 0; r < R; ++r) {
    const Variable& buffer = inputs[1 + S + r];
    const Variable& inner = inner_outputs_[r];
    if (buffer.ndim() != inner.ndim() + 1 || buffer.dtype() != inner.dtype())
      throw TypeError("[scan] the initial states of output " + std::to_string(r) + " have type " + buffer.type().str() +
                      " but the step gives " + inner.type().str());
    std::vector<int64_t> shape = buffer.type().shape;
    shape[0] = TensorType::kUnknown;
    types.emplace_back(buffer.dtype(), std::move(shape));
  }
  for (int p = 0; p < layout_.num_plain; ++p) {
    const Variable& inner = inner_outputs_[R + p];
    std::vector<int64_t> shape{TensorType::kUnknown};
    shape.insert(shape.end(), inner.type().shape.begin(), inner.type().shape.end());
    types.emplace_back(inner.dtype(), std::move(shape));
  }
  return types;
}

void Scan::prepare(Mode mode, const Device& device) const { inner_function(mode, device); }

std::vector<Variable> Scan::inner_outputs(const Mode* compiled, const Device* device) const {
  if (compiled) {
    std::lock_guard<std::mutex> lock(compile_mutex_);
    for (const std::string& where : {device ? device->str() : std::string("cpu"), std::string("cpu")})
      if (auto it = compiled_.find({*compiled, where}); it != compiled_.end()) return it->second->graph_outputs();
  }
  return inner_outputs_;
}

const Function& Scan::inner_function(Mode mode, const Device& device) const {
  std::lock_guard<std::mutex> lock(compile_mutex_);
  std::shared_ptr<Function>& compiled = compiled_[{mode, device.str()}];
  if (!compiled) {
    FunctionOptions options;
    options.mode = mode;
    options.device = device.str();
    options.results_on_device = true;  // (stored into the loop's buffers where they are)
    options.on_unused_input = UnusedInput::Ignore;  // a non-sequence fn was given but did not read
    options.no_default_updates = true;
    // A state kept in a ring of exactly its lag is read last at its oldest tap: the loop hands it over.
    size_t input = static_cast<size_t>(layout_.num_sequence_taps());
    for (int r = 0; r < layout_.num_recurrent(); ++r)
      for (int tap : layout_.recurrent_taps[r]) {
        if (layout_.keep[r] == layout_.lag(r) && tap == -layout_.lag(r)) options.donated_inputs.push_back(input);
        ++input;
      }
    compiled = std::make_shared<Function>(function(inner_inputs_, inner_outputs_, {}, {}, options));
  }
  return *compiled;
}

int64_t Scan::count_steps(const Apply& node, std::span<const Array> inputs) const {
  const int64_t requested = static_cast<int64_t>(inputs[0].item());
  if (requested < -1 || (requested == -1 && layout_.num_sequences() == 0))
    throw ValueError("[scan] '" + layout_.name + "': n_steps must be at least 0, got " + std::to_string(requested));
  int64_t steps = requested;
  for (int s = 0; s < layout_.num_sequences(); ++s) {
    const Array& sequence = inputs[1 + s];
    const int64_t available = sequence.shape(0) - layout_.tap_span(s);
    if (requested >= 0 && available < requested)
      throw ValueError("[scan] '" + layout_.name + "': sequence " + std::to_string(s) + " (" + node.input(1 + s).str() +
                       ", " + sequence.shape_dtype_str() + ", taps " + taps_str(layout_.sequence_taps[s]) +
                       ") is too short for n_steps=" + std::to_string(requested));
    if (requested < 0) steps = steps < 0 ? std::max<int64_t>(available, 0) : std::min(steps, std::max<int64_t>(available, 0));
  }
  return steps;
}

void Scan::perform(const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  perform_on(backend_for(Device{}), node, inputs, outputs);
}

void Scan::perform_on(const Backend& backend, const Apply& node, std::span<const Array> inputs, std::span<Array> outputs) const {
  const int S = layout_.num_sequences(), R = layout_.num_recurrent(), P = layout_.num_plain;
  const int N = layout_.num_non_sequences;
  const Function& step_function = inner_function(current_mode(), backend.device());
  int64_t steps = count_steps(node, inputs);  // at most; an until condition may stop the loop earlier

  // A fed-back output kept whole has one buffer (position p in row p). One kept in part lives in a ring
  // of separate arrays (position p in slot p % rows): a step's result is stored without a copy, and the
  // state a step reads last is handed over to it (the inner function may then overwrite it).
  std::vector<Array> buffers(R);
  std::vector<std::vector<Array>> rings(R);
  std::vector<int64_t> rows(R), lags(R), min_taps(S);
  std::vector<Shape> state_shapes(R);
  for (int s = 0; s < S; ++s) min_taps[s] = layout_.min_tap(s);
  for (int r = 0; r < R; ++r) {
    const Array& initial = inputs[1 + S + r];
    const int64_t lag = lags[r] = layout_.lag(r);
    state_shapes[r].assign(initial.shape().begin() + 1, initial.shape().end());
    if (initial.shape(0) != lag)
      throw ShapeError("[scan] '" + layout_.name + "': output " + std::to_string(r) + " needs " + std::to_string(lag) +
                       " initial states, got " + initial.shape_dtype_str());
    rows[r] = layout_.keep[r] > 0 ? std::min(layout_.keep[r], lag + steps) : lag + steps;
    if (layout_.keep[r] > 0) {
      rings[r].resize(rows[r]);
      for (int64_t p = 0; p < lag; ++p) rings[r][p % rows[r]] = initial.index(0, p);
      continue;
    }
    Shape shape = initial.shape();
    shape[0] = rows[r];
    buffers[r] = backend.empty(shape, initial.dtype());
    for (int64_t p = 0; p < lag; ++p) backend.copy_into(buffers[r].index(0, p), initial.index(0, p));
  }
  std::vector<Array> plain(P);
  // Non-sequences every step reads, laid out in rows once: a transposed view (the gradient loop's W.T)
  // would make each step's product read it strided (a 32x128 by 128x128 GEMM took 17 us so, 10 us in rows).
  std::vector<Array> non_sequences(inputs.begin() + 1 + S + R, inputs.begin() + 1 + S + R + N);
  // (Not a broadcast view, which a copy would expand, nor for a loop of one step.)
  auto broadcast = [](const Array& value) {
    for (int axis = 0; axis < value.ndim(); ++axis)
      if (value.strides()[axis] == 0 && value.shape(axis) > 1) return true;
    return false;
  };
  for (Array& value : non_sequences)
    if (steps > 1 && value.storage() && !value.is_sparse() && value.ndim() >= 2 && !value.is_contiguous() && !broadcast(value))
      value = copy_where_it_is(value);

  const size_t first_non_sequence = static_cast<size_t>(layout_.num_sequence_taps() + layout_.num_recurrent_taps());
  std::vector<Array> step_inputs;
  for (int64_t i = 0; i < steps; ++i) {
    step_inputs.resize(inner_inputs_.size());
    size_t k = 0;
    for (int s = 0; s < S; ++s)
      for (int tap : layout_.sequence_taps[s]) step_inputs[k++] = inputs[1 + s].index(0, i + tap - min_taps[s]);
    for (int r = 0; r < R; ++r)
      for (int tap : layout_.recurrent_taps[r]) {
        const int64_t position = i + lags[r] + tap;
        if (layout_.keep[r] == 0) step_inputs[k++] = buffers[r].index(0, position);
        else if (position + rows[r] == i + lags[r]) step_inputs[k++] = std::move(rings[r][position % rows[r]]);  // last read
        else step_inputs[k++] = rings[r][position % rows[r]];
      }
    for (int n = 0; n < N; ++n) step_inputs[first_non_sequence + n] = non_sequences[n];
    std::vector<Array> results;
    try {
      results = step_function(std::move(step_inputs));
    } catch (const Error& error) {
      rethrow_with_message(error, "[scan] '" + layout_.name + "', step " + std::to_string(i) + ": " + error.what(), error.located());
    }
    step_inputs.clear();
    for (int r = 0; r < R; ++r) {
      const int64_t position = i + lags[r];
      if (results[r].shape() != state_shapes[r])
        throw ShapeError("[scan] '" + layout_.name + "', step " + std::to_string(i) + ": output " + std::to_string(r) +
                         " has shape " + results[r].shape_dtype_str() + " but its state has shape " +
                         shape_str(state_shapes[r]) + " (a fed-back output keeps the shape of its initial value)");
      if (layout_.keep[r] == 0) backend.copy_into(buffers[r].index(0, position), results[r]);
      else rings[r][position % rows[r]] = std::move(results[r]);
    }
    for (int p = 0; p < P; ++p) {
      const Array& result = results[R + p];
      if (i == 0) {
        Shape shape{steps};
        shape.insert(shape.end(), result.shape().begin(), result.shape().end());
        plain[p] = backend.empty(shape, result.dtype());
      }
      Array row = plain[p].index(0, i);
      if (result.shape() != row.shape())
        throw ShapeError("[scan] '" + layout_.name + "', step " + std::to_string(i) + ": output " + std::to_string(R + p) +
                         " has shape " + result.shape_dtype_str() + " but it had shape " + row.shape_dtype_str() +
                         " at step 0 (each step must give the same shape)");
      backend.copy_into(row, result);
    }
    if (layout_.until && results.back().size() == 1 && to_host(results.back()).item() != 0) {
      steps = i + 1;
      break;
    }
  }
  // A loop that stopped early keeps the rows of the steps it ran.
  for (int r = 0; r < R; ++r)
    if (layout_.keep[r] == 0 && buffers[r].shape(0) != lags[r] + steps) buffers[r] = buffers[r].slice({Slice{0, lags[r] + steps}});
  for (int p = 0; p < P; ++p)
    if (steps > 0 && plain[p].shape(0) != steps) plain[p] = plain[p].slice({Slice{0, steps}});

  for (int r = 0; r < R; ++r) {
    if (layout_.keep[r] == 0) {
      outputs[r] = std::move(buffers[r]);
      continue;
    }
    // The kept rows in order, oldest first (fewer when an until condition stopped the loop early).
    const int64_t kept = std::min(rows[r], lags[r] + steps), first = lags[r] + steps - kept;
    Shape shape = inputs[1 + S + r].shape();
    shape[0] = kept;
    Array ordered = backend.empty(shape, inputs[1 + S + r].dtype());
    for (int64_t j = 0; j < kept; ++j) backend.copy_into(ordered.index(0, j), rings[r][(first + j) % rows[r]]);
    outputs[r] = std::move(ordered);
  }
  for (int p = 0; p < P; ++p) {
    if (steps == 0) {
      Shape shape{0};
      const Shape step_shape = step_shape_without_steps(p, inputs);
      shape.insert(shape.end(), step_shape.begin(), step_shape.end());
      plain[p] = backend.empty(shape, inner_outputs_[R + p].dtype());
    }
    outputs[R + p] = std::move(plain[p]);
  }
}

Shape Scan::step_shape_without_steps(int plain, std::span<const Array> inputs) const {
  const int S = layout_.num_sequences(), R = layout_.num_recurrent();
  const Variable& inner = inner_outputs_[R + plain];
  Shape fallback;  // the static shape, unknown dimensions 0
  bool known = true;
  for (int64_t dim : inner.type().shape) {
    fallback.push_back(std::max<int64_t>(dim, 0));
    known = known && dim >= 0;
  }
  if (known) return fallback;
  std::shared_ptr<Function> shapes;
  {
    std::lock_guard<std::mutex> lock(compile_mutex_);
    if (!plain_shapes_) {
      std::vector<Variable> outputs;
      for (int p = 0; p < layout_.num_plain; ++p) outputs.push_back(shape(inner_outputs_[R + p]));
      FunctionOptions options;
      options.on_unused_input = UnusedInput::Ignore;
      options.no_default_updates = true;
      plain_shapes_ = std::make_shared<Function>(function(inner_inputs_, outputs, {}, {}, options));
    }
    shapes = plain_shapes_;
  }
  std::vector<Array> step_values;
  for (int s = 0; s < S; ++s)
    for (size_t t = 0; t < layout_.sequence_taps[s].size(); ++t) {
      const Shape& outer = inputs[1 + s].shape();
      step_values.push_back(Array::zeros(Shape(outer.begin() + 1, outer.end()), inputs[1 + s].dtype()));
    }
  for (int r = 0; r < R; ++r)
    for (size_t t = 0; t < layout_.recurrent_taps[r].size(); ++t) step_values.push_back(inputs[1 + S + r].index(0, 0));
  for (int n = 0; n < layout_.num_non_sequences; ++n) step_values.push_back(inputs[1 + S + R + n]);
  try {
    const Array dims = (*shapes)(step_values)[plain];
    Shape shape;
    for (int64_t k = 0; k < dims.size(); ++k) shape.push_back(static_cast<int64_t>(dims.get_as_double(k)));
    return shape;
  } catch (const Error&) {
    return fallback;  // the shape needs the values themselves
  }
}

Variable scan_steps(const Apply& node) {
  const auto& scan = static_cast<const Scan&>(node.op());
  const ScanLayout& layout = scan.layout();
  const Variable& requested = node.input(0);
  if (layout.num_sequences() == 0) return cast(requested, DType::Int64);
  Variable available;
  for (int s = 0; s < layout.num_sequences(); ++s) {
    Variable length = maximum(shape_i(node.input(1 + s), 0) - static_cast<int64_t>(layout.tap_span(s)), static_cast<int64_t>(0));
    available = available ? minimum(available, length) : length;
  }
  if (auto known = constant_int(requested); known && *known >= 0) return cast(requested, DType::Int64);
  if (auto known = constant_int(requested); known && *known == -1) return available;
  return where(requested >= static_cast<int64_t>(0), cast(requested, DType::Int64), available);
}

std::vector<std::vector<Variable>> Scan::infer_shape(const Apply& node,
                                                     const std::vector<std::vector<Variable>>& input_shapes) const {
  const int S = layout_.num_sequences(), R = layout_.num_recurrent();
  // With an until condition the steps run are known only when the loop has run.
  const Variable steps = layout_.until ? Variable() : scan_steps(node);
  std::vector<std::vector<Variable>> shapes;
  for (int r = 0; r < R; ++r) {
    std::vector<Variable> dims = input_shapes[1 + S + r];
    Variable positions = layout_.until ? Variable() : steps + static_cast<int64_t>(layout_.lag(r));
    dims[0] = layout_.until ? shape_i(node.output(r), 0)
                            : layout_.keep[r] > 0 ? minimum(positions, layout_.keep[r]) : positions;
    shapes.push_back(std::move(dims));
  }
  for (int p = 0; p < layout_.num_plain; ++p) {
    const Variable out = node.output(R + p);
    std::vector<Variable> dims{layout_.until ? shape_i(out, 0) : steps};
    const TensorType& inner = inner_outputs_[R + p].type();
    for (int axis = 0; axis < inner.ndim(); ++axis)
      dims.push_back(inner.shape[axis] >= 0 ? constant(static_cast<double>(inner.shape[axis]), DType::Int64)
                                            : shape_i(out, axis + 1));
    shapes.push_back(std::move(dims));
  }
  return shapes;
}

// ---- Saving ----

std::string Scan::save() const {
  OpWriter out("scan");
  out.text(layout_.name);
  out.integer(static_cast<int64_t>(layout_.sequence_taps.size()));
  for (const auto& taps : layout_.sequence_taps) out.integers(taps);
  out.integer(static_cast<int64_t>(layout_.recurrent_taps.size()));
  for (const auto& taps : layout_.recurrent_taps) out.integers(taps);
  out.integer(static_cast<int64_t>(layout_.keep.size()));
  for (int64_t k : layout_.keep) out.integer(k);
  out.integer(layout_.num_plain);
  out.integer(layout_.num_non_sequences);
  out.integer(layout_.truncate_gradient);
  out.flag(layout_.until);
  out.graph(inner_inputs_, inner_outputs_);
  return out.bytes();
}

void register_scan_loaders(OpLoaders& loaders) {
  loaders["scan"] = [](OpReader& in) -> OpPtr {
    ScanLayout layout;
    layout.name = in.text();
    auto tap_lists = [&](std::vector<std::vector<int>>& lists) {
      const int64_t count = in.integer_in(0, 1 << 20, "a number of tap lists");
      for (int64_t i = 0; i < count; ++i) lists.push_back(in.integers());
    };
    tap_lists(layout.sequence_taps);
    tap_lists(layout.recurrent_taps);
    const int64_t kept = in.integer_in(0, 1 << 20, "a number of kept buffers");
    for (int64_t i = 0; i < kept; ++i) layout.keep.push_back(in.integer_in(0, INT64_MAX, "a kept row count"));
    layout.num_plain = static_cast<int>(in.integer_in(0, 1 << 20, "a number of outputs"));
    layout.num_non_sequences = static_cast<int>(in.integer_in(0, 1 << 20, "a number of non-sequences"));
    layout.truncate_gradient = static_cast<int>(in.integer_in(-1, INT32_MAX, "truncate_gradient"));
    layout.until = in.flag();
    if (layout.keep.size() != layout.recurrent_taps.size()) in.damaged("the loop keeps rows for another number of outputs");
    for (const auto& taps : layout.sequence_taps)
      if (taps.empty()) in.damaged("a sequence of the loop has no taps");
    for (const auto& taps : layout.recurrent_taps) {
      if (taps.empty()) in.damaged("an output of the loop has no taps");
      for (int tap : taps)
        if (tap >= 0) in.damaged("an output of the loop reads tap " + std::to_string(tap) + " (taps of outputs are negative)");
    }
    auto [inner_inputs, inner_outputs] = in.graph();
    if (static_cast<int>(inner_inputs.size()) != layout.num_sequence_taps() + layout.num_recurrent_taps() + layout.num_non_sequences ||
        static_cast<int>(inner_outputs.size()) != layout.num_recurrent() + layout.num_plain + (layout.until ? 1 : 0))
      in.damaged("the loop's inner graph does not fit its layout");
    return std::make_shared<Scan>(std::move(inner_inputs), std::move(inner_outputs), std::move(layout));
  };
}
}  // namespace hypatia
