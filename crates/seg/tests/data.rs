//! Data readers, split rules and the loader, on tiny fixtures written into temp dirs, plus
//! checks on the real files in `.data/` (skipped with a message when absent, enforced when
//! the `CI` environment variable is set).

use std::io::Write;
use std::path::{Path, PathBuf};

use seg::Error;
use seg::data::fashion::{self, FashionSplit, MaskRule, MosaicConfig};
use seg::data::folder::{self, Channels, FolderConfig, SizePolicy};
use seg::data::loader::{BatchConfig, Batches};
use seg::data::stardist::{self, StardistConfig};
use seg::data::synthetic::{self, SyntheticConfig};
use seg::data::{SegSet, tabular};
use tch::{Kind, Tensor};

// ---------------------------------------------------------------------------------------
// helpers

fn repo_data(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../.data")
        .join(sub);
    if dir.exists() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI is set but {} is missing",
        dir.display()
    );
    eprintln!("skipping: {} not found (run ./x setup)", dir.display());
    None
}

fn write_gz(path: &Path, bytes: &[u8]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap();
}

fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Writes `{prefix}-{images,labels}` IDX files for items whose every pixel is `fill[i]`
/// except the first row (0), so each item has known content.
fn write_split(dir: &Path, prefix: &str, labels: &[u8], fill: &[u8]) {
    let mut pixels = Vec::new();
    for &v in fill {
        let mut item = vec![v; 28 * 28];
        item[..28].fill(0);
        pixels.extend(item);
    }
    let n = labels.len() as u32;
    write_gz(
        &dir.join(format!("{prefix}-images-idx3-ubyte.gz")),
        &idx_bytes(&[n, 28, 28], &pixels),
    );
    write_gz(
        &dir.join(format!("{prefix}-labels-idx1-ubyte.gz")),
        &idx_bytes(&[n], labels),
    );
}

fn values(t: &Tensor) -> Vec<f32> {
    Vec::<f32>::try_from(t.flatten(0, -1)).unwrap()
}

fn rule(positive: &[u8], invert: bool) -> MaskRule {
    let mut p = [false; 10];
    for &k in positive {
        p[k as usize] = true;
    }
    MaskRule {
        positive: p,
        threshold: 32,
        invert,
    }
}

// ---------------------------------------------------------------------------------------
// Fashion-MNIST IDX and mosaics

#[test]
fn idx_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let pixels: Vec<u8> = (0..3 * 28 * 28).map(|i| (i % 251) as u8).collect();
    write_gz(
        &dir.path().join("train-images-idx3-ubyte.gz"),
        &idx_bytes(&[3, 28, 28], &pixels),
    );
    write_gz(
        &dir.path().join("train-labels-idx1-ubyte.gz"),
        &idx_bytes(&[3], &[9, 0, 4]),
    );
    let arr = fashion::read_idx_gz(&dir.path().join("train-images-idx3-ubyte.gz")).unwrap();
    assert_eq!(arr.dims, vec![3, 28, 28]);
    assert_eq!(arr.data, pixels);
    let split = fashion::read_split(dir.path(), "train").unwrap();
    assert_eq!(split.labels, vec![9, 0, 4]);
    assert_eq!(split.item(2), &pixels[2 * 784..3 * 784]);
}

#[test]
fn idx_corrupt_files_are_typed_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name);
    let expect_data = |path: &Path, needle: &str| match fashion::read_idx_gz(path) {
        Err(Error::Data { path: got, reason }) => {
            assert_eq!(got, path);
            assert!(reason.contains(needle), "{reason}");
        }
        other => panic!(
            "expected a data error for {}, got {other:?}",
            path.display()
        ),
    };
    // Truncated data: header says 2 items of 28x28, one item present.
    write_gz(&p("short.gz"), &idx_bytes(&[2, 28, 28], &[1; 784]));
    expect_data(&p("short.gz"), "needs 1568");
    // Trailing bytes.
    write_gz(&p("long.gz"), &idx_bytes(&[1], &[1, 2]));
    expect_data(&p("long.gz"), "has 2 bytes");
    // Wrong magic and element type.
    write_gz(&p("magic.gz"), &[0, 1, 8, 1, 0, 0, 0, 0]);
    expect_data(&p("magic.gz"), "magic");
    write_gz(&p("float.gz"), &[0, 0, 0x0d, 1, 0, 0, 0, 0]);
    expect_data(&p("float.gz"), "element type");
    // Broken gzip stream: a valid file cut in half.
    write_gz(&p("ok.gz"), &idx_bytes(&[4000], &vec![7; 4000]));
    let bytes = std::fs::read(p("ok.gz")).unwrap();
    std::fs::write(p("cut.gz"), &bytes[..bytes.len() / 2]).unwrap();
    expect_data(&p("cut.gz"), "gzip");
    std::fs::write(p("plain.gz"), b"not gzip at all").unwrap();
    expect_data(&p("plain.gz"), "gzip");
    // Missing file.
    assert!(matches!(
        fashion::read_idx_gz(&p("absent.gz")),
        Err(Error::Io { .. })
    ));
    // Labels that disagree with the images, and out-of-range labels.
    write_split(dir.path(), "train", &[1, 2], &[50, 60]);
    write_gz(
        &p("train-labels-idx1-ubyte.gz"),
        &idx_bytes(&[3], &[1, 2, 3]),
    );
    let err = fashion::read_split(dir.path(), "train").unwrap_err();
    assert!(
        err.to_string().contains("train-labels-idx1-ubyte.gz"),
        "{err}"
    );
    write_gz(&p("train-labels-idx1-ubyte.gz"), &idx_bytes(&[2], &[1, 10]));
    let err = fashion::read_split(dir.path(), "train").unwrap_err();
    assert!(err.to_string().contains("label 10"), "{err}");
    // Images that are not 28x28.
    write_gz(
        &p("train-images-idx3-ubyte.gz"),
        &idx_bytes(&[2, 4], &[0; 8]),
    );
    let err = fashion::read_split(dir.path(), "train").unwrap_err();
    assert!(err.to_string().contains("[n, 28, 28]"), "{err}");
}

