//! Regression tests for defects found by trying to break the crate as a new user
//! (issue 3, "Errors": every bad input gives a typed error, never a panic or a silent
//! NaN / inf). Each test failed before its fix.
use bounds::{LossConfig, PriorConfig};

use crate::common::*;

/// Defaults documented on the fields were not applied by serde, and misspelt fields
/// were silently ignored (`"fussed": true` gave `fused = false`).
#[test]
fn config_json_applies_documented_defaults_and_rejects_unknown_fields() {
    let c: LossConfig = serde_json::from_str(r#"{"objective": {"kind": "pr_auc"}}"#).unwrap();
    assert_eq!(c.objective, pr_auc((0.0, 1.0), 20));
    let c: LossConfig =
        serde_json::from_str(r#"{"objective": {"kind": "roc_auc_anchors", "num_anchors": 4}}"#)
            .unwrap();
    assert_eq!(c.objective, roc_anchors((0.0, 1.0), 4));
    let c: LossConfig =
        serde_json::from_str(r#"{"multiplier_update": {"mode": "dual_ascent"}}"#).unwrap();
    assert_eq!(c.multiplier_update, DUAL);
    let c: LossConfig =
        serde_json::from_str(r#"{"priors": {"streaming": {"negative_pseudocount": 3}}}"#).unwrap();
    assert_eq!(
        c.priors,
        PriorConfig::Streaming {
            positive_pseudocount: 1.0,
            negative_pseudocount: 3.0
        }
    );
    for typo in [
        r#"{"fussed": true}"#,
        r#"{"objective": {"kind": "pr_auc", "num_anchor": 5}}"#,
        r#"{"objective": {"kind": "precision_at_recall", "target_recall": 0.9, "x": 1}}"#,
        r#"{"multiplier_update": {"mode": "dual_ascent", "rat": 2.0}}"#,
        r#"{"priors": {"streaming": {"positive_pseudo": 2}}}"#,
    ] {
        let e = serde_json::from_str::<LossConfig>(typo);
        assert!(e.is_err(), "{typo} was accepted: {e:?}");
    }
    // A LossConfig inside an internally tagged enum (as seg's objective spec) still parses.
    #[derive(serde::Deserialize, Debug)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    enum Spec {
        Global(LossConfig),
    }
    let Spec::Global(c) =
        serde_json::from_str(r#"{"kind": "global", "fused": true}"#).expect("nested config");
    assert!(c.fused);
}
