//! Shared helpers: a seeded generator and a brute-force oracle.

/// SplitMix64: a tiny seeded generator, so tests need no `rand` dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            v.swap(i, j);
        }
    }
}

/// Confusion counts at `t` by direct summation (the O(N) definition).
pub fn counts(scores: &[f64], labels: &[u8], weights: &[f64], t: f64) -> (f64, f64, f64, f64) {
    let (mut tp, mut fp, mut p, mut n) = (0.0, 0.0, 0.0, 0.0);
    for ((&s, &l), &w) in scores.iter().zip(labels).zip(weights) {
        if l == 1 {
            p += w;
            if s >= t {
                tp += w;
            }
        } else {
            n += w;
            if s >= t {
                fp += w;
            }
        }
    }
    (tp, fp, p, n)
}

/// Candidate thresholds: distinct scores of positive weight, descending.
pub fn candidates(scores: &[f64], weights: &[f64]) -> Vec<f64> {
    let mut t: Vec<f64> = scores
        .iter()
        .zip(weights)
        .filter(|(_, w)| **w > 0.0)
        .map(|(s, _)| *s)
        .collect();
    t.sort_by(|a, b| b.total_cmp(a));
    t.dedup();
    t
}

/// A random case with heavy ties: scores on a grid of `levels` values.
pub fn random_case(rng: &mut Rng, n: usize, levels: u64) -> (Vec<f64>, Vec<u8>, Vec<f64>) {
    let labels: Vec<u8> = (0..n).map(|_| (rng.uniform() < 0.4) as u8).collect();
    let scores = labels
        .iter()
        .map(|&l| (rng.below(levels) as f64 + l as f64 * 1.5) / levels as f64)
        .collect();
    let weights = (0..n).map(|_| rng.below(4) as f64).collect();
    (scores, labels, weights)
}

pub fn assert_close(got: f64, want: f64, rtol: f64, what: &str) {
    let tol = rtol * want.abs().max(1e-300);
    assert!(
        (got - want).abs() <= tol,
        "{what}: got {got:e}, want {want:e} (rtol {rtol:e})"
    );
}
