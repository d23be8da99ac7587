//! Evaluation on hand-built logits and masks, threshold selection, and prediction to
//! PNG files.
use approx::assert_abs_diff_eq;
use seg::Error;
use seg::data::SegSet;
use seg::evaluate::{
    EvalConfig, ThresholdChoice, choose_threshold, evaluate, pr_curve_points, report_at,
    validation_metrics,
};
use seg::model::{UNet, UNetConfig};
use seg::predict::predict_folder;
use tch::{Device, Kind, Tensor, nn};

/// `[N, 1, H, W]` Float tensor from values.
fn t(values: &[f32], shape: [i64; 4]) -> Tensor {
    Tensor::from_slice(values).reshape(shape)
}

/// Six pixels, descending logits 3 .. −2; positives at 3, 2 and 0.
///
/// ```text
/// t     3    2    1    0    -1   -2
/// TP    1    2    2    3    3    3
/// FP    0    0    1    1    2    3
/// R    1/3  2/3  2/3   1    1    1
/// P     1    1   2/3  3/4  3/5  1/2
/// ```
fn six() -> (Tensor, Tensor, Tensor) {
    let logits = t(&[3.0, 2.0, 1.0, 0.0, -1.0, -2.0], [1, 1, 2, 3]);
    let masks = t(&[1.0, 1.0, 0.0, 1.0, 0.0, 0.0], [1, 1, 2, 3]);
    (
        logits,
        masks,
        Tensor::ones([1, 1, 2, 3], (Kind::Float, Device::Cpu)),
    )
}

#[test]
fn threshold_is_best_precision_subject_to_recall() {
    let (logits, masks, valid) = six();
    // Recall ≥ 0.6: thresholds 2, 1, 0, −1, −2 qualify; the best precision (1) is at 2.
    let c = choose_threshold(&logits, &masks, &valid, 0.6).unwrap();
    assert_abs_diff_eq!(c.threshold_logit, 2.0);
    assert_abs_diff_eq!(
        c.threshold_probability,
        1.0 / (1.0 + (-2.0f64).exp()),
        epsilon = 1e-15
    );
    assert_abs_diff_eq!(c.val_precision.unwrap(), 1.0);
    assert_abs_diff_eq!(c.val_recall.unwrap(), 2.0 / 3.0, epsilon = 1e-15);
    assert!(c.fallback.is_none());
    // Recall ≥ 0.9 needs threshold ≤ 0; the best precision there is 3/4 at 0.
    let c = choose_threshold(&logits, &masks, &valid, 0.9).unwrap();
    assert_abs_diff_eq!(c.threshold_logit, 0.0);
    assert_abs_diff_eq!(c.val_precision.unwrap(), 0.75);
    let c1 = choose_threshold(&logits, &masks, &valid, 1.0).unwrap();
    assert_eq!(
        c1,
        ThresholdChoice {
            target_recall: 1.0,
            ..c
        }
    );
}

#[test]
fn ignored_pixels_do_not_count() {
    let (logits, masks, _) = six();
    // Ignore the negative at logit 1: recall ≥ 0.9 at threshold 0 now has precision 1.
    let valid = t(&[1.0, 1.0, 0.0, 1.0, 1.0, 1.0], [1, 1, 2, 3]);
    let c = choose_threshold(&logits, &masks, &valid, 0.9).unwrap();
    assert_abs_diff_eq!(c.threshold_logit, 0.0);
    assert_abs_diff_eq!(c.val_precision.unwrap(), 1.0);
    let v = validation_metrics(&logits, &masks, &valid, 0.9).unwrap();
    assert_abs_diff_eq!(v.precision_at_target_recall.unwrap(), 1.0);
    // Ranked 3(P) 2(P) 0(P) −1 −2: every positive comes first, AP = 1, IoU = 3/3.
    assert_abs_diff_eq!(v.ap.unwrap(), 1.0);
    assert_abs_diff_eq!(v.iou, 1.0);
}

