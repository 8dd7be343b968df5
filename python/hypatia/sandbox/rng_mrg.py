"""MRG_RandomStreams: the same interface as tensor.shared_randomstreams.RandomStreams (Philox underneath)."""
from ..tensor.shared_randomstreams import RandomStreams as MRG_RandomStreams  # noqa: F401
