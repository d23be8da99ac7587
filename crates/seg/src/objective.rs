//! Training objectives for pixel segmentation: the `bounds` baselines and every
//! `bounds` global-objective loss, applied per pixel with an ignore mask.
//!
//! This module holds no loss math: it reshapes `[N, 1, H, W]` tensors into what
//! `bounds` expects and dispatches. Each pixel is one element; `valid` becomes the
//! element weight, so an ignored pixel (valid 0) counts neither in the loss nor in the
//! label priors.
use bounds::{Diagnostics, GlobalLoss, LossConfig, LossOutput, MultiplierUpdate, Pass};
use serde::{Deserialize, Serialize};
use tch::{Tensor, nn};

use crate::{Error, Result};

/// Smoothing ε of the soft Dice objective (added to numerator and denominator).
pub const DICE_SMOOTH: f64 = 1.0;

/// Which loss trains the model; serialized with a `kind` tag, e.g.
/// `{"kind": "focal", "gamma": 2.0, "alpha": 0.25}` or
/// `{"kind": "global", "objective": {"kind": "precision_at_recall", "target_recall": 0.9}}`.
///
/// A key that the kind does not take (`"alfa"` for `"alpha"`, a `pos_weight` on `bce`)
/// is a deserialization error, never ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", from = "SpecRepr")]
pub enum ObjectiveSpec {
    /// Binary cross-entropy, mean over all pixels ([`bounds::baseline::bce`]).
    Bce,
    /// Cross-entropy with the positive term weighted by `pos_weight`
    /// ([`bounds::baseline::weighted_bce`]).
    WeightedBce {
        /// Weight p ≥ 0 of the positive term (p > 1 favours recall).
        pos_weight: f64,
    },
    /// Focal loss ([`bounds::baseline::focal`]).
    Focal {
        /// Focusing exponent γ ≥ 0 (Lin et al. use 2).
        gamma: f64,
        /// Class balance α ∈ [0, 1] (Lin et al. use 0.25); `None` = no balancing.
        alpha: Option<f64>,
    },
    /// Soft Dice with symmetric smoothing [`DICE_SMOOTH`], mean over images
    /// ([`bounds::baseline::soft_dice`]).
    Dice,
    /// A global-objective loss ([`bounds::GlobalLoss`]) with one label, every pixel an
    /// element. Only [`MultiplierUpdate::DualAscent`] is accepted (see [`Objective::new`]).
    Global(LossConfig),
}

/// What [`ObjectiveSpec`] is read from: the same tags and fields, with the field-less
/// kinds as empty struct variants so that `deny_unknown_fields` covers them too.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum SpecRepr {
    Bce {},
    WeightedBce { pos_weight: f64 },
    Focal { gamma: f64, alpha: Option<f64> },
    Dice {},
    Global(LossConfig),
}

impl From<SpecRepr> for ObjectiveSpec {
    fn from(r: SpecRepr) -> Self {
        match r {
            SpecRepr::Bce {} => ObjectiveSpec::Bce,
            SpecRepr::WeightedBce { pos_weight } => ObjectiveSpec::WeightedBce { pos_weight },
            SpecRepr::Focal { gamma, alpha } => ObjectiveSpec::Focal { gamma, alpha },
            SpecRepr::Dice {} => ObjectiveSpec::Dice,
            SpecRepr::Global(config) => ObjectiveSpec::Global(config),
        }
    }
}

impl Default for ObjectiveSpec {
    /// Plain BCE.
    fn default() -> Self {
        ObjectiveSpec::Bce
    }
}

