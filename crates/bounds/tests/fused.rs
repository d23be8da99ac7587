//! The chunked anchor sum against the plain-autograd reference (float64, rtol 1e-6).
use bounds::fused::{anchor_surrogate_sum, anchor_surrogate_sum_autograd};
use bounds::{Error, Surrogate};
use tch::{Device, Kind, Tensor};

/// A small seeded generator (SplitMix64) so tests do not touch tch's global seed.
pub struct Rng(u64);

impl Rng {
    /// A generator with the given seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// `n` values from `f`.
    pub fn vec(&mut self, n: usize, mut f: impl FnMut(&mut Self) -> f64) -> Vec<f64> {
        (0..n).map(|_| f(self)).collect()
    }
}

/// A float64 CPU tensor of the given shape.
pub fn t64(values: &[f64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(values).reshape(shape)
}

/// Plain values of a tensor.
pub fn values(t: &Tensor) -> Vec<f64> {
    Vec::<f64>::try_from(t.to_kind(Kind::Double).flatten(0, -1)).expect("tensor should convert")
}

/// |got − want| ≤ atol + rtol·|want| elementwise, with a readable failure.
pub fn assert_close(got: &[f64], want: &[f64], rtol: f64, atol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= atol + rtol * w.abs(),
            "{what}[{i}]: got {g}, want {w} (diff {:e})",
            (g - w).abs()
        );
    }
}

/// Inputs of one anchor-sum problem, as plain values.
struct Case {
    n: i64,
    l: i64,
    k: i64,
    logits: Vec<f64>,
    labels: Vec<f64>,
    weights: Vec<f64>,
    biases: Vec<f64>,
    pos: Vec<f64>,
    neg: Vec<f64>,
}

impl Case {
    fn random(seed: u64, n: i64, l: i64, k: i64, soft_labels: bool) -> Case {
        let mut rng = Rng::new(seed);
        let nl = (n * l) as usize;
        let lk = (l * k) as usize;
        let mut logits = rng.vec(nl, |r| 2.0 * r.normal());
        // Exact hinge kinks (s + b = ±1 with b = 0.5 below) and exact zeros.
        logits[0] = 0.5;
        logits[1] = -1.5;
        logits[2] = -0.5;
        let labels = rng.vec(nl, |r| {
            if soft_labels {
                r.uniform()
            } else {
                f64::from(r.uniform() < 0.4)
            }
        });
        // Roughly a quarter of the weights are exactly zero ("ignore this pixel").
        let weights = rng.vec(nl, |r| {
            if r.uniform() < 0.25 {
                0.0
            } else {
                2.0 * r.uniform()
            }
        });
        let mut biases = rng.vec(lk, |r| r.normal());
        biases[0] = 0.5;
        let pos = rng.vec(lk, |r| 1.0 + 2.0 * r.uniform());
        let neg = rng.vec(lk, |r| 2.0 * r.uniform());
        Case {
            n,
            l,
            k,
            logits,
            labels,
            weights,
            biases,
            pos,
            neg,
        }
    }

    /// Fresh leaf tensors (all requiring grad), in the same order as the function's args.
    fn leaves(&self) -> [Tensor; 6] {
        let (nl, lk) = ([self.n, self.l], [self.l, self.k]);
        [
            t64(&self.logits, &nl),
            t64(&self.labels, &nl),
            t64(&self.weights, &nl),
            t64(&self.biases, &lk),
            t64(&self.pos, &lk),
            t64(&self.neg, &lk),
        ]
        .map(|t| t.set_requires_grad(true))
    }
}

/// Value and the six gradients of the fused (`Some(chunk)`) or autograd (`None`) sum.
fn value_and_grads(case: &Case, surrogate: Surrogate, chunk: Option<i64>) -> Vec<Vec<f64>> {
    let x = case.leaves();
    let v = match chunk {
        Some(c) => anchor_surrogate_sum(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], surrogate, c),
        None => anchor_surrogate_sum_autograd(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], surrogate),
    }
    .expect("valid inputs");
    assert_eq!(v.size(), Vec::<i64>::new());
    v.backward();
    let mut out = vec![values(&v)];
    out.extend(x.iter().map(|t| values(&t.grad())));
    out
}

const NAMES: [&str; 7] = [
    "value",
    "d/dlogits",
    "d/dlabels",
    "d/dweights",
    "d/dbiases",
    "d/dc",
    "d/dd",
];

