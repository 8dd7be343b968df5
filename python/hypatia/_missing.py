"""Theano names Hypatia does not have yet: using one raises NotImplementedError that says so.

Each module lists its missing names and installs `module_getattr` as its module __getattr__, so
`tensor.nnet.conv2d` fails with a clear message instead of an AttributeError deep inside a script;
importing a missing module (`from hypatia.ifelse import ifelse`) fails the same way.
"""
import importlib.abc
import sys


def missing(name, reason):
    """A stand-in that raises NotImplementedError when called."""

    def stand_in(*args, **kwargs):
        raise NotImplementedError(f"{name} is not implemented in Hypatia: {reason}")

    stand_in.__name__ = name.rsplit(".", 1)[-1]
    stand_in.__qualname__ = name
    stand_in.__doc__ = f"Not implemented: {reason}"
    return stand_in


def module_getattr(module_name, table):
    """A module __getattr__: names in `table` (name -> reason) raise NotImplementedError."""

    def __getattr__(name):
        if name in table:
            raise NotImplementedError(f"{module_name}.{name} is not implemented in Hypatia: {table[name]}")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__


GPU = "GPU backends are planned; Hypatia runs on the CPU"


MISSING_MODULES = {
    "hypatia.scan": "hypatia.scan is a function; the loop functions live in the module hypatia.scan_module",
    "hypatia.gpuarray": GPU, "hypatia.sandbox.cuda": GPU, "hypatia.sandbox.gpuarray": GPU,
    "hypatia.tensor.fourier": "the old Fourier op is not implemented; use hypatia.tensor.fft or hypatia.fft", "hypatia.tensor.random": "use hypatia.tensor.shared_randomstreams.RandomStreams",
    "hypatia.d3viz": "d3viz is not implemented; use hypatia.printing.pydotprint",
    "hypatia.tensor.nnet.conv3d2d": "conv3d2d's layout is not implemented; use tensor.nnet.conv3d",
    "hypatia.tensor.nnet.ctc": "CTC loss is not planned",
    "hypatia.misc.pkl_utils": "pickling graphs and functions is not implemented",
}


class _MissingModuleFinder(importlib.abc.MetaPathFinder):
    """Consulted after the real finders: a missing Theano module raises NotImplementedError."""

    def find_spec(self, fullname, path, target=None):
        for name, reason in MISSING_MODULES.items():
            if fullname == name or fullname.startswith(name + "."):
                raise NotImplementedError(f"{name} is not implemented in Hypatia: {reason}")
        return None


if not any(isinstance(finder, _MissingModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MissingModuleFinder())
