//! Tabular and 2-D binary classification sets: Caravan (CoIL 2000) and the toy Gaussian
//! mixture of the upstream example.

use std::path::Path;

use rand::RngExt;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tch::{Kind, Tensor};

use super::{TabularSet, TabularSplits, seeded_rng};
use crate::{Error, Result};

/// Fraction of each class of Caravan held out for test by [`caravan`].
pub const CARAVAN_TEST_FRAC: f64 = 0.2;

/// Reads a CSV with a header row: every column but `label_column` is a numeric feature;
/// the label is 1 where the `label_column` cell equals `positive` and 0 where it equals
/// `negative` (after trimming).
///
/// # Shapes
/// `x [N, F]`, `y [N]`, both `Kind::Float`.
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] naming the file for a
/// missing label column, a ragged row, a non-numeric or non-finite feature (with its row and
/// column), a label that is neither `positive` nor `negative` (with its line), or no data
/// row.
pub fn read_labeled_csv(
    path: &Path,
    label_column: &str,
    positive: &str,
    negative: &str,
) -> Result<TabularSet> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let headers = reader
        .headers()
        .map_err(|e| Error::data(path, format!("cannot read the csv header: {e}")))?
        .clone();
    let label_at = headers
        .iter()
        .position(|h| h.trim() == label_column)
        .ok_or_else(|| Error::data(path, format!("no column {label_column:?} in the header")))?;
    let f = headers.len() - 1;
    let mut x: Vec<f32> = Vec::new();
    let mut y: Vec<f32> = Vec::new();
    for (row, record) in reader.records().enumerate() {
        // Line numbers are 1-based and the header is line 1.
        let line = row + 2;
        let record = record.map_err(|e| Error::data(path, format!("line {line}: {e}")))?;
        if record.len() != headers.len() {
            return Err(Error::data(
                path,
                format!(
                    "line {line} has {} fields, the header {}",
                    record.len(),
                    headers.len()
                ),
            ));
        }
        for (col, cell) in record.iter().enumerate() {
            if col == label_at {
                let label = match cell.trim() {
                    v if v == positive => 1.0,
                    v if v == negative => 0.0,
                    v => {
                        return Err(Error::data(
                            path,
                            format!(
                                "line {line}: label {v:?} is neither {positive:?} nor {negative:?}"
                            ),
                        ));
                    }
                };
                y.push(label);
                continue;
            }
            let value: f32 = cell
                .trim()
                .parse()
                .ok()
                .filter(|v: &f32| v.is_finite())
                .ok_or_else(|| {
                    Error::data(
                        path,
                        format!(
                            "line {line}, column {:?}: {cell:?} is not a finite number",
                            &headers[col]
                        ),
                    )
                })?;
            x.push(value);
        }
    }
    if y.is_empty() {
        return Err(Error::data(path, "no data row"));
    }
    let n = y.len() as i64;
    Ok(TabularSet {
        x: Tensor::from_slice(&x).reshape([n, f as i64]),
        y: Tensor::from_slice(&y),
    })
}

/// Row indices of a stratified split (each sorted ascending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    /// Training rows.
    pub train: Vec<i64>,
    /// Validation rows.
    pub val: Vec<i64>,
    /// Test rows.
    pub test: Vec<i64>,
}

/// Splits rows by class: within each class (seeded shuffle), `round(n_c · test_frac)` rows
/// go to test, `round(n_c · val_frac)` to validation and the rest to training.
///
/// # Errors
/// [`Error::InvalidConfig`] unless `0 ≤ val_frac`, `0 ≤ test_frac` and
/// `val_frac + test_frac < 1`.
pub fn stratified_split(
    labels: &[bool],
    seed: u64,
    val_frac: f64,
    test_frac: f64,
) -> Result<SplitIndices> {
    if !(val_frac >= 0.0 && test_frac >= 0.0 && val_frac + test_frac < 1.0) {
        return Err(Error::config(
            "val_frac/test_frac",
            format!("need both >= 0 with a sum below 1, got {val_frac} and {test_frac}"),
        ));
    }
    let mut rng = seeded_rng(seed, 21);
    let mut out = SplitIndices {
        train: Vec::new(),
        val: Vec::new(),
        test: Vec::new(),
    };
    for class in [false, true] {
        let mut rows: Vec<i64> = labels
            .iter()
            .enumerate()
            .filter(|&(_, &l)| l == class)
            .map(|(i, _)| i as i64)
            .collect();
        rows.shuffle(&mut rng);
        let n = rows.len() as f64;
        let n_test = (n * test_frac).round() as usize;
        let n_val = ((n * val_frac).round() as usize).min(rows.len() - n_test);
        out.test.extend_from_slice(&rows[..n_test]);
        out.val.extend_from_slice(&rows[n_test..n_test + n_val]);
        out.train.extend_from_slice(&rows[n_test + n_val..]);
    }
    out.train.sort_unstable();
    out.val.sort_unstable();
    out.test.sort_unstable();
    Ok(out)
}

