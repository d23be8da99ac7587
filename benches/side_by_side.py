#!/usr/bin/env python3
"""Side-by-side benchmark: this project against PyTorch and scikit-learn, same data, one run.

Usage (from the repository root, in the project's venv made by scripts/setup-venv.sh):

    .venv/bin/python benches/side_by_side.py            # full run, writes docs/benchmarks.md
    .venv/bin/python benches/side_by_side.py --quick    # fewer repetitions, smaller sizes
    .venv/bin/python benches/side_by_side.py --only seg # rows whose id contains "seg"

What it does:
1. builds the release `timings` binary of the `benches` package (`--no-build` skips it) and
   has it write the seeded inputs (raw little-endian files) into a temporary folder;
2. for every row, times the Rust workload (`timings run ID`) and the Python reference on the
   same inputs (`side_by_side.py worker ID DIR`), each in its own process, alternating, so
   that each reports its own peak resident memory (`/proc/self/status` VmHWM, reset after
   the inputs are built) and a slow spell of the shared machine hits both sides;
3. runs the metrics engineer's `benches/compare_metrics.py` (scikit-learn vs `metrics`, its
   own data) for the metric ratios, rather than duplicating it;
4. prints the tables and writes docs/benchmarks.md with the machine description.

Both sides use 2 threads (`torch.set_num_threads(2)`, `tch::set_num_threads(2)`). The
PyTorch losses below are written from the formulas of the reference
(shared/reference/global-objectives.md §2.1, §2.8, §4.2, §4.5), not ported from any code.
Times are medians of the repetitions; "extra peak" is the peak resident set above what the
process held once its inputs were built.
"""

import argparse
import datetime
import json
import math
import os
import pathlib
import platform
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
TIMINGS = ROOT / "target/release/timings"
RAW = ROOT / "target/side_by_side/results.json"
THREADS = 2
N_SIZES = [1 << 14, 1 << 17, 1 << 21]
ANCHORS = [5, 20, 50]


# --------------------------------------------------------------------------------------
# Memory: the same two /proc fields as benches/src/memory.rs.
# --------------------------------------------------------------------------------------


def status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


# --------------------------------------------------------------------------------------
# PyTorch references (worker side). Imported lazily so that the driver stays light.
# --------------------------------------------------------------------------------------


