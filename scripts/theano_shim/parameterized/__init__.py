"""The part of the parameterized package Theano 1.0's tests use: parameterized.expand (scripts/theano_tests.py)."""
import inspect
import re


class param:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class parameterized:
    @staticmethod
    def to_safe_name(text):
        return re.sub("[^a-zA-Z0-9_]+", "_", text)

    @classmethod
    def expand(cls, inputs, name_func=None, **_ignored):
        """Adds one test per entry of inputs beside the decorated one (which is removed), as the package does."""
        def decorate(fn):
            namespace = inspect.currentframe().f_back.f_locals
            is_method = next(iter(inspect.signature(fn).parameters), None) == "self"
            for i, entry in enumerate(inputs):
                p = entry if isinstance(entry, param) else param(*entry) if isinstance(entry, (tuple, list)) else param(entry)
                name = name_func(fn, i, p) if name_func else f"{fn.__name__}_{i}_{cls.to_safe_name(str(p.args[0]) if p.args else '')}"

                def make(p=p):
                    if is_method:
                        return lambda self: fn(self, *p.args, **p.kwargs)
                    return lambda: fn(*p.args, **p.kwargs)
                namespace[name] = make()
            return None
        return decorate
