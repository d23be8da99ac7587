//! Fashion-MNIST 2×2 mosaic segmentation, built from the official IDX files.
//!
//! Each official split (train: 60,000 images, t10k: 10,000) is filtered to the configured
//! class pool, shuffled with a seeded generator, and cut into groups of 4 consecutive
//! images. A group becomes one 56×56 mosaic:
//!
//! ```text
//! +-------+-------+
//! |  g[0] |  g[1] |      image  = pixel / 255
//! +-------+-------+      mask   = (pixel >= threshold) & (label ∈ P)        (invert = false)
//! |  g[2] |  g[3] |      mask   = 1 - [(pixel >= threshold) & (label ∈ P)]  (invert = true)
//! +-------+-------+      valid  = 1
//! ```
//!
//! Validation mosaics are carved from the train split (never from t10k) and use
//! disjoint images; test mosaics use t10k only, so the official splits never mix.
//! Measured foreground fractions of the [presets](MosaicConfig::preset): `docs/data.md`.

use std::io::Read;
use std::path::{Path, PathBuf};

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use tch::Tensor;

use super::{SegSet, SegSplits, seeded_rng};
use crate::{Error, Result};

/// Class names of Fashion-MNIST, indexed by label id.
pub const CLASS_NAMES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Side of one Fashion-MNIST image.
pub const ITEM_SIDE: usize = 28;
/// Side of one mosaic (2 × [`ITEM_SIDE`]).
pub const MOSAIC_SIDE: usize = 2 * ITEM_SIDE;

/// Names of the presets accepted by [`MosaicConfig::preset`].
pub const PRESETS: [&str; 7] = [
    "bag",
    "sneaker",
    "footwear",
    "shirt-confusable",
    "bag-few",
    "bag-inverted",
    "shirt-inverted",
];

/// Configuration of the mosaic data set.
///
/// Classes are given by name (case-insensitive; spaces, `-`, `_` and `/` ignored, and the
/// short forms `tshirt`, `top`, `boot` accepted) or by id `"0"`–`"9"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MosaicConfig {
    /// The positive class set P. Defaults to `["Bag"]`.
    pub positive: Vec<String>,
    /// Classes allowed into the mosaics (P is always added). Empty = all ten classes.
    /// Defaults to empty.
    pub pool: Vec<String>,
    /// Fraction in `(0, 1]` of the positive-class images kept (seeded subsample), to make
    /// positives rarer. Defaults to `1.0`.
    pub positive_keep: f64,
    /// Swap the roles: the positive pixels become every pixel NOT on an item of P.
    /// Defaults to `false`.
    pub invert: bool,
    /// Training mosaics wanted (capped at what the train split holds after validation).
    /// Defaults to `12000`.
    pub n_train: usize,
    /// Validation mosaics wanted, carved from the train split first. Defaults to `3000`.
    pub n_val: usize,
    /// Test mosaics wanted, from t10k (capped at what exists). Defaults to `2500`.
    pub n_test: usize,
    /// Seed of the shuffles. Defaults to `0`.
    pub seed: u64,
    /// Pixel value (0–255) from which a pixel is "on the item". Defaults to `32`.
    pub threshold: u8,
}

impl Default for MosaicConfig {
    fn default() -> Self {
        MosaicConfig {
            positive: vec!["Bag".into()],
            pool: Vec::new(),
            positive_keep: 1.0,
            invert: false,
            n_train: 12_000,
            n_val: 3_000,
            n_test: 2_500,
            seed: 0,
            threshold: 32,
        }
    }
}

