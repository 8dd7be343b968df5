"""Theano's theano.compile.monitormode. MonitorMode calls Python functions before and after each node runs;
Hypatia's compiled functions run their whole schedule in C++ and do not hand per-node values back to
Python, so it is not available."""
from .._missing import missing

MonitorMode = missing("compile.MonitorMode", "functions run their whole schedule in C++ and do not expose each "
                      "node's inputs and outputs to Python; return intermediate values as extra outputs instead")
detect_nan = missing("compile.monitormode.detect_nan", "it needs MonitorMode; check the outputs with numpy.isnan")
