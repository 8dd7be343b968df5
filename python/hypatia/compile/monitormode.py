"""Theano's theano.compile.monitormode: MonitorMode calls Python functions before and after each step of
the compiled program, with the step's node and values (the program runs as in FAST_RUN otherwise)."""
import types

import numpy as np

from . import Mode


class MonitorMode(Mode):
    """pre_func(i, node, fn) and post_func(i, node, fn) for each step i of each call: fn.inputs and
    fn.outputs are lists of one-element lists holding the values (Theano's storage cells); before a step its
    outputs hold None. optimizer as Mode's ('fast_run' by default, None to run the graph as built)."""

    def __init__(self, pre_func=None, post_func=None, optimizer="default", linker=None):
        super().__init__(linker=linker, optimizer="fast_run" if optimizer == "default" else optimizer)
        self.pre_func, self.post_func = pre_func, post_func

    def node_monitor(self):
        """The callback the compiled program calls per step, or None when there is nothing to call."""
        if self.pre_func is None and self.post_func is None:
            return None

        def monitor(index, node, inputs, outputs, after):
            call = self.post_func if after else self.pre_func
            if call is not None:
                fn = types.SimpleNamespace(inputs=[[v] for v in inputs],
                                           outputs=[[v] for v in outputs] if after else [[None] for _ in node.outputs])
                call(index, node, fn)
        return monitor


def detect_nan(i, node, fn):
    """Theano's example post_func: reports the first step whose outputs hold a NaN."""
    from ..printing import debugprint

    for output in fn.outputs:
        if output[0] is not None and np.isnan(np.asarray(output[0], dtype=float)).any():
            print("*** NaN detected ***")
            debugprint(node.outputs)
            print("Inputs : %s" % [value[0] for value in fn.inputs])
            print("Outputs: %s" % [value[0] for value in fn.outputs])
            break