def torch_refs():
    import torch
    import torch.nn.functional as F

    kappa = math.log(2.0)  # xent: φ₊(0) = ln 2

    def weighted_xent(z, x, c, d):
        """§2.1: c·z·softplus(−x) + d·(1 − z)·softplus(x), in its stable rearranged form."""
        softplus_neg = torch.clamp(-x, min=0) + torch.log1p(torch.exp(-torch.abs(x)))
        return d * (x - z * x) + (d + (c - d) * z) * softplus_neg

    class Priors:
        """§2.8: streaming weighted prior with pseudocounts 1 and 1, updated per forward."""

        def __init__(self, labels_shape_l=1):
            self.pos = torch.ones(labels_shape_l, dtype=torch.float64)
            self.total = torch.full((labels_shape_l,), 2.0, dtype=torch.float64)

        def update(self, y):
            with torch.no_grad():
                self.pos += y.sum(0, dtype=torch.float64)
                self.total += y.shape[0]
                return (self.pos / self.total).to(y.dtype)

    class ThresholdLoss:
        """§4.1, §4.2, §4.4 with L = 1; the multiplier moves by dual ascent, so it needs no
        gradient. Also returns what a dual step needs: TP_lb, FP_ub (§3.5, §3.6) and
        ∂J/∂λ, all detached."""

        def __init__(self, form, target):
            self.form, self.target = form, target
            self.lam = torch.ones(1)
            self.priors = Priors()

        def __call__(self, s, y):
            pi = self.priors.update(y.view(-1, 1))
            lam, t = self.lam, self.target
            if self.form == "precision_at_recall":
                c, d, tau = lam, 1.0, lam * pi * (t - 1.0) * kappa
            elif self.form == "recall_at_precision":
                c, d, tau = 1.0 + lam * (1.0 - t), lam * t, -lam * (1.0 - t) * pi * kappa
            else:  # tpr_at_fpr
                c, d, tau = 1.0, lam, -lam * t * (1.0 - pi) * kappa
            loss = weighted_xent(y, s, c, d).mean() + tau.sum()
            with torch.no_grad():
                pos_loss = weighted_xent(y, s, 1.0, 0.0)
                neg_loss = weighted_xent(y, s, 0.0, 1.0)
                tp_lb = (y - pos_loss / kappa).sum()
                fp_ub = (neg_loss / kappa).sum()
                n = s.shape[0]
                if self.form == "precision_at_recall":
                    grad = pos_loss.sum() / n + pi * (t - 1.0) * kappa
                elif self.form == "recall_at_precision":
                    grad = ((1 - t) * pos_loss.sum() + t * neg_loss.sum()) / n
                    grad = grad - (1 - t) * pi * kappa
                else:
                    grad = neg_loss.sum() / n - t * (1 - pi) * kappa
            return loss, (tp_lb, fp_ub, grad)

        def dual_step(self, grad, rate=1.0):
            with torch.no_grad():
                self.lam = torch.clamp(self.lam + rate * grad, min=0.0)

    class PrAucLoss:
        """§4.5: K recall@precision losses at α_k = k/(K + 1), biases added to the logits,
        mean over anchors (the §4.5 normaliser is exactly 1/K); L = 1. Plain autograd over
        the [N, 1, K] tensor, as upstream."""

        def __init__(self, k):
            self.alpha = torch.arange(1, k + 1, dtype=torch.float32).view(1, 1, k) / (k + 1)
            self.lam = torch.ones(1, 1, k)
            self.biases = torch.zeros(1, 1, k, requires_grad=True)
            self.priors = Priors()

        def __call__(self, s, y):
            y2 = y.view(-1, 1)
            pi = self.priors.update(y2).view(1, 1, 1)
            a, lam = self.alpha, self.lam
            z = s.view(-1, 1, 1) + self.biases  # [N, 1, K]
            per = weighted_xent(y2.unsqueeze(2), z, 1.0 + lam * (1.0 - a), lam * a)
            tau = -lam * (1.0 - a) * pi * kappa  # [1, 1, K]
            return (per.mean(2) + tau.mean(2)).mean()

    class Block(torch.nn.Module):
        def __init__(self, cin, cout):
            super().__init__()
            self.body = torch.nn.Sequential(
                torch.nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                torch.nn.BatchNorm2d(cout),
                torch.nn.ReLU(),
                torch.nn.Conv2d(cout, cout, 3, padding=1, bias=False),
                torch.nn.BatchNorm2d(cout),
                torch.nn.ReLU(),
            )

        def forward(self, x):
            return self.body(x)

    class UNet(torch.nn.Module):
        """The layout of crates/seg/src/model.rs: padded 3×3 conv·BN·ReLU blocks, 2×2 max
        pooling, 2×2 stride-2 transposed convolutions, skip concatenation, 1×1 head."""

        def __init__(self, depth, base, cin):
            super().__init__()
            w = [base << i for i in range(depth + 1)]
            self.enc = torch.nn.ModuleList(
                [Block(cin, w[0])] + [Block(w[i - 1], w[i]) for i in range(1, depth + 1)]
            )
            self.up = torch.nn.ModuleList(
                [torch.nn.ConvTranspose2d(w[i + 1], w[i], 2, stride=2) for i in range(depth)]
            )
            self.dec = torch.nn.ModuleList([Block(2 * w[i], w[i]) for i in range(depth)])
            self.head = torch.nn.Conv2d(w[0], 1, 1)

        def forward(self, x):
            skips = []
            x = self.enc[0](x)
            for block in self.enc[1:]:
                skips.append(x)
                x = block(F.max_pool2d(x, 2))
            for i in reversed(range(len(self.up))):
                x = self.dec[i](torch.cat([skips[i], self.up[i](x)], 1))
            return self.head(x)

    return torch, F, ThresholdLoss, PrAucLoss, UNet


def parse_id(case_id):
    area, name, param = case_id.split("/")
    fields = {}
    for part in param.split("-"):
        m = re.fullmatch(r"([A-Z])(\d+)", part)
        if m:
            fields[m.group(1)] = int(m.group(2))
    return area, name, param, fields


