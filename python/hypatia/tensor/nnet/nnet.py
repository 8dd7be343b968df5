"""Theano's theano.tensor.nnet.nnet: the same functions as hypatia.tensor.nnet."""
from . import *  # noqa: F401,F403
