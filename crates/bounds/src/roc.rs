//! ROC-AUC as a pairwise surrogate (reference §4.6): exact over all pairs, or
//! estimated from a seeded sample of positive–negative pairs.
use tch::{Kind, Tensor};

use crate::{Error, Result, Surrogate, check};

/// Pairwise ROC-AUC surrogate loss, per element.
///
/// ```text
/// loss_bj = 1/(2N) · Σ_a |Δy| · w_aj · w_bj · φ₊(Δy · Δs)
///           Δy = y_bj − y_aj,   Δs = s_bj − s_aj
/// Σ_b loss_bj = 1/N · Σ_{p pos} Σ_{q neg} w_pj · w_qj · φ₊(s_pj − s_qj)   (hard labels)
/// ```
///
/// s = `logits`, y = `labels`, w = `weights` (`None` = all ones), φ₊ the [`Surrogate`]'s
/// unweighted loss on a positive (xent: softplus(−z), hinge: max(0, 1 − z)). The ½
/// splits each positive–negative pair equally between its two elements; N is the
/// batch size (zero-weight rows included), not #pos·#neg; no κ correction. Labels are
/// independent per column j. Take `.sum()` or `.mean()` of the result as the loss.
///
/// `max_pairs`:
/// - `None`: the exact sum over all N² pairs per label, by autograd. Time and memory
///   O(N²·L); fine up to a few thousand elements.
/// - `Some(M)`: per label j, with P_j the positives and Q_j the negatives of nonzero
///   weight (labels must be exactly 0 or 1): if |P_j|·|Q_j| ≤ M every pair is
///   enumerated once (the result equals the exact one); otherwise M pairs (p, q) are
///   drawn uniformly with replacement from P_j × Q_j by a generator seeded with
///   `seed` and the label index, and each contributes
///   ```text
///   (|P_j|·|Q_j| / M) · w_pj · w_qj · φ₊(s_pj − s_qj) / (2N)   to loss_pj and to loss_qj
///   ```
///   so the expectation of every element's loss equals its exact value (unbiased).
///   Time and memory O(N·L + M·L). Same `seed` ⇒ same pairs. The pairs are drawn on
///   the host (the label masks are copied there, one `[N]` column at a time), then the
///   arithmetic runs on the logits' device.
///
/// Labels and weights of any kind are cast to the logits' kind (upstream
/// `convert_and_cast`; the crate's kind rule).
///
/// # Shapes
/// - `logits`: `[N]` or `[N, L]`, `Float` or `Double` (`L = 0` gives an empty loss).
/// - `labels`: the logits' shape.
/// - `weights`: `[N]` or (with `[N, L]` logits) `[N, 1]` or `[N, L]`.
/// - Output: the logits' shape and kind, on the logits' device.
///
/// # Errors
/// - [`Error::Rank`] / [`Error::Shape`]: ranks or sizes that do not fit.
/// - [`Error::Kind`]: logits not floating; [`Error::Unsupported`]: `Half` or
///   `BFloat16` logits.
/// - [`Error::Device`]: labels or weights on another device.
/// - [`Error::InvalidValue`]: non-finite logits, labels outside [0, 1], negative or
///   non-finite weights; labels other than 0 and 1 when `max_pairs` is set; a loss that
///   overflows the logits' kind (`what = "loss"`, e.g. pair weights w_a·w_b beyond its
///   range).
/// - [`Error::InvalidConfig`]: `max_pairs = Some(0)`.
/// - [`Error::Torch`]: the exact path could not allocate its `[N, N]` tensors (the
///   batch is too large: set `max_pairs`).
///
/// # Examples
/// ```
/// use bounds::{roc::roc_auc_pairwise_loss, Surrogate};
/// use tch::Tensor;
/// // Upstream testManualROCLoss: a perfectly ranked batch with hinge margins ≥ 1.
/// let y = Tensor::from_slice(&[0.0f64, 0.0, 0.0, 1.0, 1.0, 1.0]);
/// let s = Tensor::from_slice(&[-0.2f64, 0.0, -0.1, 1.0, 1.1, 1.0]);
/// let loss = roc_auc_pairwise_loss(&y, &s, None, Surrogate::Hinge, None, 0)?;
/// assert_eq!(loss.sum(tch::Kind::Double).double_value(&[]), 0.0);
/// # Ok::<(), bounds::Error>(())
/// ```
///
/// Reference: Eban et al. (2017) §5 (ROC-AUC as a sum over pairs); upstream
/// `roc_auc_loss` (reference §4.6). Differences: the sampled estimator is ours
/// (upstream has only the exact O(N²) form); ±inf logits are rejected.
pub fn roc_auc_pairwise_loss(
    labels: &Tensor,
    logits: &Tensor,
    weights: Option<&Tensor>,
    surrogate: Surrogate,
    max_pairs: Option<usize>,
    seed: u64,
) -> Result<Tensor> {
    const OP: &str = "roc_auc_pairwise_loss";
    let kind = check::float_kind(OP, "logits", logits)?;
    let device = logits.device();
    let shape = logits.size();
    let (n, l) = match shape[..] {
        [n] => (n, 1),
        [n, l] => (n, l),
        _ => {
            return Err(Error::Rank {
                op: OP,
                what: "logits",
                expected: "1 or 2",
                got: shape.len(),
            });
        }
    };
    if labels.size() != shape {
        return Err(Error::Shape {
            op: OP,
            what: "labels",
            expected: shape,
            got: labels.size(),
        });
    }
    check::same_device(OP, "labels", labels, device)?;
    let labels = check::cast(labels, kind).reshape([n, l]); // [N, L]
    let weights = match weights {
        None => Tensor::ones([n, l], (kind, device)),
        Some(w) => {
            check::same_device(OP, "weights", w, device)?;
            let ws = w.size();
            let ok = ws == [n] || ws == shape || (shape.len() == 2 && ws == [n, 1]);
            if !ok {
                return Err(Error::Shape {
                    op: OP,
                    what: "weights",
                    expected: shape,
                    got: ws,
                });
            }
            check::cast(w, kind).reshape([n, -1]).expand([n, l], false) // [N, L]
        }
    };
    check::finite(OP, "logits", logits)?;
    check::unit_interval(OP, "labels", &labels)?;
    check::nonneg_weights(OP, "weights", &weights)?;
    if l == 0 {
        // No label columns: an empty problem (`Tensor::stack` below needs one column).
        return Ok(logits.zeros_like());
    }
    let s = logits.reshape([n, l]); // [N, L]

    let loss = match max_pairs {
        None => exact(&labels, &s, &weights, surrogate, n)?,
        Some(0) => {
            return Err(Error::InvalidConfig {
                field: "max_pairs",
                reason: "must be at least 1, got 0".into(),
            });
        }
        Some(m) => {
            let hard = tch::no_grad(|| {
                labels
                    .eq(0.0)
                    .logical_or(&labels.eq(1.0))
                    .all()
                    .int64_value(&[])
                    != 0
            });
            if !hard {
                return Err(Error::InvalidValue {
                    op: OP,
                    what: "labels",
                    reason: "the sampled estimator (max_pairs set) needs labels in {0, 1}".into(),
                });
            }
            sampled(&labels, &s, &weights, surrogate, n, m, seed)?
        }
    };
    check::finite_output(OP, "loss", &loss)?;
    Ok(loss.reshape(shape.as_slice()))
}

