//! Pixel-scale anchor sums: the PR-AUC / ROC-AUC anchor surrogate term evaluated in
//! row chunks with an analytic gradient, so no `[N, K]` autograd graph is kept.
//!
//! The derivation, the memory figures and the chunk-size guidance are in
//! `docs/pixel-scale.md`.
use tch::{Kind, Tensor};

use crate::{Error, Result, Surrogate, check};

/// Default number of rows per chunk for [`anchor_surrogate_sum`]: 16384.
///
/// One chunk holds about eight `[rows, L, K]` temporaries, so at `L = 1`, `K = 20` in
/// float64 a chunk costs about 16384 · 20 · 8 B · 8 ≈ 21 MB, small beside the `[N, L]`
/// inputs at `N = 2²¹` and large enough that the per-chunk overhead is negligible (see
/// `docs/pixel-scale.md`). With many labels, divide it by `L`.
pub const DEFAULT_CHUNK_ROWS: i64 = 1 << 14;

/// The anchor points and the spacing of a Riemann sum over a range.
///
/// ```text
/// α_k = a₀ + k·Δ,   k = 1..K,   Δ = (a₁ − a₀)/(K + 1)
/// ```
///
/// i.e. the interior points of `linspace(a₀, a₁, K + 2)` (both ends dropped). With
/// `(0, 1)` and `K = 20`: α = 1/21, …, 20/21 and Δ = 1/21.
///
/// # Errors
/// [`Error::InvalidConfig`] when `num_anchors` is 0 or the range is not
/// `0 ≤ a₀ < a₁ ≤ 1` (NaN included).
///
/// Reference: upstream `_range_to_anchors_and_delta` (reference §3.2). Unlike upstream,
/// a degenerate range `a₀ = a₁` is rejected instead of producing Δ = 0 and a NaN
/// normaliser.
pub fn anchor_points(range: (f64, f64), num_anchors: usize) -> Result<(Vec<f64>, f64)> {
    let (a0, a1) = range;
    if num_anchors == 0 {
        return Err(Error::InvalidConfig {
            field: "num_anchors",
            reason: "must be at least 1, got 0".into(),
        });
    }
    // Written so that NaN fails too.
    if !(0.0 <= a0 && a0 < a1 && a1 <= 1.0) {
        return Err(Error::InvalidConfig {
            field: "range",
            reason: format!("must satisfy 0 <= a0 < a1 <= 1, got ({a0}, {a1})"),
        });
    }
    let delta = (a1 - a0) / (num_anchors as f64 + 1.0);
    let points = (1..=num_anchors).map(|k| a0 + k as f64 * delta).collect();
    Ok((points, delta))
}

