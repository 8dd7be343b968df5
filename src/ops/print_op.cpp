// Print (Theano's printing.Print): the identity, printing its value whenever the program computes it.
#include <atomic>
#include <iostream>

#include "hypatia/printing.h"
#include "ir/serialize.h"
#include "ops/op_support.h"

namespace hypatia {
namespace {

std::atomic<PrintHandler> print_handler{nullptr};

void print_to_stdout(const std::string& message, const std::vector<std::string>& attrs, const Array& value) {
  for (const std::string& attr : attrs) {
    std::cout << message << " " << attr << " = ";
    if (attr == "shape") std::cout << shape_str(value.shape());
    else if (attr == "dtype") std::cout << dtype_name(value.dtype());
    else std::cout << value.str();
    std::cout << "\n";
  }
  std::cout.flush();
}

class PrintOp : public Op {
 public:
  PrintOp(std::string message, std::vector<std::string> attrs) : message_(std::move(message)), attrs_(std::move(attrs)) {}
  std::string name() const override { return "print"; }
  std::string props() const override { return "message=" + message_; }
  // Each print is its own: two prints of one value both print.
  bool equals(const Op& other) const override { return this == &other; }
  size_t hash() const override { return std::hash<const void*>()(this); }
  bool constant_foldable() const override { return false; }
  ViewMap view_map() const override { return {{0, 0}}; }
  std::vector<TensorType> output_types(const std::vector<Variable>& inputs) const override {
    if (inputs.size() != 1) throw TypeError("[print] takes one input");
    return {inputs[0].type()};
  }
  void perform(const Apply&, std::span<const Array> inputs, std::span<Array> outputs) const override {
    if (PrintHandler handler = print_handler.load()) handler(message_, attrs_, inputs[0]);
    else print_to_stdout(message_, attrs_, inputs[0]);
    outputs[0] = inputs[0];
  }
  std::vector<Variable> grad(const Apply&, const std::vector<Variable>& output_grads) const override { return {output_grads[0]}; }
  std::vector<Variable> r_op(const Apply& node, const std::vector<Variable>& eval_points) const override {
    return {eval_points.empty() ? Variable() : eval_points[0]};
  }
  std::vector<std::vector<Variable>> infer_shape(const Apply&, const std::vector<std::vector<Variable>>& shapes) const override {
    return {shapes[0]};
  }
  std::string save() const override {
    OpWriter out("print");
    out.text(message_);
    out.integer(static_cast<int64_t>(attrs_.size()));
    for (const std::string& attr : attrs_) out.text(attr);
    return out.bytes();
  }

 private:
  std::string message_;
  std::vector<std::string> attrs_;
};

}  // namespace

Variable print(const Operand& x, std::string message, std::vector<std::string> attrs) {
  return apply_op1(std::make_shared<PrintOp>(std::move(message), std::move(attrs)), {x.as_variable()}, x.where());
}

void set_print_handler(PrintHandler handler) { print_handler = handler; }

void register_print_loaders(OpLoaders& loaders) {
  loaders["print"] = [](OpReader& in) -> OpPtr {
    std::string message = in.text();
    std::vector<std::string> attrs;
    const int64_t count = in.integer_in(0, 1 << 16, "a number of attributes");
    for (int64_t i = 0; i < count; ++i) attrs.push_back(in.text());
    return std::make_shared<PrintOp>(std::move(message), std::move(attrs));
  };
}

}  // namespace hypatia