/// Per-feature standardization fitted on one set (the training set).
///
/// ```text
/// mean_f = (1/N) Σ_i x_if        std_f = sqrt((1/N) Σ_i (x_if - mean_f)²)   (1 if 0)
/// z_if   = (x_if - mean_f) / std_f
/// ```
#[derive(Debug)]
pub struct Standardizer {
    /// Feature means `[F]`.
    pub mean: Tensor,
    /// Feature standard deviations `[F]` (population; constant features get 1).
    pub std: Tensor,
}

impl Standardizer {
    /// Fits the statistics on `x [N, F]` (N ≥ 1).
    pub fn fit(x: &Tensor) -> Standardizer {
        let x64 = x.to_kind(Kind::Double);
        let mean = x64.mean_dim(0, false, Kind::Double);
        let var = (&x64 - &mean).square().mean_dim(0, false, Kind::Double);
        let std = var.sqrt();
        let std = std.where_self(&std.gt(0.0), &Tensor::ones_like(&std));
        Standardizer {
            mean: mean.to_kind(Kind::Float),
            std: std.to_kind(Kind::Float),
        }
    }

    /// Applies the fitted statistics to `x [M, F]`.
    pub fn apply(&self, x: &Tensor) -> Tensor {
        (x - &self.mean) / &self.std
    }
}

/// Caravan (ISLP `Caravan.csv`): 5,822 rows, 85 numeric features, label `Purchase == "Yes"`
/// (348 positives), split by [`stratified_split`] with `test_frac` = [`CARAVAN_TEST_FRAC`],
/// then standardized with the training statistics only.
///
/// # Shapes
/// Each set: `x [N, 85]`, `y [N]`.
///
/// # Errors
/// As [`read_labeled_csv`] and [`stratified_split`]; [`Error::Data`] when the file does not
/// have 85 feature columns.
pub fn caravan(path: &Path, seed: u64, val_frac: f64) -> Result<TabularSplits> {
    caravan_with(path, seed, val_frac, CARAVAN_TEST_FRAC)
}

/// [`caravan`] with an explicit test fraction.
///
/// # Errors
/// As [`caravan`].
pub fn caravan_with(
    path: &Path,
    seed: u64,
    val_frac: f64,
    test_frac: f64,
) -> Result<TabularSplits> {
    let all = read_labeled_csv(path, "Purchase", "Yes", "No")?;
    let f = all.x.size()[1];
    if f != 85 {
        return Err(Error::data(
            path,
            format!("expected 85 feature columns, got {f}"),
        ));
    }
    let labels: Vec<bool> = Vec::<f32>::try_from(&all.y)?
        .into_iter()
        .map(|v| v > 0.5)
        .collect();
    let split = stratified_split(&labels, seed, val_frac, test_frac)?;
    let take = |rows: &[i64]| {
        let index = Tensor::from_slice(rows);
        (all.x.index_select(0, &index), all.y.index_select(0, &index))
    };
    let (train_x, train_y) = take(&split.train);
    let standardizer = Standardizer::fit(&train_x);
    let set = |(x, y): (Tensor, Tensor)| TabularSet {
        x: standardizer.apply(&x),
        y,
    };
    Ok(TabularSplits {
        train: set((train_x, train_y)),
        val: set(take(&split.val)),
        test: set(take(&split.test)),
    })
}