/// The weighted anchor surrogate sum with a chunked analytic gradient.
///
/// ```text
/// V = Σ_i Σ_l w_il · (1/K) Σ_k [ c_lk · y_il · φ₊(s_il + b_lk)
///                               + d_lk · (1 − y_il) · φ₋(s_il + b_lk) ]
/// ```
///
/// s = `logits`, y = `labels` (soft labels allowed), w = `weights`, b = `biases` (added
/// to the logit), c = `pos_coef`, d = `neg_coef`, φ₊/φ₋ the [`Surrogate`]'s loss on a
/// positive / negative. This is the data term of the PR-AUC loss and of ROC-AUC as
/// TPR@FPR anchors (reference §4.5), summed over the batch (divide by `N·L` for the
/// batch mean); the multiplier terms are the caller's.
///
/// The rows are processed `chunk_rows` at a time under `no_grad`, accumulating the value
/// and the exact derivatives g_s = ∂V/∂s `[N, L]`, g_b, g_c, g_d `[L, K]` (and
/// ∂V/∂w, ∂V/∂y `[N, L]` when those require grad). The returned 0-dim tensor is built
/// as
///
/// ```text
/// V + Σ g_s·(s − s̄) + Σ g_b·(b − b̄) + Σ g_c·(c − c̄) + Σ g_d·(d − d̄)   (x̄ = x.detach())
/// ```
///
/// whose forward value is exactly V and whose first derivatives are exactly the g's.
/// Only inputs that require grad get a term; if none does, the result has no graph.
/// The graph keeps only `[N, L]` and `[L, K]` tensors, so the extra memory is
/// O(N·L + chunk_rows·L·K) instead of the O(N·L·K) of plain autograd
/// ([`anchor_surrogate_sum_autograd`]).
///
/// Limitations: second derivatives are not available (the g's are constants in the
/// graph, so a double backward sees zero curvature). Hinge at its kink uses the
/// subgradient of libtorch's `relu` backward: φ₊'(1) = 0 and φ₋'(−1) = 0 (libtorch's
/// `clamp_min(0)` would pass the full slope there instead; both are valid subgradients).
///
/// # Shapes
/// `logits`, `labels`, `weights`: `[N, L]`; `biases`, `pos_coef`, `neg_coef`: `[L, K]`
/// with `K ≥ 1`; output: `[]` (0-dim), the logits' kind. Logits are `Float` or `Double`;
/// labels and weights may have any kind and are cast to the logits' (the crate's kind
/// rule, see the crate docs); biases and coefficients must already have it. All tensors
/// share the logits' device; all work stays on that device.
///
/// # Errors
/// - [`Error::Rank`] / [`Error::Shape`]: ranks or sizes disagree, or `K = 0`.
/// - [`Error::Kind`]: logits not floating, or biases / coefficients of another kind.
/// - [`Error::Unsupported`]: `Half` or `BFloat16` logits.
/// - [`Error::Device`]: another input on another device.
/// - [`Error::InvalidValue`]: non-finite logits, biases or coefficients; labels outside
///   `[0, 1]`; negative or non-finite weights.
/// - [`Error::InvalidConfig`]: `chunk_rows < 1`.
///
/// # Examples
/// ```
/// use bounds::{fused::anchor_surrogate_sum, Surrogate};
/// use tch::{Kind, Tensor};
/// let logits = Tensor::from_slice(&[0.5f64, -1.0, 2.0]).view([3, 1]);
/// let labels = Tensor::from_slice(&[1.0f64, 0.0, 1.0]).view([3, 1]);
/// let weights = Tensor::ones([3, 1], (Kind::Double, tch::Device::Cpu));
/// let b = Tensor::from_slice(&[-0.2f64, 0.0, 0.3]).view([1, 3]);
/// let c = Tensor::ones([1, 3], (Kind::Double, tch::Device::Cpu));
/// let d = c.shallow_clone();
/// let v = anchor_surrogate_sum(&logits, &labels, &weights, &b, &c, &d, Surrogate::Xent, 2)
///     .unwrap();
/// assert_eq!(v.size(), Vec::<i64>::new());
/// ```
///
/// Reference: Eban et al. (2017) §4 (AUCPR as a sum over anchors); upstream
/// `precision_recall_auc_loss` (reference §4.5), whose per-anchor `[N, L, K]` tensor
/// this avoids.
#[allow(clippy::too_many_arguments)]
pub fn anchor_surrogate_sum(
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
    biases: &Tensor,
    pos_coef: &Tensor,
    neg_coef: &Tensor,
    surrogate: Surrogate,
    chunk_rows: i64,
) -> Result<Tensor> {
    const OP: &str = "anchor_surrogate_sum";
    let (dims, labels, weights) =
        check_anchor_inputs(OP, logits, labels, weights, biases, pos_coef, neg_coef)?;
    let (labels, weights) = (&labels, &weights);
    if chunk_rows < 1 {
        return Err(Error::InvalidConfig {
            field: "chunk_rows",
            reason: format!("must be at least 1, got {chunk_rows}"),
        });
    }
    let want = Wanted {
        logits: logits.requires_grad(),
        labels: labels.requires_grad(),
        weights: weights.requires_grad(),
        biases: biases.requires_grad(),
        pos_coef: pos_coef.requires_grad(),
        neg_coef: neg_coef.requires_grad(),
    };
    let parts = tch::no_grad(|| {
        chunked_value_and_grads(
            dims, &want, logits, labels, weights, biases, pos_coef, neg_coef, surrogate, chunk_rows,
        )
    });

    // Straight-through assembly: every (x − x̄) is exactly zero in the forward pass, so
    // the value is untouched, and ∂/∂x of Σ g·(x − x̄) is g.
    let terms: [(&Tensor, &Option<Tensor>); 6] = [
        (logits, &parts.g_logits),
        (labels, &parts.g_labels),
        (weights, &parts.g_weights),
        (biases, &parts.g_biases),
        (pos_coef, &parts.g_pos_coef),
        (neg_coef, &parts.g_neg_coef),
    ];
    let out = terms
        .into_iter()
        .filter_map(|(x, g)| g.as_ref().map(|g| (g * (x - x.detach())).sum(dims.kind)))
        .fold(parts.value.shallow_clone(), |acc, term| acc + term);
    Ok(out)
}

