"""Theano's sandbox: only rng_mrg's MRG_RandomStreams is here, as an alias of RandomStreams."""
