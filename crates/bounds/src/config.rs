//! Configuration of a [`GlobalLoss`](crate::GlobalLoss): objective, surrogate,
//! multiplier update and priors, validated once when the loss is built.
use serde::{Deserialize, Serialize};

use crate::{Error, Result, Surrogate};

/// Whether a forward pass is a training pass or not.
///
/// Only [`Pass::Train`] updates the streaming label priors; evaluating the loss on
/// held-out data with [`Pass::Eval`] leaves every piece of state untouched. Upstream
/// updates the priors on every evaluation of the loss tensor (reference §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// A training pass: the streaming priors absorb the batch.
    Train,
    /// An evaluation pass: no state changes.
    Eval,
}

/// A target (recall, precision or rate): one value for all labels, or one per label.
///
/// Serialized as a number (`0.9`) or an array (`[0.9, 0.8]`). Every value must lie in
/// (0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Target {
    /// The same target for every label.
    All(f64),
    /// One target per label; the length must equal the number of labels.
    PerLabel(Vec<f64>),
}

impl Target {
    /// The per-label values for `num_labels` labels.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when a per-label target has the wrong length or a value
    /// outside (0, 1].
    pub fn values(&self, field: &'static str, num_labels: i64) -> Result<Vec<f64>> {
        let v = match self {
            Target::All(x) => vec![*x; num_labels.max(0) as usize],
            Target::PerLabel(v) => {
                if v.len() as i64 != num_labels {
                    return Err(Error::InvalidConfig {
                        field,
                        reason: format!("{} targets given for {num_labels} labels", v.len()),
                    });
                }
                v.clone()
            }
        };
        for &x in &v {
            check_target(field, x)?;
        }
        Ok(v)
    }

    fn validate(&self, field: &'static str) -> Result<()> {
        match self {
            Target::All(x) => check_target(field, *x),
            Target::PerLabel(v) => {
                if v.is_empty() {
                    return Err(Error::InvalidConfig {
                        field,
                        reason: "empty target list".into(),
                    });
                }
                v.iter().try_for_each(|&x| check_target(field, x))
            }
        }
    }
}

fn check_target(field: &'static str, x: f64) -> Result<()> {
    if x.is_finite() && x > 0.0 && x <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            field,
            reason: format!("target {x} is outside (0, 1]"),
        })
    }
}

fn check_range(field: &'static str, (a, b): (f64, f64)) -> Result<()> {
    if a.is_finite() && b.is_finite() && 0.0 <= a && a < b && b <= 1.0 {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            field,
            reason: format!("range ({a}, {b}) does not obey 0 <= a < b <= 1"),
        })
    }
}

fn check_anchors(num_anchors: usize) -> Result<()> {
    if num_anchors == 0 {
        Err(Error::InvalidConfig {
            field: "num_anchors",
            reason: "K = 0 anchors".into(),
        })
    } else {
        Ok(())
    }
}