fn check_agreement(case: &Case, surrogate: Surrogate, chunks: &[i64]) {
    let want = value_and_grads(case, surrogate, None);
    for &chunk in chunks {
        let got = value_and_grads(case, surrogate, Some(chunk));
        for ((g, w), name) in got.iter().zip(&want).zip(NAMES) {
            let what = format!("{surrogate:?} L={} chunk={chunk} {name}", case.l);
            assert_close(g, w, 1e-6, 1e-12, &what);
        }
    }
}

#[test]
fn fused_matches_autograd_one_label() {
    let case = Case::random(1, 37, 1, 5, false);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        // 37 = 5·7 + 2: most chunk sizes do not divide N; 1 and 37+ are the extremes.
        check_agreement(&case, s, &[1, 5, 8, 36, 37, 1000]);
    }
}

#[test]
fn fused_matches_autograd_three_labels() {
    let case = Case::random(2, 50, 3, 4, false);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        check_agreement(&case, s, &[7, 16, 50]);
    }
}

#[test]
fn fused_matches_autograd_soft_labels_and_k20() {
    let case = Case::random(3, 64, 2, 20, true);
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        check_agreement(&case, s, &[3, 64]);
    }
}

/// Gradients actually move: a sanity check that the comparison above is not 0 == 0.
#[test]
fn fused_gradients_are_not_trivial() {
    let case = Case::random(4, 20, 1, 3, false);
    let got = value_and_grads(&case, Surrogate::Xent, Some(6));
    for (g, name) in got.iter().zip(NAMES) {
        assert!(g.iter().any(|v| v.abs() > 1e-3), "{name} is all zeros");
    }
    // Zero weight ⇒ zero logit gradient for that row.
    for (i, w) in case.weights.iter().enumerate() {
        if *w == 0.0 {
            assert_eq!(got[1][i], 0.0, "row {i} has weight 0");
        }
    }
}

/// One element by hand: s = 0.5, y = 1, w = 2, K = 2 with b = (0, −1), c = (1, 3), d = 1.
/// xent: V = 2·½·[softplus(−0.5) + 3·softplus(0.5)], ∂V/∂s = −[σ(−0.5) + 3·σ(0.5)].
#[test]
fn fused_hand_value_xent() {
    let s = t64(&[0.5], &[1, 1]).set_requires_grad(true);
    let y = t64(&[1.0], &[1, 1]);
    let w = t64(&[2.0], &[1, 1]);
    let b = t64(&[0.0, -1.0], &[1, 2]);
    let c = t64(&[1.0, 3.0], &[1, 2]);
    let d = t64(&[1.0, 1.0], &[1, 2]);
    let v = anchor_surrogate_sum(&s, &y, &w, &b, &c, &d, Surrogate::Xent, 1).unwrap();
    let sp = |x: f64| (1.0 + x.exp()).ln();
    let sig = |x: f64| 1.0 / (1.0 + (-x).exp());
    assert_close(
        &values(&v),
        &[sp(-0.5) + 3.0 * sp(0.5)],
        1e-12,
        0.0,
        "value",
    );
    v.backward();
    assert_close(
        &values(&s.grad()),
        &[-(sig(-0.5) + 3.0 * sig(0.5))],
        1e-12,
        0.0,
        "grad",
    );
    // Labels and weights did not require grad: no gradient was made for them.
    assert!(!y.grad().defined());
}

/// The hinge subgradient at the kink is libtorch's relu one: 0 at s + b = 1 (positive)
/// and at s + b = −1 (negative).
#[test]
fn fused_hinge_kink_matches_relu() {
    let s = t64(&[1.0, -1.0, 0.999], &[3, 1]).set_requires_grad(true);
    let y = t64(&[1.0, 0.0, 1.0], &[3, 1]);
    let w = t64(&[1.0, 1.0, 1.0], &[3, 1]);
    let zero = t64(&[0.0], &[1, 1]);
    let one = t64(&[1.0], &[1, 1]);
    let v = anchor_surrogate_sum(&s, &y, &w, &zero, &one, &one, Surrogate::Hinge, 2).unwrap();
    v.backward();
    assert_close(
        &values(&s.grad()),
        &[0.0, 0.0, -1.0],
        0.0,
        0.0,
        "kink grads",
    );
    // What libtorch itself does at the kink: relu passes no gradient at 0, while
    // clamp_min(0) passes it (its mask is `input >= min`). The fused path follows relu.
    let z = t64(&[1.0], &[1]).set_requires_grad(true);
    (-&z + 1.0).relu().sum(Kind::Double).backward();
    assert_eq!(values(&z.grad()), vec![0.0]);
    let z = t64(&[1.0], &[1]).set_requires_grad(true);
    (-&z + 1.0).clamp_min(0.0).sum(Kind::Double).backward();
    assert_eq!(values(&z.grad()), vec![-1.0]);
}

