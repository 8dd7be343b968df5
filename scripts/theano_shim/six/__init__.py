"""The parts of six Theano 1.0's tests import, for Python 3 only (scripts/theano_tests.py)."""
import builtins as _builtins
import io as _io
import pickle as _pickle
import sys as _sys
import types as _types

PY2, PY3 = False, True
integer_types, string_types, text_type, binary_type = (int,), (str,), str, bytes
StringIO, BytesIO = _io.StringIO, _io.BytesIO


def iteritems(d):
    return iter(d.items())


def itervalues(d):
    return iter(d.values())


def iterkeys(d):
    return iter(d.keys())


def get_unbound_function(f):
    return f


def b(s):
    return s.encode("latin-1")


def u(s):
    return s


moves = _types.ModuleType("six.moves")
moves.xrange, moves.range, moves.zip, moves.map, moves.filter = range, range, zip, map, filter
moves.reduce = __import__("functools").reduce
moves.cPickle = _pickle
moves.builtins = _builtins
moves.StringIO = _io.StringIO
moves.input = input
moves.zip_longest = __import__("itertools").zip_longest
_sys.modules["six.moves"] = moves
_sys.modules["six.moves.cPickle"] = _pickle
_sys.modules["six.moves.builtins"] = _builtins
