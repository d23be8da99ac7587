//! Streaming accumulation of scores that arrive in batches.

use crate::input::{entry, push_entries};
use crate::ranking::GroupBuilder;
use crate::sort::Entry;
use crate::{Error, Ranking, Result, ScoreScale, Value};

/// Collects (score, label, weight) batches and produces a [`Ranking`] at the end.
///
/// Two modes:
///
/// - **exact** ([`Accumulator::exact`]): keeps 16 bytes per element of positive
///   weight and sorts once in [`Accumulator::finish`]; the ranking is identical to
///   [`Ranking::weighted`] on the concatenated batches.
/// - **binned** ([`Accumulator::binned`]): `T` equal-width bins over a known score
///   range `[low, high]`, holding only the positive and negative weight of each bin
///   (`O(T)` memory, no `[N, T]` matrix; each push is `O(batch)`). The candidate
///   thresholds are the bin lower edges
///
///   ```text
///   e_j = low + (high − low) · j / T,   j = 0 … T−1
///   ```
///
///   and a score falls in bin `j` exactly when `e_j ≤ score < e_{j+1}`, so the
///   confusion counts at every edge are exact. What binning loses is the order of
///   scores inside a bin: they become one tie group. Consequences, for in-range
///   scores:
///
///   ```text
///   |AUC_binned − AUC_exact| ≤ ½ Σ_j p_j · n_j / (P · N)  ≤ ½ · max_j p_j / P
///   ```
///
///   (`p_j`, `n_j` = positive / negative weight in bin `j`; only pairs in the same
///   bin change, from 0 or 1 to ½). [`Accumulator::auc_error_bound`] returns the
///   middle term. For scores with bounded densities on the range it is `O(1/T)`.
///   Operating points are conservative: the binned candidates are a subset of the
///   exact ones (an edge has the counts of the lowest score at or above it), so the
///   value reached is at most the exact optimum and is attained exactly at the
///   reported threshold. AP has no such closed bound; `docs/metrics.md` lists the
///   measured error against `T`.
///
///   Scores outside `[low, high]` are clamped into the first or last bin and
///   counted ([`Accumulator::clamped`]); a threshold equal to `low` then also
///   covers the scores clamped from below.
#[derive(Debug, Clone)]
pub struct Accumulator {
    scale: ScoreScale,
    seen: usize,
    mode: Mode,
}

#[derive(Debug, Clone)]
enum Mode {
    Exact(Vec<Entry>),
    Binned(Bins),
}

#[derive(Debug, Clone)]
struct Bins {
    low: f64,
    high: f64,
    pos: Vec<f64>,
    neg: Vec<f64>,
    elements: usize,
    clamped: usize,
}

impl Bins {
    fn edge(&self, j: usize) -> f64 {
        let t = self.pos.len() as f64;
        self.low + (self.high - self.low) * (j as f64 / t)
    }

    fn bin(&mut self, score: f64) -> usize {
        let t = self.pos.len();
        if score < self.low {
            self.clamped += 1;
            return 0;
        }
        if score > self.high {
            self.clamped += 1;
            return t - 1;
        }
        let guess = ((score - self.low) / (self.high - self.low) * t as f64) as usize;
        let mut j = guess.min(t - 1);
        // Make the bin agree with the edges as computed by `edge`, whatever rounding did.
        while j > 0 && score < self.edge(j) {
            j -= 1;
        }
        while j + 1 < t && score >= self.edge(j + 1) {
            j += 1;
        }
        j
    }

    fn add(&mut self, e: Entry, score: f64) {
        let j = self.bin(score);
        if e.weight > 0.0 {
            self.pos[j] += e.weight;
        } else {
            self.neg[j] -= e.weight;
        }
        self.elements += 1;
    }
}

impl Accumulator {
    /// An exact accumulator (memory grows with the data; one sort at the end).
    pub fn exact(scale: ScoreScale) -> Self {
        Accumulator {
            scale,
            seen: 0,
            mode: Mode::Exact(Vec::new()),
        }
    }

    /// A binned accumulator with `bins` equal-width bins over `[low, high]`.
    ///
    /// # Errors
    /// [`Error::InvalidConfig`] when `bins = 0`; when `low`, `high` are not finite with
    /// `low < high` or `high − low` overflows; when the `2·bins` counters cannot be
    /// allocated; or when the bins are so narrow that two bin edges round to the same
    /// float (every bin must have a distinct lower edge).
    pub fn binned(bins: usize, low: f64, high: f64, scale: ScoreScale) -> Result<Self> {
        if bins == 0 {
            return Err(Error::InvalidConfig {
                field: "bins",
                reason: "must be at least 1, got 0".into(),
            });
        }
        if !(low.is_finite() && high.is_finite() && low < high) {
            return Err(Error::InvalidConfig {
                field: "range",
                reason: format!("needs finite low < high, got [{low}, {high}]"),
            });
        }
        if !(high - low).is_finite() {
            return Err(Error::InvalidConfig {
                field: "range",
                reason: format!("width high - low overflows to infinity for [{low}, {high}]"),
            });
        }
        let counters = || -> Result<Vec<f64>> {
            let mut v = Vec::new();
            v.try_reserve_exact(bins)
                .map_err(|e| Error::InvalidConfig {
                    field: "bins",
                    reason: format!("cannot allocate {bins} bins: {e}"),
                })?;
            v.resize(bins, 0.0);
            Ok(v)
        };
        let b = Bins {
            low,
            high,
            pos: counters()?,
            neg: counters()?,
            elements: 0,
            clamped: 0,
        };
        // Every bin needs its own edge, else two groups would share one threshold.
        if let Some(j) = (1..=bins).find(|&j| b.edge(j) <= b.edge(j - 1)) {
            return Err(Error::InvalidConfig {
                field: "bins",
                reason: format!(
                    "{bins} bins over [{low}, {high}] are narrower than the float spacing \
                     (edges {} and {} coincide)",
                    j - 1,
                    j
                ),
            });
        }
        Ok(Accumulator {
            scale,
            seen: 0,
            mode: Mode::Binned(b),
        })
    }

