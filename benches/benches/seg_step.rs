//! One U-Net training step (batch 8 of 1×64×64) with BCE and with precision@recall.
use std::hint::black_box;

use criterion::Criterion;

use benches::seg_cases::SegWorkload;
use benches::{Case, SegObjective};

use crate::settings;

/// Registers the segmentation benchmarks.
pub fn bench(c: &mut Criterion) {
    for objective in [SegObjective::Bce, SegObjective::PrecisionAtRecall] {
        let case = Case::SegStep {
            objective,
            batch: 8,
            side: 64,
        };
        for device in settings::devices() {
            let mut w = match SegWorkload::new(objective, 8, 64, device) {
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
                        drop(black_box(
                            w.step().expect("the step should run on its own batch"),
                        ));
                    })
                })
            });
            g.finish();
        }
    }
}