/// Which global objective a [`GlobalLoss`](crate::GlobalLoss) optimises.
///
/// Serialized with a `kind` tag, e.g. `{"kind": "pr_auc", "precision_range": [0, 1],
/// "num_anchors": 20}`. The per-element Lagrangians are listed in
/// [`GlobalLoss::forward`](crate::GlobalLoss::forward) and derived in `docs/math.md`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ObjectiveConfig {
    /// Maximise precision subject to recall ≥ `target_recall`
    /// (upstream `precision_at_recall_loss`).
    PrecisionAtRecall {
        /// Required recall r ∈ (0, 1].
        target_recall: Target,
    },
    /// Maximise recall subject to precision ≥ `target_precision`
    /// (upstream `recall_at_precision_loss`).
    RecallAtPrecision {
        /// Required precision α ∈ (0, 1].
        target_precision: Target,
    },
    /// Minimise FPR subject to TPR ≥ `target_rate`: the same Lagrangian as
    /// [`ObjectiveConfig::PrecisionAtRecall`] (upstream alias).
    FprAtTpr {
        /// Required true-positive rate ∈ (0, 1].
        target_rate: Target,
    },
    /// Maximise TPR subject to FPR ≤ `target_rate`
    /// (upstream `true_positive_rate_at_false_positive_rate_loss`).
    TprAtFpr {
        /// Allowed false-positive rate ∈ (0, 1].
        target_rate: Target,
    },
    /// Area under the precision-recall curve as the mean of K recall@precision losses
    /// at interior anchors of `precision_range`, each with its own bias
    /// (upstream `precision_recall_auc_loss`).
    PrAuc {
        /// Precision range (a, b), 0 ≤ a < b ≤ 1; defaults to (0, 1).
        #[serde(default = "unit_range")]
        precision_range: (f64, f64),
        /// Number of anchors K ≥ 1; defaults to 20.
        #[serde(default = "default_anchors")]
        num_anchors: usize,
    },
    /// Area under the ROC curve as the mean of K TPR@FPR losses at interior anchors of
    /// `fpr_range`, each with its own bias. Our extension (Shlomix-style; upstream has
    /// only the pairwise form).
    RocAucAnchors {
        /// False-positive-rate range (a, b), 0 ≤ a < b ≤ 1; defaults to (0, 1).
        #[serde(default = "unit_range")]
        fpr_range: (f64, f64),
        /// Number of anchors K ≥ 1; defaults to 20.
        #[serde(default = "default_anchors")]
        num_anchors: usize,
    },
    /// Pairwise ROC-AUC surrogate (upstream `roc_auc_loss`): exact O(N²) pairs, or a
    /// seeded random sample of at most `max_pairs` pairs. No multipliers.
    RocAucPairwise {
        /// `None` (default) = every pair; `Some(m)` = a random sample of m pairs.
        #[serde(default)]
        max_pairs: Option<usize>,
    },
}

fn unit_range() -> (f64, f64) {
    (0.0, 1.0)
}

fn default_anchors() -> usize {
    20
}

fn one() -> f64 {
    1.0
}

fn upstream_dual_rate_factor() -> f64 {
    0.1
}

impl Default for ObjectiveConfig {
    /// PR-AUC over (0, 1) with 20 anchors, upstream's defaults.
    fn default() -> Self {
        ObjectiveConfig::PrAuc {
            precision_range: (0.0, 1.0),
            num_anchors: 20,
        }
    }
}

impl ObjectiveConfig {
    /// Checks every value that does not depend on the number of labels.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a target outside (0, 1], a range not obeying
    /// 0 ≤ a < b ≤ 1, K = 0 or `max_pairs = Some(0)`.
    pub fn validate(&self) -> Result<()> {
        match self {
            ObjectiveConfig::PrecisionAtRecall { target_recall: t } => t.validate("target_recall"),
            ObjectiveConfig::RecallAtPrecision {
                target_precision: t,
            } => t.validate("target_precision"),
            ObjectiveConfig::FprAtTpr { target_rate: t }
            | ObjectiveConfig::TprAtFpr { target_rate: t } => t.validate("target_rate"),
            ObjectiveConfig::PrAuc {
                precision_range,
                num_anchors,
            } => {
                check_range("precision_range", *precision_range)?;
                check_anchors(*num_anchors)
            }
            ObjectiveConfig::RocAucAnchors {
                fpr_range,
                num_anchors,
            } => {
                check_range("fpr_range", *fpr_range)?;
                check_anchors(*num_anchors)
            }
            ObjectiveConfig::RocAucPairwise { max_pairs } => match max_pairs {
                Some(0) => Err(Error::InvalidConfig {
                    field: "max_pairs",
                    reason: "a sample of 0 pairs".into(),
                }),
                _ => Ok(()),
            },
        }
    }

    /// Number of anchors K for the anchor objectives, `None` otherwise.
    pub fn num_anchors(&self) -> Option<usize> {
        match self {
            ObjectiveConfig::PrAuc { num_anchors, .. }
            | ObjectiveConfig::RocAucAnchors { num_anchors, .. } => Some(*num_anchors),
            _ => None,
        }
    }

