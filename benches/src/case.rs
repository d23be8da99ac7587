//! [`Case`]: one named workload, with an id that encodes its parameters.
use std::fmt;
use std::str::FromStr;

/// A loss measured forward + backward (gradients with respect to the logits, and to
/// the anchor biases where the loss has them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// libtorch's `binary_cross_entropy_with_logits`, mean reduction: the yardstick.
    Bce,
    /// `bounds` precision@recall, target recall 0.9.
    PrecisionAtRecall,
    /// `bounds` recall@precision, target precision 0.7.
    RecallAtPrecision,
    /// `bounds` TPR@FPR, allowed FPR 0.1.
    TprAtFpr,
    /// `bounds` PR-AUC over (0, 1) with `anchors` anchors; `fused` picks the chunked
    /// analytic path over plain autograd on `[N, L, K]`.
    PrAuc {
        /// Number of anchors K.
        anchors: usize,
        /// Chunked analytic gradient (true) or plain autograd (false).
        fused: bool,
    },
    /// `bounds` ROC-AUC as TPR@FPR anchors over (0, 1), as [`LossKind::PrAuc`].
    RocAucAnchors {
        /// Number of anchors K.
        anchors: usize,
        /// Chunked analytic gradient (true) or plain autograd (false).
        fused: bool,
    },
    /// `bounds::fused::anchor_surrogate_sum` alone (the anchor data term, no multiplier
    /// terms, no diagnostics), or with `fused = false` its plain-autograd twin
    /// `anchor_surrogate_sum_autograd`; gradients for the logits and the biases.
    AnchorSum {
        /// Number of anchors K.
        anchors: usize,
        /// Chunked analytic gradient (true) or plain autograd (false).
        fused: bool,
    },
    /// `bounds` pairwise ROC-AUC on a seeded sample of `pairs` pairs.
    RocAucPairwise {
        /// Number of sampled pairs.
        pairs: usize,
    },
}

/// A metric computed from scores and labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Exact ROC-AUC (sort included).
    RocAuc,
    /// Average precision, scikit-learn's step-wise definition (sort included).
    AveragePrecision,
    /// Best precision at recall ≥ 0.9 (sort included).
    PrecisionAtRecall,
    /// The full precision-recall curve (sort included).
    PrCurve,
    /// Streaming accumulator in binned mode, fed in chunks of 10⁵, then ROC-AUC.
    BinnedRocAuc {
        /// Number of bins T.
        bins: usize,
    },
}

/// The objective of a segmentation training step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegObjective {
    /// Per-pixel binary cross-entropy.
    Bce,
    /// Per-pixel `bounds` precision@recall at recall 0.9, with its dual step.
    PrecisionAtRecall,
}

/// One workload. Its [`Display`](fmt::Display) form is its id and [`FromStr`] parses
/// it back, e.g. `loss/pr_auc_fused/N2097152-L1-K20`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Case {
    /// A loss on `n` logits with one label (L = 1).
    Loss {
        /// Which loss.
        kind: LossKind,
        /// Number of logits N.
        n: usize,
    },
    /// A metric on `n` scores.
    Metric {
        /// Which metric.
        kind: MetricKind,
        /// Number of scores N.
        n: usize,
    },
    /// One U-Net training step (forward, backward, Adam, dual step if any) on a batch
    /// of `batch` grayscale `side × side` images.
    SegStep {
        /// The training objective.
        objective: SegObjective,
        /// Batch size B.
        batch: i64,
        /// Image side S.
        side: i64,
    },
}

/// Target recall of the precision@recall workloads (losses, metrics, segmentation).
pub const TARGET_RECALL: f64 = 0.9;
/// Target precision of the recall@precision loss workload.
pub const TARGET_PRECISION: f64 = 0.7;
/// Allowed false-positive rate of the TPR@FPR loss workload.
pub const TARGET_FPR: f64 = 0.1;

impl Case {
    /// The criterion group: the id up to its last `/`.
    pub fn group(&self) -> String {
        let id = self.to_string();
        id.rsplit_once('/')
            .map(|(g, _)| g.to_string())
            .unwrap_or(id)
    }

    /// The parameter part: the id after its last `/`.
    pub fn parameter(&self) -> String {
        let id = self.to_string();
        id.rsplit_once('/')
            .map(|(_, p)| p.to_string())
            .unwrap_or_default()
    }