/// The same sum as [`anchor_surrogate_sum`] by plain autograd over an explicit
/// `[N, L, K]` tensor: the reference the fused path is tested against.
///
/// ```text
/// V = Σ_i Σ_l w_il · (1/K) Σ_k [ c_lk·y_il·φ₊(s_il + b_lk) + d_lk·(1 − y_il)·φ₋(s_il + b_lk) ]
/// ```
///
/// Memory O(N·L·K) for the graph; use it for small N only. xent uses libtorch's
/// `log_sigmoid` (φ₊(z) = −log σ(z), φ₋(z) = −log σ(−z)), hinge uses `relu`.
///
/// # Shapes
/// As [`anchor_surrogate_sum`].
///
/// # Errors
/// As [`anchor_surrogate_sum`], without the chunk check.
pub fn anchor_surrogate_sum_autograd(
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
    biases: &Tensor,
    pos_coef: &Tensor,
    neg_coef: &Tensor,
    surrogate: Surrogate,
) -> Result<Tensor> {
    const OP: &str = "anchor_surrogate_sum_autograd";
    let (dims, labels, weights) =
        check_anchor_inputs(OP, logits, labels, weights, biases, pos_coef, neg_coef)?;
    let z = logits.unsqueeze(-1) + biases.unsqueeze(0); // [N, L, K]
    let (pos, neg) = match surrogate {
        Surrogate::Xent => (-z.log_sigmoid(), -(-&z).log_sigmoid()),
        Surrogate::Hinge => ((-&z + 1.0).relu(), (&z + 1.0).relu()),
    };
    let y = labels.unsqueeze(-1); // [N, L, 1]
    let per_anchor = &y * pos * pos_coef.unsqueeze(0) + (-&y + 1.0) * neg * neg_coef.unsqueeze(0);
    let total = (weights.unsqueeze(-1) * per_anchor).sum(dims.kind) / dims.k as f64;
    Ok(total)
}

/// Sizes, kind and device of validated anchor inputs.
#[derive(Debug, Clone, Copy)]
struct AnchorDims {
    n: i64,
    l: i64,
    k: i64,
    kind: Kind,
}

/// Which inputs need a gradient term.
struct Wanted {
    logits: bool,
    labels: bool,
    weights: bool,
    biases: bool,
    pos_coef: bool,
    neg_coef: bool,
}

/// The value (0-dim, the logits' kind) and the gradients asked for.
struct Parts {
    value: Tensor,
    g_logits: Option<Tensor>,
    g_labels: Option<Tensor>,
    g_weights: Option<Tensor>,
    g_biases: Option<Tensor>,
    g_pos_coef: Option<Tensor>,
    g_neg_coef: Option<Tensor>,
}

/// Checks the anchor inputs; returns the sizes and the labels and weights cast to the
/// logits' kind.
#[allow(clippy::too_many_arguments)]
fn check_anchor_inputs(
    op: &'static str,
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
    biases: &Tensor,
    pos_coef: &Tensor,
    neg_coef: &Tensor,
) -> Result<(AnchorDims, Tensor, Tensor)> {
    let kind = check::float_kind(op, "logits", logits)?;
    let device = logits.device();
    let (n, l) = match logits.size()[..] {
        [n, l] => (n, l),
        _ => {
            return Err(Error::Rank {
                op,
                what: "logits",
                expected: "2",
                got: logits.dim(),
            });
        }
    };
    for (what, t) in [("labels", labels), ("weights", weights)] {
        check::shape_eq(op, what, t, &[n, l])?;
        check::same_device(op, what, t, device)?;
    }
    let k = match biases.size()[..] {
        [bl, k] if bl == l && k >= 1 => k,
        _ => {
            return Err(Error::Shape {
                op,
                what: "biases",
                expected: vec![l, -1],
                got: biases.size(),
            });
        }
    };
    check::like(op, "biases", biases, &[l, k], kind, device)?;
    check::like(op, "pos_coef", pos_coef, &[l, k], kind, device)?;
    check::like(op, "neg_coef", neg_coef, &[l, k], kind, device)?;
    let labels = check::cast(labels, kind);
    let weights = check::cast(weights, kind);
    check::finite(op, "logits", logits)?;
    check::unit_interval(op, "labels", &labels)?;
    check::nonneg_weights(op, "weights", &weights)?;
    check::finite(op, "biases", biases)?;
    check::finite(op, "pos_coef", pos_coef)?;
    check::finite(op, "neg_coef", neg_coef)?;
    Ok((AnchorDims { n, l, k, kind }, labels, weights))
}