    /// Whether the objective has Lagrange multipliers (every kind but pairwise ROC-AUC).
    pub fn has_multipliers(&self) -> bool {
        !matches!(self, ObjectiveConfig::RocAucPairwise { .. })
    }
}

/// How the Lagrange multipliers are updated.
///
/// Serialized with a `mode` tag: `{"mode": "dual_ascent", "rate": 1.0, "max": null}` or
/// `{"mode": "reversed", "dual_rate_factor": 0.1}`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum MultiplierUpdate {
    /// Default. Multipliers are not trainable (the model's optimizer never sees them);
    /// after the model's optimizer step, [`GlobalLoss::dual_step`](crate::GlobalLoss::dual_step)
    /// performs projected gradient ascent
    ///
    /// ```text
    /// λ ← clamp(λ + rate · ∂J/∂λ, 0, max)     J = batch-mean loss
    /// ```
    ///
    /// Works with any optimizer, adaptive ones included. Not in upstream (its
    /// alternating example mode is the closest); `max` is a TFCO-style radius.
    DualAscent {
        /// Dual step size η > 0; defaults to 1.0 (see `docs/math.md` for why).
        #[serde(default = "one")]
        rate: f64,
        /// Optional cap λ_max > 0; `None` (default) = no cap, as upstream.
        #[serde(default)]
        max: Option<f64>,
    },
    /// Upstream mechanism: trainable variable v, forward λ = |v|, gradient reversed and
    /// scaled, ∂J/∂v = −ρ·sign(v)·∂J/∂λ, so the model's own minimising optimizer
    /// ascends on λ. Sound under plain SGD; under Adam the step is normalised and λ
    /// moves by ≈ lr per step whatever the violation (see `docs/math.md`).
    Reversed {
        /// ρ > 0, the dual step relative to the optimizer's; defaults to 0.1 (upstream).
        #[serde(default = "upstream_dual_rate_factor")]
        dual_rate_factor: f64,
    },
}

impl Default for MultiplierUpdate {
    fn default() -> Self {
        MultiplierUpdate::DualAscent {
            rate: 1.0,
            max: None,
        }
    }
}

impl MultiplierUpdate {
    /// Checks rates and cap.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a non-positive or non-finite rate, factor or cap.
    pub fn validate(&self) -> Result<()> {
        let positive = |field: &'static str, x: f64| {
            if x.is_finite() && x > 0.0 {
                Ok(())
            } else {
                Err(Error::InvalidConfig {
                    field,
                    reason: format!("{x} is not a finite value > 0"),
                })
            }
        };
        match *self {
            MultiplierUpdate::DualAscent { rate, max } => {
                positive("rate", rate)?;
                max.map_or(Ok(()), |m| positive("max", m))
            }
            MultiplierUpdate::Reversed { dual_rate_factor } => {
                positive("dual_rate_factor", dual_rate_factor)
            }
        }
    }
}

/// Where the label priors π (weighted fraction of positives per label) come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum PriorConfig {
    /// Streaming estimate with pseudocounts P, N (defaults 1 and 1):
    ///
    /// ```text
    /// π = (P + Σ_t Σ_i w_i y_i) / (P + N + Σ_t Σ_i w_i)     over training batches t
    /// ```
    ///
    /// updated only on [`Pass::Train`]; the counters live in the VarStore.
    Streaming {
        /// P ≥ 0, pseudocount of positives; defaults to 1.
        #[serde(default = "one")]
        positive_pseudocount: f64,
        /// N ≥ 0, pseudocount of negatives; defaults to 1.
        #[serde(default = "one")]
        negative_pseudocount: f64,
    },
    /// Fixed priors in `[0, 1]`: one value for every label, or one per label.
    Fixed(Vec<f64>),
}

impl Default for PriorConfig {
    fn default() -> Self {
        PriorConfig::Streaming {
            positive_pseudocount: 1.0,
            negative_pseudocount: 1.0,
        }
    }
}

