#!/usr/bin/env python3
"""Runs Theano 1.0's own test files against Hypatia through a thin import shim and prints how many pass.

    .venv/bin/python scripts/theano_tests.py [test files relative to theano/, default: the list below]

Downloads Theano 1.0.5's source from PyPI (pip download) into build/theano-tests once, then runs each test
file with pytest, `theano` being scripts/theano_shim/theano (hypatia, with placeholders for Theano's
internals). A measuring tool for the compatibility work, not part of `make test`: failures that test
Theano's internals (gof, opt, DebugMode) are expected to stay.
"""
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


def run(source, relative):
    # Each file runs from a copy outside the Theano tree, so `import theano` finds the shim, not Theano.
    copy_dir = os.path.join(WORK, "run", os.path.dirname(relative))
    os.makedirs(copy_dir, exist_ok=True)
    copy = os.path.join(copy_dir, os.path.basename(relative))
    with open(os.path.join(source, relative)) as original, open(copy, "w") as out:
        out.write(original.read())
    with open(os.path.join(copy_dir, "conftest.py"), "w") as conftest:
        conftest.write("import theano  # noqa: F401  (the shim first: it restores numpy.testing.dec)\n")
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
