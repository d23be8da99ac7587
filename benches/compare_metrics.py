#!/usr/bin/env python3
"""Times scikit-learn and the `metrics` crate on the same seeded scores, in one run.

Usage (from the repository root):
    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
    .venv/bin/python benches/compare_metrics.py [--sizes 1000000 10000000] [--repeats 3]

For each size N it draws labels ~ Bernoulli(0.3) and probabilities
sigmoid(normal(1.5·label, 1)), rounded to float32 like a network's pixel outputs
(--dtype float64 keeps full precision), writes them as raw files, times scikit-learn
in this process and the crate through its release example `metrics_timing`, checks
that the values agree, and prints the ratio table. Each time is the best wall time
of at least --repeats runs, repeated until one second has been spent (both sides),
from in-memory arrays to the value, sort included; file reading excluded.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import sklearn
from numpy._core import multiarray
from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "target/release/examples/metrics_timing"


def best(repeats, f, min_total=1.0):
    """Best wall time of at least `repeats` runs, repeating until `min_total` seconds
    have been spent (timeit style; the Rust side uses the same rule)."""
    times, value = [], None
    while len(times) < repeats or sum(times) < min_total:
        t0 = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - t0)
    return min(times), value


def sk_precision_at_recall(y, s, r):
    precision, recall, _ = precision_recall_curve(y, s)
    return float(precision[recall >= r].max())


def sk_all_four(y, s):
    auc = roc_auc_score(y, s)
    ap = average_precision_score(y, s)
    precision, recall, _ = precision_recall_curve(y, s)
    p_at_r = precision[recall >= 0.9].max()
    r_at_p = recall[precision >= 0.9].max()
    return [auc, ap, float(p_at_r), float(r_at_p)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--seed", type=int, default=2017)
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--no-build", action="store_true", help="skip the cargo build")
    args = ap.parse_args()

    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "-q", "-p", "metrics", "--example", "metrics_timing"],
            cwd=ROOT,
            check=True,
        )
    # NumPy asks the kernel for transparent huge pages on large arrays (madvise); give
    # the Rust process the same through glibc's malloc tunable, so that neither side
    # pays 4 KiB page faults the other does not.
    numpy_hugepages = bool(multiarray._get_madvise_hugepage())
    rust_env = dict(os.environ)
    if numpy_hugepages:
        rust_env["GLIBC_TUNABLES"] = "glibc.malloc.hugetlb=1"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            rng = np.random.default_rng(args.seed)
            y = (rng.random(n) < 0.3).astype(np.uint8)
            s = 1.0 / (1.0 + np.exp(-rng.normal(1.5 * y, 1.0)))
            s = s.astype(args.dtype).astype(np.float64)
            sp, lp = pathlib.Path(tmp, "scores.f64"), pathlib.Path(tmp, "labels.u8")
            s.astype("<f8").tofile(sp)
            y.tofile(lp)
            out = subprocess.run(
                [str(EXAMPLE), str(sp), str(lp), str(args.repeats)],
                env=rust_env,
                check=True,
                capture_output=True,
                text=True,
            )
            rust = json.loads(out.stdout)
            sk = {
                "roc_auc": best(args.repeats, lambda: roc_auc_score(y, s)),
                "average_precision": best(args.repeats, lambda: average_precision_score(y, s)),
                "precision_at_recall": best(
                    args.repeats, lambda: sk_precision_at_recall(y, s, 0.9)
                ),
                "all_four": best(args.repeats, lambda: sk_all_four(y, s)),
            }
            for task, (t_sk, v_sk) in sk.items():
                t_rs, v_rs = rust[task]
                v_sk_main = v_sk[0] if isinstance(v_sk, list) else v_sk
                rows.append((n, task, t_sk, t_rs, t_sk / t_rs, abs(v_sk_main - v_rs)))
            r_at_p_diff = abs(sk["all_four"][1][3] - rust["recall_at_precision"])
            rows.append((n, "(R@P(0.9) check)", float("nan"), float("nan"), float("nan"),
                         r_at_p_diff))

    print(f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, python "
          f"{sys.version.split()[0]}; scores {args.dtype}; best of >= {args.repeats} runs "
          f"and >= 1 s per task; huge pages (numpy madvise / glibc hugetlb=1): "
          f"{numpy_hugepages}")
    print(f"| {'N':>10} | {'task':<22} | {'sklearn s':>9} | {'metrics s':>9} | "
          f"{'speed-up':>8} | {'abs diff':>8} |")
    print(f"|{'-' * 12}|{'-' * 24}|{'-' * 11}|{'-' * 11}|{'-' * 10}|{'-' * 10}|")
    worst = 0.0
    # "abs diff" = |value(scikit-learn) - value(metrics)|.
    for n, task, t_sk, t_rs, ratio, diff in rows:
        worst = max(worst, diff)
        if np.isnan(ratio):
            print(f"| {n:>10} | {task:<22} | {'':>9} | {'':>9} | {'':>8} | {diff:>8.1e} |")
        else:
            print(f"| {n:>10} | {task:<22} | {t_sk:>9.3f} | {t_rs:>9.3f} | "
                  f"{ratio:>7.1f}x | {diff:>8.1e} |")
    if worst > 1e-9:
        sys.exit(f"values disagree: worst |diff| {worst:e}")


if __name__ == "__main__":
    main()