impl MosaicConfig {
    /// A named preset (sizes and seed at their defaults). See [`PRESETS`]:
    ///
    /// ```text
    /// bag               P = {Bag}                                 the easy reference setting
    /// sneaker           P = {Sneaker}                             small, rare objects
    /// footwear          P = {Sandal, Sneaker, Ankle boot}
    /// shirt-confusable  P = {Shirt}, pool {T-shirt, Pullover, Coat, Shirt}
    /// bag-few           P = {Bag}, positive_keep = 0.25           fewer positives
    /// bag-inverted      P = {Bag}, invert = true                  positives are the majority
    /// shirt-inverted    shirt-confusable with invert = true
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unknown name.
    ///
    /// # Examples
    /// ```
    /// use seg::data::fashion::MosaicConfig;
    /// let cfg = MosaicConfig::preset("shirt-confusable")?;
    /// let rule = cfg.validate()?;
    /// assert!(rule.positive[6] && !rule.positive[0]); // Shirt in P, T-shirt/top not
    /// assert!(rule.pixel(200, 6) && !rule.pixel(31, 6) && !rule.pixel(200, 0));
    /// # Ok::<(), seg::Error>(())
    /// ```
    pub fn preset(name: &str) -> Result<MosaicConfig> {
        let base = MosaicConfig::default();
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Ok(match name {
            "bag" => base,
            "sneaker" => MosaicConfig {
                positive: strings(&["Sneaker"]),
                ..base
            },
            "footwear" => MosaicConfig {
                positive: strings(&["Sandal", "Sneaker", "Ankle boot"]),
                ..base
            },
            "shirt-confusable" => MosaicConfig {
                positive: strings(&["Shirt"]),
                pool: strings(&["T-shirt/top", "Pullover", "Coat", "Shirt"]),
                // The pool holds 24,000 train images = 6,000 mosaics.
                n_train: 5_000,
                n_val: 1_000,
                n_test: 1_000,
                ..base
            },
            "bag-few" => MosaicConfig {
                positive_keep: 0.25,
                ..base
            },
            "bag-inverted" => MosaicConfig {
                invert: true,
                ..base
            },
            "shirt-inverted" => MosaicConfig {
                invert: true,
                ..MosaicConfig::preset("shirt-confusable")?
            },
            other => {
                return Err(Error::config(
                    "preset",
                    format!("unknown preset {other:?}, expected one of {PRESETS:?}"),
                ));
            }
        })
    }

    /// Checks the fields and resolves the class names.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] for an unknown class, an empty positive set, or
    /// `positive_keep` outside `(0, 1]`.
    pub fn validate(&self) -> Result<MaskRule> {
        if self.positive.is_empty() {
            return Err(Error::config("positive", "the positive class set is empty"));
        }
        if !(self.positive_keep > 0.0 && self.positive_keep <= 1.0) {
            return Err(Error::config(
                "positive_keep",
                format!("must lie in (0, 1], got {}", self.positive_keep),
            ));
        }
        let mut positive = [false; 10];
        for name in &self.positive {
            positive[class_id(name)? as usize] = true;
        }
        Ok(MaskRule {
            positive,
            threshold: self.threshold,
            invert: self.invert,
        })
    }

    fn pool_set(&self, rule: &MaskRule) -> Result<[bool; 10]> {
        let mut pool = [self.pool.is_empty(); 10];
        for name in &self.pool {
            let id = class_id(name).map_err(|e| match e {
                Error::InvalidConfig { reason, .. } => Error::InvalidConfig {
                    field: "pool",
                    reason,
                },
                other => other,
            })?;
            pool[id as usize] = true;
        }
        for (p, &pos) in pool.iter_mut().zip(&rule.positive) {
            *p |= pos;
        }
        Ok(pool)
    }
}

/// Resolves a class name or id string to its label id.
///
/// # Errors
/// [`Error::InvalidConfig`] naming the unknown class.
pub fn class_id(name: &str) -> Result<u8> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let key = norm(name);
    if let Ok(id) = key.parse::<u8>() {
        if id < 10 {
            return Ok(id);
        }
    }
    let alias = match key.as_str() {
        "tshirt" | "top" => Some(0),
        "boot" => Some(9),
        _ => None,
    };
    alias
        .or_else(|| CLASS_NAMES.iter().position(|c| norm(c) == key).map(|i| i as u8))
        .ok_or_else(|| {
            Error::config(
                "positive",
                format!("unknown Fashion-MNIST class {name:?}, expected an id 0-9 or one of {CLASS_NAMES:?}"),
            )
        })
}

/// The resolved per-pixel mask rule of a [`MosaicConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskRule {
    /// `positive[k]` is true when class `k` is in P.
    pub positive: [bool; 10],
    /// Pixel value from which a pixel is on the item.
    pub threshold: u8,
    /// Complement the mask.
    pub invert: bool,
}