    /// Number of elements processed per iteration (logits, scores or pixels).
    pub fn elements(&self) -> u64 {
        match *self {
            Case::Loss { n, .. } | Case::Metric { n, .. } => n as u64,
            Case::SegStep { batch, side, .. } => (batch * side * side) as u64,
        }
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Case::Loss { kind, n } => match kind {
                LossKind::Bce => write!(f, "loss/bce/N{n}-L1"),
                LossKind::PrecisionAtRecall => write!(f, "loss/precision_at_recall/N{n}-L1"),
                LossKind::RecallAtPrecision => write!(f, "loss/recall_at_precision/N{n}-L1"),
                LossKind::TprAtFpr => write!(f, "loss/tpr_at_fpr/N{n}-L1"),
                LossKind::PrAuc { anchors, fused } => {
                    write!(f, "loss/pr_auc_{}/N{n}-L1-K{anchors}", path_name(fused))
                }
                LossKind::RocAucAnchors { anchors, fused } => {
                    write!(
                        f,
                        "loss/roc_auc_anchors_{}/N{n}-L1-K{anchors}",
                        path_name(fused)
                    )
                }
                LossKind::RocAucPairwise { pairs } => {
                    write!(f, "loss/roc_auc_pairwise/N{n}-L1-P{pairs}")
                }
                LossKind::AnchorSum { anchors, fused } => {
                    write!(f, "loss/anchor_sum_{}/N{n}-L1-K{anchors}", path_name(fused))
                }
            },
            Case::Metric { kind, n } => match kind {
                MetricKind::RocAuc => write!(f, "metrics/roc_auc/N{n}"),
                MetricKind::AveragePrecision => write!(f, "metrics/average_precision/N{n}"),
                MetricKind::PrecisionAtRecall => write!(f, "metrics/precision_at_recall/N{n}"),
                MetricKind::PrCurve => write!(f, "metrics/pr_curve/N{n}"),
                MetricKind::BinnedRocAuc { bins } => {
                    write!(f, "metrics/binned_roc_auc/N{n}-T{bins}")
                }
            },
            Case::SegStep {
                objective,
                batch,
                side,
            } => {
                let name = match objective {
                    SegObjective::Bce => "bce",
                    SegObjective::PrecisionAtRecall => "precision_at_recall",
                };
                write!(f, "seg_step/{name}/B{batch}-1x{side}x{side}")
            }
        }
    }
}

fn path_name(fused: bool) -> &'static str {
    if fused { "fused" } else { "autograd" }
}

/// Splits `N16384-L1-K20` into `[("N", 16384), ("L", 1), ("K", 20)]`.
fn fields(param: &str) -> Option<Vec<(char, usize)>> {
    param
        .split('-')
        .map(|p| {
            let mut chars = p.chars();
            let key = chars.next()?;
            Some((key, chars.as_str().parse().ok()?))
        })
        .collect()
}

/// The value of `key` among `fields`.
fn field(fields: &[(char, usize)], key: char) -> Option<usize> {
    fields.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
}

impl FromStr for Case {
    type Err = String;

