//! Lagrange multipliers λ ≥ 0 and their two update mechanisms.
use tch::{Tensor, nn};

use crate::{Error, MultiplierUpdate, Result};

/// A tensor of Lagrange multipliers λ ≥ 0 stored in a VarStore, with its update rule.
///
/// - [`MultiplierUpdate::Reversed`]: a trainable variable v; the forward value is
///   ```text
///   λ = |v|.detach() + ρ·(|v|.detach() − |v|)      value |v|,  ∂λ/∂v = −ρ·sign(v)
///   ```
///   so a minimising optimizer step on v is an ascent step on λ of size η·ρ·∂J/∂λ.
///   Upstream writes (1 + ρ)|v|.detach() − ρ|v|: same value and gradient; our form
///   returns exactly |v| in floating point.
/// - [`MultiplierUpdate::DualAscent`]: a non-trainable variable holding λ itself
///   (created with `requires_grad = false`, absent from `VarStore::trainable_variables`);
///   the forward uses it detached and [`Multipliers::dual_step`] applies
///   ```text
///   λ ← clamp(λ + η·g, 0, λ_max)
///   ```
///
/// The variable is named `name` under the caller's path, so it is checkpointed by
/// `VarStore::save` / `load`.
///
/// # Examples
/// ```
/// use bounds::{Multipliers, MultiplierUpdate};
/// use tch::{nn, Device, Tensor};
/// let vs = nn::VarStore::new(Device::Cpu);
/// let update = MultiplierUpdate::DualAscent { rate: 0.5, max: Some(2.0) };
/// let m = Multipliers::new(&vs.root(), "multipliers", &[2], 1.0, update)?;
/// assert!(vs.trainable_variables().is_empty());
/// m.dual_step(&Tensor::from_slice(&[-4.0f32, 4.0]))?; // 1 − 2 → 0, 1 + 2 → cap 2
/// assert_eq!(Vec::<f32>::try_from(m.current()).unwrap(), vec![0.0, 2.0]);
/// # Ok::<(), bounds::Error>(())
/// ```
///
/// Reference: upstream `_create_dual_variable` (reference §3.3); TFCO for the projection.
#[derive(Debug)]
pub struct Multipliers {
    var: Tensor,
    update: MultiplierUpdate,
}

impl Multipliers {
    /// Creates the multipliers, every entry set to `init`, as variable `name` under
    /// `path` (kind and device of the path's VarStore).
    ///
    /// # Shapes
    /// `dims` is `[L]` for the threshold objectives, `[L, K]` for the anchor objectives.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] if `init` is negative or not finite, if the update is
    /// invalid, or if `name` already exists under `path` (names must be stable so that
    /// checkpoints round-trip).
    pub fn new(
        path: &nn::Path,
        name: &str,
        dims: &[i64],
        init: f64,
        update: MultiplierUpdate,
    ) -> Result<Self> {
        update.validate()?;
        if !(init.is_finite() && init >= 0.0) {
            return Err(Error::InvalidConfig {
                field: "multiplier_init",
                reason: format!("{init} is not a finite value >= 0"),
            });
        }
        let trainable = matches!(update, MultiplierUpdate::Reversed { .. });
        let var = add_var(path, name, dims, init, trainable)?;
        Ok(Multipliers { var, update })
    }

    /// λ for a forward pass: carries the reversed gradient under `Reversed`, detached
    /// under `DualAscent`.
    pub fn value(&self) -> Tensor {
        match self.update {
            MultiplierUpdate::Reversed { dual_rate_factor } => {
                let a = self.var.abs();
                let d = a.detach();
                &d + (&d - a) * dual_rate_factor
            }
            MultiplierUpdate::DualAscent { .. } => self.var.detach(),
        }
    }

    /// The current λ (≥ 0) as a detached copy.
    pub fn current(&self) -> Tensor {
        tch::no_grad(|| self.var.abs().detach().copy())
    }

    /// The raw stored variable (v under `Reversed`, may be negative; λ under
    /// `DualAscent`), upstream's `other_outputs['lambdas']`.
    pub fn variable(&self) -> &Tensor {
        &self.var
    }

    /// The update rule.
    pub fn update(&self) -> MultiplierUpdate {
        self.update
    }

    /// Projected gradient ascent λ ← clamp(λ + rate·g, 0, max) under `DualAscent`;
    /// a no-op under `Reversed` (the model's optimizer moves v).
    ///
    /// # Shapes
    /// `grad`: the multipliers' shape; any floating kind (cast), same device.
    ///
    /// # Errors
    /// [`Error::Shape`] / [`Error::Device`] for a gradient that does not fit;
    /// [`Error::InvalidValue`] for a non-finite gradient.
    pub fn dual_step(&self, grad: &Tensor) -> Result<()> {
        let MultiplierUpdate::DualAscent { rate, max } = self.update else {
            return Ok(());
        };
        const OP: &str = "dual_step";
        crate::check::shape_eq(OP, "constraint_grad", grad, &self.var.size())?;
        crate::check::same_device(OP, "constraint_grad", grad, self.var.device())?;
        let g = grad.detach().to_kind(self.var.kind());
        if g.isfinite().logical_not().any().int64_value(&[]) != 0 {
            return Err(Error::InvalidValue {
                op: OP,
                what: "constraint_grad",
                reason: "non-finite gradient".into(),
            });
        }
        tch::no_grad(|| {
            let next = (&self.var + g * rate).clamp_min(0.0);
            let next = match max {
                Some(m) => next.clamp_max(m),
                None => next,
            };
            let mut v = self.var.shallow_clone();
            v.copy_(&next);
        });
        Ok(())
    }

    /// Overwrites λ (e.g. to warm-start); values must be finite and ≥ 0 (and ≤ max).
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Device`], [`Error::InvalidValue`].
    pub fn set(&self, values: &Tensor) -> Result<()> {
        const OP: &str = "set_multipliers";
        crate::check::shape_eq(OP, "multipliers", values, &self.var.size())?;
        crate::check::same_device(OP, "multipliers", values, self.var.device())?;
        crate::check::nonneg_weights(OP, "multipliers", values)?;
        if let MultiplierUpdate::DualAscent { max: Some(m), .. } = self.update {
            if values.max().double_value(&[]) > m {
                return Err(Error::InvalidValue {
                    op: OP,
                    what: "multipliers",
                    reason: format!("a value exceeds the cap {m}"),
                });
            }
        }
        tch::no_grad(|| {
            let mut v = self.var.shallow_clone();
            v.copy_(values);
        });
        Ok(())
    }
}

/// Adds variable `name` (filled with `init`) under `path`; refuses a duplicate name.
pub(crate) fn add_var(
    path: &nn::Path,
    name: &str,
    dims: &[i64],
    init: f64,
    trainable: bool,
) -> Result<Tensor> {
    add_var_kind(path, name, dims, init, trainable, path.kind())
}

/// As [`add_var`] with an explicit kind.
pub(crate) fn add_var_kind(
    path: &nn::Path,
    name: &str,
    dims: &[i64],
    init: f64,
    trainable: bool,
    kind: tch::Kind,
) -> Result<Tensor> {
    if path.get(name).is_some() {
        return Err(Error::InvalidConfig {
            field: "path",
            reason: format!("variable {:?} already exists", path.path(name)),
        });
    }
    let t = Tensor::f_full(dims, init, (kind, path.device()))?;
    Ok(path.add(name, t, trainable))
}
