import unittest as _unittest

_case = _unittest.TestCase()
assert_raises = _case.assertRaises
assert_equal = _case.assertEqual
assert_true = _case.assertTrue
assert_false = _case.assertFalse


def raises(*exceptions):
    def decorate(fn):
        def wrapper(*args, **kwargs):
            try:
                fn(*args, **kwargs)
            except exceptions:
                return
            raise AssertionError(f"{fn.__name__} did not raise {exceptions}")
        wrapper.__name__ = fn.__name__
        return wrapper
    return decorate
