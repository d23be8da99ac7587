//! Segmentation workload: one training step of `seg`'s U-Net on a seeded batch.
use bounds::{LossConfig, ObjectiveConfig, Pass, Target};
use seg::model::{UNet, UNetConfig};
use seg::objective::{Objective, ObjectiveSpec};
use seg::optim::{Adam, AdamConfig};
use tch::{Device, Tensor, nn};

use crate::case::{SegObjective, TARGET_RECALL};
use crate::{Result, data};

/// Adam learning rate of the step (also used by `side_by_side.py`).
pub const LEARNING_RATE: f64 = 1e-3;

/// The U-Net size the step is measured at: `seg`'s default.
pub fn unet_config() -> UNetConfig {
    UNetConfig::default()
}

/// A U-Net, `seg`'s Adam, `seg`'s objective and one batch: the step of `seg::train`.
///
/// A step is what `seg::train` does per batch: forward in training mode,
/// `Objective::loss` (mean over pixels, every pixel valid), `zero_grad`, backward,
/// Adam step, and for precision@recall the projected dual step on the multiplier.
pub struct SegWorkload {
    net: UNet,
    opt: Adam,
    objective: Objective,
    images: Tensor,
    masks: Tensor,
    valid: Tensor,
    _vars: nn::VarStore,
}

impl SegWorkload {
    /// Builds the model (seeded with `tch::manual_seed(0)`), the optimizer and the batch
    /// `data::seg_batch(batch, side)` on `device`.
    ///
    /// # Errors
    /// A `seg`, `bounds` or libtorch error when something cannot be built.
    pub fn new(objective: SegObjective, batch: i64, side: i64, device: Device) -> Result<Self> {
        tch::manual_seed(0);
        let vars = nn::VarStore::new(device);
        let net = UNet::new(&(vars.root() / "unet"), &unet_config())?;
        let spec = match objective {
            SegObjective::Bce => ObjectiveSpec::Bce,
            SegObjective::PrecisionAtRecall => {
                ObjectiveSpec::Global(LossConfig::new(ObjectiveConfig::PrecisionAtRecall {
                    target_recall: Target::All(TARGET_RECALL),
                }))
            }
        };
        let objective = Objective::new(&(vars.root() / "objective"), &spec)?;
        let opt = Adam::new(
            &vars,
            AdamConfig {
                lr: LEARNING_RATE,
                ..AdamConfig::default()
            },
        )?;
        let b = data::seg_batch(batch, side);
        let shape = [batch, 1, side, side];
        let images = Tensor::from_slice(&b.images).view(shape).to_device(device);
        let masks = Tensor::from_slice(&b.masks).view(shape).to_device(device);
        let valid = masks.ones_like();
        Ok(SegWorkload {
            net,
            opt,
            objective,
            images,
            masks,
            valid,
            _vars: vars,
        })
    }

    /// One training step; returns the loss (detached).
    ///
    /// # Errors
    /// A `seg` or `bounds` error from the forward pass or the dual step.
    pub fn step(&mut self) -> Result<Tensor> {
        let logits = self.net.f_forward_t(&self.images, true)?; // [B, 1, S, S]
        let (loss, diagnostics) =
            self.objective
                .loss(&logits, &self.masks, &self.valid, Pass::Train)?;
        self.opt.zero_grad();
        loss.backward();
        self.opt.step()?;
        if let Some(d) = &diagnostics {
            self.objective.dual_step(&loss, d)?;
        }
        Ok(loss.detach())
    }

    /// The device the model lives on.
    pub fn device(&self) -> Device {
        self.images.device()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_reduce_the_bce_loss() {
        let mut w = SegWorkload::new(SegObjective::Bce, 2, 16, Device::Cpu).unwrap();
        let first = w.step().unwrap().double_value(&[]);
        let mut last = first;
        for _ in 0..15 {
            last = w.step().unwrap().double_value(&[]);
        }
        assert!(last < first, "loss {first} -> {last}");
    }
}