impl MaskRule {
    /// The mask value (0 or 1) of one pixel of an item of class `label`.
    pub fn pixel(&self, value: u8, label: u8) -> bool {
        let on_positive_item =
            value >= self.threshold && self.positive.get(label as usize).copied().unwrap_or(false);
        on_positive_item != self.invert
    }
}

/// An IDX array of unsigned bytes (the only element type Fashion-MNIST uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// Row-major data; `data.len()` equals the product of `dims`.
    pub data: Vec<u8>,
}

/// Reads a gzip-compressed IDX file of `u8` elements.
///
/// ```text
/// bytes 0-1: 0x00 0x00   byte 2: type (0x08 = u8)   byte 3: rank r (1..=4)
/// then r big-endian u32 sizes, then prod(sizes) bytes of data (nothing after)
/// ```
///
/// # Errors
/// [`Error::Io`] when the file cannot be opened; [`Error::Data`] (naming the file) for a
/// broken gzip stream, a wrong magic, element type or rank, or a data length that does not
/// match the header (truncated or trailing bytes).
pub fn read_idx_gz(path: &Path) -> Result<IdxArray> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::io::BufReader::new(file))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::data(path, format!("cannot decompress gzip: {e}")))?;
    parse_idx(path, &bytes)
}

fn parse_idx(path: &Path, bytes: &[u8]) -> Result<IdxArray> {
    let bad = |reason: String| Err(Error::data(path, reason));
    if bytes.len() < 4 {
        return bad(format!("idx header truncated: {} bytes", bytes.len()));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return bad(format!(
            "bad idx magic {:02x}{:02x}, expected 0000",
            bytes[0], bytes[1]
        ));
    }
    if bytes[2] != 0x08 {
        return bad(format!(
            "idx element type 0x{:02x} unsupported, expected 0x08 (u8)",
            bytes[2]
        ));
    }
    let rank = bytes[3] as usize;
    if !(1..=4).contains(&rank) {
        return bad(format!("idx rank {rank} unsupported, expected 1 to 4"));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return bad(format!(
            "idx header truncated: {} bytes, need {header}",
            bytes.len()
        ));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let got = bytes.len() - header;
    match expected {
        Some(n) if n == got => {}
        Some(n) => {
            return bad(format!(
                "idx data has {got} bytes, header {dims:?} needs {n}"
            ));
        }
        None => return bad(format!("idx dims {dims:?} overflow")),
    }
    Ok(IdxArray {
        dims,
        data: bytes[header..].to_vec(),
    })
}

/// One official split: images `[n, 28, 28]` and labels `[n]`, checked to agree.
#[derive(Debug, Clone)]
pub struct FashionSplit {
    /// Pixels, `n · 28 · 28` bytes, row-major.
    pub images: Vec<u8>,
    /// Labels in `0..10`.
    pub labels: Vec<u8>,
}

impl FashionSplit {
    /// Number of items.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the split holds no item.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of item `i` (`28 · 28` bytes).
    pub fn item(&self, i: usize) -> &[u8] {
        &self.images[i * ITEM_SIDE * ITEM_SIDE..(i + 1) * ITEM_SIDE * ITEM_SIDE]
    }
}

/// Reads `{prefix}-images-idx3-ubyte.gz` and `{prefix}-labels-idx1-ubyte.gz` from `dir`
/// (`prefix` is `train` or `t10k`).
///
/// # Errors
/// As [`read_idx_gz`], plus [`Error::Data`] when the images are not `[n, 28, 28]`, the
/// labels not `[n]` with the same `n`, or a label is ≥ 10.
pub fn read_split(dir: &Path, prefix: &str) -> Result<FashionSplit> {
    let image_path = dir.join(format!("{prefix}-images-idx3-ubyte.gz"));
    let label_path = dir.join(format!("{prefix}-labels-idx1-ubyte.gz"));
    let images = read_idx_gz(&image_path)?;
    let labels = read_idx_gz(&label_path)?;
    if images.dims.len() != 3 || images.dims[1] != ITEM_SIDE || images.dims[2] != ITEM_SIDE {
        return Err(Error::data(
            &image_path,
            format!("images must be [n, 28, 28], got {:?}", images.dims),
        ));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(Error::data(
            &label_path,
            format!("labels must be [{}], got {:?}", images.dims[0], labels.dims),
        ));
    }
    if let Some(&bad) = labels.data.iter().find(|&&l| l >= 10) {
        return Err(Error::data(
            &label_path,
            format!("label {bad} out of range 0..10"),
        ));
    }
    Ok(FashionSplit {
        images: images.data,
        labels: labels.data,
    })
}

/// Which source items make each mosaic (indices into the official split).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MosaicPlan {
    /// Training mosaics; indices into the official train split.
    pub train: Vec<[usize; 4]>,
    /// Validation mosaics; indices into the official train split, disjoint from `train`.
    pub val: Vec<[usize; 4]>,
    /// Test mosaics; indices into the official t10k split.
    pub test: Vec<[usize; 4]>,
}

