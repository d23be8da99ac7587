#!/usr/bin/env python3
"""Writes the scikit-learn golden values that crates/metrics/tests compare against.

Usage (from the repository root, with the git-ignored venv):
    python3 -m venv .venv && .venv/bin/pip install numpy scikit-learn
    .venv/bin/python scripts/gen_metrics_fixtures.py

Each case is one JSON file in crates/metrics/tests/fixtures/. Curves are stored the
way the Rust crate reports them: one point per distinct score, descending threshold,
without the end points scikit-learn adds (roc_curve's (0, 0) at threshold +inf,
precision_recall_curve's (precision 1, recall 0)). Values scikit-learn cannot compute
(single-class ROC-AUC) are null.
"""

import json
import pathlib
import warnings

import numpy as np
import sklearn
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/metrics/tests/fixtures"
TARGETS = [0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0]


def cases():
    rng = np.random.default_rng(20170420)
    n = 60
    yield "random", rng.random(n), (rng.random(n) < 0.4).astype(int), None

    n = 300
    labels = (rng.random(n) < 0.5).astype(int)
    scores = np.round(rng.normal(labels * 0.8, 1.0), 0) / 4.0  # few distinct values
    yield "heavy_ties", scores, labels, None

    n = 200
    labels = (rng.random(n) < 0.35).astype(int)
    scores = np.round(rng.normal(labels, 1.0), 1)
    weights = rng.uniform(0.0, 2.0, n)
    weights[rng.random(n) < 0.15] = 0.0  # weight 0 must act as absent
    yield "weighted_ties", scores, labels, weights

    n = 150
    labels = (rng.random(n) < 0.5).astype(int)
    scores = rng.integers(0, 8, n).astype(float)
    weights = rng.integers(0, 4, n).astype(float)
    yield "integer_weights", scores, labels, weights

    n = 2000
    labels = (rng.random(n) < 0.02).astype(int)
    labels[0] = 1
    scores = rng.normal(labels * 2.0, 1.0)  # logits
    yield "imbalanced_logits", scores, labels, None

    n = 40
    scores = np.round(rng.random(n), 1)
    yield "all_positive", scores, np.ones(n, dtype=int), None


def precision_at_recall(precision, recall, target):
    ok = recall >= target
    return float(np.max(precision[ok])) if ok.any() else None


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name, scores, labels, weights in cases():
        case = {
            "name": name,
            "sklearn_version": sklearn.__version__,
            "scores": scores.tolist(),
            "labels": labels.tolist(),
            "weights": None if weights is None else weights.tolist(),
        }
        single_class = len(np.unique(labels[weights != 0] if weights is not None else labels)) < 2
        if single_class:
            case["roc_auc"] = None
            case["roc_curve"] = None
        else:
            case["roc_auc"] = roc_auc_score(labels, scores, sample_weight=weights)
            fpr, tpr, thr = roc_curve(
                labels, scores, sample_weight=weights, drop_intermediate=False
            )
            case["roc_curve"] = {
                "fpr": fpr[1:].tolist(),
                "tpr": tpr[1:].tolist(),
                "thresholds": thr[1:].tolist(),
            }
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            case["average_precision"] = average_precision_score(
                labels, scores, sample_weight=weights
            )
        precision, recall, thr = precision_recall_curve(labels, scores, sample_weight=weights)
        precision, recall = precision[:-1][::-1], recall[:-1][::-1]
        case["pr_curve"] = {
            "precision": precision.tolist(),
            "recall": recall.tolist(),
            "thresholds": thr[::-1].tolist(),
        }
        case["precision_at_recall"] = [
            {"target": t, "value": precision_at_recall(precision, recall, t)} for t in TARGETS
        ]
        path = OUT / f"{name}.json"
        path.write_text(json.dumps(case, indent=1) + "\n")
        print(f"wrote {path.relative_to(OUT.parent.parent.parent.parent)}")


if __name__ == "__main__":
    main()
