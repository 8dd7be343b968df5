"""MRG_RandomStreams: the interface of tensor.shared_randomstreams.RandomStreams (Philox underneath)."""
from ..tensor.shared_randomstreams import RandomStreams


class MRG_RandomStreams(RandomStreams):
    """Theano's MRG_RandomStreams; the numbers come from the same Philox generator as RandomStreams."""