impl ObjectiveSpec {
    /// Checks every parameter.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for `pos_weight` or `gamma` negative or not finite,
    /// `alpha` outside [0, 1], or (as [`Error::Bounds`]) an invalid [`LossConfig`];
    /// [`Error::InvalidConfig`] (field `multiplier_update`) for
    /// [`MultiplierUpdate::Reversed`].
    pub fn validate(&self) -> Result<()> {
        let finite_nonneg = |field: &'static str, x: f64| {
            if x.is_finite() && x >= 0.0 {
                Ok(())
            } else {
                Err(Error::config(
                    field,
                    format!("must be finite and >= 0, got {x}"),
                ))
            }
        };
        match self {
            ObjectiveSpec::Bce | ObjectiveSpec::Dice => Ok(()),
            ObjectiveSpec::WeightedBce { pos_weight } => finite_nonneg("pos_weight", *pos_weight),
            ObjectiveSpec::Focal { gamma, alpha } => {
                finite_nonneg("gamma", *gamma)?;
                match alpha {
                    Some(a) if !(0.0..=1.0).contains(a) => Err(Error::config(
                        "alpha",
                        format!("must lie in [0, 1], got {a}"),
                    )),
                    _ => Ok(()),
                }
            }
            ObjectiveSpec::Global(config) => {
                config.validate()?;
                if let MultiplierUpdate::Reversed { .. } = config.multiplier_update {
                    return Err(Error::config(
                        "multiplier_update",
                        "\"reversed\" lets Adam drive the multipliers, which it cannot do \
                         (its normalised step moves them by about lr per step); use \
                         \"dual_ascent\""
                            .to_string(),
                    ));
                }
                Ok(())
            }
        }
    }

    /// A short name for reports: `bce`, `weighted_bce`, `focal`, `dice`, or the global
    /// objective's kind (e.g. `precision_at_recall`).
    pub fn name(&self) -> String {
        match self {
            ObjectiveSpec::Bce => "bce".into(),
            ObjectiveSpec::WeightedBce { .. } => "weighted_bce".into(),
            ObjectiveSpec::Focal { .. } => "focal".into(),
            ObjectiveSpec::Dice => "dice".into(),
            ObjectiveSpec::Global(config) => serde_json::to_value(&config.objective)
                .ok()
                .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
                .unwrap_or_else(|| "global".into()),
        }
    }
}

/// A built objective: the spec plus, for global losses, its state (multipliers, anchor
/// biases, label-prior counters) in the caller's VarStore.
#[derive(Debug)]
pub struct Objective {
    spec: ObjectiveSpec,
    global: Option<GlobalLoss>,
}

impl Objective {
    /// Validates `spec` and, for [`ObjectiveSpec::Global`], creates the loss state under
    /// `path` (use a sub-path of the model's VarStore, e.g. `vs.root() / "objective"`, so
    /// one `VarStore::save` checkpoints model and objective together).
    ///
    /// Unlike upstream, [`MultiplierUpdate::Reversed`] is refused: this crate trains
    /// with Adam, whose normalised step cannot drive the multipliers; the multipliers
    /// move only through [`Objective::dual_step`].
    ///
    /// # Errors
    /// As [`ObjectiveSpec::validate`]; [`Error::Bounds`] when the state cannot be created.
    pub fn new(path: &nn::Path, spec: &ObjectiveSpec) -> Result<Self> {
        spec.validate()?;
        let global = match spec {
            ObjectiveSpec::Global(config) => Some(GlobalLoss::new(path, 1, config)?),
            _ => None,
        };
        Ok(Objective {
            spec: spec.clone(),
            global,
        })
    }

    /// The spec this objective was built from.
    pub fn spec(&self) -> &ObjectiveSpec {
        &self.spec
    }

    /// The global loss, for global objectives.
    pub fn global(&self) -> Option<&GlobalLoss> {
        self.global.as_ref()
    }

    /// The current multipliers λ (flattened, detached), or `None` for objectives without
    /// multipliers (baselines and pairwise ROC-AUC).
    pub fn multipliers(&self) -> Option<Vec<f64>> {
        let m = self.global.as_ref()?.multipliers();
        if m.numel() == 0 {
            return None;
        }
        Vec::<f64>::try_from(m.to_kind(tch::Kind::Double).flatten(0, -1)).ok()
    }