/// φ₊(z), φ₋(z), φ₊'(z), φ₋'(z), elementwise, without autograd.
fn surrogate_parts(surrogate: Surrogate, z: &Tensor) -> (Tensor, Tensor, Tensor, Tensor) {
    match surrogate {
        Surrogate::Xent => {
            // softplus(∓z) = relu(∓z) + log1p(exp(−|z|)): finite for any finite z.
            let tail = z.abs().neg().exp().log1p();
            let pos = (-z).relu() + &tail;
            let neg = z.relu() + tail;
            // d softplus(−z)/dz = −σ(−z); d softplus(z)/dz = σ(z). Computed directly (not
            // as σ(z) − 1) to keep relative precision for large z.
            let d_pos = -(-z).sigmoid();
            let d_neg = z.sigmoid();
            (pos, neg, d_pos, d_neg)
        }
        Surrogate::Hinge => {
            let kind = z.kind();
            let pos = (-z + 1.0).relu();
            let neg = (z + 1.0).relu();
            // relu's backward passes the gradient only where its input is > 0, so the
            // kinks z = 1 (positives) and z = −1 (negatives) get derivative 0.
            let d_pos = -z.lt(1.0).to_kind(kind);
            let d_neg = z.gt(-1.0).to_kind(kind);
            (pos, neg, d_pos, d_neg)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn chunked_value_and_grads(
    dims: AnchorDims,
    want: &Wanted,
    logits: &Tensor,
    labels: &Tensor,
    weights: &Tensor,
    biases: &Tensor,
    pos_coef: &Tensor,
    neg_coef: &Tensor,
    surrogate: Surrogate,
    chunk_rows: i64,
) -> Parts {
    let AnchorDims { n, l, k, kind } = dims;
    let device = logits.device();
    let inv_k = 1.0 / k as f64;
    let b = biases.unsqueeze(0); // [1, L, K]
    let c = pos_coef.unsqueeze(0); // [1, L, K]
    let d = neg_coef.unsqueeze(0); // [1, L, K]
    // [L, K] accumulators in float64 whatever the input kind: at N = 2²¹ a float32 sum
    // over rows would lose digits.
    let acc = |_: ()| Tensor::zeros([l, k], (Kind::Double, device));
    let mut sum_pos = acc(()); // Σ_i (w/K)·y·φ₊      = ∂V/∂c
    let mut sum_neg = acc(()); // Σ_i (w/K)·(1−y)·φ₋  = ∂V/∂d
    let mut sum_dz = acc(()); //  Σ_i ∂V/∂z           = ∂V/∂b
    let row_grad = |on: bool| on.then(|| Tensor::zeros([n, l], (kind, device)));
    let g_logits = row_grad(want.logits);
    let g_labels = row_grad(want.labels);
    let g_weights = row_grad(want.weights);

    let mut start = 0;
    while start < n {
        let rows = chunk_rows.min(n - start);
        let s = logits.narrow(0, start, rows).unsqueeze(-1); // [R, L, 1]
        let y = labels.narrow(0, start, rows).unsqueeze(-1); // [R, L, 1]
        let w = weights.narrow(0, start, rows).unsqueeze(-1) * inv_k; // [R, L, 1]
        let z = &s + &b; // [R, L, K]
        let (pos, neg, d_pos, d_neg) = surrogate_parts(surrogate, &z);
        drop(z);
        let wy = &w * &y; // [R, L, 1]
        let wny = &w * (-&y + 1.0); // [R, L, 1]
        let pos_w = &wy * &pos; // [R, L, K]
        let neg_w = &wny * &neg; // [R, L, K]
        sum_pos += pos_w.sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
        sum_neg += neg_w.sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
        drop((pos_w, neg_w));
        let dz = &wy * &c * d_pos + &wny * &d * d_neg; // [R, L, K]
        sum_dz += dz.sum_dim_intlist([0i64].as_slice(), false, Kind::Double);
        if let Some(g) = &g_logits {
            put_rows(
                g,
                start,
                &dz.sum_dim_intlist([-1i64].as_slice(), false, kind),
            );
        }
        drop(dz);
        let c_pos = &c * &pos; // [R, L, K]
        let d_neg_v = &d * &neg; // [R, L, K]
        if let Some(g) = &g_weights {
            // ∂V/∂w_il = (1/K) Σ_k [c·y·φ₊ + d·(1−y)·φ₋]
            let per = &y * &c_pos + (-&y + 1.0) * &d_neg_v;
            put_rows(
                g,
                start,
                &(per.sum_dim_intlist([-1i64].as_slice(), false, kind) * inv_k),
            );
        }
        if let Some(g) = &g_labels {
            // ∂V/∂y_il = (w/K) Σ_k [c·φ₊ − d·φ₋]
            let per = &w * (&c_pos - &d_neg_v);
            put_rows(
                g,
                start,
                &per.sum_dim_intlist([-1i64].as_slice(), false, kind),
            );
        }
        start += rows;
    }

    // V is linear in c and d: V = Σ_lk c_lk·∂V/∂c_lk + d_lk·∂V/∂d_lk.
    let value = (pos_coef.to_kind(Kind::Double) * &sum_pos).sum(Kind::Double)
        + (neg_coef.to_kind(Kind::Double) * &sum_neg).sum(Kind::Double);
    let keep = |on: bool, t: Tensor| on.then(|| t.to_kind(kind));
    Parts {
        value: value.to_kind(kind),
        g_logits,
        g_labels,
        g_weights,
        g_biases: keep(want.biases, sum_dz),
        g_pos_coef: keep(want.pos_coef, sum_pos),
        g_neg_coef: keep(want.neg_coef, sum_neg),
    }
}

/// Writes `src` `[R, L]` into rows `start..start + R` of `dst` `[N, L]`.
fn put_rows(dst: &Tensor, start: i64, src: &Tensor) {
    let mut rows = dst.narrow(0, start, src.size()[0]);
    rows.copy_(src);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchor_points_match_the_reference_examples() {
        let (a, d) = anchor_points((0.0, 1.0), 20).unwrap();
        assert_eq!(a.len(), 20);
        approx::assert_relative_eq!(a[0], 1.0 / 21.0, max_relative = 1e-15);
        approx::assert_relative_eq!(a[19], 20.0 / 21.0, max_relative = 1e-15);
        approx::assert_relative_eq!(d, 1.0 / 21.0, max_relative = 1e-15);
        let (a, d) = anchor_points((0.0, 1.0), 3).unwrap();
        for (got, want) in a.iter().zip([0.25, 0.5, 0.75]) {
            approx::assert_relative_eq!(*got, want, max_relative = 1e-15);
        }
        approx::assert_relative_eq!(d, 0.25, max_relative = 1e-15);
        let (a, d) = anchor_points((0.69, 0.71), 1).unwrap();
        approx::assert_relative_eq!(a[0], 0.7, max_relative = 1e-12);
        approx::assert_relative_eq!(d, 0.01, max_relative = 1e-9);
    }

    #[test]
    fn anchor_points_reject_bad_configs() {
        for (range, k) in [
            ((0.0, 1.0), 0),
            ((0.5, 0.5), 3),
            ((0.6, 0.5), 3),
            ((-0.1, 0.5), 3),
            ((0.1, 1.5), 3),
            ((f64::NAN, 0.5), 3),
        ] {
            assert!(
                matches!(anchor_points(range, k), Err(Error::InvalidConfig { .. })),
                "{range:?} {k}"
            );
        }
    }
}
