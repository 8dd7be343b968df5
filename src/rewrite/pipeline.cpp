// The rewrite pipeline: every pass in order, in one readable list. FAST_COMPILE runs the passes
// marked for it; FAST_RUN runs them all.
#include "rewrite/pipeline.h"

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "hypatia/printing.h"
#include "rewrite/passes/passes.h"

namespace hypatia {
namespace {

struct Pass {
  const char* name;
  int (*run)(FunctionGraph&);
  bool in_fast_compile;
};

constexpr Pass kPipeline[] = {
    {"merge", merge_duplicates, true},
    {"constant_folding", fold_constants, true},
    {"canonicalize", canonicalize, false},
    {"fold_zeros", fold_zeros, false},
    {"trim_scan_outputs", trim_scan_outputs, false},
    {"stabilize", stabilize, false},
    {"linear_algebra", rewrite_linear_algebra, false},  // (before specialize makes dots into GEMMs)
    {"specialize", specialize, false},
    {"canonicalize_after_rewrites", canonicalize, false},  // e.g. the -(-z) stabilize leaves, shapes fold_zeros reads
    {"merge_after_rewrites", merge_duplicates, false},  // canonical and specialized forms make more twins
    {"conv_epilogues", fuse_convolution_epilogues, false},
    {"fusion", fuse_elementwise, false},
    {"reduction_fusion", fuse_reductions, false},
};

bool wants_debugprint(const char* pass) {
  const char* setting = std::getenv("HYPATIA_DEBUGPRINT_AFTER");
  if (!setting) return false;
  std::stringstream names(setting);
  for (std::string name; std::getline(names, name, ',');)
    if (name == pass || name == "all") return true;
  return false;
}

}  // namespace

void optimize(FunctionGraph& graph, Mode mode) {
  if (mode == Mode::Unoptimized) return;
  for (const Pass& pass : kPipeline) {
    if (mode == Mode::FastCompile && !pass.in_fast_compile) continue;
    const int changes = pass.run(graph);
    if (wants_debugprint(pass.name))
      std::cerr << "hypatia: graph after " << pass.name << " (" << changes << " changes):\n"
                << debugprint(graph.outputs());
  }
}

}  // namespace hypatia