#[test]
fn validation_metrics_on_hand_built_case() {
    let (logits, masks, valid) = six();
    let v = validation_metrics(&logits, &masks, &valid, 0.9).unwrap();
    assert_abs_diff_eq!(v.precision_at_target_recall.unwrap(), 0.75);
    // AP = (1/3)·1 + (1/3)·1 + (1/3)·(3/4).
    assert_abs_diff_eq!(v.ap.unwrap(), (1.0 + 1.0 + 0.75) / 3.0, epsilon = 1e-15);
    // At threshold 0: TP 3, FP 1, FN 0 → IoU 3/4.
    assert_abs_diff_eq!(v.iou, 0.75);
}

#[test]
fn fallback_when_validation_has_no_positive() {
    let logits = t(&[1.0, -1.0, 0.5, 2.0], [1, 1, 2, 2]);
    let masks = Tensor::zeros([1, 1, 2, 2], (Kind::Float, Device::Cpu));
    let valid = masks.ones_like();
    let c = choose_threshold(&logits, &masks, &valid, 0.9).unwrap();
    assert_abs_diff_eq!(c.threshold_logit, 0.0);
    assert_abs_diff_eq!(c.threshold_probability, 0.5);
    assert!(c.fallback.as_deref().unwrap().contains("no positives"));
    assert!(c.val_recall.is_none());
    let v = validation_metrics(&logits, &masks, &valid, 0.9).unwrap();
    assert!(v.precision_at_target_recall.is_none());
    assert!(v.ap.is_none());
}