/// Four hand-made items: the quadrant layout and the mask rule, pixel by pixel.
#[test]
fn mosaic_mask_rule_on_a_hand_made_example() {
    // Item k has value v_k at pixel (r, c) = (k, k), 31 at (10, 10), 32 at (20, 20), 0 else.
    let labels = [8u8, 6, 8, 0]; // Bag, Shirt, Bag, T-shirt
    let vals = [200u8, 255, 40, 90];
    let mut images = vec![0u8; 4 * 784];
    for k in 0..4 {
        let it = &mut images[k * 784..(k + 1) * 784];
        it[k * 28 + k] = vals[k];
        it[10 * 28 + 10] = 31;
        it[20 * 28 + 20] = 32;
    }
    let split = FashionSplit {
        images,
        labels: labels.to_vec(),
    };
    let set = fashion::build_mosaics(&split, &[[0, 1, 2, 3]], &rule(&[8], false), "hand").unwrap();
    assert_eq!(set.images.size(), vec![1, 1, 56, 56]);
    let img = values(&set.images);
    let msk = values(&set.masks);
    let at = |q: usize, r: usize, c: usize| (q / 2) * 28 * 56 + r * 56 + (q % 2) * 28 + c;
    let mut expected = vec![0f32; 56 * 56];
    for q in 0..4 {
        let is_bag = labels[q] == 8;
        assert!((img[at(q, q, q)] - vals[q] as f32 / 255.0).abs() < 1e-7);
        assert!((img[at(q, 20, 20)] - 32.0 / 255.0).abs() < 1e-7);
        if is_bag {
            // Every value here is ≥ 32 except the 31 at (10, 10).
            expected[at(q, q, q)] = 1.0;
            expected[at(q, 20, 20)] = 1.0;
        }
    }
    assert_eq!(msk, expected, "mask = (pixel >= 32) & (label in {{Bag}})");
    assert_eq!(msk.iter().filter(|&&m| m == 1.0).count(), 4);
    assert_eq!(values(&set.valid), vec![1f32; 56 * 56]);

    // Inverted: exactly the complement.
    let inv = fashion::build_mosaics(&split, &[[0, 1, 2, 3]], &rule(&[8], true), "hand").unwrap();
    let inv_msk = values(&inv.masks);
    assert!(inv_msk.iter().zip(&expected).all(|(a, b)| a + b == 1.0));
    assert!(inv.images.equal(&set.images));
    // Two positive classes, {Shirt, T-shirt}: the 31s stay negative.
    let two =
        fashion::build_mosaics(&split, &[[0, 1, 2, 3]], &rule(&[6, 0], false), "hand").unwrap();
    let two_msk = values(&two.masks);
    assert_eq!(two_msk[at(1, 1, 1)], 1.0);
    assert_eq!(two_msk[at(3, 3, 3)], 1.0);
    assert_eq!(two_msk[at(3, 10, 10)], 0.0);
    assert_eq!(two_msk[at(0, 0, 0)], 0.0);
    assert_eq!(two_msk.iter().filter(|&&m| m == 1.0).count(), 4);
    // Out-of-range index: typed error.
    assert!(matches!(
        fashion::build_mosaics(&split, &[[0, 1, 2, 4]], &rule(&[8], false), "hand"),
        Err(Error::Data { .. })
    ));
}

