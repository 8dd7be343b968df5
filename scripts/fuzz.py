"""Fuzzes Hypatia against NumPy until stopped (Ctrl-C): random graph batches and gradient batches from
fresh seeds. Each new failure (by signature: kind, op, operand dtypes) is minimized and written as a
standalone reproducer script to fuzz-failures/. Run through `make fuzz`.

    python scripts/fuzz.py [--seed N] [--batches N] [--out DIR] [--no-known-bugs]
"""
import argparse
import hashlib
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))

import fuzz_graphs as fuzz  # noqa: E402
from test_fuzz import KNOWN_BUGS, GRAPHS_PER_BATCH, COSTS_PER_BATCH  # noqa: E402


def write_reproducer(out_dir, finding, seed, gradient, seen):
    signature = finding.signature()
    if signature in seen:
        return None
    seen.add(signature)
    name = f"{finding.kind}-{finding.expr.tag.replace(':', '-')}-{hashlib.sha1(signature.encode()).hexdigest()[:8]}.py"
    path = os.path.join(out_dir, name)
    with open(path, "w") as f:
        f.write(f"# seed {seed}; signature {signature}\n" + finding.reproducer(gradient=gradient))
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=None, help="first seed (default: from the clock)")
    parser.add_argument("--batches", type=int, default=0, help="stop after this many batches (0: never)")
    parser.add_argument("--out", default=os.path.join(ROOT, "fuzz-failures"))
    parser.add_argument("--no-known-bugs", action="store_true", help="also generate the known bugs' patterns")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    known = [] if args.no_known_bugs else KNOWN_BUGS
    seed = args.seed if args.seed is not None else int(time.time())
    seen = set()
    graphs = failures = batches = 0
    start = time.time()
    try:
        while not args.batches or batches < args.batches:
            gradient = batches % 5 == 4  # one gradient batch in five
            if gradient:
                checked, findings = fuzz.gradient_batch(seed, COSTS_PER_BATCH, known)
                findings = [fuzz.minimize_gradient(f) if f.kind == "grad" else f for f in findings]
            else:
                checked, findings = fuzz.run_batch(seed, GRAPHS_PER_BATCH, known)
            graphs += len(checked)
            batches += 1
            for finding in findings:
                path = write_reproducer(args.out, finding, seed, gradient, seen)
                if path:
                    failures += 1
                    print(f"seed {seed}: {finding.kind} {finding.mode} {finding.message[:160]}\n  -> {path}", flush=True)
            print(f"\r{graphs} graphs, {batches} batches, {failures} new failures, {time.time() - start:.0f} s (seed {seed})",
                  end="", flush=True)
            seed += 1
    except KeyboardInterrupt:
        pass
    print(f"\n{graphs} graphs checked; {failures} failure(s) written to {args.out}")


if __name__ == "__main__":
    main()