    fn from_str(id: &str) -> Result<Self, String> {
        let bad = || format!("unknown case id {id:?} (ids are listed in benches/src/case.rs)");
        let parts: Vec<&str> = id.split('/').collect();
        let [area, name, param] = parts[..] else {
            return Err(bad());
        };
        let case = match area {
            "loss" => {
                let fs = fields(param).ok_or_else(bad)?;
                let n = field(&fs, 'N').ok_or_else(bad)?;
                if field(&fs, 'L') != Some(1) {
                    return Err(format!("case {id:?}: only L1 is built"));
                }
                let k = || field(&fs, 'K').ok_or_else(bad);
                let kind = match name {
                    "bce" => LossKind::Bce,
                    "precision_at_recall" => LossKind::PrecisionAtRecall,
                    "recall_at_precision" => LossKind::RecallAtPrecision,
                    "tpr_at_fpr" => LossKind::TprAtFpr,
                    "pr_auc_fused" => LossKind::PrAuc {
                        anchors: k()?,
                        fused: true,
                    },
                    "pr_auc_autograd" => LossKind::PrAuc {
                        anchors: k()?,
                        fused: false,
                    },
                    "roc_auc_anchors_fused" => LossKind::RocAucAnchors {
                        anchors: k()?,
                        fused: true,
                    },
                    "roc_auc_anchors_autograd" => LossKind::RocAucAnchors {
                        anchors: k()?,
                        fused: false,
                    },
                    "anchor_sum_fused" => LossKind::AnchorSum {
                        anchors: k()?,
                        fused: true,
                    },
                    "anchor_sum_autograd" => LossKind::AnchorSum {
                        anchors: k()?,
                        fused: false,
                    },
                    "roc_auc_pairwise" => LossKind::RocAucPairwise {
                        pairs: field(&fs, 'P').ok_or_else(bad)?,
                    },
                    _ => return Err(bad()),
                };
                Case::Loss { kind, n }
            }
            "metrics" => {
                let fs = fields(param).ok_or_else(bad)?;
                let n = field(&fs, 'N').ok_or_else(bad)?;
                let kind = match name {
                    "roc_auc" => MetricKind::RocAuc,
                    "average_precision" => MetricKind::AveragePrecision,
                    "precision_at_recall" => MetricKind::PrecisionAtRecall,
                    "pr_curve" => MetricKind::PrCurve,
                    "binned_roc_auc" => MetricKind::BinnedRocAuc {
                        bins: field(&fs, 'T').ok_or_else(bad)?,
                    },
                    _ => return Err(bad()),
                };
                Case::Metric { kind, n }
            }
            "seg_step" => {
                let objective = match name {
                    "bce" => SegObjective::Bce,
                    "precision_at_recall" => SegObjective::PrecisionAtRecall,
                    _ => return Err(bad()),
                };
                // B8-1x64x64
                let (b, shape) = param.split_once('-').ok_or_else(bad)?;
                let batch = b
                    .strip_prefix('B')
                    .and_then(|b| b.parse().ok())
                    .ok_or_else(bad)?;
                let dims: Vec<i64> = shape
                    .split('x')
                    .map(|d| d.parse().ok())
                    .collect::<Option<_>>()
                    .ok_or_else(bad)?;
                let [1, h, w] = dims[..] else {
                    return Err(bad());
                };
                if h != w {
                    return Err(format!("case {id:?}: only square images are built"));
                }
                Case::SegStep {
                    objective,
                    batch,
                    side: h,
                }
            }
            _ => return Err(bad()),
        };
        if case.to_string() != id {
            return Err(bad());
        }
        Ok(case)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let cases = [
            Case::Loss {
                kind: LossKind::Bce,
                n: 1 << 21,
            },
            Case::Loss {
                kind: LossKind::PrAuc {
                    anchors: 20,
                    fused: true,
                },
                n: 1 << 14,
            },
            Case::Loss {
                kind: LossKind::RocAucAnchors {
                    anchors: 5,
                    fused: false,
                },
                n: 7,
            },
            Case::Loss {
                kind: LossKind::RocAucPairwise { pairs: 1 << 20 },
                n: 1 << 14,
            },
            Case::Loss {
                kind: LossKind::AnchorSum {
                    anchors: 20,
                    fused: false,
                },
                n: 9,
            },
            Case::Metric {
                kind: MetricKind::BinnedRocAuc { bins: 1024 },
                n: 10_000_000,
            },
            Case::Metric {
                kind: MetricKind::AveragePrecision,
                n: 100_000,
            },
            Case::SegStep {
                objective: SegObjective::PrecisionAtRecall,
                batch: 8,
                side: 64,
            },
        ];
        for case in cases {
            let id = case.to_string();
            assert_eq!(id.parse::<Case>(), Ok(case), "{id}");
        }
        assert_eq!(cases[1].to_string(), "loss/pr_auc_fused/N16384-L1-K20");
        assert_eq!(cases[1].group(), "loss/pr_auc_fused");
        assert_eq!(cases[1].parameter(), "N16384-L1-K20");
        assert_eq!(
            cases[7].to_string(),
            "seg_step/precision_at_recall/B8-1x64x64"
        );
    }

    #[test]
    fn bad_ids_are_rejected() {
        for id in [
            "loss/bce/N16384",
            "loss/bce/N16384-L2",
            "loss/pr_auc_fused/N16384-L1",
            "metrics/roc_auc/Nx",
            "seg_step/bce/B8-3x64x64",
            "loss/bce/N16384-L1/extra",
            "loss/bce/N016384-L1",
        ] {
            assert!(id.parse::<Case>().is_err(), "{id}");
        }
    }
}