/// Train values lie in 100..=139 and test values in 200..=219: no test mosaic may show a
/// train value, and the plan's validation and training items are disjoint.
#[test]
fn mosaics_never_mix_official_splits() {
    let dir = tempfile::tempdir().unwrap();
    let train_labels: Vec<u8> = (0..40).map(|i| (i % 10) as u8).collect();
    let train_fill: Vec<u8> = (100..140).collect();
    let test_labels: Vec<u8> = (0..20).map(|i| (i % 10) as u8).collect();
    let test_fill: Vec<u8> = (200..220).collect();
    write_split(dir.path(), "train", &train_labels, &train_fill);
    write_split(dir.path(), "t10k", &test_labels, &test_fill);
    let cfg = MosaicConfig {
        n_train: 100,
        n_val: 3,
        n_test: 100,
        seed: 5,
        ..Default::default()
    };
    let splits = fashion::load_mosaics(dir.path(), &cfg).unwrap();
    // Capped: 10 train groups, 3 to validation; 5 test groups.
    assert_eq!(
        (splits.train.len(), splits.val.len(), splits.test.len()),
        (7, 3, 5)
    );
    let in_range = |set: &SegSet, lo: u8, hi: u8| {
        values(&set.images).iter().all(|&v| {
            let b = (v * 255.0).round() as u8;
            b == 0 || (lo..=hi).contains(&b)
        })
    };
    assert!(in_range(&splits.train, 100, 139));
    assert!(in_range(&splits.val, 100, 139));
    assert!(in_range(&splits.test, 200, 219));
    for set in [&splits.train, &splits.val, &splits.test] {
        set.validate().unwrap();
    }
    let plan = fashion::plan(&train_labels, &test_labels, &cfg).unwrap();
    let mut seen: Vec<usize> = plan
        .train
        .iter()
        .chain(&plan.val)
        .flatten()
        .copied()
        .collect();
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 40, "every train item used once");
    // Deterministic in the seed, different across seeds.
    assert_eq!(
        plan,
        fashion::plan(&train_labels, &test_labels, &cfg).unwrap()
    );
    let other = MosaicConfig {
        seed: 6,
        ..cfg.clone()
    };
    assert_ne!(
        plan,
        fashion::plan(&train_labels, &test_labels, &other).unwrap()
    );
    // Pool and positive_keep: only pool classes appear, positives thinned.
    let pooled = MosaicConfig {
        positive: vec!["Shirt".into()],
        pool: vec!["T-shirt".into(), "Pullover".into(), "Coat".into()],
        ..cfg.clone()
    };
    let p = fashion::plan(&train_labels, &test_labels, &pooled).unwrap();
    let used: Vec<u8> = p
        .train
        .iter()
        .chain(&p.val)
        .flatten()
        .map(|&i| train_labels[i])
        .collect();
    assert_eq!(used.len(), 16);
    assert!(used.iter().all(|l| [0, 2, 4, 6].contains(l)));
    let thinned = MosaicConfig {
        positive_keep: 0.5,
        ..pooled.clone()
    };
    let p = fashion::plan(&train_labels, &test_labels, &thinned).unwrap();
    // 12 pool items + round(4 · 0.5) = 2 shirts = 14 items -> 3 groups.
    assert_eq!(p.train.len() + p.val.len(), 3);
    let shirts = p
        .train
        .iter()
        .chain(&p.val)
        .flatten()
        .filter(|&&i| train_labels[i] == 6);
    assert!(shirts.count() <= 2);
    let bad_pool = MosaicConfig {
        pool: vec!["Hat".into()],
        ..cfg.clone()
    };
    assert!(matches!(
        fashion::plan(&train_labels, &test_labels, &bad_pool),
        Err(Error::InvalidConfig { field: "pool", .. })
    ));
    let bad = MosaicConfig {
        positive: vec!["Hat".into()],
        ..cfg
    };
    assert!(matches!(
        fashion::load_mosaics(dir.path(), &bad),
        Err(Error::InvalidConfig { .. })
    ));
}

