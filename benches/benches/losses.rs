//! Loss forward + backward: every `bounds` loss beside libtorch's BCE-with-logits, and the
//! fused anchor path beside plain autograd.
use std::hint::black_box;

use criterion::Criterion;

use benches::loss_cases::LossWorkload;
use benches::{Case, LossKind};

use crate::settings::{self, LOSS_SIZES};

/// Anchor counts of the PR-AUC and ROC-AUC anchor benchmarks.
const ANCHORS: [usize; 3] = [5, 20, 50];

/// The anchor benchmarks run at 2¹⁷ (plain autograd keeps an `[N, K]` graph); the fused
/// path is also measured at 2²¹ with K = 20, the size of the PR-AUC goal.
const ANCHOR_N: usize = 1 << 17;

fn cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for &n in settings::sizes(&LOSS_SIZES) {
        for kind in [
            LossKind::Bce,
            LossKind::PrecisionAtRecall,
            LossKind::RecallAtPrecision,
            LossKind::TprAtFpr,
        ] {
            cases.push(Case::Loss { kind, n });
        }
    }
    let anchor_n = if settings::quick() {
        LOSS_SIZES[0]
    } else {
        ANCHOR_N
    };
    for &anchors in settings::sizes(&ANCHORS) {
        for fused in [true, false] {
            cases.push(Case::Loss {
                kind: LossKind::PrAuc { anchors, fused },
                n: anchor_n,
            });
            cases.push(Case::Loss {
                kind: LossKind::RocAucAnchors { anchors, fused },
                n: anchor_n,
            });
            cases.push(Case::Loss {
                kind: LossKind::AnchorSum { anchors, fused },
                n: anchor_n,
            });
        }
    }
    if !settings::quick() {
        cases.push(Case::Loss {
            kind: LossKind::PrAuc {
                anchors: 20,
                fused: true,
            },
            n: 1 << 21,
        });
    }
    cases.push(Case::Loss {
        kind: LossKind::RocAucPairwise { pairs: 1 << 20 },
        n: 1 << 14,
    });
    cases
}

/// Registers the loss benchmarks.
pub fn bench(c: &mut Criterion) {
    for case in cases() {
        let Case::Loss { kind, n } = case else {
            continue;
        };
        for device in settings::devices() {
            let w = match LossWorkload::new(kind, n, device) {
                Ok(w) => w,
                Err(e) => {
                    eprintln!("skipping {case} on {device:?}: {e}");
                    continue;
                }
            };
            let mut g = settings::group(c, &case);
            g.bench_function(settings::name(&case, device), |b| {
                b.iter_custom(|iters| {
                    settings::timed(device, iters, || {
                        black_box(w.step().expect("the loss should run on its own inputs"));
                    })
                })
            });
            g.finish();
        }
    }
}
