//! Train a linear classifier for the best precision at recall ≥ 0.9 with `GlobalLoss`.
//!
//! Data: 2-D points, 10% positives, overlapping classes. Expected outcome (CPU, seed 0):
//! recall at logit 0 climbs from 0 to about 0.85 by step 300 while λ rises from 1 to
//! about 12.7; the slack (surrogate recall − 0.9) stays negative longer because the
//! surrogate recall is a lower bound of the true recall. Precision is what it trades.
//!
//! Run: `cargo run --release -p bounds --example precision_at_recall`
use bounds::{GlobalLoss, LossConfig, ObjectiveConfig, Pass, Target};
use tch::nn::{self, Module, OptimizerConfig};
use tch::{Device, Kind, Tensor};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    tch::manual_seed(0);
    let device = Device::cuda_if_available();
    let opts = (Kind::Float, device);

    // 900 negatives around (0, 0), 100 positives around (1, 1), both with std 0.8.
    let neg = Tensor::randn([900, 2], opts) * 0.8;
    let pos = Tensor::randn([100, 2], opts) * 0.8 + 1.0;
    let x = Tensor::cat(&[neg, pos], 0);
    let y = Tensor::cat(&[Tensor::zeros([900], opts), Tensor::ones([100], opts)], 0);

    let vs = nn::VarStore::new(device);
    let model = nn::linear(vs.root() / "model", 2, 1, Default::default());
    // Multipliers and prior counters live under "loss"; VarStore::save checkpoints them.
    let cfg = LossConfig::new(ObjectiveConfig::PrecisionAtRecall {
        target_recall: Target::All(0.9),
    });
    let loss = GlobalLoss::new(&(vs.root() / "loss"), 1, &cfg)?;
    // The multipliers are not trainable variables: Adam never sees them.
    let mut opt = nn::Adam::default().build(&vs, 0.05)?;

    for step in 0..=300 {
        let logits = model.forward(&x).squeeze_dim(1);
        let out = loss.forward_mean(&logits, &y, None, Pass::Train)?;
        opt.backward_step(&out.loss);
        loss.dual_step(&out)?; // projected ascent on λ, after the model's step
        if step % 50 == 0 {
            let predicted = logits.ge(0.0).to_kind(Kind::Float);
            let tp = (&predicted * &y).sum(Kind::Float).double_value(&[]);
            let fp = (&predicted * y.ones_like().g_sub(&y))
                .sum(Kind::Float)
                .double_value(&[]);
            println!(
                "step {step:3}  loss {:8.4}  λ {:7.3}  slack {:+.3}  recall {:.3}  precision {:.3}",
                out.loss.double_value(&[]),
                out.diagnostics.multipliers.double_value(&[0]),
                out.diagnostics.slack.double_value(&[0]),
                tp / 100.0,
                tp / (tp + fp).max(1.0),
            );
        }
    }
    Ok(())
}
