"""Lazy branches (Theano's ifelse): only the branch the condition picks is computed."""
from . import _core


def ifelse(condition, then_branch, else_branch, name=None):
    """then_branch if the scalar condition is nonzero, else else_branch. The branches may be Variables or
    lists of Variables (paired output by output); the other branch's computations do not run."""
    many = isinstance(then_branch, (list, tuple))
    if many != isinstance(else_branch, (list, tuple)):
        raise TypeError("ifelse: then_branch and else_branch must both be Variables or both be lists")
    result = _core.ifelse(condition, list(then_branch) if many else then_branch,
                          list(else_branch) if many else else_branch)
    if name is not None:
        for k, out in enumerate(result if many else [result]):
            out.name = name if not many else f"{name}[{k}]"
    return result