impl PriorConfig {
    /// Checks pseudocounts and fixed priors.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for a negative or non-finite pseudocount, or a fixed
    /// prior outside `[0, 1]` or an empty list.
    pub fn validate(&self) -> Result<()> {
        match self {
            PriorConfig::Streaming {
                positive_pseudocount: p,
                negative_pseudocount: n,
            } => {
                for (field, x) in [("positive_pseudocount", *p), ("negative_pseudocount", *n)] {
                    if !(x.is_finite() && x >= 0.0) {
                        return Err(Error::InvalidConfig {
                            field,
                            reason: format!("{x} is not a finite value >= 0"),
                        });
                    }
                }
                Ok(())
            }
            PriorConfig::Fixed(v) => {
                if v.is_empty() {
                    return Err(Error::InvalidConfig {
                        field: "priors",
                        reason: "empty list".into(),
                    });
                }
                match v
                    .iter()
                    .find(|x| !(x.is_finite() && (0.0..=1.0).contains(*x)))
                {
                    Some(x) => Err(Error::InvalidConfig {
                        field: "priors",
                        reason: format!("prior {x} is outside [0, 1]"),
                    }),
                    None => Ok(()),
                }
            }
        }
    }
}

/// Everything that defines a [`GlobalLoss`](crate::GlobalLoss); validated once in
/// [`GlobalLoss::new`](crate::GlobalLoss::new).
///
/// Serde: every field (and every field documented with a default inside the enums)
/// may be omitted; unknown fields are rejected, so a misspelt field is an error rather
/// than a silent default.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// The objective; defaults to PR-AUC over (0, 1) with 20 anchors.
    pub objective: ObjectiveConfig,
    /// The surrogate; defaults to xent.
    pub surrogate: Surrogate,
    /// The multiplier update; defaults to `DualAscent { rate: 1.0, max: None }`.
    pub multiplier_update: MultiplierUpdate,
    /// Initial multiplier value λ₀ ≥ 0; defaults to 1.0 (upstream). Under
    /// [`MultiplierUpdate::Reversed`] a multiplier at exactly 0 gets no gradient and
    /// stays at 0 (sign(0) = 0), as upstream.
    pub multiplier_init: f64,
    /// The label priors; defaults to streaming with pseudocounts 1 and 1.
    pub priors: PriorConfig,
    /// Anchor objectives only: compute [`GlobalLoss::forward_mean`](crate::GlobalLoss::forward_mean)
    /// in row chunks with an analytic gradient, so no `[N, L, K]` graph is kept.
    /// Defaults to false.
    pub fused: bool,
    /// Rows per chunk on the fused path and for the diagnostics; defaults to
    /// [`crate::fused::DEFAULT_CHUNK_ROWS`] (16384).
    pub chunk_rows: usize,
}

impl Default for LossConfig {
    fn default() -> Self {
        LossConfig {
            objective: ObjectiveConfig::default(),
            surrogate: Surrogate::default(),
            multiplier_update: MultiplierUpdate::default(),
            multiplier_init: 1.0,
            priors: PriorConfig::default(),
            fused: false,
            chunk_rows: crate::fused::DEFAULT_CHUNK_ROWS as usize,
        }
    }
}

impl LossConfig {
    /// A default config with the given objective.
    pub fn new(objective: ObjectiveConfig) -> Self {
        LossConfig {
            objective,
            ..LossConfig::default()
        }
    }