/// Plans the mosaics from the labels of both splits.
///
/// For each split: keep the items whose class is in the pool (positive-class items further
/// subsampled to `positive_keep`), shuffle with the seed, cut into groups of 4 (a last
/// incomplete group is dropped). Train groups: the first `n_val` go to validation, the next
/// `n_train` to training. Test groups: the first `n_test`.
///
/// # Errors
/// As [`MosaicConfig::validate`].
pub fn plan(train_labels: &[u8], test_labels: &[u8], cfg: &MosaicConfig) -> Result<MosaicPlan> {
    let rule = cfg.validate()?;
    let pool = cfg.pool_set(&rule)?;
    let groups = |labels: &[u8], stream: u64| {
        let mut rng = seeded_rng(cfg.seed, stream);
        let mut keep: Vec<usize> = Vec::with_capacity(labels.len());
        let mut positives: Vec<usize> = Vec::new();
        for (i, &l) in labels.iter().enumerate() {
            if rule.positive[l as usize] {
                positives.push(i);
            } else if pool[l as usize] {
                keep.push(i);
            }
        }
        if cfg.positive_keep < 1.0 {
            positives.shuffle(&mut rng);
            let n = (positives.len() as f64 * cfg.positive_keep).round() as usize;
            positives.truncate(n);
        }
        keep.extend(positives);
        keep.sort_unstable();
        keep.shuffle(&mut rng);
        keep.chunks_exact(4)
            .map(|c| [c[0], c[1], c[2], c[3]])
            .collect::<Vec<_>>()
    };
    let mut train = groups(train_labels, 1);
    let val: Vec<_> = train.drain(..cfg.n_val.min(train.len())).collect();
    train.truncate(cfg.n_train);
    let mut test = groups(test_labels, 2);
    test.truncate(cfg.n_test);
    Ok(MosaicPlan { train, val, test })
}

/// Builds mosaics from explicit groups of items.
///
/// # Shapes
/// Returns a [`SegSet`] of `N = groups.len()` mosaics `[N, 1, 56, 56]`.
///
/// # Errors
/// [`Error::Data`] (path = `name`) when an index is out of range of `split`.
pub fn build_mosaics(
    split: &FashionSplit,
    groups: &[[usize; 4]],
    rule: &MaskRule,
    name: &str,
) -> Result<SegSet> {
    let n = groups.len();
    let plane = MOSAIC_SIDE * MOSAIC_SIDE;
    let mut images = vec![0f32; n * plane];
    let mut masks = vec![0f32; n * plane];
    for (m, group) in groups.iter().enumerate() {
        for (q, &item) in group.iter().enumerate() {
            if item >= split.len() {
                return Err(Error::data(
                    name,
                    format!("item index {item} out of range for {} items", split.len()),
                ));
            }
            let label = split.labels[item];
            let pixels = split.item(item);
            let (r0, c0) = ((q / 2) * ITEM_SIDE, (q % 2) * ITEM_SIDE);
            for r in 0..ITEM_SIDE {
                for c in 0..ITEM_SIDE {
                    let v = pixels[r * ITEM_SIDE + c];
                    let at = m * plane + (r0 + r) * MOSAIC_SIDE + c0 + c;
                    images[at] = f32::from(v) / 255.0;
                    masks[at] = if rule.pixel(v, label) { 1.0 } else { 0.0 };
                }
            }
        }
    }
    let shape = [n as i64, 1, MOSAIC_SIDE as i64, MOSAIC_SIDE as i64];
    Ok(SegSet {
        images: Tensor::from_slice(&images).reshape(shape),
        masks: Tensor::from_slice(&masks).reshape(shape),
        valid: Tensor::ones(shape, (tch::Kind::Float, tch::Device::Cpu)),
        name: name.to_string(),
    })
}

