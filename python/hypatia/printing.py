"""Reading graphs: debugprint's tree, pprint's one line, and Graphviz pictures (Theano's theano.printing)."""
import os
import shutil
import subprocess
import sys

from . import _core
from ._missing import module_getattr


def _outputs_of(obj):
    if isinstance(obj, _core.Function):
        return None
    if isinstance(obj, _core.Variable):
        return [obj]
    if isinstance(obj, _core.Apply):
        return obj.outputs
    if isinstance(obj, (list, tuple)):
        outputs = []
        for item in obj:
            outputs.extend(_outputs_of(item) or [])
        return outputs
    raise TypeError(f"cannot print a {type(obj).__name__}: give a Variable, an Apply node, a list or a function")


def debugprint(obj, depth=-1, print_type=False, file=None, ids="CHAR", stop_on_name=False, done=None,
               print_storage=False, print_op_info=False):
    """The graph as an indented tree, one line per node. As in Theano: file='str' returns the text; a file
    given is written to and returned; by default it is printed to sys.stdout and None is returned."""
    outputs = _outputs_of(obj)
    text = obj._debugprint() if outputs is None else _core.debugprint(outputs)
    if file == "str":
        return text
    stream = sys.stdout if file is None else file
    stream.write(text if text.endswith("\n") else text + "\n")
    if file is None:
        stream.flush()
        return None
    return stream


dprint = debugprint


def pprint(obj):
    """The expression as one line of infix: 'tanh((dot(x, w) + b))'."""
    if isinstance(obj, (list, tuple)):
        return "\n".join(pprint(o) for o in obj)
    return _core.pprint(obj)


pp = pprint


def _dot_source(obj):
    if isinstance(obj, _core.Function):
        outputs = list(getattr(obj, "outputs", []))
        if not outputs:
            raise ValueError("pydotprint: the function has no outputs to draw")
        return _core.to_dot(outputs)
    return _core.to_dot(_outputs_of(obj))


def pydotprint(fct, outfile=None, format="png", compact=True, with_ids=False, high_contrast=True, cond_highlight=None,
               colorCodes=None, max_label_size=70, scan_graphs=False, var_with_name_simple=False,
               print_output_file=True, return_image=False):
    """Draws the graph of a function or variables with Graphviz. format='dot' writes the dot source;
    other formats (png, svg, pdf) need Graphviz's `dot` program. Returns the file's path (or the image's
    bytes with return_image=True)."""
    source = _dot_source(fct)
    if outfile is None:
        outfile = os.path.join(os.getcwd(), "hypatia.pydotprint." + format)
    if format == "dot":
        with open(outfile, "w") as out:
            out.write(source)
    else:
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError(f"pydotprint(format={format!r}) needs Graphviz's `dot` program "
                               "(apt-get install graphviz); format='dot' writes the source without it")
        result = subprocess.run([dot, "-T" + format, "-o", outfile], input=source.encode(), capture_output=True)
        if result.returncode != 0:
            raise RuntimeError(f"pydotprint: dot failed: {result.stderr.decode(errors='replace').strip()}")
    if return_image:
        with open(outfile, "rb") as image:
            return image.read()
    if print_output_file:
        print("The output file is available at", outfile)
    return outfile


class Print:
    """Theano's printing.Print: Print(message, attrs)(x) is x, and prints message and each of attrs of its
    value (a NumPy array's attribute, called if it is a method: '__str__', 'shape', 'min', ...) whenever the
    compiled function computes it. Each Print(...)(x) is its own node: rewrites never merge two of them."""

    def __init__(self, message="", attrs=("__str__",), global_fn=None):
        self.message, self.attrs, self.global_fn = message, tuple(attrs), global_fn

    def __call__(self, x):
        from .tensor.basic import as_tensor_variable

        variable = _core.print_op(as_tensor_variable(x), self.message, list(self.attrs))
        if self.global_fn is not None:
            _GLOBAL_FNS[self.message] = self.global_fn
        return variable


_GLOBAL_FNS = {}


def _print_value(message, attrs, value):
    """Called by the program when a Print node runs (Theano's output format)."""
    global_fn = _GLOBAL_FNS.get(message)
    if global_fn is not None:
        global_fn(None, value)
        return
    for attr in attrs:
        shown = getattr(value, attr)
        print(message, attr, "=", shown() if callable(shown) else shown)


__getattr__ = module_getattr(__name__, {
    "d3viz": "d3viz is not implemented; use pydotprint",
    "debugprint_storage": "use debugprint",
})
