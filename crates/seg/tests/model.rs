//! U-Net: output shapes, the padding rule for odd sizes, and bad inputs.
use seg::Error;
use seg::model::{UNet, UNetConfig};
use tch::nn::{self, ModuleT};
use tch::{Device, Kind, Tensor};

fn build(depth: usize, base_channels: i64, in_channels: i64) -> (nn::VarStore, UNet) {
    tch::manual_seed(7);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = UNetConfig {
        depth,
        base_channels,
        in_channels,
    };
    let model = UNet::new(&(vs.root() / "model"), &cfg).expect("valid config");
    (vs, model)
}

#[test]
fn output_shape_for_sizes_and_depths() {
    // (depth, width, channels, N, H, W): divisible, odd, non-square and tiny sizes.
    let cases = [
        (0, 4, 1, 2, 8, 8),
        (1, 4, 1, 2, 16, 16),
        (2, 8, 3, 3, 32, 24),
        (3, 4, 1, 2, 56, 56),
        (2, 4, 1, 2, 13, 17),
        (3, 4, 3, 2, 5, 9),
        (1, 4, 1, 2, 1, 1),
    ];
    for (depth, width, c, n, h, w) in cases {
        let (_vs, model) = build(depth, width, c);
        let x = Tensor::rand([n, c, h, w], (Kind::Float, Device::Cpu));
        for train in [true, false] {
            let y = model.f_forward_t(&x, train).expect("forward");
            assert_eq!(
                y.size(),
                vec![n, 1, h, w],
                "depth {depth} {h}x{w} train {train}"
            );
            assert_eq!(y.kind(), Kind::Float);
            let finite = y.isfinite().all().int64_value(&[]);
            assert_eq!(finite, 1, "non-finite logits for depth {depth} {h}x{w}");
        }
    }
}

#[test]
fn odd_size_equals_manual_zero_padding_then_crop() {
    // The documented rule: pad bottom/right with zeros to a multiple of 2^depth, run,
    // crop back. Checked in eval mode (running statistics), where images are
    // independent.
    let (_vs, model) = build(2, 4, 1);
    let x = Tensor::rand([2, 1, 13, 17], (Kind::Float, Device::Cpu));
    let direct = model.f_forward_t(&x, false).unwrap();
    let padded = x.constant_pad_nd([0, 3, 0, 3]); // 16 x 20
    let full = model.f_forward_t(&padded, false).unwrap();
    assert_eq!(full.size(), vec![2, 1, 16, 20]);
    let cropped = full.narrow(2, 0, 13).narrow(3, 0, 17);
    let diff = (direct - cropped).abs().max().double_value(&[]);
    assert!(diff < 1e-6, "max difference {diff}");
}

#[test]
fn variables_cover_batch_norm_statistics_and_widths_double() {
    let (vs, _model) = build(2, 4, 1);
    let vars = vs.variables();
    assert!(vars.contains_key("model.enc0.bn1.running_mean"));
    assert!(vars.contains_key("model.enc2.bn2.running_var"));
    assert!(!vars["model.enc0.bn1.running_mean"].requires_grad());
    // Level i has base · 2^i channels: enc2's second conv is 16 → 16, 3x3, no bias.
    assert_eq!(vars["model.enc2.conv2.weight"].size(), vec![16, 16, 3, 3]);
    assert!(!vars.contains_key("model.enc2.conv2.bias"));
    // The decoder at level 0 reads the skip (4) and the upsampled features (4).
    assert_eq!(vars["model.dec0.conv1.weight"].size(), vec![4, 8, 3, 3]);
    assert_eq!(vars["model.head.weight"].size(), vec![1, 4, 1, 1]);
    // Batch-norm weights start at 1, as in PyTorch.
    let bn = vars["model.enc1.bn1.weight"].shallow_clone();
    assert_eq!(bn.eq(1.0).all().int64_value(&[]), 1);
}

