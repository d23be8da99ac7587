//! Adam written on tensors, so that its whole state can be checkpointed and a resumed
//! run continues exactly where it stopped (tch's built-in optimizer state cannot be
//! saved).
//!
//! Only the trainable variables of the VarStore are optimized: the model's weights and
//! the anchor biases of PR-AUC / ROC-AUC objectives. The multipliers of a
//! [`bounds::MultiplierUpdate::DualAscent`] objective are non-trainable variables, so
//! Adam never sees them; they move only by the objective's projected dual step.
use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use crate::{Error, Result};

/// Hyper-parameters of [`Adam`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Step size η > 0; defaults to `1e-3`.
    pub lr: f64,
    /// Decay β₁ ∈ [0, 1) of the first-moment average; defaults to `0.9`.
    pub beta1: f64,
    /// Decay β₂ ∈ [0, 1) of the second-moment average; defaults to `0.999`.
    pub beta2: f64,
    /// ε > 0 added to the denominator; defaults to `1e-8`.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl AdamConfig {
    /// Checks every field.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] naming the first field out of range.
    pub fn validate(&self) -> Result<()> {
        let bad = |field, value: f64, range: &str| {
            Err(Error::config(
                field,
                format!("must be {range}, got {value}"),
            ))
        };
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr, "finite and > 0");
        }
        if !(0.0..1.0).contains(&self.beta1) {
            return bad("beta1", self.beta1, "in [0, 1)");
        }
        if !(0.0..1.0).contains(&self.beta2) {
            return bad("beta2", self.beta2, "in [0, 1)");
        }
        if !(self.eps.is_finite() && self.eps > 0.0) {
            return bad("eps", self.eps, "finite and > 0");
        }
        Ok(())
    }
}

/// One optimized variable with its moment estimates.
#[derive(Debug)]
struct Slot {
    name: String,
    param: Tensor,
    m: Tensor,
    v: Tensor,
}

/// Adam (Kingma & Ba, 2015, Algorithm 1) over the trainable variables of a VarStore.
///
/// At step t (counted from 1), for each parameter θ with gradient g:
///
/// ```text
/// m ← β₁·m + (1 − β₁)·g
/// v ← β₂·v + (1 − β₂)·g²
/// θ ← θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// the same arithmetic as PyTorch's `torch.optim.Adam` (no weight decay, no AMSGrad).
/// A parameter whose gradient is undefined at a step (not reached by the loss) is left
/// unchanged, as in PyTorch; unlike PyTorch, the step counter t is shared by all
/// parameters.
///
/// State (m, v per parameter and t) is exposed by [`Adam::state`] and restored by
/// [`Adam::load_state`]; parameters are identified by their VarStore names.
#[derive(Debug)]
pub struct Adam {
    config: AdamConfig,
    slots: Vec<Slot>,
    step: i64,
}

impl Adam {
    /// Collects the trainable variables of `vs` (those with `requires_grad`), sorted by
    /// name, with zero moment estimates.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] from [`AdamConfig::validate`], or (field `vs`) when the
    /// store holds no trainable variable.
    pub fn new(vs: &nn::VarStore, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        if named.is_empty() {
            return Err(Error::config("vs", "no trainable variable to optimize"));
        }
        named.sort_by(|a, b| a.0.cmp(&b.0));
        let slots = named
            .into_iter()
            .map(|(name, param)| Slot {
                m: param.zeros_like().detach(),
                v: param.zeros_like().detach(),
                name,
                param,
            })
            .collect();
        Ok(Adam {
            config,
            slots,
            step: 0,
        })
    }

    /// The hyper-parameters.
    pub fn config(&self) -> &AdamConfig {
        &self.config
    }

    /// Steps taken so far (t).
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Names of the optimized variables, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.slots.iter().map(|s| s.name.as_str()).collect()
    }

    /// Clears the gradients of every optimized variable.
    pub fn zero_grad(&mut self) {
        for slot in &mut self.slots {
            slot.param.zero_grad();
        }
    }

    /// One Adam step from the current gradients (see the type's formula).
    ///
    /// # Errors
    /// [`Error::Torch`] if libtorch fails (e.g. a gradient on another device).
    pub fn step(&mut self) -> Result<()> {
        self.step += 1;
        let AdamConfig {
            lr,
            beta1,
            beta2,
            eps,
        } = self.config;
        let t = self.step as i32;
        let correction1 = 1.0 - beta1.powi(t);
        let correction2_sqrt = (1.0 - beta2.powi(t)).sqrt();
        tch::no_grad(|| -> Result<()> {
            for slot in &mut self.slots {
                let grad = slot.param.grad();
                if !grad.defined() {
                    continue;
                }
                let m = &slot.m * beta1 + &grad * (1.0 - beta1);
                let v = &slot.v * beta2 + (&grad * &grad) * (1.0 - beta2);
                let denom = v.sqrt() / correction2_sqrt + eps;
                let update = (&m / denom) * (lr / correction1);
                slot.m.f_copy_(&m)?;
                slot.v.f_copy_(&v)?;
                let _ = slot.param.f_sub_(&update)?;
            }
            Ok(())
        })
    }

    /// The state as named tensors: `adam_m.<name>` and `adam_v.<name>` for each
    /// variable (shallow copies: they share storage with the optimizer).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(2 * self.slots.len());
        for slot in &self.slots {
            out.push((format!("adam_m.{}", slot.name), slot.m.shallow_clone()));
            out.push((format!("adam_v.{}", slot.name), slot.v.shallow_clone()));
        }
        out
    }

    /// Restores the moment estimates from tensors named as by [`Adam::state`], and the
    /// step counter.
    ///
    /// # Errors
    /// [`Error::Data`] (path `source`) when a tensor is missing or has the wrong shape,
    /// or `steps < 0`.
    pub fn load_state(
        &mut self,
        tensors: Vec<(String, Tensor)>,
        steps: i64,
        source: &std::path::Path,
    ) -> Result<()> {
        if steps < 0 {
            return Err(Error::data(source, format!("negative step count {steps}")));
        }
        let mut by_name: HashMap<String, Tensor> = tensors.into_iter().collect();
        tch::no_grad(|| -> Result<()> {
            for slot in &mut self.slots {
                for (prefix, dst) in [("adam_m", &mut slot.m), ("adam_v", &mut slot.v)] {
                    let key = format!("{prefix}.{}", slot.name);
                    let src = by_name
                        .remove(&key)
                        .ok_or_else(|| Error::data(source, format!("missing tensor {key}")))?;
                    if src.size() != dst.size() {
                        return Err(Error::data(
                            source,
                            format!(
                                "tensor {key} has shape {:?}, expected {:?}",
                                src.size(),
                                dst.size()
                            ),
                        ));
                    }
                    dst.f_copy_(&src)?;
                }
            }
            Ok(())
        })?;
        self.step = steps;
        Ok(())
    }
}
