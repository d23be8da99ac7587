//! A new user's mistakes: misspelled config keys, resuming on other data, sets whose
//! every pixel is ignored. Each must be a typed error, never a silent default.
use seg::Error;
use seg::data::SegSplits;
use seg::data::folder::FolderConfig;
use seg::data::synthetic::{SyntheticConfig, generate};
use seg::model::UNetConfig;
use seg::objective::ObjectiveSpec;
use seg::train::{DeviceChoice, TrainConfig, train};

fn splits(seed: u64) -> SegSplits {
    generate(&SyntheticConfig {
        n_train: 8,
        n_val: 4,
        n_test: 4,
        size: 16,
        seed,
        ..Default::default()
    })
}

fn tiny() -> UNetConfig {
    UNetConfig {
        depth: 1,
        base_channels: 4,
        in_channels: 1,
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 1,
        batch_size: 4,
        lr: 1e-2,
        seed: 1,
        threads: 1,
        device: DeviceChoice::Cpu,
        ..Default::default()
    }
}

#[test]
fn misspelled_json_keys_are_errors_not_defaults() {
    // `alfa` for `alpha` would silently train focal loss without class balancing.
    let err = serde_json::from_str::<ObjectiveSpec>(r#"{"kind":"focal","gamma":2,"alfa":0.25}"#)
        .unwrap_err();
    assert!(err.to_string().contains("alfa"), "{err}");
    assert!(serde_json::from_str::<ObjectiveSpec>(r#"{"kind":"bce","pos_weight":3}"#).is_err());
    let ok: ObjectiveSpec =
        serde_json::from_str(r#"{"kind":"focal","gamma":2,"alpha":0.25}"#).unwrap();
    assert_eq!(
        ok,
        ObjectiveSpec::Focal {
            gamma: 2.0,
            alpha: Some(0.25)
        }
    );
    // `ignore` for `ignore_value` would silently count ignored pixels as positives.
    let err = serde_json::from_str::<FolderConfig>(r#"{"ignore":7}"#).unwrap_err();
    assert!(err.to_string().contains("ignore"), "{err}");
    let ok: FolderConfig = serde_json::from_str(r#"{"ignore_value":7}"#).unwrap();
    assert_eq!(ok.ignore_value, Some(7));
}

#[test]
fn resume_on_other_data_of_the_same_shape_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = TrainConfig {
        checkpoint_dir: Some(dir.path().to_path_buf()),
        ..config()
    };
    train(&splits(1), &tiny(), &ObjectiveSpec::Bce, &cfg, &mut |_| {}).unwrap();
    let resume = TrainConfig {
        resume: true,
        epochs: 2,
        ..cfg
    };
    // Same generator, same name and shapes, other pixels.
    let other = splits(2);
    assert_eq!(other.train.images.size(), splits(1).train.images.size());
    let err = train(&other, &tiny(), &ObjectiveSpec::Bce, &resume, &mut |_| {}).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidConfig { field: "resume", reason } if reason.contains("data")),
        "{err}"
    );
    // The same data still resumes.
    let out = train(
        &splits(1),
        &tiny(),
        &ObjectiveSpec::Bce,
        &resume,
        &mut |_| {},
    )
    .unwrap();
    assert_eq!(out.resumed_from, Some(1));
}

#[test]
fn sets_with_every_pixel_ignored_are_refused() {
    for which in ["train", "val"] {
        let mut s = splits(1);
        let set = if which == "train" {
            &mut s.train
        } else {
            &mut s.val
        };
        set.valid = set.valid.zeros_like();
        let err = train(&s, &tiny(), &ObjectiveSpec::Bce, &config(), &mut |_| {}).unwrap_err();
        assert!(
            matches!(&err, Error::Data { reason, .. } if reason.contains("ignored")),
            "{which}: {err}"
        );
    }
}

#[test]
fn sets_without_positive_pixels_train_to_finite_losses_and_undefined_validation() {
    let mut s = splits(1);
    for set in [&mut s.train, &mut s.val] {
        set.masks = set.masks.zeros_like();
    }
    let par = ObjectiveSpec::Global(bounds::LossConfig::new(
        bounds::ObjectiveConfig::PrecisionAtRecall {
            target_recall: bounds::Target::All(0.9),
        },
    ));
    for spec in [ObjectiveSpec::Bce, ObjectiveSpec::Dice, par] {
        let out = train(&s, &tiny(), &spec, &config(), &mut |_| {}).unwrap();
        let last = out.history.last().unwrap();
        assert!(last.train_loss.is_finite(), "{}", spec.name());
        // Precision at a recall target and AP need positives: absent, not 0.
        assert_eq!(last.val_precision_at_target_recall, None, "{}", spec.name());
        assert_eq!(last.val_ap, None, "{}", spec.name());
    }
}

#[test]
fn two_files_with_one_stem_are_an_error_not_a_silent_pick() {
    let dir = tempfile::tempdir().unwrap();
    let (images, masks) = (dir.path().join("images"), dir.path().join("masks"));
    std::fs::create_dir_all(&images).unwrap();
    std::fs::create_dir_all(&masks).unwrap();
    for name in ["a.png", "a.PNG"] {
        image::GrayImage::new(4, 3).save(images.join(name)).unwrap();
    }
    image::GrayImage::new(4, 3)
        .save(masks.join("a.png"))
        .unwrap();
    let err = seg::data::folder::load_pairs(dir.path(), &FolderConfig::default()).unwrap_err();
    assert!(
        matches!(&err, Error::Data { reason, .. } if reason.contains("same name")),
        "{err}"
    );
    // Prediction would write a_prob.png twice.
    let vs = tch::nn::VarStore::new(tch::Device::Cpu);
    let model = seg::model::UNet::new(&vs.root(), &tiny()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = seg::predict::predict_folder(&model, &images, out.path(), 0.5).unwrap_err();
    assert!(
        matches!(&err, Error::Data { reason, .. } if reason.contains("same stem")),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(out.path()).unwrap().count(), 0);
}
