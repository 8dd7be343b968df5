"""The parts of nose Theano 1.0's tests import, over unittest and pytest (scripts/theano_tests.py)."""