/// Two 2x2 test images; the second has an empty mask.
///
/// ```text
/// image 0: logits [2, −1, 0.5, −3], mask [1, 1, 0, 0]
/// image 1: logits [1, −2, 0.2, −0.5], mask [0, 0, 0, 0]
/// at threshold 0.5: TP 1 (2), FP 2 (0.5, 1), FN 1 (−1), TN 4
/// ```
#[test]
fn test_report_on_hand_built_case() {
    let logits = t(&[2.0, -1.0, 0.5, -3.0, 1.0, -2.0, 0.2, -0.5], [2, 1, 2, 2]);
    let masks = t(&[1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [2, 1, 2, 2]);
    let valid = masks.ones_like();
    let choice = ThresholdChoice {
        target_recall: 0.5,
        threshold_logit: 0.5,
        threshold_probability: 1.0 / (1.0 + (-0.5f64).exp()),
        val_precision: None,
        val_recall: None,
        fallback: None,
    };
    let r = report_at(&logits, &masks, &valid, &choice).unwrap();
    assert_abs_diff_eq!(r.counts.true_positives, 1.0);
    assert_abs_diff_eq!(r.counts.false_positives, 2.0);
    assert_abs_diff_eq!(r.counts.false_negatives, 1.0);
    assert_abs_diff_eq!(r.counts.true_negatives, 4.0);
    assert_abs_diff_eq!(r.precision.unwrap(), 1.0 / 3.0, epsilon = 1e-15);
    assert_abs_diff_eq!(r.recall.unwrap(), 0.5);
    assert_abs_diff_eq!(r.iou, 0.25);
    assert_abs_diff_eq!(r.dice, 0.4);
    // Image 0 alone: TP 1, FP 1, FN 1; image 1 is excluded from the mean.
    assert_abs_diff_eq!(r.mean_image_iou.unwrap(), 1.0 / 3.0, epsilon = 1e-15);
    // Ranked: 2(P) 1 0.5 0.2 −0.5 −1(P) −2 −3.
    // AP = ½·1 + ½·(2/6);  ROC-AUC = (6 + 2) / (2·6).
    assert_abs_diff_eq!(r.ap.unwrap(), 0.5 + 0.5 / 3.0, epsilon = 1e-15);
    assert_abs_diff_eq!(r.roc_auc.unwrap(), 8.0 / 12.0, epsilon = 1e-15);
    assert_eq!(r.images, 2);
    assert_eq!(r.empty_mask_images, 1);
    assert_eq!(r.empty_mask_images_with_false_positives, 1);
    assert_abs_diff_eq!(r.empty_mask_false_positive_pixels, 1.0);
    // The report serializes (it goes into run artifacts).
    let json = serde_json::to_string(&r).unwrap();
    assert!(json.contains("\"empty_mask_images\":1"));
}

#[test]
fn pr_curve_is_downsampled_by_recall_level() {
    let (logits, masks, valid) = six();
    let all = pr_curve_points(&logits, &masks, &valid, 100).unwrap();
    // Six distinct thresholds; levels pick the first point reaching 0, 1/99, ..., 1:
    // recall takes the values 1/3, 2/3, 1, so thresholds 3, 2 and 0 are kept.
    let thresholds: Vec<f64> = all.iter().map(|p| p.threshold_logit).collect();
    assert_eq!(thresholds, vec![3.0, 2.0, 0.0]);
    let three = pr_curve_points(&logits, &masks, &valid, 3).unwrap();
    assert_eq!(three.len(), 3);
    assert_abs_diff_eq!(three[2].recall, 1.0);
    assert_abs_diff_eq!(three[2].precision, 0.75);
    let two = pr_curve_points(&logits, &masks, &valid, 2).unwrap();
    assert_eq!(two.len(), 2);
    assert!(matches!(
        pr_curve_points(&logits, &masks, &valid, 1),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (logits, masks, valid) = six();
    let other = Tensor::ones([1, 1, 3, 2], (Kind::Float, Device::Cpu));
    assert!(matches!(
        choose_threshold(&logits, &other, &valid, 0.9),
        Err(Error::Shape { what: "masks", .. })
    ));
    assert!(matches!(
        report_at(
            &logits,
            &masks,
            &other,
            &choose_threshold(&logits, &masks, &valid, 0.9).unwrap()
        ),
        Err(Error::Shape { what: "valid", .. })
    ));
    let flat = logits.reshape([6]);
    assert!(matches!(
        choose_threshold(&flat, &masks, &valid, 0.9),
        Err(Error::Shape { what: "logits", .. })
    ));
    for target in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(matches!(
            choose_threshold(&logits, &masks, &valid, target),
            Err(Error::InvalidConfig {
                field: "target_recall",
                ..
            })
        ));
    }
    let nan = t(&[f32::NAN, 2.0, 1.0, 0.0, -1.0, -2.0], [1, 1, 2, 3]);
    assert!(matches!(
        choose_threshold(&nan, &masks, &valid, 0.9),
        Err(Error::Metrics(_))
    ));
    let soft = t(&[0.5, 1.0, 0.0, 1.0, 0.0, 0.0], [1, 1, 2, 3]);
    assert!(matches!(
        choose_threshold(&logits, &soft, &valid, 0.9),
        Err(Error::Metrics(_))
    ));
    let none_valid = valid.zeros_like();
    assert!(matches!(
        choose_threshold(&logits, &masks, &none_valid, 0.9),
        Err(Error::Metrics(_))
    ));
}

fn tiny_model() -> (nn::VarStore, UNet) {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let model = UNet::new(&(vs.root() / "model"), &UNetConfig::tiny()).unwrap();
    (vs, model)
}

fn set(n: i64, seed: i64) -> SegSet {
    tch::manual_seed(seed);
    let images = Tensor::rand([n, 1, 8, 8], (Kind::Float, Device::Cpu));
    let masks = images.gt(0.7).to_kind(Kind::Float);
    SegSet {
        valid: masks.ones_like(),
        images,
        masks,
        name: format!("random-{seed}"),
    }
}

#[test]
fn evaluate_chooses_on_validation_and_reports_on_test() {
    let (_vs, model) = tiny_model();
    let (val, test) = (set(5, 11), set(6, 12));
    let cfg = EvalConfig {
        target_recall: 0.8,
        batch_size: 4,
        curve_points: 10,
    };
    let e = evaluate(&model, &val, &test, &cfg).unwrap();
    // Same result as the building blocks on the model's logits.
    let val_logits = seg::evaluate::predict_logits(&model, &val, 4).unwrap();
    let choice = choose_threshold(&val_logits, &val.masks, &val.valid, 0.8).unwrap();
    assert_eq!(e.test.threshold, choice);
    assert!(choice.val_recall.unwrap() >= 0.8);
    let test_logits = seg::evaluate::predict_logits(&model, &test, 4).unwrap();
    let r = report_at(&test_logits, &test.masks, &test.valid, &choice).unwrap();
    assert_eq!(e.test, r);
    assert!(!e.pr_curve.is_empty() && e.pr_curve.len() <= 10);
    let bad = EvalConfig {
        batch_size: 0,
        ..cfg
    };
    assert!(matches!(
        evaluate(&model, &val, &test, &bad),
        Err(Error::InvalidConfig { .. })
    ));
}

#[test]
fn predict_writes_pngs_that_read_back() {
    let (_vs, model) = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let (input, output) = (dir.path().join("in"), dir.path().join("out"));
    std::fs::create_dir(&input).unwrap();
    // A 7x5 grayscale image and an 8x6 RGB one (converted to luma for a 1-channel model).
    let gray = image::GrayImage::from_fn(7, 5, |x, y| image::Luma([(x * 30 + y * 10) as u8]));
    gray.save(input.join("a.png")).unwrap();
    let rgb = image::RgbImage::from_fn(8, 6, |x, y| {
        image::Rgb([(x * 20) as u8, (y * 40) as u8, 90])
    });
    rgb.save(input.join("b.PNG")).unwrap();
    std::fs::write(input.join("notes.txt"), "not an image").unwrap();

    let written = predict_folder(&model, &input, &output, 0.5).unwrap();
    assert_eq!(written.len(), 2);
    for (w, (width, height)) in written.iter().zip([(7u32, 5u32), (8, 6)]) {
        let prob = image::open(&w.probability_png).unwrap().to_luma8();
        let mask = image::open(&w.mask_png).unwrap().to_luma8();
        assert_eq!((prob.width(), prob.height()), (width, height));
        assert_eq!((mask.width(), mask.height()), (width, height));
        assert_eq!((w.width, w.height), (width, height));
        // Recompute the probabilities from the model on the same decoded image.
        let img = seg::data::folder::read_png(&w.input).unwrap();
        let x = seg::data::folder::image_tensor(&img, 1).unsqueeze(0);
        let p = model
            .f_forward_t(&x, false)
            .unwrap()
            .to_kind(Kind::Double)
            .sigmoid();
        let p = Vec::<f64>::try_from(p.flatten(0, -1)).unwrap();
        let mut positives = 0;
        for ((&pv, &pp), &mp) in p.iter().zip(prob.as_raw()).zip(mask.as_raw()) {
            assert!((pv * 255.0 - pp as f64).abs() <= 0.5 + 1e-9, "{pv} vs {pp}");
            assert_eq!(mp, if pv >= 0.5 { 255 } else { 0 });
            positives += (mp == 255) as u64;
        }
        assert_eq!(w.positive_pixels, positives);
    }
    assert!(output.join("a_prob.png").is_file() && output.join("b_mask.png").is_file());
}

#[test]
fn predict_errors_are_typed() {
    let (_vs, model) = tiny_model();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    assert!(matches!(
        predict_folder(&model, &dir.path().join("missing"), &out, 0.5),
        Err(Error::Io { .. })
    ));
    assert!(matches!(
        predict_folder(&model, dir.path(), &out, 0.5),
        Err(Error::Data { .. })
    ));
    std::fs::write(dir.path().join("broken.png"), b"not a png").unwrap();
    assert!(matches!(
        predict_folder(&model, dir.path(), &out, 0.5),
        Err(Error::Data { .. })
    ));
    for threshold in [-0.1, 1.1, f64::NAN] {
        assert!(matches!(
            predict_folder(&model, dir.path(), &out, threshold),
            Err(Error::InvalidConfig {
                field: "threshold",
                ..
            })
        ));
    }
}