/// φ₊ applied elementwise, with autograd: xent as −log σ(z) (stable, exact derivative
/// at 0), hinge as relu(1 − z). Fallible, so that an allocation failure is an error.
fn positive_surrogate(surrogate: Surrogate, z: &Tensor) -> Result<Tensor> {
    Ok(match surrogate {
        Surrogate::Xent => z.f_log_sigmoid()?.f_neg()?,
        Surrogate::Hinge => z.f_neg()?.f_add_scalar(1.0)?.f_relu()?,
    })
}

/// The exact O(N²·L) form, one label at a time (without autograd the peak is O(N²)).
/// Every `[N, N]` step uses libtorch's fallible ops: a batch too large for memory is an
/// [`Error::Torch`], not a panic.
fn exact(labels: &Tensor, s: &Tensor, w: &Tensor, surrogate: Surrogate, n: i64) -> Result<Tensor> {
    let l = labels.size()[1];
    let mut columns = Vec::with_capacity(l as usize);
    for j in 0..l {
        let (y, sj, wj) = (labels.select(1, j), s.select(1, j), w.select(1, j)); // [N]
        // Axis 0 = b (the element the loss belongs to), axis 1 = a (its partner).
        let dy = y.unsqueeze(1).f_sub(&y.unsqueeze(0))?; // [N, N]: y_b − y_a
        let ds = sj.unsqueeze(1).f_sub(&sj.unsqueeze(0))?; // [N, N]: s_b − s_a
        let pair_w = wj.unsqueeze(1).f_mul(&wj.unsqueeze(0))?; // [N, N]
        let phi = positive_surrogate(surrogate, &dy.f_mul(&ds)?)?;
        let per_pair = dy.f_abs()?.f_mul(&pair_w)?.f_mul(&phi)?;
        columns.push(per_pair.f_sum_dim_intlist([1i64].as_slice(), false, None::<Kind>)?); // [N]
    }
    Ok(Tensor::f_stack(&columns, 1)?.f_div_scalar(2.0 * n as f64)?) // [N, L]
}