    /// The scalar training loss of a batch, plus the global loss's diagnostics.
    ///
    /// For the baselines, the per-pixel loss (with `valid` as weight) is averaged over
    /// all `N·H·W` pixels (Dice: its own per-image mean). For global objectives the
    /// pixels are flattened to `P = N·H·W` elements of one label and the value is
    /// [`GlobalLoss::forward_mean`] with `valid` as weights (a [`Pass::Train`] forward
    /// also updates the streaming priors).
    ///
    /// # Shapes
    /// `logits`, `masks`, `valid`: `[N, 1, H, W]`, same kind (Float or Double) and device;
    /// `masks` and `valid` in [0, 1] (0/1 in practice). Output: a 0-dim tensor.
    ///
    /// # Errors
    /// [`Error::Shape`] when the three shapes differ or are not `[N, 1, H, W]`;
    /// [`Error::Bounds`] for what `bounds` rejects (NaN logits, labels outside [0, 1],
    /// negative weights, kind or device mismatch).
    pub fn loss(
        &self,
        logits: &Tensor,
        masks: &Tensor,
        valid: &Tensor,
        pass: Pass,
    ) -> Result<(Tensor, Option<Diagnostics>)> {
        let shape = check_pixels("Objective::loss", logits, masks, valid)?;
        match (&self.spec, &self.global) {
            (ObjectiveSpec::Bce, _) => {
                let per_pixel = bounds::baseline::bce(logits, masks, Some(valid))?;
                Ok((per_pixel.mean(per_pixel.kind()), None))
            }
            (ObjectiveSpec::WeightedBce { pos_weight }, _) => {
                let per_pixel =
                    bounds::baseline::weighted_bce(logits, masks, Some(valid), *pos_weight)?;
                Ok((per_pixel.mean(per_pixel.kind()), None))
            }
            (ObjectiveSpec::Focal { gamma, alpha }, _) => {
                let per_pixel =
                    bounds::baseline::focal(logits, masks, Some(valid), *gamma, *alpha)?;
                Ok((per_pixel.mean(per_pixel.kind()), None))
            }
            (ObjectiveSpec::Dice, _) => Ok((
                bounds::baseline::soft_dice(logits, masks, Some(valid), DICE_SMOOTH)?,
                None,
            )),
            (ObjectiveSpec::Global(_), Some(global)) => {
                let p = shape.iter().product::<i64>();
                let flat = |t: &Tensor| t.reshape([p]); // [N, 1, H, W] → [P]
                let out =
                    global.forward_mean(&flat(logits), &flat(masks), Some(&flat(valid)), pass)?;
                Ok((out.loss, Some(out.diagnostics)))
            }
            (ObjectiveSpec::Global(_), None) => {
                unreachable!("Objective::new builds the global loss for a global spec")
            }
        }
    }

    /// Projected dual ascent on the multipliers from the diagnostics of a training
    /// forward, to call after the model's optimizer step (see
    /// [`GlobalLoss::dual_step`]):
    ///
    /// ```text
    /// λ ← clamp(λ + rate · ∂J/∂λ, 0, max)
    /// ```
    ///
    /// A no-op for objectives without multipliers.
    ///
    /// # Errors
    /// [`Error::Bounds`] when the diagnostics come from an evaluation pass, from another
    /// loss, or hold a non-finite gradient.
    pub fn dual_step(&self, loss: &Tensor, diagnostics: &Diagnostics) -> Result<()> {
        let Some(global) = &self.global else {
            return Ok(());
        };
        let out = LossOutput {
            loss: loss.shallow_clone(),
            diagnostics: shallow_diagnostics(diagnostics),
        };
        Ok(global.dual_step(&out)?)
    }
}

/// A copy of `d` that shares its tensors.
fn shallow_diagnostics(d: &Diagnostics) -> Diagnostics {
    Diagnostics {
        pass: d.pass,
        multipliers: d.multipliers.shallow_clone(),
        priors: d.priors.shallow_clone(),
        tp_lower_bound: d.tp_lower_bound.shallow_clone(),
        fp_upper_bound: d.fp_upper_bound.shallow_clone(),
        slack: d.slack.shallow_clone(),
        constraint_grad: d.constraint_grad.shallow_clone(),
    }
}

/// Checks that logits, masks and valid are all `[N, 1, H, W]` with the same size;
/// returns that size.
pub(crate) fn check_pixels(
    op: &'static str,
    logits: &Tensor,
    masks: &Tensor,
    valid: &Tensor,
) -> Result<Vec<i64>> {
    let shape = logits.size();
    if shape.len() != 4 || shape[1] != 1 || shape.contains(&0) {
        return Err(Error::Shape {
            op,
            what: "logits",
            expected: vec![-1, 1, -1, -1],
            got: shape,
        });
    }
    Error::check_shape(op, "masks", masks, &shape)?;
    Error::check_shape(op, "valid", valid, &shape)?;
    Ok(shape)
}
