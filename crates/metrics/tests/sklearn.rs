//! Goldens from scikit-learn (scripts/gen_metrics_fixtures.py).

use std::path::PathBuf;

use metrics::{Ranking, ScoreScale, Undefined};
use serde_json::Value as Json;

use crate::common::assert_close;

const RTOL: f64 = 1e-12;

fn load(name: &str) -> Json {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("fixture should be readable");
    serde_json::from_str(&text).expect("fixture should be valid JSON")
}

fn floats(v: &Json) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn ranking(case: &Json) -> Ranking {
    let scores = floats(&case["scores"]);
    let labels: Vec<f64> = floats(&case["labels"]);
    match &case["weights"] {
        Json::Null => Ranking::new(&scores, &labels, ScoreScale::Logits),
        w => Ranking::weighted(&scores, &labels, &floats(w), ScoreScale::Logits),
    }
    .expect("fixture should rank")
}

fn assert_all_close(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert_close(g, w, RTOL, &format!("{what}[{i}]"));
    }
}

fn check(name: &str) {
    let case = load(name);
    let r = ranking(&case);
    let ap = case["average_precision"].as_f64().expect("ap");
    assert_close(r.average_precision().value, ap, RTOL, "average_precision");
    match case["roc_auc"].as_f64() {
        Some(auc) => assert_close(r.roc_auc().value, auc, RTOL, "roc_auc"),
        None => {
            let m = r.roc_auc();
            assert!(m.value.is_nan() && m.undefined == Some(Undefined::NoNegatives));
        }
    }
    if !case["roc_curve"].is_null() {
        let roc = r.roc_curve().expect("roc curve");
        assert_all_close(
            &roc.thresholds,
            &floats(&case["roc_curve"]["thresholds"]),
            "roc thr",
        );
        assert_all_close(&roc.fpr, &floats(&case["roc_curve"]["fpr"]), "fpr");
        assert_all_close(&roc.tpr, &floats(&case["roc_curve"]["tpr"]), "tpr");
    }
    let pr = r.pr_curve().expect("pr curve");
    assert_all_close(
        &pr.thresholds,
        &floats(&case["pr_curve"]["thresholds"]),
        "pr thr",
    );
    assert_all_close(
        &pr.precision,
        &floats(&case["pr_curve"]["precision"]),
        "precision",
    );
    assert_all_close(&pr.recall, &floats(&case["pr_curve"]["recall"]), "recall");
    for t in case["precision_at_recall"].as_array().expect("targets") {
        let target = t["target"].as_f64().expect("target");
        let p = r.precision_at_recall(target).expect("valid target");
        match t["value"].as_f64() {
            Some(v) if case["roc_auc"].is_null() => {
                // One class missing: the crate reports P@R as undefined, sklearn's
                // curve says 1.
                assert_eq!(v, 1.0);
                assert!(p.value.is_nan() && !p.feasible);
            }
            Some(v) => {
                assert_close(p.value, v, RTOL, &format!("P@R({target})"));
                assert!(p.feasible && p.achieved.expect("achieved") >= target);
            }
            None => unreachable!("every target in [0, 1] is feasible"),
        }
    }
}

#[test]
fn random_scores_match_sklearn() {
    check("random");
}

#[test]
fn heavy_ties_match_sklearn() {
    check("heavy_ties");
}

#[test]
fn fractional_weights_with_zeros_match_sklearn() {
    check("weighted_ties");
}

#[test]
fn integer_weights_match_sklearn() {
    check("integer_weights");
}

#[test]
fn imbalanced_logits_match_sklearn() {
    check("imbalanced_logits");
}

#[test]
fn all_positive_ap_is_one_like_sklearn() {
    check("all_positive");
    let r = ranking(&load("all_positive"));
    assert_eq!(r.average_precision().value, 1.0);
}

#[test]
fn f32_scores_give_the_same_ranking_as_f64() {
    let case = load("heavy_ties");
    let scores: Vec<f32> = floats(&case["scores"]).iter().map(|&s| s as f32).collect();
    let labels: Vec<u8> = floats(&case["labels"]).iter().map(|&l| l as u8).collect();
    let r = Ranking::new(&scores, &labels, ScoreScale::Logits).expect("ranks");
    // The scores are multiples of 1/4, exact in f32.
    assert_close(
        r.roc_auc().value,
        case["roc_auc"].as_f64().unwrap(),
        RTOL,
        "auc",
    );
}