#[test]
fn tiny_variant_is_small() {
    let (vs, _model) = build(1, 4, 1);
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    // enc0: 1·4·9 + 4·4·9, enc1: 4·8·9 + 8·8·9, up0: 8·4·4 + 4, dec0: 8·4·9 + 4·4·9,
    // head: 4 + 1, plus 2 BN parameters per channel: 2·(4 + 4 + 8 + 8 + 4 + 4).
    let expected = 36 + 144 + 288 + 576 + 132 + 288 + 144 + 5 + 64;
    assert_eq!(params, expected);
    assert_eq!(UNetConfig::tiny().num_parameters(), expected as u128);
    for depth in 0..4 {
        let (vs, _model) = build(depth, 6, 3);
        let n: i64 = vs
            .trainable_variables()
            .iter()
            .map(|t| t.numel() as i64)
            .sum();
        let cfg = UNetConfig {
            depth,
            base_channels: 6,
            in_channels: 3,
        };
        assert_eq!(cfg.num_parameters(), n as u128, "depth {depth}");
    }
    assert_eq!(
        UNetConfig::tiny(),
        UNetConfig {
            depth: 1,
            base_channels: 4,
            in_channels: 1
        }
    );
}

#[test]
fn eval_forward_is_deterministic_and_train_updates_running_stats() {
    let (vs, model) = build(1, 4, 1);
    let x = Tensor::rand([4, 1, 8, 8], (Kind::Float, Device::Cpu));
    let a = model.forward_t(&x, false);
    let b = model.forward_t(&x, false);
    assert!(a.equal(&b));
    let before = vs.variables()["model.enc0.bn1.running_mean"].copy();
    let _ = tch::no_grad(|| model.forward_t(&x, true));
    let after = vs.variables()["model.enc0.bn1.running_mean"].copy();
    assert!(
        !before.equal(&after),
        "training forward should move running statistics"
    );
}

#[test]
fn bad_configs_are_typed_errors() {
    let vs = nn::VarStore::new(Device::Cpu);
    let bad = [
        UNetConfig {
            depth: 9,
            ..Default::default()
        },
        UNetConfig {
            base_channels: 0,
            ..Default::default()
        },
        UNetConfig {
            in_channels: 0,
            ..Default::default()
        },
        UNetConfig {
            depth: 8,
            base_channels: 4096,
            in_channels: 1,
        },
    ];
    for cfg in bad {
        match UNet::new(&vs.root(), &cfg) {
            Err(Error::InvalidConfig { .. }) => {}
            other => panic!("{cfg:?}: expected InvalidConfig, got {other:?}"),
        }
    }
    let parsed: UNetConfig = serde_json::from_str(r#"{"depth": 2}"#).unwrap();
    assert_eq!(
        parsed,
        UNetConfig {
            depth: 2,
            base_channels: 16,
            in_channels: 1
        }
    );
    assert!(serde_json::from_str::<UNetConfig>(r#"{"dept": 2}"#).is_err());
}

#[test]
fn bad_inputs_are_typed_errors() {
    let (_vs, model) = build(1, 4, 1);
    let wrong_channels = Tensor::rand([2, 3, 8, 8], (Kind::Float, Device::Cpu));
    assert!(matches!(
        model.f_forward_t(&wrong_channels, false),
        Err(Error::Shape { what: "images", .. })
    ));
    let rank3 = Tensor::rand([1, 8, 8], (Kind::Float, Device::Cpu));
    assert!(matches!(
        model.f_forward_t(&rank3, false),
        Err(Error::Shape { .. })
    ));
    let empty = Tensor::zeros([0, 1, 8, 8], (Kind::Float, Device::Cpu));
    assert!(matches!(
        model.f_forward_t(&empty, false),
        Err(Error::Shape { .. })
    ));
    let ints = Tensor::zeros([2, 1, 8, 8], (Kind::Int64, Device::Cpu));
    assert!(matches!(
        model.f_forward_t(&ints, false),
        Err(Error::Kind { .. })
    ));
    // One 2x2 image at depth 1 reaches 1x1: batch norm cannot train on it.
    let single = Tensor::rand([1, 1, 2, 2], (Kind::Float, Device::Cpu));
    assert!(matches!(
        model.f_forward_t(&single, true),
        Err(Error::InvalidConfig {
            field: "batch_size",
            ..
        })
    ));
    assert!(model.f_forward_t(&single, false).is_ok());
}