def python_step(case_id, data_dir, meta):
    """The Python reference of a case: returns (label, step function)."""
    import numpy as np

    area, name, param, f = parse_id(case_id)
    if area == "loss":
        torch, F, ThresholdLoss, PrAucLoss, _ = torch_refs()
        n = f["N"]
        s = torch.from_numpy(np.fromfile(data_dir / f"loss_N{n}.logits.f32", "<f4"))
        y = torch.from_numpy(np.fromfile(data_dir / f"loss_N{n}.labels.u8", "u1").astype("f4"))
        s.requires_grad_(True)
        if name == "bce":

            def step():
                loss = F.binary_cross_entropy_with_logits(s, y)
                return torch.autograd.grad(loss, [s])[0][0].item()

            return "PyTorch BCE-with-logits", step
        if name in ("precision_at_recall", "recall_at_precision", "tpr_at_fpr"):
            target = {
                "precision_at_recall": meta["target_recall"],
                "recall_at_precision": meta["target_precision"],
                "tpr_at_fpr": meta["target_fpr"],
            }[name]
            loss_fn = ThresholdLoss(name, target)

            def step():
                loss, _ = loss_fn(s, y)
                return torch.autograd.grad(loss, [s])[0][0].item()

            return f"PyTorch {name} (from the formulas)", step
        if name == "pr_auc_autograd":
            loss_fn = PrAucLoss(f["K"])

            def step():
                loss = loss_fn(s, y)
                g = torch.autograd.grad(loss, [s, loss_fn.biases])
                return g[0][0].item()

            return "PyTorch PR-AUC (autograd, from the formulas)", step
    if area == "seg_step":
        torch, F, ThresholdLoss, _, UNet = torch_refs()
        torch.manual_seed(0)
        u = meta["unet"]
        net = UNet(u["depth"], u["base_channels"], u["in_channels"])
        net.train()
        parameters = sum(p.numel() for p in net.parameters())
        if parameters != u["parameters"]:
            raise SystemExit(
                f"the PyTorch U-Net has {parameters} parameters, seg's has {u['parameters']}"
            )
        opt = torch.optim.Adam(net.parameters(), lr=meta["learning_rate"])
        b, side = f["B"], int(param.split("x")[-1])
        stem = data_dir / f"seg_B{b}_S{side}"
        shape = (b, 1, side, side)
        images = torch.from_numpy(np.fromfile(f"{stem}.images.f32", "<f4").reshape(shape))
        masks = torch.from_numpy(np.fromfile(f"{stem}.masks.f32", "<f4").reshape(shape))
        par = ThresholdLoss("precision_at_recall", meta["target_recall"])

        def step():
            logits = net(images)
            if name == "bce":
                loss = F.binary_cross_entropy_with_logits(logits, masks)
                extra = None
            else:
                loss, extra = par(logits.reshape(-1), masks.reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if extra is not None:
                par.dual_step(extra[2])
            return loss.item()

        return "PyTorch U-Net step (torch.optim.Adam)", step
    if area == "metrics":
        from sklearn.metrics import roc_auc_score

        n = f["N"]
        s = np.fromfile(data_dir / f"metrics_N{n}.logits.f32", "<f4")
        y = np.fromfile(data_dir / f"metrics_N{n}.labels.u8", "u1")
        if name == "roc_auc":
            return "scikit-learn roc_auc_score", lambda: float(roc_auc_score(y, s))
    raise SystemExit(f"no Python reference for {case_id}")


def worker(case_id, data_dir, reps, warmup, budget, min_time, threads):
    """Runs one Python reference and prints the same JSON as `timings run`."""
    meta = json.loads((data_dir / "meta.json").read_text())
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:
        pass
    label, step = python_step(case_id, data_dir, meta)
    rss_before = status_kb("VmRSS")
    reset_peak()
    value = None
    for _ in range(warmup):
        value = step()
    times = []
    started = time.perf_counter()
    while len(times) < 10_000:  # the same loop as `timings run`
        t = time.perf_counter()
        value = step()
        times.append(time.perf_counter() - t)
        elapsed = time.perf_counter() - started
        if (len(times) >= reps and elapsed >= min_time) or (elapsed > budget and len(times) >= 3):
            break
    peak = status_kb("VmHWM")
    srt = sorted(times)
    mid = len(srt) // 2
    median = srt[mid] if len(srt) % 2 else 0.5 * (srt[mid - 1] + srt[mid])
    print(
        json.dumps(
            {
                "id": case_id,
                "label": label,
                "threads": threads,
                "reps": len(times),
                "p10_s": srt[len(srt) // 10],
                "p90_s": srt[len(srt) * 9 // 10],
                "median_s": median,
                "min_s": srt[0],
                "rss_before_kb": rss_before,
                "peak_kb": peak,
                "extra_peak_kb": None
                if peak is None or rss_before is None
                else max(0, peak - rss_before),
                "value": value,
            }
        )
    )


# --------------------------------------------------------------------------------------
# Driver.
# --------------------------------------------------------------------------------------


def plan(quick):
    """Rows: (Rust id, whether a Python reference runs on the same id, whether the row
    feeds a goal: goal rows are measured a second time at 1 thread)."""
    sizes = N_SIZES[:2] if quick else N_SIZES
    n_goal = sizes[-1]
    rows = []
    for n in sizes:
        goal = n == n_goal
        rows.append((f"loss/bce/N{n}-L1", True, goal))
        rows.append((f"loss/precision_at_recall/N{n}-L1", True, goal))
        rows.append((f"loss/recall_at_precision/N{n}-L1", goal, goal))
        rows.append((f"loss/tpr_at_fpr/N{n}-L1", goal, goal))
    # K sweep and ROC anchors at 2^17 (seconds per step at 2^21 on 2 busy cores); the
    # PR-AUC goal size with K = 20 on both paths and in PyTorch.
    n_k = sizes[1]
    for k in ANCHORS:
        rows.append((f"loss/pr_auc_fused/N{n_k}-L1-K{k}", False, False))
    rows.append((f"loss/pr_auc_autograd/N{n_k}-L1-K20", True, False))
    rows.append((f"loss/roc_auc_anchors_fused/N{n_k}-L1-K20", False, False))
    rows.append((f"loss/roc_auc_anchors_autograd/N{n_k}-L1-K20", False, False))
    rows.append((f"loss/anchor_sum_fused/N{n_k}-L1-K20", False, False))
    rows.append((f"loss/anchor_sum_autograd/N{n_k}-L1-K20", False, False))
    if n_goal != n_k:
        rows.append((f"loss/pr_auc_fused/N{n_goal}-L1-K20", False, True))
        rows.append((f"loss/pr_auc_autograd/N{n_goal}-L1-K20", True, False))
    m = 1_000_000 if quick else 10_000_000
    rows.append((f"metrics/roc_auc/N{m}", True, False))
    rows.append((f"metrics/binned_roc_auc/N{m}-T1024", False, False))
    rows.append(("seg_step/bce/B8-1x64x64", True, True))
    rows.append(("seg_step/precision_at_recall/B8-1x64x64", True, True))
    return rows


def run_json(cmd, timeout):
    try:
        out = subprocess.run(
            cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if out.returncode != 0:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        return {"error": " / ".join(tail) or f"exit status {out.returncode}"}
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (json.JSONDecodeError, IndexError):
        return {"error": "unreadable output: " + out.stdout[-200:]}


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem_kb = int(line.split()[1])
    except OSError:
        pass
    versions = {}
    for mod in ("torch", "sklearn", "numpy"):
        try:
            versions[mod] = __import__(mod).__version__
        except ImportError:
            versions[mod] = "missing"
    rustc = subprocess.run(
        ["rustc", "--version"], check=False, capture_output=True, text=True
    ).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": None if mem_kb is None else mem_kb / 2**20,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "rustc": rustc,
        "versions": versions,
        "load_start": os.getloadavg(),
    }


def metrics_comparison(quick, timeout):
    """Runs compare_metrics.py and parses its markdown table rows."""
    script = ROOT / "benches/compare_metrics.py"
    if not script.exists():
        return None, "benches/compare_metrics.py is missing"
    sizes = ["100000", "1000000"] if quick else ["100000", "1000000", "10000000"]
    cmd = [sys.executable, str(script), "--sizes", *sizes, "--repeats", "3"]
    try:
        out = subprocess.run(
            cmd, check=False, cwd=ROOT, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, f"compare_metrics.py timed out after {timeout} s"
    rows, header = [], ""
    for line in out.stdout.splitlines():
        if not line.startswith("|"):
            header = header or line.strip()
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 6 and cells[0].isdigit() and cells[2]:
            rows.append(
                {
                    "n": int(cells[0]),
                    "task": cells[1],
                    "sklearn_s": float(cells[2]),
                    "metrics_s": float(cells[3]),
                    "speedup": float(cells[4].rstrip("x")),
                    "diff": cells[5],
                }
            )
    if out.returncode != 0 and not rows:
        tail = (out.stderr or out.stdout).strip().splitlines()[-3:]
        return None, "compare_metrics.py failed: " + " / ".join(tail)
    note = header if out.returncode == 0 else header + f" (exit status {out.returncode})"
    return rows, note


def ms(r):
    return None if r is None or "median_s" not in r else 1e3 * r["median_s"]


def mib(r):
    if r is None or r.get("extra_peak_kb") is None:
        return None
    return r["extra_peak_kb"] / 1024


def ms_min(r):
    return None if r is None or "min_s" not in r else 1e3 * r["min_s"]


def both(r, spec):
    """ "median (min)" in ms."""
    if ms(r) is None:
        return "—"
    return f"{ms(r):{spec}} ({ms_min(r):{spec}})"


def ratios(a, b, spec):
    """ "median ratio (min ratio)" of two results."""
    x = ratio(ms(a), ms(b))
    if x is None:
        return "—"
    return f"{x:{spec}} ({ratio(ms_min(a), ms_min(b)):{spec}})"


def fmt(x, spec=".1f", none="—"):
    return none if x is None else format(x, spec)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def agreement(a, b):
    """Relative difference of the two sides' `value` (∂loss/∂s₀ for the losses)."""
    try:
        x, y = float(a["value"]), float(b["value"])
    except (TypeError, KeyError, ValueError):
        return "—"
    scale = max(abs(x), abs(y))
    return "0" if scale == 0 else f"{abs(x - y) / scale:.1e}"


def is_anchor(case_id):
    return case_id.startswith("loss/") and ("auc" in case_id or "anchor" in case_id)


def n_of(case_id):
    return parse_id(case_id)[3].get("N")


def render(results, metrics_rows, metrics_note, info, quick, elapsed, missing):
    rust = {cid: r for (cid, side), r in results.items() if side == "rust"}
    py = {cid: r for (cid, side), r in results.items() if side == "python"}

    def ok(r):
        return r is not None and "median_s" in r

    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add(
        "Generated by `benches/side_by_side.py`"
        + (" in `--quick` mode" if quick else "")
        + f" on {info['date']} in {elapsed / 60:.1f} min; regenerate with"
    )
    add("`.venv/bin/python benches/side_by_side.py` (see its header). The criterion suite")
    add("(`cargo bench -p benches`, ids as in the tables) measures the same workloads.")
    add("")
    add("## How to run")
    add("")
    add("```text")
    add(".venv/bin/python benches/side_by_side.py          # this report (~10 min)")
    add(".venv/bin/python benches/side_by_side.py --quick  # sizes up to 2^17 / 10^6")
    add("cargo bench -p benches                            # criterion, short settings")
    add("cargo bench -p benches -- loss/pr_auc             # criterion, a filter on the ids")
    add("BENCH_LONG=1 cargo bench -p benches               # 30 samples over 8 s each")
    add("BENCH_QUICK=1 cargo bench -p benches              # smallest size of each workload")
    add("BENCH_THREADS=1 cargo bench -p benches            # 1 libtorch thread instead of 2")
    add("target/release/timings run loss/bce/N2097152-L1 --threads 1   # one case, JSON")
    add("```")
    add("")
    add("Criterion ids: `loss/{bce,precision_at_recall,recall_at_precision,tpr_at_fpr}/N…-L1`,")
    add("`loss/{pr_auc,roc_auc_anchors,anchor_sum}_{fused,autograd}/N…-L1-K…`,")
    add("`loss/roc_auc_pairwise/N…-L1-P…`, `metrics/{roc_auc,average_precision,")
    add("precision_at_recall,pr_curve}/N…`, `metrics/binned_roc_auc/N…-T…`,")
    add("`seg_step/{bce,precision_at_recall}/B8-1x64x64`; CUDA variants end in `-cuda` and")
    add("exist only when `tch::Cuda::is_available()` (the clock is read after")
    add("`tch::Cuda::synchronize`). Inputs are seeded (`benches/src/data.rs`) and built")
    add("outside the timed closures; the same builders feed this report.")
    add("")
    add("## Machine")
    add("")
    v = info["versions"]
    add(
        f"- {info['nproc']} CPUs, {info['cpu']}, {fmt(info['mem_gib'])} GiB memory, "
        f"Linux {info['kernel']}; shared with other work while measured (load average "
        f"{info['load_start'][0]:.2f} at start, {info['load_end'][0]:.2f} at end), so "
        "single figures can be off by tens of percent."
    )
    add(
        f"- Threads: {THREADS} on both sides (`tch::set_num_threads`, "
        "`torch.set_num_threads`); `metrics` and scikit-learn are single-threaded."
    )
    add(f"- Rust side: {info['rustc']}, release profile, tch 0.26 on libtorch 2.13.0 (CPU).")
    add(
        f"- Python side: Python {info['python']}, torch {v['torch']}, scikit-learn "
        f"{v['sklearn']}, numpy {v['numpy']}."
    )
    add(
        "- Each figure is the median over at least 10 repetitions and 1 s (fast cases run "
        "many more; slow ones stop at 3 once 10 s have passed), after 1 warm-up run, each "
        'case in a fresh process; "extra peak" is '
        "the peak resident set (VmHWM) above what the process held once its inputs were "
        "built (same method on both sides)."
    )
    add("")

    bce_r = {n_of(c): r for c, r in rust.items() if c.startswith("loss/bce/") and ok(r)}
    bce = {n: ms(r) for n, r in bce_r.items()}
    add("## Losses: forward + backward, L = 1, float32")
    add("")
    add("Gradients with respect to the logits (and the anchor biases); a training pass, so the")
    add("streaming priors update. `×BCE` is against libtorch's BCE-with-logits measured in")
    add("the same run; the PyTorch column is PyTorch's BCE or the same loss written in")
    add("PyTorch from the reference formulas (§4.2; its TP/FP bounds and ∂J/∂λ included,")
    add("as in ours). `grad₀ rel. diff` compares ∂loss/∂s₀ from both sides: it checks that")
    add("the PyTorch version computes the same loss.")
    add("")
    add("Times are median (min) in ms; ratios are of medians, with the ratio of minima in")
    add("parentheses (the minimum is the less load-sensitive figure on a shared machine).")
    add("")
    add(
        "| case | ours ms | ×BCE | PyTorch ms | ours / PyTorch | extra peak MiB "
        "(ours / PyTorch) | grad₀ rel. diff |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|")
    for cid, r in rust.items():
        if not cid.startswith("loss/") or is_anchor(cid):
            continue
        p = py.get(cid)
        n = n_of(cid)
        add(
            f"| `{cid}` | {both(r, '.2f')} | {ratios(r, bce_r.get(n), '.2f')} "
            f"| {both(p, '.2f')} | {ratios(r, p, '.2f')} "
            f"| {fmt(mib(r))} / {fmt(mib(p))} | {agreement(r, p)} |"
        )
    add("")
    add("## Anchor losses (PR-AUC, ROC-AUC anchors): fused vs plain autograd")
    add("")
    add("`anchor_sum_*` rows time `bounds::fused::anchor_surrogate_sum` (or its autograd")
    add("twin) alone: the PR-AUC data term without multiplier terms or diagnostics, which")
    add("shows where the time of the full loss goes. Median (min) in ms.")
    add("")
    add(
        "| case | ours ms | ×BCE | extra peak MiB | extra bytes per element | PyTorch ms | "
        "PyTorch extra peak MiB | grad₀ rel. diff |"
    )
    add("|---|---:|---:|---:|---:|---:|---:|---:|")
    for cid, r in rust.items():
        if not is_anchor(cid):
            continue
        n = n_of(cid)
        p = py.get(cid)
        per = None if mib(r) is None else mib(r) * 2**20 / n
        add(
            f"| `{cid}` | {both(r, '.1f')} | {ratios(r, bce_r.get(n), '.1f')} "
            f"| {fmt(mib(r))} | {fmt(per, '.0f')} | {both(p, '.1f')} | {fmt(mib(p))} "
            f"| {agreement(r, p)} |"
        )
    add("")
    add("## Metrics vs scikit-learn")
    add("")
    if metrics_rows:
        add(
            f"From `benches/compare_metrics.py` (the metrics engineer's script, its own seeded "
            f"data; best of 3, sort included): {metrics_note}"
        )
        add("")
        add("| N | task | scikit-learn s | metrics s | speed-up |")
        add("|---:|---|---:|---:|---:|")
        for m in metrics_rows:
            add(
                f"| {m['n']} | {m['task']} | {m['sklearn_s']:.3f} | {m['metrics_s']:.3f} "
                f"| {m['speedup']:.1f}× |"
            )
    else:
        add(f"Not available: {metrics_note}.")
    add("")
    add("Memory and the streaming accumulator, on this script's data (median of runs):")
    add("")
    add("| case | ours ms | extra peak MiB | scikit-learn ms | scikit-learn extra peak MiB |")
    add("|---|---:|---:|---:|---:|")
    for cid, r in rust.items():
        if cid.startswith("metrics/"):
            p = py.get(cid)
            add(f"| `{cid}` | {fmt(ms(r))} | {fmt(mib(r))} | {fmt(ms(p))} | {fmt(mib(p))} |")
    add("")
    add("## Segmentation: one U-Net training step, batch 8 of 1×64×64")
    add("")
    add("Ours: `seg`'s U-Net, `seg::objective::Objective`, `seg::optim::Adam` (the step of")
    add("`seg::train`). PyTorch: the same layout (depth, widths) with `torch.optim.Adam`.")
    u = info.get("meta", {}).get("unet")
    if u:
        add(
            f"Depth {u['depth']}, {u['base_channels']} base channels: {u['parameters']:,} "
            "trainable parameters on both sides (the worker checks the count)."
        )
    add("")
    add("Median (min) in ms; ratios of medians (of minima).")
    add("")
    add("| case | ours ms | PyTorch ms | ours / PyTorch | extra peak MiB (ours / PyTorch) |")
    add("|---|---:|---:|---:|---:|")
    for cid, r in rust.items():
        if cid.startswith("seg_step/"):
            p = py.get(cid)
            add(
                f"| `{cid}` | {both(r, '.1f')} | {both(p, '.1f')} | {ratios(r, p, '.2f')} "
                f"| {fmt(mib(r))} / {fmt(mib(p))} |"
            )
    add("")
    rust1 = {cid: r for (cid, side), r in results.items() if side == "rust@1"}
    py1 = {cid: r for (cid, side), r in results.items() if side == "python@1"}
    if rust1:
        add("## The goal rows again, at 1 thread")
        add("")
        add("With 2 threads on 2 cores that other processes also use, libtorch's OpenMP")
        add("workers wait for the scheduler at every parallel region, which can cost")
        add("milliseconds per operation (BCE at 2¹⁴ elements measured 0.06 ms at 1 thread")
        add("and 16 ms at 2 while this project was being built). One thread avoids that")
        add("wait, so these rows show the libraries with less of the machine's noise.")
        add("Median (min) in ms.")
        add("")
        add("| case | ours ms | ×BCE | PyTorch ms | ours / PyTorch |")
        add("|---|---:|---:|---:|---:|")
        bce1 = {n_of(c): r for c, r in rust1.items() if c.startswith("loss/bce/") and ok(r)}
        for cid, r in rust1.items():
            p = py1.get(cid)
            x = ratios(r, bce1.get(n_of(cid)), ".2f") if cid.startswith("loss/") else "—"
            add(f"| `{cid}` | {both(r, '.2f')} | {x} | {both(p, '.2f')} | {ratios(r, p, '.2f')} |")
        add("")
    add("## Where we stand against the goals")
    add("")
    add("Goals, not assertions (nothing fails when one is missed). Ratios of medians, ratio")
    add("of minima in parentheses. The status is judged on the 1-thread pass where it ran")
    add("(see above: on the busy 2-core machine the 2-thread figures mostly measure the")
    add("scheduler), else on the 2-thread figures.")
    add("")
    add("| goal | 2 threads | 1 thread | status |")
    add("|---|---|---|---|")
    n = max(bce) if bce else None
    bce1_r = {n_of(c): r for c, r in rust1.items() if c.startswith("loss/bce/") and ok(r)}

    def goal_row(text, cid, base2, base1, limit, spec):
        r2, r1 = rust.get(cid), rust1.get(cid)
        x2 = ratio(ms(r2), ms(base2)) if ok(r2) else None
        x1 = ratio(ms(r1), ms(base1)) if ok(r1) else None
        judged = x1 if x1 is not None else x2
        add(
            f"| {text} | {ratios(r2, base2, spec)} | {ratios(r1, base1, spec)} "
            f"| {status(judged, limit)} |"
        )

    for name in ("precision_at_recall", "recall_at_precision", "tpr_at_fpr"):
        goal_row(
            f"{name} ≤ 1.3× BCE at N = {n}",
            f"loss/{name}/N{n}-L1",
            bce_r.get(n),
            bce1_r.get(n),
            1.3,
            ".2f",
        )
    goal_row(
        f"PR-AUC K = 20 (fused) ≤ 25× BCE at N = {n}",
        f"loss/pr_auc_fused/N{n}-L1-K20",
        bce_r.get(n),
        bce1_r.get(n),
        25,
        ".1f",
    )
    r = rust.get(f"loss/pr_auc_fused/N{n}-L1-K20")
    per = None if mib(r) is None else mib(r) * 2**20 / n
    a = rust.get(f"loss/pr_auc_autograd/N{n}-L1-K20")
    per_a = None if mib(a) is None else mib(a) * 2**20 / n
    mem_status = "not measured" if per is None else ("met" if per < 80 else "**not met**")
    add(
        f"| PR-AUC K = 20 extra memory O(N): below one [N, K] f32 tensor (80 B per element) "
        f"| {fmt(per, '.0f')} B per element fused, {fmt(per_a, '.0f')} B autograd | | "
        f"{mem_status} |"
    )
    big = [
        m
        for m in (metrics_rows or [])
        if m["n"] == 10_000_000
        and m["task"] in ("roc_auc", "average_precision", "precision_at_recall")
    ]
    for m in big:
        add(
            f"| metrics {m['task']} ≥ 5× faster than scikit-learn at 10⁷ "
            f"| {m['speedup']:.1f}× (single-threaded) | | "
            f"{status(m['speedup'], 5, higher=True)} |"
        )
    if not big:
        add("| metrics ≥ 5× faster than scikit-learn at 10⁷ | not measured | | — |")
    for cid, r in rust.items():
        if cid.startswith("seg_step/"):
            p, r1, p1 = py.get(cid), rust1.get(cid), py1.get(cid)
            x = ratio(ms(r1), ms(p1)) if ok(r1) else ratio(ms(r), ms(p))
            add(
                f"| `{cid}` no slower than PyTorch (× PyTorch's time) "
                f"| {ratios(r, p, '.2f')} | {ratios(r1, p1, '.2f')} | {status(x, 1.0)} |"
            )
    add("")
    add("## Missing or failed")
    add("")
    if missing:
        for m in missing:
            add(f"- {m}")
    else:
        add("- Nothing: every planned row ran.")
    add("- CUDA: no GPU on this machine; the criterion suite and `timings --device cuda` have")
    add("  CUDA variants (synchronised before each clock read) that have not been run.")
    add("")
    return "\n".join(lines)


def status(x, limit, higher=False):
    if x is None:
        return "not measured"
    met = x >= limit if higher else x <= limit
    if met:
        return "met"
    close = x >= limit / 1.1 if higher else x <= limit * 1.1
    return "**not met** (within 10 %, this machine's noise level)" if close else "**not met**"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="sizes up to 2^17 / 10^6, 5 reps")
    ap.add_argument("--no-build", action="store_true", help="skip the cargo build")
    ap.add_argument("--only", help="only rows whose id contains this string")
    ap.add_argument("--out", default=str(ROOT / "docs/benchmarks.md"))
    ap.add_argument("--no-write", action="store_true", help="print, do not write the report")
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument(
        "--no-one-thread",
        action="store_true",
        help="skip the second pass of the goal rows at 1 thread",
    )
    ap.add_argument("--budget", type=float, default=10.0, help="seconds per case and side")
    ap.add_argument(
        "--min-time",
        type=float,
        default=1.0,
        help="repeat fast cases for at least this many seconds",
    )
    ap.add_argument(
        "--render",
        metavar="JSON",
        help="only re-render the report from the raw results of an earlier run",
    )
    args = ap.parse_args()
    if args.render:
        raw = json.loads(pathlib.Path(args.render).read_text())
        results = {tuple(k.split("|")): v for k, v in raw.pop("results").items()}
        write_report(args, render(results, **raw))
        return
    reps = args.reps or (5 if args.quick else 10)
    started = time.time()
    info = machine()
    info["date"] = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not args.no_build:
        subprocess.run(
            ["cargo", "build", "--release", "-q", "-p", "benches", "--bin", "timings"],
            cwd=ROOT,
            check=True,
        )
    rows = [r for r in plan(args.quick) if not args.only or args.only in r[0]]
    results, missing = {}, []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = pathlib.Path(tmp)
        meta = subprocess.run([str(TIMINGS), "meta"], capture_output=True, text=True, check=True)
        (data_dir / "meta.json").write_text(meta.stdout)
        info["meta"] = json.loads(meta.stdout)
        subprocess.run(
            [str(TIMINGS), "gen", str(data_dir), *[cid for cid, _, _ in rows]], check=True
        )
        passes = [(THREADS, rows)]
        if not args.no_one_thread:
            passes.append((1, [r for r in rows if r[2]]))
        for threads, pass_rows in passes:
            for cid, with_python, _ in pass_rows:
                flags = [
                    "--reps",
                    str(reps),
                    "--warmup",
                    "1",
                    "--budget",
                    str(args.budget),
                    "--min-time",
                    str(args.min_time),
                    "--threads",
                    str(threads),
                ]
                key = "" if threads == THREADS else f"@{threads}"
                r = run_json([str(TIMINGS), "run", cid, *flags], timeout=300)
                results[(cid, "rust" + key)] = r
                show(cid + key, "ours", r, missing)
                if with_python:
                    cmd = [sys.executable, __file__, "worker", cid, str(data_dir), *flags]
                    p = run_json(cmd, timeout=300)
                    results[(cid, "python" + key)] = p
                    show(cid + key, "python", p, missing)
    metrics_rows, metrics_note = None, "skipped by --only"
    if not args.only or "metrics" in args.only:
        metrics_rows, metrics_note = metrics_comparison(args.quick, timeout=600)
        if metrics_rows is None:
            missing.append(metrics_note)
        for m in metrics_rows or []:
            print(
                f"{'metrics vs sklearn ' + m['task']:<56} N={m['n']:<9} {m['speedup']:6.1f}x faster"
            )
    info["load_end"] = os.getloadavg()
    raw = {
        "metrics_rows": metrics_rows,
        "metrics_note": metrics_note,
        "info": info,
        "quick": args.quick,
        "elapsed": time.time() - started,
        "missing": missing,
    }
    RAW.parent.mkdir(parents=True, exist_ok=True)
    RAW.write_text(json.dumps({"results": {"|".join(k): v for k, v in results.items()}, **raw}))
    print(f"raw results in {RAW.relative_to(ROOT)}")
    write_report(args, render(results, **raw))


def write_report(args, report):
    if args.no_write:
        print(report)
    else:
        pathlib.Path(args.out).write_text(report)
        print(f"wrote {args.out}")


def show(cid, side, r, missing):
    if "error" in r:
        missing.append(f"`{cid}` ({side}): {r['error']}")
        print(f"{cid:<56} {side:<7} FAILED: {r['error']}", flush=True)
    else:
        extra = r.get("extra_peak_kb")
        extra = "—" if extra is None else f"{extra / 1024:.1f} MiB"
        print(f"{cid:<56} {side:<7} {1e3 * r['median_s']:10.2f} ms  extra peak {extra}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        wp = argparse.ArgumentParser(prog="side_by_side.py worker")
        wp.add_argument("id")
        wp.add_argument("data_dir", type=pathlib.Path)
        wp.add_argument("--reps", type=int, default=10)
        wp.add_argument("--warmup", type=int, default=2)
        wp.add_argument("--budget", type=float, default=15.0)
        wp.add_argument("--min-time", type=float, default=1.0)
        wp.add_argument("--threads", type=int, default=THREADS)
        a = wp.parse_args(sys.argv[2:])
        worker(a.id, a.data_dir, a.reps, a.warmup, a.budget, a.min_time, a.threads)
    else:
        main()