/// The four Gaussian components of the toy set: (centre, σ, count, label).
pub const TOY_COMPONENTS: [([f64; 2], f64, usize, bool); 4] = [
    ([0.0, -0.5], 0.15, 3000, false),
    ([1.0, 1.0], 0.1, 100, false),
    ([0.0, 1.0], 0.15, 500, true),
    ([1.0, -0.5], 0.1, 50, true),
];

/// One standard normal draw (Box-Muller, using one of the two outputs).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    // u1 in (0, 1] so that ln(u1) is finite.
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// The 2-D toy mixture of the upstream `loss_layers_example.py` (reference
/// global-objectives.md §8): a training set and an evaluation set.
///
/// ```text
/// x = centre + σ · N(0, I₂)   per point, σ used as the standard deviation
/// negatives: centre (0, -0.5), σ 0.15, 3000 points;  centre (1, 1), σ 0.1, 100 points
/// positives: centre (0, 1),    σ 0.15,  500 points;  centre (1, -0.5), σ 0.1, 50 points
/// N = 3650, 550 positives (prior 550/3650 ≈ 0.1507)
/// ```
///
/// The points are drawn component by component in the order above, then both sets are
/// reordered by ONE seeded permutation, so `train.y == eval.y`; the two point clouds are
/// independent draws. Gaussians come from Box-Muller on a ChaCha8 stream, so the values
/// differ from upstream's numpy draws (the distribution is the same).
///
/// # Shapes
/// `x [3650, 2]`, `y [3650]`, `Kind::Float`.
///
/// # Examples
/// ```
/// let (train, eval) = seg::data::tabular::toy_gaussians(0);
/// assert_eq!(train.x.size(), vec![3650, 2]);
/// assert!((train.positive_rate() - 550.0 / 3650.0).abs() < 1e-9);
/// assert!(train.y.equal(&eval.y));
/// ```
pub fn toy_gaussians(seed: u64) -> (TabularSet, TabularSet) {
    let n: usize = TOY_COMPONENTS.iter().map(|c| c.2).sum();
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(&mut seeded_rng(seed, 31));
    let labels: Vec<f32> = TOY_COMPONENTS
        .iter()
        .flat_map(|&(_, _, count, label)| std::iter::repeat_n(if label { 1.0 } else { 0.0 }, count))
        .collect();
    let draw = |stream: u64| {
        let mut rng = seeded_rng(seed, stream);
        let mut points: Vec<[f32; 2]> = Vec::with_capacity(n);
        for &(centre, sigma, count, _) in &TOY_COMPONENTS {
            for _ in 0..count {
                let a = centre[0] + sigma * standard_normal(&mut rng);
                let b = centre[1] + sigma * standard_normal(&mut rng);
                points.push([a as f32, b as f32]);
            }
        }
        let x: Vec<f32> = perm.iter().flat_map(|&i| points[i]).collect();
        let y: Vec<f32> = perm.iter().map(|&i| labels[i]).collect();
        TabularSet {
            x: Tensor::from_slice(&x).reshape([n as i64, 2]),
            y: Tensor::from_slice(&y),
        }
    };
    (draw(32), draw(33))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_split_keeps_class_rates() {
        let labels: Vec<bool> = (0..1000).map(|i| i % 10 == 0).collect();
        let s = stratified_split(&labels, 3, 0.1, 0.2).unwrap();
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (700, 100, 200));
        let pos = |rows: &[i64]| rows.iter().filter(|&&r| labels[r as usize]).count();
        assert_eq!((pos(&s.train), pos(&s.val), pos(&s.test)), (70, 10, 20));
        let mut all: Vec<i64> = [s.train, s.val, s.test].concat();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        assert!(stratified_split(&labels, 3, 0.5, 0.5).is_err());
        assert!(stratified_split(&labels, 3, -0.1, 0.2).is_err());
    }

    #[test]
    fn box_muller_moments() {
        let mut rng = seeded_rng(0, 0);
        let v: Vec<f64> = (0..20000).map(|_| standard_normal(&mut rng)).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.03, "var {var}");
    }
}
