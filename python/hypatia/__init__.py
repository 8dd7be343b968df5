"""Hypatia: a symbolic tensor compiler. Theano's API over a C++ core.

    import hypatia as theano
    import hypatia.tensor as tensor
"""
import os as _os
import pkgutil as _pkgutil

# In a source build the extension lives in the build tree's hypatia/ directory (see python/CMakeLists.txt).
__path__ = _pkgutil.extend_path(__path__, __name__)

from . import _core  # noqa: E402

_core._set_library_directory(_os.path.dirname(_os.path.abspath(__file__)) + _os.sep)

from ._core import ShapeError, GradientError, Variable, SharedVariable, Apply, Op  # noqa: E402,F401
from ._missing import GPU, module_getattr  # noqa: E402
from .configparser import config, change_flags  # noqa: E402,F401
from . import tensor  # noqa: E402,F401
from . import gradient, printing, compile, scalar, updates  # noqa: E402,F401
from .updates import OrderedUpdates  # noqa: E402,F401
from .compile import function, shared, In, Out, Param, Mode, finish_compiling  # noqa: E402,F401
from .gradient import grad, Rop, Lop  # noqa: E402,F401
from . import scan_module  # noqa: E402,F401
from .scan_module import scan, map, reduce, foldl, foldr  # noqa: E402,F401
from .ifelse import ifelse  # noqa: E402,F401
from . import sparse  # noqa: E402,F401
from .printing import pp, pprint, debugprint, pydotprint  # noqa: E402,F401
from .tensor.basic import dot  # noqa: E402,F401

__version__ = "0.1.0"


def clone(output, replace=None, strict=True, share_inputs=True, copy_inputs=None):
    """A copy of the graph of output (a Variable or a list), with replace ({old: new}) substituted."""
    single = isinstance(output, Variable)
    outputs = [output] if single else list(output)
    pairs = list((replace or {}).items()) if isinstance(replace, dict) else list(replace or [])
    cloned = _core.clone_replace(outputs, [(old, tensor.as_tensor_variable(new)) for old, new in pairs])
    return cloned[0] if single else cloned


clone_replace = clone


def _asarray(a, dtype, order=None):
    """Theano's theano._asarray: numpy.asarray in `dtype` ('floatX' is config.floatX)."""
    import numpy as np

    return np.asarray(a, dtype=config.floatX if str(dtype) == "floatX" else np.dtype(dtype), order=order)

__getattr__ = module_getattr(__name__, {
    "gpuarray": GPU, "sandbox_cuda": GPU, "OpFromGraph":
    "OpFromGraph is not implemented", "ProfileStats": "profiling arrives with the optimizing compiler",
})