    /// Adds one element. Errors name its index in the whole stream.
    ///
    /// # Errors
    /// [`Error::NanScore`], [`Error::ScoreOutOfRange`], [`Error::InvalidLabel`],
    /// [`Error::InvalidWeight`]; the accumulator is unchanged after an error.
    pub fn push_one(&mut self, score: f64, label: f64, weight: f64) -> Result<()> {
        let e = entry(score, label, weight, self.scale, self.seen)?;
        self.seen += 1;
        if let Some(e) = e {
            match &mut self.mode {
                Mode::Exact(v) => v.push(e),
                Mode::Binned(b) => b.add(e, score),
            }
        }
        Ok(())
    }

    /// Adds an unweighted batch.
    ///
    /// # Errors
    /// As [`Accumulator::push_weighted`].
    pub fn push<S: Value, L: Value>(&mut self, scores: &[S], labels: &[L]) -> Result<()> {
        self.push_batch::<S, L, f64>(scores, labels, None)
    }

    /// Adds a weighted batch (weight 0 = absent).
    ///
    /// # Shapes
    /// `scores`, `labels`, `weights`: `[B]`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`], [`Error::NanScore`], [`Error::ScoreOutOfRange`],
    /// [`Error::InvalidLabel`], [`Error::InvalidWeight`], with indices counted over
    /// the whole stream. After an error the batch may be partly added (exact mode
    /// adds nothing); discard the accumulator.
    pub fn push_weighted<S: Value, L: Value, W: Value>(
        &mut self,
        scores: &[S],
        labels: &[L],
        weights: &[W],
    ) -> Result<()> {
        self.push_batch(scores, labels, Some(weights))
    }

    fn push_batch<S: Value, L: Value, W: Value>(
        &mut self,
        scores: &[S],
        labels: &[L],
        weights: Option<&[W]>,
    ) -> Result<()> {
        match &mut self.mode {
            Mode::Exact(v) => {
                let before = v.len();
                if let Err(e) = push_entries(v, scores, labels, weights, self.scale, self.seen) {
                    v.truncate(before);
                    return Err(e);
                }
                self.seen += scores.len();
            }
            Mode::Binned(_) => {
                crate::input::check_len("labels", scores.len(), labels.len())?;
                if let Some(w) = weights {
                    crate::input::check_len("weights", scores.len(), w.len())?;
                }
                for (i, (&s, &l)) in scores.iter().zip(labels).enumerate() {
                    let w = weights.map_or(1.0, |w| w[i].to_f64());
                    self.push_one(s.to_f64(), l.to_f64(), w)?;
                }
            }
        }
        Ok(())
    }

    /// Number of elements pushed so far (including weight 0).
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// Number of scores clamped into the end bins (always 0 in exact mode).
    pub fn clamped(&self) -> usize {
        match &self.mode {
            Mode::Exact(_) => 0,
            Mode::Binned(b) => b.clamped,
        }
    }

    /// Upper bound on `|AUC_binned − AUC_exact|`: `½ Σ_j p_j n_j / (P N)`.
    ///
    /// 0 in exact mode; `None` when a class has no weight (AUC undefined).
    pub fn auc_error_bound(&self) -> Option<f64> {
        match &self.mode {
            Mode::Exact(_) => Some(0.0),
            Mode::Binned(b) => {
                let p: f64 = b.pos.iter().sum();
                let n: f64 = b.neg.iter().sum();
                if p == 0.0 || n == 0.0 {
                    return None;
                }
                let pairs: f64 = b.pos.iter().zip(&b.neg).map(|(a, c)| a * c).sum();
                Some(0.5 * pairs / (p * n))
            }
        }
    }

    /// Finishes the stream.
    ///
    /// # Errors
    /// [`Error::Empty`] when no element of positive weight was pushed.
    pub fn finish(self) -> Result<Ranking> {
        match self.mode {
            Mode::Exact(v) => Ranking::from_entries(v, self.scale),
            Mode::Binned(b) => {
                if b.elements == 0 {
                    return Err(Error::Empty {
                        what: "no element with positive weight",
                    });
                }
                let mut groups = GroupBuilder::with_capacity(self.scale, b.pos.len());
                for j in (0..b.pos.len()).rev() {
                    if b.pos[j] > 0.0 || b.neg[j] > 0.0 {
                        groups.push(b.edge(j), b.pos[j], b.neg[j]);
                    }
                }
                Ok(groups.finish(b.elements))
            }
        }
    }
}
