def attr(*args, **kwargs):
    def decorate(fn):
        return fn
    return decorate