    /// Checks every field that does not depend on the number of labels.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first bad field (see the `validate` of each
    /// part); also for a negative or non-finite `multiplier_init` or `chunk_rows = 0`.
    pub fn validate(&self) -> Result<()> {
        self.objective.validate()?;
        self.multiplier_update.validate()?;
        self.priors.validate()?;
        if !(self.multiplier_init.is_finite() && self.multiplier_init >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "multiplier_init",
                reason: format!("{} is not a finite value >= 0", self.multiplier_init),
            });
        }
        if let MultiplierUpdate::DualAscent { max: Some(m), .. } = self.multiplier_update {
            if self.multiplier_init > m {
                return Err(Error::InvalidConfig {
                    field: "multiplier_init",
                    reason: format!("{} exceeds the cap {m}", self.multiplier_init),
                });
            }
        }
        if self.chunk_rows == 0 {
            return Err(Error::InvalidConfig {
                field: "chunk_rows",
                reason: "0 rows".into(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_round_trip_and_shapes() {
        let c = LossConfig {
            objective: ObjectiveConfig::PrecisionAtRecall {
                target_recall: Target::PerLabel(vec![0.9, 0.8]),
            },
            priors: PriorConfig::Fixed(vec![0.1, 0.2]),
            ..LossConfig::default()
        };
        let s = serde_json::to_string(&c).unwrap();
        assert!(s.contains("\"kind\":\"precision_at_recall\""), "{s}");
        assert!(s.contains("\"target_recall\":[0.9,0.8]"), "{s}");
        let back: LossConfig = serde_json::from_str(&s).unwrap();
        assert_eq!(back, c);
        let scalar: ObjectiveConfig =
            serde_json::from_str(r#"{"kind":"tpr_at_fpr","target_rate":0.1}"#).unwrap();
        assert_eq!(
            scalar,
            ObjectiveConfig::TprAtFpr {
                target_rate: Target::All(0.1)
            }
        );
        let partial: LossConfig = serde_json::from_str(r#"{"fused":true}"#).unwrap();
        assert!(partial.fused);
        assert_eq!(partial.multiplier_init, 1.0);
    }

    #[test]
    fn validation_rejects_each_bad_field() {
        let bad = |c: LossConfig, field: &str| match c.validate() {
            Err(Error::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("expected InvalidConfig({field}), got {other:?}"),
        };
        let obj = |o| LossConfig::new(o);
        for t in [0.0, -0.1, 1.5, f64::NAN] {
            bad(
                obj(ObjectiveConfig::PrecisionAtRecall {
                    target_recall: Target::All(t),
                }),
                "target_recall",
            );
        }
        bad(
            obj(ObjectiveConfig::TprAtFpr {
                target_rate: Target::PerLabel(vec![0.5, 0.0]),
            }),
            "target_rate",
        );
        for r in [(0.5, 0.5), (0.6, 0.4), (-0.1, 0.5), (0.0, 1.1)] {
            bad(
                obj(ObjectiveConfig::PrAuc {
                    precision_range: r,
                    num_anchors: 3,
                }),
                "precision_range",
            );
            bad(
                obj(ObjectiveConfig::RocAucAnchors {
                    fpr_range: r,
                    num_anchors: 3,
                }),
                "fpr_range",
            );
        }
        bad(
            obj(ObjectiveConfig::PrAuc {
                precision_range: (0.0, 1.0),
                num_anchors: 0,
            }),
            "num_anchors",
        );
        bad(
            obj(ObjectiveConfig::RocAucPairwise { max_pairs: Some(0) }),
            "max_pairs",
        );
        bad(
            LossConfig {
                multiplier_update: MultiplierUpdate::DualAscent {
                    rate: 0.0,
                    max: None,
                },
                ..LossConfig::default()
            },
            "rate",
        );
        bad(
            LossConfig {
                multiplier_update: MultiplierUpdate::Reversed {
                    dual_rate_factor: -1.0,
                },
                ..LossConfig::default()
            },
            "dual_rate_factor",
        );
        bad(
            LossConfig {
                multiplier_init: -1.0,
                ..LossConfig::default()
            },
            "multiplier_init",
        );
        bad(
            LossConfig {
                priors: PriorConfig::Fixed(vec![1.2]),
                ..LossConfig::default()
            },
            "priors",
        );
        bad(
            LossConfig {
                chunk_rows: 0,
                ..LossConfig::default()
            },
            "chunk_rows",
        );
        assert!(LossConfig::default().validate().is_ok());
        assert_eq!(
            Target::All(0.5).values("t", 3).unwrap(),
            vec![0.5, 0.5, 0.5],
        );
        assert!(Target::PerLabel(vec![0.5]).values("t", 2).is_err());
    }
}