/// Loads both official splits from `dir` and builds train / validation / test mosaics.
///
/// `dir` holds `{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz` (the project keeps them in
/// `.data/fashion-mnist`). Rules: module docs and [`plan`].
///
/// # Shapes
/// Each set: images, masks, valid `[N, 1, 56, 56]`.
///
/// # Errors
/// As [`read_split`] and [`MosaicConfig::validate`].
///
/// # Examples
/// ```no_run
/// use seg::data::fashion::{MosaicConfig, load_mosaics};
/// let cfg = MosaicConfig { n_train: 2000, ..MosaicConfig::preset("bag-few")? };
/// let splits = load_mosaics(std::path::Path::new(".data/fashion-mnist"), &cfg)?;
/// assert_eq!(splits.train.images.size(), vec![2000, 1, 56, 56]);
/// # Ok::<(), seg::Error>(())
/// ```
pub fn load_mosaics(dir: &Path, cfg: &MosaicConfig) -> Result<SegSplits> {
    let rule = cfg.validate()?;
    let train_split = read_split(dir, "train")?;
    let test_split = read_split(dir, "t10k")?;
    let plan = plan(&train_split.labels, &test_split.labels, cfg)?;
    let tag = describe(cfg);
    Ok(SegSplits {
        train: build_mosaics(&train_split, &plan.train, &rule, &format!("{tag}/train"))?,
        val: build_mosaics(&train_split, &plan.val, &rule, &format!("{tag}/val"))?,
        test: build_mosaics(&test_split, &plan.test, &rule, &format!("{tag}/test"))?,
    })
}

/// The default directory of the Fashion-MNIST files under a repository root.
pub fn default_dir(repo_root: &Path) -> PathBuf {
    repo_root.join(".data").join("fashion-mnist")
}

fn describe(cfg: &MosaicConfig) -> String {
    let mut s = format!("fashion-mosaic[{}]", cfg.positive.join("+"));
    if cfg.invert {
        s.push_str("-inverted");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_and_ids_resolve() {
        assert_eq!(class_id("Shirt").unwrap(), 6);
        assert_eq!(class_id("t-shirt/top").unwrap(), 0);
        assert_eq!(class_id("TSHIRT").unwrap(), 0);
        assert_eq!(class_id("ankle_boot").unwrap(), 9);
        assert_eq!(class_id("8").unwrap(), 8);
        assert!(matches!(class_id("10"), Err(Error::InvalidConfig { .. })));
        assert!(matches!(class_id("hat"), Err(Error::InvalidConfig { .. })));
    }

    #[test]
    fn idx_header_errors_name_the_problem() {
        let p = Path::new("x.gz");
        let good = [0u8, 0, 8, 1, 0, 0, 0, 2, 7, 9];
        assert_eq!(parse_idx(p, &good).unwrap().data, vec![7, 9]);
        let err = |b: &[u8]| parse_idx(p, b).unwrap_err().to_string();
        assert!(err(&[1, 0, 8, 1, 0, 0, 0, 0]).contains("magic"));
        assert!(err(&[0, 0, 9, 1, 0, 0, 0, 0]).contains("element type"));
        assert!(err(&[0, 0, 8, 0]).contains("rank 0"));
        assert!(err(&[0, 0, 8, 1, 0, 0]).contains("truncated"));
        assert!(err(&good[..9]).contains("has 1 bytes"));
    }

    #[test]
    fn presets_validate() {
        for name in PRESETS {
            MosaicConfig::preset(name).unwrap().validate().unwrap();
        }
        assert!(MosaicConfig::preset("nope").is_err());
    }
}
