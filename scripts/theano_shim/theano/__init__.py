"""A thin import shim that runs Theano 1.0's own test files against Hypatia (scripts/theano_tests.py).

`theano` is hypatia; `theano.X.Y` is hypatia.X.Y where Hypatia has that module; a name Hypatia lacks comes
from the nearest Hypatia module above, else it is a placeholder class (Theano's internals: gof, opt,
DebugMode, ...) that fails when used, so a test file imports and only the tests that use an internal fail.
Not part of Hypatia: a measuring tool."""
import importlib
import importlib.abc
import importlib.machinery
import os
import sys
import types

import hypatia

_SOURCE = "hypatia"


class _PlaceholderMeta(type):
    def __getattr__(cls, name):  # gof.op.Op: attributes of the class are placeholders too
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)


class _PlaceholderBase(metaclass=_PlaceholderMeta):
    """Stands for a Theano internal Hypatia does not have (a class: isinstance and subclassing work);
    constructing one works, using it raises."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__}: a Theano internal the shim stands in for")

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _placeholder(name)

    def __iter__(self):
        return iter(())

    def __bool__(self):
        return False


def _placeholder(name):
    return type(name, (_PlaceholderBase,), {})


class _ShimModule(types.ModuleType):
    """theano.X.Y: Hypatia's module of that name when there is one (its names copied in), and for any name
    it lacks, the same name in the nearest Hypatia module above (theano.tensor.sort.topk is
    hypatia.tensor.topk), else a placeholder."""

    def __init__(self, name, real, ancestors):
        super().__init__(name)
        if real is not None:
            # Not __getattr__: a missing name must reach this class's own fallback, not Hypatia's
            # NotImplementedError for features it lacks.
            # Submodules are looked up through the shim too (from theano.tensor import inplace).
            self.__dict__.update({k: v for k, v in vars(real).items()
                                  if k not in ("__name__", "__spec__", "__loader__", "__getattr__")
                                  and not isinstance(v, types.ModuleType)})
        self.__path__ = []
        self._shim_lookup = ([real] if real is not None else []) + ancestors

    def __getattr__(self, name):
        if name.startswith("__") or name == "_shim_lookup":
            raise AttributeError(name)
        for module in self._shim_lookup:
            try:
                value = getattr(module, name)
            except (AttributeError, NotImplementedError):
                continue
            if isinstance(value, types.ModuleType) and value.__name__.startswith(_SOURCE + "."):
                return importlib.import_module("theano" + value.__name__[len(_SOURCE):])
            return value
        return _placeholder(name)


class _Loader(importlib.abc.Loader):
    def __init__(self, real, ancestors):
        self.real, self.ancestors = real, ancestors

    def create_module(self, spec):
        return _ShimModule(spec.name, self.real, self.ancestors)

    def exec_module(self, module):
        pass


_SHIM_DIR = os.path.dirname(__file__)


def _real_module(name):
    try:
        return importlib.import_module(name)
    except (ImportError, NotImplementedError):
        parent_name, _, attribute = name.rpartition(".")
        parent = sys.modules.get(parent_name)
        try:
            candidate = getattr(parent, attribute, None) if parent is not None else None
        except NotImplementedError:
            candidate = None
        return candidate if isinstance(candidate, types.ModuleType) else None


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if not fullname.startswith("theano."):
            return None
        own = os.path.join(_SHIM_DIR, *fullname.split(".")[1:])
        if os.path.exists(own + ".py") or os.path.isdir(own):
            return None  # the shim's own module (theano.tests.unittest_tools)
        parts = (_SOURCE + fullname[len("theano"):]).split(".")
        real = _real_module(".".join(parts))
        ancestors = [m for m in (_real_module(".".join(parts[:k])) for k in range(len(parts) - 1, 0, -1)) if m is not None]
        return importlib.machinery.ModuleSpec(fullname, _Loader(real, ancestors), is_package=True)


sys.meta_path.insert(0, _Finder())

# Theano's tests were written for NumPy 1: its removed aliases (np.complex, np.float, ...) come back here.
import numpy as _numpy  # noqa: E402

for _alias, _type in (("complex", complex), ("float", float), ("int", int), ("bool", bool), ("object", object),
                      ("str", str), ("long", int), ("unicode", str)):
    if _alias not in _numpy.__dict__:
        setattr(_numpy, _alias, _type)
if "product" not in _numpy.__dict__:
    _numpy.product = _numpy.prod
if "find_common_type" not in _numpy.__dict__:  # NumPy 1's rule: scalars join arrays only across kinds
    _numpy.find_common_type = lambda array_types, scalar_types: _numpy.result_type(*array_types, *scalar_types)


class _NumpyCast(dict):  # np.cast["float32"](x), removed in NumPy 2
    def __missing__(self, dtype):
        return lambda x: _numpy.asarray(x, dtype=dtype)


if "cast" not in _numpy.__dict__:
    _numpy.cast = _NumpyCast()

# numpy.testing.dec left NumPy in 1.25; Theano's tests still decorate with it.
import numpy.testing as _numpy_testing  # noqa: E402

if not hasattr(_numpy_testing, "dec"):
    import pytest as _pytest

    _numpy_testing.dec = types.SimpleNamespace(
        skipif=lambda condition, reason="": _pytest.mark.skipif(bool(condition), reason=reason),
        knownfailureif=lambda condition, msg="": _pytest.mark.xfail(bool(condition), reason=msg),
        slow=lambda fn: fn)


def __getattr__(name):
    try:
        return getattr(hypatia, name)
    except (AttributeError, NotImplementedError):
        return _placeholder(name)


from hypatia import *  # noqa: E402,F401,F403
from hypatia import config, function, shared, grad, scan, ifelse  # noqa: E402,F401

# Submodules through the shim, so names they lack become placeholders (from theano import tensor).
for _name in ("tensor", "gradient", "printing", "compile", "scalar", "scan_module", "sandbox", "gof", "tests"):
    globals()[_name] = importlib.import_module("theano." + _name)