/// The sampled (or, for few pairs, enumerated) form; labels are 0/1 here.
fn sampled(
    labels: &Tensor,
    s: &Tensor,
    w: &Tensor,
    surrogate: Surrogate,
    n: i64,
    max_pairs: usize,
    seed: u64,
) -> Result<Tensor> {
    let device = s.device();
    let l = labels.size()[1];
    let mut columns = Vec::with_capacity(l as usize);
    for j in 0..l {
        let (y, sj, wj) = (labels.select(1, j), s.select(1, j), w.select(1, j)); // [N]
        let live = wj.gt(0.0);
        let pos = indices(&y.eq(1.0).logical_and(&live));
        let neg = indices(&y.eq(0.0).logical_and(&live));
        let total = pos.len() as u128 * neg.len() as u128;
        let (p_idx, q_idx, scale) = if total == 0 {
            (Vec::new(), Vec::new(), 0.0)
        } else if total <= max_pairs as u128 {
            let p = pos
                .iter()
                .flat_map(|&p| neg.iter().map(move |_| p))
                .collect();
            let q = pos.iter().flat_map(|_| neg.iter().copied()).collect();
            (p, q, 1.0)
        } else {
            let mut rng = SplitMix64::new(seed ^ (j as u64).wrapping_mul(0xA076_1D64_78BD_642F));
            let mut p = Vec::with_capacity(max_pairs);
            let mut q = Vec::with_capacity(max_pairs);
            for _ in 0..max_pairs {
                p.push(pos[rng.below(pos.len() as u64) as usize]);
                q.push(neg[rng.below(neg.len() as u64) as usize]);
            }
            (p, q, total as f64 / max_pairs as f64)
        };
        let p_idx = Tensor::from_slice(&p_idx).to_device(device);
        let q_idx = Tensor::from_slice(&q_idx).to_device(device);
        let margin = sj.index_select(0, &p_idx) - sj.index_select(0, &q_idx);
        let pair_w = wj.index_select(0, &p_idx) * wj.index_select(0, &q_idx);
        let share = pair_w * positive_surrogate(surrogate, &margin)? * (scale / (2.0 * n as f64));
        let col = sj
            .zeros_like()
            .index_add(0, &p_idx, &share)
            .index_add(0, &q_idx, &share);
        columns.push(col);
    }
    Ok(Tensor::stack(&columns, 1)) // [N, L]
}

/// Row indices where a [N] boolean mask is true, on the host.
fn indices(mask: &Tensor) -> Vec<i64> {
    let idx = mask
        .nonzero()
        .view([-1])
        .to_device(tch::Device::Cpu)
        .to_kind(Kind::Int64);
    Vec::<i64>::try_from(idx).unwrap_or_default()
}

/// SplitMix64: a tiny seeded generator, so sampling never touches libtorch's global one.
struct SplitMix64(u64);

impl SplitMix64 {
    fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in 0..bound (bound ≥ 1), without modulo bias (Lemire's method).
    fn below(&mut self, bound: u64) -> u64 {
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let m = u128::from(self.next()) * u128::from(bound);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SplitMix64;

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut rng = SplitMix64::new(7);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[rng.below(3) as usize] += 1;
        }
        // Each count ~ Binomial(30000, 1/3): sd ≈ 82, so ±500 is > 6 sd.
        for c in counts {
            assert!((9_500..=10_500).contains(&c), "{counts:?}");
        }
    }
}