/// Foreground fractions of every preset on the real files (figures in docs/data.md).
#[test]
fn fashion_presets_real_fractions() {
    let Some(dir) = repo_data("fashion-mnist") else {
        return;
    };
    let train = fashion::read_split(&dir, "train").unwrap();
    let test = fashion::read_split(&dir, "t10k").unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    // (preset, expected train fg range)
    let expect = [
        ("bag", 0.050, 0.056),
        ("sneaker", 0.026, 0.030),
        ("footwear", 0.093, 0.098),
        ("shirt-confusable", 0.13, 0.155),
        ("bag-few", 0.012, 0.017),
        ("bag-inverted", 0.944, 0.95),
        ("shirt-inverted", 0.845, 0.87),
    ];
    for (name, lo, hi) in expect {
        let cfg = MosaicConfig {
            n_train: 100_000,
            n_val: 0,
            n_test: 100_000,
            ..MosaicConfig::preset(name).unwrap()
        };
        let rule = cfg.validate().unwrap();
        let plan = fashion::plan(&train.labels, &test.labels, &cfg).unwrap();
        let tr = fashion::build_mosaics(&train, &plan.train, &rule, "train").unwrap();
        let te = fashion::build_mosaics(&test, &plan.test, &rule, "test").unwrap();
        let (f_tr, f_te) = (tr.foreground_fraction(), te.foreground_fraction());
        println!(
            "preset {name:17} train {:5} mosaics fg {:.4} | test {:4} mosaics fg {:.4}",
            tr.len(),
            f_tr,
            te.len(),
            f_te
        );
        assert!((lo..hi).contains(&f_tr), "{name}: train fg {f_tr}");
        assert!(
            (f_tr - f_te).abs() < 0.01,
            "{name}: train {f_tr} vs test {f_te}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// StarDist

fn write_tiff_u16(path: &Path, w: u32, h: u32, data: &[u16]) {
    let file = std::fs::File::create(path).unwrap();
    let mut enc = tiff::encoder::TiffEncoder::new(std::io::BufWriter::new(file)).unwrap();
    enc.write_image::<tiff::encoder::colortype::Gray16>(w, h, data)
        .unwrap();
}

#[test]
fn stardist_quadrants_on_a_fixture() {
    let dir = tempfile::tempdir().unwrap();
    // 8x8 image: value = 100 * quadrant + row-in-quadrant; mask positive in quadrant 1 only.
    let (h, w) = (8usize, 8usize);
    let mut img = vec![0u16; h * w];
    let mut mask = vec![0u16; h * w];
    for r in 0..h {
        for c in 0..w {
            let q = (r / 4) * 2 + c / 4;
            img[r * w + c] = (100 * q + r % 4) as u16;
            mask[r * w + c] = if q == 1 { 7 } else { 0 };
        }
    }
    write_tiff_u16(&dir.path().join("img2d.tif"), w as u32, h as u32, &img);
    write_tiff_u16(&dir.path().join("mask2d.tif"), w as u32, h as u32, &mask);
    let cfg = StardistConfig {
        test_quadrant: 2,
        val_rows: 1,
        low_percentile: 0.0,
        high_percentile: 100.0,
    };
    let s = stardist::load(dir.path(), &cfg).unwrap();
    assert_eq!(s.train.images.size(), vec![3, 1, 3, 4]);
    assert_eq!(s.val.images.size(), vec![3, 1, 1, 4]);
    assert_eq!(s.test.images.size(), vec![1, 1, 4, 4]);
    // Train pixels span 0..=302 (quadrants 0, 1, 3, rows 0..3): lo = 0, hi = 302.
    let norm = |v: f32| (v / 302.0).clamp(0.0, 1.0);
    let train = values(&s.train.images);
    assert!((train[0] - norm(0.0)).abs() < 1e-6);
    assert!((train[12 + 4 * 2] - norm(102.0)).abs() < 1e-6); // quadrant 1, row 2
    assert!((train[24] - norm(300.0)).abs() < 1e-6); // quadrant 3, row 0
    let val = values(&s.val.images);
    assert!((val[4] - norm(103.0)).abs() < 1e-6); // quadrant 1, row 3
    assert!((val[8] - 1.0).abs() < 1e-6); // 303 > hi: clamped
    // Test = quadrant 2: value 200 + row, normalized with the training range.
    let test = values(&s.test.images);
    for r in 0..4 {
        assert!((test[r * 4 + 1] - norm(200.0 + r as f32)).abs() < 1e-6);
    }
    assert_eq!(values(&s.train.masks).iter().sum::<f32>(), 12.0);
    assert_eq!(values(&s.val.masks).iter().sum::<f32>(), 4.0);
    assert_eq!(values(&s.test.masks).iter().sum::<f32>(), 0.0);
    // Size mismatch between image and mask; val_rows too large; unreadable file.
    write_tiff_u16(&dir.path().join("mask2d.tif"), 4, 4, &[0; 16]);
    let err = stardist::load(dir.path(), &cfg).unwrap_err();
    assert!(
        matches!(err, Error::Data { ref path, .. } if path.ends_with("mask2d.tif")),
        "{err}"
    );
    write_tiff_u16(&dir.path().join("mask2d.tif"), w as u32, h as u32, &mask);
    let too_many = StardistConfig {
        val_rows: 4,
        ..cfg.clone()
    };
    assert!(matches!(
        stardist::load(dir.path(), &too_many),
        Err(Error::InvalidConfig { .. })
    ));
    std::fs::write(dir.path().join("img2d.tif"), b"II*\0garbage").unwrap();
    let err = stardist::load(dir.path(), &cfg).unwrap_err();
    assert!(
        matches!(err, Error::Data { ref path, .. } if path.ends_with("img2d.tif")),
        "{err}"
    );
}

#[test]
fn stardist_real_split() {
    let Some(dir) = repo_data("stardist") else {
        return;
    };
    let s = stardist::load(&dir, &StardistConfig::default()).unwrap();
    assert_eq!(s.train.images.size(), vec![3, 1, 192, 256]);
    assert_eq!(s.val.images.size(), vec![3, 1, 64, 256]);
    assert_eq!(s.test.images.size(), vec![1, 1, 256, 256]);
    for set in [&s.train, &s.val, &s.test] {
        set.validate().unwrap();
    }
    let (ftr, fva, fte) = (
        s.train.foreground_fraction(),
        s.val.foreground_fraction(),
        s.test.foreground_fraction(),
    );
    println!("stardist fg: train {ftr:.4} val {fva:.4} test {fte:.4}");
    // All pixels together: 19.92% (reference data.md).
    let total = (s.train.masks.sum(Kind::Double).double_value(&[])
        + s.val.masks.sum(Kind::Double).double_value(&[])
        + s.test.masks.sum(Kind::Double).double_value(&[]))
        / (512.0 * 512.0);
    assert!((total - 0.1992).abs() < 0.0005, "total fg {total}");
    for f in [ftr, fva, fte] {
        assert!(f > 0.08 && f < 0.35, "fg {f}");
    }
    let mean = s.train.images.mean(Kind::Double).double_value(&[]);
    assert!(mean > 0.02 && mean < 0.6, "normalized train mean {mean}");
    // Every choice of test quadrant partitions the same pixels.
    for q in 0..4 {
        let cfg = StardistConfig {
            test_quadrant: q,
            ..Default::default()
        };
        let s = stardist::load(&dir, &cfg).unwrap();
        let sum = |t: &Tensor| t.sum(Kind::Double).double_value(&[]);
        let all = sum(&s.train.masks) + sum(&s.val.masks) + sum(&s.test.masks);
        println!(
            "stardist test quadrant {q}: fg train {:.4} val {:.4} test {:.4}",
            s.train.foreground_fraction(),
            s.val.foreground_fraction(),
            s.test.foreground_fraction()
        );
        assert!((all / (512.0 * 512.0) - total).abs() < 1e-12);
    }
}

// ---------------------------------------------------------------------------------------
// Folder of PNG pairs

fn folder_fixture() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("images")).unwrap();
    std::fs::create_dir(dir.path().join("masks")).unwrap();
    // a: gray 3x4 with values 0, 10, .., 110; mask: 255 where value ≥ 60, 7 (ignore) at (0, 0).
    let a = image::GrayImage::from_fn(4, 3, |x, y| image::Luma([((y * 4 + x) * 10) as u8]));
    let am = image::GrayImage::from_fn(4, 3, |x, y| {
        let v = (y * 4 + x) * 10;
        image::Luma([if (x, y) == (0, 0) {
            7
        } else if v >= 60 {
            255
        } else {
            0
        }])
    });
    a.save(dir.path().join("images/a.png")).unwrap();
    am.save(dir.path().join("masks/a.png")).unwrap();
    // b: RGB 3x4 red ramp; mask all zero.
    let b = image::RgbImage::from_fn(4, 3, |x, _| image::Rgb([(x * 60) as u8, 0, 0]));
    b.save(dir.path().join("images/b.png")).unwrap();
    image::GrayImage::new(4, 3)
        .save(dir.path().join("masks/b.png"))
        .unwrap();
    dir
}

#[test]
fn folder_pairs_happy_path() {
    let dir = folder_fixture();
    let cfg = FolderConfig {
        ignore_value: Some(7),
        ..Default::default()
    };
    let set = folder::load_pairs(dir.path(), &cfg).unwrap();
    set.validate().unwrap();
    // Auto: one RGB image -> 3 channels, gray replicated.
    assert_eq!(set.images.size(), vec![2, 3, 3, 4]);
    assert_eq!(set.masks.size(), vec![2, 1, 3, 4]);
    let img = values(&set.images.get(0).get(2));
    assert!((img[5] - 50.0 / 255.0).abs() < 1e-6);
    let red = values(&set.images.get(1).get(0));
    assert!((red[3] - 180.0 / 255.0).abs() < 1e-6);
    let m = values(&set.masks.get(0));
    assert_eq!(m, vec![0., 0., 0., 0., 0., 0., 1., 1., 1., 1., 1., 1.]);
    let v = values(&set.valid.get(0));
    assert_eq!(v[0], 0.0);
    assert_eq!(v[1..].iter().sum::<f32>(), 11.0);
    assert_eq!(values(&set.valid.get(1)).iter().sum::<f32>(), 12.0);
    // Gray forced: 1 channel.
    let gray = FolderConfig {
        channels: Channels::Gray,
        ..cfg.clone()
    };
    assert_eq!(
        folder::load_pairs(dir.path(), &gray).unwrap().images.size(),
        vec![2, 1, 3, 4]
    );
    // Without an ignore value, 7 is positive.
    let plain = folder::load_pairs(dir.path(), &FolderConfig::default()).unwrap();
    assert_eq!(values(&plain.masks.get(0))[0], 1.0);
}

#[test]
fn folder_pairs_errors() {
    let cfg = FolderConfig::default();
    // Missing mask: the error names the missing mask path.
    let dir = folder_fixture();
    std::fs::remove_file(dir.path().join("masks/b.png")).unwrap();
    match folder::load_pairs(dir.path(), &cfg) {
        Err(Error::Data { path, .. }) => assert!(path.ends_with("masks/b.png"), "{path:?}"),
        other => panic!("expected a missing-mask error, got {other:?}"),
    }
    // Mask without image.
    let dir = folder_fixture();
    image::GrayImage::new(4, 3)
        .save(dir.path().join("masks/c.png"))
        .unwrap();
    let err = folder::load_pairs(dir.path(), &cfg).unwrap_err();
    assert!(
        err.to_string().contains("c.png") && err.to_string().contains("no image"),
        "{err}"
    );
    // Mask size differs from its image.
    let dir = folder_fixture();
    image::GrayImage::new(5, 3)
        .save(dir.path().join("masks/b.png"))
        .unwrap();
    let err = folder::load_pairs(dir.path(), &cfg).unwrap_err();
    assert!(
        err.to_string().contains("mask is 3x5 but its image is 3x4"),
        "{err}"
    );
    // Unreadable PNG.
    let dir = folder_fixture();
    std::fs::write(dir.path().join("images/b.png"), b"\x89PNG\r\n\x1a\nbroken").unwrap();
    match folder::load_pairs(dir.path(), &cfg) {
        Err(Error::Data { path, reason }) => {
            assert!(path.ends_with("images/b.png"), "{path:?}");
            assert!(reason.contains("decode"), "{reason}");
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Pairs of different sizes: error under Same, fine with a crop or a resize.
    let dir = folder_fixture();
    image::GrayImage::new(6, 5)
        .save(dir.path().join("images/c.png"))
        .unwrap();
    let mut cm = image::GrayImage::new(6, 5);
    cm.put_pixel(2, 2, image::Luma([1]));
    cm.save(dir.path().join("masks/c.png")).unwrap();
    let err = folder::load_pairs(dir.path(), &cfg).unwrap_err();
    assert!(err.to_string().contains("size policy"), "{err}");
    let crop = FolderConfig {
        size: SizePolicy::CenterCrop {
            height: 3,
            width: 4,
        },
        ..cfg.clone()
    };
    let set = folder::load_pairs(dir.path(), &crop).unwrap();
    assert_eq!(set.images.size(), vec![3, 3, 3, 4]);
    // c cropped at (x, y) = (1, 1): its positive pixel (2, 2) lands at row 1, column 1.
    assert_eq!(values(&set.masks.get(2))[4 + 1], 1.0);
    let resize = FolderConfig {
        size: SizePolicy::Resize {
            height: 2,
            width: 2,
        },
        ..cfg.clone()
    };
    let set = folder::load_pairs(dir.path(), &resize).unwrap();
    assert_eq!(set.masks.size(), vec![3, 1, 2, 2]);
    set.validate().unwrap();
    let too_big = FolderConfig {
        size: SizePolicy::CenterCrop {
            height: 4,
            width: 4,
        },
        ..cfg.clone()
    };
    assert!(matches!(
        folder::load_pairs(dir.path(), &too_big),
        Err(Error::Data { .. })
    ));
    // No images / no folder.
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(
        folder::load_pairs(empty.path(), &cfg),
        Err(Error::Io { .. })
    ));
    std::fs::create_dir(empty.path().join("images")).unwrap();
    std::fs::create_dir(empty.path().join("masks")).unwrap();
    assert!(matches!(
        folder::load_pairs(empty.path(), &cfg),
        Err(Error::Data { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// Loader

/// A set whose image pixel (n, r, c) = (n·H·W + r·W + c) / (N·H·W) and mask = image > ½.
fn coded_set(n: i64, h: i64, w: i64) -> SegSet {
    let images = Tensor::arange(n * h * w, (Kind::Float, tch::Device::Cpu)).reshape([n, 1, h, w])
        / (n * h * w) as f64;
    let masks = images.gt(0.5).to_kind(Kind::Float);
    let valid = images.lt(0.9).to_kind(Kind::Float);
    SegSet {
        images,
        masks,
        valid,
        name: "coded".into(),
    }
}

#[test]
fn loader_is_deterministic_and_covers_the_set() {
    let set = coded_set(10, 4, 6);
    let cfg = BatchConfig {
        batch_size: 4,
        flips: true,
        crop: Some([3, 3]),
        seed: 9,
        ..Default::default()
    };
    let collect = |epoch| -> Vec<Tensor> {
        Batches::new(&set, &cfg, epoch)
            .unwrap()
            .map(|b| b.images)
            .collect()
    };
    let (a, b, c) = (collect(0), collect(0), collect(1));
    assert_eq!(a.len(), 3);
    assert_eq!(a[2].size(), vec![2, 1, 3, 3]);
    assert!(
        a.iter().zip(&b).all(|(x, y)| x.equal(y)),
        "same seed and epoch"
    );
    assert!(
        !a.iter().zip(&c).all(|(x, y)| x.equal(y)),
        "another epoch differs"
    );
    // Without augmentation, one epoch is a permutation of the samples.
    let plain = BatchConfig {
        batch_size: 3,
        seed: 2,
        ..Default::default()
    };
    let mut firsts: Vec<i64> = Batches::new(&set, &plain, 0)
        .unwrap()
        .flat_map(|b| values(&b.images.select(2, 0).select(2, 0).select(1, 0)))
        .map(|v| (v * 240.0).round() as i64 / 24)
        .collect();
    assert_ne!(firsts, (0..10).collect::<Vec<_>>(), "shuffled");
    firsts.sort_unstable();
    assert_eq!(firsts, (0..10).collect::<Vec<_>>());
    // Eval: in order.
    let eval: Vec<Tensor> = Batches::new(&set, &BatchConfig::eval(4), 3)
        .unwrap()
        .map(|b| b.images)
        .collect();
    assert!(Tensor::cat(&eval, 0).equal(&set.images));
}

#[test]
fn loader_flips_and_crops_are_consistent_windows() {
    let (n, h, w) = (6i64, 5i64, 7i64);
    let set = coded_set(n, h, w);
    let cfg = BatchConfig {
        batch_size: 6,
        flips: true,
        crop: Some([3, 4]),
        seed: 1,
        ..Default::default()
    };
    let (mut saw_h, mut saw_v, mut saw_none) = (false, false, false);
    for epoch in 0..8 {
        for batch in Batches::new(&set, &cfg, epoch).unwrap() {
            assert!(
                batch
                    .masks
                    .equal(&batch.images.gt(0.5).to_kind(Kind::Float)),
                "mask follows image"
            );
            assert!(
                batch
                    .valid
                    .equal(&batch.images.lt(0.9).to_kind(Kind::Float)),
                "valid follows image"
            );
            for j in 0..batch.images.size()[0] {
                let win = batch.images.get(j).get(0); // [3, 4]
                let code = |t: &Tensor| (t.double_value(&[]) * (n * h * w) as f64).round() as i64;
                let corners = [
                    code(&win.get(0).get(0)),
                    code(&win.get(0).get(3)),
                    code(&win.get(2).get(0)),
                ];
                // Unflipped, the corners (0, 0), (0, 3), (2, 0) of a window hold
                // base, base + 3 and base + 2W (base = the window's smallest code).
                // A horizontal flip swaps columns, a vertical flip swaps rows.
                let min = code(&win.min());
                let flipped_h = corners[1] < corners[0];
                let flipped_v = corners[2] < corners[0];
                let orig = if flipped_h {
                    win.flip([1])
                } else {
                    win.shallow_clone()
                };
                let orig = if flipped_v { orig.flip([0]) } else { orig };
                let s = min / (h * w);
                let (top, left) = ((min % (h * w)) / w, (min % (h * w)) % w);
                let expect = set
                    .images
                    .get(s)
                    .get(0)
                    .narrow(0, top, 3)
                    .narrow(1, left, 4);
                assert!(
                    orig.equal(&expect),
                    "window is a flipped crop of sample {s}"
                );
                saw_h |= flipped_h;
                saw_v |= flipped_v;
                saw_none |= !flipped_h && !flipped_v;
            }
        }
    }
    assert!(saw_h && saw_v && saw_none);
}

#[test]
fn loader_rejects_bad_configs() {
    let set = coded_set(2, 4, 4);
    let zero = BatchConfig {
        batch_size: 0,
        ..Default::default()
    };
    assert!(matches!(
        Batches::new(&set, &zero, 0),
        Err(Error::InvalidConfig {
            field: "batch_size",
            ..
        })
    ));
    let big = BatchConfig {
        crop: Some([5, 4]),
        ..Default::default()
    };
    assert!(matches!(
        Batches::new(&set, &big, 0),
        Err(Error::InvalidConfig { field: "crop", .. })
    ));
    let bad = SegSet {
        masks: Tensor::zeros([2, 1, 3, 4], (Kind::Float, tch::Device::Cpu)),
        ..coded_set(2, 4, 4)
    };
    assert!(matches!(
        Batches::new(&bad, &BatchConfig::default(), 0),
        Err(Error::Data { .. })
    ));
}

#[test]
fn synthetic_sets_are_seeded() {
    let cfg = SyntheticConfig {
        n_train: 4,
        n_val: 2,
        n_test: 2,
        size: 16,
        ..Default::default()
    };
    let a = synthetic::generate(&cfg);
    let b = synthetic::generate(&SyntheticConfig {
        n_train: 9,
        ..cfg.clone()
    });
    assert!(
        a.val.images.equal(&b.val.images),
        "val does not depend on n_train"
    );
    assert_eq!(b.train.images.size(), vec![9, 1, 16, 16]);
    a.test.validate().unwrap();
}

// ---------------------------------------------------------------------------------------
// Tabular

#[test]
fn caravan_real_shape_split_and_standardization() {
    let Some(dir) = repo_data("caravan") else {
        return;
    };
    let path = dir.join("Caravan.csv");
    let raw = tabular::read_labeled_csv(&path, "Purchase", "Yes", "No").unwrap();
    assert_eq!(raw.x.size(), vec![5822, 85]);
    assert_eq!(raw.y.sum(Kind::Double).double_value(&[]), 348.0);
    let s = tabular::caravan(&path, 7, 0.1).unwrap();
    let (ntr, nva, nte) = (s.train.len(), s.val.len(), s.test.len());
    assert_eq!(ntr + nva + nte, 5822);
    // Per class: 348 -> 70 test, 35 val; 5474 -> 1095 test, 547 val.
    assert_eq!((nte, nva), (70 + 1095, 35 + 547));
    let pos = |t: &seg::data::TabularSet| t.y.sum(Kind::Double).double_value(&[]);
    assert_eq!(
        (pos(&s.train), pos(&s.val), pos(&s.test)),
        (243.0, 35.0, 70.0)
    );
    // Train statistics are exactly standard; test statistics are not forced.
    let mean = s.train.x.mean_dim(0, false, Kind::Double);
    let std = s.train.x.to_kind(Kind::Double).std_dim(0, false, false);
    assert!(mean.abs().max().double_value(&[]) < 1e-5);
    let std_v = Vec::<f64>::try_from(&std).unwrap();
    assert!(std_v.iter().all(|&v| (v - 1.0).abs() < 1e-4), "{std_v:?}");
    let test_mean = s
        .test
        .x
        .mean_dim(0, false, Kind::Double)
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        test_mean > 1e-3,
        "test features standardized with their own mean?"
    );
    // No leakage: test = (raw_test - train mean) / train std, from the train rows alone.
    let labels: Vec<bool> = values(&raw.y).iter().map(|&v| v > 0.5).collect();
    let idx = tabular::stratified_split(&labels, 7, 0.1, tabular::CARAVAN_TEST_FRAC).unwrap();
    let rows = |r: &[i64]| raw.x.index_select(0, &Tensor::from_slice(r));
    let fitted = tabular::Standardizer::fit(&rows(&idx.train));
    let expect = fitted.apply(&rows(&idx.test));
    assert!(s.test.x.allclose(&expect, 1e-5, 1e-5, false));
    assert!(
        s.test
            .y
            .equal(&raw.y.index_select(0, &Tensor::from_slice(&idx.test)))
    );
}

#[test]
fn caravan_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("c.csv");
    std::fs::write(&p, "a,b,Purchase\n1,2,No\n3,x,Yes\n").unwrap();
    let err = tabular::read_labeled_csv(&p, "Purchase", "Yes", "No").unwrap_err();
    assert!(
        err.to_string().contains("line 3") && err.to_string().contains("\"b\""),
        "{err}"
    );
    std::fs::write(&p, "a,b,Purchase\n1,2,No\n3,4\n").unwrap();
    assert!(matches!(
        tabular::read_labeled_csv(&p, "Purchase", "Yes", "No"),
        Err(Error::Data { .. })
    ));
    std::fs::write(&p, "a,b,Purchase\n1,2,no\n").unwrap();
    let err = tabular::read_labeled_csv(&p, "Purchase", "Yes", "No").unwrap_err();
    assert!(err.to_string().contains("line 2: label \"no\""), "{err}");
    std::fs::write(&p, "a,b,Label\n1,2,No\n").unwrap();
    assert!(
        tabular::read_labeled_csv(&p, "Purchase", "Yes", "No")
            .unwrap_err()
            .to_string()
            .contains("Purchase")
    );
    std::fs::write(&p, "a,b,Purchase\n1,2,No\n3,4,Yes\n").unwrap();
    let ok = tabular::read_labeled_csv(&p, "Purchase", "Yes", "No").unwrap();
    assert_eq!(values(&ok.x), vec![1., 2., 3., 4.]);
    assert_eq!(values(&ok.y), vec![0., 1.]);
    let err = tabular::caravan(&p, 0, 0.1).unwrap_err();
    assert!(err.to_string().contains("85 feature columns"), "{err}");
    assert!(matches!(
        tabular::caravan(&dir.path().join("none.csv"), 0, 0.1),
        Err(Error::Io { .. })
    ));
}

#[test]
fn toy_gaussians_match_reference_section_8() {
    let (train, eval) = tabular::toy_gaussians(0);
    assert_eq!(train.x.size(), vec![3650, 2]);
    assert_eq!(eval.x.size(), vec![3650, 2]);
    assert_eq!(train.y.sum(Kind::Double).double_value(&[]), 550.0);
    assert!((train.positive_rate() - 550.0 / 3650.0).abs() < 1e-9);
    assert!(train.y.equal(&eval.y), "same label order");
    assert!(!train.x.equal(&eval.x), "independent draws");
    assert!(
        !train
            .y
            .narrow(0, 0, 500)
            .equal(&Tensor::zeros([500], (Kind::Float, tch::Device::Cpu))),
        "permuted"
    );
    // Component statistics: each point is assigned to the nearer centre of its label
    // (same-label centres are ≥ 1.8 apart, i.e. > 6σ).
    let x = Vec::<f32>::try_from(train.x.flatten(0, -1)).unwrap();
    let y = values(&train.y);
    let comps = tabular::TOY_COMPONENTS;
    for (k, &(centre, sigma, count, label)) in comps.iter().enumerate() {
        let near = |i: usize| {
            let d = |c: [f64; 2]| {
                (x[2 * i] as f64 - c[0]).powi(2) + (x[2 * i + 1] as f64 - c[1]).powi(2)
            };
            comps
                .iter()
                .filter(|c| c.3 == label)
                .all(|c| d(centre) <= d(c.0))
        };
        let pts: Vec<[f64; 2]> = (0..3650)
            .filter(|&i| (y[i] == 1.0) == label && near(i))
            .map(|i| [x[2 * i] as f64, x[2 * i + 1] as f64])
            .collect();
        assert_eq!(pts.len(), count, "component {k} at {centre:?}");
        let m = |d: usize| pts.iter().map(|p| p[d]).sum::<f64>() / count as f64;
        let sd = (pts.iter().map(|p| (p[1] - m(1)).powi(2)).sum::<f64>() / count as f64).sqrt();
        let tol = 4.0 * sigma / (count as f64).sqrt();
        assert!(
            (m(0) - centre[0]).abs() < tol && (m(1) - centre[1]).abs() < tol,
            "{centre:?}"
        );
        assert!((sd - sigma).abs() < 0.25 * sigma, "sd {sd} vs {sigma}");
    }
    let (again, _) = tabular::toy_gaussians(0);
    assert!(again.x.equal(&train.x));
    let (other, _) = tabular::toy_gaussians(1);
    assert!(!other.x.equal(&train.x));
}
