#!/usr/bin/env python3
"""Runs Theano 1.0's own test files against Hypatia through a thin import shim and prints how many pass.

    .venv/bin/python scripts/theano_tests.py [test files relative to theano/, default: the list below]

Downloads Theano 1.0.5's source from PyPI (pip download) into build/theano-tests once, then runs each test
file with pytest, `theano` being scripts/theano_shim/theano (hypatia, with placeholders for Theano's
internals). A measuring tool for the compatibility work, not part of `make test`: failures that test
Theano's internals (gof, opt, DebugMode) are expected to stay.
"""
import ast
import os
import re
import subprocess
import sys
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORK = os.path.join(ROOT, "build", "theano-tests")
VERSION = "1.0.5"
FILES = [
    "tensor/tests/test_basic.py", "tensor/tests/test_elemwise.py", "tensor/tests/test_subtensor.py",
    "tensor/nnet/tests/test_nnet.py", "tensor/tests/test_extra_ops.py", "tensor/tests/test_sort.py",
    "tests/test_gradient.py", "scan_module/tests/test_scan.py", "tests/test_ifelse.py",
    "tensor/tests/test_shared_randomstreams.py", "compile/tests/test_function_module.py",
    "tensor/tests/test_sharedvar.py", "tensor/tests/test_complex.py",
]


def theano_source():
    source = os.path.join(WORK, f"Theano-{VERSION}", "theano")
    if not os.path.isdir(source):
        os.makedirs(WORK, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
                        f"theano=={VERSION}", "-d", WORK], check=True)
        with tarfile.open(os.path.join(WORK, f"Theano-{VERSION}.tar.gz")) as archive:
            archive.extractall(WORK, filter="data")
    return source


# Written beside each copied test file: the shim is imported first (it restores numpy.testing.dec), and
# the test module is reachable by its own name, as Theano's testers check with eval(module + "." + name).
CONFTEST = """import builtins
import theano  # noqa: F401


def pytest_collection_modifyitems(session, config, items):
    for item in items:
        module = getattr(item, "module", None)
        if module is not None:
            setattr(builtins, module.__name__.split(".")[0], module)
"""


def _has_yield(function):
    nested = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
    stack = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, nested):
            stack.extend(ast.iter_child_nodes(node))
    return False


def nose_generators_as_tests(text):
    """nose ran test generators (tests that yield (function, *args)); pytest refuses them. Each becomes a
    plain test that calls what it yields."""
    tree = ast.parse(text)
    lines = text.splitlines()
    appended = []
    scopes = [(None, tree.body)] + [(node.name, node.body) for node in tree.body if isinstance(node, ast.ClassDef)]
    for owner, body in scopes:
        for node in body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test") and _has_yield(node):
                line = node.lineno - 1 + len(node.decorator_list)
                lines[line] = lines[line].replace(f"def {node.name}(", f"def _generator_{node.name}(", 1)
                if owner is None:
                    appended.append(f"def {node.name}():\n    for case in _generator_{node.name}():\n"
                                    f"        case[0](*case[1:])\n")
                else:
                    appended.append(f"def _run_{owner}_{node.name}(self):\n"
                                    f"    for case in self._generator_{node.name}():\n        case[0](*case[1:])\n"
                                    f"{owner}.{node.name} = _run_{owner}_{node.name}\n")
    return "\n".join(lines) + "\n\n" + "\n".join(appended)


def run(source, relative):
    # Each file runs from a copy outside the Theano tree, so `import theano` finds the shim, not Theano.
    copy_dir = os.path.join(WORK, "run", os.path.dirname(relative))
    os.makedirs(copy_dir, exist_ok=True)
    copy = os.path.join(copy_dir, os.path.basename(relative))
    with open(os.path.join(source, relative)) as original, open(copy, "w") as out:
        out.write(nose_generators_as_tests(original.read()))
    with open(os.path.join(copy_dir, "conftest.py"), "w") as conftest:
        conftest.write(CONFTEST)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.join(ROOT, "scripts", "theano_shim"), os.path.join(ROOT, "python"),
                                         os.path.join(ROOT, "build", "python")])
    env.setdefault("HYPATIA_FLAGS", "compiledir=" + os.path.join(ROOT, "build", "kernel_cache"))
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=no",
                             "-o", "addopts=", "--rootdir", copy_dir, copy],
                            cwd=copy_dir, env=env, capture_output=True, text=True)
    counts = {key: 0 for key in ("passed", "failed", "error", "skipped", "xfailed", "xpassed")}
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    for number, key in re.findall(r"(\d+) (passed|failed|errors?|skipped|xfailed|xpassed)", summary):
        counts["error" if key.startswith("error") else key] += int(number)
    return counts, summary


def main():
    source = theano_source()
    files = sys.argv[1:] or FILES
    totals = {}
    print(f"{'file':50} {'passed':>7} {'failed':>7} {'errors':>7} {'skipped':>8}")
    for relative in files:
        counts, summary = run(source, relative)
        for key, value in counts.items():
            totals[key] = totals.get(key, 0) + value
        print(f"{relative:50} {counts['passed']:7} {counts['failed']:7} {counts['error']:7} {counts['skipped']:8}"
              + ("" if any(counts.values()) else f"   ({summary or 'no summary'})"))
    ran = totals["passed"] + totals["failed"] + totals["error"]
    print(f"{'total':50} {totals['passed']:7} {totals['failed']:7} {totals['error']:7} {totals['skipped']:8}")
    print(f"passed {totals['passed']} of {ran} that ran ({100.0 * totals['passed'] / max(ran, 1):.1f}%)")


if __name__ == "__main__":
    main()