/// Non-contiguous (expanded) weights, as a caller broadcasting `[N]` weights passes them.
#[test]
fn fused_accepts_expanded_weights() {
    let case = Case::random(9, 21, 3, 4, false);
    let x = case.leaves().map(|t| t.detach());
    let w_col = t64(&case.weights[..21], &[21, 1]);
    let expanded = w_col.expand([21, 3], false);
    let dense = expanded.contiguous();
    let f = |w: &Tensor| {
        anchor_surrogate_sum(&x[0], &x[1], w, &x[3], &x[4], &x[5], Surrogate::Hinge, 5).unwrap()
    };
    assert_close(
        &values(&f(&expanded)),
        &values(&f(&dense)),
        1e-15,
        0.0,
        "expanded",
    );
}

#[test]
fn fused_without_grad_inputs_has_no_graph() {
    let case = Case::random(5, 10, 1, 2, false);
    let x = case.leaves().map(|t| t.detach());
    let v =
        anchor_surrogate_sum(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], Surrogate::Xent, 4).unwrap();
    assert!(!v.requires_grad());
    let r =
        anchor_surrogate_sum_autograd(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], Surrogate::Xent)
            .unwrap();
    assert_close(&values(&v), &values(&r), 1e-12, 0.0, "value");
}

/// |s| ≥ 100: values and gradients stay finite and agree with the reference.
#[test]
fn fused_large_logits_stay_finite() {
    let mut case = Case::random(6, 8, 1, 3, false);
    case.logits = vec![100.0, -100.0, 1e4, -1e4, 250.0, -250.0, 1e3, -1e3];
    case.labels = vec![1.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
    for s in [Surrogate::Xent, Surrogate::Hinge] {
        let got = value_and_grads(&case, s, Some(3));
        for (g, name) in got.iter().zip(NAMES) {
            assert!(g.iter().all(|v| v.is_finite()), "{s:?} {name}: {g:?}");
        }
        check_agreement(&case, s, &[3]);
    }
    // float32 too.
    let x = case
        .leaves()
        .map(|t| t.detach().to_kind(Kind::Float).set_requires_grad(true));
    let v =
        anchor_surrogate_sum(&x[0], &x[1], &x[2], &x[3], &x[4], &x[5], Surrogate::Xent, 3).unwrap();
    assert_eq!(v.kind(), Kind::Float);
    v.backward();
    assert!(values(&v)[0].is_finite());
    assert!(values(&x[0].grad()).iter().all(|g| g.is_finite()));
}

/// float32 inputs give float32 outputs that agree with the float64 computation.
#[test]
fn fused_float32_agrees_with_float64() {
    let case = Case::random(7, 300, 2, 6, false);
    let want = value_and_grads(&case, Surrogate::Xent, Some(64));
    let x = case
        .leaves()
        .map(|t| t.detach().to_kind(Kind::Float).set_requires_grad(true));
    let v = anchor_surrogate_sum(
        &x[0],
        &x[1],
        &x[2],
        &x[3],
        &x[4],
        &x[5],
        Surrogate::Xent,
        64,
    )
    .unwrap();
    assert_eq!(v.kind(), Kind::Float);
    v.backward();
    assert_close(&values(&v), &want[0], 1e-5, 0.0, "f32 value");
    assert_close(&values(&x[0].grad()), &want[1], 1e-4, 1e-6, "f32 d/dlogits");
    assert_close(&values(&x[3].grad()), &want[4], 1e-4, 1e-5, "f32 d/dbiases");
}

#[test]
fn fused_empty_batch_is_zero() {
    let z = Tensor::zeros([0, 2], (Kind::Double, Device::Cpu));
    let b = Tensor::zeros([2, 3], (Kind::Double, Device::Cpu));
    let v = anchor_surrogate_sum(&z, &z, &z, &b, &b, &b, Surrogate::Hinge, 8).unwrap();
    assert_eq!(values(&v), vec![0.0]);
}

#[test]
fn fused_rejects_bad_inputs() {
    let case = Case::random(8, 6, 2, 3, false);
    let x = case.leaves().map(|t| t.detach());
    let call = |x: &[Tensor; 6], chunk: i64| {
        anchor_surrogate_sum(
            &x[0],
            &x[1],
            &x[2],
            &x[3],
            &x[4],
            &x[5],
            Surrogate::Xent,
            chunk,
        )
    };
    let with = |i: usize, t: Tensor| {
        let mut y = x.each_ref().map(|t| t.shallow_clone());
        y[i] = t;
        call(&y, 4)
    };
    assert!(matches!(
        call(&x, 0),
        Err(Error::InvalidConfig {
            field: "chunk_rows",
            ..
        })
    ));
    assert!(matches!(
        with(0, x[0].view([-1])),
        Err(Error::Rank { what: "logits", .. })
    ));
    assert!(matches!(
        with(1, x[1].narrow(0, 0, 5)),
        Err(Error::Shape { what: "labels", .. })
    ));
    assert!(matches!(
        with(2, x[2].narrow(1, 0, 1)),
        Err(Error::Shape {
            what: "weights",
            ..
        })
    ));
    assert!(matches!(
        with(3, x[3].narrow(0, 0, 1)),
        Err(Error::Shape { what: "biases", .. })
    ));
    assert!(matches!(
        with(3, x[3].narrow(1, 0, 0)),
        Err(Error::Shape { what: "biases", .. })
    ));
    assert!(matches!(
        with(4, x[4].narrow(1, 0, 2)),
        Err(Error::Shape {
            what: "pos_coef",
            ..
        })
    ));
    assert!(matches!(
        with(5, x[5].to_kind(Kind::Float)),
        Err(Error::Kind {
            what: "neg_coef",
            ..
        })
    ));
    assert!(matches!(
        with(0, x[0].to_kind(Kind::Int64)),
        Err(Error::Kind { what: "logits", .. })
    ));
    let nan = x[0].copy().fill_(f64::NAN);
    assert!(matches!(
        with(0, nan),
        Err(Error::InvalidValue { what: "logits", .. })
    ));
    let inf = x[0].copy().fill_(f64::INFINITY);
    assert!(matches!(
        with(0, inf),
        Err(Error::InvalidValue { what: "logits", .. })
    ));
    let bad_labels = x[1].copy().fill_(1.5);
    assert!(matches!(
        with(1, bad_labels),
        Err(Error::InvalidValue { what: "labels", .. })
    ));
    let neg_w = x[2].copy().fill_(-1.0);
    assert!(matches!(
        with(2, neg_w),
        Err(Error::InvalidValue {
            what: "weights",
            ..
        })
    ));
    let nan_b = x[3].copy().fill_(f64::NAN);
    assert!(matches!(
        with(3, nan_b),
        Err(Error::InvalidValue { what: "biases", .. })
    ));
}

/// Not a test of behaviour: a probe for `docs/pixel-scale.md`. Run one mode at a time
/// under `/usr/bin/time -v` (see the doc) with `FUSED_PROBE=fused` or `autograd`; it
/// prints the peak resident set size read from /proc.
#[test]
#[ignore = "memory probe for docs/pixel-scale.md; run by hand"]
fn fused_memory_probe() {
    let mode = std::env::var("FUSED_PROBE").unwrap_or_else(|_| "fused".into());
    let (n, k) = (1i64 << 21, 20i64);
    tch::manual_seed(0);
    let opts = (Kind::Float, Device::Cpu);
    let logits = Tensor::randn([n, 1], opts).set_requires_grad(true);
    let labels = Tensor::rand([n, 1], opts).gt(0.7).to_kind(Kind::Float);
    let weights = Tensor::ones([n, 1], opts);
    let b = (Tensor::randn([1, k], opts) * 0.1).set_requires_grad(true);
    let c = Tensor::ones([1, k], opts).set_requires_grad(true);
    let d = Tensor::ones([1, k], opts).set_requires_grad(true);
    let chunk = std::env::var("FUSED_CHUNK")
        .ok()
        .and_then(|s| s.parse().ok());
    let chunk = chunk.unwrap_or(bounds::fused::DEFAULT_CHUNK_ROWS);
    let start = std::time::Instant::now();
    let v = match mode.as_str() {
        "inputs" => Ok((&logits * 1.0).sum(Kind::Float)),
        "autograd" => {
            anchor_surrogate_sum_autograd(&logits, &labels, &weights, &b, &c, &d, Surrogate::Xent)
        }
        _ => anchor_surrogate_sum(
            &logits,
            &labels,
            &weights,
            &b,
            &c,
            &d,
            Surrogate::Xent,
            chunk,
        ),
    }
    .unwrap();
    v.backward();
    let secs = start.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let hwm = status
        .lines()
        .find(|l| l.starts_with("VmHWM"))
        .unwrap_or("VmHWM: ?");
    println!(
        "mode={mode} chunk={chunk} value={} secs={secs:.2} {hwm}",
        values(&v)[0]
    );
    assert!(values(&logits.grad()).iter().all(|g| g.is_finite()));
}
